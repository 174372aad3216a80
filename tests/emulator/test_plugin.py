"""The pytest plugin, as a user's test suite sees it (run through pytest's ``pytester``)."""

from __future__ import annotations

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
    result = pytester.runpytest_subprocess(
        "-p", "block_asyncio", "-p", "no:asyncio", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixtures need pytest-asyncio*"])
