"""The bulk-enroll results file: private by construction, appended record by record, resumable."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import stytch_totp
from stytch_totp import (
    APIConnectionError,
    BadRequestError,
    EnrollmentResult,
    InvalidParamsError,
    UnexpectedResponseError,
    _jsoncodec,
)
from stytch_totp._core.converter import converter
from stytch_totp.cli._bulk_enroll.results_file import (
    OutputError,
    ResultsFile,
    failure_record,
    load_enrolled,
    malformed_record,
    success_record,
)
from tests.conftest import load_example

RESPONSE = converter.structure(load_example("create"), stytch_totp.CreateResponse)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def read(path: Path) -> list[dict[str, object]]:
    return [_jsoncodec.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.fixture
def permissive_umask() -> object:
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.mark.usefixtures("permissive_umask")
def test_a_new_file_is_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"

    with ResultsFile.create(path) as results:
        results.write({"status": "enrolled", "user_id": "u"})

    assert mode(path) == 0o600
    assert read(path) == [{"status": "enrolled", "user_id": "u"}]


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text("precious\n")

    with pytest.raises(OutputError, match="--resume"):
        ResultsFile.create(path)

    assert path.read_text() == "precious\n"


def test_a_file_in_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot create"):
        ResultsFile.create(tmp_path / "nope" / "results.jsonl")


def test_each_record_is_on_disk_as_soon_as_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    results = ResultsFile.create(path)

    results.write({"n": 1})
    seen_before_close = path.read_bytes()
    results.write({"n": 2})
    results.close()
    results.close()  # idempotent

    assert seen_before_close == b'{"n":1}\n'
    assert read(path) == [{"n": 1}, {"n": 2}]
    assert results.records_written == 2
    with pytest.raises(OutputError, match="closed"):
        results.write({"n": 3})


def test_records_are_fsynced_at_most_once_a_second_and_on_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    clock = [1000.0]
    monkeypatch.setattr("stytch_totp.cli._bulk_enroll.results_file.monotonic", lambda: clock[0])
    results = ResultsFile.create(tmp_path / "results.jsonl")

    for _ in range(100):
        results.write({"n": 1})
    assert synced == []
    clock[0] += 1.0
    results.write({"n": 2})
    assert len(synced) == 1
    results.write({"n": 3})
    results.close()

    assert len(synced) == 2


class TestResume:
    def test_collects_the_users_already_enrolled(self, tmp_path: Path) -> None:
        path = tmp_path / "results.jsonl"
        with ResultsFile.create(path) as results:
            results.write({"status": "enrolled", "user_id": "u1"})
            results.write({"status": "failed", "user_id": "u2"})
            results.write({"status": "invalid_input", "line": 3})
            results.write({"status": "enrolled", "user_id": "u4"})

        results, unreadable = ResultsFile.resume(path)
        with results:
            results.write({"status": "enrolled", "user_id": "u2"})

        assert results.enrolled == {"u1", "u4"}
        assert unreadable == 0
        assert len(read(path)) == 5
        assert load_enrolled(path) == {"u1", "u2", "u4"}

    def test_a_record_cut_short_by_a_crash_is_ignored_and_not_glued_to(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "results.jsonl"
        path.write_bytes(b'{"status":"enrolled","user_id":"u1"}\n[1]\n{"status":"enro')
        path.chmod(0o600)

        results, unreadable = ResultsFile.resume(path)
        with results:
            results.write({"status": "enrolled", "user_id": "u2"})

        assert unreadable == 2
        assert path.read_bytes().splitlines()[-1] == b'{"status":"enrolled","user_id":"u2"}'
        assert load_enrolled(path) == {"u1", "u2"}

    def test_a_missing_file_is_created(self, tmp_path: Path) -> None:
        path = tmp_path / "results.jsonl"

        results, unreadable = ResultsFile.resume(path)
        results.close()

        assert (results.enrolled, unreadable) == (set(), 0)
        assert mode(path) == 0o600
        assert load_enrolled(tmp_path / "other.jsonl") == set()

    @pytest.mark.parametrize("wide_mode", [0o644, 0o640, 0o604, 0o660])
    def test_a_file_others_could_read_is_refused_untouched(
        self, tmp_path: Path, wide_mode: int
    ) -> None:
        path = tmp_path / "results.jsonl"
        path.write_text('{"status":"enrolled","user_id":"u1"}\n')
        path.chmod(wide_mode)

        with pytest.raises(OutputError, match="chmod 600"):
            ResultsFile.resume(path)
        with pytest.raises(OutputError, match="chmod 600"):
            load_enrolled(path)

        assert mode(path) == wide_mode
        assert path.read_text() == '{"status":"enrolled","user_id":"u1"}\n'

    def test_a_symlink_is_not_followed(self, tmp_path: Path) -> None:
        target = tmp_path / "elsewhere.jsonl"
        target.write_text("")
        target.chmod(0o600)
        link = tmp_path / "results.jsonl"
        link.symlink_to(target)

        for attempt in (ResultsFile.resume, load_enrolled):
            with pytest.raises(OutputError, match="symbolic link"):
                attempt(link)
        with pytest.raises(OutputError, match="already exists"):
            ResultsFile.create(link)

        assert target.read_text() == ""

    def test_a_directory_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(OutputError):
            ResultsFile.resume(tmp_path)
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo, 0o600)
        with pytest.raises(OutputError, match="not a regular file"):
            load_enrolled(fifo)


class TestRecords:
    def test_an_enrolled_record_carries_what_the_user_needs(self) -> None:
        result = EnrollmentResult(4, RESPONSE.user_id, response=RESPONSE, attempts=1)

        record = success_record(5, result, qr_code=False)
        with_qr = success_record(5, result, qr_code=True)

        assert record["status"] == "enrolled"
        assert record["line"] == 5
        assert record["user_id"] == RESPONSE.user_id
        assert record["totp_id"] == RESPONSE.totp_id
        assert record["secret"] == RESPONSE.secret
        assert record["recovery_codes"] == list(RESPONSE.recovery_codes)
        assert record["request_id"] == RESPONSE.request_id
        assert str(record["at"]).endswith("Z")
        assert "qr_code" not in record
        assert with_qr["qr_code"] == RESPONSE.qr_code
        _jsoncodec.dumps(record)

    def test_a_failed_record_carries_the_error_type_status_and_request_id(self) -> None:
        error = BadRequestError(
            status_code=400,
            request_id="request-id-1",
            error_type="active_totp_exists",
            error_message="Cannot create a new TOTP",
            operation="totps.create",
        )

        record = failure_record(7, EnrollmentResult(6, "u", error=error, attempts=1))

        assert record["status"] == "failed"
        assert record["line"] == 7
        assert record["error"] == "BadRequestError"
        assert record["error_type"] == "active_totp_exists"
        assert record["status_code"] == 400
        assert record["request_id"] == "request-id-1"
        assert "Cannot create a new TOTP" in str(record["message"])
        assert record["attempts"] == 1

    def test_a_connection_failure_says_whether_stytch_may_have_acted(self) -> None:
        error = APIConnectionError("dropped", may_have_been_processed=True)

        record = failure_record(1, EnrollmentResult(0, "u", error=error, attempts=1))

        assert record["error"] == "APIConnectionError"
        assert record["may_have_been_processed"] is True
        assert record["status_code"] is None

    def test_other_failures_still_say_what_happened(self) -> None:
        unexpected = UnexpectedResponseError(
            "bad body", operation="totps.create", status_code=200, request_id="r-2"
        )
        invalid = InvalidParamsError("user_id", "must not be empty")

        first = failure_record(1, EnrollmentResult(0, "u", error=unexpected, attempts=1))
        second = failure_record(2, EnrollmentResult(1, "", error=invalid))

        assert (first["status_code"], first["request_id"]) == (200, "r-2")
        assert second["error"] == "InvalidParamsError"
        assert "must not be empty" in str(second["message"])

    def test_a_malformed_line_record(self) -> None:
        record = malformed_record(9, "not valid JSON")

        assert record["status"] == "invalid_input"
        assert (record["line"], record["message"]) == (9, "not valid JSON")
