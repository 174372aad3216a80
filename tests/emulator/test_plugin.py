"""The pytest plugin, as a user's test suite sees it (run through pytest's ``pytester``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

USERS_TESTS = """
import pytest

from stytch_totp import Client
from stytch_totp.testing import Emulator

SEEN_PROJECTS = set()


@pytest.mark.asyncio
async def test_enroll_and_authenticate(stytch_emulator, stytch_client):
    assert isinstance(stytch_emulator, Emulator)
    assert isinstance(stytch_client, Client)
    assert stytch_client.base_url == stytch_emulator.url
    user_id = stytch_emulator.create_user("ada@example.com")
    created = await stytch_client.totps.create(user_id=user_id)
    code = stytch_emulator.totp_code(created.secret)
    auth = await stytch_client.totps.authenticate(user_id=user_id, totp_code=code)
    assert auth.user.totps[0].verified
    SEEN_PROJECTS.add(stytch_emulator.project_id)


@pytest.mark.asyncio
async def test_each_test_gets_a_fresh_emulator(stytch_emulator):
    assert stytch_emulator.request_count() == 0
    assert stytch_emulator.project_id not in SEEN_PROJECTS
    # The same email again: the previous test's user is gone.
    stytch_emulator.create_user("ada@example.com")
"""


OVERRIDE_TESTS = """
from datetime import datetime, timezone

import pytest
import pytest_asyncio

from stytch_totp.testing import Clock, Emulator

FROZEN = datetime(2030, 1, 1, tzinfo=timezone.utc)


@pytest_asyncio.fixture
async def stytch_emulator():
    async with Emulator(clock=Clock(FROZEN), project_name="Acme") as emulator:
        yield emulator


@pytest.mark.asyncio
async def test_the_client_follows_an_overridden_emulator(stytch_emulator, stytch_client):
    assert stytch_emulator.project_name == "Acme"
    user_id = stytch_emulator.create_user("ada@example.com")
    created = await stytch_client.totps.create(user_id=user_id)
    code = stytch_emulator.totp_code(created.secret)
    assert code == stytch_emulator.totp_code(created.secret, FROZEN)
    await stytch_client.totps.authenticate(user_id=user_id, totp_code=code)
    assert stytch_emulator.request_count() == 2
"""


@pytest.mark.parametrize("mode", ["auto", "strict"])
def test_users_get_an_emulator_and_a_client(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makeini(
        f"""
        [pytest]
        asyncio_mode = {mode}
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """
    )
    pytester.makepyfile(test_users_app=USERS_TESTS, test_override=OVERRIDE_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_without_pytest_asyncio_the_fixtures_say_what_is_missing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        block_asyncio="import sys\nsys.modules['pytest_asyncio'] = None\n",
        test_users_app="def test_needs_the_emulator(stytch_emulator):\n    pass\n",
    )
    # pytest-aiohttp (installed for the docs' aiohttp.web example) needs pytest-asyncio too.
    result = pytester.runpytest_subprocess(
        "-p", "block_asyncio", "-p", "no:asyncio", "-p", "no:aiohttp", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixtures need pytest-asyncio*"])


# ---------------------------------------------------------------------------------------------
# stytch_emulator_thread: for synchronous tests, and async tests that block their loop
# ---------------------------------------------------------------------------------------------

THREAD_TESTS = """
import asyncio

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import stytch_totp
from stytch_totp.testing import ThreadedEmulator


async def enroll(request: Request) -> JSONResponse:
    async with stytch_totp.Client.from_env(timeout=5) as client:
        created = await client.totps.create(user_id=request.path_params["user_id"])
    return JSONResponse({"totp_id": created.totp_id})


APP = Starlette(routes=[Route("/enroll/{user_id}", enroll, methods=["POST"])])


@pytest.fixture
def env(stytch_emulator_thread, monkeypatch):
    monkeypatch.setenv("STYTCH_PROJECT_ID", stytch_emulator_thread.project_id)
    monkeypatch.setenv("STYTCH_SECRET", stytch_emulator_thread.secret)
    monkeypatch.setenv("STYTCH_BASE_URL", stytch_emulator_thread.url)
    return stytch_emulator_thread


def test_a_sync_test_gets_a_running_emulator(stytch_emulator_thread):
    assert isinstance(stytch_emulator_thread, ThreadedEmulator)
    user_id = stytch_emulator_thread.create_user("ada@example.com")

    async def create():
        async with stytch_emulator_thread.client() as client:
            return await client.totps.create(user_id=user_id)

    assert asyncio.run(create()).user_id == user_id


def test_a_sync_test_with_testclient(env):
    user_id = env.create_user("ada@example.com")
    with TestClient(APP) as browser:
        assert browser.post(f"/enroll/{user_id}").status_code == 200
    assert env.request_count("/v1/totps") == 1


@pytest.mark.asyncio
async def test_an_async_test_with_testclient(env):
    user_id = env.create_user("ada@example.com")
    with TestClient(APP) as browser:  # blocks this test's loop, not the emulator's
        assert browser.post(f"/enroll/{user_id}").status_code == 200
    assert env.request_count("/v1/totps") == 1
"""


@pytest.mark.parametrize("mode", ["auto", "strict"])
def test_the_threaded_fixture_serves_sync_tests_and_blocked_loops(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makeini(
        f"""
        [pytest]
        asyncio_mode = {mode}
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """
    )
    pytester.makepyfile(test_thread=THREAD_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


# ---------------------------------------------------------------------------------------------
# A blocked loop is explained, not just timed out
# ---------------------------------------------------------------------------------------------

BLOCKING_TESTS = """
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import stytch_totp


@pytest.mark.asyncio
async def test_testclient_with_the_loop_bound_emulator(stytch_emulator, monkeypatch):
    # The trap: TestClient blocks the loop that stytch_emulator answers on.
    async def enroll(request: Request) -> JSONResponse:
        async with stytch_emulator.client(timeout=1.5) as client:
            created = await client.totps.create(user_id=request.path_params["user_id"])
        return JSONResponse({"totp_id": created.totp_id})

    app = Starlette(routes=[Route("/enroll/{user_id}", enroll, methods=["POST"])])
    user_id = stytch_emulator.create_user("ada@example.com")
    with TestClient(app) as browser:
        browser.post(f"/enroll/{user_id}")


@pytest.mark.asyncio
async def test_failing_without_blocking(stytch_emulator):
    assert stytch_emulator.request_count() == 1

"""


def test_a_failure_while_the_emulators_loop_was_blocked_says_why(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(
        """
        [pytest]
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """
    )
    pytester.makepyfile(test_blocking=BLOCKING_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(failed=2)
    output = result.stdout.str()
    assert output.count("stytch_emulator: blocked event loop") == 1, output
    assert "APITimeoutError" in output
    report = output.split("_ test_testclient_with_the_loop_bound_emulator _")[1]
    assert "The event loop that runs stytch_emulator was blocked for " in report
    assert "Use the stytch_emulator_thread fixture" in report
    unblocked = output.split("_ test_failing_without_blocking _")[1].split("short test summary")[0]
    assert "blocked event loop" not in unblocked


# ---------------------------------------------------------------------------------------------
# What loading the plugin costs a project that does not use it
# ---------------------------------------------------------------------------------------------


def test_loading_the_plugin_imports_neither_the_sdk_nor_its_dependencies() -> None:
    code = (
        "import sys, _stytch_totp_pytestplugin;"
        "print(sorted({'stytch_totp', 'aiohttp', 'attrs', 'cattrs', 'orjson'} & set(sys.modules)))"
    )
    finished = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "[]"


def test_a_run_that_uses_no_fixture_never_imports_the_sdk(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_other_project="""
        import sys

        def test_unrelated(pytestconfig):
            plugin = pytestconfig.pluginmanager.get_plugin("stytch_totp")
            assert plugin.stytch_emulator_thread  # loaded, its fixtures offered...
            assert "stytch_totp" not in sys.modules  # ... and the SDK never imported
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
