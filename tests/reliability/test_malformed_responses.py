"""Malformed responses are described, never quoted: no byte of them reaches an error or a log.

aiohttp's parser quotes the offending bytes in its messages, and a broken response (from a proxy,
or a server bug) may carry a TOTP secret or recovery codes where the status line should be.
"""

from __future__ import annotations

import io
import logging
import traceback

import pytest

from stytch_totp import APIConnectionError, APIStatusError, FailureKind, RetryPolicy, StytchError
from tests.reliability._helpers import OPERATIONS
from tests.reliability._servers import raw_bytes
from tests.reliability.conftest import MakeClient, StartServer

SECRET = "TOTPSECRETABC"
CODE = "aaaa-bbbb-cccc"
BODY = f'{{"secret": "{SECRET}", "recovery_codes": ["{CODE}"]}}'.encode()
RECOVER = next(op for op in OPERATIONS if op.name == "recover")

CASES = {
    "no status line": BODY + b"\r\n\r\n",
    "bad header token": b"HTTP/1.1 200 OK\r\nX{" + SECRET.encode() + b"}: 1\r\n\r\n",
    "header line without a colon": b"HTTP/1.1 200 OK\r\n" + BODY + b"\r\nContent-Length: 0\r\n\r\n",
    "bad status code": b"HTTP/1.1 2X0 " + SECRET.encode() + b"\r\nContent-Length: 0\r\n\r\n",
    "body longer than its Content-Length": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}" + BODY
    ),
    "bad chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ" + BODY + b"\r\n",
    "204 with a body": b"HTTP/1.1 204 No Content\r\n\r\n" + BODY,
}


def everything_shown(error: BaseException, caplog: pytest.LogCaptureFixture) -> str:
    """What a user, a log aggregator or an error tracker could ever see of ``error``."""
    parts = [str(error), repr(error), repr(vars(error)), "".join(traceback.format_exception(error))]
    link: BaseException | None = error
    while link is not None:  # every chained error, even a suppressed context
        parts += [str(link), repr(link)]
        link = link.__cause__ or link.__context__
    parts += [record.getMessage() + repr(vars(record)) for record in caplog.records]
    return "\n".join(parts)


@pytest.mark.parametrize("raw", CASES.values(), ids=CASES.keys())
async def test_a_malformed_response_is_described_without_its_bytes(
    start_server: StartServer,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    raw: bytes,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, aiohttp's, asyncio's
    server = await start_server(lambda _: raw_bytes(raw))
    client = make_client(server.url, retry=RetryPolicy.none())

    with pytest.raises(StytchError) as caught:
        await RECOVER.call(client)

    error = caught.value
    assert isinstance(error, APIConnectionError)
    assert error.kind in (FailureKind.PROTOCOL, FailureKind.DISCONNECTED)
    assert error.may_have_been_processed  # the request went out; the answer was unusable
    shown = everything_shown(error, caplog)
    assert SECRET not in shown
    assert CODE not in shown
    assert "unusable response" in str(error) or "without answering" in str(error)


async def test_header_text_that_is_not_utf8_cannot_break_a_log_line(
    start_server: StartServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    raw = (
        b"HTTP/1.1 500 Internal Server Error\r\nRequest-Id: req-\xff\xfe\xc3\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    caplog.set_level(logging.DEBUG, logger="stytch_totp")
    server = await start_server(lambda _: raw_bytes(raw))
    client = make_client(server.url, retry=RetryPolicy.none())

    with pytest.raises(APIStatusError) as caught:
        await RECOVER.call(client)

    error = caught.value
    assert error.request_id is not None
    assert error.request_id.startswith("req-")
    assert error.request_id.isprintable()
    # A UTF-8 log handler writes the line instead of dropping it with an encoding error.
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    handler = logging.StreamHandler(stream)
    record = logging.LogRecord("app", logging.ERROR, __file__, 1, "call failed: %s", (error,), None)
    handler.emit(record)
    handler.flush()
    assert str(error).encode("utf-8")
    assert "req-" in stream.buffer.getvalue().decode("utf-8")
