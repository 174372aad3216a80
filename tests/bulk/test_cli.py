"""``stytch-totp bulk-enroll``, run in-process against a fake served from another thread."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import stat
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from stytch_totp import BulkProgress, _jsoncodec
from stytch_totp.cli import main
from stytch_totp.cli._bulk_enroll.input_formats import InputFormat, InputRecord, read_records
from stytch_totp.cli._bulk_enroll.progress import describe_progress
from stytch_totp.cli._bulk_enroll.reader import InputLines, Reader, _take_ready
from tests.bulk._fake import FakeStytch
from tests.conftest import PROJECT_ID, SECRET


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [_jsoncodec.loads(line) for line in path.read_bytes().splitlines()]


def by_status(path: Path, status: str) -> list[dict[str, Any]]:
    return [record for record in records(path) if record["status"] == status]


def enroll(*args: str | Path) -> int:
    return main(["bulk-enroll", *map(str, args)])


@pytest.fixture
def output(tmp_path: Path) -> Path:
    return tmp_path / "results.jsonl"


def test_enrolls_every_user_of_a_text_file(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [f"user-{i}" for i in range(2000)]
    source = write_lines(tmp_path / "users.txt", ids)

    status = enroll(source, "--output", output, "--concurrency", "32")

    assert status == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    enrolled = by_status(output, "enrolled")
    assert sorted(r["user_id"] for r in enrolled) == sorted(ids)
    assert all(r["line"] == int(r["user_id"].split("-")[1]) + 1 for r in enrolled)
    assert all(r["secret"] and len(r["recovery_codes"]) == 10 for r in enrolled)
    assert {r["totp_id"] for r in enrolled} == set(stytch_env.enrolled.values())
    assert len(stytch_env.arrivals) == 2000
    err = capsys.readouterr().err
    assert "2000 enrolled, 0 failed" in err
    assert str(output) in err


def test_csv_and_jsonl_inputs_with_malformed_lines(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(
        tmp_path / "users.csv",
        ["email,user_id,expiration_minutes", "a@x.com,user-a,30", "b@x.com", "c@x.com,user-c,"],
    )

    status = enroll(source, "-o", output, "--expiration-minutes", "60")

    assert status == 1  # a malformed line is not a success
    err = capsys.readouterr().err
    assert f"{source}:3: malformed line: expected 3 fields, got 1" in err
    assert [r["line"] for r in by_status(output, "invalid_input")] == [3]
    assert sorted(r["user_id"] for r in by_status(output, "enrolled")) == ["user-a", "user-c"]
    sent = {a.user_id: a.body.get("expiration_minutes") for a in stytch_env.arrivals}
    assert sent == {"user-a": 30, "user-c": 60}

    jsonl = write_lines(
        tmp_path / "more.data",
        ['{"user_id": "user-j1"}', "{oops", '{"user_id": "user-j2", "expiration_minutes": 5}'],
    )
    second = tmp_path / "second.jsonl"

    assert enroll(jsonl, "-o", second) == 1
    assert "more.data:2: malformed line: not valid JSON" in capsys.readouterr().err
    assert sorted(r["user_id"] for r in by_status(second, "enrolled")) == ["user-j1", "user-j2"]


def test_many_malformed_lines_are_counted_not_all_printed(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(tmp_path / "users.txt", ["user-ok"] + ["bad id"] * 50)

    assert enroll(source, "-o", output) == 1

    err = capsys.readouterr().err
    assert err.count("malformed line:") == 20
    assert "more malformed lines" in err
    assert "50 malformed line(s)" in err
    assert len(by_status(output, "invalid_input")) == 50


def test_ctrl_c_before_the_run_starts_sends_nothing(
    stytch_env: FakeStytch,
    tmp_path: Path,
    output: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(self: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("stytch_totp.cli._bulk_enroll.reader.InputSource.count", interrupted)
    source = write_lines(tmp_path / "users.txt", ["user-1"])

    assert enroll(source, "-o", output) == 130

    assert "interrupted" in capsys.readouterr().err
    assert stytch_env.arrivals == []
    assert records(output) == []


def test_failures_are_recorded_with_type_status_and_request_id(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stytch_env.unknown_users.add("user-2")
    stytch_env.fail(500, "internal_server_error", user_id="user-3")
    stytch_env.fail(503, "service_unavailable", user_id="user-4", times=1)
    stytch_env.fail(429, "too_many_requests", after=5, retry_after="0.2")
    source = write_lines(tmp_path / "users.txt", [f"user-{i}" for i in range(20)])

    status = enroll(source, "-o", output, "--concurrency", "4")

    assert status == 1
    failed = {r["user_id"]: r for r in by_status(output, "failed")}
    assert set(failed) == {"user-2", "user-3"}
    assert failed["user-2"]["error"] == "NotFoundError"
    assert failed["user-2"]["error_type"] == "user_not_found"
    assert failed["user-2"]["status_code"] == 404
    assert failed["user-2"]["request_id"].startswith("request-id-test-")
    assert failed["user-3"]["status_code"] == 500
    assert len(by_status(output, "enrolled")) == 18  # the 503 and the 429 were retried
    err = capsys.readouterr().err
    assert "18 enrolled, 2 failed" in err
    assert "--resume retries them" in err


def test_resume_skips_users_already_enrolled_and_retries_the_failed(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [f"user-{i}" for i in range(50)]
    source = write_lines(tmp_path / "users.txt", ids)
    for user_id in ("user-7", "user-8"):
        stytch_env.fail(500, "internal_server_error", user_id=user_id)

    assert enroll(source, "-o", output) == 1
    # The failed users were never enrolled; a crash then cut the last record short.
    with output.open("ab") as file:
        file.write(b'{"status":"enrolled","user_id":"us')
    arrivals_before = len(stytch_env.arrivals)
    capsys.readouterr()

    assert enroll(source, "-o", output, "--resume") == 0

    resent = [a.user_id for a in stytch_env.arrivals[arrivals_before:]]
    assert sorted(resent) == ["user-7", "user-8"]
    lines = output.read_bytes().splitlines()
    cut_short = lines.index(b'{"status":"enrolled","user_id":"us')
    output.write_bytes(b"\n".join(lines[:cut_short] + lines[cut_short + 1 :]))
    assert sorted(r["user_id"] for r in by_status(output, "enrolled")) == sorted(ids)
    err = capsys.readouterr().err
    assert "48 skipped (already enrolled)" in err
    assert "1 unreadable line(s)" in err


def test_an_existing_output_is_refused_without_resume(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output.write_text("keep me\n")
    source = write_lines(tmp_path / "users.txt", ["user-1"])

    assert enroll(source, "-o", output) == 2

    assert output.read_text() == "keep me\n"
    assert stytch_env.arrivals == []
    assert "--resume" in capsys.readouterr().err


def test_resume_refuses_an_output_others_can_read(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output.write_text("")
    output.chmod(0o644)
    source = write_lines(tmp_path / "users.txt", ["user-1"])

    assert enroll(source, "-o", output, "--resume") == 2

    assert stytch_env.arrivals == []
    assert "chmod 600" in capsys.readouterr().err


def test_credentials_come_only_from_the_environment(
    threaded_fake: FakeStytch,
    tmp_path: Path,
    output: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("STYTCH_PROJECT_ID", raising=False)
    monkeypatch.setenv("STYTCH_SECRET", "whatever")
    source = write_lines(tmp_path / "users.txt", ["user-1"])

    assert enroll(source, "-o", output) == 2

    assert "STYTCH_PROJECT_ID" in capsys.readouterr().err
    assert not output.exists()  # nothing created when nothing can be sent
    with pytest.raises(SystemExit) as usage:
        enroll(source, "-o", output, "--secret", "s3cr3t")
    assert usage.value.code == 2


def test_a_csv_without_user_id_column_is_a_usage_error(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(tmp_path / "users.csv", ["email,name", "a@x.com,Ann"])

    assert enroll(source, "-o", output) == 2

    assert "no user_id column" in capsys.readouterr().err
    assert not output.exists()
    assert stytch_env.arrivals == []


def test_a_missing_input_is_a_usage_error(
    tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert enroll(tmp_path / "nope.txt", "-o", output) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("users.txt", ""),
        ("users.txt", "\n  \n\n"),
        ("users.csv", "user_id,expiration_minutes\n"),
        ("users.jsonl", ""),
        ("users", "user_id\n"),  # no suffix: the format is guessed from the header
    ],
    ids=["empty", "blank-lines", "csv-header-only", "empty-jsonl", "guessed-csv-header-only"],
)
@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_an_input_without_users_is_an_error_with_its_own_status(
    stytch_env: FakeStytch,
    tmp_path: Path,
    output: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str,
    dry_run: bool,
) -> None:
    source = tmp_path / name
    source.write_text(content)

    status = enroll(source, "-o", output, *(["--dry-run"] if dry_run else []))

    assert status == 4
    assert "lists no users" in capsys.readouterr().err
    assert not output.exists()
    assert stytch_env.arrivals == []


def test_an_empty_standard_input_is_an_error_too(
    stytch_env: FakeStytch, output: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))

    assert enroll("-", "-o", output) == 4
    assert not output.exists()


def test_reads_standard_input(
    stytch_env: FakeStytch, output: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b'{"user_id": "user-1"}\n{"user_id": "user-2"}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    assert enroll("-", "-o", output, "--include-qr-code") == 0

    enrolled = by_status(output, "enrolled")
    assert sorted(r["user_id"] for r in enrolled) == ["user-1", "user-2"]
    assert all(r["qr_code"].startswith("data:image/png;base64,") for r in enrolled)


class Trickle(io.BytesIO):
    """A stream that hands out its chunks one read at a time, like a pipe being written to."""

    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__()
        self._chunks = list(chunks)

    def read1(self, size: int | None = -1, /) -> bytes:
        return self._chunks.pop(0) if self._chunks else b""


def test_input_is_split_into_lines_as_iterating_the_file_would() -> None:
    data = b"a\r\n\nb\rc\n  \nlast"
    chunks = [data[i : i + 3] for i in range(0, len(data), 3)]

    assert list(InputLines(Trickle(chunks))) == io.BytesIO(data).readlines()
    assert list(InputLines(io.BytesIO(data))) == io.BytesIO(data).readlines()


def test_only_lines_already_read_are_taken_without_waiting() -> None:
    lines = InputLines(Trickle([b"user-1\nuser-2\n\n", b"user-3\nuser-", b"4\n"]))
    parsed = read_records(lines, InputFormat.TEXT)

    batches = [[r.line for r in batch] for batch in iter(lambda: _take_ready(parsed, lines), [])]

    assert batches == [[1, 2], [4], [5]]


async def test_one_reading_thread_serves_the_whole_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Many batches (a trickling pipe hands one line per read), one thread for all of them.
    started: list[str] = []
    original_start = threading.Thread.start

    def counting_start(thread: threading.Thread) -> None:
        started.append(thread.name)
        original_start(thread)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    lines = InputLines(Trickle([f"user-{n}\n".encode() for n in range(50)]))
    stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    reader = Reader(read_records(lines, InputFormat.TEXT), lines, stopped)

    seen = [record.params.user_id async for record in reader if isinstance(record, InputRecord)]

    assert seen == [f"user-{n}" for n in range(50)]
    assert started == ["stytch-totp-bulk-enroll-input"]


async def test_the_reader_ends_at_once_when_stopped_while_a_read_waits() -> None:
    read_end, write_end = os.pipe()  # a pipe nobody writes to: a silent stdin
    try:
        with os.fdopen(read_end, "rb", buffering=0, closefd=False) as stream:
            lines = InputLines(stream)
            stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            reader = Reader(read_records(lines, InputFormat.TEXT), lines, stopped)
            asyncio.get_running_loop().call_later(0.05, stopped.set_result, None)
            seen = [record async for record in reader]
        assert seen == []
    finally:
        os.close(write_end)  # the abandoned read returns, and its thread ends
        os.close(read_end)


def test_dry_run_sends_nothing_and_writes_nothing(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(tmp_path / "users.txt", ["user-1", "bad id", "user-3"])

    assert enroll(source, "-o", output, "--dry-run") == 1

    assert "dry run: would enroll 2 user(s); 1 malformed line(s)" in capsys.readouterr().err
    assert not output.exists()
    assert stytch_env.arrivals == []


def test_dry_run_with_resume_counts_what_would_be_skipped(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_lines(tmp_path / "users.txt", ["user-1", "user-2", "user-3"])
    assert enroll(source, "-o", output, "--dry-run") == 0
    output.write_text('{"status": "enrolled", "user_id": "user-2"}\n')
    output.chmod(0o600)
    capsys.readouterr()

    assert enroll(source, "-o", output, "--dry-run") == 2  # as the real run would refuse
    assert enroll(source, "-o", output, "--dry-run", "--resume") == 0

    err = capsys.readouterr().err
    assert f"would enroll 2 user(s); skip 1 already enrolled in {output}" in err
    assert stytch_env.arrivals == []
    output.chmod(0o644)
    assert enroll(source, "-o", output, "--dry-run", "--resume") == 2


def test_plain_progress_lines_when_stderr_is_not_a_terminal(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stytch_env.delay = 0.01
    source = write_lines(tmp_path / "users.txt", [f"user-{i}" for i in range(60)])

    status = enroll(source, "-o", output, "--concurrency", "2", "--progress-interval", "0.05")

    assert status == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if " in flight" in line]
    assert lines
    assert "/60 done" in lines[0]
    assert "/s" in lines[0]


def test_a_progress_bar_on_a_terminal(
    stytch_env: FakeStytch,
    tmp_path: Path,
    output: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stytch_env.unknown_users.add("user-1")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    source = write_lines(tmp_path / "users.txt", [f"user-{i}" for i in range(30)])

    assert enroll(source, "-o", output) == 1

    err = capsys.readouterr().err
    assert "enrolling" in err
    assert "30/30" in err
    assert "failed=1" in err


def test_without_tqdm_a_terminal_gets_plain_lines(
    stytch_env: FakeStytch,
    tmp_path: Path,
    output: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setitem(sys.modules, "tqdm", None)
    source = write_lines(tmp_path / "users.txt", ["user-1"])

    assert enroll(source, "-o", output) == 0
    assert "install stytch-totp[cli]" in capsys.readouterr().err


def test_a_failure_to_write_the_output_stops_the_run(
    stytch_env: FakeStytch,
    tmp_path: Path,
    output: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write_lines(tmp_path / "users.txt", [f"user-{i}" for i in range(500)])
    real_write = os.write
    writes = 0

    def failing_write(fd: int, data: bytes) -> int:
        nonlocal writes
        writes += 1
        if writes > 10:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", failing_write)

    assert enroll(source, "-o", output) == 3

    assert "No space left on device" in capsys.readouterr().err
    assert len(records(output)) == 10
    assert len(stytch_env.arrivals) < 500


def test_describe_progress() -> None:
    progress = BulkProgress(
        started=120,
        succeeded=90,
        failed=10,
        in_flight=20,
        elapsed=10.0,
        rate_limit_pauses=1,
        paused_for=2.5,
    )

    line = describe_progress(progress, 3700)

    assert line == (
        "100/3700 done, 90 enrolled, 10 failed, 20 in flight, 10.0/s, ETA 0:06:00,"
        " paused 2.5 s (rate limited)"
    )
    assert describe_progress(progress, None).startswith("100 done,")
    idle = BulkProgress(0, 0, 0, 0, 0.0, 0, 0.0)
    assert describe_progress(idle, 10) == "0/10 done, 0 enrolled, 0 failed, 0 in flight, 0.0/s"


@pytest.mark.parametrize(
    "args",
    [
        ["--concurrency", "0"],
        ["--concurrency", "many"],
        ["--max-rate", "-1"],
        ["--max-rate", "fast"],
        ["--expiration-minutes", "2"],
        ["--expiration-minutes", "soon"],
        ["--format", "xml"],
    ],
)
def test_bad_options_are_usage_errors(tmp_path: Path, output: Path, args: list[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        enroll(tmp_path / "users.txt", "-o", output, *args)
    assert usage.value.code == 2


def test_a_wrong_secret_stops_the_run_at_once_and_says_why(
    stytch_env: FakeStytch,
    tmp_path: Path,
    output: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STYTCH_SECRET", "secret-test-this-is-not-the-secret")
    source = write_lines(tmp_path / "users.txt", [f"user-{i}" for i in range(2000)])

    status = enroll(source, "-o", output, "--concurrency", "4")

    assert status == 5
    err = capsys.readouterr().err
    assert "stopped: the project credentials were refused (401 unauthorized_credentials)" in err
    assert "--resume" in err
    assert "failures by kind: unauthorized_credentials" in err
    # Only the requests already in flight were sent, and each is recorded.
    failed = by_status(output, "failed")
    assert 1 <= len(failed) <= 4
    assert all(r["error_type"] == "unauthorized_credentials" for r in failed)
    assert stytch_env.arrivals == []  # the fake refused them before taking them in

    # With the right secret, --resume picks up everything that was not enrolled.
    monkeypatch.setenv("STYTCH_SECRET", SECRET)
    assert enroll(source, "-o", output, "--resume", "--concurrency", "32") == 0
    assert len(by_status(output, "enrolled")) == 2000


def test_an_unreachable_server_stops_after_connection_failures_in_a_row(
    tmp_path: Path,
    output: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:  # a port that was just free: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("STYTCH_PROJECT_ID", PROJECT_ID)
    monkeypatch.setenv("STYTCH_SECRET", SECRET)
    monkeypatch.setenv("STYTCH_BASE_URL", f"http://127.0.0.1:{port}/")
    source = write_lines(tmp_path / "users.txt", [f"user-{i}" for i in range(20000)])

    status = enroll(
        source, "-o", output, "--concurrency", "1", "--stop-after-connection-failures", "3"
    )

    assert status == 5
    err = capsys.readouterr().err
    assert "stopped: 3 connection failures in a row" in err
    assert "connection: could not connect 3 (e.g. user-0)" in err
    assert len(by_status(output, "failed")) == 3


def test_max_failures_stops_a_run_drowning_in_per_user_failures(
    stytch_env: FakeStytch, tmp_path: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stytch_env.unknown_users.update(f"user-{i}" for i in range(100))
    source = write_lines(tmp_path / "users.txt", [f"user-{i}" for i in range(100)])

    status = enroll(source, "-o", output, "--concurrency", "1", "--max-failures", "5")

    assert status == 5
    err = capsys.readouterr().err
    assert "stopped: more than 5 users failed" in err
    assert "user_not_found 6 (e.g. user-0)" in err


def test_the_progress_line_counts_failures_by_kind() -> None:
    progress = BulkProgress(10, 7, 3, 0, 2.0, 0, 0.0)
    failures = {"user_not_found": (2, "user-4"), "too_many_requests": (1, "user-9")}
    line = describe_progress(progress, 20, failures)
    assert "3 failed (user_not_found 2 (e.g. user-4), too_many_requests 1 (e.g. user-9))" in line
