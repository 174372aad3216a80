"""The connection pool against a real local server: lazy session, pooling, closing, timeouts."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from aiohttp import web

import stytch_totp
from stytch_totp import Client, RetryPolicy
from tests.conftest import PROJECT_ID, SECRET, ServerFactory, load_example


class RecordingApp:
    """A Stytch stand-in that counts requests and concurrency, optionally stalling."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests: list[web.Request] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._arrival = asyncio.Condition()
        self.app = web.Application()
        self.app.router.add_post("/v1/totps/recovery_codes", self.recovery_codes)
        self.app.router.add_post("/v1/totps/authenticate", self.authenticate)

    async def arrived(self, count: int) -> None:
        """Wait until ``count`` requests have reached the server."""
        async with self._arrival:
            await self._arrival.wait_for(lambda: len(self.requests) >= count)

    async def _enter(self, request: web.Request) -> None:
        self.requests.append(request)
        async with self._arrival:
            self._arrival.notify_all()
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1

    async def recovery_codes(self, request: web.Request) -> web.Response:
        await self._enter(request)
        return web.json_response(load_example("recovery_codes"))

    async def authenticate(self, request: web.Request) -> web.Response:
        await self._enter(request)
        return web.json_response(load_example("authenticate_no_session"))


def pool_of(client: Client) -> aiohttp.ClientSession | None:
    transport = client.transport
    assert isinstance(transport, stytch_totp.AiohttpTransport)
    return transport._session


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_session_is_created_lazily_and_reused(serve: ServerFactory) -> None:
    server = RecordingApp()
    url = await serve(server.app)
    async with Client(PROJECT_ID, SECRET, base_url=url) as client:
        assert pool_of(client) is None
        await client.totps.recovery_codes(user_id="u")
        session = pool_of(client)
        assert session is not None
        await client.totps.recovery_codes(user_id="u")
        assert pool_of(client) is session
    assert session.closed
    assert client.closed
    assert len(server.requests) == 2
    assert server.requests[0].headers["Authorization"] == aiohttp.encode_basic_auth(
        PROJECT_ID, SECRET
    )


async def test_aclose_is_idempotent_and_a_closed_client_refuses_calls() -> None:
    client = Client(PROJECT_ID, SECRET)
    await client.aclose()
    await client.aclose()
    with pytest.raises(stytch_totp.ClientClosedError) as caught:
        await client.totps.recovery_codes(user_id="u")
    assert caught.value.may_have_been_processed is False
    with pytest.raises(stytch_totp.ClientClosedError):
        async with client:
            pass


async def test_closing_while_calls_are_in_flight_ends_them_with_a_clear_error(
    serve: ServerFactory,
) -> None:
    server = RecordingApp(delay=5)
    url = await serve(server.app)
    client = Client(PROJECT_ID, SECRET, base_url=url)
    calls = [asyncio.create_task(client.totps.recovery_codes(user_id="u")) for _ in range(5)]
    await server.arrived(5)
    async with asyncio.timeout(5):  # a hang detector, not a timing assertion
        await client.aclose()
        results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, stytch_totp.ClientClosedError) for r in results), results


async def test_max_connections_bounds_the_pool(serve: ServerFactory) -> None:
    server = RecordingApp(delay=0.02)
    url = await serve(server.app)
    async with Client(PROJECT_ID, SECRET, base_url=url, max_connections=4) as client:
        await asyncio.gather(*(client.totps.recovery_codes(user_id="u") for _ in range(40)))
    assert len(server.requests) == 40
    assert server.peak_in_flight == 4


async def test_a_thousand_concurrent_calls_share_one_client(serve: ServerFactory) -> None:
    server = RecordingApp(delay=0.01)
    url = await serve(server.app)
    async with Client(PROJECT_ID, SECRET, base_url=url) as client:
        results = await asyncio.gather(
            *(client.totps.authenticate(user_id="u", totp_code="123456") for _ in range(1000))
        )
        session = pool_of(client)
        connector = session.connector if session else None
        assert connector is not None
        assert len(connector._acquired) == 0  # every connection went back to the pool
    assert len(results) == 1000
    assert all(r.user_id == results[0].user_id for r in results)
    assert server.peak_in_flight <= 100  # the default pool size


async def test_a_stalled_authenticate_times_out_once_and_is_not_replayed(
    serve: ServerFactory,
) -> None:
    server = RecordingApp(delay=5)
    url = await serve(server.app)
    async with Client(PROJECT_ID, SECRET, base_url=url, timeout=0.2) as client:
        with pytest.raises(stytch_totp.APITimeoutError) as caught:
            await client.totps.authenticate(user_id="u", totp_code="123456")
    assert caught.value.may_have_been_processed is True
    assert len(server.requests) == 1


async def test_a_stalled_read_only_call_is_retried_then_times_out(serve: ServerFactory) -> None:
    server = RecordingApp(delay=5)
    url = await serve(server.app)
    policy = RetryPolicy(max_retries=2, initial_backoff=0.01)
    async with Client(PROJECT_ID, SECRET, base_url=url, timeout=0.2, retry=policy) as client:
        with pytest.raises(stytch_totp.APITimeoutError) as caught:
            await client.totps.recovery_codes(user_id="u")
    assert caught.value.attempts == 3
    assert len(server.requests) == 3


async def test_per_call_timeout_overrides_the_client_timeout(serve: ServerFactory) -> None:
    server = RecordingApp(delay=0.5)
    url = await serve(server.app)
    async with Client(PROJECT_ID, SECRET, base_url=url, timeout=0.1) as client:
        codes = await client.totps.recovery_codes(user_id="u", timeout=10)
    assert codes.user_id == "user-test-16d9ba61-97a1-4ba4-9720-b03761dc50c6"


async def test_a_refused_connection_is_retried_because_nothing_was_sent() -> None:
    policy = RetryPolicy(max_retries=2, initial_backoff=0.01)
    base_url = f"http://127.0.0.1:{unused_port()}/"
    async with Client(PROJECT_ID, SECRET, base_url=base_url, retry=policy) as client:
        with pytest.raises(stytch_totp.APIConnectionError) as caught:
            await client.totps.authenticate(user_id="u", totp_code="123456")
    assert type(caught.value) is stytch_totp.APIConnectionError
    assert caught.value.may_have_been_processed is False
    assert caught.value.attempts == 3
    assert caught.value.kind is stytch_totp.FailureKind.CONNECT
    # The chain keeps what went wrong: the transport's report, and aiohttp's error behind it.
    assert isinstance(caught.value.__cause__, stytch_totp.TransportError)
    assert isinstance(caught.value.__cause__.__cause__, aiohttp.ClientConnectorError)


async def test_redirects_are_not_followed_so_credentials_stay_home(serve: ServerFactory) -> None:
    elsewhere: list[web.Request] = []

    async def record(request: web.Request) -> web.Response:
        elsewhere.append(request)
        return web.json_response(load_example("recovery_codes"))

    other = web.Application()
    other.router.add_route("*", "/{tail:.*}", record)
    other_url = await serve(other)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(other_url + "v1/totps/recovery_codes")

    app = web.Application()
    app.router.add_post("/v1/totps/recovery_codes", redirect)
    url = await serve(app)
    async with Client(PROJECT_ID, SECRET, base_url=url) as client:
        with pytest.raises(stytch_totp.APIStatusError) as caught:
            await client.totps.recovery_codes(user_id="u")
    assert caught.value.status_code == 307
    assert "redirect" in str(caught.value)
    assert elsewhere == []


async def test_another_event_loop_gets_a_pool_of_its_own(serve: ServerFactory) -> None:
    server = RecordingApp()
    url = await serve(server.app)
    client = Client(PROJECT_ID, SECRET, base_url=url)
    await client.totps.recovery_codes(user_id="u")
    ours = pool_of(client)

    def use_from_another_loop() -> tuple[int, bool]:
        async def call() -> tuple[int, bool]:
            listing = await client.totps.recovery_codes(user_id="u")
            theirs = pool_of(client)
            return len(listing.totps), theirs is not None and theirs is not ours

        return asyncio.run(call())

    assert await asyncio.to_thread(use_from_another_loop) == (1, True)
    # That loop's pool was closed when asyncio.run ended; this loop's is still in use.
    assert pool_of(client) is ours
    await client.totps.recovery_codes(user_id="u")
    assert len(server.requests) == 3
    await client.aclose()
    assert ours is not None
    assert ours.closed
