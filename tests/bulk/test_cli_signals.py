"""A second Ctrl-C on a real ``stytch-totp bulk-enroll`` process abandons what is in flight.

(The first Ctrl-C and ``--resume`` are tested against the emulator, in ``test_with_emulator``.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
from pathlib import Path
from typing import Any

from stytch_totp import _jsoncodec
from tests.bulk._fake import FakeStytch, eventually
from tests.conftest import PROJECT_ID, SECRET


def command_env(fake: FakeStytch) -> dict[str, str]:
    return {
        **os.environ,
        "STYTCH_PROJECT_ID": PROJECT_ID,
        "STYTCH_SECRET": SECRET,
        "STYTCH_BASE_URL": fake.url,
    }


async def start(
    fake: FakeStytch, *args: str | Path, stdin: int = asyncio.subprocess.DEVNULL
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stytch_totp",
        "bulk-enroll",
        *map(str, args),
        env=command_env(fake),
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [_jsoncodec.loads(line) for line in path.read_bytes().splitlines()]


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


def enrolled(path: Path) -> list[str]:
    return [record["user_id"] for record in records(path) if record["status"] == "enrolled"]


async def test_ctrl_c_stops_promptly_while_stdin_stays_open_and_silent(
    fake: FakeStytch, tmp_path: Path
) -> None:
    output = tmp_path / "results.jsonl"
    process = await start(fake, "-", "-o", output, stdin=asyncio.subprocess.PIPE)
    assert process.stdin is not None
    assert process.stderr is not None
    process.stdin.write(b"user-1\n")
    await process.stdin.drain()
    # Enrolled while the command waits for more input: the read does not block the loop.
    await eventually(lambda: enrolled(output) == ["user-1"], timeout=20)

    process.send_signal(signal.SIGINT)  # stdin stays open: only the signal can end the run
    async with asyncio.timeout(20):
        err = await process.stderr.read()
        await process.wait()
    process.stdin.close()

    assert process.returncode == 130, err.decode()
    assert b"1 enrolled, 0 failed" in err
    assert b"Fatal Python error" not in err
    assert enrolled(output) == ["user-1"]
    assert [a.user_id for a in fake.arrivals] == ["user-1"]


async def test_users_written_to_stdin_later_are_enrolled_not_timed_out(
    fake: FakeStytch, tmp_path: Path
) -> None:
    output = tmp_path / "results.jsonl"
    process = await start(fake, "-", "-o", output, "--timeout", "1", stdin=asyncio.subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(b"user-1\n")
    await process.stdin.drain()
    await eventually(lambda: enrolled(output) == ["user-1"], timeout=20)
    await asyncio.sleep(1.5)  # silent for longer than a request may take

    process.stdin.write(b"user-2\nuser-3")  # the last line without its newline
    await process.stdin.drain()
    await eventually(lambda: len(enrolled(output)) == 2, timeout=20)
    process.stdin.close()
    async with asyncio.timeout(20):
        _, err = await process.communicate()

    assert process.returncode == 0, err.decode()
    assert sorted(enrolled(output)) == ["user-1", "user-2", "user-3"]
    assert len(fake.arrivals) == 3
