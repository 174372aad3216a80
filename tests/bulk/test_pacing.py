"""The pacing rules of a bulk run, decided without a clock: the batch pause and the rate cap."""

from __future__ import annotations

import asyncio
import math

import pytest

from stytch_totp import RetryPolicy
from stytch_totp._bulk.pacing import PauseGate, TokenBucket, wait_turn

POLICY = RetryPolicy(initial_backoff=1.0, max_backoff=8.0)


class TestPauseGate:
    def test_a_429_pauses_for_its_retry_after(self) -> None:
        gate = PauseGate(POLICY)
        assert gate.remaining(100.0) == 0.0

        assert gate.rate_limited(sent_in_epoch=0, retry_after=3.0, now=100.0, jitter=0.0)

        assert gate.remaining(100.0) == 3.0
        assert gate.remaining(102.5) == 0.5
        assert gate.remaining(103.0) == 0.0
        assert gate.pauses == 1

    def test_without_retry_after_the_pause_backs_off_until_a_success(self) -> None:
        gate = PauseGate(POLICY)
        lengths = []
        for now in (0.0, 100.0, 200.0):
            gate.rate_limited(sent_in_epoch=gate.epoch, retry_after=None, now=now, jitter=0.0)
            lengths.append(gate.remaining(now))
        gate.succeeded()
        gate.rate_limited(sent_in_epoch=gate.epoch, retry_after=None, now=300.0, jitter=0.0)

        assert lengths == [1.0, 2.0, 4.0]
        assert gate.remaining(300.0) == 1.0

    def test_429s_of_requests_sent_before_the_pause_do_not_start_another(self) -> None:
        gate = PauseGate(POLICY)
        gate.rate_limited(sent_in_epoch=0, retry_after=None, now=0.0, jitter=0.0)

        # Fifteen more requests of the same burst come back 429 too.
        started = [
            gate.rate_limited(sent_in_epoch=0, retry_after=None, now=0.01, jitter=0.0)
            for _ in range(15)
        ]

        assert started == [False] * 15
        assert gate.pauses == 1
        assert gate.remaining(0.0) == 1.0  # the backoff did not grow either

    def test_a_stale_429_may_still_lengthen_the_pause_it_belongs_to(self) -> None:
        gate = PauseGate(POLICY)
        gate.rate_limited(sent_in_epoch=0, retry_after=1.0, now=0.0, jitter=0.0)

        gate.rate_limited(sent_in_epoch=0, retry_after=5.0, now=0.5, jitter=0.0)
        gate.rate_limited(sent_in_epoch=0, retry_after=0.1, now=0.6, jitter=0.0)

        assert gate.pauses == 1
        assert gate.remaining(0.5) == 5.0

    def test_a_429_of_a_request_sent_after_the_pause_starts_a_new_one(self) -> None:
        gate = PauseGate(POLICY)
        gate.rate_limited(sent_in_epoch=0, retry_after=1.0, now=0.0, jitter=0.0)

        assert gate.rate_limited(sent_in_epoch=1, retry_after=2.0, now=1.5, jitter=0.0)
        assert gate.pauses == 2
        assert gate.remaining(1.5) == 2.0


class TestTokenBucket:
    def test_spaces_requests_at_the_rate(self) -> None:
        bucket = TokenBucket(4.0, now=10.0)

        waits = [bucket.reserve(10.0) for _ in range(5)]

        assert waits == [0.0, 0.25, 0.5, 0.75, 1.0]

    def test_refills_with_time_but_never_beyond_the_burst(self) -> None:
        bucket = TokenBucket(2.0, burst=3.0, now=0.0)
        assert [bucket.reserve(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
        assert bucket.reserve(0.0) == 0.5

        # An hour idle refills three tokens, not 7200.
        waits = [bucket.reserve(3600.0) for _ in range(4)]

        assert waits == [0.0, 0.0, 0.0, 0.5]

    def test_over_any_span_at_most_rate_times_span_plus_burst_start(self) -> None:
        rate = 50.0
        bucket = TokenBucket(rate, now=0.0)
        now = 0.0
        starts = []
        for step in range(2000):
            now += 0.001 * (step % 7)  # callers arrive irregularly, often faster than the rate
            starts.append(now + bucket.reserve(now))

        for i in range(len(starts) - 60):
            window = starts[i + 50] - starts[i]
            assert window >= 50 / rate - 1e-9

    @pytest.mark.parametrize("rate", [0, -1.0, math.inf, math.nan])
    def test_rejects_a_rate_that_is_not_positive_and_finite(self, rate: float) -> None:
        with pytest.raises(ValueError, match="rate"):
            TokenBucket(rate, now=0.0)

    def test_rejects_a_burst_below_one(self) -> None:
        with pytest.raises(ValueError, match="burst"):
            TokenBucket(1.0, burst=0.5, now=0.0)


async def test_wait_turn_waits_out_a_pause_that_grows_while_waiting() -> None:
    loop = asyncio.get_running_loop()
    gate = PauseGate(POLICY)
    gate.rate_limited(sent_in_epoch=0, retry_after=0.02, now=loop.time(), jitter=0.0)

    async def lengthen() -> None:
        await asyncio.sleep(0.01)
        gate.rate_limited(sent_in_epoch=0, retry_after=0.05, now=loop.time(), jitter=0.0)

    task = asyncio.create_task(lengthen())
    epoch = await wait_turn(gate, None)
    await task

    assert epoch == 1
    assert gate.remaining(loop.time()) == 0.0


async def test_wait_turn_goes_back_to_the_gate_when_a_pause_starts_during_the_rate_wait() -> None:
    loop = asyncio.get_running_loop()
    gate = PauseGate(POLICY)
    bucket = TokenBucket(20.0, now=loop.time())
    bucket.reserve(loop.time())  # the next token is 50 ms away

    async def pause() -> None:
        await asyncio.sleep(0.01)
        gate.rate_limited(sent_in_epoch=0, retry_after=0.1, now=loop.time(), jitter=0.0)

    task = asyncio.create_task(pause())
    epoch = await wait_turn(gate, bucket)
    await task

    assert epoch == 1  # it was sent in the new epoch, i.e. after the pause
    assert gate.remaining(loop.time()) == 0.0
