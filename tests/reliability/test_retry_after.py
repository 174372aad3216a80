"""429 and 503 with ``Retry-After`` in seconds, as an HTTP date, absent, malformed or absurd.

The delay the client chose is read from its INFO log record ("Retrying ... in %.2f s"), so no
test measures wall-clock time. The backoff is set far from any ``Retry-After`` value used, so a
header that was ignored cannot pass for one that was honoured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from email.utils import formatdate

import pytest

from stytch_totp import InternalServerError, RateLimitError, RetryPolicy, StytchError
from tests.conftest import load_example
from tests.reliability._helpers import OPERATIONS, Operation, connections_in_use, no_warnings
from tests.reliability._servers import Action, Script, respond, respond_json
from tests.reliability.conftest import MakeClient, StartServer

HANG_GUARD = 20.0
#: Backoff 3-4 s: never reached by a test that passes, unmistakable in the log if it were used.
SLOW_BACKOFF = RetryPolicy(max_retries=1, initial_backoff=4.0, max_backoff=4.0, max_retry_after=10)
#: Backoff 37.5-50 ms, for the "no Retry-After" cases.
FAST_BACKOFF = RetryPolicy(
    max_retries=1, initial_backoff=0.05, max_backoff=0.05, max_retry_after=10
)


Respond = Callable[[str | None], Action]


def _rate_limited(retry_after: str | None, error_type: str = "too_many_requests") -> Action:
    body = load_example("error_429_too_many_requests")
    body["error_type"] = error_type
    headers = [("Retry-After", retry_after)] if retry_after is not None else []
    return respond_json(body, 429, headers=headers)


def _unavailable(retry_after: str | None) -> Action:
    headers = [("Retry-After", retry_after)] if retry_after is not None else []
    return respond(503, b"<h1>down for maintenance</h1>", content_type="text/html", headers=headers)


def _logged_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [
        float(record.args[1])  # type: ignore[index, arg-type]
        for record in caplog.records
        if record.name == "stytch_totp" and record.getMessage().startswith("Retrying")
    ]


@pytest.fixture(autouse=True)
def _info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="stytch_totp")


@pytest.mark.parametrize("respond_with", [_rate_limited, _unavailable], ids=["429", "503"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
async def test_retry_after_in_seconds_replaces_the_backoff(
    start_server: StartServer,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    respond_with: Respond,
    operation: Operation,
) -> None:
    server = await start_server(Script(respond_with("0"), then=operation.succeed()))
    client = make_client(server.url, retry=SLOW_BACKOFF)

    with no_warnings():
        async with asyncio.timeout(HANG_GUARD):
            await operation.call(client)
    assert len(server.requests) == 2
    assert _logged_delays(caplog) == [0.0]
    assert connections_in_use(client) == 0


async def test_retry_after_as_an_http_date_is_honoured(
    start_server: StartServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    # One second ahead, at one-second resolution: the delay lands in (0, 1].
    when = formatdate(time.time() + 1, usegmt=True)
    operation = OPERATIONS[1]
    server = await start_server(Script(_rate_limited(when), then=operation.succeed()))
    client = make_client(server.url, retry=SLOW_BACKOFF)

    async with asyncio.timeout(HANG_GUARD):
        await operation.call(client)
    [delay] = _logged_delays(caplog)
    assert 0.0 <= delay <= 1.0
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "value",
    [None, "soon", "", "Thu, 99 Foo 2024 25:61:61 GMT", "nan"],
    ids=["absent", "word", "empty", "broken-date", "nan"],
)
async def test_without_a_usable_retry_after_the_backoff_applies(
    start_server: StartServer,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    value: str | None,
) -> None:
    operation = OPERATIONS[0]
    server = await start_server(Script(_rate_limited(value), then=operation.succeed()))
    client = make_client(server.url, retry=FAST_BACKOFF)

    async with asyncio.timeout(HANG_GUARD):
        await operation.call(client)
    [delay] = _logged_delays(caplog)
    assert 0.05 * 0.75 <= delay <= 0.05
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("86400", 86400.0),
        ("11", 11.0),
        ("inf", float("inf")),
        ("<an HTTP date one hour ahead>", 3600.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", None),
    ],
    ids=["a-day", "just-over-the-cap", "infinity", "date-in-an-hour", "year-9999"],
)
@pytest.mark.parametrize("respond_with", [_rate_limited, _unavailable], ids=["429", "503"])
async def test_a_retry_after_beyond_max_retry_after_means_no_retry(
    start_server: StartServer,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    value: str,
    expected: float | None,
    respond_with: Respond,
) -> None:
    if value.startswith("<"):
        value = formatdate(time.time() + 3600, usegmt=True)
    operation = OPERATIONS[2]
    server = await start_server(lambda _: respond_with(value))
    client = make_client(server.url, retry=SLOW_BACKOFF)

    with no_warnings():
        async with asyncio.timeout(HANG_GUARD):
            with pytest.raises((RateLimitError, InternalServerError)) as caught:
                await operation.call(client)
    assert len(server.requests) == 1
    assert _logged_delays(caplog) == []
    # The caller learns how long the server asked for, to schedule its own retry.
    retry_after = caught.value.retry_after
    assert retry_after is not None
    assert retry_after > SLOW_BACKOFF.max_retry_after
    if expected is not None:
        # Generous: the date has one-second resolution and a loaded machine may be slow to answer.
        assert retry_after == pytest.approx(expected, abs=60)
    assert connections_in_use(client) == 0


@pytest.mark.parametrize(
    "value", ["-30", "Mon, 01 Jan 2001 00:00:00 GMT"], ids=["negative", "past"]
)
async def test_a_retry_after_in_the_past_means_retry_now(
    start_server: StartServer,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    value: str,
) -> None:
    operation = OPERATIONS[3]
    server = await start_server(Script(_rate_limited(value), then=operation.succeed()))
    client = make_client(server.url, retry=SLOW_BACKOFF)

    async with asyncio.timeout(HANG_GUARD):
        await operation.call(client)
    assert _logged_delays(caplog) == [0.0]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
async def test_a_locked_user_is_never_retried_whatever_retry_after_says(
    start_server: StartServer,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    operation: Operation,
) -> None:
    server = await start_server(lambda _: _rate_limited("0", "user_lock_limit_reached"))
    client = make_client(server.url, retry=SLOW_BACKOFF)

    with pytest.raises(RateLimitError) as caught:
        await operation.call(client)
    assert caught.value.error_type == "user_lock_limit_reached"
    assert len(server.requests) == 1
    assert _logged_delays(caplog) == []


async def test_retries_stop_at_max_retries_even_when_every_answer_says_retry_now(
    start_server: StartServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    policy = RetryPolicy(max_retries=4, initial_backoff=4.0, max_backoff=4.0)
    server = await start_server(lambda _: _rate_limited("0"))
    client = make_client(server.url, retry=policy)

    with pytest.raises(StytchError):
        await OPERATIONS[0].call(client)
    assert len(server.requests) == 5
    assert _logged_delays(caplog) == [0.0] * 4
