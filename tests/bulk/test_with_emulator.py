"""Bulk enrollment against the real emulator (``stytch_totp.testing.Emulator``): Stytch's own
behaviour, with injected faults, through the library, the command line and a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from stytch_totp import BadRequestError, InternalServerError, NotFoundError, _jsoncodec
from stytch_totp.cli import main
from stytch_totp.testing import Emulator
from tests.bulk._fake import eventually

#: Enrollment is CPU-bound in the emulator (it renders a QR code per TOTP): keep runs short.
USERS = 120


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator


@pytest.fixture
def threaded_emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An emulator on its own loop in a thread (the command line runs its own loop), with the
    credentials in the environment."""
    emulator = Emulator()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(emulator.start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(emulator.aclose())
        loop.close()

    thread = threading.Thread(target=serve, name="emulator", daemon=True)
    thread.start()
    assert ready.wait(10)
    monkeypatch.setenv("STYTCH_PROJECT_ID", emulator.project_id)
    monkeypatch.setenv("STYTCH_SECRET", emulator.secret)
    monkeypatch.setenv("STYTCH_BASE_URL", emulator.url)
    yield emulator
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def records(path: Path) -> list[dict[str, Any]]:
    return [_jsoncodec.loads(line) for line in path.read_bytes().splitlines()]


def enrolled_ids(path: Path) -> list[str]:
    return [r["user_id"] for r in records(path) if r["status"] == "enrolled"]


async def test_create_many_with_injected_429s_and_5xx(emu: Emulator) -> None:
    users = [emu.create_user(email=f"user{i}@example.com") for i in range(USERS)]
    unknown = [f"user-test-00000000-0000-4000-8000-00000000000{i}" for i in range(3)]
    emu.inject(
        "/v1/totps", status=429, retry_after="0.2"
    )  # a string is sent as is: a sub-second wait
    emu.inject("/v1/totps", status=503, times=2)
    emu.inject("/v1/totps", status=500)

    async with emu.client() as client:
        async with client.totps.create_many(users + unknown, concurrency=16) as batch:
            results = [result async for result in batch]

        assert len(results) == USERS + 3
        assert batch.progress.rate_limit_pauses == 1
        failed = [r for r in results if not r.ok]
        # The 500 may have enrolled its user, so it is never replayed; the 429 and 503s were.
        assert sum(isinstance(r.error, InternalServerError) for r in failed) == 1
        assert {r.user_id for r in failed if isinstance(r.error, NotFoundError)} == set(unknown)
        assert len(failed) == 4
        # Each secret handed back works in an authenticator app.
        verified = [r for r in results if r.ok][:3]
        for result in verified:
            assert result.response is not None
            code = emu.totp_code(result.response.secret)
            auth = await client.totps.authenticate(user_id=result.response.user_id, totp_code=code)
            assert auth.user_id == result.user_id

        # A second pass: every user enrolled by the first is refused, one by one (a verified
        # TOTP is active, the others pending), and the batch goes on.
        async with client.totps.create_many(users, concurrency=16) as again:
            second = [result async for result in again]

    refused = {r.user_id: r.error for r in second if isinstance(r.error, BadRequestError)}
    assert set(refused) == {r.user_id for r in results if r.ok}
    assert all(r.ok for r in second if r.user_id not in refused)
    assert {
        user_id for user_id, error in refused.items() if error.error_type == "active_totp_exists"
    } == {r.user_id for r in verified}
    assert {error.error_type for error in refused.values()} == {
        "active_totp_exists",
        "pending_totp_exists",
    }


def test_command_line_malformed_lines_permissions_and_resume(
    threaded_emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = [threaded_emu.create_user(email=f"user{i}@example.com") for i in range(40)]
    source = tmp_path / "users.jsonl"
    lines = [_jsoncodec.dumps({"user_id": u, "expiration_minutes": 60}).decode() for u in users]
    lines.insert(10, '{"user_id": 12}')
    lines.insert(20, "not json at all")
    source.write_text("\n".join(lines) + "\n")
    output = tmp_path / "out" / "results.jsonl"
    output.parent.mkdir()
    threaded_emu.inject("/v1/totps", status=500, times=3)

    first = main(["bulk-enroll", str(source), "-o", str(output), "--concurrency", "4"])

    assert first == 1
    err = capsys.readouterr().err
    assert f"{source}:11: malformed line" in err
    assert f"{source}:21: malformed line: not valid JSON" in err
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert [r["line"] for r in records(output) if r["status"] == "invalid_input"] == [11, 21]
    failed = [r for r in records(output) if r["status"] == "failed"]
    assert len(failed) == 3
    assert {(r["error_type"], r["status_code"]) for r in failed} == {("internal_server_error", 500)}
    assert all(r["request_id"] for r in failed)

    second = main(["bulk-enroll", str(source), "-o", str(output), "--resume"])

    assert second == 1  # the malformed lines are still malformed
    assert sorted(enrolled_ids(output)) == sorted(users)
    assert "37 skipped (already enrolled)" in capsys.readouterr().err


async def test_ctrl_c_on_a_real_process_then_resume(emu: Emulator, tmp_path: Path) -> None:
    users = [emu.create_user(email=f"user{i}@example.com") for i in range(120)]
    source = tmp_path / "users.txt"
    source.write_text("\n".join(users) + "\n")
    output = tmp_path / "results.jsonl"
    slow = emu.inject("/v1/totps", delay=0.05, times=None)
    env = {
        **os.environ,
        "STYTCH_PROJECT_ID": emu.project_id,
        "STYTCH_SECRET": emu.secret,
        "STYTCH_BASE_URL": emu.url,
    }

    async def run(*args: str) -> tuple[asyncio.subprocess.Process, bytes]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "stytch_totp",
            "bulk-enroll",
            str(source),
            "-o",
            str(output),
            *args,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        if "--resume" not in args:
            await eventually(lambda: output.exists() and len(records(output)) >= 8)
            process.send_signal(signal.SIGINT)
        async with asyncio.timeout(60):
            _, err = await process.communicate()
        return process, err

    interrupted, err = await run("--concurrency", "4")

    assert interrupted.returncode == 130, err.decode()
    assert b"stopping: waiting for" in err
    assert b"run again with --resume" in err
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    done_before = enrolled_ids(output)
    assert 8 <= len(done_before) < len(users)
    assert slow.remaining is None

    emu.clear_faults()
    resumed, err = await run("--resume", "--concurrency", "8")

    assert resumed.returncode == 0, err.decode()
    assert f"{len(done_before)} skipped (already enrolled)".encode() in err
    assert sorted(enrolled_ids(output)) == sorted(users)
    # Every request that reached the emulator, including those in flight at Ctrl-C, has its
    # result in the file: no enrollment's secret was lost.
    assert all(r["status"] == "enrolled" for r in records(output))
    assert emu.request_count("/v1/totps") == len(records(output))
