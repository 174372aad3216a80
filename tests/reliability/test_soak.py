"""Soak: 100,000 calls with 5 % injected faults; memory stays flat, nothing leaks.

Memory is measured after a warm-up (pool filled, caches and free lists grown) and again at the
end, as resident set size and as the number of objects the garbage collector tracks; the figures
are printed in the test output and recorded as test properties. A leak of even one object or a
hundred bytes per call would show as tens of thousands of objects or megabytes.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable

import pytest

from stytch_totp import RetryPolicy, StytchError, _jsoncodec
from tests.reliability._helpers import OPERATIONS, connections_in_use
from tests.reliability._servers import (
    Action,
    Received,
    reset_before_headers,
    respond,
    respond_json,
    truncated_body,
)
from tests.reliability.conftest import MakeClient, StartServer

CALLS = 100_000
WARM_UP = 10_000
WORKERS = 32
FAULT_RATE = 0.05
#: Growth allowed between the warm-up and the end: far below what a per-call leak would cost.
MAX_RSS_GROWTH = 16 * 1024 * 1024
MAX_OBJECT_GROWTH = 5_000
#: Calls watched by tracemalloc, right after the warm-up.
TRACED = 20_000
MAX_TRACED_GROWTH = 3 * 512 * 1024


def _rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _settled_memory() -> tuple[int, int]:
    # Let dropped connections finish closing, on both sides, before counting what is left.
    await asyncio.sleep(0.1)
    gc.collect()
    return _rss_bytes(), len(gc.get_objects())


def _server_behaviour(rng: random.Random) -> Callable[[Received], Action]:
    paths = ["v1/totps", "v1/totps/authenticate", "v1/totps/recovery_codes", "v1/totps/recover"]
    successes = {
        f"/{path}": respond(200, _jsoncodec.dumps(op.success_body()))
        for op, path in zip(OPERATIONS, paths, strict=True)
    }
    html = b"<html><body>502 Bad Gateway</body></html>"
    faults: list[Action] = [
        respond(503, html, content_type="text/html"),
        respond(500, html, content_type="text/html"),
        respond_json({"error_type": "too_many_requests"}, 429, headers=[("Retry-After", "0")]),
        reset_before_headers(),
        truncated_body(),
        respond(200, b"{not json"),
        respond_json({"request_id": "r"}),
    ]

    def choose(request: Received) -> Action:
        if rng.random() < FAULT_RATE:
            return rng.choice(faults)
        return successes[request.target]

    return choose


@pytest.mark.slow
async def test_a_hundred_thousand_calls_with_faults_leak_nothing(
    start_server: StartServer,
    make_client: MakeClient,
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = random.Random(7)
    server = await start_server(_server_behaviour(rng), keep_requests=False)
    client = make_client(
        server.url,
        timeout=30.0,
        retry=RetryPolicy(max_retries=2, initial_backoff=0.0, max_backoff=0.0),
    )
    outcomes: Counter[str] = Counter()
    started = 0
    baseline_tasks = asyncio.all_tasks()

    async def worker(limit: int) -> None:
        nonlocal started
        while started < limit:
            started += 1
            operation = OPERATIONS[started % len(OPERATIONS)]
            try:
                await operation.call(client)
            except StytchError as error:
                outcomes[type(error).__name__] += 1
            else:
                outcomes["ok"] += 1

    async def run_until(limit: int) -> None:
        async with asyncio.timeout(600):
            await asyncio.gather(*(worker(limit) for _ in range(WORKERS)))

    clock = time.monotonic()
    await run_until(WARM_UP)
    rss_warm, objects_warm = await _settled_memory()
    # tracemalloc triples the cost of a call, so it watches a window, not the whole run: what is
    # still allocated at its end was allocated, and kept, by those calls.
    tracemalloc.start()
    try:
        await run_until(WARM_UP + TRACED)
        await asyncio.sleep(0.1)
        gc.collect()
        traced_growth, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    await run_until(CALLS)
    rss_end, objects_end = await _settled_memory()
    elapsed = time.monotonic() - clock

    figures = {
        "calls": sum(outcomes.values()),
        "requests_served": server.received,
        "seconds": round(elapsed, 1),
        "rss_after_warm_up_mib": round(rss_warm / 2**20, 2),
        "rss_at_end_mib": round(rss_end / 2**20, 2),
        "rss_growth_kib": round((rss_end - rss_warm) / 1024, 1),
        "gc_objects_after_warm_up": objects_warm,
        "gc_objects_at_end": objects_end,
        "gc_object_growth": objects_end - objects_warm,
        "tracemalloc_growth_kib_over_traced_calls": round(traced_growth / 1024, 1),
        "traced_calls": TRACED,
        "outcomes": dict(outcomes),
    }
    for name, value in figures.items():
        record_property(name, value)
    with capsys.disabled():
        print(f"\nsoak: {figures}")

    assert figures["calls"] == CALLS
    # Faults were injected, retried where allowed, and surfaced as typed errors otherwise.
    assert outcomes["ok"] < CALLS
    assert outcomes["ok"] > CALLS * (1 - 2 * FAULT_RATE)
    assert server.received > CALLS
    assert rss_end - rss_warm < MAX_RSS_GROWTH
    assert objects_end - objects_warm < MAX_OBJECT_GROWTH
    assert traced_growth < MAX_TRACED_GROWTH

    assert connections_in_use(client) == 0
    leftover = asyncio.all_tasks() - baseline_tasks - set(server._handlers)
    assert leftover == set()
