"""Ctrl-C and SIGTERM during ``bulk-enroll``: the first stops taking users, the second abandons."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

from ... import BulkEnrollment

__all__ = ["Interrupts"]


class Interrupts:
    """First Ctrl-C (or SIGTERM): stop taking users, finish those in flight. Second: abandon."""

    def __init__(
        self,
        batch: BulkEnrollment,
        consumer: asyncio.Task[None],
        stopped: asyncio.Future[None],
        say: Callable[[str], None],
    ) -> None:
        self._batch = batch
        self._consumer = consumer
        self._stopped = stopped
        self._say = say
        self.count = 0

    def _on_signal(self) -> None:
        self.count += 1
        if self.count == 1:
            in_flight = self._batch.progress.in_flight
            self._say(
                f"stopping: waiting for {in_flight} request(s) in flight"
                " (press Ctrl-C again to abandon them)"
            )
            self._batch.stop()
            if not self._stopped.done():
                self._stopped.set_result(None)  # a read of INPUT in progress is not waited for
        else:
            self._say("abandoning the requests in flight")
            self._consumer.cancel()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Handle the signals while the block runs."""
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, self._on_signal)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - not on Windows
                continue
            installed.append(signum)
        try:
            yield
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
