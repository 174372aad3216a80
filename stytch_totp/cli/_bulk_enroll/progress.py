"""Progress output of ``bulk-enroll``: a bar on a terminal, a plain line now and then otherwise."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Mapping
from typing import Protocol

from ... import BulkEnrollment, BulkProgress, EnrollmentResult

__all__ = ["Failures", "Progress", "describe_failures", "describe_progress", "progress_for"]


class Progress(Protocol):
    """Told of each result, and closed at the end of the run."""

    def result(self, result: EnrollmentResult) -> None: ...
    def close(self) -> None: ...


class _Bar:
    """A tqdm progress bar, for a terminal."""

    def __init__(self, total: int | None, failures: Failures) -> None:
        from tqdm import tqdm  # the optional "cli" extra

        self._bar = tqdm(
            total=total, unit="user", desc="enrolling", file=sys.stderr, dynamic_ncols=True
        )
        self._failed = 0
        self._failures = failures

    def result(self, result: EnrollmentResult) -> None:
        if not result.ok:
            self._failed += 1
            kinds = describe_failures(self._failures, limit=2)
            self._bar.set_postfix_str(f"failed={self._failed} ({kinds})", refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


class _Lines:
    """A plain progress line every ``interval`` seconds, for logs and pipes."""

    def __init__(
        self,
        batch: BulkEnrollment,
        total: int | None,
        interval: float,
        say: Callable[[str], None],
        failures: Failures,
    ) -> None:
        self._batch = batch
        self._total = total
        self._say = say
        self._failures = failures
        self._task = asyncio.get_running_loop().create_task(self._tick(interval))

    async def _tick(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self._say(describe_progress(self._batch.progress, self._total, self._failures))

    def result(self, result: EnrollmentResult) -> None:
        pass

    def close(self) -> None:
        self._task.cancel()


Failures = Mapping[str, tuple[int, str | None]]
"""Failures counted by kind (``error_type``...): ``(count, an example user id)``."""


def describe_failures(failures: Failures, limit: int = 3) -> str:
    """``user_not_found 12 (e.g. user-1), ...``, the most frequent first."""
    ranked = sorted(failures.items(), key=lambda item: -item[1][0])
    parts = [
        f"{kind} {count}" + (f" (e.g. {example})" if example else "")
        for kind, (count, example) in ranked[:limit]
    ]
    if len(ranked) > limit:
        parts.append(f"{len(ranked) - limit} more kind(s)")
    return ", ".join(parts)


def describe_progress(
    progress: BulkProgress, total: int | None, failures: Failures | None = None
) -> str:
    """One line: done (of total), failed (by kind), in flight, rate, ETA."""
    done = f"{progress.done}/{total}" if total is not None else f"{progress.done}"
    parts = [
        f"{done} done",
        f"{progress.succeeded} enrolled",
        f"{progress.failed} failed"
        + (f" ({describe_failures(failures)})" if failures and progress.failed else ""),
        f"{progress.in_flight} in flight",
        f"{progress.rate:.1f}/s",
    ]
    if total is not None and progress.rate > 0:
        remaining = max(total - progress.done, 0) / progress.rate
        parts.append(f"ETA {_duration(remaining)}")
    if progress.paused_for > 0:
        parts.append(f"paused {progress.paused_for:.1f} s (rate limited)")
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def progress_for(
    batch: BulkEnrollment,
    total: int | None,
    interval: float,
    say: Callable[[str], None],
    failures: Failures,
) -> Progress:
    """A bar when stderr is a terminal (and tqdm is installed), else periodic lines."""
    if sys.stderr.isatty():
        try:
            return _Bar(total, failures)
        except ImportError:
            say("note: install stytch-totp[cli] for a progress bar")
    return _Lines(batch, total, interval, say, failures)
