"""pytest plugin (registered through the ``pytest11`` entry point): Stytch emulator fixtures.

* ``stytch_emulator``: a running :class:`~stytch_totp.testing.Emulator`, fresh for each test;
* ``stytch_client``: a :class:`stytch_totp.Client` pointed at it, closed after the test.

Both are async fixtures run by pytest-asyncio, in the event loop of the test that uses them.
Override ``stytch_emulator`` (in a conftest or a test module) to use a state file, a stopped
clock or given credentials: ``stytch_client`` follows it.
Loading the plugin, which every pytest run does once stytch-totp is installed, imports
``stytch_totp`` itself (aiohttp, attrs, cattrs, orjson: about 0.15 s on a typical machine) and
pytest-asyncio if it is installed. The emulator (aiohttp.web and the emulator extra's segno,
PyJWT and cryptography) is imported only when a fixture is used, so other test suites keep
working without pytest-asyncio or the emulator extra.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from stytch_totp import Client

    from ._emulator import Emulator

__all__ = ["stytch_client", "stytch_emulator"]

_NEEDS_PYTEST_ASYNCIO = (
    "the stytch_emulator and stytch_client fixtures need pytest-asyncio: pip install pytest-asyncio"
)


F = TypeVar("F", bound=Callable[..., Any])


def _async_fixture(function: F) -> F:
    """``pytest_asyncio.fixture``, or without pytest-asyncio a fixture that says it is missing."""
    try:
        from pytest_asyncio import fixture
    except ImportError:

        @functools.wraps(function)
        def unavailable(*args: Any, **kwargs: Any) -> NoReturn:
            pytest.fail(_NEEDS_PYTEST_ASYNCIO, pytrace=False)

        return cast("F", pytest.fixture(unavailable))
    return cast("F", fixture(function))


@_async_fixture
async def stytch_emulator() -> AsyncIterator[Emulator]:
    """A running Stytch TOTP emulator on 127.0.0.1 (ephemeral port), fresh for each test."""
    from . import Emulator

    async with Emulator() as emulator:
        yield emulator


@_async_fixture
async def stytch_client(stytch_emulator: Emulator) -> AsyncIterator[Client]:
    """A ``stytch_totp.Client`` pointed at ``stytch_emulator``, closed after the test."""
    async with stytch_emulator.client() as client:
        yield client
