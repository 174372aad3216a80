"""``benchmarks/_server.py``: correct HTTP/1.1, realistic bodies, delays that block nobody."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import aiohttp
import pytest
import run
from _server import response_bodies, with_user_id
from multidict import CIMultiDict, CIMultiDictProxy
from stytch.consumer.models.totps import AuthenticateResponse as OfficialAuthenticateResponse
from stytch.consumer.models.totps import CreateResponse as OfficialCreateResponse

from stytch_totp import AuthenticateResponse, CreateResponse, _jsoncodec
from stytch_totp._core.protocol import AUTHENTICATE, CREATE, decode_response

JSON_HEADERS = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))


def request(
    path: str, body: dict[str, Any] | bytes, *, method: str = "POST", extra: str = ""
) -> bytes:
    payload = body if isinstance(body, bytes) else _jsoncodec.dumps(body)
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(payload)}\r\n"
    return (head + extra + "\r\n").encode() + payload


def read_response(reader: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One response from ``reader`` (a socket), using ``buffer`` for what arrived early."""
    while b"\r\n\r\n" not in buffer:
        chunk = reader.recv(65536)
        assert chunk, "connection closed before a full response"
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = reader.recv(65536)
        assert chunk, "connection closed in the middle of a body"
        rest += chunk
    buffer[:] = rest[length:]
    return int(status_line.split()[1]), headers, rest[:length]


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def test_keep_alive_connection_serves_every_endpoint(server: tuple[str, int]) -> None:
    _, port = server
    buffer = bytearray()
    with connect(port) as connection:
        for path, name in (
            ("/v1/totps", "create"),
            ("/v1/totps/authenticate", "authenticate"),
            ("/v1/totps/recovery_codes", "recovery_codes"),
            ("/v1/totps/recover", "recover"),
        ):
            body: dict[str, Any] = {"user_id": f"user-{name}", "session_duration_minutes": 60}
            connection.sendall(request(path, body))
            status, headers, content = read_response(connection, buffer)
            assert status == 200
            assert headers["content-type"] == "application/json"
            data = _jsoncodec.loads(content)
            assert data["user_id"] == f"user-{name}"
            assert data["status_code"] == 200


def test_pipelined_requests_split_anywhere_are_answered_in_order(server: tuple[str, int]) -> None:
    _, port = server
    stream = b"".join(request("/v1/totps", {"user_id": f"user-{index}"}) for index in range(5))
    buffer = bytearray()
    with connect(port) as connection:
        # Cut inside a request line, a header and a body: the parser must wait for the rest.
        for start, end in ((0, 7), (7, 40), (40, len(stream) // 2), (len(stream) // 2, None)):
            connection.sendall(stream[start:end])
            time.sleep(0.01)
        user_ids = [
            _jsoncodec.loads(read_response(connection, buffer)[2])["user_id"] for _ in range(5)
        ]
    assert user_ids == [f"user-{index}" for index in range(5)]


def test_user_id_is_spliced_into_every_place_with_json_escaping(server: tuple[str, int]) -> None:
    _, port = server
    tricky = 'user-"quoted"-\\-é'
    with connect(port) as connection:
        connection.sendall(
            request("/v1/totps/authenticate", {"user_id": tricky, "session_duration_minutes": 5})
        )
        data = _jsoncodec.loads(read_response(connection, bytearray())[2])
    assert data["user_id"] == data["user"]["user_id"] == data["session"]["user_id"] == tricky


def test_a_login_without_session_gets_no_session(server: tuple[str, int]) -> None:
    _, port = server
    with connect(port) as connection:
        connection.sendall(request("/v1/totps/authenticate", {"user_id": "u", "totp_code": "1"}))
        data = _jsoncodec.loads(read_response(connection, bytearray())[2])
    assert data["session"] is None
    assert data["session_token"] == data["session_jwt"] == ""


def test_new_users_get_distinct_ids(server: tuple[str, int]) -> None:
    _, port = server
    buffer = bytearray()
    with connect(port) as connection:
        ids = set()
        for _ in range(3):
            connection.sendall(request("/v1/users", {"email": "a@example.com"}))
            ids.add(_jsoncodec.loads(read_response(connection, buffer)[2])["user_id"])
    assert len(ids) == 3


@pytest.mark.parametrize(
    ("raw", "status", "error_type"),
    [
        (request("/v1/nowhere", {"user_id": "u"}), 404, "not_found"),
        (request("/v1/totps", b"", method="GET"), 405, "method_not_allowed"),
        (request("/v1/totps", b"not json"), 400, "invalid_request"),
        (request("/v1/totps", b"[1, 2]"), 400, "invalid_request"),
        (request("/v1/totps", {"no_user_id": True}), 400, "invalid_request"),
    ],
)
def test_bad_requests_get_a_stytch_error_envelope(
    server: tuple[str, int], raw: bytes, status: int, error_type: str
) -> None:
    _, port = server
    with connect(port) as connection:
        connection.sendall(raw)
        answered, _, content = read_response(connection, bytearray())
    assert answered == status
    assert _jsoncodec.loads(content)["error_type"] == error_type


def test_connection_close_is_honoured(server: tuple[str, int]) -> None:
    _, port = server
    with connect(port) as connection:
        connection.sendall(request("/v1/totps", {"user_id": "u"}, extra="Connection: close\r\n"))
        buffer = bytearray()
        status, _headers, _ = read_response(connection, buffer)
        assert status == 200
        assert connection.recv(1) == b""  # the server closed its side


def test_chunked_request_bodies_are_refused_and_the_connection_closed(
    server: tuple[str, int],
) -> None:
    _, port = server
    with connect(port) as connection:
        connection.sendall(
            b"POST /v1/totps HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        )
        status, _, _ = read_response(connection, bytearray())
        assert status == 501
        assert connection.recv(1) == b""


@pytest.mark.parametrize(
    ("route", "operation", "model", "official_model"),
    [
        ("authenticate", AUTHENTICATE, AuthenticateResponse, OfficialAuthenticateResponse),
        ("create", CREATE, CreateResponse, OfficialCreateResponse),
    ],
)
def test_bodies_are_realistic_and_both_sdks_parse_them(
    route: str, operation: Any, model: type[Any], official_model: Any
) -> None:
    body = with_user_id(response_bodies()[route], "user-test-1")
    parsed = decode_response(operation, 200, JSON_HEADERS, body)
    assert isinstance(parsed, model)
    assert parsed.user.user_id == "user-test-1"
    assert parsed.user.emails
    assert parsed.user.phone_numbers
    assert parsed.user.providers
    assert parsed.user.webauthn_registrations
    assert parsed.user.totps
    official = official_model.from_json(200, _jsoncodec.loads(body))
    assert official.user_id == "user-test-1"
    if route == "authenticate":
        assert 3 * 1024 <= len(body) <= 5 * 1024
        assert parsed.session is not None
        assert len(parsed.session.authentication_factors) == 3
        assert parsed.session.custom_claims
        assert official.session is not None


async def test_a_delayed_response_blocks_no_other_connection() -> None:
    # Every request is held at once (the server's own count says so), then all are answered.
    calls = 50
    with run.local_server(delay=0.3) as (url, port):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def call(index: int) -> str:
                async with session.post(url + "v1/totps", json={"user_id": f"u{index}"}) as r:
                    return str((await r.json())["user_id"])

            answered = await asyncio.gather(*(call(index) for index in range(calls)))
        stats = await asyncio.to_thread(run.server_stats, port)
    assert answered == [f"u{index}" for index in range(calls)]
    assert stats["peak_pending"] == calls


def test_sigterm_stops_the_server() -> None:
    process = subprocess.Popen(
        [sys.executable, str(run.HERE / "_server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("READY ")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    process.stdout.close()


def test_the_server_stops_when_the_process_that_started_it_is_gone() -> None:
    # A parent that starts the server, prints its pid and exits without stopping it.
    parent = (
        "import subprocess, sys\n"
        f"p = subprocess.Popen([sys.executable, {str(run.HERE / '_server.py')!r}, '--port', '0'],"
        " stdout=subprocess.PIPE, text=True)\n"
        "p.stdout.readline()\n"
        "print(p.pid, flush=True)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", parent], capture_output=True, text=True, timeout=60, check=True
    )
    server_pid = int(completed.stdout)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not _is_running(server_pid):
            return
        time.sleep(0.1)
    os.kill(server_pid, signal.SIGKILL)
    pytest.fail("the orphaned server was still running 30 s after its parent exited")


def _is_running(pid: int) -> bool:
    """``False`` once ``pid`` has exited (a zombie waiting to be reaped has exited too)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
