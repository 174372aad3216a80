"""Credentials stay with the configured host: redirects, TLS verification, plain HTTP."""

from __future__ import annotations

import asyncio
import ssl

import aiohttp
import pytest

from stytch_totp import (
    APIConnectionError,
    APIStatusError,
    Client,
    FailureKind,
    InvalidParamsError,
    TransportError,
)
from tests.conftest import PROJECT_ID, SECRET
from tests.reliability._helpers import OPERATIONS, Operation, connections_in_use, no_warnings
from tests.reliability._servers import redirect
from tests.reliability._tls import SelfSigned, make_self_signed
from tests.reliability.conftest import MakeClient, StartServer

HANG_GUARD = 20.0


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
async def test_a_redirect_to_another_host_is_not_followed(
    start_server: StartServer, make_client: MakeClient, status: int, operation: Operation
) -> None:
    elsewhere = await start_server(lambda _: operation.succeed())
    server = await start_server(lambda r: redirect(status, elsewhere.url.rstrip("/") + r.target))
    client = make_client(server.url)

    with no_warnings():
        async with asyncio.timeout(HANG_GUARD):
            with pytest.raises(APIStatusError) as caught:
                await operation.call(client)

        error = caught.value
        assert type(error) is APIStatusError
        assert error.status_code == status
        assert "redirect" in str(error)
        # The credentials went to the configured host, once, and never anywhere else.
        assert len(server.requests) == 1
        assert server.requests[0].headers["authorization"].startswith("Basic ")
        assert elsewhere.connections == 0
        assert elsewhere.requests == []
        assert connections_in_use(client) == 0


@pytest.fixture
def stranger() -> SelfSigned:
    """Another self-signed certificate, unrelated to the server's."""
    return make_self_signed()


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
async def test_a_self_signed_server_is_refused_by_default(
    start_server: StartServer,
    make_client: MakeClient,
    tls_server_context: ssl.SSLContext,
    operation: Operation,
) -> None:
    server = await start_server(lambda _: operation.succeed(), tls=tls_server_context)
    assert server.url.startswith("https://127.0.0.1:")
    client = make_client(server.url)

    with no_warnings():
        async with asyncio.timeout(HANG_GUARD):
            with pytest.raises(APIConnectionError) as caught:
                await operation.call(client)

        error = caught.value
        assert type(error) is APIConnectionError
        assert "TLS" in str(error)
        assert error.kind is FailureKind.TLS
        assert isinstance(error.__cause__, TransportError)
        assert isinstance(error.__cause__.__cause__, aiohttp.ClientSSLError)
        assert not error.may_have_been_processed
        # One handshake, refused, and no retry: a bad certificate does not get better.
        assert server.connections == 1
        assert error.attempts == 1
        assert server.requests == []
        assert connections_in_use(client) == 0


async def test_a_context_trusting_another_certificate_is_refused_too(
    start_server: StartServer,
    make_client: MakeClient,
    tls_server_context: ssl.SSLContext,
    stranger: SelfSigned,
) -> None:
    operation = OPERATIONS[2]
    server = await start_server(lambda _: operation.succeed(), tls=tls_server_context)
    client = make_client(server.url, ssl_context=stranger.trusting_context())

    with no_warnings(), pytest.raises(APIConnectionError, match="TLS"):
        await operation.call(client)
    assert server.requests == []


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
async def test_a_context_that_trusts_the_server_is_accepted(
    start_server: StartServer,
    make_client: MakeClient,
    tls_server_context: ssl.SSLContext,
    self_signed: SelfSigned,
    operation: Operation,
) -> None:
    server = await start_server(lambda _: operation.succeed(), tls=tls_server_context)
    client = make_client(server.url, ssl_context=self_signed.trusting_context())

    with no_warnings():
        result = await operation.call(client)
        await operation.call(client)
    assert type(result).__name__.endswith("Response")
    # Both calls over one TLS connection: verification did not cost the pool its reuse.
    assert [r.connection for r in server.requests] == [1, 1]
    assert server.requests[0].headers["authorization"].startswith("Basic ")
    assert connections_in_use(client) == 0


@pytest.fixture
async def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) any DNS lookup or connection the loop is asked to make."""
    attempts: list[str] = []
    loop = asyncio.get_running_loop()

    async def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(repr(args))
        raise AssertionError("no connection may be attempted")

    monkeypatch.setattr(loop, "getaddrinfo", refuse)
    monkeypatch.setattr(loop, "create_connection", refuse)
    return attempts


@pytest.mark.parametrize(
    "base_url",
    [
        "http://example.com/",
        "HTTP://EXAMPLE.COM/",
        "http://example.com:80/",
        "http://10.0.0.1/",
        "http://192.168.1.10:8080/",
        "http://0.0.0.0/",
        "http://[2001:db8::1]/",
        "http://127.0.0.1.example.com/",
        "http://localhost.example.com/",
        "http://2130706433/",
    ],
)
async def test_plain_http_to_a_non_loopback_host_is_refused_before_any_connection(
    no_network: list[str], base_url: str
) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        Client(PROJECT_ID, SECRET, base_url=base_url)
    assert caught.value.field == "base_url"
    assert "http://" in str(caught.value)
    assert no_network == []


async def test_plain_http_from_the_environment_is_refused_too(
    no_network: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYTCH_PROJECT_ID", PROJECT_ID)
    monkeypatch.setenv("STYTCH_SECRET", SECRET)
    monkeypatch.setenv("STYTCH_BASE_URL", "http://example.com/")
    with pytest.raises(InvalidParamsError, match="base_url"):
        Client.from_env()
    assert no_network == []


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:8080/", "http://127.8.9.10/", "http://[::1]:8080/", "http://localhost/"],
)
def test_plain_http_to_loopback_is_allowed_for_local_emulators(base_url: str) -> None:
    assert Client(PROJECT_ID, SECRET, base_url=base_url).base_url == base_url
