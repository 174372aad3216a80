"""``SyncClient``: the SDK for Flask, Django, Celery and scripts.

A blocking facade over the async :class:`~stytch_totp.Client`, which it runs on a private event
loop on one daemon thread (:class:`~stytch_totp._sync.loop_thread.LoopThread`). Every thread of
the process shares that client's bounded connection pool; the retry loop and send-safety are the
async client's own code. See the docs' "Synchronous code" page for why this design.
"""

from __future__ import annotations

import atexit
import logging
import weakref
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

from .._client import Client, _ClientOptions, credentials_from_env
from .._config import LOGGER_NAME
from .._exceptions import APIConnectionError, ClientClosedError, FailureKind
from .loop_thread import LoopThread, in_running_loop
from .resources import SyncTOTPs

__all__ = ["SyncClient"]

T = TypeVar("T")

_IN_LOOP = (
    "SyncClient blocks its thread, and this thread runs an event loop, which it would block: "
    "use stytch_totp.Client here, and await its calls"
)


class SyncClient:
    """A blocking client for Stytch's TOTP API, safe to share between threads.

    Create one per process and share it (a WSGI server's threads, a Celery worker's)::

        client = stytch_totp.SyncClient(project_id, secret)
        created = client.totps.create(user_id=user_id)

    It takes the same arguments as :class:`Client`, and its :attr:`totps` the same operations,
    params objects, options and errors, returning the same models, with the same retry rules.
    Calls run on one background event loop shared by all threads, over one bounded connection
    pool. Use it as a context manager, or call :meth:`close`. It must not be called from a
    thread that runs an event loop (use :class:`Client` there). After ``os.fork()`` (gunicorn
    ``--preload``, multiprocessing), the child starts its own pool on first use and never touches
    the parent's connections.
    """

    def __init__(self, project_id: str, secret: str, **options: Unpack[_ClientOptions]) -> None:
        # Validated now, by the async client itself; it builds its pool lazily, on the loop.
        self._options = options
        self._client = Client(project_id, secret, **options)
        self._credentials = (project_id, secret)
        self._runner = LoopThread("stytch-totp-sync-client", on_new_process=self._new_process)
        self._closed = False
        self._totps = SyncTOTPs(self)
        _OPEN.add(self)

    @classmethod
    def from_env(cls, **options: Unpack[_ClientOptions]) -> Self:
        """A client configured from ``STYTCH_PROJECT_ID``, ``STYTCH_SECRET`` and, optionally,
        ``STYTCH_BASE_URL``, as :meth:`Client.from_env`."""
        project_id, secret, base_url = credentials_from_env()
        if base_url is not None:
            options.setdefault("base_url", base_url)
        return cls(project_id, secret, **options)

    def _new_process(self) -> None:
        # In a forked child: the parent's client (its pool, its sockets) stays untouched,
        # kept alive so that no finalizer ever closes a socket the parent still uses.
        _ABANDONED_IN_FORKED_CHILD.append(self._client)
        self._client = Client(*self._credentials, **self._options)

    @property
    def totps(self) -> SyncTOTPs:
        """The TOTP operations: ``create``, ``authenticate``, ``recovery_codes``, ``recover``,
        ``create_many``, and their ``with_raw_response`` forms (see :class:`SyncTOTPs`)."""
        return self._totps

    @property
    def project_id(self) -> str:
        """The project id the client authenticates as."""
        return self._client.project_id

    @property
    def base_url(self) -> str:
        """The base URL requests go to, with a trailing slash."""
        return self._client.base_url

    @property
    def closed(self) -> bool:
        """``True`` once :meth:`close` has been called."""
        return self._closed

    def __repr__(self) -> str:
        return f"SyncClient(project_id={self.project_id!r}, base_url={self.base_url!r})"

    def __enter__(self) -> Self:
        if self._closed:
            raise ClientClosedError("a closed SyncClient cannot be reopened; create a new one")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the client, its pool and its loop thread (idempotent).

        Calls in flight in other threads end with :class:`ClientClosedError`.
        """
        if self._closed:
            return
        self._closed = True
        client = self._client
        self._runner.close(final=client.aclose)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run one call of the async client on the loop thread, for the calling thread."""
        if in_running_loop():
            coroutine.close()
            raise APIConnectionError(
                _IN_LOOP, may_have_been_processed=False, kind=FailureKind.UNUSABLE
            )
        try:
            return self._runner.run(coroutine)
        except RuntimeError as error:
            if str(error) != "closed":
                raise
        raise ClientClosedError("the SyncClient is closed", may_have_been_processed=False)

    @property
    def _async(self) -> Client:
        """The async client doing the work (replaced in a forked child)."""
        return self._client


#: Clients of a parent process, in its forked children: never used, never finalized.
_ABANDONED_IN_FORKED_CHILD: list[Client] = []

#: Every SyncClient not yet garbage collected, closed at interpreter exit if still open.
_OPEN: weakref.WeakSet[SyncClient] = weakref.WeakSet()


def _close_at_exit() -> None:
    """Close, at interpreter exit, the clients the program left open (a module-level client
    in a script, a gunicorn worker, a Django app): their pools are closed on their own loops,
    instead of being finalized at shutdown with aiohttp's "Unclosed client session" on stderr.
    Only what this process started is closed (a forked child never touches the parent's)."""
    for client in list(_OPEN):
        try:
            client.close()
        except Exception as error:  # at exit, the other clients still get closed
            # Said, not raised: an exit hook's exception is printed as a bare traceback.
            _logger.warning("closing a SyncClient at exit failed: %s", type(error).__name__)


_logger = logging.getLogger(LOGGER_NAME)

atexit.register(_close_at_exit)
