"""Fixtures for the bulk-enrollment tests: the precise fake server and a client pointed at it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import cast

import pytest
from aiohttp import web

from stytch_totp import Client, RetryPolicy
from tests.bulk._fake import FakeStytch
from tests.conftest import PROJECT_ID, SECRET, ServerFactory

#: Retries fast enough to keep the tests short.
FAST_RETRY = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.05)


@pytest.fixture
async def fake(serve: ServerFactory) -> AsyncIterator[FakeStytch]:
    """A running fake of ``POST /v1/totps``."""
    state = FakeStytch()
    state.url = await serve(state.app())
    yield state
    if state.hold is not None:
        state.hold.set()


@pytest.fixture
async def client(fake: FakeStytch) -> AsyncIterator[Client]:
    """A client of the fake, with fast retries."""
    async with Client(
        PROJECT_ID,
        SECRET,
        base_url=fake.url,
        retry=FAST_RETRY,
    ) as client:
        yield client


@pytest.fixture
def threaded_fake() -> Iterator[FakeStytch]:
    """A fake running on its own event loop in a thread, for the command line's own loop."""
    state = FakeStytch()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(state.app(), access_log=None)

    def serve_forever() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        server = cast(asyncio.Server, site._server)
        port = server.sockets[0].getsockname()[1]
        state.url = f"http://127.0.0.1:{port}/"
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve_forever, name="fake-stytch", daemon=True)
    thread.start()
    assert ready.wait(10)
    yield state
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def stytch_env(monkeypatch: pytest.MonkeyPatch, threaded_fake: FakeStytch) -> FakeStytch:
    """Credentials for the command line, in the environment, pointing at the threaded fake."""
    monkeypatch.setenv("STYTCH_PROJECT_ID", PROJECT_ID)
    monkeypatch.setenv("STYTCH_SECRET", SECRET)
    monkeypatch.setenv("STYTCH_BASE_URL", threaded_fake.url)
    return threaded_fake
