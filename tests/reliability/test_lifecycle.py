"""Cancellation and closing under load: every connection comes back, nothing hangs or warns."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from stytch_totp import ClientClosedError, RetryPolicy, _jsoncodec
from tests.reliability._helpers import (
    OPERATIONS,
    Operation,
    connections_in_use,
    no_warnings,
)
from tests.reliability._servers import (
    Action,
    Exchange,
    Received,
    respond,
    respond_json,
    stall_before_headers,
    stall_mid_body,
)
from tests.reliability.conftest import MakeClient, StartServer

HANG_GUARD = 30.0


def _answer_in_pieces(body: bytes, rng: random.Random) -> Action:
    """A correct response, written in up to four pieces with short pauses between them.

    The pauses put the client's cancellation anywhere: before the status line, between the
    headers and the body, in the middle of the body.
    """
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nContent-Type: application/json\r\n\r\n"
    )
    data = head.encode() + body
    cuts = sorted(rng.sample(range(1, len(data)), 3))
    pieces = [data[i:j] for i, j in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    pauses = [rng.choice([0.0, 0.0, 0.001, 0.005, 0.02]) for _ in pieces]

    async def action(exchange: Exchange) -> bool:
        for pause, piece in zip(pauses, pieces, strict=True):
            if pause:
                await asyncio.sleep(pause)
            await exchange.send(piece)
        return True

    return action


def _pool_waiters(client: object) -> int:
    from stytch_totp import AiohttpTransport, Client

    assert isinstance(client, Client)
    assert isinstance(client.transport, AiohttpTransport)
    session = client.transport._session
    if session is None:
        return 0
    connector = session.connector
    assert connector is not None
    return sum(len(waiters) for waiters in connector._waiters.values())


async def test_cancelling_a_thousand_calls_at_random_points_leaks_nothing(
    start_server: StartServer, make_client: MakeClient
) -> None:
    rng = random.Random(20240607)
    bodies = {
        f"/{path}": _jsoncodec.dumps(op.success_body())
        for op, path in zip(
            OPERATIONS,
            ["v1/totps", "v1/totps/authenticate", "v1/totps/recovery_codes", "v1/totps/recover"],
            strict=True,
        )
    }
    server = await start_server(lambda r: _answer_in_pieces(bodies[r.target], rng))
    client = make_client(server.url, timeout=HANG_GUARD)
    loop = asyncio.get_running_loop()

    with no_warnings():
        before = asyncio.all_tasks()
        calls = [asyncio.create_task(rng.choice(OPERATIONS).call(client)) for _ in range(1000)]
        for call in calls:
            # From "before it even starts" to "long finished" (a thousand answers take ~0.5 s),
            # or never: those calls must complete however slow a loaded machine is.
            delay = rng.choice([None, 0.0, rng.uniform(0.0, 1.0)])
            if delay is not None:
                loop.call_later(delay, call.cancel)
        async with asyncio.timeout(HANG_GUARD):
            outcomes = await asyncio.gather(*calls, return_exceptions=True)

        kinds = Counter(type(outcome).__name__ for outcome in outcomes)
        assert set(kinds) <= {
            "CreateResponse",
            "AuthenticateResponse",
            "RecoveryCodesResponse",
            "RecoverResponse",
            "CancelledError",
        }, kinds
        assert kinds["CancelledError"] > 0
        assert kinds["CancelledError"] < 1000

        # Every connection was released or closed; nobody is left queuing for one.
        await asyncio.sleep(0)
        assert connections_in_use(client) == 0
        assert _pool_waiters(client) == 0
        server_tasks = set(server._handlers)
        assert asyncio.all_tasks() - before - server_tasks == set()

        # The pool still works, at full width.
        async with asyncio.timeout(HANG_GUARD):
            results = await asyncio.gather(*(op.call(client) for op in OPERATIONS * 25))
        assert len(results) == 100
        assert connections_in_use(client) == 0


def _user_id(request: Received) -> str:
    user_id: str = _jsoncodec.loads(request.body)["user_id"]
    return user_id


async def test_closing_the_client_ends_every_call_in_flight_with_client_closed_error(
    start_server: StartServer, make_client: MakeClient
) -> None:
    operation = OPERATIONS[2]  # read-only: also retried after dropped connections

    def choose(request: Received) -> Action:
        kind = _user_id(request).split(":")[0]
        if kind == "stall-headers":
            return stall_before_headers()
        if kind == "stall-body":
            return stall_mid_body()
        # Asks for a 30 s pause: the call is asleep in the retry loop when the client closes.
        return respond(503, b"busy", content_type="text/plain", headers=[("Retry-After", "30")])

    server = await start_server(choose)
    client = make_client(server.url, timeout=HANG_GUARD, max_connections=14)

    async def call(kind: str, n: int) -> object:
        return await operation.call(client, user_id=f"{kind}:{n}")

    async def until_received(count: int) -> None:
        async with asyncio.timeout(HANG_GUARD):
            await server.until_received(count)

    with no_warnings():
        # 6 calls asleep before their retry (their connections went back to the pool)...
        calls = [asyncio.create_task(call("backoff", n)) for n in range(6)]
        await until_received(6)
        # ...12 holding a connection, waiting for headers or for the rest of a body...
        calls += [
            asyncio.create_task(call(kind, n))
            for kind in ("stall-headers", "stall-body")
            for n in range(6)
        ]
        await until_received(18)
        # ...and, with 14 connections in all, 2 more get through and 4 queue for the pool.
        calls += [asyncio.create_task(call("stall-headers", 100 + n)) for n in range(6)]
        await until_received(20)
        await asyncio.sleep(0.05)
        assert _pool_waiters(client) == 4
        assert connections_in_use(client) == 14

        await client.aclose()
        async with asyncio.timeout(5.0):  # far less than the 30 s backoff or the timeouts
            outcomes = await asyncio.gather(*calls, return_exceptions=True)

        for outcome in outcomes:
            assert isinstance(outcome, ClientClosedError), repr(outcome)
            assert outcome.operation == "totps.recovery_codes"

        # A call after closing is refused before anything is sent.
        sent = len(server.requests)
        with pytest.raises(ClientClosedError) as caught:
            await call("stall-headers", 999)
        assert not caught.value.may_have_been_processed
        assert len(server.requests) == sent


async def test_a_call_queued_for_the_pool_ends_with_client_closed_error(
    start_server: StartServer, make_client: MakeClient
) -> None:
    server = await start_server(lambda _: stall_before_headers())
    client = make_client(server.url, timeout=HANG_GUARD, max_connections=1)
    operation = OPERATIONS[0]

    with no_warnings():
        holding = asyncio.create_task(operation.call(client))
        async with asyncio.timeout(HANG_GUARD):
            await server.until_received(1)
        waiting = asyncio.create_task(operation.call(client))
        await asyncio.sleep(0.05)
        assert _pool_waiters(client) == 1

        await client.aclose()
        async with asyncio.timeout(5.0):
            results = await asyncio.gather(holding, waiting, return_exceptions=True)
        assert [type(r) for r in results] == [ClientClosedError, ClientClosedError], results
        # The queued call never got a connection: it surely was not processed.
        assert len(server.requests) == 1


async def test_a_call_sleeping_before_a_retry_ends_when_the_client_closes(
    start_server: StartServer, make_client: MakeClient
) -> None:
    server = await start_server(lambda _: respond_json({}, 503, headers=[("Retry-After", "30")]))
    client = make_client(server.url, retry=RetryPolicy(max_retries=2, max_retry_after=60))
    operation: Operation = OPERATIONS[1]

    with no_warnings():
        sleeping = asyncio.create_task(operation.call(client))
        async with asyncio.timeout(HANG_GUARD):
            await server.until_received(1)
        await asyncio.sleep(0.05)
        await client.aclose()
        async with asyncio.timeout(5.0):
            with pytest.raises(ClientClosedError):
                await sleeping
        assert len(server.requests) == 1


async def test_a_call_reading_a_stalled_body_ends_when_the_client_closes(
    start_server: StartServer, make_client: MakeClient
) -> None:
    server = await start_server(lambda _: stall_mid_body())
    # With a 60 s attempt timeout, only the close itself can end the call quickly.
    client = make_client(server.url, timeout=60.0)

    with no_warnings():
        reading = asyncio.create_task(OPERATIONS[3].call(client))
        async with asyncio.timeout(HANG_GUARD):
            await server.until_received(1)
        await asyncio.sleep(0.05)
        await client.aclose()
        async with asyncio.timeout(5.0):
            with pytest.raises(ClientClosedError) as caught:
                await reading
        # The request was sent and its answer had begun: it may well have been processed.
        assert caught.value.may_have_been_processed
