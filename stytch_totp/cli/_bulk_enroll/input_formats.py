"""Reading the INPUT of ``stytch-totp bulk-enroll``: user ids, one record per line.

Three formats:

* text: one user id per line;
* CSV: a header row with a ``user_id`` column (and optionally ``expiration_minutes``); other
  columns are ignored; quoted fields may not span lines;
* JSONL: one JSON object per line, ``{"user_id": "...", "expiration_minutes": 60}``; other keys
  are ignored.

Blank lines are skipped everywhere. A line that cannot be read yields a :class:`MalformedLine`
with its line number instead of stopping the whole input. Pure: lines in, records out.
"""

from __future__ import annotations

import csv
import enum
import re
from collections.abc import Iterable, Iterator

import attrs

from ... import CreateParams, InvalidParamsError
from ... import _jsoncodec as jsoncodec

__all__ = [
    "InputFormat",
    "InputFormatError",
    "InputRecord",
    "MalformedLine",
    "count_records",
    "guess_format",
    "read_records",
]

_UTF8_BOM = b"\xef\xbb\xbf"
# Whitespace or control characters inside an id are a sign of a broken line, not a real id.
_NOT_AN_ID = re.compile(r"[\s\x00-\x1f\x7f]")


class InputFormat(enum.Enum):
    """The layouts INPUT may have."""

    TEXT = "text"
    CSV = "csv"
    JSONL = "jsonl"


class InputFormatError(Exception):
    """The input as a whole cannot be read (e.g. a CSV header without a ``user_id`` column)."""


@attrs.frozen
class InputRecord:
    """A user to enroll, and where it came from."""

    line: int
    """1-based line number in the input."""
    params: CreateParams
    """What to send for this user."""


@attrs.frozen
class MalformedLine:
    """A line that could not be turned into a user to enroll."""

    line: int
    """1-based line number in the input."""
    reason: str
    """What is wrong with it (never the line's content)."""


def guess_format(first_line: bytes) -> InputFormat:
    """The format of an input whose first non-blank line is ``first_line``."""
    text = first_line.removeprefix(_UTF8_BOM).strip()
    if text.startswith(b"{"):
        return InputFormat.JSONL
    try:
        header = next(csv.reader([text.decode("utf-8")], skipinitialspace=True))
    except (UnicodeDecodeError, csv.Error):
        return InputFormat.TEXT
    if "user_id" in (cell.strip().lower() for cell in header):
        return InputFormat.CSV
    return InputFormat.TEXT


def count_records(lines: Iterable[bytes], input_format: InputFormat) -> int:
    """Roughly how many records an input holds (non-blank lines, less the CSV header)."""
    count = sum(1 for line in lines if line.strip())
    if input_format is InputFormat.CSV:
        count -= 1
    return max(count, 0)


def read_records(
    lines: Iterable[bytes],
    input_format: InputFormat | None = None,
    *,
    expiration_minutes: int | None = None,
) -> Iterator[InputRecord | MalformedLine]:
    """Parse ``lines`` (as read from a file opened in binary mode) lazily.

    ``input_format`` ``None`` guesses it from the first non-blank line. ``expiration_minutes``
    applies to records that do not give their own. Raises :class:`InputFormatError` when the
    input as a whole is unusable.
    """
    numbered = _non_blank(lines)
    first = next(numbered, None)
    if first is None:
        return
    number, line = first
    line = line.removeprefix(_UTF8_BOM)
    if input_format is None:
        input_format = guess_format(line)
    if input_format is InputFormat.CSV:
        yield from _read_csv(number, line, numbered, expiration_minutes)
        return
    parse = _parse_text if input_format is InputFormat.TEXT else _parse_jsonl
    yield parse(number, line, expiration_minutes)
    for number, line in numbered:
        yield parse(number, line, expiration_minutes)


def _non_blank(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line


def _build(
    number: int, user_id: str, expiration_minutes: int | None
) -> InputRecord | MalformedLine:
    if _NOT_AN_ID.search(user_id):
        return MalformedLine(number, "the user id contains whitespace or control characters")
    try:
        params = CreateParams(user_id=user_id, expiration_minutes=expiration_minutes)
    except InvalidParamsError as error:
        return MalformedLine(number, str(error))
    return InputRecord(number, params)


def _decode(line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _parse_text(
    number: int, line: bytes, expiration_minutes: int | None
) -> InputRecord | MalformedLine:
    text = _decode(line)
    if text is None:
        return MalformedLine(number, "not valid UTF-8")
    return _build(number, text.strip(), expiration_minutes)


def _parse_jsonl(
    number: int, line: bytes, expiration_minutes: int | None
) -> InputRecord | MalformedLine:
    try:
        data = jsoncodec.loads(line)
    except jsoncodec.JSONDecodeError:
        return MalformedLine(number, "not valid JSON")
    if not isinstance(data, dict):
        return MalformedLine(number, "not a JSON object")
    user_id = data.get("user_id")
    if not isinstance(user_id, str) or not user_id.strip():
        return MalformedLine(number, '"user_id" is missing or not a non-empty string')
    own_expiration = data.get("expiration_minutes")
    if own_expiration is not None:
        if isinstance(own_expiration, bool) or not isinstance(own_expiration, int):
            return MalformedLine(number, '"expiration_minutes" is not an integer')
        expiration_minutes = own_expiration
    return _build(number, user_id, expiration_minutes)


def _csv_fields(line: bytes) -> list[str] | str:
    """The fields of one CSV line, or the reason it has none."""
    text = _decode(line)
    if text is None:
        return "not valid UTF-8"
    try:
        return next(csv.reader([text], strict=True, skipinitialspace=True))
    except csv.Error as error:
        return f"not valid CSV ({error})"


def _read_csv(
    header_number: int,
    header_line: bytes,
    rows: Iterator[tuple[int, bytes]],
    expiration_minutes: int | None,
) -> Iterator[InputRecord | MalformedLine]:
    header = _csv_fields(header_line)
    if isinstance(header, str):
        raise InputFormatError(f"line {header_number}: the CSV header is {header}")
    names = [name.strip().lower() for name in header]
    if "user_id" not in names:
        raise InputFormatError(f"line {header_number}: the CSV header has no user_id column")
    user_id_at = names.index("user_id")
    expiration_at = names.index("expiration_minutes") if "expiration_minutes" in names else None
    for number, line in rows:
        fields = _csv_fields(line)
        if isinstance(fields, str):
            yield MalformedLine(number, fields)
            continue
        if len(fields) != len(names):
            yield MalformedLine(number, f"expected {len(names)} fields, got {len(fields)}")
            continue
        own_expiration = expiration_minutes
        if expiration_at is not None and (cell := fields[expiration_at].strip()):
            if not (cell.isascii() and cell.isdecimal()):
                yield MalformedLine(number, "expiration_minutes is not an integer")
                continue
            own_expiration = int(cell)
        user_id = fields[user_id_at].strip()
        if not user_id:
            yield MalformedLine(number, "the user_id field is empty")
            continue
        yield _build(number, user_id, own_expiration)
