"""Reading INPUT for ``bulk-enroll``: the file or stdin, parsed on one long-lived thread.

Reading happens off the event loop so that a stdin with nothing to read blocks neither the
requests in flight nor Ctrl-C. One daemon thread serves the whole run: the loop asks for the
next batch, the thread reads and parses it and hands it back. It reads only when asked, so
memory stays flat however long INPUT is, and a read left waiting on a silent stdin holds up
nothing at exit (daemon threads are not joined, unlike ``asyncio.to_thread``'s workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import queue
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Final, Generic, TypeVar

import attrs

from .input_formats import (
    InputFormat,
    InputFormatError,
    InputRecord,
    MalformedLine,
    count_records,
    guess_format,
    read_records,
)

__all__ = ["EmptyInputError", "InputLines", "InputSource", "Reader", "UsageError", "parse"]

#: Bytes asked of INPUT per read (a read returns what is available, up to this).
READ_CHUNK: Final = 64 * 1024
#: Most parsed lines handed from the reading thread to the event loop at once.
READ_BATCH: Final = 1024

_FORMAT_BY_SUFFIX: Final = {
    ".csv": InputFormat.CSV,
    ".jsonl": InputFormat.JSONL,
    ".ndjson": InputFormat.JSONL,
}

T = TypeVar("T")


class UsageError(Exception):
    """Bad arguments or setup: reported, and nothing is sent."""


class EmptyInputError(UsageError):
    """INPUT lists no user at all: likely the wrong file, or an export that came out empty."""


class InputLines:
    """The lines of a binary stream (each with its ``\\n``, as iterating the file gives them), read
    a chunk at a time: a read blocks only while nothing at all is available, so what a pipe has
    already delivered can be used at once (see :attr:`ready`)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._read: Callable[[int], bytes]
        try:
            fd = stream.fileno()
        except (OSError, ValueError):  # e.g. an in-memory stream
            self._read = getattr(stream, "read1", stream.read)
        else:
            # The descriptor, not the buffered stream: a read left waiting on a daemon thread
            # (a silent stdin) then holds no lock that the interpreter's shutdown needs.
            self._read = functools.partial(os.read, fd)
        self._lines: deque[bytes] = deque()
        self._partial = b""
        self._non_blank = 0
        self._eof = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        while not self._lines:
            if self._eof:
                raise StopIteration
            self._fill()
        line = self._lines.popleft()
        if line.strip():
            self._non_blank -= 1
        return line

    @property
    def ready(self) -> bool:
        """Whether the next non-blank line (or the end) is known without reading again."""
        return self._non_blank > 0 or self._eof

    def _fill(self) -> None:
        chunk = self._read(READ_CHUNK)
        if not chunk:
            self._eof = True
            complete = [self._partial] if self._partial else []
            self._partial = b""
        else:
            *complete, self._partial = (self._partial + chunk).split(b"\n")
            complete = [line + b"\n" for line in complete]
        self._lines.extend(complete)
        self._non_blank += sum(1 for line in complete if line.strip())


@attrs.define
class InputSource:
    """INPUT, opened in binary mode, with its format when known."""

    name: str
    stream: IO[bytes]
    input_format: InputFormat | None
    path: Path | None
    lines: InputLines = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.lines = InputLines(self.stream)

    @classmethod
    def open(cls, name: str, format_name: str | None) -> InputSource:
        """INPUT named on the command line (``-`` for stdin); :class:`UsageError` if unreadable."""
        input_format = InputFormat(format_name) if format_name else None
        if name == "-":
            return cls("<stdin>", sys.stdin.buffer, input_format, None)
        path = Path(name)
        if input_format is None:
            input_format = _FORMAT_BY_SUFFIX.get(path.suffix.lower())
        try:
            stream = path.open("rb")
        except OSError as error:
            raise UsageError(f"cannot read {name}: {error.strerror}") from None
        return cls(name, stream, input_format, path)

    @property
    def countable(self) -> bool:
        """Whether :meth:`count` can read INPUT a second time (a regular file)."""
        return self.path is not None and self.path.is_file()

    def count(self) -> int:
        """How many records the file holds, roughly (read once more, for the ETA)."""
        assert self.path is not None
        with self.path.open("rb") as file:
            first = next((line for line in file if line.strip()), b"")
            file.seek(0)
            input_format = self.input_format or guess_format(first)
            return count_records(file, input_format)

    def close(self) -> None:
        """Close INPUT (stdin is left open)."""
        if self.path is not None:
            self.stream.close()


def parse(
    source: InputSource, expiration_minutes: int | None
) -> Iterator[InputRecord | MalformedLine]:
    """INPUT's records, read lazily. Its first line is checked at once (e.g. the CSV header), so
    a wrong INPUT is a :class:`UsageError`, and one without any line to enroll (empty, blank,
    or a CSV header alone) an :class:`EmptyInputError`, before anything is sent or created."""
    parsed = read_records(source.lines, source.input_format, expiration_minutes=expiration_minutes)
    try:
        first = next(parsed, None)
    except InputFormatError as error:
        raise UsageError(f"{source.name}: {error}") from None
    if first is None:
        raise EmptyInputError(
            f"{source.name} lists no users (it is empty, or a CSV header without rows)"
        )
    return itertools.chain([first], parsed)


def _take_ready(items: Iterator[T], lines: InputLines) -> list[T]:
    """The next items: waits for the first, then takes only those whose lines are already read."""
    taken: list[T] = []
    while len(taken) < READ_BATCH and (not taken or lines.ready):
        item = next(items, None)
        if item is None:
            break
        taken.append(item)
    return taken


class Reader(Generic[T]):
    """Hands the event loop ``items`` in batches, read on one daemon thread for the whole run.

    Iterate it with ``async for``; it ends at the end of INPUT, or at once, even while a read is
    waiting, when ``stopped`` is done. :meth:`close` lets the thread end (a read in progress is
    abandoned, not interrupted).
    """

    def __init__(self, items: Iterable[T], lines: InputLines, stopped: asyncio.Future[None]):
        self._items = iter(items)
        self._lines = lines
        self._stopped = stopped
        self._loop = asyncio.get_running_loop()
        # The loop asks for a batch by putting the future to settle; None ends the thread.
        self._asks: queue.SimpleQueue[asyncio.Future[list[T]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._serve, name="stytch-totp-bulk-enroll-input", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        while (batch_future := self._asks.get()) is not None:
            batch: list[T] = []
            error: Exception | None = None
            try:
                batch = _take_ready(self._items, self._lines)
            except Exception as caught:
                error = caught
            with contextlib.suppress(RuntimeError):  # the loop is closed: no one is waiting
                self._loop.call_soon_threadsafe(_settle, batch_future, batch, error)
            if error is not None or not batch:
                return

    async def __aiter__(self) -> AsyncIterator[T]:
        try:
            while not self._stopped.done():
                batch_future: asyncio.Future[list[T]] = self._loop.create_future()
                self._asks.put(batch_future)
                either: set[asyncio.Future[Any]] = {batch_future, self._stopped}
                try:
                    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    batch_future.cancel()  # the read goes on, its result is dropped
                if batch_future.cancelled() or not (batch := batch_future.result()):
                    return
                for item in batch:
                    yield item
        finally:
            self.close()

    def close(self) -> None:
        """Let the reading thread end once its current read, if any, returns."""
        self._asks.put(None)


def _settle(future: asyncio.Future[list[T]], batch: list[T], error: Exception | None) -> None:
    if future.done():  # cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(batch)
