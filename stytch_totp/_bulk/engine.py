"""Bulk enrollment: ``client.totps.create_many(users)``, many ``create`` calls at once.

How it works: ``concurrency`` workers each take the next input item (so the input is read only as
fast as workers free up, and memory stays flat however long it is), enroll that user, and hand the
result to a bounded queue that the caller's ``async for`` drains in completion order.

Retries are the client's: each call goes through the client's one retry loop, paced by this
run's :class:`~stytch_totp._bulk.pacing.BatchPacer`, so a 429 ``too_many_requests`` pauses *every*
worker before the same user is tried again, and ``max_rate`` caps the requests started per second.
This module never decides a retry; it only decides when the whole run must stop.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from types import TracebackType
from typing import Protocol, Self

import attrs

from .._config import (
    DEFAULT_BULK_MAX_CONSECUTIVE_CONNECTION_FAILURES,
    EXPIRATION_MINUTES_MAX,
    EXPIRATION_MINUTES_MIN,
)
from .._core.raw_response import APIResponse
from .._core.retry import Pacer, RetryPolicy
from .._core.timeouts import Timeout, resolve_timeout
from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    BulkAbortedError,
    ClientClosedError,
    FailureKind,
    InvalidParamsError,
    StytchError,
)
from .._models import CreateParams, CreateResponse
from .pacing import BatchPacer

__all__ = [
    "BulkEnrollment",
    "BulkProgress",
    "CreateCall",
    "EnrollmentResult",
    "UserInput",
    "fatal_reason",
]

UserInput = str | CreateParams
"""One input item: a user id (or external id), or full :class:`CreateParams`."""


class CreateCall(Protocol):
    """What the engine needs to enroll one user: a ``create`` call through the client's retry
    loop, paced by ``pacer``, returning the raw response (for its attempt count)."""

    def __call__(
        self,
        params: CreateParams,
        /,
        *,
        retry: RetryPolicy,
        timeout: float | Timeout | None,
        pacer: Pacer,
    ) -> Awaitable[APIResponse[CreateResponse]]: ...


def fatal_reason(error: StytchError) -> str | None:
    """Why ``error`` will be every remaining user's error too, or ``None`` if it is one user's.

    Wrong credentials or permissions, a base URL that is not Stytch's API, and a TLS failure
    cannot succeed for any other user of the same run.
    """
    if isinstance(error, APIStatusError):
        if error.status_code == 401 and error.error_type == "unauthorized_credentials":
            return "the project credentials were refused (401 unauthorized_credentials)"
        if error.status_code == 403:
            return f"the project may not do this (403 {error.error_type or 'forbidden'})"
        if error.status_code == 404 and error.error_type in (None, "route_not_found"):
            return "the base URL does not serve Stytch's API (404 route_not_found)"
        return None
    if isinstance(error, APIConnectionError) and error.kind is FailureKind.TLS:
        return "the TLS handshake failed (check the base URL and the trusted certificates)"
    return None


@attrs.frozen
class EnrollmentResult:
    """The outcome of enrolling one input item: exactly one of ``response`` and ``error`` is set.

    Its ``repr`` shows no secret: :class:`CreateResponse` hides the TOTP secret, the QR code and
    the recovery codes, and errors never carry them.
    """

    index: int
    """Position of the item in the input (0-based)."""
    user_id: str | None
    """The user id of the item; ``None`` when the item was not a user id or ``CreateParams``."""
    response: CreateResponse | None = None
    """The new TOTP registration (secret, QR code, recovery codes), on success."""
    error: StytchError | None = None
    """Why the item failed: an API error, a connection error, or :class:`InvalidParamsError`."""
    attempts: int = 0
    """Requests sent for this item (``0`` when it was invalid and nothing was sent)."""

    @property
    def ok(self) -> bool:
        """``True`` when the user was enrolled.

        A type checker cannot tell from ``ok`` that ``response`` is set: to use the response,
        test ``if result.response is not None:`` instead.
        """
        return self.response is not None


@attrs.frozen
class BulkProgress:
    """A snapshot of a bulk run's counters (see :attr:`BulkEnrollment.progress`)."""

    started: int
    """Items taken from the input so far."""
    succeeded: int
    """Users enrolled."""
    failed: int
    """Items that ended with an error."""
    in_flight: int
    """Items taken but not finished (sending, waiting for a retry, or paused)."""
    elapsed: float
    """Seconds since the run started."""
    rate_limit_pauses: int
    """How many times a 429 paused the whole batch."""
    paused_for: float
    """Seconds left in the current batch-wide pause (``0.0`` when running)."""

    @property
    def done(self) -> int:
        """Items finished, successfully or not."""
        return self.succeeded + self.failed

    @property
    def rate(self) -> float:
        """Items finished per second, averaged over the run so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0


ProgressCallback = Callable[[BulkProgress], None]


@attrs.frozen
class _End:
    """Queued after the last result; ``error`` is what stopped the run early, if anything."""

    error: BaseException | None


def _validate_options(
    users: object,
    concurrency: object,
    expiration_minutes: object,
    max_rate: object,
    retry: object,
    timeout: object,
    on_progress: object,
    max_failures: object,
    max_consecutive_connection_failures: object,
) -> None:
    if isinstance(users, str | bytes | CreateParams):
        raise InvalidParamsError(
            "users", "must be an iterable of user ids or CreateParams, not a single item"
        )
    if not isinstance(users, Iterable | AsyncIterable):
        raise InvalidParamsError(
            "users", f"must be an iterable or async iterable, not {type(users).__name__}"
        )
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidParamsError("concurrency", f"must be an int >= 1, got {concurrency!r}")
    if expiration_minutes is not None and (
        isinstance(expiration_minutes, bool)
        or not isinstance(expiration_minutes, int)
        or not EXPIRATION_MINUTES_MIN <= expiration_minutes <= EXPIRATION_MINUTES_MAX
    ):
        raise InvalidParamsError(
            "expiration_minutes",
            f"must be an int between {EXPIRATION_MINUTES_MIN} and {EXPIRATION_MINUTES_MAX},"
            f" got {expiration_minutes!r}",
        )
    if max_rate is not None and (
        isinstance(max_rate, bool)
        or not isinstance(max_rate, int | float)
        or not max_rate > 0
        or math.isinf(max_rate)
    ):
        raise InvalidParamsError(
            "max_rate", f"must be a positive number of requests per second, got {max_rate!r}"
        )
    if not isinstance(retry, RetryPolicy):
        raise InvalidParamsError("retry", "must be a RetryPolicy")
    resolve_timeout(timeout)  # raises InvalidParamsError for anything but seconds or a Timeout
    if on_progress is not None and not callable(on_progress):
        raise InvalidParamsError("on_progress", "must be callable")
    for name, value in (
        ("max_failures", max_failures),
        ("max_consecutive_connection_failures", max_consecutive_connection_failures),
    ):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise InvalidParamsError(name, f"must be an int >= 1 or None, got {value!r}")


def _prepare(item: object, expiration_minutes: int | None) -> CreateParams:
    """The params to send for one input item; :class:`InvalidParamsError` when it is unusable."""
    if isinstance(item, CreateParams):
        if item.expiration_minutes is None and expiration_minutes is not None:
            return attrs.evolve(item, expiration_minutes=expiration_minutes)
        return item
    if isinstance(item, str):
        return CreateParams(user_id=item, expiration_minutes=expiration_minutes)
    raise InvalidParamsError(
        "users", f"items must be user id strings or CreateParams, not {type(item).__name__}"
    )


class BulkEnrollment:
    """A running bulk enrollment: an async iterator of :class:`EnrollmentResult`, in completion
    order, that is also an async context manager.

    Returned by :meth:`TOTPs.create_many`. Nothing is sent until iteration starts. Two ways to use
    it::

        # Recommended: leaving the block early (break, exception, cancellation) cancels the
        # requests still in flight and waits for them, leaving nothing running.
        async with client.totps.create_many(user_ids, concurrency=32) as results:
            async for result in results:
                ...

        # Also fine: leaving the loop early cancels the run too, as soon as the loop's
        # iterator is dropped (at once in CPython), but without waiting for the cancelled
        # requests to end.
        async for result in client.totps.create_many(user_ids):
            ...

    Requests cancelled either way may still have been acted on by Stytch: such a TOTP stays
    unverified and becomes unusable after ``expiration_minutes``.

    A 429 ``too_many_requests`` pauses the whole batch and then tries that user again, up to 10
    times per user whatever ``retry.max_retries`` is, unless ``Retry-After`` exceeds
    ``retry.max_retry_after``; with ``max_retries == 0`` (e.g. ``RetryPolicy.none()``) it fails
    that user at once instead.

    A failed item yields a result with ``error`` set, and the run goes on, unless the failure
    cannot succeed for any other user either: then the run stops taking users, yields the
    results of the requests already in flight, and the ``async for`` raises
    :class:`BulkAbortedError` (its ``__cause__`` is the error). That is the case for rejected
    credentials (401 ``unauthorized_credentials``), a 403, a base URL that answers 404
    ``route_not_found``, a TLS failure, ``max_consecutive_connection_failures`` connection
    failures in a row (default 10; ``None`` never stops), or more than ``max_failures`` failed
    users (default ``None``: no limit). The run also stops when reading the input raises, when
    ``on_progress`` raises, or when the client is closed; that exception is then raised.
    """

    def __init__(
        self,
        create: CreateCall,
        users: Iterable[UserInput] | AsyncIterable[UserInput],
        *,
        concurrency: int,
        expiration_minutes: int | None,
        max_rate: float | None,
        retry: RetryPolicy,
        timeout: float | Timeout | None,
        on_progress: ProgressCallback | None,
        max_failures: int | None = None,
        max_consecutive_connection_failures: int | None = (
            DEFAULT_BULK_MAX_CONSECUTIVE_CONNECTION_FAILURES
        ),
    ) -> None:
        _validate_options(
            users,
            concurrency,
            expiration_minutes,
            max_rate,
            retry,
            timeout,
            on_progress,
            max_failures,
            max_consecutive_connection_failures,
        )
        self._create = create
        self._users = users
        self._concurrency = concurrency
        self._expiration_minutes = expiration_minutes
        self._retry = retry
        self._timeout = timeout
        self._on_progress = on_progress
        self._max_failures = max_failures
        self._max_consecutive_connection_failures = max_consecutive_connection_failures
        self._consecutive_connection_failures = 0
        self._pacer = BatchPacer(retry, max_rate)
        self._source: Iterator[object] | AsyncIterator[object] | None = None
        self._pull_lock = asyncio.Lock()
        self._results: asyncio.Queue[EnrollmentResult | _End] = asyncio.Queue(concurrency)
        self._runner: asyncio.Task[None] | None = None
        self._fatal: BaseException | None = None
        self._stopping = False
        self._finished = False
        self._in_block = False
        self._block_iterators: list[AsyncGenerator[EnrollmentResult, None]] = []
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._next_index = 0
        self._succeeded = 0
        self._failed = 0

    def __repr__(self) -> str:
        p = self.progress
        return (
            f"<BulkEnrollment concurrency={self._concurrency} started={p.started} "
            f"succeeded={p.succeeded} failed={p.failed} in_flight={p.in_flight}>"
        )

    # -- public API -------------------------------------------------------------------------

    @property
    def progress(self) -> BulkProgress:
        """The counters as of now; cheap, safe to read at any time."""
        now = time.monotonic()
        loop_now = self._loop_time()
        elapsed = 0.0
        if self._started_at is not None:
            elapsed = (self._ended_at or now) - self._started_at
        done = self._succeeded + self._failed
        return BulkProgress(
            started=self._next_index,
            succeeded=self._succeeded,
            failed=self._failed,
            in_flight=self._next_index - done,
            elapsed=elapsed,
            rate_limit_pauses=self._pacer.gate.pauses,
            paused_for=self._pacer.gate.remaining(loop_now) if loop_now is not None else 0.0,
        )

    def stop(self) -> None:
        """Take no more items from the input; items already taken still finish and are yielded.

        Iteration then ends normally. Use it for a graceful shutdown (e.g. on Ctrl-C); use
        :meth:`aclose` to abandon the requests in flight instead.
        """
        self._stopping = True

    async def aclose(self) -> None:
        """Cancel whatever is still running and wait for it to end (idempotent)."""
        self._stopping = True
        self._finished = True
        runner, self._runner = self._runner, None
        if runner is not None and not runner.done():
            runner.cancel()
            # wait() rather than await: the runner's CancelledError is ours to expect, not to raise.
            await asyncio.wait({runner})
        if self._started_at is not None and self._ended_at is None:
            self._ended_at = time.monotonic()

    def __aiter__(self) -> AsyncIterator[EnrollmentResult]:
        iterator = self._iterate()
        if self._in_block:
            # Closed by __aexit__ itself rather than when dropped: leaving the block stays
            # deterministic, with no finalizer task scheduled behind it.
            self._block_iterators.append(iterator)
        return iterator

    async def _iterate(self) -> AsyncGenerator[EnrollmentResult, None]:
        # A generator, not ``self``: leaving an ``async for`` early (break, exception,
        # cancellation) drops and so closes it, and closing it cancels the run.
        try:
            while True:
                try:
                    result = await self.__anext__()
                except StopAsyncIteration:
                    return
                yield result
        finally:
            await self.aclose()

    async def __anext__(self) -> EnrollmentResult:
        if self._finished:
            raise StopAsyncIteration
        if self._runner is None:
            self._start()
        item = await self._results.get()
        if isinstance(item, EnrollmentResult):
            return item
        self._finished = True
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner
        self._ended_at = time.monotonic()
        if item.error is not None:
            raise item.error
        raise StopAsyncIteration

    async def __aenter__(self) -> Self:
        self._in_block = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._in_block = False
        iterators, self._block_iterators = self._block_iterators, []
        try:
            await self.aclose()
        finally:
            for iterator in iterators:
                if getattr(iterator, "ag_running", False):  # iterated by another task
                    continue
                await iterator.aclose()

    # -- the run ----------------------------------------------------------------------------

    @staticmethod
    def _loop_time() -> float | None:
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:
            return None

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        users = self._users
        self._source = aiter(users) if isinstance(users, AsyncIterable) else iter(users)
        self._started_at = time.monotonic()
        self._runner = loop.create_task(self._run(), name="stytch_totp.create_many")

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as workers:
            for number in range(self._concurrency):
                workers.create_task(self._work(), name=f"stytch_totp.create_many.worker{number}")
        await self._results.put(_End(self._fatal))

    def _fail_run(self, error: BaseException) -> None:
        """Stop taking input; ``error`` is raised once the results in flight are yielded."""
        if self._fatal is None:
            self._fatal = error
        self._stopping = True

    async def _work(self) -> None:
        try:
            while not self._stopping:
                taken = await self._take()
                if taken is None:
                    return
                result = await self._enroll(*taken)
                if result.ok:
                    self._succeeded += 1
                else:
                    self._failed += 1
                # Queued first: a failing callback must not lose an enrollment's secrets.
                await self._results.put(result)
                if self._on_progress is not None:
                    self._on_progress(self.progress)
        except Exception as error:
            self._fail_run(error)

    async def _take(self) -> tuple[int, object] | None:
        """The next input item and its index, or ``None`` once the input is exhausted."""
        async with self._pull_lock:
            source = self._source
            if source is None or self._stopping:
                return None
            try:
                if isinstance(source, AsyncIterator):
                    item = await anext(source)
                else:
                    item = next(source)
            except (StopIteration, StopAsyncIteration):
                self._source = None
                return None
            except Exception as error:
                self._source = None
                self._fail_run(error)
                return None
            index = self._next_index
            self._next_index += 1
            return index, item

    async def _enroll(self, index: int, item: object) -> EnrollmentResult:
        user_id = item.user_id if isinstance(item, CreateParams) else None
        if isinstance(item, str):
            user_id = item
        try:
            params = _prepare(item, self._expiration_minutes)
        except InvalidParamsError as error:
            return EnrollmentResult(index, user_id, error=error)
        try:
            raw = await self._create(
                params, retry=self._retry, timeout=self._timeout, pacer=self._pacer
            )
        except InvalidParamsError as error:
            # Refused before anything was sent (e.g. text JSON cannot carry): not an attempt.
            return EnrollmentResult(index, user_id, error=error)
        except StytchError as error:
            attempts = getattr(error, "attempts", 1)
            self._judge(error)
            return EnrollmentResult(index, user_id, error=error, attempts=attempts)
        self._consecutive_connection_failures = 0
        try:
            response = raw.parse()
        except StytchError as error:
            return EnrollmentResult(index, user_id, error=error, attempts=raw.attempts)
        return EnrollmentResult(index, user_id, response=response, attempts=raw.attempts)

    def _judge(self, error: StytchError) -> None:
        """Stop the run when ``error`` says the remaining users would fail the same way."""
        if isinstance(error, ClientClosedError):
            self._fail_run(error)
            return
        if isinstance(error, APIConnectionError):
            self._consecutive_connection_failures += 1
        else:
            self._consecutive_connection_failures = 0
        reason = fatal_reason(error)
        limit = self._max_consecutive_connection_failures
        if reason is None and limit is not None and self._consecutive_connection_failures >= limit:
            reason = f"{self._consecutive_connection_failures} connection failures in a row"
        failed = self._failed + 1  # this one is counted once its result is queued
        if reason is None and self._max_failures is not None and failed > self._max_failures:
            reason = f"more than {self._max_failures} users failed"
        if reason is not None:
            aborted = BulkAbortedError(reason)
            aborted.__cause__ = error
            self._fail_run(aborted)
