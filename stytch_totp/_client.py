"""``Client``: credentials, the connection pool, timeouts and the retry loop.

The client owns one ``aiohttp.ClientSession`` (created lazily, inside the running event loop, on
the first call) unless the caller passes their own, which is then used as is and never closed.
Requests are built and responses decoded by the pure functions of ``_protocol``; the bytes move
through ``_transport``; this module only adds the loop that decides, with ``_retry``, whether to
try again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import ssl
import time
from types import TracebackType
from typing import Any, Literal, Self, TypedDict, TypeVar, Unpack

import aiohttp
from yarl import URL

from . import _config
from ._core.call_args import CallOptions, bind_call
from ._core.net import is_loopback_host
from ._core.protocol import Operation, decode_error, decode_response, encode_request
from ._core.retry import RetryPolicy, classify_status, next_delay, parse_retry_after
from ._core.timeouts import Timeout, resolve_timeout
from ._exceptions import APIConnectionError, APIStatusError, ClientClosedError, InvalidParamsError
from ._resources.totps import TOTPs
from ._transport.aiohttp import RawResponse, TransportFailure, post

__all__ = ["Client"]

logger = logging.getLogger(_config.LOGGER_NAME)

R = TypeVar("R")


def _client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=timeout.total, sock_connect=timeout.connect, sock_read=timeout.read
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
    url = URL(base_url)
    if url.scheme not in ("https", "http") or not url.host:
        raise InvalidParamsError("base_url", "must be an absolute https:// URL")
    if url.scheme == "http" and not is_loopback_host(url.host):
        raise InvalidParamsError(
            "base_url",
            "plain http:// is only allowed for loopback hosts (127.0.0.1, ::1, localhost)",
        )
    if url.user or url.password or url.query_string or url.fragment:
        raise InvalidParamsError("base_url", "must not carry credentials, a query or a fragment")
    if not url.path.endswith("/"):
        url = url.with_path(url.path + "/")
    return url


class _ClientOptions(TypedDict, total=False):
    """The constructor's keyword arguments, so ``from_env``'s are type-checked too."""

    environment: Literal["test", "live"] | None
    base_url: str | None
    timeout: float | Timeout | None
    retry: RetryPolicy | None
    session: aiohttp.ClientSession | None
    max_connections: int
    user_agent: str | None
    ssl_context: ssl.SSLContext | None
    max_response_bytes: int


class Client:
    """An async client for Stytch's TOTP API.

    Create one per application and share it: it holds a connection pool. Use it as an async
    context manager, or call :meth:`aclose` when done::

        async with stytch_totp.Client(project_id, secret) as client:
            created = await client.totps.create(user_id=user_id)

    Args:
        project_id: The Stytch project id (``project-test-...`` or ``project-live-...``).
        secret: The project secret. It is only ever sent in the ``Authorization`` header.
        environment: ``"test"`` or ``"live"``; by default derived from ``project_id``.
        base_url: Overrides the environment's URL (``https://`` only, or ``http://`` to loopback).
        timeout: Per-attempt timeout: seconds (total) or a :class:`Timeout`.
            Default: 30 s total, 5 s to connect.
        retry: The :class:`RetryPolicy`; default ``RetryPolicy()`` (2 retries).
        session: Your own ``aiohttp.ClientSession``; used as is and never closed by the client.
        max_connections: Size of the connection pool the client creates (0 for no limit).
        user_agent: Appended to the ``User-Agent`` header, e.g. ``"myapp/1.2"``.
        ssl_context: TLS settings of the client's own pool (e.g. to trust a private CA).
        max_response_bytes: Largest response body the client buffers.
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
        session: aiohttp.ClientSession | None = None,
        max_connections: int = _config.DEFAULT_MAX_CONNECTIONS,
        user_agent: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_response_bytes: int = _config.DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        for name, value in (("project_id", project_id), ("secret", secret)):
            if not isinstance(value, str) or not value:
                raise InvalidParamsError(name, "must be a non-empty str")
            if ":" in value and name == "project_id":
                raise InvalidParamsError(name, "must not contain ':'")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise InvalidParamsError("retry", "must be a RetryPolicy")
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise InvalidParamsError("max_connections", "must be an int")
        if max_connections < 0:
            raise InvalidParamsError("max_connections", "must be >= 0")
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int):
            raise InvalidParamsError("max_response_bytes", "must be an int")
        if max_response_bytes <= 0:
            raise InvalidParamsError("max_response_bytes", "must be > 0")

        self._project_id = project_id
        self._base_url = _resolve_base_url(project_id, environment, base_url)
        self._timeout = resolve_timeout(timeout)
        self._default_client_timeout = _client_timeout(self._timeout)
        self._retry = retry or RetryPolicy()
        self._max_connections = max_connections
        self._ssl_context = ssl_context
        self._max_response_bytes = max_response_bytes
        if user_agent is not None and (
            not isinstance(user_agent, str) or not user_agent.isprintable()
        ):
            raise InvalidParamsError("user_agent", "must be a str of printable characters")
        agent = _config.USER_AGENT if not user_agent else f"{_config.USER_AGENT} {user_agent}"
        # Computed once: aiohttp's BasicAuth is deprecated and would redo this per request.
        self._headers = {
            "Authorization": _Credentials(aiohttp.encode_basic_auth(project_id, secret)),
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": agent,
        }
        self._urls: dict[str, URL] = {}
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        # Retry pauses and body reads in progress, cut short by aclose() so none outlives it.
        self._pauses: set[asyncio.Future[None]] = set()
        self._reading: set[aiohttp.ClientResponse] = set()
        self.totps = TOTPs(self)
        """The four TOTP operations: :class:`TOTPs`."""

    @classmethod
    def from_env(cls, **kwargs: Unpack[_ClientOptions]) -> Self:
        """A client configured from ``STYTCH_PROJECT_ID``, ``STYTCH_SECRET`` and, optionally,
        ``STYTCH_BASE_URL``. Other keyword arguments go to the constructor."""
        values = {}
        for variable in (_config.ENV_PROJECT_ID, _config.ENV_SECRET):
            value = os.environ.get(variable, "")
            if not value:
                raise InvalidParamsError(variable, "environment variable is not set")
            values[variable] = value
        base_url = os.environ.get(_config.ENV_BASE_URL) or None
        if base_url is not None:
            kwargs.setdefault("base_url", base_url)
        return cls(values[_config.ENV_PROJECT_ID], values[_config.ENV_SECRET], **kwargs)

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
        """Close the client and its own connection pool (idempotent).

        Calls in flight on the client's own pool, or waiting to retry, end with
        :class:`ClientClosedError`. A session passed in by the caller is left open, and calls
        already sending on it finish normally.
        """
        if self._closed:
            return
        self._closed = True
        for pause in self._pauses:
            pause.cancel()
        for response in list(self._reading):
            response.close()
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()
            # Let the connections' transports finish closing, so no ResourceWarning follows.
            await asyncio.sleep(0)

    def _get_session(self, operation: str) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError(
                "the Client is closed", operation=operation, may_have_been_processed=False
            )
        loop = asyncio.get_running_loop()
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                ssl=self._ssl_context if self._ssl_context is not None else True,
            )
            self._session = aiohttp.ClientSession(connector=connector, raise_for_status=False)
            self._loop = loop
        elif self._owns_session and self._loop is not loop:
            raise RuntimeError(
                "this Client's connection pool belongs to another event loop; "
                "create one Client per event loop"
            )
        return self._session

    def _url(self, operation: Operation[Any, Any]) -> URL:
        url = self._urls.get(operation.path)
        if url is None:
            url = self._urls[operation.path] = self._base_url.join(URL(operation.path))
        return url

    async def _perform(
        self, operation: Operation[Any, R], params: object, kwargs: dict[str, Any]
    ) -> R:
        """Make one call of ``operation``: the resources' way in (see ``_resources.totps``)."""
        bound, options = bind_call(operation.params_type, params, kwargs)
        return await self._call(operation, bound, options)

    def _attempt_timeout(self, timeout: Timeout | None) -> aiohttp.ClientTimeout:
        if timeout is None:
            return self._default_client_timeout
        return _client_timeout(timeout)

    async def _call(self, operation: Operation[Any, R], params: Any, options: CallOptions) -> R:
        """Send ``params`` as ``operation``, retrying what is safe to retry."""
        policy = self._retry if options.retry is None else options.retry
        attempt_timeout = self._attempt_timeout(options.timeout)
        body = encode_request(params, options.extra_body)
        headers = self._headers
        if options.extra_headers:
            headers = {**dict(options.extra_headers), **self._headers}
        url = self._url(operation)
        retries_done = 0
        while True:
            session = self._get_session(operation.name)
            started = time.monotonic()
            try:
                raw = await post(
                    session,
                    url,
                    body,
                    headers,
                    timeout=attempt_timeout,
                    max_response_bytes=self._max_response_bytes,
                    operation=operation.name,
                    reading=self._reading,
                )
            except TransportFailure as failure:
                failure.error.attempts = retries_done + 1
                if self._closed:
                    raise _closed_in_flight(operation, retries_done + 1) from failure.error
                safety, retry_after, request_id = failure.safety, None, None
                error: APIStatusError | APIConnectionError = failure.error
            except RuntimeError as exc:
                if self._closed:
                    raise _closed_in_flight(operation, retries_done + 1) from exc
                if session.closed:
                    # aiohttp refuses a closed session before sending anything.
                    raise APIConnectionError(
                        "the aiohttp session passed to the Client was closed by its owner",
                        operation=operation.name,
                        attempts=retries_done + 1,
                        may_have_been_processed=False,
                    ) from exc
                raise
            except asyncio.CancelledError as exc:
                # Closing the pool cancels the calls queued for a connection; only a cancellation
                # of the caller's own task may reach the caller as one.
                if self._closed and not _task_cancelling():
                    raise ClientClosedError(
                        "the Client was closed while the call waited for a connection",
                        operation=operation.name,
                        attempts=retries_done + 1,
                        # aiohttp cancels only the calls queued for a pooled connection.
                        may_have_been_processed=False,
                    ) from exc
                raise
            else:
                self._log_response(operation, raw, started)
                if 200 <= raw.status < 300:
                    return decode_response(operation, raw.status, raw.headers, raw.body)
                retry_after = parse_retry_after(raw.headers.get("Retry-After"), now=time.time())
                error = decode_error(
                    operation, raw.status, raw.headers, raw.body, retry_after=retry_after
                )
                safety = classify_status(error.status_code, error.error_type)
                request_id = error.request_id
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
            logger.info(
                "Retrying %s in %.2f s (retry %d of %d) after %s; request_id=%s",
                operation.name,
                delay,
                retries_done,
                policy.max_retries,
                _describe(error),
                request_id,
            )
            if not await self._pause(delay):
                raise ClientClosedError(
                    "the Client was closed while the call waited to retry",
                    operation=operation.name,
                    attempts=retries_done,
                ) from error

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
    def _log_response(operation: Operation[Any, Any], raw: RawResponse, started: float) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s -> HTTP %d in %.1f ms",
                operation.name,
                raw.status,
                (time.monotonic() - started) * 1000,
            )


# The retry loop's only clock: tests replace it to observe delays without waiting for them.
_sleep = asyncio.sleep


def _closed_in_flight(operation: Operation[Any, Any], attempts: int) -> ClientClosedError:
    """The error for a call whose attempt failed because the client was closed under it."""
    return ClientClosedError(
        "the Client was closed while the call was in flight",
        operation=operation.name,
        attempts=attempts,
    )


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
