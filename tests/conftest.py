"""Shared fixtures: Stytch's published example bodies, and real local servers on 127.0.0.1."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import aiohttp
import aioresponses.core
import pytest
from aiohttp import web

# aioresponses 0.7.9 builds ClientResponse without the `stream_writer` argument aiohttp 3.14
# requires (aioresponses issue #289); give it one until a fixed release ships.
if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:

    class _CompatClientResponse(aiohttp.ClientResponse):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", Mock(output_size=0))
            super().__init__(*args, **kwargs)

    aioresponses.core.ClientResponse = _CompatClientResponse  # type: ignore[attr-defined]


#: Stytch's published example bodies, made valid JSON (copied from shared/reference/examples).
EXAMPLES_DIR = Path(__file__).parent / "examples"


def load_example(name: str) -> dict[str, Any]:
    """One of Stytch's published example bodies, as a fresh dict."""
    with (EXAMPLES_DIR / f"{name}.json").open(encoding="utf-8") as file:
        data: dict[str, Any] = json.load(file)
    return data


PROJECT_ID = "project-test-11111111-2222-3333-4444-555555555555"
SECRET = "secret-test-s3cr3t-v4lu3-th4t-must-n3v3r-l34k="

ServerFactory = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[ServerFactory]:
    """Start an aiohttp.web app on 127.0.0.1 (ephemeral port); returns its base URL."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        # Handlers still stalled at teardown (timeout tests) are cancelled, not awaited.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}/"

    yield start
    for runner in reversed(runners):
        await runner.cleanup()
