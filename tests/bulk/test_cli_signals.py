"""Ctrl-C on a real ``stytch-totp bulk-enroll`` process: nothing completed is lost, and
``--resume`` finishes the job."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
from pathlib import Path
from typing import Any

import orjson

from tests.bulk._fake import FakeStytch, eventually
from tests.conftest import PROJECT_ID, SECRET


def command_env(fake: FakeStytch) -> dict[str, str]:
    return {
        **os.environ,
        "STYTCH_PROJECT_ID": PROJECT_ID,
        "STYTCH_SECRET": SECRET,
        "STYTCH_BASE_URL": fake.url,
    }


async def start(fake: FakeStytch, *args: str | Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stytch_totp",
        "bulk-enroll",
        *map(str, args),
        env=command_env(fake),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


async def test_ctrl_c_keeps_every_result_and_resume_completes_the_rest(
    fake: FakeStytch, tmp_path: Path
) -> None:
    ids = [f"user-{i}" for i in range(300)]
    source = tmp_path / "users.txt"
    source.write_text("\n".join(ids) + "\n")
    output = tmp_path / "results.jsonl"
    fake.delay = 0.05  # slow enough to interrupt mid-run

    process = await start(fake, source, "-o", output, "--concurrency", "4")
    await eventually(lambda: len(records(output)) >= 12)
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(30):
        _, err = await process.communicate()

    assert process.returncode == 130, err.decode()
    assert b"stopping: waiting for" in err
    assert b"run again with --resume" in err
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    written = {r["user_id"] for r in records(output) if r["status"] == "enrolled"}
    # The requests in flight at Ctrl-C were finished and written: Stytch enrolled no one whose
    # secret is missing from the file.
    assert written == set(fake.enrolled)
    assert 12 <= len(written) < len(ids)

    fake.delay = 0.0
    resumed = await start(fake, source, "-o", output, "--resume", "--concurrency", "8")
    async with asyncio.timeout(60):
        _, err = await resumed.communicate()

    assert resumed.returncode == 0, err.decode()
    enrolled = [r["user_id"] for r in records(output) if r["status"] == "enrolled"]
    assert sorted(enrolled) == sorted(ids)  # every user exactly once
    assert all(arrival.status == 200 for arrival in fake.arrivals)  # nobody was sent twice
    assert f"{len(written)} skipped (already enrolled)".encode() in err


async def test_a_second_signal_abandons_the_requests_in_flight(
    fake: FakeStytch, tmp_path: Path
) -> None:
    source = tmp_path / "users.txt"
    source.write_text("".join(f"user-{i}\n" for i in range(100)))
    output = tmp_path / "results.jsonl"
    fake.hold = asyncio.Event()  # requests never get an answer

    process = await start(fake, source, "-o", output, "--concurrency", "3")
    await eventually(lambda: len(fake.arrivals) == 3)
    process.send_signal(signal.SIGTERM)
    assert process.stderr is not None
    async with asyncio.timeout(30):
        line = await process.stderr.readline()
    assert b"stopping: waiting for 3 request(s) in flight" in line
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(30):
        _, err = await process.communicate()

    assert process.returncode == 130, err.decode()
    assert b"3 request(s) were abandoned in flight" in err
    assert records(output) == []
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert len(fake.arrivals) == 3  # nothing more was sent after the first signal
