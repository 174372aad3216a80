"""Raw ``asyncio`` HTTP/1.1 servers on 127.0.0.1 that misbehave on purpose.

``aiohttp.web`` always speaks correct HTTP, so it cannot reset a connection before the headers,
cut a body short of its ``Content-Length`` or stall half-way through one. These servers read each
request themselves and answer it with an :data:`Action`: a coroutine that writes whatever bytes it
likes (or none) to the socket. Every request is recorded, with the number of the TCP connection
it came on, so tests count attempts on the server side and can tell a reused connection from a
new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from http import HTTPStatus

import attrs

from stytch_totp import _jsoncodec

__all__ = [
    "Action",
    "Exchange",
    "RawServer",
    "Received",
    "Script",
    "oversized_body",
    "raw_bytes",
    "redirect",
    "refusing_port",
    "reset_before_headers",
    "reset_mid_body",
    "respond",
    "respond_chunked",
    "respond_json",
    "stall_before_headers",
    "stall_mid_body",
    "truncated_body",
]


@attrs.frozen
class Received:
    """One request, as the server read it off the wire."""

    connection: int
    """Number of the TCP connection it came on (1 for the first one the server accepted)."""
    method: str
    """``"POST"``..."""
    target: str
    """The request target, e.g. ``"/v1/totps"``."""
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes
    """The body, read according to ``Content-Length``."""


class Exchange:
    """The connection an :data:`Action` answers a request on."""

    def __init__(self, writer: asyncio.StreamWriter, request: Received, closing: asyncio.Event):
        self.writer = writer
        self.request = request
        self._closing = closing

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), not an orderly FIN."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    async def stall(self) -> None:
        """Say nothing more until the server shuts down."""
        await self._closing.wait()


#: Answers one request; returns ``True`` to keep the connection open for the next request.
Action = Callable[[Exchange], Awaitable[bool]]


def _head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Whatever"
    lines = [f"HTTP/1.1 {status} {phrase}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def respond(
    status: int = 200,
    body: bytes = b"",
    *,
    content_type: str | None = "application/json",
    headers: Iterable[tuple[str, str]] = (),
) -> Action:
    """A well-formed response with a ``Content-Length``; the connection stays open."""
    fields = [("Content-Length", str(len(body))), *headers]
    if content_type is not None:
        fields.append(("Content-Type", content_type))
    data = _head(status, fields) + body

    async def action(exchange: Exchange) -> bool:
        await exchange.send(data)
        return True

    return action


def respond_chunked(status: int, body: bytes, *, content_type: str = "application/json") -> Action:
    """A well-formed response sent with ``Transfer-Encoding: chunked`` (no Content-Length)."""
    head = _head(status, [("Transfer-Encoding", "chunked"), ("Content-Type", content_type)])
    data = head + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n" if body else head + b"0\r\n\r\n"

    async def action(exchange: Exchange) -> bool:
        await exchange.send(data)
        return True

    return action


def respond_json(
    data: object, status: int = 200, *, headers: Iterable[tuple[str, str]] = ()
) -> Action:
    """A JSON response."""
    return respond(status, _jsoncodec.dumps(data), headers=headers)


def reset_before_headers() -> Action:
    """Read the request, then reset the connection without a byte of response."""

    async def action(exchange: Exchange) -> bool:
        exchange.reset()
        return False

    return action


def reset_mid_body(declared: int = 4096, sent: int = 100) -> Action:
    """Send the status line, the headers and part of the body, then reset the connection."""

    async def action(exchange: Exchange) -> bool:
        head = _head(200, [("Content-Length", str(declared)), ("Content-Type", "application/json")])
        await exchange.send(head + b'{"request_id": "' + b"x" * (sent - 16))
        exchange.reset()
        return False

    return action


def truncated_body(declared: int = 4096, sent: int = 100) -> Action:
    """Promise ``declared`` bytes, send ``sent``, then close the connection cleanly (FIN)."""

    async def action(exchange: Exchange) -> bool:
        head = _head(200, [("Content-Length", str(declared)), ("Content-Type", "application/json")])
        await exchange.send(head + b" " * sent)
        return False

    return action


def stall_before_headers() -> Action:
    """Read the request and never answer."""

    async def action(exchange: Exchange) -> bool:
        await exchange.stall()
        return False

    return action


def stall_mid_body(declared: int = 4096, sent: int = 100) -> Action:
    """Send the headers and part of the body, then nothing more."""

    async def action(exchange: Exchange) -> bool:
        head = _head(200, [("Content-Length", str(declared)), ("Content-Type", "application/json")])
        await exchange.send(head + b" " * sent)
        await exchange.stall()
        return False

    return action


def oversized_body(size: int, *, chunked: bool, status: int = 200) -> Action:
    """A JSON-ish body of ``size`` bytes, announced by Content-Length or sent chunked.

    The server writes until the client stops reading, then gives up: a client that buffers
    without bound would read all of it.
    """
    piece = b" " * 65536

    async def action(exchange: Exchange) -> bool:
        if chunked:
            fields = [("Transfer-Encoding", "chunked"), ("Content-Type", "application/json")]
        else:
            fields = [("Content-Length", str(size)), ("Content-Type", "application/json")]
        try:
            await exchange.send(_head(status, fields))
            remaining = size
            while remaining > 0:
                chunk = piece[: min(remaining, len(piece))]
                remaining -= len(chunk)
                if chunked:
                    await exchange.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                else:
                    await exchange.send(chunk)
            if chunked:
                await exchange.send(b"0\r\n\r\n")
        except ConnectionError:
            return False
        return True

    return action


def redirect(status: int, location: str) -> Action:
    """A redirect to ``location`` (a real client must not follow it with our credentials)."""
    return respond(status, b"", content_type=None, headers=[("Location", location)])


def raw_bytes(data: bytes) -> Action:
    """Write ``data`` as the whole response, whatever it is, then close the connection."""

    async def action(exchange: Exchange) -> bool:
        await exchange.send(data)
        return False

    return action


class Script:
    """Answers requests with ``actions`` in order, then with ``then`` forever."""

    def __init__(self, *actions: Action, then: Action | None = None) -> None:
        self._actions = list(actions)
        self._then = then if then is not None else stall_before_headers()

    def __call__(self, request: Received) -> Action:
        return self._actions.pop(0) if self._actions else self._then


class RawServer:
    """An HTTP/1.1 server on 127.0.0.1 whose answers are chosen by ``choose(request)``.

    Use as an async context manager. ``tls`` makes it speak HTTPS (the TLS handshake happens
    after the TCP connection is counted, so refused handshakes are counted too).
    ``keep_requests=False`` only counts requests, for runs too long to keep them all.
    """

    def __init__(
        self,
        choose: Callable[[Received], Action],
        *,
        tls: ssl.SSLContext | None = None,
        keep_requests: bool = True,
    ) -> None:
        self.choose = choose
        self.requests: list[Received] = []
        """Every request received, unless ``keep_requests`` is false (a soak keeps none)."""
        self.received = 0
        """How many requests arrived."""
        self.connections = 0
        """How many TCP connections were accepted."""
        self._keep_requests = keep_requests
        self._arrivals: list[tuple[int, asyncio.Future[None]]] = []
        self._tls = tls
        self._server: asyncio.Server | None = None
        self._closing = asyncio.Event()
        self._handlers: set[asyncio.Task[None]] = set()
        self._connection_numbers = itertools.count(1)

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """Base URL with a trailing slash."""
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/"

    async def until_received(self, count: int) -> None:
        """Return once ``count`` requests have arrived in all."""
        if self.received >= count:
            return
        entry = (count, asyncio.get_running_loop().create_future())
        self._arrivals.append(entry)
        try:
            await entry[1]
        finally:
            self._arrivals.remove(entry)

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        connection = next(self._connection_numbers)
        try:
            if self._tls is not None:
                await writer.start_tls(self._tls)
            while not self._closing.is_set():
                request = await _read_request(reader, connection)
                if request is None:
                    break
                self.received += 1
                if self._keep_requests:
                    self.requests.append(request)
                for count, arrived in self._arrivals:
                    if self.received >= count and not arrived.done():
                        arrived.set_result(None)
                action = self.choose(request)
                if not await action(Exchange(writer, request, self._closing)):
                    break
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            # The stream's protocol keeps the connection's error (a failed handshake, a broken
            # pipe) in a future that only its __del__ marks as seen; free-threaded builds'
            # garbage collector can free that future first, which reports "Future exception
            # was never retrieved". Waiting for the close sees it. aclose() cancels a wait that
            # does not end (a client that stopped reading).
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._handlers.discard(task)


async def _read_request(reader: asyncio.StreamReader, connection: int) -> Received | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Received(connection, method, target, headers, body)


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A 127.0.0.1 port that refuses connections: bound, so no one else takes it, never listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port
    finally:
        sock.close()
