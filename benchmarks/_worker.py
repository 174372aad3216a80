"""One measurement in a fresh process; ``run.py`` starts one per variant and repetition.

::

    python benchmarks/_worker.py throughput VARIANT ENDPOINT --url URL --concurrency C --requests N
    python benchmarks/_worker.py rss VARIANT --url URL --calls N

Each prints one JSON object on stdout. CPU time is ``time.process_time()`` of this process only:
the server runs in another one.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _variants import LAYERS, VARIANTS, check_result


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _current_rss_kib() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * resource.getpagesize() // 1024


async def _drive(call: Callable[[], Awaitable[Any]], concurrency: int, total: int) -> None:
    """Make ``total`` calls, ``concurrency`` at a time, as a pool of looping tasks."""
    remaining = total

    async def loop() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    await asyncio.gather(*(loop() for _ in range(concurrency)))


async def throughput(
    variant_name: str, endpoint: str, url: str, concurrency: int, requests: int, warmup: int
) -> dict[str, Any]:
    """CPU µs per request and requests/s over ``requests`` calls, after ``warmup`` calls."""
    variant = {**VARIANTS, **LAYERS}[variant_name]()
    await variant.open(url, unbounded_pool=False)
    try:
        call: Callable[[], Awaitable[Any]] = getattr(variant, endpoint)
        check_result(endpoint, await call())
        # Warm-up at the measured concurrency: opens the pool's connections, fills caches.
        await _drive(call, concurrency, warmup)
        gc.collect()
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        await _drive(call, concurrency, requests)
        cpu, wall = time.process_time() - cpu_start, time.perf_counter() - wall_start
        check_result(endpoint, await call())
    finally:
        await variant.close()
    measured = max(requests, 1)  # 0 requests: a callgrind baseline run (bench_instructions.py)
    return {
        "cpu_us_per_request": cpu / measured * 1e6,
        "requests_per_second": requests / wall,
    }


async def rss(variant_name: str, url: str, calls: int) -> dict[str, Any]:
    """Peak RSS of this process while ``calls`` authenticate calls are in flight at once."""
    variant = VARIANTS[variant_name]()
    await variant.open(url, unbounded_pool=True)
    completed = 0

    async def call() -> None:
        # Each answer is checked and dropped, as an application would: the figure is the cost
        # of calls in flight, not of keeping 10,000 parsed responses around.
        nonlocal completed
        check_result("authenticate", await variant.authenticate())
        completed += 1

    try:
        await call()
        before = _current_rss_kib()
        await asyncio.gather(*(call() for _ in range(calls)))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    finally:
        await variant.close()
    return {"peak_rss_kib": peak, "rss_before_kib": before, "calls": completed - 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One benchmark measurement (used by run.py).")
    modes = parser.add_subparsers(dest="mode", required=True)
    throughput_parser = modes.add_parser("throughput")
    throughput_parser.add_argument("variant", choices=sorted({**VARIANTS, **LAYERS}))
    throughput_parser.add_argument("endpoint", choices=["authenticate", "create"])
    throughput_parser.add_argument("--url", required=True)
    throughput_parser.add_argument("--concurrency", type=int, required=True)
    throughput_parser.add_argument("--requests", type=int, required=True)
    throughput_parser.add_argument("--warmup", type=int, default=200)
    rss_parser = modes.add_parser("rss")
    rss_parser.add_argument("variant", choices=sorted(VARIANTS))
    rss_parser.add_argument("--url", required=True)
    rss_parser.add_argument("--calls", type=int, required=True)
    args = parser.parse_args(argv)

    result: dict[str, Any]
    if args.mode == "throughput":
        result = asyncio.run(
            throughput(
                args.variant,
                args.endpoint,
                args.url,
                args.concurrency,
                args.requests,
                args.warmup,
            )
        )
    else:
        _raise_fd_limit()
        result = asyncio.run(rss(args.variant, args.url, args.calls))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
