"""Where stytch-totp's cost per request goes, layer by layer, over the tuned raw aiohttp loop.

::

    python benchmarks/breakdown.py [--endpoint authenticate] [--requests 3000] [--rounds 5]

Runs, in one process and alternating, four steps: the tuned raw loop; stytch-totp's transport
alone (``AiohttpTransport.send`` with prebuilt requests); stytch-totp without its models (the
whole call path, ``orjson.loads`` in place of the typed models); stytch-totp as shipped. Prints
the median CPU µs per request of each. The same layers are counted in instructions, deterministic
on a busy machine, by ``bench_instructions.py --layers``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from _variants import LAYERS, VARIANTS, Variant
from _worker import _drive
from run import local_server

STEPS: Final[dict[str, type[Variant]]] = {
    "tuned raw loop (aiohttp, orjson, no models)": VARIANTS["tuned"],
    "stytch-totp's transport (pool, send-safety, size cap)": LAYERS["transport_only"],
    "+ the call path (arguments, params, encoding, retries)": LAYERS["no_models"],
    "+ typed models (stytch-totp as shipped)": VARIANTS["stytch_totp"],
}


async def _cpu_per_request(
    url: str, step: type[Variant], endpoint: str, requests: int, concurrency: int
) -> float:
    variant = step()
    await variant.open(url, unbounded_pool=False)
    try:
        call: Callable[[], Awaitable[Any]] = getattr(variant, endpoint)
        await _drive(call, concurrency, max(requests // 10, 1))
        gc.collect()
        started = time.process_time()
        await _drive(call, concurrency, requests)
        return (time.process_time() - started) / requests * 1e6
    finally:
        await variant.close()


async def breakdown(
    url: str, endpoint: str, requests: int, rounds: int, concurrency: int
) -> dict[str, float]:
    """Median CPU µs per request of each step, alternating the order between rounds."""
    samples: dict[str, list[float]] = {name: [] for name in STEPS}
    names = list(STEPS)
    for round_index in range(rounds):
        for name in names if round_index % 2 == 0 else names[::-1]:
            samples[name].append(
                await _cpu_per_request(url, STEPS[name], endpoint, requests, concurrency)
            )
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0] if __doc__ else None)
    parser.add_argument("--endpoint", choices=["authenticate", "create"], default="authenticate")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    with local_server() as (url, _):
        medians = asyncio.run(
            breakdown(url, args.endpoint, args.requests, args.rounds, args.concurrency)
        )
    print(f"| Step ({args.endpoint}, concurrency {args.concurrency}) | CPU per request (µs) |")
    print("| --- | ---: |")
    for name, value in medians.items():
        print(f"| {name} | {value:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
