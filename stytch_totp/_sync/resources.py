"""``sync_client.totps``: the async operations, made blocking, with their signatures intact.

Each method is the async client's own method, run on the loop thread: so its parameters (the
keyword overloads type checkers see, the ``help()`` text) are the async method's, by
construction, and nothing about a call is implemented twice.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, Self, TypeVar

from .._bulk.engine import BulkEnrollment, BulkProgress, EnrollmentResult, UserInput
from .._config import DEFAULT_BULK_CONCURRENCY, DEFAULT_BULK_MAX_CONSECUTIVE_CONNECTION_FAILURES
from .._core.retry import RetryPolicy
from .._core.timeouts import Timeout

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from .._client import Client

__all__ = ["SyncBulkEnrollment", "SyncTOTPs", "SyncTOTPsWithRawResponse"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class _Owner(Protocol):
    """What the sync resources need of a :class:`~stytch_totp.SyncClient`."""

    @property
    def _async(self) -> Client: ...

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T: ...


class _Blocking:
    """Makes the blocking form of an async method: same parameters, the result instead of an
    awaitable. It looks the method up on the *current* async client on every call (a forked
    child gets a new one). A class with a one-argument ``__call__``: the shape in which mypy
    carries the method's overloads over to the result."""

    def __init__(self, owner: _Owner, pick: Callable[[Client], Callable[..., Awaitable[Any]]]):
        self._owner = owner
        self._pick = pick

    def __call__(self, method: Callable[P, Awaitable[R]]) -> Callable[P, R]:
        owner, pick = self._owner, self._pick

        def call(*args: Any, **kwargs: Any) -> Any:
            return owner._run(_awaited(lambda: pick(owner._async)(*args, **kwargs)))

        functools.update_wrapper(call, method)
        return call  # ``method``'s parameters, by construction


async def _awaited(start: Callable[[], Awaitable[T]]) -> T:
    # Started on the loop thread: nothing is created in the caller's thread that a refused
    # call would leave un-awaited.
    return await start()


class SyncTOTPs:
    """The TOTP operations of a :class:`SyncClient`, reached as ``client.totps``.

    Each one is the :class:`TOTPs` operation of the same name, with the same arguments, made
    blocking: ``client.totps.create(user_id=...)`` returns a :class:`CreateResponse`.
    """

    def __init__(self, owner: _Owner) -> None:
        self._owner = owner
        # The async client of now gives the signatures; each call looks up the current one.
        async_totps = owner._async.totps
        self.create = _Blocking(owner, lambda client: client.totps.create)(async_totps.create)
        """:meth:`TOTPs.create`, blocking."""
        self.authenticate = _Blocking(owner, lambda client: client.totps.authenticate)(
            async_totps.authenticate
        )
        """:meth:`TOTPs.authenticate`, blocking."""
        self.recovery_codes = _Blocking(owner, lambda client: client.totps.recovery_codes)(
            async_totps.recovery_codes
        )
        """:meth:`TOTPs.recovery_codes`, blocking."""
        self.recover = _Blocking(owner, lambda client: client.totps.recover)(async_totps.recover)
        """:meth:`TOTPs.recover`, blocking."""
        self.with_raw_response = SyncTOTPsWithRawResponse(owner)
        """The same operations, returning an :class:`APIResponse`."""

    def __repr__(self) -> str:
        return f"<SyncTOTPs of {self._owner!r}>"

    def create_many(
        self,
        users: Iterable[UserInput],
        /,
        *,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        expiration_minutes: int | None = None,
        max_rate: float | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | Timeout | None = None,
        on_progress: Callable[[BulkProgress], None] | None = None,
        max_failures: int | None = None,
        max_consecutive_connection_failures: int | None = (
            DEFAULT_BULK_MAX_CONSECUTIVE_CONNECTION_FAILURES
        ),
    ) -> SyncBulkEnrollment:
        """:meth:`TOTPs.create_many`, as a blocking iterator of :class:`EnrollmentResult`::

            with client.totps.create_many(user_ids, concurrency=16) as results:
                for result in results:
                    ...

        The requests run concurrently on the client's loop thread; each input item yields
        exactly one result. ``users`` is read lazily, on that thread. ``on_progress`` is called
        there too: keep it quick. Leaving the ``with`` block early stops the run.
        """
        owner = self._owner

        def start() -> BulkEnrollment:
            return owner._async.totps.create_many(
                users,
                concurrency=concurrency,
                expiration_minutes=expiration_minutes,
                max_rate=max_rate,
                retry=retry,
                timeout=timeout,
                on_progress=on_progress,
                max_failures=max_failures,
                max_consecutive_connection_failures=max_consecutive_connection_failures,
            )

        return SyncBulkEnrollment(owner, start)


class SyncTOTPsWithRawResponse:
    """``sync_client.totps.with_raw_response``: each operation, returning an
    :class:`APIResponse` of its usual model."""

    def __init__(self, owner: _Owner) -> None:
        self._owner = owner
        raw = owner._async.totps.with_raw_response
        self.create = _Blocking(owner, lambda client: client.totps.with_raw_response.create)(
            raw.create
        )
        """:meth:`TOTPs.create`, blocking, returning ``APIResponse[CreateResponse]``."""
        self.authenticate = _Blocking(
            owner, lambda client: client.totps.with_raw_response.authenticate
        )(raw.authenticate)
        """:meth:`TOTPs.authenticate`, blocking, returning ``APIResponse[AuthenticateResponse]``."""
        self.recovery_codes = _Blocking(
            owner, lambda client: client.totps.with_raw_response.recovery_codes
        )(raw.recovery_codes)
        """:meth:`TOTPs.recovery_codes`, blocking, returning ``APIResponse[...]``."""
        self.recover = _Blocking(owner, lambda client: client.totps.with_raw_response.recover)(
            raw.recover
        )
        """:meth:`TOTPs.recover`, blocking, returning ``APIResponse[RecoverResponse]``."""

    def __repr__(self) -> str:
        return f"<SyncTOTPsWithRawResponse of {self._owner!r}>"


class SyncBulkEnrollment:
    """A running bulk enrollment of a :class:`SyncClient`: a blocking iterator of
    :class:`EnrollmentResult` in completion order, and a context manager.

    The async :class:`BulkEnrollment` runs on the client's loop thread; each ``next()`` waits for
    its next result. Leaving the ``with`` block early (or :meth:`close`) cancels the requests in
    flight and waits for them to end. Stopping errors (:class:`BulkAbortedError`, an error of
    the input) are raised by the iteration, as with the async form.
    """

    def __init__(self, owner: _Owner, start: Callable[[], BulkEnrollment]) -> None:
        self._owner = owner
        self._batch = start()
        self._results: AsyncIterable[EnrollmentResult] | None = None
        self._iterator: Any = None
        self._done = False

    def __repr__(self) -> str:
        return repr(self._batch).replace("<BulkEnrollment", "<SyncBulkEnrollment", 1)

    @property
    def progress(self) -> BulkProgress:
        """The counters as of now (see :attr:`BulkEnrollment.progress`)."""
        return self._batch.progress

    def stop(self) -> None:
        """Take no more users; the ones in flight still finish and are yielded."""
        self._owner._run(_call_soon(self._batch.stop))

    def __iter__(self) -> Iterator[EnrollmentResult]:
        return self

    def __next__(self) -> EnrollmentResult:
        if self._done:
            raise StopIteration
        if self._iterator is None:
            self._iterator = aiter(self._batch)
        try:
            result: EnrollmentResult = self._owner._run(anext(self._iterator))
        except StopAsyncIteration:
            self._done = True
            raise StopIteration from None
        except BaseException:
            self._done = True
            self.close()
            raise
        return result

    def close(self) -> None:
        """Cancel what is still running and wait for it (idempotent)."""
        self._done = True
        self._owner._run(self._batch.aclose())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


async def _call_soon(function: Callable[[], None]) -> None:
    function()
