"""Shared fixtures: Stytch's published example bodies, and real local servers on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import sysconfig
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

# The aioresponses shim the docs give users (docs/examples/conftest_aioresponses.py) is the one
# our own tests run with: loaded from that file, so the two cannot drift apart.
_SHIM = Path(__file__).parent.parent / "docs" / "examples" / "conftest_aioresponses.py"
_spec = importlib.util.spec_from_file_location("_aioresponses_shim", _SHIM)
assert _spec is not None
assert _spec.loader is not None
_spec.loader.exec_module(importlib.util.module_from_spec(_spec))


#: orjson does not build for free-threaded Python, so its parity tests cannot run there; every
#: other test runs on every build (the SDK falls back to the standard library's json).
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
collect_ignore = ["core/test_jsoncodec_orjson.py"] if FREE_THREADED else []


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
