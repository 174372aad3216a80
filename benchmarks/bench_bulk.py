"""Benchmark of bulk enrollment: ``client.totps.create_many`` against a fast local server.

::

    python benchmarks/bench_bulk.py [--quick]

Three measurements, each in fresh worker processes (this script re-runs itself with ``--worker``)
against ``benchmarks/_server.py`` in a process of its own:

* throughput at concurrency 64: ``create_many`` vs the loops people write by hand today, an
  ``asyncio.Semaphore`` and ``asyncio.gather`` around raw aiohttp calls written the common way
  (``json=``, ``BasicAuth``, ``resp.json()``: the first target's baseline) or tuned (precomputed
  header, orjson, no models: informative), or around the SDK's own ``client.totps.create`` (the
  second target's baseline); the order of the variants rotates between repetitions and the
  figures are medians of per-repetition ratios. The SDK loop isolates what the engine itself costs
  from what the SDK's calls cost (typed models, validation);
* the same throughput comparison, ``create_many`` vs the tuned raw loop only, against a server
  that holds every response back 20 ms, as a remote API would: informative, with no target;
* peak memory (``ru_maxrss`` of the worker) for ``create_many`` over 1,000 vs 100,000 inputs read
  from a generator: the difference shows whether memory stays flat as the input grows.

Targets (issue 14): ``create_many`` throughput at least 1.0x the naive raw loop's and at least
0.95x the loop over ``client.totps.create``; and peak RSS flat as the input grows.

Prints Markdown tables (the lines starting with ``|``) and writes ``benchmarks/results/bulk.json``
(``bulk-quick.json`` with ``--quick``).
Exits 0 when it ran, whether or not the targets were met (the tables say); non-zero on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import resource
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from run import RESULTS_DIR, local_server, run_json_script

HERE: Final = Path(__file__).resolve().parent

PROJECT_ID: Final = "project-test-00000000-0000-4000-8000-000000000000"
SECRET: Final = "secret-test-bench-bench-bench-bench-bench="

CONCURRENCY: Final = 64
#: Targets: create_many throughput at least this multiple of each hand-written loop's (by the
#: loop's name in ``VARIANTS``). The tuned raw loop's ratio is shown too, with no target.
THROUGHPUT_TARGETS: Final = {"naive_raw": 1.0, "sdk_loop": 0.95}
#: Target: peak RSS for the large input exceeds the small one's by less than this many MB.
MEMORY_TARGET_MB: Final = 20.0

#: Seconds the server holds each response back in the "with latency" comparison: the order of a
#: round trip to an API in a nearby region, where the network, not the client's CPU, sets the pace.
LATENCY: Final = 0.020

FULL: Final = {"requests": 6000, "repetitions": 5, "memory_small": 1000, "memory_large": 100_000}
QUICK: Final = {"requests": 1500, "repetitions": 2, "memory_small": 1000, "memory_large": 10_000}


def user_ids(count: int) -> Iterator[str]:
    """Lazily generated ids: the input itself must not be what memory measures."""
    return (f"user-test-00000000-0000-4000-8000-{number:012d}" for number in range(count))


# -- worker side (a fresh process per measurement) ---------------------------------------------


async def run_create_many(base_url: str, requests: int, concurrency: int) -> int:
    import stytch_totp

    async with stytch_totp.Client(PROJECT_ID, SECRET, base_url=base_url) as client:
        ok = 0
        async with client.totps.create_many(user_ids(requests), concurrency=concurrency) as batch:
            async for result in batch:
                ok += result.ok
    return ok


async def run_raw_loop(base_url: str, requests: int, concurrency: int) -> int:
    """The hand-written alternative: a semaphore around raw aiohttp calls."""
    import aiohttp

    from stytch_totp import _jsoncodec

    url = base_url + "v1/totps"
    token = base64.b64encode(f"{PROJECT_ID}:{SECRET}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
    semaphore = asyncio.Semaphore(concurrency)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

        async def enroll(user_id: str) -> bool:
            async with semaphore:
                body = _jsoncodec.dumps({"user_id": user_id})
                async with session.post(url, data=body, headers=headers) as response:
                    data = _jsoncodec.loads(await response.read())
                    return response.status == 200 and data["user_id"] == user_id

        outcomes = await asyncio.gather(*(enroll(user_id) for user_id in user_ids(requests)))
    return sum(outcomes)


async def run_naive_raw_loop(base_url: str, requests: int, concurrency: int) -> int:
    """The same loop written the common way: ``json=``, ``BasicAuth``, ``await resp.json()``."""
    import aiohttp

    url = base_url + "v1/totps"
    # aiohttp 3.14 deprecates BasicAuth, yet it is what most hand-written integrations use.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        auth = aiohttp.BasicAuth(PROJECT_ID, SECRET)
    semaphore = asyncio.Semaphore(concurrency)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

        async def enroll(user_id: str) -> bool:
            async with (
                semaphore,
                session.post(url, json={"user_id": user_id}, auth=auth) as response,
            ):
                data = await response.json()
                return response.status == 200 and data["user_id"] == user_id

        outcomes = await asyncio.gather(*(enroll(user_id) for user_id in user_ids(requests)))
    return sum(outcomes)


async def run_sdk_loop(base_url: str, requests: int, concurrency: int) -> int:
    """The hand-written alternative with the SDK: a semaphore around ``client.totps.create``."""
    import stytch_totp

    semaphore = asyncio.Semaphore(concurrency)
    async with stytch_totp.Client(PROJECT_ID, SECRET, base_url=base_url) as client:

        async def enroll(user_id: str) -> bool:
            async with semaphore:
                created = await client.totps.create(user_id=user_id)
                return created.user_id == user_id

        outcomes = await asyncio.gather(*(enroll(user_id) for user_id in user_ids(requests)))
    return sum(outcomes)


VARIANTS: Final = {
    "create_many": run_create_many,
    "raw": run_raw_loop,
    "naive_raw": run_naive_raw_loop,
    "sdk_loop": run_sdk_loop,
}
#: The hand-written loops, as the target rows name them.
LOOP_LABELS: Final = {
    "raw": "tuned raw aiohttp semaphore loop",
    "naive_raw": "naive raw aiohttp semaphore loop",
    "sdk_loop": "semaphore loop over `client.totps.create`",
}


def worker(options: argparse.Namespace) -> None:
    base_url = f"http://127.0.0.1:{options.port}/"
    run = VARIANTS[options.variant]
    # Warm up (connections, imports, caches) outside the measured part.
    asyncio.run(run(base_url, min(200, options.requests), options.concurrency))
    started_cpu = time.process_time()
    started = time.perf_counter()
    ok = asyncio.run(run(base_url, options.requests, options.concurrency))
    seconds = time.perf_counter() - started
    cpu = time.process_time() - started_cpu
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if ok != options.requests:
        raise SystemExit(f"{options.variant}: only {ok} of {options.requests} succeeded")
    print(json.dumps({"seconds": seconds, "cpu": cpu, "maxrss_kb": maxrss_kb, "ok": ok}))


# -- driver side ---------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"bench_bulk: {message}", file=sys.stderr, flush=True)


def measure(port: int, variant: str, requests: int) -> dict[str, Any]:
    arguments = ["--worker", "--variant", variant, "--port", str(port)]
    return run_json_script(
        Path(__file__),
        [*arguments, "--requests", str(requests), "--concurrency", str(CONCURRENCY)],
        600,
    )


def throughput(
    port: int, requests: int, repetitions: int, variants: list[str] | None = None
) -> dict[str, Any]:
    variants = variants or list(VARIANTS)
    runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
    ratios: dict[str, list[float]] = {v: [] for v in variants if v != "create_many"}
    for repetition in range(repetitions):
        shift = repetition % len(variants)
        rates: dict[str, float] = {}
        for variant in variants[shift:] + variants[:shift]:
            result = measure(port, variant, requests)
            result["rate"] = requests / result["seconds"]
            runs[variant].append(result)
            rates[variant] = result["rate"]
        for baseline, values in ratios.items():
            values.append(rates["create_many"] / rates[baseline])
        log(
            f"throughput {repetition + 1}/{repetitions}: "
            + ", ".join(f"{variant} {rates[variant]:.0f}/s" for variant in variants)
        )
    return {
        "requests": requests,
        "concurrency": CONCURRENCY,
        "runs": runs,
        "ratios": ratios,
        "median_ratio": {baseline: statistics.median(v) for baseline, v in ratios.items()},
        "median_rate": {v: statistics.median(r["rate"] for r in runs[v]) for v in runs},
        "median_cpu_us": {
            v: statistics.median(r["cpu"] / requests * 1e6 for r in runs[v]) for v in runs
        },
    }


def memory(port: int, small: int, large: int) -> dict[str, Any]:
    peaks: dict[int, list[float]] = {small: [], large: []}
    # Alternate and repeat the small one around the large: the baseline is the noisiest part.
    for size in (small, large, small):
        result = measure(port, "create_many", size)
        peaks[size].append(result["maxrss_kb"] / 1024)
        log(f"memory: {size} inputs -> peak RSS {peaks[size][-1]:.1f} MB")
    small_mb = statistics.median(peaks[small])
    large_mb = statistics.median(peaks[large])
    return {
        "inputs": [small, large],
        "peak_rss_mb": {str(small): small_mb, str(large): large_mb},
        "samples_mb": {str(size): values for size, values in peaks.items()},
        "difference_mb": large_mb - small_mb,
    }


def markdown(report: dict[str, Any]) -> str:
    speed = report["throughput"]
    mem = report["memory"]
    slow = report["with_latency"]
    small, large = mem["inputs"]
    rate, cpu, ratio = speed["median_rate"], speed["median_cpu_us"], speed["median_ratio"]
    met_memory = mem["difference_mb"] < MEMORY_TARGET_MB
    repetitions = len(next(iter(speed["ratios"].values())))
    rows = [
        f"| Concurrency {speed['concurrency']}, {speed['requests']:,} creates per run,"
        f" {repetitions} rotated repetitions (medians) | `create_many`"
        " | naive raw aiohttp + semaphore | `client.totps.create` + semaphore"
        " | tuned raw aiohttp + semaphore (informative) |",
        "|---|---:|---:|---:|---:|",
        f"| requests/s | {rate['create_many']:,.0f} | {rate['naive_raw']:,.0f}"
        f" | {rate['sdk_loop']:,.0f} | {rate['raw']:,.0f} |",
        f"| client CPU µs/request | {cpu['create_many']:,.0f} | {cpu['naive_raw']:,.0f}"
        f" | {cpu['sdk_loop']:,.0f} | {cpu['raw']:,.0f} |",
        f"| `create_many` throughput / this loop's | 1 | {ratio['naive_raw']:.3f}"
        f" | {ratio['sdk_loop']:.3f} | {ratio['raw']:.3f} |",
        "",
        f"| With {slow['latency_seconds'] * 1000:.0f} ms of server latency (informative, no target)"
        " | `create_many` | tuned raw aiohttp + semaphore |",
        "|---|---:|---:|",
        f"| requests/s | {slow['median_rate']['create_many']:,.0f}"
        f" | {slow['median_rate']['raw']:,.0f} |",
        f"| client CPU µs/request | {slow['median_cpu_us']['create_many']:,.0f}"
        f" | {slow['median_cpu_us']['raw']:,.0f} |",
        f"| `create_many` throughput / this loop's | 1 | {slow['median_ratio']['raw']:.3f} |",
        "",
        f"| Peak memory of `create_many` (worker `ru_maxrss`) | {small:,} inputs"
        f" | {large:,} inputs | difference |",
        "|---|---:|---:|---:|",
        f"| peak RSS, MB (median) | {mem['peak_rss_mb'][str(small)]:.1f}"
        f" | {mem['peak_rss_mb'][str(large)]:.1f} | {mem['difference_mb']:+.1f} |",
        "",
        "| Target | Result | Met |",
        "|---|---|---|",
    ]
    for loop, limit in THROUGHPUT_TARGETS.items():
        rows.append(
            f"| throughput >= {limit:.2f}x the {LOOP_LABELS[loop]}"
            f" | {ratio[loop]:.3f}x | {'yes' if ratio[loop] >= limit else 'no'} |"
        )
    rows.append(
        f"| peak RSS, {large:,} vs {small:,} inputs, differs by < {MEMORY_TARGET_MB:.0f} MB"
        f" | {mem['difference_mb']:+.1f} MB | {'yes' if met_memory else 'no'} |"
    )
    return "\n".join(rows)


def drive(options: argparse.Namespace) -> None:
    sizes = QUICK if options.quick else FULL
    requests = options.requests or sizes["requests"]
    repetitions = options.repetitions or sizes["repetitions"]
    with local_server() as (_, port):
        log(f"server on port {port}; {repetitions} x {requests} creates per variant")
        speed = throughput(port, requests, repetitions)
        mem = memory(port, sizes["memory_small"], sizes["memory_large"])
    with local_server(delay=LATENCY) as (_, port):
        log(f"server with {LATENCY * 1000:.0f} ms latency on port {port}")
        slow = throughput(port, requests, repetitions, ["create_many", "raw"])
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": options.quick,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "throughput": speed,
        "memory": mem,
        "with_latency": {"latency_seconds": LATENCY, **slow},
        "targets": {
            "throughput_ratio_min": THROUGHPUT_TARGETS,
            "memory_difference_mb_max": MEMORY_TARGET_MB,
        },
    }
    report["markdown"] = markdown(report)
    results = results_path(options.quick)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(report["markdown"])
    log(f"wrote {results.relative_to(HERE.parent)}")


def results_path(quick: bool) -> Path:
    """Where the raw results go: a quick run never overwrites a full run's."""
    return RESULTS_DIR / ("bulk-quick.json" if quick else "bulk.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (under a minute)")
    parser.add_argument("--requests", type=int, help="creates per throughput run")
    parser.add_argument("--repetitions", type=int, help="alternated throughput repetitions")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        worker(options)
    else:
        drive(options)


if __name__ == "__main__":
    main()
