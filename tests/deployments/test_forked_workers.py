"""docs/examples/deploy_forked.py and deploy_forked_async.py: a parent that used its client
(SyncClient; Client under asyncio.run) forks 4 workers; and a bare os.fork() child."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from stytch_totp.testing import ThreadedEmulator

from ._servers import EXAMPLES, run_python

#: Every warning shown, but Python's own (3.12 and later) about fork() in a process with threads
#: (the SyncClient's loop thread): a DeprecationWarning hidden by default, that docs/deploying.md
#: explains. Anything else the recipes print fails the tests.
SHOW_WARNINGS = [
    "-W",
    "default",
    "-W",
    "ignore:This process (pid=:DeprecationWarning",
]


@pytest.mark.parametrize(
    "example",
    [
        "deploy_forked.py",  # SyncClient
        "deploy_forked_async.py",  # Client, an asyncio.run per task
    ],
)
def test_forked_workers_each_use_their_own_pool_and_the_parent_still_works(
    stytch_emulator_thread: ThreadedEmulator, tmp_path: Path, example: str
) -> None:
    emulator = stytch_emulator_thread
    users = emulator.ensure_users(41)
    shutil.copyfile(EXAMPLES / example, tmp_path / example)

    # A child stuck on the parent's loop or lock would hang: fail after 120 s instead.
    done = run_python(emulator, *SHOW_WARNINGS, str(tmp_path / example), *users, timeout=120)

    assert done.returncode == 0, done.stderr
    *results, parent = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(result["asked"] for result in results) == sorted(users[1:])
    assert all(result["answered"] == result["asked"] for result in results)
    workers = {result["worker"] for result in results}
    assert 1 < len(workers) <= 4
    assert os.getpid() not in workers
    assert parent == {"parent": users[0]}
    assert emulator.request_count("/v1/totps") == 41  # each create sent once
    assert done.stderr == ""


BARE_FORK = """
import json, os, sys
import stytch_totp

stytch = stytch_totp.SyncClient.from_env()
stytch.totps.recovery_codes(user_id=sys.argv[1])  # the parent's pool holds a connection
pid = os.fork()
if pid == 0:  # the child exits normally: atexit, interpreter shutdown, garbage collection
    if sys.argv[3] == "uses-the-client":
        print(json.dumps({"child": stytch.totps.recovery_codes(user_id=sys.argv[2]).user_id}))
    sys.stdout.flush()
    sys.exit(0)
_, status = os.waitpid(pid, 0)
print(json.dumps({"child_exit": os.waitstatus_to_exitcode(status)}))
print(json.dumps({"parent": stytch.totps.recovery_codes(user_id=sys.argv[1]).user_id}))
"""


@pytest.mark.parametrize("child", ["uses-the-client", "never-calls"])
def test_a_bare_fork_child_that_exits_normally_prints_nothing(
    stytch_emulator_thread: ThreadedEmulator, tmp_path: Path, child: str
) -> None:
    # The child inherits the parent's pool (an open session, a pooled connection). It must not
    # close it (those are the parent's connections), nor leave it for aiohttp's finalizers to
    # report as "Unclosed client session" / "Unclosed connector" when the child exits.
    emulator = stytch_emulator_thread
    parent_user, child_user = emulator.ensure_users(2)
    with emulator.sync_client() as client:
        for user_id in (parent_user, child_user):
            client.totps.create(user_id=user_id)
    script = tmp_path / "bare_fork.py"
    script.write_text(BARE_FORK)

    done = run_python(emulator, *SHOW_WARNINGS, str(script), parent_user, child_user, child)

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    expected = [{"child_exit": 0}, {"parent": parent_user}]
    if child == "uses-the-client":
        expected.insert(0, {"child": child_user})
    assert lines == expected
    assert done.stderr == ""
