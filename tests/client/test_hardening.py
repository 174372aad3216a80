"""Edge cases found in review: caller sessions, hostile responses, and what errors keep."""

from __future__ import annotations

import asyncio
import gzip
import math
import traceback
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

import stytch_totp
from stytch_totp import Client, InvalidParamsError, RetryPolicy
from tests.conftest import PROJECT_ID, SECRET, ServerFactory, load_example

AUTHORIZATION = aiohttp.encode_basic_auth(PROJECT_ID, SECRET)


def error_app(status: int) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(load_example("error_401_unauthorized_credentials"), status=status)

    app = web.Application()
    app.router.add_post("/v1/totps/recovery_codes", handler)
    return app


@pytest.fixture
async def bad_status_line_server() -> AsyncIterator[str]:
    """A server whose status line is not HTTP: aiohttp raises a ClientResponseError."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/"
    server.close()
    await server.wait_closed()


async def test_errors_do_not_keep_aiohttp_errors_that_carry_the_request_headers(
    bad_status_line_server: str,
) -> None:
    async with Client(
        PROJECT_ID, SECRET, base_url=bad_status_line_server, retry=RetryPolicy.none()
    ) as client:
        with pytest.raises(stytch_totp.APIConnectionError) as caught:
            await client.totps.create(user_id="u")
    error = caught.value
    chain = [error.__cause__, error.__context__]
    assert not any(isinstance(link, aiohttp.ClientResponseError) for link in chain)
    shown = "".join(traceback.format_exception(error)) + repr(vars(error))
    assert AUTHORIZATION not in shown
    assert AUTHORIZATION.split()[1] not in shown


async def test_an_unparsable_body_is_not_kept_in_the_error_context(serve: ServerFactory) -> None:
    body = load_example("create")
    raw = web.json_response(body).body
    assert isinstance(raw, bytes)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=raw + b"junk", content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/totps", handler)
    url = await serve(app)
    async with Client(PROJECT_ID, SECRET, base_url=url) as client:
        with pytest.raises(stytch_totp.UnexpectedResponseError) as caught:
            await client.totps.create(user_id="u")
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None


async def test_the_size_cap_counts_decompressed_bytes(serve: ServerFactory) -> None:
    bomb = gzip.compress(b"[" + b"0," * 2_000_000 + b"0]")  # ~4 MB of JSON in a few KB

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=bomb, content_type="application/json", headers={"Content-Encoding": "gzip"}
        )

    app = web.Application()
    app.router.add_post("/v1/totps/recovery_codes", handler)
    url = await serve(app)
    assert len(bomb) < 100_000
    async with Client(
        PROJECT_ID, SECRET, base_url=url, max_response_bytes=100_000, retry=RetryPolicy.none()
    ) as client:
        with pytest.raises(stytch_totp.UnexpectedResponseError, match="larger than"):
            await client.totps.recovery_codes(user_id="u")


async def test_a_compressed_body_under_the_cap_is_read(serve: ServerFactory) -> None:
    compressed = gzip.compress(web.json_response(load_example("recovery_codes")).body)  # type: ignore[arg-type]

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=compressed, content_type="application/json", headers={"Content-Encoding": "gzip"}
        )

    app = web.Application()
    app.router.add_post("/v1/totps/recovery_codes", handler)
    url = await serve(app)
    async with Client(PROJECT_ID, SECRET, base_url=url) as client:
        codes = await client.totps.recovery_codes(user_id="u")
    assert len(codes.totps[0].recovery_codes) == 10


@pytest.mark.parametrize("user_agent", ["app/1\r\nX-Evil: 1", "tab\there", 42])
def test_a_user_agent_that_would_break_the_header_is_refused(user_agent: object) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        Client(PROJECT_ID, SECRET, user_agent=user_agent)  # type: ignore[arg-type]
    assert caught.value.field == "user_agent"


@pytest.mark.parametrize("timeout", [math.nan, -1.0, math.inf * 0])
def test_a_nan_or_negative_timeout_is_refused(timeout: float) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        Client(PROJECT_ID, SECRET, timeout=timeout)
    assert caught.value.field == "timeout"


def test_the_authorization_header_is_sent_but_never_shown() -> None:
    client = Client(PROJECT_ID, SECRET)
    value = client._headers["Authorization"]
    assert value == AUTHORIZATION
    assert f"{value}" == AUTHORIZATION
    assert AUTHORIZATION not in repr(client._headers)
