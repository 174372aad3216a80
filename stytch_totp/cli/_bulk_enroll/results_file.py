"""The results file of ``stytch-totp bulk-enroll``: JSONL holding TOTP secrets and recovery codes.

Because of what it holds, the file is only ever created with mode 0600, and an existing file is
only continued (``--resume``) when no one but its owner can read it: a wider mode is refused rather
than silently fixed, since the secrets in it may already have been exposed. It is never followed
through a symlink.

Every record is one ``os.write`` of one line on an ``O_APPEND`` descriptor, so a record is on disk
as far as the OS is concerned as soon as it is written (a crash of this process loses nothing
already written); ``fsync`` runs at most once a second and on close, for power loss.

Records (one JSON object per line; ``line`` is the line number in INPUT):

* ``{"status": "enrolled", "line", "user_id", "totp_id", "secret", "recovery_codes",
  "request_id", "at"}`` (plus ``qr_code`` when asked for);
* ``{"status": "failed", "line", "user_id", "error", "error_type", "status_code",
  "request_id", "message", "attempts", "at"}``;
* ``{"status": "invalid_input", "line", "message", "at"}`` for a line that could not be read.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic
from types import TracebackType
from typing import Any, Final, Self

from ... import (
    APIConnectionError,
    APIStatusError,
    EnrollmentResult,
    InvalidParamsError,
    UnexpectedResponseError,
)
from ... import _jsoncodec as jsoncodec

__all__ = [
    "ENROLLED",
    "FAILED",
    "INVALID_INPUT",
    "OutputError",
    "ResultsFile",
    "failure_kind",
    "failure_record",
    "load_enrolled",
    "malformed_record",
    "success_record",
]

ENROLLED: Final = "enrolled"
FAILED: Final = "failed"
INVALID_INPUT: Final = "invalid_input"

#: Seconds between two ``fsync`` calls while records keep coming.
FSYNC_INTERVAL: Final = 1.0

_OWNER_ONLY: Final = 0o600
_NO_FOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC: Final = getattr(os, "O_CLOEXEC", 0)
# Opening a FIFO would otherwise wait for a writer before the checks could refuse it.
_NONBLOCK: Final = getattr(os, "O_NONBLOCK", 0)


class OutputError(Exception):
    """The results file cannot be used (exists, wrong permissions, not a regular file...)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def success_record(line: int, result: EnrollmentResult, *, qr_code: bool) -> dict[str, Any]:
    """The record of an enrolled user: everything needed to hand the TOTP to them."""
    response = result.response
    assert response is not None
    record: dict[str, Any] = {
        "status": ENROLLED,
        "line": line,
        "user_id": result.user_id,
        "totp_id": response.totp_id,
        "secret": response.secret,
        "recovery_codes": list(response.recovery_codes),
        "request_id": response.request_id,
        "at": _now(),
    }
    if qr_code:
        record["qr_code"] = response.qr_code
    return record


def failure_kind(error: BaseException) -> str:
    """A short name for what went wrong, to count failures by: Stytch's ``error_type`` where
    there is one, else the kind of failure (``http_502``, ``connection: timed out``...)."""
    if isinstance(error, APIStatusError):
        return error.error_type or f"http_{error.status_code}"
    if isinstance(error, APIConnectionError):
        return f"connection: {error.kind.value}" if error.kind else "connection failed"
    if isinstance(error, UnexpectedResponseError):
        return "unexpected_response"
    if isinstance(error, InvalidParamsError):
        return "invalid_params"
    return type(error).__name__


def failure_record(line: int, result: EnrollmentResult) -> dict[str, Any]:
    """The record of a user that was not enrolled, with what Stytch said about it."""
    error = result.error
    assert error is not None
    error_type = status_code = request_id = None
    if isinstance(error, APIStatusError):
        error_type, status_code, request_id = error.error_type, error.status_code, error.request_id
    elif isinstance(error, UnexpectedResponseError):
        status_code, request_id = error.status_code, error.request_id
    record: dict[str, Any] = {
        "status": FAILED,
        "line": line,
        "user_id": result.user_id,
        "error": type(error).__name__,
        "error_type": error_type,
        "status_code": status_code,
        "request_id": request_id,
        "message": str(error),
        "attempts": result.attempts,
        "at": _now(),
    }
    if isinstance(error, APIConnectionError):
        record["may_have_been_processed"] = error.may_have_been_processed
    return record


def malformed_record(line: int, reason: str) -> dict[str, Any]:
    """The record of an input line that could not be read."""
    return {"status": INVALID_INPUT, "line": line, "message": reason, "at": _now()}


def load_enrolled(path: Path) -> set[str]:
    """User ids recorded as enrolled at ``path`` (empty when there is no file), without
    changing anything; the same checks as :meth:`ResultsFile.resume`."""
    try:
        fd = os.open(path, os.O_RDONLY | _NO_FOLLOW | _CLOEXEC | _NONBLOCK)
    except FileNotFoundError:
        return set()
    except OSError as error:
        raise _cannot_open(path, error) from None
    try:
        _check_private(path, os.fstat(fd))
        enrolled, _, _ = _read_enrolled(fd)
    finally:
        os.close(fd)
    return enrolled


class ResultsFile:
    """The open results file; use :meth:`create` or :meth:`resume`, then :meth:`write`."""

    def __init__(self, fd: int, path: Path, enrolled: set[str]) -> None:
        self._fd: int | None = fd
        self.path = path
        self.enrolled = enrolled
        """User ids recorded as enrolled by earlier runs (empty for a new file)."""
        self.records_written = 0
        self._last_sync = monotonic()
        self._unsynced = False

    @classmethod
    def create(cls, path: Path) -> Self:
        """Create a new file, mode 0600; refuse when something is already at ``path``."""
        try:
            fd = os.open(
                path,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | _NO_FOLLOW | _CLOEXEC,
                _OWNER_ONLY,
            )
        except FileExistsError:
            raise OutputError(
                f"{path} already exists; pass --resume to continue it, or choose a new file"
            ) from None
        except OSError as error:
            raise OutputError(f"cannot create {path}: {error.strerror}") from None
        if hasattr(os, "fchmod"):
            # The mode given to open() is filtered by the umask; set it exactly.
            os.fchmod(fd, _OWNER_ONLY)
        return cls(fd, path, set())

    @classmethod
    def resume(cls, path: Path) -> tuple[Self, int]:
        """Continue the file at ``path`` (or create it); also returns how many unreadable lines
        (e.g. one cut short by a crash) it held."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | _NO_FOLLOW | _CLOEXEC | _NONBLOCK)
        except FileNotFoundError:
            return cls.create(path), 0
        except OSError as error:
            raise _cannot_open(path, error) from None
        try:
            _check_private(path, os.fstat(fd))
            enrolled, unreadable, ends_with_newline = _read_enrolled(fd)
            if not ends_with_newline:
                # A crash cut the last record short: start the next one on a line of its own.
                os.write(fd, b"\n")
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path, enrolled), unreadable

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record, as one line, in one write."""
        if self._fd is None:
            raise OutputError(f"{self.path} is closed")
        os.write(self._fd, jsoncodec.dumps(record) + b"\n")
        self.records_written += 1
        self._unsynced = True
        now = monotonic()
        if now - self._last_sync >= FSYNC_INTERVAL:
            self.sync()

    def sync(self) -> None:
        """Ask the OS to put what was written on disk."""
        if self._fd is not None and self._unsynced:
            os.fsync(self._fd)
            self._unsynced = False
            self._last_sync = monotonic()

    def close(self) -> None:
        """Sync and close (idempotent)."""
        if self._fd is None:
            return
        try:
            self.sync()
        finally:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _cannot_open(path: Path, error: OSError) -> OutputError:
    if error.errno == errno.ELOOP:
        return OutputError(f"{path} is a symbolic link; refusing to follow it")
    return OutputError(f"cannot open {path}: {error.strerror}")


def _check_private(path: Path, status: os.stat_result) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise OutputError(f"{path} is not a regular file")
    if os.name == "posix":
        if status.st_uid != os.geteuid():
            raise OutputError(f"{path} belongs to another user; refusing to add secrets to it")
        mode = stat.S_IMODE(status.st_mode)
        if mode & 0o077:
            raise OutputError(
                f"{path} has mode {mode:04o}: others may read the secrets in it. Check who could"
                f" have read it, then run 'chmod 600 {path}' and try again"
            )


def _read_enrolled(fd: int) -> tuple[set[str], int, bool]:
    """User ids already enrolled, the number of unreadable lines, and whether the file ends
    with a newline."""
    enrolled: set[str] = set()
    unreadable = 0
    last = b"\n"
    with os.fdopen(os.dup(fd), "rb") as file:
        file.seek(0)
        for line in file:
            last = line
            if not line.strip():
                continue
            try:
                record = jsoncodec.loads(line)
            except jsoncodec.JSONDecodeError:
                unreadable += 1
                continue
            if not isinstance(record, dict):
                unreadable += 1
                continue
            user_id = record.get("user_id")
            if record.get("status") == ENROLLED and isinstance(user_id, str):
                enrolled.add(user_id)
    return enrolled, unreadable, last.endswith(b"\n")
