"""``Client``: credentials, a transport, and the one retry loop of the SDK.

Requests are built and responses decoded by the pure functions of ``_core``; a
:class:`~stytch_totp.Transport` moves the bytes (by default :class:`AiohttpTransport`, whose
pools are created lazily, one per running event loop). This module adds the loop that decides, with
``_core/retry.py``, whether to try again: the only such loop in the SDK (bulk enrollment paces
its calls through it, see :class:`~stytch_totp._core.retry.Pacer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import ssl
import time
from collections.abc import Coroutine, Sequence
from types import TracebackType
from typing import Any, Final, Literal, Self, TypedDict, TypeVar, Unpack, overload

import aiohttp
from yarl import URL

from . import _config
from ._core.call_args import bind_call
from ._core.net import is_loopback_host
from ._core.protocol import Operation, decode_error, decode_response, encode_request
from ._core.raw_response import APIResponse
from ._core.retry import (
    Pacer,
    RetryPolicy,
    Safety,
    classify_failure,
    classify_status,
    may_wait_out_rate_limit,
    next_delay,
    parse_retry_after,
)
from ._core.timeouts import Timeout, resolve_timeout
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    InvalidParamsError,
    UnexpectedResponseError,
    printable,
)
from ._resources.totps import TOTPs
from ._transport.aiohttp import AiohttpTransport
from ._transport.base import (
    FailureKind,
    Transport,
    TransportError,
    TransportRequest,
    TransportResponse,
)

__all__ = ["Client", "credentials_from_env"]

logger = logging.getLogger(_config.LOGGER_NAME)

R = TypeVar("R")

_PROJECT_PREFIXES: Final = ("project-test-", "project-live-")
_SECRET_PREFIXES: Final = ("secret-test-", "secret-live-")
# Failures retrying cannot mend: the same TLS handshake fails again, a closed or misused
# transport stays so.
_FINAL_FAILURES: Final = frozenset({FailureKind.TLS, FailureKind.CLOSED, FailureKind.UNUSABLE})


def _check_credentials(project_id: object, secret: object, *, custom_base_url: bool) -> None:
    if not isinstance(project_id, str) or not project_id:
        raise InvalidParamsError("project_id", "must be a non-empty str")
    if not isinstance(secret, str) or not secret:
        raise InvalidParamsError("secret", "must be a non-empty str")
    # Neither value is ever repeated: one of them may be the secret, passed in the wrong place.
    if project_id.startswith(_SECRET_PREFIXES):
        raise InvalidParamsError(
            "project_id",
            "looks like a project secret (secret-test-... or secret-live-...): "
            "are project_id and secret swapped?",
        )
    if secret.startswith(_PROJECT_PREFIXES):
        raise InvalidParamsError(
            "secret", "looks like a project id (project-...): are project_id and secret swapped?"
        )
    if ":" in project_id:
        raise InvalidParamsError("project_id", "must not contain ':'")
    if not custom_base_url and not project_id.startswith(_PROJECT_PREFIXES):
        raise InvalidParamsError(
            "project_id",
            "must start with 'project-test-' or 'project-live-' "
            "(any id is accepted together with base_url, e.g. for the emulator)",
        )


def _resolve_base_url(
    project_id: str, environment: Literal["test", "live"] | None, base_url: str | None
) -> URL:
    if base_url is None:
        if environment is None:
            live = project_id.startswith(_config.LIVE_PROJECT_PREFIX)
            environment = "live" if live else "test"
        if environment == "live":
            return URL(_config.LIVE_BASE_URL)
        if environment == "test":
            return URL(_config.TEST_BASE_URL)
        raise InvalidParamsError("environment", "must be 'test', 'live' or None")
    if not isinstance(base_url, str) or not base_url:
        raise InvalidParamsError("base_url", "must be a non-empty URL string")
    try:
        url = URL(base_url)
    except (ValueError, TypeError):
        raise InvalidParamsError("base_url", "is not a URL") from None
    shown = _shown(url)
    https_rule = "https:// is required (http:// only to loopback: 127.0.0.1, ::1, localhost)"
    if url.scheme not in ("https", "http") or not url.host:
        raise InvalidParamsError("base_url", f"{shown!r} is not an absolute URL: {https_rule}")
    if url.scheme == "http" and not is_loopback_host(url.host):
        raise InvalidParamsError("base_url", f"{shown!r} is plain http://: {https_rule}")
    if url.user or url.password or url.query_string or url.fragment:
        raise InvalidParamsError(
            "base_url", f"{shown!r} must not carry credentials, a query or a fragment"
        )
    if not url.path.endswith("/"):
        url = url.with_path(url.path + "/")
    return url


def _shown(url: URL) -> str:
    """``url`` as an error message may show it: without any credentials it carries."""
    if url.is_absolute():
        url = url.with_user(None).with_query(None).with_fragment(None)
    elif "@" in str(url):
        return "<the URL>"  # credentials we cannot strip: show nothing of it
    return printable(str(url), 200) or ""


class _ClientOptions(TypedDict, total=False):
    """The constructor's keyword arguments, so ``from_env``'s are type-checked too."""

    environment: Literal["test", "live"] | None
    base_url: str | None
    timeout: float | Timeout | None
    retry: RetryPolicy | None
    transport: Transport | None
    max_connections: int | None
    ssl_context: ssl.SSLContext | None
    trace_configs: Sequence[aiohttp.TraceConfig] | None
    max_response_bytes: int | None
    user_agent: str | None


class Client:
    """An async client for Stytch's TOTP API.

    Create one per application and share it: it holds a connection pool (one per event loop it
    is used from, each closed when its loop shuts down). Use it as an async context manager, or
    call :meth:`aclose` when done::

        async with stytch_totp.Client(project_id, secret) as client:
            created = await client.totps.create(user_id=user_id)

    The operations are on :attr:`totps`.

    Args:
        project_id: The Stytch project id (``project-test-...`` or ``project-live-...``; any id
            is accepted together with ``base_url``).
        secret: The project secret. It is only ever sent in the ``Authorization`` header.
        environment: ``"test"`` or ``"live"``; by default derived from ``project_id``.
        base_url: Overrides the environment's URL (``https://`` only, or ``http://`` to loopback).
        timeout: Per-attempt timeout: seconds (total) or a :class:`Timeout`.
            Default: 30 s total, 5 s to connect.
        retry: The :class:`RetryPolicy`; default ``RetryPolicy()`` (2 retries).
        transport: What moves the bytes: a :class:`Transport` (e.g.
            :class:`stytch_totp.testing.MockTransport`); the client owns it and closes it.
            Default: an :class:`AiohttpTransport` built from the four options below.
        max_connections: Size of the connection pool (default 100; 0 for no limit).
        ssl_context: TLS settings of the pool (e.g. to trust a private CA).
        trace_configs: aiohttp ``TraceConfig`` objects for the pool (OpenTelemetry...).
        max_response_bytes: Largest response body the client reads (default 4 MiB).
        user_agent: Appended to the ``User-Agent`` header, e.g. ``"myapp/1.2"``.
    """

    def __init__(
        self,
        project_id: str,
        secret: str,
        *,
        environment: Literal["test", "live"] | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | None = None,
        retry: RetryPolicy | None = None,
        transport: Transport | None = None,
        max_connections: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
        max_response_bytes: int | None = None,
        user_agent: str | None = None,
    ) -> None:
        _check_credentials(project_id, secret, custom_base_url=base_url is not None)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise InvalidParamsError("retry", "must be a RetryPolicy")
        if user_agent is not None and (
            not isinstance(user_agent, str)
            or not user_agent.isascii()
            or not user_agent.isprintable()
        ):
            raise InvalidParamsError("user_agent", "must be a str of printable ASCII")
        self._project_id = project_id
        self._base_url = _resolve_base_url(project_id, environment, base_url)
        self._timeout = resolve_timeout(timeout)
        self._retry = retry or RetryPolicy()
        self._transport = _make_transport(
            transport,
            max_connections=max_connections,
            ssl_context=ssl_context,
            trace_configs=trace_configs,
            max_response_bytes=max_response_bytes,
        )
        agent = _config.USER_AGENT if not user_agent else f"{_config.USER_AGENT} {user_agent}"
        # Computed once: aiohttp's BasicAuth is deprecated and would redo this per request.
        self._headers: dict[str, str] = {
            "Authorization": _Credentials(aiohttp.encode_basic_auth(project_id, secret)),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": agent,
        }
        self._urls: dict[str, tuple[str, str]] = {}
        self._closed = False
        # Retry pauses in progress, cut short by aclose() so none outlives it.
        self._pauses: set[asyncio.Future[None]] = set()
        self._totps = TOTPs(self)

    @classmethod
    def from_env(cls, **kwargs: Unpack[_ClientOptions]) -> Self:
        """A client configured from ``STYTCH_PROJECT_ID``, ``STYTCH_SECRET`` and, optionally,
        ``STYTCH_BASE_URL``. Other keyword arguments go to the constructor."""
        project_id, secret, base_url = credentials_from_env()
        if base_url is not None:
            kwargs.setdefault("base_url", base_url)
        return cls(project_id, secret, **kwargs)

    @property
    def totps(self) -> TOTPs:
        """The TOTP operations: ``create``, ``authenticate``, ``recovery_codes``, ``recover``,
        ``create_many``, and their ``with_raw_response`` forms (see :class:`TOTPs`)."""
        return self._totps

    @property
    def project_id(self) -> str:
        """The project id the client authenticates as."""
        return self._project_id

    @property
    def base_url(self) -> str:
        """The base URL requests go to, with a trailing slash."""
        return str(self._base_url)

    @property
    def retry_policy(self) -> RetryPolicy:
        """The :class:`RetryPolicy` calls use unless they pass their own ``retry=``."""
        return self._retry

    @property
    def transport(self) -> Transport:
        """The :class:`Transport` that moves this client's bytes."""
        return self._transport

    @property
    def closed(self) -> bool:
        """``True`` once :meth:`aclose` has been called."""
        return self._closed

    def __repr__(self) -> str:
        return f"Client(project_id={self._project_id!r}, base_url={str(self._base_url)!r})"

    async def __aenter__(self) -> Self:
        if self._closed:
            raise ClientClosedError("a closed Client cannot be reopened; create a new one")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and its transport (idempotent).

        Calls in flight, or waiting to retry, end with :class:`ClientClosedError`, whose
        ``may_have_been_processed`` says whether their request had been written.
        """
        if self._closed:
            return
        self._closed = True
        here = asyncio._get_running_loop()
        for pause in list(self._pauses):
            loop = pause.get_loop()
            if loop is here:
                pause.cancel()
            elif not loop.is_closed():  # a pause of a call in another thread's loop
                with contextlib.suppress(RuntimeError):  # that loop closed meanwhile
                    loop.call_soon_threadsafe(pause.cancel)
        await self._transport.aclose()

    # -- the resources' way in (the ``Caller`` protocol of ``_resources``) --------------------
    # Plain functions handing back the coroutine of ``_call``: no extra frame for every resume.

    def _perform(
        self, operation: Operation[Any, R], params: object, kwargs: dict[str, Any]
    ) -> Coroutine[Any, Any, R]:
        return self._call(operation, params, kwargs)

    def _perform_raw(
        self,
        operation: Operation[Any, R],
        params: object,
        kwargs: dict[str, Any],
        *,
        pacer: Pacer | None = None,
    ) -> Coroutine[Any, Any, APIResponse[R]]:
        return self._call(operation, params, kwargs, raw=True, pacer=pacer)

    # -- the retry loop -----------------------------------------------------------------------

    def _url(self, operation: Operation[Any, Any]) -> tuple[str, str]:
        found = self._urls.get(operation.path)
        if found is None:
            url = self._base_url.join(URL(operation.path))
            found = self._urls[operation.path] = (str(url), url.path)
        return found

    @overload
    async def _call(
        self,
        operation: Operation[Any, R],
        params: object,
        kwargs: dict[str, Any],
        *,
        raw: Literal[False] = False,
        pacer: Pacer | None = None,
    ) -> R: ...
    @overload
    async def _call(
        self,
        operation: Operation[Any, R],
        params: object,
        kwargs: dict[str, Any],
        *,
        raw: Literal[True],
        pacer: Pacer | None = None,
    ) -> APIResponse[R]: ...
    async def _call(
        self,
        operation: Operation[Any, R],
        params: object,
        kwargs: dict[str, Any],
        *,
        raw: bool = False,
        pacer: Pacer | None = None,
    ) -> R | APIResponse[R]:
        """Make one call of ``operation``: bind its arguments, then send it until it succeeds or
        must not be tried again, and decode the answer (or hand it back raw).

        Raises the last attempt's error when it does not succeed.
        """
        bound, options = bind_call(operation.params_type, params, kwargs)
        policy = self._retry if options.retry is None else options.retry
        timeout = self._timeout if options.timeout is None else options.timeout
        body = encode_request(bound, options.extra_body)
        del bound  # not kept alive across the awaits: thousands of calls may be in flight
        headers = self._headers
        if options.extra_headers:
            headers = {**dict(options.extra_headers), **self._headers}
        url, path = self._url(operation)
        started = time.monotonic()
        attempt = retries_done = rate_limited = 0
        error: APIStatusError | APIConnectionError | None = None
        while True:
            if self._closed:
                raise _closed_error(operation, attempt, error)
            epoch = await pacer.wait_turn() if pacer is not None else 0
            attempt += 1
            request = TransportRequest(
                "POST", url, path, headers, body, timeout, operation.name, attempt
            )
            retry_after: float | None = None
            try:
                response = await self._transport.send(request)
            except TransportError as failure:
                error, safety = self._failure_error(operation, failure, attempt)
            except Exception as exc:
                error = APIConnectionError(
                    f"the transport failed ({type(exc).__name__}); it must raise TransportError",
                    operation=operation.name,
                    attempts=attempt,
                )
                error.__cause__ = exc
                safety = Safety.FINAL
            else:
                if logger.isEnabledFor(logging.DEBUG):
                    self._log_response(operation, attempt, response, started)
                if 200 <= response.status_code < 300:
                    if pacer is not None:
                        pacer.succeeded()
                    if raw:
                        return APIResponse(
                            operation,
                            status_code=response.status_code,
                            headers=response.headers,
                            body=response.body,
                            attempts=attempt,
                            elapsed=time.monotonic() - started,
                        )
                    return _decoded(operation, response, attempt)
                if response.status_code in (429, 503):
                    retry_after = parse_retry_after(
                        response.headers.get("Retry-After"), now=time.time()
                    )
                error = decode_error(
                    operation,
                    response.status_code,
                    response.headers,
                    response.body,
                    retry_after=retry_after,
                )
                error.attempts = attempt
                safety = classify_status(error.status_code, error.error_type)
                if pacer is not None and error.status_code == 429 and safety is Safety.NOT_ACTED:
                    # Bulk enrollment: the whole batch waits out the rate limit, then retries.
                    if not may_wait_out_rate_limit(
                        policy, rate_limited=rate_limited, retry_after=retry_after
                    ):
                        raise error
                    rate_limited += 1
                    pacer.rate_limited(epoch, retry_after)
                    self._log_retry(operation, attempt, error, None)
                    continue
            delay = next_delay(
                policy,
                retries_done=retries_done,
                safety=safety,
                read_only=operation.read_only,
                retry_after=retry_after,
                jitter=random.random(),  # noqa: S311 - jitter, not cryptography
            )
            if delay is None:
                raise error
            retries_done += 1
            self._log_retry(
                operation,
                attempt,
                error,
                delay,
                retries_done=retries_done,
                max_retries=policy.max_retries,
            )
            if not await self._pause(delay):
                raise _closed_error(operation, attempt, error)

    def _failure_error(
        self, operation: Operation[Any, Any], failure: TransportError, attempt: int
    ) -> tuple[APIConnectionError, Safety]:
        """The public error for an attempt with no response, and what it means for a retry."""
        sent = bool(failure.request_sent)
        safety = classify_failure(request_sent=sent, final=failure.kind in _FINAL_FAILURES)
        consequence = (
            "the request was sent: it may have been processed" if sent else "nothing was sent"
        )
        message = f"{printable(str(failure.message), 300)} ({consequence})"
        error_type: type[APIConnectionError] = APIConnectionError
        if failure.kind is FailureKind.TIMEOUT:
            error_type = APITimeoutError
        elif failure.kind is FailureKind.CLOSED or self._closed:
            error_type = ClientClosedError
        error = error_type(
            message,
            operation=operation.name,
            attempts=attempt,
            may_have_been_processed=sent,
            kind=failure.kind,
        )
        error.__cause__ = failure
        return error, safety

    async def _pause(self, delay: float) -> bool:
        """Wait ``delay`` seconds before a retry; ``False`` if the client was closed meanwhile."""
        pause = asyncio.ensure_future(_sleep(delay))
        self._pauses.add(pause)
        try:
            await pause
        except asyncio.CancelledError:
            if not (pause.cancelled() and self._closed and not _task_cancelling()):
                raise
        finally:
            self._pauses.discard(pause)
        return not self._closed

    @staticmethod
    def _log_response(
        operation: Operation[Any, Any], attempt: int, response: TransportResponse, started: float
    ) -> None:
        """Log one response at DEBUG (the caller checks the level: one call less per request)."""
        request_id = printable(
            response.headers.get("request-id") or response.headers.get("x-request-id"), 128
        )
        logger.debug(
            "%s -> HTTP %d in %.1f ms (attempt %d)",
            operation.name,
            response.status_code,
            (time.monotonic() - started) * 1000,
            attempt,
            extra={
                "operation": operation.name,
                "attempt": attempt,
                "status": response.status_code,
                "request_id": request_id,
            },
        )

    @staticmethod
    def _log_retry(
        operation: Operation[Any, Any],
        attempt: int,
        error: APIStatusError | APIConnectionError,
        delay: float | None,
        *,
        retries_done: int = 0,
        max_retries: int = 0,
    ) -> None:
        status = error.status_code if isinstance(error, APIStatusError) else None
        request_id = error.request_id if isinstance(error, APIStatusError) else None
        extra = {
            "operation": operation.name,
            "attempt": attempt,
            "status": status,
            "request_id": request_id,
            "delay": delay,
        }
        if delay is None:
            logger.info(
                "Retrying %s after the batch's rate-limit pause (attempt %d got %s); request_id=%s",
                operation.name,
                attempt,
                _describe(error),
                request_id,
                extra=extra,
            )
            return
        logger.info(
            "Retrying %s in %.2f s (retry %d of %d) after %s; request_id=%s",
            operation.name,
            delay,
            retries_done,
            max_retries,
            _describe(error),
            request_id,
            extra=extra,
        )


def credentials_from_env() -> tuple[str, str, str | None]:
    """``(project_id, secret, base_url or None)`` from the environment variables."""
    values = {}
    for variable in (_config.ENV_PROJECT_ID, _config.ENV_SECRET):
        value = os.environ.get(variable, "")
        if not value:
            raise InvalidParamsError(variable, "environment variable is not set")
        values[variable] = value
    base_url = os.environ.get(_config.ENV_BASE_URL) or None
    return values[_config.ENV_PROJECT_ID], values[_config.ENV_SECRET], base_url


def _decoded(operation: Operation[Any, R], response: TransportResponse, attempts: int) -> R:
    try:
        return decode_response(operation, response.status_code, response.headers, response.body)
    except UnexpectedResponseError as error:
        error.attempts = attempts
        raise


def _make_transport(
    transport: Transport | None,
    *,
    max_connections: int | None,
    ssl_context: ssl.SSLContext | None,
    trace_configs: Sequence[aiohttp.TraceConfig] | None,
    max_response_bytes: int | None,
) -> Transport:
    pool_options: dict[str, Any] = {
        "max_connections": max_connections,
        "ssl_context": ssl_context,
        "trace_configs": trace_configs,
        "max_response_bytes": max_response_bytes,
    }
    given = {name: value for name, value in pool_options.items() if value is not None}
    if transport is None:
        return AiohttpTransport(**given)
    if not isinstance(transport, Transport):
        raise InvalidParamsError("transport", "must have async send(request) and aclose()")
    if given:
        raise InvalidParamsError(
            sorted(given)[0], "configures the default transport: set it on your transport instead"
        )
    return transport


# The retry loop's only clock: tests replace it to observe delays without waiting for them.
_sleep = asyncio.sleep


def _closed_error(
    operation: Operation[Any, Any],
    attempts: int,
    previous: APIStatusError | APIConnectionError | None,
) -> ClientClosedError:
    """The error for a call the client was closed under, before or between its attempts."""
    processed = isinstance(previous, APIConnectionError) and previous.may_have_been_processed
    error = ClientClosedError(
        "the Client is closed" if attempts == 0 else "the Client was closed before a retry",
        operation=operation.name,
        attempts=attempts,
        may_have_been_processed=processed,
    )
    error.__cause__ = previous
    return error


def _task_cancelling() -> bool:
    """Whether someone asked to cancel the current task (as opposed to a future it awaited)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class _Credentials(str):
    """The ``Authorization`` header value: sent as is, shown as ``'<redacted>'``.

    It sits in the headers dict, which debuggers and error trackers print with local variables.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


def _describe(error: APIStatusError | APIConnectionError) -> str:
    if isinstance(error, APIStatusError):
        return f"HTTP {error.status_code} {error.error_type or ''}".rstrip()
    return type(error).__name__
