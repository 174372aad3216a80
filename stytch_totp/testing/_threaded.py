"""``ThreadedEmulator``: the emulator on its own thread, for tests whose own code blocks.

An :class:`~stytch_totp.testing.Emulator` answers requests on the event loop it was started in.
A test that blocks that loop (Starlette's ``TestClient``, ``requests``, a synchronous SDK,
``time.sleep``) stops it from answering, and the code under test waits for its timeout.
``ThreadedEmulator`` gives the emulator a thread and an event loop of its own, so nothing the
test does can block it, and the test can be synchronous.

Thread safety is by construction: the emulator is created, run and closed on its thread, and
every method that reads or changes its state hands the work to that thread's loop and waits for
the answer. Only what never changes after start-up (``url``, ``project_id``, ``secret``,
``project_name``) is read directly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import os
import threading
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

import attrs

from .._client import Client
from .._models import Name
from .._sync.client import SyncClient
from ._server.clock import Clock
from ._server.faults import Fault

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["ThreadedClock", "ThreadedEmulator"]

T = TypeVar("T")

#: How often a caller waiting for the emulator's thread checks that the thread is still alive.
_LIVENESS_CHECK_SECONDS: Final = 0.5


@attrs.frozen
class _Started:
    """What the emulator's thread hands over once the emulator listens (read there)."""

    emulator: Emulator
    url: str
    project_id: str
    secret: str = attrs.field(repr=False)
    project_name: str


class ThreadedClock:
    """The clock of a :class:`ThreadedEmulator`, driven from any thread.

    The same methods as :class:`~stytch_totp.testing.Clock`; each runs on the emulator's thread.
    """

    def __init__(self, emulator: ThreadedEmulator) -> None:
        self._emulator = emulator

    def __repr__(self) -> str:
        return f"<ThreadedClock of {self._emulator!r}>"

    @property
    def stopped(self) -> bool:
        """``True`` while the clock stands still (after :meth:`set`)."""
        return self._emulator.call(lambda emulator: emulator.clock.stopped)

    def now(self) -> datetime:
        """The emulator's current time, timezone-aware (UTC)."""
        return self._emulator.call(lambda emulator: emulator.clock.now())

    def set(self, when: datetime) -> None:
        """Stop the clock at ``when`` (a timezone-aware datetime)."""
        self._emulator.call(lambda emulator: emulator.clock.set(when))

    def advance(self, seconds: float) -> None:
        """Move the clock by ``seconds`` (negative moves it back)."""
        self._emulator.call(lambda emulator: emulator.clock.advance(seconds))

    def resume(self) -> None:
        """Let a stopped clock run again, from the instant it shows."""
        self._emulator.call(lambda emulator: emulator.clock.resume())


class ThreadedEmulator:
    """An :class:`~stytch_totp.testing.Emulator` running on a thread (and event loop) of its own.

    ::

        with ThreadedEmulator() as emulator:
            user_id = emulator.create_user("ada@example.com")
            # ... code under test, blocking or not, pointed at emulator.url ...
            assert emulator.request_count("/v1/totps") == 1

    The methods are those of :class:`~stytch_totp.testing.Emulator`, callable from any thread
    (and from inside a running event loop: they block only for the moment the emulator's thread
    takes to do them). The pytest fixture ``stytch_emulator_thread`` hands out a started one.

    The arguments are :class:`~stytch_totp.testing.Emulator`'s. The emulator itself is created
    on its thread; a ``clock`` given here belongs to it from then on: change it through
    :attr:`clock`, not directly.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        project_id: str | None = None,
        secret: str | None = None,
        project_name: str | None = None,
        state: str | os.PathLike[str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._options: dict[str, Any] = {
            "host": host,
            "port": port,
            "project_id": project_id,
            "secret": secret,
            "project_name": project_name,
            "state": state,
            "clock": clock,
        }
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._emulator: Emulator | None = None
        self._stopped: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._closed = False
        # Read on the emulator's thread at start-up, set before start() returns, never changed:
        # readable from any thread.
        self._url = ""
        self._project_id = ""
        self._secret = ""
        self._project_name = ""

    def __repr__(self) -> str:
        if self._emulator is None or self._closed:
            where = "closed" if self._closed else "not started"
            return f"<ThreadedEmulator {where}>"
        return f"<ThreadedEmulator {self._url} project_id={self._project_id!r}>"

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the thread and the emulator; returns once it listens (``with`` does this)."""
        if self._closed:
            raise RuntimeError("a closed emulator cannot be restarted; create a new one")
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        # Imported here, in the caller's thread: without the emulator extra, the ImportError
        # (which says how to install it) is raised before any thread starts.
        from . import Emulator

        started: concurrent.futures.Future[_Started] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._serve,
            args=(Emulator, started),
            name="stytch-totp-emulator",
            daemon=True,
        )
        self._thread.start()
        try:
            running = started.result()
        except BaseException:
            self._thread.join()
            self._closed = True
            raise
        self._url = running.url
        self._project_id = running.project_id
        self._secret = running.secret
        self._project_name = running.project_name
        self._emulator = running.emulator
        return self

    def close(self) -> None:
        """Stop the emulator and its thread, and release the state file (idempotent)."""
        if self._closed:
            return
        thread, loop = self._thread, self._loop
        if thread is not None and thread.ident == threading.get_ident():
            raise RuntimeError("a ThreadedEmulator cannot be closed from its own thread")
        self._closed = True
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        self._stopped.result()  # what closing the emulator raised, if anything

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _serve(
        self, emulator_class: type[Emulator], started: concurrent.futures.Future[_Started]
    ) -> None:
        """The emulator's thread: create and start the emulator, run its loop until closed."""
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        emulator: Emulator | None = None
        try:
            try:
                emulator = emulator_class(**self._options)
                loop.run_until_complete(emulator.start())
                running = _Started(
                    emulator,
                    emulator.url,
                    emulator.project_id,
                    emulator.secret,
                    emulator.project_name,
                )
            except BaseException as error:
                if emulator is not None:
                    loop.run_until_complete(emulator.aclose())
                started.set_exception(error)
                return
            self._loop = loop
            started.set_result(running)
            loop.run_forever()
            try:
                loop.run_until_complete(emulator.aclose())
            except BaseException as error:
                self._stopped.set_exception(error)
            else:
                self._stopped.set_result(None)
            _cancel_leftover_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    # ----------------------------------------------------------------------------------------
    # Running code on the emulator's thread
    # ----------------------------------------------------------------------------------------

    def call(self, function: Callable[[Emulator], T], /) -> T:
        """Run ``function(emulator)`` on the emulator's thread and return what it returns.

        The way to reach what this class does not mirror, e.g.
        ``threaded.call(lambda emulator: emulator.app)``. ``function`` must not be a coroutine
        function (the emulator's own methods are not). Exceptions propagate to the caller.
        """
        emulator, loop, thread = self._emulator, self._loop, self._thread
        if emulator is None or loop is None or thread is None or self._closed:
            raise RuntimeError(
                "the emulator is not running: use 'with ThreadedEmulator() as emulator'"
            )
        if thread.ident == threading.get_ident():
            # Already on the emulator's thread (inside a function given to call()): waiting for
            # the loop would wait for ourselves.
            return _not_awaitable(function(emulator))
        answer: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                answer.set_result(_not_awaitable(function(emulator)))
            except BaseException as error:
                answer.set_exception(error)

        loop.call_soon_threadsafe(run)
        while not answer.done():
            concurrent.futures.wait([answer], timeout=_LIVENESS_CHECK_SECONDS)
            if not answer.done() and not thread.is_alive():
                raise RuntimeError("the emulator's thread has stopped")
        return answer.result()

    # ----------------------------------------------------------------------------------------
    # What clients need (fixed at start-up, read from any thread without a hand-over)
    # ----------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, with a trailing slash, e.g. ``http://127.0.0.1:54321/``."""
        self._check_started()
        return self._url

    @property
    def project_id(self) -> str:
        """The project id clients authenticate as."""
        self._check_started()
        return self._project_id

    @property
    def secret(self) -> str:
        """The project secret clients authenticate with."""
        self._check_started()
        return self._secret

    @property
    def project_name(self) -> str:
        """The issuer authenticator apps show."""
        self._check_started()
        return self._project_name

    def client(self, **kwargs: Any) -> Client:
        """A new :class:`stytch_totp.Client` pointed at this emulator (``kwargs`` go to it).

        It is an async client like any other: it belongs to the event loop of the code that first
        uses it (not the emulator's), and whoever uses it closes it.
        """
        return Client(self.project_id, self.secret, base_url=self.url, **kwargs)

    def sync_client(self, **kwargs: Any) -> SyncClient:
        """A new :class:`stytch_totp.SyncClient` pointed at this emulator (``kwargs`` go to it);
        whoever uses it closes it."""
        return SyncClient(self.project_id, self.secret, base_url=self.url, **kwargs)

    def _check_started(self) -> None:
        if self._emulator is None or self._closed:
            raise RuntimeError(
                "the emulator is not running: use 'with ThreadedEmulator() as emulator'"
            )

    # ----------------------------------------------------------------------------------------
    # Test helpers: Emulator's, run on the emulator's thread
    # ----------------------------------------------------------------------------------------

    @property
    def clock(self) -> ThreadedClock:
        """The emulator's clock: ``emulator.clock.advance(30)`` moves every timer forward."""
        self._check_started()
        return ThreadedClock(self)

    def create_user(
        self,
        email: str | None = None,
        *,
        name: str | Name | None = None,
        phone_number: str | None = None,
        external_id: str | None = None,
    ) -> str:
        """Create a user directly and return its ``user_id`` (see ``Emulator.create_user``)."""
        return self.call(
            lambda emulator: emulator.create_user(
                email, name=name, phone_number=phone_number, external_id=external_id
            )
        )

    def ensure_users(self, count: int, *, email: str = "user{n}@example.com") -> list[str]:
        """The ids of ``count`` users, created unless they exist (see ``Emulator.ensure_users``)."""
        return self.call(lambda emulator: emulator.ensure_users(count, email=email))

    def totp_code(self, secret: str, at: datetime | float | None = None) -> str:
        """The code an authenticator app shows for ``secret`` at ``at`` (the emulator's now)."""
        return self.call(lambda emulator: emulator.totp_code(secret, at))

    def inject(
        self,
        path: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        retry_after: float | str | None = None,
        drop_connection: bool = False,
    ) -> Fault:
        """Make the next ``times`` requests to ``path`` misbehave (see ``Emulator.inject``).

        The :class:`~stytch_totp.testing.Fault` returned is the emulator's own: its
        ``remaining`` counts down as requests use it. Read it; do not change it.
        """
        return self.call(
            lambda emulator: emulator.inject(
                path,
                status=status,
                error_type=error_type,
                times=times,
                delay=delay,
                retry_after=retry_after,
                drop_connection=drop_connection,
            )
        )

    def clear_faults(self) -> None:
        """Remove every fault not yet used up."""
        self.call(lambda emulator: emulator.clear_faults())

    def request_count(self, path: str | None = None) -> int:
        """Requests received for ``path`` (all paths if ``None``), faulted ones included."""
        return self.call(lambda emulator: emulator.request_count(path))


def _not_awaitable(result: T) -> T:
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()  # never to be awaited: say so here, not in a warning at exit
        raise TypeError("ThreadedEmulator.call() runs plain functions, not coroutine functions")
    return result


def _cancel_leftover_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still running on ``loop`` (a request handler the client gave up on)."""
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
