"""Pacing of a bulk run: a batch-wide pause after a 429, and a cap on requests started per second.

Both keep their decisions pure (every method takes ``now``, a reading of the event loop clock) so
they are tested without a clock; :func:`wait_turn` is the one thin piece that sleeps.
"""

from __future__ import annotations

import asyncio
import math
import random

from .._core.retry import RetryPolicy

__all__ = ["BatchPacer", "PauseGate", "TokenBucket", "wait_turn"]


class PauseGate:
    """Holds every worker of a batch while the server asks us to slow down.

    A 429 ``too_many_requests`` means the project, not one request, is over its limit: so the
    whole batch waits, then resumes. Requests already in flight when a pause starts may come back
    with 429s of their own; they belong to the same episode and must not lengthen it again. Each
    request therefore remembers the pause *epoch* it was sent in, and only a 429 from a request
    sent in the current epoch starts a new pause.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        #: Incremented by every new pause.
        self.epoch = 0
        #: Loop time at which workers may send again.
        self.resume_at = -math.inf
        #: Pauses since the last success: the backoff exponent when no ``Retry-After`` is given.
        self._consecutive = 0

    @property
    def pauses(self) -> int:
        """How many pauses the batch has taken so far."""
        return self.epoch

    def remaining(self, now: float) -> float:
        """Seconds left in the current pause (``0.0`` when not paused)."""
        return max(0.0, self.resume_at - now)

    def rate_limited(
        self, *, sent_in_epoch: int, retry_after: float | None, now: float, jitter: float
    ) -> bool:
        """Record a 429 for a request sent in ``sent_in_epoch``; ``True`` if it began a new pause.

        ``retry_after`` (seconds, from the server) wins over the computed backoff. A stale 429
        (its request was sent before the latest pause began) can still push the end of the
        pause later when it carries a longer ``Retry-After``, but never starts a pause of its own.
        """
        if sent_in_epoch != self.epoch:
            if retry_after is not None:
                self.resume_at = max(self.resume_at, now + retry_after)
            return False
        delay = retry_after
        if delay is None:
            delay = self._policy.backoff(self._consecutive, jitter)
        self._consecutive += 1
        self.epoch += 1
        self.resume_at = max(self.resume_at, now + delay)
        return True

    def succeeded(self) -> None:
        """A request went through: the next pause starts the backoff from the beginning."""
        self._consecutive = 0


class TokenBucket:
    """Caps how many requests start per second (``rate``), allowing bursts of ``burst``.

    Tokens refill continuously at ``rate`` per second up to ``burst``. :meth:`reserve` takes a
    token now if one is there, otherwise books the next one to come and says how long to wait for
    it; bookings queue up, so concurrent callers are spaced ``1 / rate`` apart.
    """

    def __init__(self, rate: float, *, burst: float = 1.0, now: float) -> None:
        if not rate > 0 or math.isinf(rate):
            raise ValueError(f"rate must be a positive finite number, got {rate!r}")
        if not burst >= 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._updated = now

    def reserve(self, now: float) -> float:
        """Take one token; returns the seconds to wait before using it (``0.0``: go now)."""
        if now > self._updated:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
        # Tokens may go negative: each booking waits for its own share of the refill.
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.rate


async def wait_turn(gate: PauseGate, bucket: TokenBucket | None) -> int:
    """Wait until a request may be sent; returns the pause epoch it is sent in."""
    loop = asyncio.get_running_loop()
    while True:
        pause = gate.remaining(loop.time())
        if pause > 0:
            # Sleep, then look again: the pause may have been made longer meanwhile.
            await asyncio.sleep(pause)
            continue
        if bucket is not None and (delay := bucket.reserve(loop.time())) > 0:
            await asyncio.sleep(delay)
            # A pause may have begun while we waited for a token: then the token is spent on
            # nothing, which only errs on the side of sending less.
            if gate.remaining(loop.time()) > 0:
                continue
        return gate.epoch


class BatchPacer:
    """The :class:`~stytch_totp._core.retry.Pacer` of one bulk run: the batch-wide pause after a
    429, and the cap on requests started per second, shared by every call of the run."""

    def __init__(self, policy: RetryPolicy, max_rate: float | None) -> None:
        self.gate = PauseGate(policy)
        self._max_rate = max_rate
        self._bucket: TokenBucket | None = None

    async def wait_turn(self) -> int:
        """Wait out any pause and, with ``max_rate``, a token; returns the pause epoch."""
        if self._max_rate is not None and self._bucket is None:
            self._bucket = TokenBucket(self._max_rate, now=asyncio.get_running_loop().time())
        return await wait_turn(self.gate, self._bucket)

    def rate_limited(self, epoch: int, retry_after: float | None) -> None:
        """A request sent in ``epoch`` got a 429 ``too_many_requests``: pause the batch."""
        self.gate.rate_limited(
            sent_in_epoch=epoch,
            retry_after=retry_after,
            now=asyncio.get_running_loop().time(),
            jitter=random.random(),  # noqa: S311 - jitter, not cryptography
        )

    def succeeded(self) -> None:
        """A request went through."""
        self.gate.succeeded()
