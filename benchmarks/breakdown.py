"""Where stytch-totp's extra CPU per request goes, relative to the tuned raw aiohttp loop.

::

    python benchmarks/breakdown.py [--endpoint authenticate] [--requests 3000] [--rounds 5]

Runs, in one process and alternating, the tuned raw loop and stytch-totp with one layer taken out
at a time: without its models (``orjson.loads`` in place of structuring), then also without its
parameter handling (``Client._call`` with a prebuilt params object). Prints the median CPU µs per
request of each, the table of the "Where the time goes" section of ``docs/benchmarks.md``. It
reaches into private modules on purpose: it measures their parts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from _variants import (
    SESSION_DURATION_MINUTES,
    TOTP_CODE,
    USER_ID,
    StytchTOTP,
    TunedAiohttp,
    Variant,
)
from _worker import _drive
from run import local_server

import stytch_totp._client
from stytch_totp._core import protocol as _protocol
from stytch_totp._core.call_args import NO_OPTIONS
from stytch_totp._models.params import AuthenticateParams, CreateParams

# The name ``Client._call`` looks up to build models; swapped per step below.
_CLIENT_NAMESPACE = vars(stytch_totp._client)
_decode_response = _CLIENT_NAMESPACE["decode_response"]


def _decode_json_only(operation: Any, status: int, headers: Any, body: bytes | None) -> Any:
    assert body is not None
    return orjson.loads(body)


class _WithoutModels(StytchTOTP):
    """stytch-totp, with ``orjson.loads`` where the models are built."""


class _WithoutModelsOrParams(StytchTOTP):
    """stytch-totp's ``Client._call`` with prebuilt params, and no models."""

    async def authenticate(self) -> Any:
        params = AuthenticateParams(
            user_id=USER_ID,
            totp_code=TOTP_CODE,
            session_duration_minutes=SESSION_DURATION_MINUTES,
        )
        return await self._client._call(_protocol.AUTHENTICATE, params, NO_OPTIONS)

    async def create(self) -> Any:
        params = CreateParams(user_id=USER_ID)
        return await self._client._call(_protocol.CREATE, params, NO_OPTIONS)


STEPS: dict[str, type[Variant]] = {
    "tuned raw loop (aiohttp call, orjson, no models)": TunedAiohttp,
    "+ the client's own work (stytch-totp without params or models)": _WithoutModelsOrParams,
    "+ validated parameters (stytch-totp without models)": _WithoutModels,
    "+ typed models (stytch-totp as shipped)": StytchTOTP,
}


async def _cpu_per_request(
    url: str, step: type[Variant], endpoint: str, requests: int, concurrency: int
) -> float:
    patched = step in (_WithoutModels, _WithoutModelsOrParams)
    _CLIENT_NAMESPACE["decode_response"] = _decode_json_only if patched else _decode_response
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
        _CLIENT_NAMESPACE["decode_response"] = _decode_response


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
