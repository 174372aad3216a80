"""docs/examples/deploy_forked.py: a parent that used its SyncClient forks 4 workers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from stytch_totp.testing import ThreadedEmulator

from ._servers import EXAMPLES, stytch_env


def test_forked_workers_each_use_their_own_pool_and_the_parent_still_works(
    stytch_emulator_thread: ThreadedEmulator, tmp_path: Path
) -> None:
    emulator = stytch_emulator_thread
    users = emulator.ensure_users(41)
    shutil.copyfile(EXAMPLES / "deploy_forked.py", tmp_path / "deploy_forked.py")

    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-W", "default", str(tmp_path / "deploy_forked.py"), *users],
        env=stytch_env(emulator),
        capture_output=True,
        text=True,
        timeout=120,  # a child stuck on the parent's loop or lock would hang: fail instead
        check=False,
    )

    assert done.returncode == 0, done.stderr
    *results, parent = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(result["asked"] for result in results) == sorted(users[1:])
    assert all(result["answered"] == result["asked"] for result in results)
    workers = {result["worker"] for result in results}
    assert 1 < len(workers) <= 4
    assert os.getpid() not in workers
    assert parent == {"parent": users[0]}
    assert emulator.request_count("/v1/totps") == 41  # each create sent once
    # 3.12+ warns (DeprecationWarning, hidden by default) about fork() in a process with
    # threads; nothing else is printed.
    assert done.stderr == ""
