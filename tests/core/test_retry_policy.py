"""Retry decisions: which failures are retried, after how long, and never a spent credential twice."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime

import attrs
import pytest

from stytch_totp import InvalidParamsError, RetryPolicy
from stytch_totp._config import (
    BACKOFF_JITTER,
    DEFAULT_INITIAL_BACKOFF,
    DEFAULT_MAX_BACKOFF,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
)
from stytch_totp._core.retry import Safety, classify_status, next_delay, parse_retry_after

NOW = datetime(2025, 4, 22, 7, 0, 0, tzinfo=UTC).timestamp()


# --------------------------------------------------------------------------------------------
# RetryPolicy
# --------------------------------------------------------------------------------------------


def test_defaults() -> None:
    policy = RetryPolicy()
    assert policy.max_retries == DEFAULT_MAX_RETRIES == 2
    assert policy.initial_backoff == DEFAULT_INITIAL_BACKOFF == 0.5
    assert policy.max_backoff == DEFAULT_MAX_BACKOFF == 8.0
    assert policy.max_retry_after == DEFAULT_MAX_RETRY_AFTER == 60.0


def test_none_never_retries() -> None:
    policy = RetryPolicy.none()
    assert policy.max_retries == 0
    assert policy == RetryPolicy(max_retries=0)
    for safety in Safety:
        delay = next_delay(
            policy, retries_done=0, safety=safety, read_only=True, retry_after=None, jitter=0.0
        )
        assert delay is None


def test_policy_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        RetryPolicy().max_retries = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_retries", -1),
        ("max_retries", True),
        ("max_retries", False),
        ("max_retries", 1.0),
        ("max_retries", 2.5),
        ("max_retries", "3"),
        ("max_retries", None),
        ("max_retries", math.inf),
        ("initial_backoff", -0.1),
        ("initial_backoff", math.nan),
        ("initial_backoff", True),
        ("initial_backoff", "1"),
        ("max_backoff", -1),
        ("max_backoff", None),
        ("max_retry_after", -5),
        ("max_retry_after", math.nan),
    ],
)
def test_invalid_policies_are_refused(field: str, value: object) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        RetryPolicy(**{field: value})  # type: ignore[arg-type]
    assert caught.value.field == f"RetryPolicy.{field}"
    assert isinstance(caught.value, ValueError)


def test_zero_and_fractional_values_are_fine() -> None:
    policy = RetryPolicy(max_retries=0, initial_backoff=0, max_backoff=0.25, max_retry_after=0.5)
    assert policy.backoff(3, 0.0) == 0.0
    assert RetryPolicy(initial_backoff=0.1).backoff(0, 0.0) == 0.1


# --------------------------------------------------------------------------------------------
# Backoff
# --------------------------------------------------------------------------------------------


def test_backoff_doubles_until_the_cap() -> None:
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=8.0)
    assert [policy.backoff(n, 0.0) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_backoff_survives_huge_retry_counts() -> None:
    policy = RetryPolicy(max_retries=10_000)
    assert policy.backoff(10_000, 0.0) == policy.max_backoff
    assert policy.backoff(2**40, 0.5) <= policy.max_backoff


@pytest.mark.parametrize("retries_done", [0, 1, 2, 3, 10])
@pytest.mark.parametrize("jitter", [0.0, 0.1, 0.5, 0.999999])
def test_jitter_only_shortens_by_at_most_a_quarter(retries_done: int, jitter: float) -> None:
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=8.0)
    base = min(0.5 * 2**retries_done, 8.0)
    delay = policy.backoff(retries_done, jitter)
    assert (1 - BACKOFF_JITTER) * base < delay <= base
    assert delay == pytest.approx(base * (1 - 0.25 * jitter))


def test_jitter_bounds_are_0_75_to_1() -> None:
    policy = RetryPolicy(initial_backoff=4.0, max_backoff=4.0)
    assert policy.backoff(0, 0.0) == 4.0
    assert policy.backoff(0, 1.0) == 3.0


# --------------------------------------------------------------------------------------------
# classify_status
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (429, "too_many_requests", Safety.NOT_ACTED),
        (429, None, Safety.NOT_ACTED),
        (429, "user_lock_limit_reached", Safety.FINAL),
        (429, "captcha_failed", Safety.FINAL),
        (429, "too_few_tokens_authenticated", Safety.FINAL),
        (503, None, Safety.NOT_ACTED),
        (503, "service_unavailable", Safety.NOT_ACTED),
        (500, "internal_server_error", Safety.MAYBE_ACTED),
        (500, None, Safety.MAYBE_ACTED),
        (502, None, Safety.MAYBE_ACTED),
        (504, None, Safety.MAYBE_ACTED),
        (501, None, Safety.FINAL),
        (505, None, Safety.FINAL),
        (400, "active_totp_exists", Safety.FINAL),
        (401, "unable_to_authenticate_totp", Safety.FINAL),
        (401, "unauthorized_credentials", Safety.FINAL),
        (403, None, Safety.FINAL),
        (404, "user_not_found", Safety.FINAL),
        (409, None, Safety.FINAL),
        (418, None, Safety.FINAL),
        (302, None, Safety.FINAL),
    ],
)
def test_classify_status(status: int, error_type: str | None, expected: Safety) -> None:
    assert classify_status(status, error_type) is expected


# --------------------------------------------------------------------------------------------
# next_delay
# --------------------------------------------------------------------------------------------


def delay(
    policy: RetryPolicy | None = None,
    *,
    retries_done: int = 0,
    safety: Safety = Safety.NOT_ACTED,
    read_only: bool = False,
    retry_after: float | None = None,
    jitter: float = 0.0,
) -> float | None:
    return next_delay(
        policy or RetryPolicy(),
        retries_done=retries_done,
        safety=safety,
        read_only=read_only,
        retry_after=retry_after,
        jitter=jitter,
    )


@pytest.mark.parametrize("read_only", [True, False])
def test_not_acted_failures_are_retried_for_every_operation(read_only: bool) -> None:
    assert delay(safety=Safety.NOT_ACTED, read_only=read_only) == 0.5
    assert delay(safety=Safety.NOT_ACTED, read_only=read_only, retries_done=1) == 1.0


def test_maybe_acted_failures_are_retried_only_when_read_only() -> None:
    # Replaying authenticate or recover could spend a code a second time.
    assert delay(safety=Safety.MAYBE_ACTED, read_only=False) is None
    assert delay(safety=Safety.MAYBE_ACTED, read_only=False, retry_after=1.0) is None
    assert delay(safety=Safety.MAYBE_ACTED, read_only=True) == 0.5
    assert delay(safety=Safety.MAYBE_ACTED, read_only=True, retry_after=1.0) == 1.0


@pytest.mark.parametrize("read_only", [True, False])
def test_final_failures_are_never_retried(read_only: bool) -> None:
    assert delay(safety=Safety.FINAL, read_only=read_only) is None
    assert delay(safety=Safety.FINAL, read_only=read_only, retry_after=0.0) is None


def test_retries_run_out() -> None:
    policy = RetryPolicy(max_retries=2)
    assert delay(policy, retries_done=0) is not None
    assert delay(policy, retries_done=1) is not None
    assert delay(policy, retries_done=2) is None
    assert delay(policy, retries_done=3, retry_after=1.0) is None


def test_jitter_is_applied_to_computed_delays() -> None:
    assert delay(RetryPolicy(max_retries=5), retries_done=2, jitter=0.5) == pytest.approx(1.75)


def test_retry_after_replaces_the_backoff() -> None:
    assert delay(retry_after=7.0, retries_done=0, jitter=0.9) == 7.0
    assert delay(retry_after=0.0) == 0.0
    assert delay(retry_after=60.0) == 60.0


def test_a_retry_after_longer_than_the_limit_means_give_up() -> None:
    assert delay(retry_after=60.5) is None
    assert delay(RetryPolicy(max_retry_after=5.0), retry_after=6.0) is None
    assert delay(retry_after=math.inf) is None


# --------------------------------------------------------------------------------------------
# parse_retry_after
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 3 ", 3.0),
        ("1.5", 1.5),
        ("0.25", 0.25),
        ("-5", 0.0),
        ("-0.5", 0.0),
        ("-inf", 0.0),
        ("inf", math.inf),
    ],
)
def test_delta_seconds(header: str, seconds: float) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("Tue, 22 Apr 2025 07:00:30 GMT", 30.0),
        ("Tue, 22 Apr 2025 07:02:00 GMT", 120.0),
        ("Tuesday, 22-Apr-25 07:00:45 GMT", 45.0),
        ("Tue Apr 22 07:00:10 2025", 10.0),
        ("Tue, 22 Apr 2025 07:00:05 -0000", 5.0),
        ("Tue, 22 Apr 2025 09:00:05 +0200", 5.0),
        # A date in the past means "now", never a negative wait.
        ("Tue, 22 Apr 2025 06:00:00 GMT", 0.0),
    ],
)
def test_http_dates_are_relative_to_now(header: str, seconds: float) -> None:
    assert parse_retry_after(header, now=NOW) == pytest.approx(seconds)


def test_http_date_round_trip() -> None:
    later = datetime.fromtimestamp(NOW + 90, tz=UTC)
    assert parse_retry_after(format_datetime(later, usegmt=True), now=NOW) == 90.0


@pytest.fixture
def far_from_utc() -> Iterator[None]:
    """Run with the process in UTC-5, where a naive datetime is five hours off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "EST+05")
        time.tzset()
        yield
    time.tzset()


@pytest.mark.usefixtures("far_from_utc")
@pytest.mark.parametrize(
    "header",
    [
        "Tue, 22 Apr 2025 07:00:30 GMT",
        "Tue, 22 Apr 2025 07:00:30 -0000",
        "Tue Apr 22 07:00:30 2025",
    ],
)
def test_http_dates_do_not_depend_on_the_local_time_zone(header: str) -> None:
    assert time.timezone == 5 * 3600
    assert parse_retry_after(header, now=NOW) == 30.0


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "soon",
        "nan",
        "NaN",
        "1 2",
        "12s",
        "Tue, 22 Apr 2025",
        "Tue, 31 Feb 2025 07:00:00 GMT",
        "Tue, 22 Apr 99999 07:00:00 GMT",
        "Tue, 22 Apr 2025 25:61:00 GMT",
    ],
)
def test_garbage_is_ignored(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None
