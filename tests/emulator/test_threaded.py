"""``ThreadedEmulator``: the emulator on its own thread, driven from tests that block."""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import stytch_totp
from stytch_totp.testing import Clock, Emulator, EmulatorError, ThreadedEmulator
from stytch_totp.testing._server.clock import Clock as ServerClock

FROZEN = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def threaded() -> Iterator[ThreadedEmulator]:
    with ThreadedEmulator() as emulator:
        yield emulator


async def _enroll_and_verify(emulator: ThreadedEmulator, email: str) -> str:
    user_id = emulator.create_user(email)
    async with emulator.client() as client:
        created = await client.totps.create(user_id=user_id)
        auth = await client.totps.authenticate(
            user_id=user_id, totp_code=emulator.totp_code(created.secret)
        )
    return auth.user_id


def test_a_synchronous_test_drives_the_whole_flow(threaded: ThreadedEmulator) -> None:
    # The test's own loop (asyncio.run) is not the emulator's: blocking it blocks nothing.
    assert asyncio.run(_enroll_and_verify(threaded, "ada@example.com")).startswith("user-test-")
    assert threaded.request_count("/v1/totps") == 1
    assert threaded.request_count() == 2


async def test_an_async_test_can_block_its_loop_and_the_emulator_still_answers(
    threaded: ThreadedEmulator,
) -> None:
    user_id = threaded.create_user("ada@example.com")
    request = urllib.request.Request(  # noqa: S310 - the emulator's http:// URL
        f"{threaded.url}v1/totps",
        data=json.dumps({"user_id": user_id}).encode(),
        headers={
            "Authorization": aiohttp.encode_basic_auth(threaded.project_id, threaded.secret),
            "Content-Type": "application/json",
        },
    )

    # A synchronous HTTP call, as requests would make, blocking the test's event loop.
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: ASYNC210, S310
        assert response.status == 200

    assert threaded.request_count("/v1/totps") == 1


async def test_starlette_testclient_in_an_async_test_does_not_hang(
    threaded: ThreadedEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tests/docs runs the docs' app this way; here, the bare mechanism with a minimal app.
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    async def enroll(request: Request) -> JSONResponse:
        async with stytch_totp.Client.from_env(timeout=5) as client:
            created = await client.totps.create(user_id=request.path_params["user_id"])
        return JSONResponse({"totp_id": created.totp_id})

    monkeypatch.setenv("STYTCH_PROJECT_ID", threaded.project_id)
    monkeypatch.setenv("STYTCH_SECRET", threaded.secret)
    monkeypatch.setenv("STYTCH_BASE_URL", threaded.url)
    app = Starlette(routes=[Route("/enroll/{user_id}", enroll, methods=["POST"])])
    user_id = threaded.create_user("ada@example.com")

    with TestClient(app) as browser:  # blocks this test's loop until the app has answered
        answer = browser.post(f"/enroll/{user_id}")

    # With stytch_emulator instead, the app's call would time out, and TestClient raise.
    assert answer.status_code == 200
    assert answer.json()["totp_id"].startswith("totp-test-")
    assert threaded.request_count("/v1/totps") == 1


# ---------------------------------------------------------------------------------------------
# Every method runs on the emulator's thread
# ---------------------------------------------------------------------------------------------

#: Emulator methods and properties that ThreadedEmulator does not mirror, and why.
NOT_MIRRORED = {
    "start": "ThreadedEmulator.start() starts the thread, which starts the emulator",
    "aclose": "ThreadedEmulator.close() stops the emulator on its thread, then the thread",
    "app": "the aiohttp application lives on the emulator's loop: reach it with call()",
}


def _public_members(cls: type) -> set[str]:
    return {name for name in vars(cls) if not name.startswith("_")}


def test_every_emulator_method_is_mirrored() -> None:
    missing = _public_members(Emulator) - _public_members(ThreadedEmulator) - set(NOT_MIRRORED)
    assert missing == set(), "add these to ThreadedEmulator, run on the emulator's thread"
    assert set(NOT_MIRRORED) <= _public_members(Emulator)


def test_the_threaded_clock_mirrors_the_clock() -> None:
    threaded_clock = _public_members(stytch_totp.testing.ThreadedClock)
    assert _public_members(Clock) == threaded_clock


#: (method, arguments) of ThreadedEmulator calls that reach the emulator's state.
CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("create_user", ("ada@example.com",), {"name": "Ada Lovelace"}),
    ("totp_code", ("JBSWY3DPEHPK3PXP",), {}),
    ("inject", ("/v1/totps",), {"status": 503, "times": 2}),
    ("clear_faults", (), {}),
    ("request_count", ("/v1/totps",), {}),
]
CLOCK_CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("now", ()),
    ("set", (FROZEN,)),
    ("advance", (30,)),
    ("resume", ()),
]


@pytest.fixture
def threads_seen(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """Every Emulator and Clock method records the names of the threads it ran on."""
    seen: dict[str, set[str]] = {}

    def recording(cls: type, name: str) -> None:
        member = inspect.getattr_static(cls, name)
        if isinstance(member, property):
            assert member.fget is not None
            original = member.fget

            def fget(self: Any) -> Any:
                seen.setdefault(f"{cls.__name__}.{name}", set()).add(
                    threading.current_thread().name
                )
                return original(self)

            monkeypatch.setattr(cls, name, property(fget))
            return
        function = getattr(cls, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            seen.setdefault(f"{cls.__name__}.{name}", set()).add(threading.current_thread().name)
            return function(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, wrapper)

    for name, _, _ in CALLS:
        recording(Emulator, name)
    recording(Emulator, "clock")
    for name, _ in CLOCK_CALLS:
        recording(ServerClock, name)
    recording(ServerClock, "stopped")
    return seen


def test_every_call_runs_on_the_emulators_thread(
    threads_seen: dict[str, set[str]],
) -> None:
    with ThreadedEmulator() as threaded:
        for name, args, kwargs in CALLS:
            getattr(threaded, name)(*args, **kwargs)
        for name, args in CLOCK_CALLS:
            getattr(threaded.clock, name)(*args)
        assert threaded.clock.stopped is False
        ran_on = threaded.call(lambda emulator: threading.current_thread().name)

    expected = {f"Emulator.{name}" for name, _, _ in CALLS} | {"Emulator.clock"}
    expected |= {f"Clock.{name}" for name, _ in CLOCK_CALLS} | {"Clock.stopped"}
    assert set(threads_seen) >= expected
    assert ran_on == "stytch-totp-emulator"
    assert ran_on != threading.current_thread().name
    for method in expected:
        assert threads_seen[method] == {ran_on}, method


def test_calls_from_many_threads_at_once_are_all_applied(threaded: ThreadedEmulator) -> None:
    errors: list[BaseException] = []

    def create(worker: int) -> None:
        try:
            for i in range(25):
                threaded.create_user(f"user{worker}-{i}@example.com")
                threaded.clock.advance(1)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    started = threaded.clock.now()
    workers = [threading.Thread(target=create, args=(worker,)) for worker in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    # 200 advances of one second, none lost to a race (the clock follows real time too).
    assert (threaded.clock.now() - started).total_seconds() >= 200
    # Every user exists: creating any of them again is refused as a duplicate.
    with pytest.raises(EmulatorError):
        threaded.create_user("user7-24@example.com")


# ---------------------------------------------------------------------------------------------
# What the emulator's methods do, through the thread
# ---------------------------------------------------------------------------------------------


def test_errors_are_raised_in_the_calling_thread(threaded: ThreadedEmulator) -> None:
    threaded.create_user("ada@example.com")
    with pytest.raises(EmulatorError):
        threaded.create_user("ada@example.com")
    with pytest.raises(stytch_totp.InvalidParamsError):
        threaded.inject("/v1/totps")  # neither a status, a delay nor a dropped connection


def test_faults_clock_and_counts_act_on_the_emulator(threaded: ThreadedEmulator) -> None:
    fault = threaded.inject("/v1/totps/recovery_codes", status=503, times=2)
    threaded.clock.set(FROZEN)
    assert threaded.clock.stopped
    assert threaded.clock.now() == FROZEN
    assert threaded.totp_code("JBSWY3DPEHPK3PXP") == stytch_totp.totp_code(
        "JBSWY3DPEHPK3PXP", FROZEN
    )

    async def ask() -> str:
        async with threaded.client(retry=stytch_totp.RetryPolicy.none()) as client:
            try:
                await client.totps.recovery_codes(user_id="user-test-nobody")
            except stytch_totp.APIStatusError as error:
                return error.error_type or ""
        return ""

    assert asyncio.run(ask()) == "service_unavailable"
    assert fault.remaining == 1  # the emulator's own fault, counting down
    threaded.clear_faults()
    assert asyncio.run(ask()) == "user_not_found"
    assert threaded.request_count("/v1/totps/recovery_codes") == 2
    threaded.clock.resume()
    assert not threaded.clock.stopped


def test_options_reach_the_emulator_and_a_state_file_survives(tmp_path: Path) -> None:
    state = tmp_path / "emulator.db"
    with ThreadedEmulator(project_name="Acme", state=state, clock=ServerClock(FROZEN)) as first:
        assert first.project_name == "Acme"
        assert first.clock.now() == FROZEN
        user_id = first.create_user("ada@example.com")
        credentials = (first.project_id, first.secret)
    with ThreadedEmulator(state=state) as second:
        assert (second.project_id, second.secret) == credentials
        with pytest.raises(EmulatorError):
            second.create_user("ada@example.com")  # still there
    assert user_id.startswith("user-test-")


def test_call_reaches_what_is_not_mirrored(threaded: ThreadedEmulator) -> None:
    routes = threaded.call(lambda emulator: len(emulator.app.router.routes()))
    assert routes > 0
    with pytest.raises(ZeroDivisionError):
        threaded.call(lambda emulator: 1 / 0)


def test_call_refuses_coroutines(threaded: ThreadedEmulator) -> None:
    with pytest.raises(TypeError, match="plain functions"):
        _ = threaded.call(lambda emulator: emulator.aclose())
    assert threaded.request_count() == 0  # still running


def test_a_call_from_the_emulators_thread_runs_at_once(threaded: ThreadedEmulator) -> None:
    # From inside call(), a nested call would otherwise wait for its own thread.
    count = threaded.call(lambda emulator: threaded.request_count() + 1)
    assert count == 1


# ---------------------------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------------------------


def test_the_url_and_credentials_point_a_client_at_it(threaded: ThreadedEmulator) -> None:
    assert threaded.url.startswith("http://127.0.0.1:")
    assert threaded.url.endswith("/")
    assert threaded.project_id.startswith("project-test-")
    assert threaded.secret.startswith("secret-test-")
    client = threaded.client(max_connections=3)
    assert client.base_url == threaded.url
    assert threaded.secret not in repr(threaded)
    assert threaded.url in repr(threaded)


def test_close_stops_the_thread_and_the_server(threaded: ThreadedEmulator) -> None:
    url = threaded.url
    (thread,) = [t for t in threading.enumerate() if t.name == "stytch-totp-emulator"]

    threaded.close()
    threaded.close()  # idempotent

    assert not thread.is_alive()
    assert repr(threaded) == "<ThreadedEmulator closed>"
    with pytest.raises(RuntimeError, match="not running"):
        threaded.create_user("ada@example.com")
    with pytest.raises(RuntimeError, match="not running"):
        _ = threaded.url

    async def connect() -> None:
        async with aiohttp.ClientSession() as session, session.get(url):
            pass  # pragma: no cover - nothing listens any more

    with pytest.raises(aiohttp.ClientConnectionError):
        asyncio.run(connect())


def test_a_closed_or_running_emulator_cannot_be_started_again(
    threaded: ThreadedEmulator,
) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        threaded.start()
    threaded.close()
    with pytest.raises(RuntimeError, match="cannot be restarted"):
        threaded.start()


def test_a_failed_start_raises_in_the_caller_and_leaves_no_thread() -> None:
    before = {t.ident for t in threading.enumerate()}
    with pytest.raises(stytch_totp.InvalidParamsError):
        ThreadedEmulator(port=70000).start()
    with ThreadedEmulator() as running:
        busy_port = int(running.url.rsplit(":", 1)[1].rstrip("/"))
        with pytest.raises(OSError, match="address already in use"):
            ThreadedEmulator(port=busy_port).start()
    assert {t.ident for t in threading.enumerate()} == before


def test_an_unstarted_emulator_says_so() -> None:
    unstarted = ThreadedEmulator()
    assert repr(unstarted) == "<ThreadedEmulator not started>"
    with pytest.raises(RuntimeError, match="not running"):
        unstarted.request_count()
    unstarted.close()  # nothing to do


def test_without_the_extra_start_says_how_to_install_it_and_starts_no_thread() -> None:
    code = (
        "import sys, threading\n"
        "sys.modules['zxingcpp'] = None  # as if the emulator extra were not installed\n"
        "from stytch_totp.testing import ThreadedEmulator\n"
        "try:\n"
        "    ThreadedEmulator().start()\n"
        "except ImportError as error:\n"
        "    print(error)\n"
        "print(threading.active_count())\n"
    )
    finished = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert finished.returncode == 0, finished.stderr
    hint, threads = finished.stdout.splitlines()
    assert "pip install 'stytch-totp[emulator]'" in hint
    assert threads == "1"


def test_it_cannot_be_closed_from_its_own_thread(threaded: ThreadedEmulator) -> None:
    # Closing joins the emulator's thread: from that thread, it would wait for itself forever.
    with pytest.raises(RuntimeError, match="from its own thread"):
        threaded.call(lambda emulator: threaded.close())
    assert threaded.request_count() == 0  # still running
    assert repr(threaded.clock) == f"<ThreadedClock of {threaded!r}>"
