"""The default transport: one pooled ``aiohttp.ClientSession``, observed on its way out.

Whether a request was written is observed, not guessed from the exception type: the session
builds its requests with :class:`_ObservedRequest`, whose ``send`` is where aiohttp starts writing
to a connection it already holds. Everything before it (waiting for a pooled connection, DNS,
TCP connect, TLS handshake) sends nothing; so a failure before ``send`` is ``request_sent=False``
and a failure after it is ``request_sent=True``, whatever exception aiohttp raised. It costs one
coroutine frame per request; aiohttp's ``TraceConfig`` signals would give the same answer at
several awaited signal calls per request.

Errors never quote a response: aiohttp's parser messages carry the offending bytes (a malformed
status line is the start of a body), so a malformed response is described by the kind of fault
and the aiohttp exception is not chained to the error.

**One pool per event loop.** An aiohttp session belongs to the loop it was created in, so the
transport keeps one session per running loop (created on that loop's first request) and a
client can be used from successive loops: ``asyncio.run`` per job, a test framework's loop per
test. Each pool is closed when its loop shuts down: a suspended async generator registered with
the loop is finalized by ``loop.shutdown_asyncgens()`` (which ``asyncio.run`` and
``asyncio.Runner`` call before closing the loop), and closes the session while the loop still
runs, so no "Unclosed client session" is reported. A session cannot be closed from another loop,
or once its loop is closed: a pool whose loop was closed without ``shutdown_asyncgens`` is
dropped when the next new loop comes, its sockets left to the garbage collector. The hot path
checks the loop of the pool used last (one identity comparison); the dict is looked up only when
the loop changes.

**Forked children.** A child (``os.fork()``, multiprocessing's fork, gunicorn ``--preload``)
inherits the parent's pools, whose sockets are the parent's connections: it must never write to
them or close them. Right after the fork (:func:`os.register_at_fork`), each inherited pool is
disowned: its session and connector are marked closed and its loop-shutdown closer finished,
all without I/O, so nothing of them runs in the child and aiohttp's finalizers find nothing to
report ("Unclosed client session") when the child exits. The child's calls start pools of its
own.
"""

import asyncio
import contextvars
import os
import ssl
import weakref
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Final

import aiohttp
from aiohttp import http_exceptions
from yarl import URL

from .._config import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_RESPONSE_BYTES
from .._core.timeouts import Timeout
from .._exceptions import InvalidParamsError
from .base import FailureKind, TransportError, TransportRequest, TransportResponse

__all__ = ["AiohttpTransport"]


class _Attempt:
    """What the transport observed of one attempt."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = False


# The attempt in progress in this task: aiohttp builds and sends the request inside the task
# that awaits ``session.post``, so the request class finds it here without any plumbing.
_CURRENT_ATTEMPT: Final[contextvars.ContextVar[_Attempt | None]] = contextvars.ContextVar(
    "stytch_totp_attempt", default=None
)


class _ObservedRequest(aiohttp.ClientRequest):
    """An aiohttp request that records the moment it starts writing to its connection."""

    async def send(self, conn: Any) -> aiohttp.ClientResponse:
        attempt = _CURRENT_ATTEMPT.get()
        if attempt is not None:
            attempt.sent = True
        return await super().send(conn)


# The faults of aiohttp's response parser, described without the bytes its messages quote.
_PROTOCOL_FAULTS: Final[tuple[tuple[type[Exception], str], ...]] = (
    (http_exceptions.BadStatusLine, "malformed status line"),
    (http_exceptions.LineTooLong, "a status or header line too long"),
    (http_exceptions.InvalidHeader, "malformed header"),
    (http_exceptions.ContentLengthError, "body shorter than its Content-Length"),
    (http_exceptions.TransferEncodingError, "malformed chunked body"),
    (http_exceptions.DecompressSizeError, "decompressed body too large"),
    (http_exceptions.ContentEncodingError, "body that cannot be decompressed"),
    (http_exceptions.BadHttpMessage, "malformed HTTP message"),
)


def _protocol_fault(error: BaseException) -> str:
    """Name the parser fault behind ``error`` (walking its causes), never quoting it."""
    seen: BaseException | None = error
    for _ in range(8):  # causes chain a few levels deep at most
        if seen is None:
            break
        for fault_type, description in _PROTOCOL_FAULTS:
            if isinstance(seen, fault_type):
                return description
        seen = seen.__cause__ or seen.__context__
    return "malformed response"


class _Pool:
    """One event loop's connection pool: its aiohttp session, and the responses being read."""

    __slots__ = ("closer", "closing", "disowned", "loop", "reading", "session")

    def __init__(self, loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession) -> None:
        self.loop = loop
        self.session = session
        # Responses whose body is being read: closing the pool does not wake such a reader
        # (aiohttp forgets the payload when it closes the connection), closing them does.
        self.reading: set[aiohttp.ClientResponse] = set()
        self.closer: AsyncGenerator[None, None] | None = None
        self.closing: asyncio.Task[None] | None = None
        self.disowned = False

    async def close(self) -> None:
        """Close the session (idempotent); runs in the pool's own loop."""
        for response in list(self.reading):
            response.close()
        if not self.session.closed:
            await self.session.close()
            # Let the connections' transports finish closing, so no ResourceWarning follows.
            await asyncio.sleep(0)

    def close_from_elsewhere(self) -> None:
        """Have the pool's own loop close it, or give it up if that loop is closed."""
        if not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self._start_closing)
            except RuntimeError:  # closed meanwhile
                pass
            else:
                return
        self.abandon()

    def _start_closing(self) -> None:
        self.closing = self.loop.create_task(self.close())

    def disown(self) -> None:
        """In a forked child: make the parent's pool inert here, without any I/O.

        The session is detached and its connector marked closed (the flags aiohttp's
        ``__del__`` checks), so neither reports itself unclosed when the child exits; their
        connections are never closed here, which would close the parent's. The loop-shutdown
        closer is run to its end at once (it does nothing for a disowned pool), so that the
        parent's loop, which does not run in the child, is never asked to finalize it.
        """
        self.disowned = True
        self.reading.clear()
        connector = self.session.connector
        self.session.detach()
        if connector is not None:
            connector._closed = True
        closer, self.closer = self.closer, None
        if closer is not None:
            finishing = closer.aclose()
            try:
                finishing.send(None)
            except StopIteration:
                pass
            else:  # pragma: no cover - the closer awaits nothing once disowned
                finishing.close()

    def abandon(self) -> None:
        """Give up a pool whose loop is closed: aiohttp cannot close it any more. The session is
        detached (it counts as closed); the sockets of idle connections go with the garbage."""
        if not self.session.closed:
            self.session.detach()


async def _close_at_loop_shutdown(
    pool: _Pool, transport: "weakref.ref[AiohttpTransport]"
) -> AsyncGenerator[None, None]:
    """Suspended until the loop's ``shutdown_asyncgens()`` finalizes it, then closes ``pool``."""
    try:
        yield
    finally:
        if not pool.disowned:  # in a forked child: the parent's, not to be touched
            owner = transport()
            if owner is not None:
                owner._forget(pool)
            await pool.close()


#: Pools of a parent process, in its forked children: disowned, never used, kept (so that their
#: sockets, the parent's connections, are not even garbage collected while the child runs).
_INHERITED_BY_FORK: list[_Pool] = []

#: Every transport not yet garbage collected: their pools are disowned in a forked child.
_TRANSPORTS: "weakref.WeakSet[AiohttpTransport]" = weakref.WeakSet()


def _disown_all_after_fork() -> None:
    for transport in list(_TRANSPORTS):
        transport._leave_parent_pools()


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(after_in_child=_disown_all_after_fork)


class AiohttpTransport:
    """The default transport: a pooled ``aiohttp.ClientSession`` per event loop, created
    lazily in the running loop on its first request, and closed when that loop shuts down
    (``asyncio.run`` ending) or by :meth:`aclose`, whichever comes first.

    Args:
        max_connections: Size of the connection pool (0 for no limit).
        ssl_context: TLS settings (e.g. to trust a private CA); default: the system's.
        trace_configs: aiohttp ``TraceConfig`` objects (OpenTelemetry, custom metrics). Each
            request's ``trace_request_ctx`` is a mapping with ``operation`` (e.g.
            ``"totps.authenticate"``) and ``attempt``.
        trust_env: Use ``HTTP(S)_PROXY``/``NO_PROXY`` from the environment.
        max_response_bytes: Largest body read; a larger one is not read (``body=None``).
        keepalive_timeout: Seconds an idle pooled connection is kept open.
    """

    def __init__(
        self,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        ssl_context: ssl.SSLContext | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
        trust_env: bool = False,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        keepalive_timeout: float = 15.0,
    ) -> None:
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise InvalidParamsError("max_connections", "must be an int")
        if max_connections < 0:
            raise InvalidParamsError("max_connections", "must be >= 0")
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int):
            raise InvalidParamsError("max_response_bytes", "must be an int")
        if max_response_bytes <= 0:
            raise InvalidParamsError("max_response_bytes", "must be > 0")
        if (
            isinstance(keepalive_timeout, bool)
            or not isinstance(keepalive_timeout, int | float)
            or not 0 < keepalive_timeout < float("inf")
        ):
            raise InvalidParamsError("keepalive_timeout", "must be a finite number of seconds > 0")
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise InvalidParamsError("ssl_context", "must be an ssl.SSLContext")
        trace_configs = tuple(trace_configs)
        for trace_config in trace_configs:
            if not isinstance(trace_config, aiohttp.TraceConfig):
                raise InvalidParamsError("trace_configs", "must be aiohttp.TraceConfig objects")
        self.max_connections = max_connections
        self.max_response_bytes = max_response_bytes
        self._ssl_context = ssl_context
        self._trace_configs = trace_configs
        self._trust_env = bool(trust_env)
        self._keepalive_timeout = keepalive_timeout
        # The pool used last: the hot path's one check. Each loop's pool is in ``_pools``.
        self._pool: _Pool | None = None
        # Not a WeakKeyDictionary: a session refers to its loop, so no key would ever go.
        # Pools leave it when their loop shuts down, or at the next new loop once it is closed.
        self._pools: dict[asyncio.AbstractEventLoop, _Pool] = {}
        self._pid = os.getpid()
        self._closed = False
        self._client_timeouts: dict[Timeout, aiohttp.ClientTimeout] = {}
        self._urls: dict[str, URL] = {}
        self._session_headers: Mapping[str, str] | None = None
        self._last_timeout: tuple[Timeout, aiohttp.ClientTimeout] | None = None
        _TRANSPORTS.add(self)

    def __repr__(self) -> str:
        return f"<AiohttpTransport max_connections={self.max_connections}>"

    @property
    def closed(self) -> bool:
        """``True`` once :meth:`aclose` has been called."""
        return self._closed

    @property
    def _session(self) -> aiohttp.ClientSession | None:
        """The running loop's session (outside a loop: the last used), ``None`` before any."""
        loop = asyncio._get_running_loop()
        pool = self._pool if loop is None else self._pools.get(loop)
        return None if pool is None else pool.session

    async def aclose(self) -> None:
        """Close the pools (idempotent); requests in flight fail with ``FailureKind.CLOSED``.

        The running loop's pool is closed before this returns; the pools of other loops still
        running are closed by their own loop, soon after.
        """
        if self._closed:
            return
        self._closed = True
        self._leave_parent_pools()
        self._pool = None
        here = asyncio._get_running_loop()
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            if pool.loop is here:
                await pool.close()
            else:
                pool.close_from_elsewhere()

    def _forget(self, pool: _Pool) -> None:
        """Drop ``pool`` (its loop is shutting down)."""
        if self._pools.get(pool.loop) is pool:
            # pop, not del: the loops may run in threads, forgetting the same closed pool.
            self._pools.pop(pool.loop, None)
        if self._pool is pool:
            self._pool = None

    def _leave_parent_pools(self) -> None:
        """In a forked child: set the parent's pools aside, disowned (see :meth:`_Pool.disown`).

        Run right after the fork, and again (doing nothing then) on the child's first call."""
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        inherited = list(self._pools.values())
        self._pools.clear()
        self._pool = None
        for pool in inherited:
            pool.disown()
        _INHERITED_BY_FORK.extend(inherited)

    async def _pool_here(self, headers: Mapping[str, str]) -> _Pool:
        """The running loop's pool, created on its first request."""
        loop = asyncio._get_running_loop()
        if loop is None:
            raise TransportError(
                "the async Client needs a running asyncio event loop: await its calls in "
                "asyncio code, or use SyncClient in code without an event loop",
                request_sent=False,
                kind=FailureKind.UNUSABLE,
            )
        self._leave_parent_pools()
        pool = self._pools.get(loop)
        if pool is None:
            # A copy first: loops in other threads may add their pools meanwhile.
            for other in [p for p in list(self._pools.values()) if p.loop.is_closed()]:
                self._forget(other)
                other.abandon()
            pool = self._pools[loop] = _Pool(loop, self._new_session(headers))
            closer = _close_at_loop_shutdown(pool, weakref.ref(self))
            # Started, so the loop knows it (asyncio's first-iteration hook) and finalizes it at
            # shutdown; kept by the pool, since the loop only holds it weakly.
            await anext(closer)
            pool.closer = closer
        self._pool = pool
        return pool

    def _new_session(self, headers: Mapping[str, str]) -> aiohttp.ClientSession:
        if self._session_headers is None:
            # The headers of the first request (the client's own) become the sessions'.
            self._session_headers = headers
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            ssl=self._ssl_context if self._ssl_context is not None else True,
            keepalive_timeout=self._keepalive_timeout,
        )
        return aiohttp.ClientSession(
            connector=connector,
            request_class=_ObservedRequest,
            trace_configs=list(self._trace_configs) or None,
            trust_env=self._trust_env,
            headers=self._session_headers,
            raise_for_status=False,
            auto_decompress=True,
        )

    def _url(self, url: str) -> URL:
        # Parsing a URL costs more than the rest of building a request: the client's few URLs
        # are parsed once.
        found = self._urls.get(url)
        if found is None:
            found = URL(url)
            if len(self._urls) < 64:
                self._urls[url] = found
        return found

    def _client_timeout(self, timeout: Timeout) -> aiohttp.ClientTimeout:
        # Most calls pass the client's one Timeout: recognised by identity, without hashing it.
        last = self._last_timeout
        if last is not None and last[0] is timeout:
            return last[1]
        found = self._client_timeouts.get(timeout)
        if found is None:
            found = aiohttp.ClientTimeout(
                total=timeout.total, sock_connect=timeout.connect, sock_read=timeout.read
            )
            if len(self._client_timeouts) < 64:  # per-call timeouts may all differ
                self._client_timeouts[timeout] = found
        self._last_timeout = (timeout, found)
        return found

    async def send(self, request: TransportRequest) -> TransportResponse:
        """POST ``request``; never follows redirects, so credentials stay with this host."""
        if self._closed:
            raise TransportError(
                "the transport is closed", request_sent=False, kind=FailureKind.CLOSED
            )
        pool = self._pool
        if pool is None or pool.loop is not asyncio._get_running_loop():
            pool = await self._pool_here(request.headers)
        attempt = _Attempt()
        token = _CURRENT_ATTEMPT.set(attempt)
        failure: TransportError | None = None
        try:
            # Awaited, then released in ``finally``: what ``async with`` does, without the two
            # coroutines of its ``__aenter__`` and ``__aexit__``.
            response = await pool.session.request(
                request.method,
                self._url(request.url),
                data=request.body,
                # The client's own headers are the session's default headers: aiohttp then
                # copies them in C instead of merging a dict in Python on every request.
                headers=None if request.headers is self._session_headers else request.headers,
                timeout=self._client_timeout(request.timeout),
                allow_redirects=False,
                trace_request_ctx=(
                    {"operation": request.operation, "attempt": request.attempt}
                    if self._trace_configs
                    else None
                ),
            )
            pool.reading.add(response)
            try:
                length = response.content_length
                if (
                    length is not None
                    and length <= self.max_response_bytes
                    and "Content-Encoding" not in response.headers
                ):
                    body: bytes | None = await response.read()  # the usual case, read at once
                else:
                    body = await _read_capped(response, self.max_response_bytes)
            finally:
                pool.reading.discard(response)
                response.release()
            return TransportResponse(response.status, response.headers, body)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            # ``closed`` (re-read: the client may have been closed while this call waited).
            if not self.closed or (task is not None and task.cancelling()):
                raise
            # aiohttp cancels the requests waiting for a pooled connection when it closes.
            failure = TransportError(
                "the client was closed", request_sent=attempt.sent, kind=FailureKind.CLOSED
            )
        except Exception as exc:
            failure, cause = self._describe(exc, request, attempt.sent), exc
            if failure.kind in (FailureKind.CONNECT, FailureKind.TLS, FailureKind.TIMEOUT):
                # No response was involved: the cause is safe to keep, and worth keeping.
                failure.__cause__ = cause
            del cause
        finally:
            _CURRENT_ATTEMPT.reset(token)
        # Raised here, outside the ``except`` blocks, so the aiohttp error (whose message may
        # quote response bytes) is not kept as this error's ``__context__``.
        raise failure

    def _describe(self, exc: Exception, request: TransportRequest, sent: bool) -> TransportError:
        host = URL(request.url).host
        if self._closed:
            return TransportError(
                "the client was closed", request_sent=sent, kind=FailureKind.CLOSED
            )
        if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
            return TransportError(
                f"TLS failure talking to {host}: {type(exc).__name__}",
                request_sent=sent,
                kind=FailureKind.TLS,
            )
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return TransportError(
                f"timed out connecting to {host}", request_sent=sent, kind=FailureKind.TIMEOUT
            )
        if isinstance(exc, TimeoutError):
            where = "waiting for" if sent else "waiting for a connection to"
            return TransportError(
                f"timed out {where} {host}", request_sent=sent, kind=FailureKind.TIMEOUT
            )
        if isinstance(exc, aiohttp.ClientConnectorError):
            return TransportError(
                f"could not connect to {host} ({type(exc.os_error).__name__})",
                request_sent=sent,
                kind=FailureKind.CONNECT,
            )
        if isinstance(exc, aiohttp.ServerDisconnectedError):
            return TransportError(
                f"{host} closed the connection without answering",
                request_sent=sent,
                kind=FailureKind.DISCONNECTED,
            )
        if isinstance(exc, aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
            return TransportError(
                f"unusable response from {host}: {_protocol_fault(exc)}",
                request_sent=sent,
                kind=FailureKind.PROTOCOL,
            )
        if isinstance(exc, aiohttp.ClientOSError):
            return TransportError(
                f"connection to {host} failed ({type(exc).__name__})",
                request_sent=sent,
                kind=FailureKind.DISCONNECTED,
            )
        return TransportError(
            f"request to {host} failed ({type(exc).__name__})",
            request_sent=sent,
            kind=FailureKind.DISCONNECTED,
        )


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    length = response.content_length
    if length is not None and length > limit:
        return None
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if length is not None and encoding == "identity":
        return await response.read()
    # Chunked, or compressed: Content-Length (if any) is the compressed size, so count what
    # decompression yields; a few KB of gzip can expand to gigabytes.
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
