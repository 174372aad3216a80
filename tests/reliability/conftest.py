"""Fixtures of the reliability suite: misbehaving raw servers, clients, and a leak watchdog."""

from __future__ import annotations

import asyncio
import gc
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stytch_totp import Client
from tests.conftest import PROJECT_ID, SECRET
from tests.reliability._helpers import FAST_RETRY, TIMEOUT
from tests.reliability._servers import Action, RawServer, Received
from tests.reliability._tls import SelfSigned, make_self_signed

StartServer = Callable[..., Awaitable[RawServer]]
MakeClient = Callable[..., Client]


@pytest.fixture(scope="package", autouse=True)
def collect_only_what_tests_create() -> Iterator[None]:
    """Make each test's garbage collections cost what the test allocated, not the whole run.

    A full collection walks every object the process tracks: late in the whole suite, about a
    million (modules, collected tests, hypothesis' state), 0.3 s or more each, twice per test
    here. :func:`loop_reports_nothing` freezes what exists when a test starts (``gc.freeze``:
    still alive, so not garbage) and the collections that look for what the test left behind
    walk only what came after. Everything is unfrozen, and collected, when this package's tests
    are done.
    """
    yield
    gc.unfreeze()
    gc.collect()


@pytest.fixture(autouse=True)
async def loop_reports_nothing() -> AsyncIterator[list[dict[str, Any]]]:
    """Fail a test whose event loop reported a problem (unclosed session, lost task error...).

    aiohttp reports an unclosed session or connection to the loop's exception handler as well
    as by a ResourceWarning; the handler is checked after a garbage collection of everything
    created since the test started (see :func:`collect_only_what_tests_create`).
    """
    gc.collect()  # what earlier tests left is garbage now, or is kept by something: not ours
    gc.freeze()
    loop = asyncio.get_running_loop()
    reports: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    yield reports
    gc.collect()
    await asyncio.sleep(0)
    loop.set_exception_handler(previous)
    assert [str(report.get("message")) for report in reports] == []


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """Start a :class:`RawServer` on 127.0.0.1 answering with ``choose(request) -> Action``."""
    started: list[RawServer] = []

    async def start(
        choose: Callable[[Received], Action],
        *,
        tls: ssl.SSLContext | None = None,
        keep_requests: bool = True,
    ) -> RawServer:
        server = RawServer(choose, tls=tls, keep_requests=keep_requests)
        await server.__aenter__()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        await server.aclose()


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """Clients with fast retries and a short timeout, closed after the test."""
    made: list[Client] = []

    def make(base_url: str, **kwargs: Any) -> Client:
        kwargs.setdefault("retry", FAST_RETRY)
        kwargs.setdefault("timeout", TIMEOUT)
        client = Client(PROJECT_ID, SECRET, base_url=base_url, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture(scope="session")
def self_signed() -> SelfSigned:
    return make_self_signed()


@pytest.fixture
def tls_server_context(self_signed: SelfSigned, tmp_path: Path) -> ssl.SSLContext:
    return self_signed.server_context(tmp_path)
