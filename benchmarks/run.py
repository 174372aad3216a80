"""Run the benchmark suite: ``nox -s bench`` (or ``python benchmarks/run.py [--quick]``).

Every measurement runs in a fresh process against a local server in another process. Two kinds of
figure check issue 14's targets:

* *timed*: variants alternate (the order rotates with each repetition and cell), each is repeated,
  and ratios are taken between runs made back to back, then their median is reported;
* *counted*: instructions per request under callgrind (``bench_instructions.py``; ``--layers`` in
  full mode, for the breakdown of where stytch-totp's instructions go), deterministic on a busy
  machine. Without valgrind the phase is skipped and its targets say n/a.

The phases, in order: ``import``, ``throughput``, ``rss``, ``instructions``, ``bulk``
(``bench_bulk.py``), ``sync`` (``bench_sync.py``), ``emulator`` (``bench_emulator.py``) and
``models`` (``bench_parse.py``). A complete full run writes ``docs/benchmarks.md`` (between its
markers; the sync, emulator and parse scripts write their own sections) and
``docs/_static/benchmarks.png``; a quick or partial run writes the same outputs under
``benchmarks/results/`` instead and never touches the docs, so they only ever show a complete, full
run. Raw numbers of every phase always go to ``benchmarks/results/core*.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import os
import platform
import select
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from statistics import median
from typing import Any, Final

import _report

HERE: Final = Path(__file__).resolve().parent
REPO: Final = HERE.parent
#: Where every raw result goes, unless ``STYTCH_TOTP_BENCH_RESULTS`` names another folder.
BASE_RESULTS_DIR: Final = HERE / "results"
#: The variable that moves the raw results (and the bytecode cache) of every script the suite
#: runs: ``--across-pythons`` sets it to ``results/python-X.Y``, one folder per interpreter.
RESULTS_ENVIRONMENT: Final = "STYTCH_TOTP_BENCH_RESULTS"
RESULTS_DIR = Path(os.environ.get(RESULTS_ENVIRONMENT) or BASE_RESULTS_DIR)
DOCS_PAGE: Final = REPO / "docs" / "benchmarks.md"
DOCS_CHART: Final = REPO / "docs" / "_static" / "benchmarks.png"
BULK_SCRIPT: Final = HERE / "bench_bulk.py"
EMULATOR_SCRIPT: Final = HERE / "bench_emulator.py"
PARSE_SCRIPT: Final = HERE / "bench_parse.py"
INSTRUCTIONS_SCRIPT: Final = HERE / "bench_instructions.py"
SYNC_SCRIPT: Final = HERE / "bench_sync.py"

VARIANTS: Final = _report.VARIANT_ORDER
IMPORT_MODULES: Final = ("stytch_totp", "stytch", "aiohttp")
PHASES: Final = (
    "import",
    "throughput",
    "rss",
    "instructions",
    "bulk",
    "sync",
    "emulator",
    "models",
)
#: The phases ``--across-pythons`` runs (all of them unless ``--only`` names some): the figures
#: compared between interpreters in the docs' "Across Pythons" section.
ACROSS_PHASES: Final = ("import", "throughput", "instructions", "models")
#: The file, in each interpreter's results folder, that keeps its latest figure of each phase.
ACROSS_FILE: Final = "across-pythons.json"

#: Seconds a single worker may take before it is killed and the run fails.
WORKER_TIMEOUT: Final = 180.0


class BenchmarkError(RuntimeError):
    """A measurement failed; the message says which and why."""


def child_environment() -> dict[str, str]:
    """The environment of every process the suite starts.

    Bytecode is cached in ``pycache`` under the results folder (even where the shell sets
    ``PYTHONDONTWRITEBYTECODE``), as it would be after ``pip install``: otherwise a package whose
    bytecode happens not to be cached would be timed compiling its source on every import.
    """
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment["PYTHONPYCACHEPREFIX"] = str(RESULTS_DIR / "pycache")
    environment[RESULTS_ENVIRONMENT] = str(RESULTS_DIR)
    return environment


def _log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


@contextlib.contextmanager
def local_server(delay: float = 0.0) -> Iterator[tuple[str, int]]:
    """Start ``_server.py`` on an ephemeral port of 127.0.0.1; yields ``(base_url, port)``."""
    command = [sys.executable, str(HERE / "_server.py"), "--port", "0", "--delay", str(delay)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=child_environment())
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30.0)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            raise BenchmarkError(f"the local server did not start (got {line!r})")
        port = int(line.split()[1])
        yield f"http://127.0.0.1:{port}/", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def server_stats(port: int) -> dict[str, Any]:
    """The server's counters (``http.client`` talks to 127.0.0.1 directly, never via a proxy)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/_stats")
        stats: dict[str, Any] = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    return stats


def run_worker(arguments: Sequence[str], timeout: float = WORKER_TIMEOUT) -> dict[str, Any]:
    """Run ``_worker.py`` in a fresh interpreter; its JSON result."""
    return run_json_script(HERE / "_worker.py", arguments, timeout)


def run_json_script(script: Path, arguments: Sequence[str], timeout: float) -> dict[str, Any]:
    """Run ``script`` in a fresh interpreter; the JSON object on the last line of its output."""
    command = [sys.executable, str(script), *arguments]
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=child_environment(),
        )
    except subprocess.TimeoutExpired:
        raise BenchmarkError(f"worker timed out after {timeout:.0f} s: {arguments}") from None
    if completed.returncode != 0:
        raise BenchmarkError(
            f"worker failed ({completed.returncode}): {arguments}\n{completed.stderr[-2000:]}"
        )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def rotated(items: Sequence[str], shift: int) -> list[str]:
    """``items`` rotated left by ``shift``: each item takes every position in turn."""
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


def measure_throughput(options: argparse.Namespace) -> list[dict[str, Any]]:
    """CPU/request and requests/s per variant, endpoint, concurrency and repetition."""
    samples: list[dict[str, Any]] = []
    cells = [(endpoint, c) for endpoint in _report.ENDPOINTS for c in options.concurrency]
    with local_server() as (url, _):
        for rep in range(options.reps):
            for index, (endpoint, concurrency) in enumerate(cells):
                line = []
                for variant in rotated(VARIANTS, rep + index):
                    result = run_worker(
                        [
                            "throughput",
                            variant,
                            endpoint,
                            "--url",
                            url,
                            "--concurrency",
                            str(concurrency),
                            "--requests",
                            str(options.requests),
                            "--warmup",
                            str(options.warmup),
                        ]
                    )
                    samples.append(
                        {
                            "rep": rep,
                            "endpoint": endpoint,
                            "concurrency": concurrency,
                            "variant": variant,
                            **result,
                        }
                    )
                    line.append(f"{variant} {result['cpu_us_per_request']:.0f}")
                _log(
                    f"  throughput rep {rep + 1}/{options.reps} {endpoint} c={concurrency}: "
                    f"µs/request {', '.join(line)}"
                )
    return samples


def measure_rss(options: argparse.Namespace) -> list[dict[str, Any]]:
    """Peak RSS with ``--rss-calls`` calls in flight, each run against a fresh delaying server."""
    samples: list[dict[str, Any]] = []
    for rep in range(options.rss_reps):
        for variant in rotated(VARIANTS, rep):
            # A fresh server per run: its peak-pending counter then describes this run alone.
            with local_server(delay=options.rss_delay) as (url, port):
                result = run_worker(
                    ["rss", variant, "--url", url, "--calls", str(options.rss_calls)]
                )
                stats = server_stats(port)
            samples.append(
                {
                    "rep": rep,
                    "variant": variant,
                    "server_peak_pending": stats["peak_pending"],
                    **result,
                }
            )
            _log(
                f"  rss rep {rep + 1}/{options.rss_reps} {variant}: "
                f"{result['peak_rss_kib'] / 1024:.0f} MiB, "
                f"{stats['peak_pending']:,} in flight at the server"
            )
    return samples


def import_time_us(module: str) -> int:
    """Cumulative µs of ``import module`` in a fresh interpreter, from ``-X importtime``."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=child_environment(),
    )
    if completed.returncode != 0:
        raise BenchmarkError(f"import {module} failed:\n{completed.stderr[-2000:]}")
    for line in completed.stderr.splitlines():
        fields = line.split("|")
        # The top-level import is the one line whose name is indented by a single space.
        if len(fields) == 3 and fields[2] == f" {module}":
            return int(fields[1])
    raise BenchmarkError(f"no -X importtime line for {module}")


def measure_imports(options: argparse.Namespace) -> list[dict[str, Any]]:
    """Import time of each module, alternating, after untimed imports that cache bytecode."""
    for module in IMPORT_MODULES:
        import_time_us(module)
        import_time_us(module)
    samples: list[dict[str, Any]] = []
    for rep in range(options.import_reps):
        for module in rotated(IMPORT_MODULES, rep):
            samples.append({"rep": rep, "module": module, "us": import_time_us(module)})
    medians = {m: median(s["us"] for s in samples if s["module"] == m) for m in IMPORT_MODULES}
    _log(f"  import µs (median): {medians}")
    return samples


def complete_run(options: argparse.Namespace) -> bool:
    """A full (not quick) run of every phase: the only kind that writes the docs' main sections.

    An ``--across-pythons`` run never is: it writes its own section only.
    """
    if getattr(options, "across_pythons", False):
        return False
    return not options.quick and set(options.only or PHASES) == set(PHASES)


def _read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _suffix(options: argparse.Namespace) -> str:
    """How the scripts name the raw results of a quick run (``bulk-quick.json``...)."""
    return "-quick" if options.quick else ""


def run_script(
    command: Sequence[str], name: str, timeout: float, *, show_progress: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run one of the benchmark scripts from the repository root; fail with its stderr's tail.

    ``show_progress`` lets its stderr through to the terminal (long phases log their progress).
    """
    try:
        completed = subprocess.run(
            [sys.executable, *command],
            stdout=subprocess.PIPE,
            stderr=None if show_progress else subprocess.PIPE,
            text=True,
            timeout=timeout,
            check=False,
            cwd=REPO,
            env=child_environment(),
        )
    except subprocess.TimeoutExpired:
        raise BenchmarkError(f"{name} timed out after {timeout:.0f} s") from None
    if completed.returncode != 0:
        detail = "" if show_progress else f":\n{(completed.stderr or '')[-2000:]}"
        raise BenchmarkError(f"{name} failed (exit status {completed.returncode}){detail}")
    return completed


def run_instructions(options: argparse.Namespace) -> dict[str, Any]:
    """Instructions per request under callgrind (``bench_instructions.py``), or why not.

    Quick mode counts fewer requests; full mode also counts stytch-totp's layers (``--layers``).
    """
    if shutil.which("valgrind") is None:
        reason = "valgrind is not installed, so nothing was counted"
        _log(f"  skipped: {reason} (the counted targets say n/a)")
        return {"skipped": reason}
    arguments = ["--quick"] if options.quick else ["--layers"]
    run_script(
        [str(INSTRUCTIONS_SCRIPT), *arguments],
        "bench_instructions.py",
        timeout=4 * 3600,
        show_progress=True,
    )
    counted = _read_json(RESULTS_DIR / f"instructions{_suffix(options)}.json")
    return {"command": arguments, **counted}


def run_bulk(options: argparse.Namespace) -> dict[str, Any]:
    """Run the bulk-enrollment benchmark: its Markdown tables, exit status and raw results."""
    arguments = ["--quick"] if options.quick else []
    try:
        completed = subprocess.run(
            [sys.executable, str(BULK_SCRIPT), *arguments],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
            cwd=REPO,
            env=child_environment(),
        )
    except subprocess.TimeoutExpired:
        _log("  bench_bulk.py timed out")
        return {"markdown": "", "returncode": -1, "command": arguments, "report": None}
    table_lines: list[str] = []
    for line in completed.stdout.splitlines():
        if line.startswith("|"):
            table_lines.append(line)
        elif table_lines and table_lines[-1] != "":
            table_lines.append("")
    report = None
    if completed.returncode != 0:
        _log(f"  bench_bulk.py failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    else:
        report = _read_json(RESULTS_DIR / f"bulk{_suffix(options)}.json")
    return {
        "markdown": "\n".join(table_lines),
        "returncode": completed.returncode,
        "command": arguments,
        "report": report,
    }


def run_sync(options: argparse.Namespace) -> dict[str, Any]:
    """``bench_sync.py``: ``SyncClient`` against ``requests`` and the official sync SDK.

    Counted too (``--callgrind``) in full mode when valgrind is there; it writes its own section
    of the docs page on a complete full run only.
    """
    write_docs = complete_run(options)
    arguments = [
        *(["--quick"] if options.quick else []),
        *(["--callgrind"] if not options.quick and shutil.which("valgrind") else []),
        *(["--write-docs"] if write_docs else []),
    ]
    completed = run_script([str(SYNC_SCRIPT), *arguments], "bench_sync.py", timeout=3600)
    _log("\n".join(line for line in completed.stdout.splitlines() if line.startswith(("|", "-"))))
    report = _read_json(RESULTS_DIR / f"sync{_suffix(options)}.json")
    return {"command": arguments, "wrote_docs": write_docs, "report": report}


def run_emulator(options: argparse.Namespace) -> dict[str, Any]:
    """Run ``bench_emulator.py``: on a complete full run it writes its own section of the docs."""
    arguments = []
    if options.quick:
        arguments.append("--quick")
    elif complete_run(options):  # the docs page shows it (valgrind permitting)
        arguments += ["--write-docs", *(["--instructions"] if shutil.which("valgrind") else [])]
    completed = run_script([str(EMULATOR_SCRIPT), *arguments], "bench_emulator.py", 3600)
    _log("\n".join(line for line in completed.stdout.splitlines() if line.startswith("|")))
    report = _read_json(RESULTS_DIR / f"emulator{_suffix(options)}.json")
    return {"markdown": completed.stdout, "command": arguments, "report": report}


def run_parse_models(options: argparse.Namespace) -> dict[str, Any]:
    """The model-layer parse benchmark (``bench_parse.py``: timed, and counted by callgrind).

    It writes its own section of the docs page on a complete full run only (else under
    results/). Returns what it prints (the page it wrote, the authenticate dict → models ratios
    of time and of instructions) with its raw results.
    """
    arguments = [
        *(["--quick"] if options.quick else []),
        *(["--write-docs"] if complete_run(options) else []),
    ]
    completed = run_script([str(PARSE_SCRIPT), *arguments], "bench_parse.py", 3600)
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    _log(f"  models: {result}")
    raw = _read_json(RESULTS_DIR / f"parse{_suffix(options)}.json")
    return {**result, "command": arguments, "raw": raw}


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown CPU"


#: The compiled accelerators the figures depend on: distribution, module, and the attribute
#: whose ``__module__`` says which implementation is in use (``None``: the module is compiled).
ACCELERATORS: Final = (
    ("aiohttp", "aiohttp.http_parser", "HttpResponseParser", "aiohttp._http_parser"),
    ("multidict", "multidict", "CIMultiDict", "multidict._multidict"),
    ("yarl", "yarl._quoting", "_Quoter", "yarl._quoting_c"),
    ("propcache", "propcache.api", "under_cached_property", "propcache._helpers_c"),
    ("frozenlist", "frozenlist", "FrozenList", "frozenlist._frozenlist"),
    ("orjson", "orjson", None, None),
    ("pydantic-core", "pydantic_core", None, None),
)


def _wheel_tag(distribution: str) -> str:
    """The first tag of the installed wheel (``...-linux_x86_64``: built here, not from PyPI)."""
    with contextlib.suppress(metadata.PackageNotFoundError):
        for line in (metadata.distribution(distribution).read_text("WHEEL") or "").splitlines():
            if line.startswith("Tag:"):
                return line.partition(":")[2].strip()
    return "?"


def accelerators() -> dict[str, dict[str, Any]]:
    """Per distribution: whether its C (or Rust) implementation is the one in use, and its wheel.

    A missing wheel for a new Python means a pure-Python fallback (or a build from source), which
    changes the figures; the docs say which it was.
    """
    import importlib

    found: dict[str, dict[str, Any]] = {}
    for distribution, module_name, attribute, compiled_module in ACCELERATORS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            found[distribution] = {"installed": False}
            continue
        if attribute is None:  # a package around one compiled module
            folder = Path(module.__file__ or "").parent
            compiled = any(path.suffix in {".so", ".pyd"} for path in folder.iterdir())
        else:
            compiled = getattr(module, attribute).__module__ == compiled_module
        found[distribution] = {
            "installed": True,
            "compiled": compiled,
            "wheel": _wheel_tag(distribution),
            "version": metadata.version(distribution),
        }
    return found


def _meta() -> dict[str, Any]:
    versions = {}
    for distribution in (
        "stytch-totp",
        "aiohttp",
        "attrs",
        "cattrs",
        "orjson",
        "stytch",
        "pydantic",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[distribution] = metadata.version(distribution)
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{_cpu_model()}, {os.cpu_count()} cores shared with other work, "
        f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "load_average_at_start": os.getloadavg(),
        "accelerators": accelerators(),
    }


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run (about 17 minutes, 15 of them counting instructions; under 2 without)",
    )
    parser.add_argument("--only", nargs="+", choices=PHASES, help="run only these phases")
    parser.add_argument(
        "--across-pythons",
        action="store_true",
        help=(
            "measure this interpreter for the docs' 'Across Pythons' section: phases "
            f"{', '.join(ACROSS_PHASES)} (or those of --only), raw results in "
            "benchmarks/results/python-X.Y/; the main sections are left alone"
        ),
    )
    parser.add_argument("--reps", type=int, help="repetitions of each throughput cell")
    parser.add_argument("--requests", type=int, help="measured requests per throughput run")
    parser.add_argument("--warmup", type=int, help="warm-up requests per throughput run")
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 16, 128], help="concurrency levels"
    )
    parser.add_argument("--rss-calls", type=int, help="calls in flight for the RSS figure")
    parser.add_argument("--rss-reps", type=int, help="repetitions of the RSS figure")
    parser.add_argument(
        "--rss-delay", type=float, default=1.0, help="server delay (s) for the RSS figure"
    )
    parser.add_argument("--import-reps", type=int, help="repetitions of each import")
    options = parser.parse_args(argv)
    if options.across_pythons and not set(options.only or ()) <= set(ACROSS_PHASES):
        parser.error(f"--across-pythons runs only the phases {', '.join(ACROSS_PHASES)}")
    defaults = (
        {
            "reps": 1,
            "requests": 300,
            "warmup": 50,
            "rss_calls": 2000,
            "rss_reps": 1,
            "import_reps": 3,
        }
        if options.quick
        else {
            "reps": 7,
            "requests": 2000,
            "warmup": 200,
            "rss_calls": 10_000,
            "rss_reps": 3,
            "import_reps": 9,
        }
    )
    for name, value in defaults.items():
        if getattr(options, name) is None:
            setattr(options, name, value)
    return options


def python_version() -> str:
    """``3.15``, or ``3.14t`` for a free-threaded build: the name of its results folder."""
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    return f"{sys.version_info.major}.{sys.version_info.minor}{'t' if free_threaded else ''}"


def use_results_dir(folder: Path) -> None:
    """Send this process's raw results, and those of every script it runs, to ``folder``."""
    global RESULTS_DIR
    RESULTS_DIR = folder
    os.environ[RESULTS_ENVIRONMENT] = str(folder)


def across_file_name(quick: bool) -> str:
    """The interpreter's file of ``--across-pythons`` figures (a quick run's kept apart)."""
    return ACROSS_FILE.replace(".json", "-quick.json") if quick else ACROSS_FILE


def across_results(quick: bool) -> dict[str, dict[str, Any]]:
    """Each interpreter's stored ``--across-pythons`` figures, by version, oldest first."""
    name = across_file_name(quick)
    found = {
        path.parent.name.removeprefix("python-"): _read_json(path)
        for path in BASE_RESULTS_DIR.glob(f"python-*/{name}")
    }
    return dict(sorted(found.items(), key=lambda item: _report.version_key(item[0])))


def finish_across_pythons(
    options: argparse.Namespace, results: dict[str, Any], phases: Sequence[str]
) -> int:
    """Keep this run's phases in the interpreter's file; rewrite the "Across Pythons" section.

    Each phase keeps the figures of the latest run that measured it (with that run's date and
    settings), so the timed phases can be run again without counting again. A quick run keeps
    its figures apart and writes its section under ``benchmarks/results/``, not into the docs.
    """
    path = RESULTS_DIR / across_file_name(options.quick)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stored = _read_json(path) if path.exists() else {"phases": {}}
    stored["python"] = results["meta"]["python"]
    for phase in phases:
        stored["phases"][phase] = {
            "meta": results["meta"],
            "config": results["config"],
            "data": results[phase],
        }
    path.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
    runs = across_results(options.quick)
    section = _report.pythons_markdown(runs)
    page = BASE_RESULTS_DIR / "benchmarks-pythons-quick.md" if options.quick else DOCS_PAGE
    document = page.read_text(encoding="utf-8") if page.exists() else "# Benchmarks\n"
    document = _report.replace_generated(
        document, section, _report.PYTHONS_BEGIN_MARKER, _report.PYTHONS_END_MARKER
    )
    page.write_text(document, encoding="utf-8")
    print(_report.pythons_summary(runs))
    print(
        f"Wrote {path.relative_to(REPO)} and the section of {page.relative_to(REPO)} "
        f"({', '.join(runs)}) in {results['meta']['duration_seconds']:.0f} s."
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_arguments(argv)
    if options.across_pythons:
        use_results_dir(BASE_RESULTS_DIR / f"python-{python_version()}")
    phases = options.only or list(ACROSS_PHASES if options.across_pythons else PHASES)
    started = time.monotonic()
    results: dict[str, Any] = {
        "meta": _meta(),
        "config": {
            key: getattr(options, key)
            for key in (
                "quick",
                "reps",
                "requests",
                "warmup",
                "concurrency",
                "rss_calls",
                "rss_reps",
                "rss_delay",
                "import_reps",
            )
        },
    }
    measures = {
        "import": measure_imports,
        "throughput": measure_throughput,
        "rss": measure_rss,
        "instructions": run_instructions,
        "bulk": run_bulk,
        "sync": run_sync,
        "emulator": run_emulator,
        "models": run_parse_models,
    }
    phase_seconds = results["meta"]["phase_seconds"] = {}
    for phase in PHASES:
        if phase in phases:
            _log(f"{phase}...")
            phase_started = time.monotonic()
            results[phase] = measures[phase](options)
            phase_seconds[phase] = round(time.monotonic() - phase_started, 1)
            _log(f"{phase}: {phase_seconds[phase]:.0f} s")
    results["meta"]["duration_seconds"] = round(time.monotonic() - started, 1)
    if options.across_pythons:
        return finish_across_pythons(options, results, phases)

    complete = complete_run(options)
    suffix = "" if complete else "-quick" if options.quick else "-partial"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"core{suffix}.json").write_text(
        json.dumps(results, indent=2) + "\n", encoding="utf-8"
    )
    if complete:
        page, chart, chart_link = DOCS_PAGE, DOCS_CHART, "_static/benchmarks.png"
    else:
        page = RESULTS_DIR / f"benchmarks{suffix}.md"
        chart = RESULTS_DIR / f"benchmarks{suffix}.png"
        chart_link = chart.name
    if "throughput" in phases:
        _report.write_chart(results, chart)
    generated = _report.markdown(results, chart_link if "throughput" in phases else None)
    document = page.read_text(encoding="utf-8") if page.exists() else "# Benchmarks\n"
    document = _report.replace_generated(document, generated)
    if "instructions" in phases:
        document = _report.replace_generated(
            document,
            _report.breakdown_markdown(results),
            _report.BREAKDOWN_BEGIN_MARKER,
            _report.BREAKDOWN_END_MARKER,
        )
    page.write_text(document, encoding="utf-8")

    print(_report.ratio_summary(results))
    written = [page] + ([chart] if "throughput" in phases else [])
    print(
        f"Wrote {' and '.join(str(path.relative_to(REPO)) for path in written)} "
        f"in {results['meta']['duration_seconds']:.0f} s."
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        _log(f"benchmark failed: {error}")
        sys.exit(1)
