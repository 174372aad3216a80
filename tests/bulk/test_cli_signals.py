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
