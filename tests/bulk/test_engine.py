"""``client.totps.create_many``: results, lazy input, faults, pacing, progress and clean exits."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import stytch_totp
from stytch_totp import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BulkAbortedError,
    BulkProgress,
    Client,
    ClientClosedError,
    CreateParams,
    EnrollmentResult,
    FailureKind,
    InternalServerError,
    InvalidParamsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    UnexpectedResponseError,
)
from stytch_totp._bulk.engine import fatal_reason
from stytch_totp._config import MAX_RATE_LIMITED_REQUEUES
from tests.bulk._fake import FakeStytch, eventually
from tests.bulk.conftest import FAST_RETRY
from tests.conftest import PROJECT_ID, SECRET, ServerFactory


def user_ids(count: int, prefix: str = "user") -> list[str]:
    return [f"{prefix}-{i}" for i in range(count)]


async def collect(batch: stytch_totp.BulkEnrollment) -> list[EnrollmentResult]:
    async with batch:
        return [result async for result in batch]


async def collect_into(batch: stytch_totp.BulkEnrollment, results: list[EnrollmentResult]) -> None:
    """Like :func:`collect`, keeping what arrived when the run raises."""
    async with batch:
        async for result in batch:
            results.append(result)


def other_tasks() -> set[asyncio.Task[Any]]:
    """Tasks still running besides this test and the test server's connection handlers."""
    return {
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task()
        and not getattr(task.get_coro(), "__qualname__", "").startswith("RequestHandler.")
    }


# -- results ---------------------------------------------------------------------------------


async def test_enrolls_thousands_of_users_each_once(fake: FakeStytch, client: Client) -> None:
    ids = user_ids(3000)

    results = await collect(client.totps.create_many(ids, concurrency=32))

    assert len(results) == 3000
    assert all(result.ok for result in results)
    assert sorted(result.index for result in results) == list(range(3000))
    assert all(result.user_id == ids[result.index] for result in results)
    assert sorted(fake.enrolled) == sorted(ids)
    assert len(fake.arrivals) == 3000  # nobody was sent twice
    for result in results:
        assert result.response is not None
        assert result.response.user_id == result.user_id
        assert result.response.totp_id == fake.enrolled[result.user_id]
        assert result.attempts == 1
        assert result.error is None
    assert other_tasks() == set()


async def test_results_come_in_completion_order(fake: FakeStytch, client: Client) -> None:
    fake.held_users["slow"] = asyncio.Event()

    async with client.totps.create_many(["slow", "fast"], concurrency=2) as batch:
        first = await anext(batch)
        fake.held_users["slow"].set()
        second = await anext(batch)

    assert (first.index, first.user_id) == (1, "fast")
    assert (second.index, second.user_id) == (0, "slow")


async def test_params_items_keep_their_own_expiration_and_others_get_the_default(
    fake: FakeStytch, client: Client
) -> None:
    items: list[str | CreateParams] = [
        "plain",
        CreateParams(user_id="own", expiration_minutes=30),
        CreateParams(user_id="defaulted"),
    ]

    results = await collect(client.totps.create_many(items, expiration_minutes=60))

    assert all(result.ok for result in results)
    sent = {a.user_id: a.body.get("expiration_minutes") for a in fake.arrivals}
    assert sent == {"plain": 60, "own": 30, "defaulted": 60}


async def test_without_a_default_expiration_none_is_sent(fake: FakeStytch, client: Client) -> None:
    await collect(client.totps.create_many(["plain"]))

    assert fake.arrivals[0].body == {"user_id": "plain"}


async def test_an_async_iterable_input_works_too(fake: FakeStytch, client: Client) -> None:
    async def generate() -> AsyncIterator[str]:
        for user_id in user_ids(50):
            await asyncio.sleep(0)
            yield user_id

    results = await collect(client.totps.create_many(generate(), concurrency=4))

    assert sorted(r.user_id for r in results if r.user_id) == sorted(user_ids(50))
    assert all(r.ok for r in results)


async def test_invalid_items_become_failed_results_and_the_rest_goes_on(
    fake: FakeStytch, client: Client
) -> None:
    items: list[Any] = ["good-1", 42, "", "   ", None, "good-2"]

    results = await collect(client.totps.create_many(items))

    by_index = {result.index: result for result in results}
    assert by_index[0].ok
    assert by_index[5].ok
    for index in (1, 2, 3, 4):
        assert isinstance(by_index[index].error, InvalidParamsError)
        assert by_index[index].attempts == 0
    assert by_index[1].user_id is None
    assert by_index[2].user_id == ""
    assert sorted(fake.enrolled) == ["good-1", "good-2"]


async def test_one_failure_never_stops_the_batch(fake: FakeStytch, client: Client) -> None:
    fake.unknown_users.update({"user-3", "user-17"})
    fake.enrolled["user-5"] = "totp-existing"

    results = await collect(client.totps.create_many(user_ids(40), concurrency=8))

    failed = {r.user_id: r.error for r in results if not r.ok}
    assert set(failed) == {"user-3", "user-17", "user-5"}
    assert isinstance(failed["user-3"], NotFoundError)
    assert failed["user-5"] is not None
    assert getattr(failed["user-5"], "error_type", None) == "active_totp_exists"
    assert sum(r.ok for r in results) == 37


def test_the_result_repr_shows_no_secret() -> None:
    from tests.conftest import load_example

    response = stytch_totp._core.converter.converter.structure(
        load_example("create"), stytch_totp.CreateResponse
    )
    result = EnrollmentResult(0, response.user_id, response=response, attempts=1)

    text = repr(result)

    assert response.totp_id in text
    assert response.secret not in text
    assert response.qr_code not in text
    assert all(code not in text for code in response.recovery_codes)
    assert result.ok
    assert not EnrollmentResult(1, "u", error=InvalidParamsError("users", "bad")).ok


# -- laziness and concurrency ----------------------------------------------------------------


async def test_reads_the_input_only_as_workers_free_up(fake: FakeStytch, client: Client) -> None:
    taken = 0
    most_ahead = 0
    consumed = 0

    def generate() -> Iterator[str]:
        nonlocal taken, most_ahead
        for user_id in user_ids(1000):
            taken += 1
            most_ahead = max(most_ahead, taken - consumed)
            yield user_id

    async with client.totps.create_many(generate(), concurrency=8) as batch:
        async for _ in batch:
            consumed += 1
            await asyncio.sleep(0)  # a consumer slower than the workers

    assert consumed == 1000
    # In flight (8) plus finished but not yet consumed (a queue of 8): never the whole input.
    assert most_ahead <= 8 + 8 + 1


async def test_never_more_requests_in_flight_than_the_concurrency(
    fake: FakeStytch, client: Client
) -> None:
    fake.delay = 0.002

    results = await collect(client.totps.create_many(user_ids(200), concurrency=5))

    assert len(results) == 200
    assert fake.max_in_flight == 5


async def test_max_rate_caps_requests_started_per_second(fake: FakeStytch, client: Client) -> None:
    rate = 40.0
    count = 12

    results = await collect(client.totps.create_many(user_ids(count), concurrency=8, max_rate=rate))

    assert all(r.ok for r in results)
    arrivals = sorted(arrival.at for arrival in fake.arrivals)
    # Starts are spaced 1/rate apart, so the arrivals span (count - 1) / rate, less whatever
    # delayed the first one. Unpaced, eight workers would send them all within a few ms.
    assert arrivals[-1] - arrivals[0] >= (count - 1) / rate / 2


# -- 429s and other faults -------------------------------------------------------------------


async def test_a_429_pauses_every_worker_for_retry_after_then_resumes(
    fake: FakeStytch, client: Client
) -> None:
    concurrency = 8
    retry_after = 0.4
    fake.fail(429, "too_many_requests", after=100, retry_after=str(retry_after))

    results = await collect(client.totps.create_many(user_ids(400), concurrency=concurrency))

    assert all(r.ok for r in results)
    assert len(fake.enrolled) == 400
    limited = [a for a in fake.arrivals if a.status == 429]
    assert len(limited) == 1
    pause_start = limited[0].at
    during = [a for a in fake.arrivals if pause_start < a.at < pause_start + retry_after]
    # Only requests sent before the client read the 429 (about one per other worker) may arrive
    # during the pause; without a batch-wide pause the other workers would have sent hundreds.
    assert len(during) < 2 * concurrency
    retried = fake.arrivals_of(limited[0].user_id)
    assert [a.status for a in retried] == [429, 200]
    assert retried[1].at >= pause_start + retry_after
    again = next(r for r in results if r.user_id == limited[0].user_id)
    assert again.attempts == 2


async def test_a_burst_of_429s_is_one_pause_not_one_per_request(
    fake: FakeStytch, client: Client
) -> None:
    fake.hold = asyncio.Event()
    fake.fail(429, "too_many_requests", times=6, retry_after="0.2")
    batch = client.totps.create_many(user_ids(6), concurrency=6)
    pauses: list[int] = []

    async with batch:
        first = asyncio.ensure_future(anext(batch))
        await eventually(lambda: len(fake.arrivals) == 6)
        fake.hold.set()  # six requests in flight all come back 429
        results = [await first] + [result async for result in batch]
        pauses.append(batch.progress.rate_limit_pauses)

    assert all(r.ok for r in results)
    assert pauses == [1]


async def test_a_429_without_retry_after_pauses_with_backoff(
    fake: FakeStytch, client: Client
) -> None:
    fake.fail(429, "too_many_requests", user_id="user-2", times=2)

    results = await collect(client.totps.create_many(user_ids(5), concurrency=1))

    assert all(r.ok for r in results)
    statuses = [a.status for a in fake.arrivals_of("user-2")]
    assert statuses == [429, 429, 200]


async def test_a_locked_user_fails_at_once(fake: FakeStytch, client: Client) -> None:
    fake.fail(429, "user_lock_limit_reached", user_id="user-1")

    results = await collect(client.totps.create_many(user_ids(3), concurrency=1))

    locked = next(r for r in results if r.user_id == "user-1")
    assert isinstance(locked.error, RateLimitError)
    assert locked.error.error_type == "user_lock_limit_reached"
    assert len(fake.arrivals_of("user-1")) == 1
    assert sum(r.ok for r in results) == 2


async def test_a_retry_after_longer_than_the_policy_allows_fails_the_user(
    fake: FakeStytch, client: Client
) -> None:
    fake.fail(429, "too_many_requests", user_id="user-0", retry_after="3600")

    results = await collect(client.totps.create_many(user_ids(2), concurrency=1))

    assert isinstance(results[0].error, RateLimitError)
    assert results[0].error.retry_after == 3600
    assert results[1].ok
    assert len(fake.arrivals_of("user-0")) == 1


async def test_a_user_rate_limited_again_and_again_fails_in_the_end(
    fake: FakeStytch, serve: ServerFactory
) -> None:
    fake.fail(429, "too_many_requests", user_id="user-0", times=1000, retry_after="0")
    async with Client(PROJECT_ID, SECRET, base_url=fake.url) as client:
        results = await collect(client.totps.create_many(["user-0"]))

    assert isinstance(results[0].error, RateLimitError)
    assert results[0].attempts == MAX_RATE_LIMITED_REQUEUES + 1
    assert len(fake.arrivals) == MAX_RATE_LIMITED_REQUEUES + 1


async def test_with_no_retries_a_429_fails_the_user_at_once(
    fake: FakeStytch, client: Client
) -> None:
    fake.fail(429, "too_many_requests", user_id="user-0", times=1000, retry_after="0")

    results = await collect(
        client.totps.create_many(user_ids(3), concurrency=1, retry=RetryPolicy.none())
    )
    by_user = {r.user_id: r for r in results}

    assert isinstance(by_user["user-0"].error, RateLimitError)
    assert by_user["user-0"].attempts == 1
    assert len(fake.arrivals_of("user-0")) == 1
    assert by_user["user-1"].ok
    assert by_user["user-2"].ok


async def test_a_503_is_retried_by_the_policy_and_a_500_is_not(
    fake: FakeStytch, client: Client
) -> None:
    fake.fail(503, "service_unavailable", user_id="user-0", times=2)
    fake.fail(500, "internal_server_error", user_id="user-1")

    results = await collect(client.totps.create_many(user_ids(3), concurrency=1))
    by_user = {r.user_id: r for r in results}

    assert by_user["user-0"].ok
    assert by_user["user-0"].attempts == 3
    assert [a.status for a in fake.arrivals_of("user-0")] == [503, 503, 200]
    # create is not read-only: a 500 may have enrolled the user, so it is never replayed.
    assert isinstance(by_user["user-1"].error, InternalServerError)
    assert len(fake.arrivals_of("user-1")) == 1
    assert by_user["user-2"].ok


async def test_503s_beyond_the_policy_fail_the_user(fake: FakeStytch, client: Client) -> None:
    fake.fail(503, "service_unavailable", user_id="user-0", times=10)

    results = await collect(client.totps.create_many(["user-0"], retry=RetryPolicy.none()))

    assert isinstance(results[0].error, InternalServerError)
    assert results[0].attempts == 1


async def test_a_connection_dropped_mid_request_is_not_replayed(
    fake: FakeStytch, client: Client
) -> None:
    fake.dropped_users.add("user-1")

    results = await collect(client.totps.create_many(user_ids(3), concurrency=1))
    by_user = {r.user_id: r for r in results}

    error = by_user["user-1"].error
    assert isinstance(error, APIConnectionError)
    # Stytch may have enrolled the user (here it did): a replay would hit active_totp_exists.
    assert error.may_have_been_processed
    assert "user-1" in fake.enrolled
    assert len(fake.arrivals_of("user-1")) == 1
    assert by_user["user-0"].ok
    assert by_user["user-2"].ok


async def test_a_response_that_is_not_a_create_response_is_not_retried(
    fake: FakeStytch, client: Client
) -> None:
    fake.garbled_users.add("user-0")

    results = await collect(client.totps.create_many(["user-0"]))

    assert isinstance(results[0].error, UnexpectedResponseError)
    assert results[0].attempts == 1


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (401, "unauthorized_credentials", AuthenticationError),
        (403, "forbidden", PermissionDeniedError),
        (404, "route_not_found", NotFoundError),
    ],
)
async def test_a_failure_every_user_would_share_stops_the_run(
    fake: FakeStytch, client: Client, status: int, error_type: str, expected: type[Exception]
) -> None:
    fake.fail(status, error_type, times=1000)
    results: list[EnrollmentResult] = []
    with pytest.raises(BulkAbortedError) as caught:
        await collect_into(client.totps.create_many(user_ids(500), concurrency=4), results)

    assert isinstance(caught.value.__cause__, expected)
    assert str(status) in caught.value.reason
    # It stopped at once: only the requests already in flight were sent, and each reported.
    assert len(fake.arrivals) <= 4
    assert len(results) == len(fake.arrivals)
    assert all(isinstance(result.error, expected) for result in results)


async def test_a_failure_of_one_user_does_not_stop_the_run(
    fake: FakeStytch, client: Client
) -> None:
    fake.unknown_users.update({"user-1", "user-3"})  # 404 user_not_found: that user's problem
    results = await collect(client.totps.create_many(user_ids(20), concurrency=4))
    assert len(results) == 20
    assert sum(1 for result in results if result.ok) == 18


async def test_max_failures_stops_a_run_drowning_in_failures(
    fake: FakeStytch, client: Client
) -> None:
    fake.unknown_users.update(user_ids(100))
    with pytest.raises(BulkAbortedError, match="more than 5 users failed"):
        await collect(client.totps.create_many(user_ids(100), concurrency=2, max_failures=5))
    assert len(fake.arrivals) <= 5 + 2


async def test_connection_failures_in_a_row_stop_the_run() -> None:
    with socket.socket() as probe:  # a port that was just free: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Client(
        PROJECT_ID, SECRET, base_url=f"http://127.0.0.1:{port}/", retry=RetryPolicy.none()
    ) as client:
        results: list[EnrollmentResult] = []
        batch = client.totps.create_many(
            user_ids(1000), concurrency=1, max_consecutive_connection_failures=3
        )
        with pytest.raises(BulkAbortedError, match="3 connection failures in a row") as caught:
            await collect_into(batch, results)
    assert isinstance(caught.value.__cause__, APIConnectionError)
    assert len(results) == 3
    # Nothing was sent, so every failed user can simply be tried again later.
    assert all(
        isinstance(r.error, APIConnectionError) and not r.error.may_have_been_processed
        for r in results
    )


def test_fatal_reasons_are_only_failures_no_other_user_can_escape() -> None:
    def status(code: int, error_type: str | None) -> APIStatusError:
        return stytch_totp._exceptions.status_error_class(code)(
            status_code=code, error_type=error_type
        )

    assert fatal_reason(status(401, "unauthorized_credentials")) is not None
    assert fatal_reason(status(403, None)) is not None
    assert fatal_reason(status(404, "route_not_found")) is not None
    assert fatal_reason(status(404, "user_not_found")) is None
    assert fatal_reason(status(400, "active_totp_exists")) is None
    assert fatal_reason(status(429, "too_many_requests")) is None
    tls = APIConnectionError("x", may_have_been_processed=False, kind=FailureKind.TLS)
    refused = APIConnectionError("x", may_have_been_processed=False, kind=FailureKind.CONNECT)
    assert fatal_reason(tls) is not None
    assert fatal_reason(refused) is None


async def test_a_server_that_cannot_be_reached_is_retried_then_reported() -> None:
    # A port that was just free: nothing listens there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Client(
        PROJECT_ID, SECRET, base_url=f"http://127.0.0.1:{port}/", retry=FAST_RETRY
    ) as client:
        results = await collect(client.totps.create_many(["user-0"]))

    error = results[0].error
    assert isinstance(error, APIConnectionError)
    assert not error.may_have_been_processed
    assert error.attempts == 3 == results[0].attempts


# -- progress --------------------------------------------------------------------------------


async def test_progress_counts_while_iterating_and_through_the_callback(
    fake: FakeStytch, client: Client
) -> None:
    fake.unknown_users.add("user-4")
    seen: list[BulkProgress] = []
    batch = client.totps.create_many(user_ids(10), concurrency=2, on_progress=seen.append)
    assert batch.progress.started == 0
    assert batch.progress.rate == 0.0

    during: list[BulkProgress] = []
    async with batch:
        async for _ in batch:
            during.append(batch.progress)
    final = batch.progress

    assert [p.done for p in seen] == list(range(1, 11))
    assert all(0 <= p.in_flight <= 2 for p in during)
    assert final.done == 10
    assert final.succeeded == 9
    assert final.failed == 1
    assert final.in_flight == 0
    assert final.rate_limit_pauses == 0
    assert final.paused_for == 0.0
    assert final.rate > 0
    assert final.elapsed > 0
    assert "succeeded=9" in repr(batch)


async def test_progress_shows_a_pause(fake: FakeStytch, client: Client) -> None:
    fake.fail(429, "too_many_requests", retry_after="30")
    batch = client.totps.create_many(user_ids(3), concurrency=1)
    async with batch:
        task = asyncio.ensure_future(anext(batch))
        await eventually(lambda: batch.progress.rate_limit_pauses > 0)
        progress = batch.progress
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert 0 < progress.paused_for <= 30
    assert progress.in_flight == 1


# -- leaving early, stopping, fatal errors ---------------------------------------------------


async def test_break_inside_async_with_cancels_in_flight_work(
    fake: FakeStytch, client: Client
) -> None:
    fake.delay = 0.05
    async with client.totps.create_many(user_ids(1000), concurrency=16) as batch:
        async for _ in batch:
            break

    assert other_tasks() == set()
    # Requests in flight when we left were cancelled: far fewer than 1000 were sent.
    assert len(fake.arrivals) < 100
    # The client is still usable afterwards.
    assert (await client.totps.create(user_id="after")).user_id == "after"


async def test_an_exception_inside_async_with_cancels_in_flight_work(
    fake: FakeStytch, client: Client
) -> None:
    fake.hold = asyncio.Event()

    async def consume_until_a_bug() -> None:
        async with client.totps.create_many(user_ids(100), concurrency=4) as batch:
            first = asyncio.ensure_future(anext(batch))
            await eventually(lambda: len(fake.arrivals) == 4)
            first.cancel()
            raise LookupError("the caller's own bug")

    with pytest.raises(LookupError):
        await consume_until_a_bug()

    assert other_tasks() == set()
    assert len(fake.arrivals) == 4


async def test_cancelling_the_consumer_cancels_in_flight_work(
    fake: FakeStytch, client: Client
) -> None:
    fake.hold = asyncio.Event()

    async def consume() -> None:
        async with client.totps.create_many(user_ids(100), concurrency=4) as batch:
            async for _ in batch:
                pass

    task = asyncio.ensure_future(consume())
    await eventually(lambda: len(fake.arrivals) == 4)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert other_tasks() == set()


def hold_all_but_the_first(fake: FakeStytch, ids: list[str]) -> asyncio.Event:
    """Answer ``ids[0]`` at once and hold every other request until the returned event."""
    release = asyncio.Event()
    fake.held_users.update(dict.fromkeys(ids[1:], release))
    return release


async def test_break_from_a_plain_async_for_cancels_the_run(
    fake: FakeStytch, client: Client
) -> None:
    ids = user_ids(100)
    release = hold_all_but_the_first(fake, ids)
    sent_at_break = 0

    async for _ in client.totps.create_many(ids, concurrency=4):
        # user-0 is done and its worker has sent user-4: five requests, four of them in flight.
        await eventually(lambda: len(fake.arrivals) == 5)
        sent_at_break = len(fake.arrivals)
        break

    await eventually(lambda: not other_tasks(), timeout=10)
    release.set()
    assert len(fake.arrivals) == sent_at_break  # nothing was sent after the break
    assert (await client.totps.create(user_id="after")).user_id == "after"


async def test_an_exception_in_a_plain_async_for_cancels_the_run(
    fake: FakeStytch, client: Client
) -> None:
    ids = user_ids(100)
    release = hold_all_but_the_first(fake, ids)

    async def consume_until_a_bug() -> None:
        async for _ in client.totps.create_many(ids, concurrency=4):
            await eventually(lambda: len(fake.arrivals) == 5)
            raise LookupError("the caller's own bug")

    with pytest.raises(LookupError):
        await consume_until_a_bug()

    await eventually(lambda: not other_tasks(), timeout=10)
    release.set()
    assert len(fake.arrivals) == 5


async def test_cancelling_a_plain_async_for_cancels_the_run(
    fake: FakeStytch, client: Client
) -> None:
    fake.hold = asyncio.Event()

    async def consume() -> None:
        async for _ in client.totps.create_many(user_ids(100), concurrency=4):
            pass

    task = asyncio.ensure_future(consume())
    await eventually(lambda: len(fake.arrivals) == 4)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    await eventually(lambda: not other_tasks(), timeout=10)
    assert len(fake.arrivals) == 4


async def test_a_fully_consumed_plain_async_for_leaves_nothing_running(
    fake: FakeStytch, client: Client
) -> None:
    count = 0
    async for result in client.totps.create_many(user_ids(100), concurrency=8):
        count += result.ok

    assert count == 100
    assert other_tasks() == set()


async def test_aclose_is_idempotent_and_ends_iteration(fake: FakeStytch, client: Client) -> None:
    batch = client.totps.create_many(user_ids(10))
    await batch.aclose()  # before it started: nothing to cancel
    with pytest.raises(StopAsyncIteration):
        await anext(batch)
    await batch.aclose()
    assert fake.arrivals == []


async def test_stop_finishes_what_is_in_flight_and_takes_nothing_more(
    fake: FakeStytch, client: Client
) -> None:
    fake.hold = asyncio.Event()
    taken = 0

    def generate() -> Iterator[str]:
        nonlocal taken
        for user_id in user_ids(100):
            taken += 1
            yield user_id

    batch = client.totps.create_many(generate(), concurrency=4)
    async with batch:
        first = asyncio.ensure_future(anext(batch))
        await eventually(lambda: len(fake.arrivals) == 4)
        batch.stop()
        fake.hold.set()
        results = [await first] + [result async for result in batch]

    assert taken == 4
    assert len(results) == 4
    assert all(r.ok for r in results)
    assert len(fake.enrolled) == 4


async def test_an_input_that_raises_ends_the_run_after_the_results_in_flight(
    fake: FakeStytch, client: Client
) -> None:
    def generate() -> Iterator[str]:
        yield from user_ids(20)
        raise OSError("the disk went away")

    results: list[EnrollmentResult] = []

    async def consume() -> None:
        async with client.totps.create_many(generate(), concurrency=4) as batch:
            async for result in batch:
                results.append(result)

    with pytest.raises(OSError, match="disk went away"):
        await consume()

    # Every user that was sent is reported before the error: no secret is lost.
    assert len(results) == 20 == len(fake.enrolled)
    assert other_tasks() == set()


async def test_an_on_progress_callback_that_raises_stops_the_run(
    fake: FakeStytch, client: Client
) -> None:
    def explode(progress: BulkProgress) -> None:
        raise ZeroDivisionError("callback bug")

    results: list[EnrollmentResult] = []

    async def consume() -> None:
        async with client.totps.create_many(user_ids(50), on_progress=explode) as batch:
            async for result in batch:
                results.append(result)

    with pytest.raises(ZeroDivisionError):
        await consume()

    assert len(fake.arrivals) < 50
    # Every enrollment made is still reported, the one whose callback failed included.
    assert {r.user_id for r in results} == set(fake.enrolled)


async def test_closing_the_client_stops_the_run(fake: FakeStytch, serve: ServerFactory) -> None:
    client = Client(PROJECT_ID, SECRET, base_url=fake.url)
    results: list[EnrollmentResult] = []

    async def consume() -> None:
        async with client.totps.create_many(user_ids(1000), concurrency=4) as batch:
            async for result in batch:
                results.append(result)
                if len(results) == 10:
                    await client.aclose()

    with pytest.raises(ClientClosedError):
        await consume()

    assert 10 < len(results) < 1000
    assert isinstance(results[-1].error, ClientClosedError)
    assert other_tasks() == set()


async def test_no_warning_or_leak_after_leaving_early_and_closing(fake: FakeStytch) -> None:
    fake.delay = 0.02
    client = Client(PROJECT_ID, SECRET, base_url=fake.url)
    async with client, client.totps.create_many(user_ids(500), concurrency=32) as batch:
        async for _ in batch:
            break
    gc.collect()  # an unclosed session or transport would warn here (warnings are errors)
    assert other_tasks() == set()


# -- argument checks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"concurrency": 2.0}, "concurrency"),
        ({"expiration_minutes": 4}, "expiration_minutes"),
        ({"expiration_minutes": 1441}, "expiration_minutes"),
        ({"expiration_minutes": "60"}, "expiration_minutes"),
        ({"max_rate": 0}, "max_rate"),
        ({"max_rate": float("inf")}, "max_rate"),
        ({"max_rate": "10"}, "max_rate"),
        ({"retry": 3}, "retry"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"on_progress": "print"}, "on_progress"),
    ],
)
async def test_bad_options_are_refused_before_anything_is_sent(
    fake: FakeStytch, client: Client, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        client.totps.create_many(user_ids(3), **kwargs)

    assert caught.value.field == field
    assert fake.arrivals == []


async def test_a_good_timeout_is_accepted(fake: FakeStytch, client: Client) -> None:
    results = await collect(client.totps.create_many(user_ids(2), timeout=5))

    assert all(r.ok for r in results)


async def test_text_json_cannot_carry_fails_that_user_before_sending_and_the_run_goes_on(
    fake: FakeStytch, client: Client
) -> None:
    lone_surrogate = "user-\ud800"  # e.g. a file read with errors="surrogateescape"
    results = await collect(client.totps.create_many([lone_surrogate, "user-2"], concurrency=1))

    by_index = {r.index: r for r in results}
    error = by_index[0].error
    assert isinstance(error, InvalidParamsError)
    assert error.field == "user_id"
    assert by_index[0].attempts == 0
    assert by_index[1].ok
    assert [arrival.user_id for arrival in fake.arrivals] == ["user-2"]


@pytest.mark.parametrize("users", ["user-1", b"user-1", CreateParams(user_id="u"), 42])
async def test_a_single_item_or_non_iterable_is_refused(client: Client, users: Any) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        client.totps.create_many(users)

    assert caught.value.field == "users"


def test_progress_can_be_read_outside_the_event_loop() -> None:
    client = Client(PROJECT_ID, SECRET)
    batch = client.totps.create_many(["user-1"])

    assert batch.progress == BulkProgress(0, 0, 0, 0, 0.0, 0, 0.0)


def test_the_public_types_are_exported() -> None:
    assert stytch_totp.BulkEnrollment.__module__ == "stytch_totp"
    assert {"BulkEnrollment", "BulkProgress", "EnrollmentResult"} <= set(stytch_totp.__all__)
