"""``stytch-totp bulk-enroll``: enroll every user listed in a file, with a progress bar.

Credentials come only from the environment (``STYTCH_PROJECT_ID``, ``STYTCH_SECRET``, and
optionally ``STYTCH_BASE_URL``), never from arguments that other users could see in the process
list. Results, secrets included, go to a JSONL file created with mode 0600 (see
``results_file``); ``--resume`` continues such a file, skipping users it records as
enrolled.

Ctrl-C (or SIGTERM) stops taking new users and waits for the requests already sent, so their
secrets are written rather than lost; a second Ctrl-C abandons them. Either way, everything
written so far stays, and ``--resume`` picks up the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Final

import attrs

from ... import BulkAbortedError, BulkEnrollment, Client, CreateParams, InvalidParamsError, _config
from .._exit import EXIT_OK, EXIT_USAGE
from .input_formats import InputFormat, InputRecord, MalformedLine
from .progress import Progress, describe_failures, progress_for
from .reader import EmptyInputError, InputSource, Reader, UsageError, parse
from .results_file import (
    OutputError,
    ResultsFile,
    failure_kind,
    failure_record,
    load_enrolled,
    malformed_record,
    success_record,
)
from .signals import Interrupts

__all__ = ["register"]

PROG: Final = "stytch-totp bulk-enroll"

#: Exit statuses of this command, beside the shared ones of ``_exit``.
EXIT_FAILURES: Final = 1
EXIT_ABORTED: Final = 3
EXIT_EMPTY_INPUT: Final = 4
EXIT_STOPPED: Final = 5
EXIT_INTERRUPTED: Final = 130

#: Malformed lines printed one by one before the rest are only counted (all go to the output).
MAX_MALFORMED_SHOWN: Final = 20

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
4 INPUT lists no users (empty, or a CSV header alone; nothing sent, no output written);
5 the run stopped because every remaining user would fail the same way (credentials refused,
a base URL that is not Stytch's, a TLS failure, connection failures in a row, or more than
--max-failures failed users; the output is complete and --resume continues); 130 interrupted.
"""


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
        "--max-failures",
        type=_positive_int,
        metavar="N",
        help="stop once more than N users have failed (default: no limit)",
    )
    parser.add_argument(
        "--stop-after-connection-failures",
        type=_positive_int,
        default=_config.DEFAULT_BULK_MAX_CONSECUTIVE_CONNECTION_FAILURES,
        metavar="N",
        help="stop after N connection failures in a row (default: %(default)s)",
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
    except EmptyInputError as error:
        _say(f"error: {error}")
        return EXIT_EMPTY_INPUT
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
    source = InputSource.open(args.input, args.format)
    with contextlib.closing(source):
        tally = _Tally()
        if args.dry_run:
            return _dry_run(args, source, tally)
        parsed = parse(source, args.expiration_minutes)
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


@attrs.define
class _Tally:
    """What the command did with each input line."""

    enrolled: int = 0
    failed: int = 0
    skipped: int = 0
    malformed: int = 0
    pending: int = 0
    """Users sent (or about to be) whose result never came: abandoned in flight."""
    failures: dict[str, tuple[int, str | None]] = attrs.field(factory=dict)
    """Failed users counted by kind (``error_type``...), with one example user id each."""

    def failed_with(self, error: BaseException, user_id: str | None) -> None:
        self.failed += 1
        kind = failure_kind(error)
        count, example = self.failures.get(kind, (0, user_id))
        self.failures[kind] = (count + 1, example)


def _filter_records(
    parsed: Iterable[InputRecord | MalformedLine],
    source: InputSource,
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


def _client_from_env(args: argparse.Namespace) -> Client:
    try:
        return Client.from_env(
            timeout=args.timeout,
            max_connections=max(_config.DEFAULT_MAX_CONNECTIONS, args.concurrency),
            user_agent="bulk-enroll",
        )
    except InvalidParamsError as error:
        raise UsageError(f"credentials: {error}") from None


def _dry_run(args: argparse.Namespace, source: InputSource, tally: _Tally) -> int:
    if args.output.exists() and not args.resume:
        raise UsageError(
            f"{args.output} already exists; pass --resume to continue it, or choose a new file"
        )
    try:
        enrolled = load_enrolled(args.output) if args.resume else set()
    except OutputError as error:
        raise UsageError(str(error)) from None
    records = _filter_records(parse(source, args.expiration_minutes), source, enrolled, tally, None)
    would_enroll = sum(1 for _ in records)
    parts = [f"dry run: would enroll {would_enroll} user(s)"]
    if tally.skipped:
        parts.append(f"skip {tally.skipped} already enrolled in {args.output}")
    if tally.malformed:
        parts.append(f"{tally.malformed} malformed line(s)")
    _say("; ".join(parts))
    return EXIT_FAILURES if tally.malformed else EXIT_OK


async def _enroll(
    args: argparse.Namespace,
    client: Client,
    source: InputSource,
    parsed: Iterator[InputRecord | MalformedLine],
    results: ResultsFile,
    tally: _Tally,
    total: int | None,
) -> int:
    lines: dict[int, int] = {}
    stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    reader = Reader(parsed, source.lines, stopped)

    async def records() -> AsyncIterator[InputRecord]:
        async for item in reader:
            for record in _filter_records((item,), source, results.enrolled, tally, results.write):
                yield record

    async def params() -> AsyncIterator[CreateParams]:
        index = 0
        async for record in records():
            lines[index] = record.line
            index += 1
            yield record.params

    started = time.monotonic()
    async with client:
        batch = client.totps.create_many(
            params(),
            concurrency=args.concurrency,
            max_rate=args.max_rate,
            max_failures=args.max_failures,
            max_consecutive_connection_failures=args.stop_after_connection_failures,
        )
        progress = progress_for(batch, total, args.progress_interval, _say, tally.failures)
        consumer = asyncio.get_running_loop().create_task(
            _consume(batch, lines, results, tally, progress, args.include_qr_code)
        )
        interrupts = Interrupts(batch, consumer, stopped, _say)
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
    if isinstance(error, BulkAbortedError):
        _say(f"stopped: {error.reason}; the users not yet tried were not sent")
        if error.__cause__ is not None:
            _say(f"the error that stopped it: {type(error.__cause__).__name__}: {error.__cause__}")
        _say(f"fix that, then run again with --resume ({args.output} is complete so far)")
        return EXIT_STOPPED
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
    progress: Progress,
    qr_code: bool,
) -> None:
    async with batch:
        async for result in batch:
            line = lines.pop(result.index)
            if result.ok:
                tally.enrolled += 1
                results.write(success_record(line, result, qr_code=qr_code))
            else:
                assert result.error is not None
                tally.failed_with(result.error, result.user_id)
                results.write(failure_record(line, result))
            progress.result(result)


def _summary(args: argparse.Namespace, tally: _Tally, seconds: float, *, interrupted: bool) -> None:
    done = tally.enrolled + tally.failed
    rate = done / seconds if seconds > 0 else 0.0
    parts = [f"{tally.enrolled} enrolled", f"{tally.failed} failed"]
    if tally.skipped:
        parts.append(f"{tally.skipped} skipped (already enrolled)")
    if tally.malformed:
        parts.append(f"{tally.malformed} malformed line(s)")
    _say(f"{', '.join(parts)} in {seconds:.1f} s ({rate:.1f}/s); results in {args.output}")
    if tally.failures:
        _say(f"failures by kind: {describe_failures(tally.failures, limit=10)}")
    if tally.pending:
        _say(
            f"{tally.pending} request(s) were abandoned in flight: Stytch may have enrolled"
            " those users without their secrets reaching this file"
        )
    if interrupted:
        _say(f"interrupted: run again with --resume to continue ({args.output} is kept)")
    elif tally.failed:
        _say('failed users are recorded in the output with status "failed"; --resume retries them')
