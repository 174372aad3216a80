"""``stytch-totp bulk-enroll``: enroll every user listed in a file, with a progress bar.

Credentials come only from the environment (``STYTCH_PROJECT_ID``, ``STYTCH_SECRET``, and
optionally ``STYTCH_BASE_URL``), never from arguments that other users could see in the process
list. Results, secrets included, go to a JSONL file created with mode 0600 (see
``stytch_totp._bulk_output``); ``--resume`` continues such a file, skipping users it records as
enrolled.

Ctrl-C (or SIGTERM) stops taking new users and waits for the requests already sent, so their
secrets are written rather than lost; a second Ctrl-C abandons them. Either way, everything
written so far stays, and ``--resume`` picks up the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Protocol, TypeVar

import attrs

from .. import _config
from .._bulk_input import (
    InputFormat,
    InputFormatError,
    InputRecord,
    MalformedLine,
    count_records,
    guess_format,
    read_records,
)
from .._bulk_output import (
    OutputError,
    ResultsFile,
    failure_record,
    load_enrolled,
    malformed_record,
    success_record,
)
from .._exceptions import InvalidParamsError
from ._exit import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from .._bulk import BulkEnrollment, BulkProgress, EnrollmentResult
    from .._client import Client
    from .._params import CreateParams

__all__ = ["register"]

PROG: Final = "stytch-totp bulk-enroll"

#: Exit statuses of this command, beside the shared ones of ``_exit``.
EXIT_FAILURES: Final = 1
EXIT_ABORTED: Final = 3
EXIT_INTERRUPTED: Final = 130

#: Malformed lines printed one by one before the rest are only counted (all go to the output).
MAX_MALFORMED_SHOWN: Final = 20

#: Bytes asked of INPUT per read (a read returns what is available, up to this).
READ_CHUNK: Final = 64 * 1024
#: Most parsed lines handed from the reading thread to the event loop at once.
READ_BATCH: Final = 1024

_T = TypeVar("_T")

_FORMAT_BY_SUFFIX: Final = {
    ".csv": InputFormat.CSV,
    ".jsonl": InputFormat.JSONL,
    ".ndjson": InputFormat.JSONL,
}

_DESCRIPTION = """\
Enroll every user listed in INPUT in TOTP (POST /v1/totps), many at once.

INPUT is a text file with one user id per line, a CSV file with a user_id column (and optionally
expiration_minutes), or JSONL with one {"user_id": ..., "expiration_minutes": ...} object per
line; "-" reads standard input. Malformed lines are reported with their line numbers and the rest
is still processed.

Credentials are read from the environment only: STYTCH_PROJECT_ID, STYTCH_SECRET, and optionally
STYTCH_BASE_URL.
"""

_EPILOG = """\
The output file receives one JSON object per line: "enrolled" records carry the TOTP secret and
recovery codes, so it is created with mode 0600 and an existing file is only continued
(--resume) when no one else can read it. "failed" records carry the error type, status and
request id.

Ctrl-C stops taking new users and waits for the requests already sent (Ctrl-C again abandons
them); everything written so far is kept, and --resume continues where the run stopped.

exit status: 0 every user enrolled; 1 some users failed or some lines were malformed; 2 usage or
setup error (nothing sent); 3 the run stopped on an error (e.g. the output could not be written);
130 interrupted.
"""


class UsageError(Exception):
    """Bad arguments or setup: reported, and nothing is sent."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _expiration_minutes(text: str) -> int:
    low, high = _config.EXPIRATION_MINUTES_MIN, _config.EXPIRATION_MINUTES_MAX
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``bulk-enroll`` sub-command."""
    parser = subparsers.add_parser(
        "bulk-enroll",
        help="enroll many users in TOTP at once, from a file",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT", help='file of users to enroll, or "-" for stdin')
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        metavar="FILE",
        help="JSONL file for the results (created with mode 0600)",
    )
    parser.add_argument(
        "--format",
        choices=[fmt.value for fmt in InputFormat],
        help="format of INPUT (default: from the file name, else guessed from the first line)",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=16,
        metavar="N",
        help="requests in flight at once (default: %(default)s)",
    )
    parser.add_argument(
        "--max-rate",
        type=_positive_float,
        metavar="R",
        help="start at most R requests per second (default: no limit)",
    )
    parser.add_argument(
        "--expiration-minutes",
        type=_expiration_minutes,
        metavar="M",
        help="minutes a new TOTP may stay unverified (5-1440; lines may set their own)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help=f"per-request timeout (default: {_config.DEFAULT_TIMEOUT_TOTAL:g})",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue OUTPUT from an earlier run, skipping users it records as enrolled",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="read and check INPUT (and OUTPUT with --resume) but send nothing, write nothing",
    )
    parser.add_argument(
        "--include-qr-code",
        action="store_true",
        help="also write each QR code (a data: URI of a PNG, a few KB per user) to OUTPUT",
    )
    parser.add_argument(
        "--progress-interval",
        type=_positive_float,
        default=10.0,
        metavar="SECONDS",
        help="seconds between progress lines when stderr is not a terminal (default: %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit status."""
    try:
        return _run(args)
    except UsageError as error:
        _say(f"error: {error}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        # Ctrl-C before the run started (e.g. while counting a large input): nothing was sent.
        _say("interrupted")
        return EXIT_INTERRUPTED


def _say(message: str, stream: IO[str] | None = None) -> None:
    print(f"{PROG}: {message}", file=stream or sys.stderr, flush=True)


def _run(args: argparse.Namespace) -> int:
    source = _InputSource.open(args.input, args.format)
    with contextlib.closing(source):
        tally = _Tally()
        if args.dry_run:
            return _dry_run(args, source, tally)
        parsed = _parse(args, source)
        client = _client_from_env(args)
        try:
            if args.resume:
                results, unreadable = ResultsFile.resume(args.output)
                if unreadable:
                    _say(f"note: {unreadable} unreadable line(s) in {args.output} were ignored")
            else:
                results = ResultsFile.create(args.output)
        except OutputError as error:
            raise UsageError(str(error)) from None
        with results:
            total = max(source.count() - len(results.enrolled), 0) if source.countable else None
            return asyncio.run(_enroll(args, client, source, parsed, results, tally, total))


class _InputLines:
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
class _InputSource:
    """INPUT, opened in binary mode, with its format when known."""

    name: str
    stream: IO[bytes]
    input_format: InputFormat | None
    path: Path | None
    lines: _InputLines = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.lines = _InputLines(self.stream)

    @classmethod
    def open(cls, name: str, format_name: str | None) -> _InputSource:
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
        if self.path is not None:
            self.stream.close()


@attrs.define
class _Tally:
    """What the command did with each input line."""

    enrolled: int = 0
    failed: int = 0
    skipped: int = 0
    malformed: int = 0
    pending: int = 0
    """Users sent (or about to be) whose result never came: abandoned in flight."""


def _parse(args: argparse.Namespace, source: _InputSource) -> Iterator[InputRecord | MalformedLine]:
    """INPUT's records, read lazily; its first line is checked at once (e.g. the CSV header),
    so a wrong INPUT is a usage error before anything is sent or created."""
    parsed = read_records(
        source.lines, source.input_format, expiration_minutes=args.expiration_minutes
    )
    try:
        first = next(parsed, None)
    except InputFormatError as error:
        raise UsageError(f"{source.name}: {error}") from None
    if first is None:
        return iter(())
    return itertools.chain([first], parsed)


def _filter_records(
    parsed: Iterable[InputRecord | MalformedLine],
    source: _InputSource,
    enrolled: set[str],
    tally: _Tally,
    write: Callable[[dict[str, Any]], None] | None,
) -> Iterator[InputRecord]:
    """The records to enroll; malformed lines are reported (and written) on the way."""
    for item in parsed:
        if isinstance(item, MalformedLine):
            tally.malformed += 1
            if tally.malformed <= MAX_MALFORMED_SHOWN:
                _say(f"{source.name}:{item.line}: malformed line: {item.reason}")
            elif tally.malformed == MAX_MALFORMED_SHOWN + 1:
                _say("more malformed lines: see the output file and the summary")
            if write is not None:
                write(malformed_record(item.line, item.reason))
        elif item.params.user_id in enrolled:
            tally.skipped += 1
        else:
            yield item


async def _read_records(
    parsed: Iterator[InputRecord | MalformedLine],
    source: _InputSource,
    results: ResultsFile,
    tally: _Tally,
    stopped: asyncio.Future[None],
) -> AsyncIterator[InputRecord]:
    """:func:`_filter_records`, with INPUT read and parsed off the event loop (in batches), so
    that a stdin with nothing to read blocks neither the requests in flight nor Ctrl-C; ends
    at once, even while waiting for INPUT, when ``stopped`` is done."""
    while not stopped.done():
        read = _off_loop(lambda: _take_ready(parsed, source.lines))
        either: set[asyncio.Future[Any]] = {read, stopped}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            read.cancel()  # the thread's read is abandoned, not interrupted
        if read.cancelled() or not (batch := read.result()):
            return
        for record in _filter_records(batch, source, results.enrolled, tally, results.write):
            yield record


def _take_ready(
    parsed: Iterator[InputRecord | MalformedLine], lines: _InputLines
) -> list[InputRecord | MalformedLine]:
    """The next parsed lines: waits for the first, then takes only those already read."""
    taken: list[InputRecord | MalformedLine] = []
    while len(taken) < READ_BATCH and (not taken or lines.ready):
        item = next(parsed, None)
        if item is None:
            break
        taken.append(item)
    return taken


def _off_loop(function: Callable[[], _T]) -> asyncio.Future[_T]:
    """``function()``, run on a daemon thread. Not ``asyncio.to_thread``: its worker threads are
    waited for when the loop and the interpreter shut down, so a read stuck on a silent stdin
    would keep the command from exiting."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()

    def settle(result: _T | None, error: Exception | None) -> None:
        if future.done():  # cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        result: _T | None = None
        error: Exception | None = None
        try:
            result = function()
        except Exception as caught:
            error = caught
        with contextlib.suppress(RuntimeError):  # the loop is closed: no one is waiting
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name="stytch-totp-bulk-enroll-input", daemon=True).start()
    return future


def _client_from_env(args: argparse.Namespace) -> Client:
    from .._client import Client

    try:
        return Client.from_env(
            timeout=args.timeout,
            max_connections=max(_config.DEFAULT_MAX_CONNECTIONS, args.concurrency),
            user_agent="bulk-enroll",
        )
    except InvalidParamsError as error:
        raise UsageError(f"credentials: {error}") from None


def _dry_run(args: argparse.Namespace, source: _InputSource, tally: _Tally) -> int:
    if args.output.exists() and not args.resume:
        raise UsageError(
            f"{args.output} already exists; pass --resume to continue it, or choose a new file"
        )
    try:
        enrolled = load_enrolled(args.output) if args.resume else set()
    except OutputError as error:
        raise UsageError(str(error)) from None
    records = _filter_records(_parse(args, source), source, enrolled, tally, None)
    would_enroll = sum(1 for _ in records)
    parts = [f"dry run: would enroll {would_enroll} user(s)"]
    if tally.skipped:
        parts.append(f"skip {tally.skipped} already enrolled in {args.output}")
    if tally.malformed:
        parts.append(f"{tally.malformed} malformed line(s)")
    _say("; ".join(parts))
    return EXIT_FAILURES if tally.malformed else EXIT_OK


class _Progress(Protocol):
    def result(self, result: EnrollmentResult) -> None: ...
    def close(self) -> None: ...


class _Bar:
    """A tqdm progress bar, for a terminal."""

    def __init__(self, total: int | None) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=total, unit="user", desc="enrolling", file=sys.stderr, dynamic_ncols=True
        )
        self._failed = 0

    def result(self, result: EnrollmentResult) -> None:
        if not result.ok:
            self._failed += 1
            self._bar.set_postfix_str(f"failed={self._failed}", refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


class _Lines:
    """A plain progress line every ``interval`` seconds, for logs and pipes."""

    def __init__(self, batch: BulkEnrollment, total: int | None, interval: float) -> None:
        self._batch = batch
        self._total = total
        self._task = asyncio.get_running_loop().create_task(self._tick(interval))

    async def _tick(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            _say(describe_progress(self._batch.progress, self._total))

    def result(self, result: EnrollmentResult) -> None:
        pass

    def close(self) -> None:
        self._task.cancel()


def describe_progress(progress: BulkProgress, total: int | None) -> str:
    """One line: done (of total), failed, in flight, rate, ETA."""
    done = f"{progress.done}/{total}" if total is not None else f"{progress.done}"
    parts = [
        f"{done} done",
        f"{progress.succeeded} enrolled",
        f"{progress.failed} failed",
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


def _progress(args: argparse.Namespace, batch: BulkEnrollment, total: int | None) -> _Progress:
    if sys.stderr.isatty():
        try:
            return _Bar(total)
        except ImportError:
            _say("note: install stytch-totp[cli] for a progress bar")
    return _Lines(batch, total, args.progress_interval)


async def _enroll(
    args: argparse.Namespace,
    client: Client,
    source: _InputSource,
    parsed: Iterator[InputRecord | MalformedLine],
    results: ResultsFile,
    tally: _Tally,
    total: int | None,
) -> int:
    lines: dict[int, int] = {}
    stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    records = _read_records(parsed, source, results, tally, stopped)

    async def params() -> AsyncIterator[CreateParams]:
        index = 0
        async for record in records:
            lines[index] = record.line
            index += 1
            yield record.params

    started = time.monotonic()
    async with client:
        batch = client.totps.create_many(
            params(), concurrency=args.concurrency, max_rate=args.max_rate
        )
        progress = _progress(args, batch, total)
        consumer = asyncio.get_running_loop().create_task(
            _consume(batch, lines, results, tally, progress, args.include_qr_code)
        )
        interrupts = _Interrupts(batch, consumer, stopped)
        error: BaseException | None = None
        try:
            with interrupts.installed():
                await asyncio.wait({consumer})
            if consumer.cancelled():
                pass  # a second Ctrl-C abandoned the requests in flight
            else:
                error = consumer.exception()
        finally:
            progress.close()
            await batch.aclose()
    tally.pending = len(lines)
    _summary(args, tally, time.monotonic() - started, interrupted=interrupts.count > 0)
    if error is not None:
        _say(f"stopped by an error: {type(error).__name__}: {error}")
        return EXIT_ABORTED
    if interrupts.count:
        return EXIT_INTERRUPTED
    return EXIT_FAILURES if tally.failed or tally.malformed else EXIT_OK


async def _consume(
    batch: BulkEnrollment,
    lines: dict[int, int],
    results: ResultsFile,
    tally: _Tally,
    progress: _Progress,
    qr_code: bool,
) -> None:
    async with batch:
        async for result in batch:
            line = lines.pop(result.index)
            if result.ok:
                tally.enrolled += 1
                results.write(success_record(line, result, qr_code=qr_code))
            else:
                tally.failed += 1
                results.write(failure_record(line, result))
            progress.result(result)


class _Interrupts:
    """First Ctrl-C (or SIGTERM): stop taking users, finish those in flight. Second: abandon."""

    def __init__(
        self, batch: BulkEnrollment, consumer: asyncio.Task[None], stopped: asyncio.Future[None]
    ) -> None:
        self._batch = batch
        self._consumer = consumer
        self._stopped = stopped
        self.count = 0

    def _on_signal(self) -> None:
        self.count += 1
        if self.count == 1:
            in_flight = self._batch.progress.in_flight
            _say(
                f"stopping: waiting for {in_flight} request(s) in flight"
                " (press Ctrl-C again to abandon them)"
            )
            self._batch.stop()
            if not self._stopped.done():
                self._stopped.set_result(None)  # a read of INPUT in progress is not waited for
        else:
            _say("abandoning the requests in flight")
            self._consumer.cancel()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
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


def _summary(args: argparse.Namespace, tally: _Tally, seconds: float, *, interrupted: bool) -> None:
    done = tally.enrolled + tally.failed
    rate = done / seconds if seconds > 0 else 0.0
    parts = [f"{tally.enrolled} enrolled", f"{tally.failed} failed"]
    if tally.skipped:
        parts.append(f"{tally.skipped} skipped (already enrolled)")
    if tally.malformed:
        parts.append(f"{tally.malformed} malformed line(s)")
    _say(f"{', '.join(parts)} in {seconds:.1f} s ({rate:.1f}/s); results in {args.output}")
    if tally.pending:
        _say(
            f"{tally.pending} request(s) were abandoned in flight: Stytch may have enrolled"
            " those users without their secrets reaching this file"
        )
    if interrupted:
        _say(f"interrupted: run again with --resume to continue ({args.output} is kept)")
    elif tally.failed:
        _say('failed users are recorded in the output with status "failed"; --resume retries them')
