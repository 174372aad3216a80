"""Response size cap: a broken or hostile server cannot make the client buffer without bound."""

from __future__ import annotations

import asyncio

import pytest

from stytch_totp import (
    BadRequestError,
    InternalServerError,
    StytchError,
    UnexpectedResponseError,
    _config,
    _jsoncodec,
)
from tests.reliability._helpers import (
    OPERATIONS,
    connections_idle,
    connections_in_use,
    no_warnings,
)
from tests.reliability._servers import Script, oversized_body, respond, respond_chunked
from tests.reliability.conftest import MakeClient, StartServer

CAP = 2048
OPERATION = OPERATIONS[2]  # recovery_codes: read-only, so a retry would show if one happened
HANG_GUARD = 20.0


def _padded_success(size: int) -> bytes:
    """A valid success body, padded with JSON whitespace to exactly ``size`` bytes."""
    body = _jsoncodec.dumps(OPERATION.success_body())
    assert len(body) <= size
    return body + b" " * (size - len(body))


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(
    ("status", "error"),
    [(200, UnexpectedResponseError), (400, BadRequestError), (500, InternalServerError)],
)
async def test_a_body_over_the_cap_is_refused_and_its_connection_dropped(
    start_server: StartServer,
    make_client: MakeClient,
    chunked: bool,
    status: int,
    error: type[StytchError],
) -> None:
    operation = OPERATIONS[1]  # authenticate: never retried after a 500, so one attempt each
    server = await start_server(
        Script(
            oversized_body(64 * CAP, chunked=chunked, status=status),
            then=operation.succeed(),
        )
    )
    client = make_client(server.url, max_response_bytes=CAP)

    with no_warnings():
        async with asyncio.timeout(HANG_GUARD):
            with pytest.raises(StytchError) as caught:
                await operation.call(client)
        assert type(caught.value) is error
        if isinstance(caught.value, UnexpectedResponseError):
            assert "max_response_bytes" in caught.value.reason
        assert len(server.requests) == 1
        assert connections_in_use(client) == 0
        # The rest of that body is still on the wire: the connection must not go back to the pool.
        assert connections_idle(client) == 0

        await operation.call(client)
        assert server.requests[1].connection != server.requests[0].connection


async def test_a_500_over_the_cap_follows_the_usual_retry_rules(
    start_server: StartServer, make_client: MakeClient
) -> None:
    server = await start_server(lambda _: oversized_body(64 * CAP, chunked=True, status=500))
    client = make_client(server.url, max_response_bytes=CAP)

    with no_warnings():
        for operation in OPERATIONS:
            server.requests.clear()
            with pytest.raises(InternalServerError):
                await operation.call(client)
            assert len(server.requests) == (3 if operation.read_only else 1)
            # One new connection per attempt: none of them was reused mid-body.
            assert len({r.connection for r in server.requests}) == len(server.requests)
        assert connections_in_use(client) == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_exactly_at_the_cap_is_accepted_and_one_byte_more_is_not(
    start_server: StartServer, make_client: MakeClient, chunked: bool
) -> None:
    body = _padded_success(CAP)
    server = await start_server(
        lambda _: respond_chunked(200, body) if chunked else respond(200, body)
    )

    at_cap = make_client(server.url, max_response_bytes=CAP)
    below_cap = make_client(server.url, max_response_bytes=CAP - 1)
    with no_warnings():
        result = await OPERATION.call(at_cap)
        assert type(result).__name__ == "RecoveryCodesResponse"
        with pytest.raises(UnexpectedResponseError, match="max_response_bytes"):
            await OPERATION.call(below_cap)
        # An oversized 2xx is not retried, even for the read-only call: the cap is the client's.
        assert len(server.requests) == 2
        assert connections_in_use(at_cap) == connections_in_use(below_cap) == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_the_default_cap_applies_without_configuration(
    start_server: StartServer, make_client: MakeClient, chunked: bool
) -> None:
    limit = _config.DEFAULT_MAX_RESPONSE_BYTES
    server = await start_server(
        Script(oversized_body(limit + 1, chunked=chunked), then=OPERATION.succeed())
    )
    client = make_client(server.url, timeout=10.0)

    with no_warnings():
        async with asyncio.timeout(HANG_GUARD):
            with pytest.raises(UnexpectedResponseError, match="max_response_bytes"):
                await OPERATION.call(client)
            assert len(server.requests) == 1
            assert connections_in_use(client) == 0
            # Whether that connection was dropped or (fully read) kept, the pool still works.
            await OPERATION.call(client)
        assert connections_in_use(client) == 0


async def test_a_small_body_leaves_its_connection_in_the_pool(
    start_server: StartServer, make_client: MakeClient
) -> None:
    """The control for the tests above: without an oversized body the connection is reused."""
    server = await start_server(lambda _: OPERATION.succeed())
    client = make_client(server.url, max_response_bytes=CAP * 16)

    await OPERATION.call(client)
    assert connections_idle(client) == 1
    await OPERATION.call(client)
    assert server.requests[0].connection == server.requests[1].connection
