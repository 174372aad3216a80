"""stytch-totp's pytest plugin (the ``pytest11`` entry point ``stytch_totp``): emulator fixtures.

* ``stytch_emulator``: a running :class:`~stytch_totp.testing.Emulator`, fresh for each test,
  on the event loop of the (async) test that uses it;
* ``stytch_client``: a :class:`stytch_totp.Client` pointed at it, closed after the test;
* ``stytch_emulator_thread``: a running :class:`~stytch_totp.testing.ThreadedEmulator`, an
  emulator on a thread of its own, for synchronous tests and for async tests that block their
  loop (Starlette's ``TestClient``).

Every pytest run of every project that installs stytch-totp loads this module, so it lives
outside the ``stytch_totp`` package (importing the package would import aiohttp, attrs, cattrs
and orjson at every pytest start-up) and imports only pytest and the standard library. The
first two fixtures are pytest-asyncio fixtures: pytest-asyncio, when installed, is a pytest
plugin that pytest loads anyway. Everything else (the SDK, the emulator and its extra) is
imported when a fixture is first used; a run that uses none pays for none.

``stytch_totp.testing.pytest_plugin`` names the same fixtures, for ``-p`` and ``pytest_plugins``.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, Final, NoReturn, TypeVar, cast

import pytest

if TYPE_CHECKING:
    import asyncio

    from stytch_totp import Client, SyncClient
    from stytch_totp.testing import Emulator, ThreadedEmulator

__all__ = ["stytch_client", "stytch_emulator", "stytch_emulator_thread", "stytch_sync_client"]

_NEEDS_PYTEST_ASYNCIO: Final = (
    "the stytch_emulator and stytch_client fixtures need pytest-asyncio: pip install pytest-asyncio"
    " (or use stytch_emulator_thread, which does not)"
)

#: A loop that does not run a callback for this long is reported, with the test if it fails.
BLOCKED_LOOP_SECONDS: Final = 1.0

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
async def stytch_emulator(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
    """A running Stytch TOTP emulator on 127.0.0.1 (ephemeral port), fresh for each test.

    It answers on the test's event loop: if the test blocks that loop, the emulator cannot
    answer, and a failing test's report says so (see ``stytch_emulator_thread``).
    """
    import asyncio

    from stytch_totp.testing import Emulator

    async with Emulator() as emulator:
        watch = _LoopWatch(asyncio.get_running_loop())
        _watch_for_reports(request, watch)
        try:
            yield emulator
        finally:
            watch.stop()


@_async_fixture
async def stytch_client(stytch_emulator: Emulator) -> AsyncIterator[Client]:
    """A ``stytch_totp.Client`` pointed at ``stytch_emulator``, closed after the test."""
    async with stytch_emulator.client() as client:
        yield client


@pytest.fixture
def stytch_emulator_thread() -> Iterator[ThreadedEmulator]:
    """A running emulator on its own thread and event loop, fresh for each test.

    For synchronous tests, and for async tests whose code blocks the test's event loop.
    """
    from stytch_totp.testing import ThreadedEmulator

    with ThreadedEmulator() as emulator:
        yield emulator


@pytest.fixture
def stytch_sync_client(stytch_emulator_thread: ThreadedEmulator) -> Iterator[SyncClient]:
    """A ``stytch_totp.SyncClient`` pointed at ``stytch_emulator_thread``, closed after the test.

    For synchronous code under test: Flask and Django views, Celery tasks, scripts.
    """
    with stytch_emulator_thread.sync_client() as client:
        yield client


# ----------------------------------------------------------------------------------------------
# Explaining a blocked loop
# ----------------------------------------------------------------------------------------------


class _LoopWatch:
    """Notices when the test's event loop, on which ``stytch_emulator`` answers, stops turning.

    A thread asks the loop to run a callback, waits until it has run, and asks again; the
    callback, on the loop, records any wait longer than :data:`BLOCKED_LOOP_SECONDS`; a wait
    still going on (a synchronous test, during which the loop does not run) is seen through
    :attr:`_waiting_since`. Times are wall-clock times, as pytest reports when a test ran.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        #: (when a block began, when it ended).
        self._blocks: list[tuple[float, float]] = []
        #: When the callback now waiting to run was asked for.
        self._waiting_since: float | None = None
        self._thread = threading.Thread(
            target=self._watch, name="stytch-totp-loop-watch", daemon=True
        )
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopped.is_set():
            turned = threading.Event()
            with self._lock:
                self._waiting_since = asked_at = time.time()
            try:
                self._loop.call_soon_threadsafe(self._turned, asked_at, turned)
            except RuntimeError:  # the loop is closed: nothing left to watch
                return
            while not turned.wait(BLOCKED_LOOP_SECONDS) and not self._stopped.is_set():
                pass
            self._stopped.wait(BLOCKED_LOOP_SECONDS / 4)

    def _turned(self, asked_at: float, turned: threading.Event) -> None:
        now = time.time()
        with self._lock:
            self._waiting_since = None
            if now - asked_at > BLOCKED_LOOP_SECONDS:
                self._blocks.append((asked_at, now))
        turned.set()

    def stop(self) -> None:
        """Stop watching (the emulator is closing)."""
        self._stopped.set()

    def explanation(self, test_start: float, test_stop: float) -> str | None:
        """What to tell the person whose test failed, if the loop was blocked while it ran.

        Only blocks within the test function count: between fixtures, pytest-asyncio's loop
        does not run at all, which is not the test's doing.
        """
        with self._lock:
            blocks = list(self._blocks)
            if self._waiting_since is not None:
                blocks.append((self._waiting_since, test_stop))
        during = [
            (max(began, test_start), min(ended, test_stop))
            for began, ended in blocks
            if began < test_stop and ended > test_start
        ]
        during = [block for block in during if block[1] - block[0] > BLOCKED_LOOP_SECONDS]
        if not during:
            return None
        began, ended = max(during, key=lambda block: block[1] - block[0])
        return (
            f"The event loop that runs stytch_emulator was blocked for {ended - began:.1f} s"
            f" ({began - test_start:.1f} s into the test): the emulator could not answer"
            " meanwhile, so a request to it waited, and may have failed with APITimeoutError"
            " although the emulator would have answered at once. Something in the test"
            " blocked its own event loop: a synchronous call such as Starlette's TestClient,"
            " requests, or time.sleep.\n"
            "Use the stytch_emulator_thread fixture (an emulator on its own thread), or await"
            " instead of blocking (e.g. httpx2.AsyncClient with httpx2.ASGITransport)."
        )


_WATCH: Final = pytest.StashKey[_LoopWatch]()
_REPORTER_NAME: Final = "stytch_totp-blocked-loop-reporter"


class _BlockedLoopReporter:
    """Adds the :class:`_LoopWatch` explanation to the report of a test that used the emulator.

    Registered the first time ``stytch_emulator`` is used, so a run that never uses it has no
    extra hook to call.
    """

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        watch = item.stash.get(_WATCH, None)
        if watch is not None and call.when == "call":
            explanation = watch.explanation(call.start, call.stop)
            if explanation is not None:
                report.sections.append(("stytch_emulator: blocked event loop", explanation))
        return report


def _watch_for_reports(request: pytest.FixtureRequest, watch: _LoopWatch) -> None:
    request.node.stash[_WATCH] = watch
    plugins = request.config.pluginmanager
    if not plugins.has_plugin(_REPORTER_NAME):
        plugins.register(_BlockedLoopReporter(), _REPORTER_NAME)
