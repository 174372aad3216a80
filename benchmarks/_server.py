"""A minimal, fast HTTP/1.1 responder for Stytch's TOTP endpoints, run as its own process.

::

    python benchmarks/_server.py --port 0 [--delay SECONDS]

prints ``READY <port>`` on stdout once it listens on 127.0.0.1, then answers until it gets SIGTERM
or SIGINT, or until the process that started it goes away.

It is built on a raw :class:`asyncio.Protocol` rather than ``aiohttp.web`` so that the server is
never what a benchmark measures: bodies are serialized once at start-up and only the ``user_id`` of
the request is spliced into them. It speaks keep-alive HTTP/1.1 with ``Content-Length`` bodies,
answers pipelined requests in order, and with ``--delay`` holds every response back by that many
seconds on a timer, so a slow answer never blocks another connection.

Routes (``POST`` with a JSON object body carrying ``user_id``):

* ``/v1/totps``, ``/v1/totps/authenticate``, ``/v1/totps/recovery_codes``, ``/v1/totps/recover``:
  Stytch's documented bodies with a full user object; ``authenticate`` and ``recover`` add a session
  with three authentication factors and custom claims when the request asks for one;
* ``/v1/users``: a new user, with a fresh ``user_id`` per call;
* ``GET /_stats``: ``{"requests": ..., "peak_pending": ...}``, to check a load really was in flight.

Anything else gets a Stytch-style JSON error (400, 404 or 405).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import copy
import json
import os
import signal
import sys
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final

from stytch_totp import _jsoncodec

EXAMPLES_DIR: Final = Path(__file__).resolve().parent.parent / "tests" / "examples"

#: Placeholder spliced out of every pre-serialized body and replaced by the request's user_id.
_USER_ID_SLOT: Final = "__bench_user_id__"
_USER_ID_SLOT_JSON: Final = _jsoncodec.dumps(_USER_ID_SLOT)

#: Largest request head accepted; beyond it the connection is answered 431 and closed.
_MAX_HEAD_BYTES: Final = 16 * 1024
#: Largest request body accepted; beyond it the connection is answered 413 and closed.
_MAX_BODY_BYTES: Final = 1024 * 1024
#: Seconds between checks that the parent process is still alive.
_PARENT_POLL_SECONDS: Final = 1.0

_SESSION_TOKEN: Final = "mZAYn5aLEqKUlZ_Ad9U_fWr38GaAQ1oFAhT8ds245v7Q"  # a made-up token
_SESSION_ID: Final = "session-test-fe6c042b-6286-479f-8a4f-b046a6c46509"
_TOTP_ID: Final = "totp-test-41920359-8bbb-4fe8-8fa3-aaa83f35f02c"


def _load(name: str) -> dict[str, Any]:
    with (EXAMPLES_DIR / f"{name}.json").open(encoding="utf-8") as file:
        data: dict[str, Any] = json.load(file)
    return data


def _fake_jwt() -> str:
    """A session JWT of realistic size (header.claims.signature, RS256-sized signature)."""
    header = {"alg": "RS256", "kid": "jwk-test-22d1bd33-1b2e-4fb7-8f26-c4a7b3c0e4a1", "typ": "JWT"}
    claims = {
        "aud": ["project-test-11111111-2222-3333-4444-555555555555"],
        "exp": 1745308612,
        "https://stytch.com/session": {
            "id": _SESSION_ID,
            "started_at": "2025-04-22T07:00:00Z",
            "last_accessed_at": "2025-04-22T07:41:52Z",
            "expires_at": "2025-04-22T08:00:00Z",
            "attributes": {"user_agent": "", "ip_address": ""},
            "authentication_factors": [
                {"type": "totp", "delivery_method": "authenticator_app"},
            ],
        },
        "iat": 1745308312,
        "iss": "stytch.com/project-test-11111111-2222-3333-4444-555555555555",
        "nbf": 1745308312,
        "sub": "user-test-16d9ba61-97a1-4ba4-9720-b03761dc50c6",
    }

    def segment(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    signature = bytes(range(256))  # 2048-bit RSA signatures are 256 bytes
    return ".".join(
        (segment(_jsoncodec.dumps(header)), segment(_jsoncodec.dumps(claims)), segment(signature))
    )


def _user() -> dict[str, Any]:
    """The published user (emails, phone, passkey, OAuth, password), with the TOTP in use."""
    user: dict[str, Any] = _load("authenticate_no_session")["user"]
    user["user_id"] = _USER_ID_SLOT
    user["totps"] = [{"totp_id": _TOTP_ID, "verified": True}]
    return user


def _session() -> dict[str, Any]:
    """The published session, with the TOTP factor just used and a few custom claims."""
    session = _load("session_object")
    session["user_id"] = _USER_ID_SLOT
    session["authentication_factors"].append(
        {
            "type": "totp",
            "delivery_method": "authenticator_app",
            "authenticator_app_factor": {"totp_id": _TOTP_ID},
            "created_at": "2025-04-22T07:41:52Z",
            "last_authenticated_at": "2025-04-22T07:41:52Z",
            "updated_at": "2025-04-22T07:41:52Z",
        }
    )
    session["custom_claims"] = {
        "claim1": "value1",
        "claim2": "value2",
        "tenant": {"id": "tenant-42", "plan": "enterprise", "features": ["sso", "audit"]},
    }
    session["attributes"] = {
        "ip_address": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    }
    return session


def response_bodies() -> dict[str, dict[str, Any]]:
    """The success bodies, keyed by route name, with ``user_id`` set to a placeholder.

    ``authenticate`` and ``recover`` are the variants with a session (what a login returns);
    ``authenticate_no_session`` and ``recover_no_session`` the ones without.
    """
    user = _user()
    create = _load("create")
    create.update(user=copy.deepcopy(user), user_id=_USER_ID_SLOT, totp_id=_TOTP_ID)
    authenticate_no_session = _load("authenticate_no_session")
    authenticate_no_session.update(user=copy.deepcopy(user), user_id=_USER_ID_SLOT)
    authenticate = copy.deepcopy(authenticate_no_session)
    authenticate.update(session=_session(), session_token=_SESSION_TOKEN, session_jwt=_fake_jwt())
    recover_no_session = _load("recover_no_session")
    recover_no_session.update(user=copy.deepcopy(user), user_id=_USER_ID_SLOT)
    recover = copy.deepcopy(recover_no_session)
    recover.update(session=_session(), session_token=_SESSION_TOKEN, session_jwt=_fake_jwt())
    recovery_codes = _load("recovery_codes")
    recovery_codes["user_id"] = _USER_ID_SLOT
    new_user = {
        "status_code": 200,
        "request_id": "request-id-test-0f9a3b9e-8d3c-4a5b-9b0e-5f7c2d1e3a4b",
        "user_id": _USER_ID_SLOT,
        "email_id": user["emails"][0]["email_id"],
        "phone_id": "",
        "status": "active",
        "user": {**copy.deepcopy(user), "totps": []},
    }
    return {
        "create": create,
        "authenticate": authenticate,
        "authenticate_no_session": authenticate_no_session,
        "recover": recover,
        "recover_no_session": recover_no_session,
        "recovery_codes": recovery_codes,
        "users_create": new_user,
    }


def with_user_id(body: dict[str, Any], user_id: str) -> bytes:
    """``body`` serialized with every ``user_id`` placeholder replaced by ``user_id``."""
    return _jsoncodec.dumps(body).replace(_USER_ID_SLOT_JSON, _jsoncodec.dumps(user_id))


def _error_body(status: int, error_type: str, message: str) -> bytes:
    return _jsoncodec.dumps(
        {
            "status_code": status,
            "request_id": "request-id-test-00000000-0000-0000-0000-000000000000",
            "error_type": error_type,
            "error_message": message,
            "error_url": f"https://stytch.com/docs/api/errors/{status}#{error_type}",
        }
    )


def _response(status: int, body: bytes, *, close: bool = False) -> bytes:
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if close:
        head += "Connection: close\r\n"
    return head.encode("latin-1") + b"\r\n" + body


class _Template:
    """A pre-serialized body split around its ``user_id`` placeholders."""

    __slots__ = ("parts", "size")

    def __init__(self, body: dict[str, Any]) -> None:
        self.parts = _jsoncodec.dumps(body).split(_USER_ID_SLOT_JSON)
        self.size = sum(len(part) for part in self.parts)

    def render(self, user_id_json: bytes) -> bytes:
        body = user_id_json.join(self.parts)
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%b"
            % (
                len(body),
                body,
            )
        )


class _Routes:
    """Maps a request to its response bytes; shared by every connection."""

    def __init__(self) -> None:
        bodies = response_bodies()
        self.templates = {name: _Template(body) for name, body in bodies.items()}
        self.requests = 0
        self.pending = 0
        self.peak_pending = 0
        self._users_created = 0
        self._not_found = _response(404, _error_body(404, "not_found", "No such route."))
        self._not_allowed = _response(
            405, _error_body(405, "method_not_allowed", "Only POST is supported.")
        )
        self._bad_body = _response(
            400, _error_body(400, "invalid_request", "Body must be a JSON object with user_id.")
        )
        self._handlers: dict[bytes, Callable[[dict[str, Any]], bytes]] = {
            b"/v1/totps": lambda data: self._render("create", data["user_id"]),
            b"/v1/totps/authenticate": lambda data: self._login("authenticate", data),
            b"/v1/totps/recovery_codes": lambda data: self._render(
                "recovery_codes", data["user_id"]
            ),
            b"/v1/totps/recover": lambda data: self._login("recover", data),
            b"/v1/users": lambda _data: self._new_user(),
        }

    def _render(self, name: str, user_id: object) -> bytes:
        if not isinstance(user_id, str):
            return self._bad_body
        return self.templates[name].render(_jsoncodec.dumps(user_id))

    def _login(self, name: str, data: dict[str, Any]) -> bytes:
        wants_session = (
            "session_duration_minutes" in data or "session_token" in data or "session_jwt" in data
        )
        return self._render(name if wants_session else f"{name}_no_session", data["user_id"])

    def _new_user(self) -> bytes:
        self._users_created += 1
        user_id = f"user-test-00000000-0000-4000-8000-{self._users_created:012d}"
        return self.templates["users_create"].render(_jsoncodec.dumps(user_id))

    def stats(self) -> bytes:
        body = _jsoncodec.dumps({"requests": self.requests, "peak_pending": self.peak_pending})
        return _response(200, body)

    def answer(self, method: bytes, path: bytes, body: bytes) -> bytes:
        self.requests += 1
        path = path.partition(b"?")[0]
        handler = self._handlers.get(path)
        if handler is None:
            if path == b"/_stats" and method == b"GET":
                return self.stats()
            return self._not_found
        if method != b"POST":
            return self._not_allowed
        try:
            data = _jsoncodec.loads(body) if path != b"/v1/users" else {}
        except _jsoncodec.JSONDecodeError:
            return self._bad_body
        if not isinstance(data, dict) or (path != b"/v1/users" and "user_id" not in data):
            return self._bad_body
        return handler(data)


class _Slot:
    """One response waiting for its delay, in the order its request arrived."""

    __slots__ = ("data", "ready")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.ready = False


class _Connection(asyncio.Protocol):
    """One keep-alive connection: parses requests as they arrive and answers them in order."""

    def __init__(self, routes: _Routes, delay: float) -> None:
        self._routes = routes
        self._delay = delay
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._queue: deque[_Slot] = deque()
        self._close_after_queue = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        out: list[bytes] = []
        close = False
        while buffer:
            head_end = buffer.find(b"\r\n\r\n")
            if head_end < 0:
                if len(buffer) > _MAX_HEAD_BYTES:
                    out.append(_response(431, b"", close=True))
                    close = True
                break
            head = bytes(buffer[:head_end])
            request_line, _, header_block = head.partition(b"\r\n")
            parts = request_line.split(b" ")
            if len(parts) != 3:
                out.append(_response(400, b"", close=True))
                close = True
                break
            method, target, version = parts
            length, keep_alive, chunked = self._parse_headers(header_block.lower(), version)
            if chunked or not 0 <= length <= _MAX_BODY_BYTES:
                status = 501 if chunked else 413 if length > 0 else 400
                out.append(_response(status, b"", close=True))
                close = True
                break
            body_start = head_end + 4
            if len(buffer) < body_start + length:
                break
            body = bytes(buffer[body_start : body_start + length])
            del buffer[: body_start + length]
            out.append(self._routes.answer(method, target, body))
            if not keep_alive:
                close = True
                break
        if close:
            buffer.clear()
        self._send(out, close)

    @staticmethod
    def _parse_headers(headers: bytes, version: bytes) -> tuple[int, bool, bool]:
        length = 0
        keep_alive = version == b"HTTP/1.1"
        chunked = False
        for line in headers.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip()
            if name == b"content-length":
                length = int(value) if value.strip().isdigit() else -1
            elif name == b"connection":
                value = value.strip()
                if value == b"close":
                    keep_alive = False
                elif value == b"keep-alive":
                    keep_alive = True
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value
        return length, keep_alive, chunked

    def _send(self, out: list[bytes], close: bool) -> None:
        transport = self._transport
        if transport is None or not out:
            if close and transport is not None:
                transport.close()
            return
        if self._delay <= 0:
            transport.write(out[0] if len(out) == 1 else b"".join(out))
            if close:
                transport.close()
            return
        loop = asyncio.get_running_loop()
        routes = self._routes
        for data in out:
            slot = _Slot(data)
            self._queue.append(slot)
            routes.pending += 1
            routes.peak_pending = max(routes.peak_pending, routes.pending)
            loop.call_later(self._delay, self._release, slot)
        self._close_after_queue = self._close_after_queue or close

    def _release(self, slot: _Slot) -> None:
        self._routes.pending -= 1
        slot.ready = True
        queue = self._queue
        ready: list[bytes] = []
        while queue and queue[0].ready:
            ready.append(queue.popleft().data)
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if ready:
            transport.write(b"".join(ready))
        if not queue and self._close_after_queue:
            transport.close()


async def serve(port: int, delay: float, ready: Callable[[int], None]) -> None:
    """Listen on 127.0.0.1:``port`` until cancelled; ``ready(port)`` once listening."""
    loop = asyncio.get_running_loop()
    routes = _Routes()
    server = await loop.create_server(
        lambda: _Connection(routes, delay), "127.0.0.1", port, backlog=65535, reuse_address=True
    )
    async with server:
        ready(server.sockets[0].getsockname()[1])
        await server.serve_forever()


def _raise_fd_limit() -> None:
    # Thousands of connections at once need thousands of descriptors.
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _main(port: int, delay: float) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    parent = os.getppid()

    def watch_parent() -> None:
        # Stop by ourselves when whoever started us is gone (we were re-parented).
        if os.getppid() != parent:
            task.cancel()
        else:
            loop.call_later(_PARENT_POLL_SECONDS, watch_parent)

    loop.call_later(_PARENT_POLL_SECONDS, watch_parent)

    def announce(bound_port: int) -> None:
        sys.stdout.write(f"READY {bound_port}\n")
        sys.stdout.flush()

    # SIGTERM, SIGINT and the parent's exit all end here, as a cancellation of this task.
    with contextlib.suppress(asyncio.CancelledError):
        await serve(port, delay, announce)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds to hold back every response"
    )
    args = parser.parse_args(argv)
    if args.delay < 0:
        parser.error("--delay must be >= 0")
    _raise_fd_limit()
    asyncio.run(_main(args.port, args.delay))
    return 0


if __name__ == "__main__":
    sys.exit(main())
