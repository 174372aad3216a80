"""The emulator's clock: real time by default, and settable so tests can move time.

Every time-dependent behaviour of the emulator (TOTP windows, enrollment expiry, sessions, user
locks, JWT timestamps) reads this clock, never the system clock directly.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from ..._exceptions import InvalidParamsError

__all__ = ["Clock"]


def _aware(when: datetime) -> datetime:
    if not isinstance(when, datetime):
        raise InvalidParamsError("when", f"must be a datetime, not {type(when).__name__}")
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidParamsError("when", "must be a timezone-aware datetime")
    return when.astimezone(UTC)


class Clock:
    """A clock that follows real time until told otherwise.

    * :meth:`set` stops the clock at a given instant (it stays there until moved again);
    * :meth:`advance` moves it forward (or back, with a negative number), stopped or not;
    * :meth:`resume` lets a stopped clock run again from where it stands.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = 0.0
        self._stopped_at: datetime | None = None
        if start is not None:
            self.set(start)

    def __repr__(self) -> str:
        state = "stopped" if self._stopped_at is not None else "running"
        return f"<Clock {state} at {self.now().isoformat()}>"

    @property
    def stopped(self) -> bool:
        """``True`` while the clock stands still (after :meth:`set`)."""
        return self._stopped_at is not None

    def now(self) -> datetime:
        """The emulator's current time, timezone-aware (UTC)."""
        if self._stopped_at is not None:
            return self._stopped_at
        return datetime.fromtimestamp(time.time() + self._offset, UTC)

    def set(self, when: datetime) -> None:
        """Stop the clock at ``when`` (a timezone-aware datetime)."""
        self._stopped_at = _aware(when)

    def advance(self, seconds: float) -> None:
        """Move the clock by ``seconds`` (negative moves it back)."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise InvalidParamsError("seconds", f"must be a number, not {type(seconds).__name__}")
        if self._stopped_at is not None:
            self._stopped_at += timedelta(seconds=seconds)
        else:
            self._offset += seconds

    def resume(self) -> None:
        """Let a stopped clock run again, from the instant it shows."""
        if self._stopped_at is not None:
            self._offset = self._stopped_at.timestamp() - time.time()
            self._stopped_at = None
