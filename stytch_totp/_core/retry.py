"""When to retry, and how long to wait: pure functions, no I/O, no clock of their own.

The rule that makes retries safe for single-use credentials: a failure is retried freely only when
the server surely did not act on the request (the connection could not be made, 429
``too_many_requests``, 503). When the server may have acted (a timeout or a dropped connection
after the request was sent, 500/502/504), only read-only operations are retried: replaying an
``authenticate`` hits replay protection, and replaying a ``recover`` burns a second recovery code.
"""

import enum
import math
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, Self

import attrs

from .._config import (
    BACKOFF_JITTER,
    DEFAULT_INITIAL_BACKOFF,
    DEFAULT_MAX_BACKOFF,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
    MAX_RATE_LIMITED_REQUEUES,
)
from .._exceptions import InvalidParamsError

__all__ = [
    "Pacer",
    "RetryPolicy",
    "Safety",
    "classify_failure",
    "classify_status",
    "may_wait_out_rate_limit",
    "next_delay",
    "parse_retry_after",
]


class Safety(enum.Enum):
    """What a failure says about whether the server acted on the request."""

    NOT_ACTED = "the server surely did not act"
    MAYBE_ACTED = "the server may have acted"
    FINAL = "retrying cannot help"


def _non_negative(_: object, attribute: "attrs.Attribute[Any]", value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise InvalidParamsError(
            f"RetryPolicy.{attribute.name}", f"must be a number >= 0, got {value!r}"
        )


@attrs.frozen
class RetryPolicy:
    """How a :class:`~stytch_totp.Client` retries failures that are safe to retry.

    Delays grow as ``initial_backoff * 2**n`` up to ``max_backoff``, shortened by up to 25 %
    of jitter. A ``Retry-After`` header from the server replaces the computed delay; one longer
    than ``max_retry_after`` means no retry at all (the error is raised at once).
    """

    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=_non_negative)
    """Retries after the first attempt (``0`` disables retries)."""
    initial_backoff: float = attrs.field(default=DEFAULT_INITIAL_BACKOFF, validator=_non_negative)
    """Seconds before the first retry."""
    max_backoff: float = attrs.field(default=DEFAULT_MAX_BACKOFF, validator=_non_negative)
    """Longest computed delay, in seconds."""
    max_retry_after: float = attrs.field(default=DEFAULT_MAX_RETRY_AFTER, validator=_non_negative)
    """Longest ``Retry-After`` the client will honour, in seconds."""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.max_retries, int):
            raise InvalidParamsError(
                "RetryPolicy.max_retries", f"must be an int, got {self.max_retries!r}"
            )

    @classmethod
    def none(cls) -> Self:
        """A policy that never retries."""
        return cls(max_retries=0)

    def backoff(self, retries_done: int, jitter: float) -> float:
        """Delay before retry number ``retries_done + 1``; ``jitter`` is a uniform draw in [0, 1)."""
        exponent = min(retries_done, 64)
        base = min(self.initial_backoff * 2.0**exponent, self.max_backoff)
        return base * (1.0 - BACKOFF_JITTER * jitter)


def classify_status(status_code: int, error_type: str | None) -> Safety:
    """Whether an error status is worth retrying, and whether the server acted."""
    if status_code == 429:
        # A locked user or a failed captcha stays that way; only plain rate limiting passes.
        if error_type in (None, "too_many_requests"):
            return Safety.NOT_ACTED
        return Safety.FINAL
    if status_code == 503:
        return Safety.NOT_ACTED
    if status_code in (500, 502, 504):
        return Safety.MAYBE_ACTED
    return Safety.FINAL


def classify_failure(*, request_sent: bool, final: bool) -> Safety:
    """What a failed attempt with no response says, from what the transport observed.

    Nothing written: the server cannot have acted, so any operation may be tried again. Bytes
    written and no complete answer: it may have. A ``final`` failure (a TLS handshake that
    will fail the same way, a closed transport) is not worth retrying either way.
    """
    if final:
        return Safety.FINAL
    return Safety.MAYBE_ACTED if request_sent else Safety.NOT_ACTED


def may_wait_out_rate_limit(
    policy: RetryPolicy, *, rate_limited: int, retry_after: float | None
) -> bool:
    """Whether a paced call (bulk enrollment) waits out one more 429 ``too_many_requests``.

    Never with a policy of no retries; otherwise up to ``MAX_RATE_LIMITED_REQUEUES`` times,
    whatever ``max_retries`` is, as long as ``Retry-After`` is within ``max_retry_after``.
    """
    if policy.max_retries == 0 or rate_limited >= MAX_RATE_LIMITED_REQUEUES:
        return False
    return retry_after is None or retry_after <= policy.max_retry_after


class Pacer(Protocol):
    """Paces the attempts of many calls together (bulk enrollment's batch-wide pause).

    The client's retry loop asks it before every attempt, and tells it of every 429
    ``too_many_requests`` and every success; the loop alone decides whether to retry.
    """

    async def wait_turn(self) -> int:
        """Wait until an attempt may be sent; returns the pause epoch it is sent in."""
        ...

    def rate_limited(self, epoch: int, retry_after: float | None) -> None:
        """An attempt sent in ``epoch`` got a 429: pause every paced call."""
        ...

    def succeeded(self) -> None:
        """An attempt went through."""
        ...


def next_delay(
    policy: RetryPolicy,
    *,
    retries_done: int,
    safety: Safety,
    read_only: bool,
    retry_after: float | None,
    jitter: float,
) -> float | None:
    """Seconds to wait before the next attempt, or ``None`` to give up and raise."""
    if retries_done >= policy.max_retries or safety is Safety.FINAL:
        return None
    if safety is Safety.MAYBE_ACTED and not read_only:
        return None
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            return None
        return retry_after
    return policy.backoff(retries_done, jitter)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP-date), else ``None``.

    ``now`` is the current Unix time, passed in so the function stays pure.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            # asctime dates and "-0000" carry no zone; HTTP dates are always GMT, never local.
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)
