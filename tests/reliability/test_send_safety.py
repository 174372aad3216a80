"""Send-safety is observed: what the client says it sent is what the server received.

A raw server records every request as soon as its bytes arrive, so the server's log is the
truth the client's ``may_have_been_processed`` is checked against. The scenario of the issue: a
pool smaller than the concurrency against a slow server, where most calls time out while they
wait for a connection and never send a byte.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from stytch_totp import APIConnectionError, APITimeoutError, RetryPolicy, StytchError, _jsoncodec
from tests.reliability._helpers import OPERATIONS, Operation
from tests.reliability._servers import Action, Exchange, Received
from tests.reliability.conftest import MakeClient, StartServer

#: Retries of this suite: fast, so retries of calls that never left are quick.
QUICK = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.02)
AUTHENTICATE = next(op for op in OPERATIONS if op.name == "authenticate")
CREATE = next(op for op in OPERATIONS if op.name == "create")


def slowly(answer: Action, seconds: float) -> Action:
    """``answer``, after holding the request ``seconds``."""

    async def action(exchange: Exchange) -> bool:
        await asyncio.sleep(seconds)
        return await answer(exchange)

    return action


def user_of(request: Received) -> str:
    user_id: str = _jsoncodec.loads(request.body)["user_id"]
    return user_id


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
async def test_a_call_that_timed_out_in_the_pool_queue_sent_nothing_and_is_retried(
    start_server: StartServer, make_client: MakeClient, operation: Operation
) -> None:
    # One connection, held by a first call; the second call only ever waits for it.
    server = await start_server(lambda _: slowly(operation.succeed(), 3.0))
    client = make_client(server.url, max_connections=1, retry=QUICK)
    holder = asyncio.ensure_future(operation.call(client, timeout=10))
    await server.until_received(1)

    with pytest.raises(APITimeoutError) as caught:
        await operation.call(client, timeout=0.2)

    error = caught.value
    assert error.may_have_been_processed is False
    assert "nothing was sent" in str(error)
    assert error.attempts == QUICK.max_retries + 1  # retried, even authenticate: nothing left
    assert server.received == 1  # only the holder's request ever reached the server
    holder.cancel()
    await asyncio.gather(holder, return_exceptions=True)


async def run_calls(
    client: Any, operation: Operation, count: int
) -> dict[str, object | StytchError]:
    async def one(user_id: str) -> object:
        return await operation.call(client, user_id=user_id)

    users = [f"user-{n}" for n in range(count)]
    outcomes = await asyncio.gather(*(one(user) for user in users), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, StytchError):
            raise outcome
    return dict(zip(users, outcomes, strict=True))


@pytest.mark.parametrize("operation", [AUTHENTICATE, CREATE], ids=lambda op: op.name)
async def test_under_pool_pressure_the_servers_log_matches_what_the_client_says(
    start_server: StartServer, make_client: MakeClient, operation: Operation
) -> None:
    server = await start_server(lambda _: slowly(operation.succeed(), 0.15))
    client = make_client(server.url, max_connections=4, retry=QUICK, timeout=0.25)

    outcomes = await run_calls(client, operation, 40)

    received = Counter(user_of(request) for request in server.requests)
    kinds: Counter[str] = Counter()
    for user, outcome in outcomes.items():
        if isinstance(outcome, APIConnectionError) and not outcome.may_have_been_processed:
            kinds["not sent"] += 1
            assert received[user] == 0, f"{user} was sent although the client says it was not"
        elif isinstance(outcome, APIConnectionError):
            kinds["may have been processed"] += 1
            assert received[user] <= 1, f"{user} was replayed"
        else:
            assert not isinstance(outcome, BaseException), outcome
            kinds["succeeded"] += 1
            assert received[user] == 1, f"{user} succeeded but was sent {received[user]} times"
    # The scenario did what it is for: all three outcomes happened.
    assert kinds["not sent"] > 0
    assert kinds["succeeded"] > 0


async def test_create_many_never_reports_an_unsent_user_as_maybe_created(
    start_server: StartServer, make_client: MakeClient
) -> None:
    server = await start_server(lambda _: slowly(CREATE.succeed(), 0.15))
    client = make_client(server.url, max_connections=4, retry=QUICK, timeout=0.25)
    users = [f"user-{n}" for n in range(40)]

    async with client.totps.create_many(
        users, concurrency=40, max_consecutive_connection_failures=None
    ) as batch:
        results = [result async for result in batch]

    received = Counter(user_of(request) for request in server.requests)
    assert len(results) == 40
    maybe = [r for r in results if isinstance(r.error, APIConnectionError)]
    for result in results:
        assert result.user_id is not None
        if isinstance(result.error, APIConnectionError) and result.error.may_have_been_processed:
            assert received[result.user_id] <= 1
        elif result.error is not None:
            assert received[result.user_id] == 0, f"{result.user_id} was sent"
        else:
            assert received[result.user_id] == 1
    # Every user the server never saw is reported as not sent: safe to enroll again.
    never_seen = {user for user in users if received[user] == 0}
    assert all(
        isinstance(r.error, APIConnectionError) and not r.error.may_have_been_processed
        for r in results
        if r.user_id in never_seen
    )
    assert maybe  # the scenario produced failures at all
