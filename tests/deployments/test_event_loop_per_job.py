"""One event loop per job (docs/examples/jobs_asyncio_run.py): one module-level Client used from
many successive ``asyncio.run`` loops, from loops running at the same time in threads, and from
the function-scoped loops of pytest-asyncio; and an async call where no asyncio loop runs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

import stytch_totp
from stytch_totp.testing import ThreadedEmulator
from tests.docs.conftest import load_example

from ._servers import EXAMPLES, connections_to, run_python, stytch_env


def port_of(emulator: ThreadedEmulator) -> int:
    return int(emulator.url.rsplit(":", 1)[1].strip("/"))


@pytest.fixture
def jobs(stytch_emulator_thread: ThreadedEmulator, monkeypatch: pytest.MonkeyPatch) -> object:
    """The example module, imported here with its module-level client pointed at the emulator."""
    for name, value in stytch_env(stytch_emulator_thread).items():
        if name.startswith("STYTCH_"):
            monkeypatch.setenv(name, value)
    module = load_example("jobs_asyncio_run")
    yield module
    asyncio.run(module.stytch.aclose())


def test_many_sequential_jobs_each_close_their_pool_as_their_loop_ends(
    stytch_emulator_thread: ThreadedEmulator, jobs: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    emulator = stytch_emulator_thread
    users = emulator.ensure_users(40)
    client: stytch_totp.Client = jobs.stytch
    transport = client._transport
    assert isinstance(transport, stytch_totp.AiohttpTransport)
    caplog.set_level(logging.ERROR, logger="asyncio")  # where "Unclosed client session" goes
    held = []
    for user_id in users:
        assert jobs.run_job(user_id) == {"asked": user_id, "answered": user_id}
        # That loop's pool was closed as asyncio.run ended: nothing kept, no socket left open.
        held.append((len(transport._pools), connections_to(os.getpid(), port_of(emulator))))
    assert held == [(0, 0)] * 40
    assert emulator.request_count("/v1/totps") == 40
    assert [r.getMessage() for r in caplog.records] == []


def test_jobs_in_threads_run_their_loops_at_the_same_time(
    stytch_emulator_thread: ThreadedEmulator, jobs: ModuleType
) -> None:
    emulator = stytch_emulator_thread
    users = emulator.ensure_users(24)
    client: stytch_totp.Client = jobs.stytch
    # Each job is held 0.3 s by Stytch: 8 threads each run their own loop, all at once.
    emulator.inject("/v1/totps", delay=0.3, times=None)
    loops: list[asyncio.AbstractEventLoop] = []  # kept, so that no id is reused
    lock = threading.Lock()
    in_flight = peak = 0

    async def job(user_id: str) -> str:
        nonlocal in_flight, peak
        with lock:
            loops.append(asyncio.get_running_loop())
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return (await client.totps.create(user_id=user_id)).user_id
        finally:
            with lock:
                in_flight -= 1

    with ThreadPoolExecutor(8) as threads:
        answered = list(threads.map(lambda u: asyncio.run(job(u)), users))

    assert answered == users  # each job its own user's answer
    assert len({id(loop) for loop in loops}) == 24  # a loop per job
    assert peak == 8  # the jobs of 8 threads in flight at once, each in its own loop
    assert isinstance(client._transport, stytch_totp.AiohttpTransport)
    assert client._transport._pools == {}
    assert connections_to(os.getpid(), port_of(emulator)) == 0


def test_the_example_script_prints_its_answers_and_nothing_else(
    stytch_emulator_thread: ThreadedEmulator, tmp_path: Path
) -> None:
    users = stytch_emulator_thread.ensure_users(16)
    shutil.copyfile(EXAMPLES / "jobs_asyncio_run.py", tmp_path / "jobs_asyncio_run.py")
    done = run_python(
        stytch_emulator_thread, "-W", "default", str(tmp_path / "jobs_asyncio_run.py"), *users
    )
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["asked"] for r in results] == users
    assert all(r["answered"] == r["asked"] for r in results)
    assert done.stderr == ""  # no "Unclosed client session", no ResourceWarning


PYTEST_ASYNCIO_FILE = """
import os

import pytest

import stytch_totp

# A module-level client, used by tests that each run in a loop of their own.
stytch = stytch_totp.Client.from_env()
USERS = os.environ["USERS"].split(",")


@pytest.mark.parametrize("n", range(len(USERS)))
async def test_enroll(n: int) -> None:
    created = await stytch.totps.create(user_id=USERS[n])
    assert created.user_id == USERS[n]
    assert len(stytch._transport._pools) == 1  # this test's loop's; the others' were closed
"""


def test_pytest_asyncio_function_scoped_loops_with_a_module_level_client(
    stytch_emulator_thread: ThreadedEmulator, tmp_path: Path
) -> None:
    users = stytch_emulator_thread.ensure_users(12)
    (tmp_path / "test_module_level_client.py").write_text(textwrap.dedent(PYTEST_ASYNCIO_FILE))
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\n"
        "asyncio_mode = auto\n"
        "asyncio_default_fixture_loop_scope = function\n"
        "asyncio_default_test_loop_scope = function\n"
        "filterwarnings = error\n"  # an unclosed session, raised in __del__, fails the run
    )
    done = run_python(
        stytch_emulator_thread,
        *("-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"),
        timeout=120,
        cwd=tmp_path,
        USERS=",".join(users),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "12 passed" in done.stdout
    assert "Unclosed" not in done.stdout + done.stderr
    assert "warning" not in done.stdout.lower()
    assert stytch_emulator_thread.request_count("/v1/totps") == 12


def test_an_async_call_where_no_asyncio_loop_runs_fails_before_sending(
    stytch_emulator_thread: ThreadedEmulator,
) -> None:
    client = stytch_totp.Client(
        stytch_emulator_thread.project_id,
        stytch_emulator_thread.secret,
        base_url=stytch_emulator_thread.url,
    )
    call = client.totps.recovery_codes(user_id="user-test-ada")
    # Driven by hand, as a framework other than asyncio would: no running asyncio loop.
    with pytest.raises(
        stytch_totp.APIConnectionError, match="running asyncio event loop"
    ) as caught:
        call.send(None)
    assert caught.value.kind is stytch_totp.FailureKind.UNUSABLE
    assert caught.value.may_have_been_processed is False
    assert caught.value.attempts == 1  # a misuse, not retried
    assert "SyncClient" in str(caught.value)  # says what to do instead
    assert stytch_emulator_thread.request_count() == 0
