"""Instructions per request, counted by callgrind: the benchmark that can see a 3 % change.

::

    python benchmarks/bench_instructions.py [--quick] [--layers] [--variants ...]
        [--endpoints ...] [--concurrency ...]

Timed CPU on a shared 2-core machine spreads 0.7x-1.9x from run to run; instruction counts under
``valgrind --tool=callgrind`` repeat within a fraction of a percent. For each client variant
(``benchmarks/_variants.py``), endpoint and concurrency, the throughput worker
(``benchmarks/_worker.py``) runs twice under callgrind, with ``N`` measured requests and with
none; everything else (start-up, imports, the warm-up, opening the pool) is the same in both
runs, so the difference of their totals divided by ``N`` is the client's instructions per
request. The server runs natively in a process of its own and is not counted. Both runs get a fixed
hash seed (the same dict and set layouts) and a warm bytecode cache (``benchmarks/results/pycache``,
as after ``pip install``: compiling every module under callgrind would double each run's time).

``--layers`` also counts two layers of stytch-totp (``_variants.LAYERS``): its transport alone and
its call path without the models, so that ``run.py`` can say where its instructions go.

Prints a Markdown table (lines starting with ``|``) and writes
``benchmarks/results/instructions.json`` (``instructions-quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from run import RESULTS_DIR, child_environment, local_server

HERE: Final = Path(__file__).resolve().parent
WORKER_SCRIPT: Final = HERE / "_worker.py"

VARIANTS: Final = ("naive", "tuned", "official", "stytch_totp")
#: Layers of stytch-totp (``--layers``): its transport alone, and its call path without models.
LAYER_VARIANTS: Final = ("transport_only", "no_models")
ENDPOINTS: Final = ("authenticate", "create")
CONCURRENCIES: Final = (16, 128)
FULL: Final = {"requests": 1000, "warmup": 300}
QUICK: Final = {"requests": 200, "warmup": 150}


def log(message: str) -> None:
    print(f"bench_instructions: {message}", file=sys.stderr, flush=True)


def results_path(quick: bool) -> Path:
    """Where the counts of a run go: a quick run never overwrites a full run's."""
    return RESULTS_DIR / ("instructions-quick.json" if quick else "instructions.json")


def callgrind_total(arguments: list[str]) -> int:
    """Instructions (``Ir``) of one run of the worker under callgrind."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            str(WORKER_SCRIPT),
            *arguments,
        ]
        env = dict(child_environment(), PYTHONHASHSEED="0")  # the same dict layouts in both runs
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=3600, check=False, env=env
        )
        if completed.returncode != 0:
            raise SystemExit(f"callgrind run failed:\n{completed.stderr[-3000:]}")
        found = re.search(r"^(?:totals|summary):\s+(\d+)", out.read_text(), re.MULTILINE)
        if found is None:
            raise SystemExit("callgrind wrote no total")
        return int(found.group(1))


def warm_bytecode_cache(url: str, variants: list[str], endpoints: list[str]) -> None:
    """Run each variant once, natively, so that no counted run compiles a module.

    Otherwise the first counted run of a variant (the one with requests) would also pay for
    compiling what it imports, and its count per request would be inflated by that.
    """
    for variant in variants:
        for endpoint in endpoints:
            command = [sys.executable, str(WORKER_SCRIPT), "throughput", variant, endpoint]
            command += ["--url", url, "--concurrency", "1", "--requests", "0", "--warmup", "1"]
            completed = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
                env=child_environment(),
            )
            if completed.returncode != 0:
                raise SystemExit(f"{variant} {endpoint} failed:\n{completed.stderr[-3000:]}")


def per_request(
    url: str, variant: str, endpoint: str, concurrency: int, settings: dict[str, int]
) -> float:
    common = [
        "throughput",
        variant,
        endpoint,
        "--url",
        url,
        "--concurrency",
        str(concurrency),
        "--warmup",
        str(settings["warmup"]),
    ]
    with_requests = callgrind_total([*common, "--requests", str(settings["requests"])])
    without = callgrind_total([*common, "--requests", "0"])
    return (with_requests - without) / settings["requests"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests per count")
    parser.add_argument(
        "--variants", nargs="+", choices=VARIANTS + LAYER_VARIANTS, default=list(VARIANTS)
    )
    parser.add_argument("--layers", action="store_true", help="also count stytch-totp's layers")
    parser.add_argument("--endpoints", nargs="+", choices=ENDPOINTS, default=list(ENDPOINTS))
    parser.add_argument("--concurrency", nargs="+", type=int, default=list(CONCURRENCIES))
    options = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    settings = dict(QUICK if options.quick else FULL)
    variants = list(dict.fromkeys([*options.variants, *(LAYER_VARIANTS if options.layers else ())]))
    counts: dict[str, dict[str, float]] = {}
    # The server is not under valgrind: only the client is counted.
    with local_server() as (url, _):
        warm_bytecode_cache(url, variants, list(options.endpoints))
        for endpoint in options.endpoints:
            for concurrency in options.concurrency:
                cell = f"{endpoint} @ {concurrency}"
                counts[cell] = {}
                for variant in variants:
                    counts[cell][variant] = per_request(
                        url, variant, endpoint, concurrency, settings
                    )
                    log(f"{cell}: {variant} {counts[cell][variant] / 1000:,.1f}k per request")
    lines = report(counts)
    print("\n".join(lines))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    results_path(options.quick).write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(),
                "python": sys.version.split()[0],
                "quick": options.quick,
                "layers": options.layers,
                "settings": settings,
                "instructions_per_request": counts,
                "table": lines,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


def report(counts: dict[str, dict[str, float]]) -> list[str]:
    variants = [v for v in VARIANTS + LAYER_VARIANTS if any(v in row for row in counts.values())]
    header = (
        "| Cell | " + " | ".join(variants) + " | stytch-totp / naive | stytch-totp / official |"
    )
    lines = [header, "|---" * (len(variants) + 3) + "|"]
    for cell, row in counts.items():
        values = " | ".join(f"{row[v] / 1000:,.0f}k" if v in row else "" for v in variants)
        ours = row.get("stytch_totp")
        naive, official = row.get("naive"), row.get("official")
        vs_naive = f"{ours / naive:.3f}x" if ours and naive else ""
        vs_official = f"{ours / official:.3f}x" if ours and official else ""
        lines.append(f"| {cell} | {values} | {vs_naive} | {vs_official} |")
    return lines


if __name__ == "__main__":
    main()
