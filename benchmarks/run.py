"""Run the benchmark suite: ``nox -s bench`` (or ``python benchmarks/run.py [--quick]``).

Every measurement runs in a fresh process against a local server in another process. Variants
alternate (the order rotates with each repetition and cell), each is repeated, and ratios are taken
between runs made back to back, then their median is reported. A full run writes
``docs/benchmarks.md`` (between its markers) and ``docs/_static/benchmarks.png``; a quick or partial
run writes the same outputs under ``benchmarks/results/`` instead, so the docs only ever show a
complete, full run. Raw numbers always go to ``benchmarks/results/core*.json``.
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
import time
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from statistics import median
from typing import Any, Final

import _report

HERE: Final = Path(__file__).resolve().parent
REPO: Final = HERE.parent
RESULTS_DIR: Final = HERE / "results"
DOCS_PAGE: Final = REPO / "docs" / "benchmarks.md"
DOCS_CHART: Final = REPO / "docs" / "_static" / "benchmarks.png"
BULK_SCRIPT: Final = HERE / "bench_bulk.py"
EMULATOR_SCRIPT: Final = HERE / "bench_emulator.py"
PARSE_SCRIPT: Final = HERE / "bench_parse.py"

VARIANTS: Final = _report.VARIANT_ORDER
IMPORT_MODULES: Final = ("stytch_totp", "stytch", "aiohttp")
PHASES: Final = ("parse", "import", "throughput", "rss", "bulk", "emulator", "models")

#: Seconds a single worker may take before it is killed and the run fails.
WORKER_TIMEOUT: Final = 180.0


class BenchmarkError(RuntimeError):
    """A measurement failed; the message says which and why."""


def child_environment() -> dict[str, str]:
    """The environment of every process the suite starts.

    Bytecode is cached in ``benchmarks/results/pycache`` (even where the shell sets
    ``PYTHONDONTWRITEBYTECODE``), as it would be after ``pip install``: otherwise a package whose
    bytecode happens not to be cached would be timed compiling its source on every import.
    """
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment["PYTHONPYCACHEPREFIX"] = str(RESULTS_DIR / "pycache")
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
    command = [sys.executable, str(HERE / "_worker.py"), *arguments]
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


def measure_parse(options: argparse.Namespace) -> dict[str, Any]:
    """Parse time of one authenticate response, both SDKs in one process."""
    result = run_worker(
        ["parse", "--rounds", str(options.parse_rounds), "--number", str(options.parse_number)]
    )
    _log(f"  parse µs: { {k: round(v, 1) for k, v in result['us'].items()} }")
    return result


def run_bulk(options: argparse.Namespace) -> dict[str, Any] | None:
    """Run the bulk-enrollment benchmark if it exists; its Markdown tables and exit status."""
    if not BULK_SCRIPT.exists():
        _log("  bench_bulk.py not found: skipped")
        return None
    command = [sys.executable, str(BULK_SCRIPT)]
    if options.quick:
        usage = subprocess.run(
            [*command, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=child_environment(),
        )
        if "--quick" in usage.stdout:
            command.append("--quick")
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=REPO,
            env=child_environment(),
        )
    except subprocess.TimeoutExpired:
        return {"markdown": "", "returncode": -1, "command": command[1:]}
    table_lines: list[str] = []
    for line in completed.stdout.splitlines():
        if line.startswith("|"):
            table_lines.append(line)
        elif table_lines and table_lines[-1] != "":
            table_lines.append("")
    if completed.returncode != 0:
        _log(f"  bench_bulk.py failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    return {
        "markdown": "\n".join(table_lines),
        "returncode": completed.returncode,
        "command": command[1:],
    }


def run_emulator(options: argparse.Namespace) -> dict[str, Any]:
    """Run ``bench_emulator.py``: on a full run it writes its own section of the docs page."""
    command = [sys.executable, str(EMULATOR_SCRIPT)]
    if options.quick:
        command.append("--quick")
    elif options.only is None:  # a complete run: the docs page shows it (valgrind permitting)
        command += ["--write-docs", *(["--instructions"] if shutil.which("valgrind") else [])]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=1800, check=False, env=child_environment()
    )
    if completed.returncode != 0:
        raise BenchmarkError(f"bench_emulator.py failed:\n{completed.stderr[-2000:]}")
    _log("\n".join(line for line in completed.stdout.splitlines() if line.startswith("|")))
    return {"markdown": completed.stdout, "command": command[1:]}


def run_parse_models(options: argparse.Namespace) -> dict[str, Any]:
    """The model-layer parse benchmark (``bench_parse.py``: timed, and counted by callgrind).

    It writes its own section of the docs page, in a full run only (else under results/).
    """
    full = not options.quick and set(options.only or PHASES) == set(PHASES)
    command = [
        sys.executable,
        str(PARSE_SCRIPT),
        *(["--quick"] if options.quick else []),
        *(["--write-docs"] if full else []),
    ]
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
        cwd=REPO,
        env=child_environment(),
    )
    if completed.returncode != 0:
        raise BenchmarkError(f"bench_parse.py failed:\n{completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    _log(f"  models: {result}")
    return result


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown CPU"


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
    }


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run (under a minute)")
    parser.add_argument("--only", nargs="+", choices=PHASES, help="run only these phases")
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
    parser.add_argument("--parse-rounds", type=int, help="timeit rounds of the parse figure")
    parser.add_argument("--parse-number", type=int, help="parses per timeit round")
    options = parser.parse_args(argv)
    defaults = (
        {
            "reps": 1,
            "requests": 300,
            "warmup": 50,
            "rss_calls": 2000,
            "rss_reps": 1,
            "import_reps": 3,
            "parse_rounds": 3,
            "parse_number": 300,
        }
        if options.quick
        else {
            "reps": 7,
            "requests": 2000,
            "warmup": 200,
            "rss_calls": 10_000,
            "rss_reps": 3,
            "import_reps": 9,
            "parse_rounds": 9,
            "parse_number": 2000,
        }
    )
    for name, value in defaults.items():
        if getattr(options, name) is None:
            setattr(options, name, value)
    return options


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_arguments(argv)
    phases = options.only or list(PHASES)
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
                "parse_rounds",
                "parse_number",
            )
        },
    }
    measures = {
        "parse": measure_parse,
        "import": measure_imports,
        "throughput": measure_throughput,
        "rss": measure_rss,
        "bulk": run_bulk,
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
    results["meta"]["duration_seconds"] = round(time.monotonic() - started, 1)

    complete = not options.quick and set(phases) == set(PHASES)
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
    page.write_text(_report.replace_generated(document, generated), encoding="utf-8")

    print(_report.ratio_summary(results))
    print(
        f"Wrote {page.relative_to(REPO)} and {chart.relative_to(REPO)} "
        f"in {results['meta']['duration_seconds']:.0f} s."
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        _log(f"benchmark failed: {error}")
        sys.exit(1)
