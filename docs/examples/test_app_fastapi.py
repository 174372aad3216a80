"""Testing a FastAPI app against the emulator, all in the test's event loop: no server, no thread.

``conftest.py`` provides ``stytch_env`` (see "When your app creates its own client").
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
import pytest_asyncio
from app_fastapi import app, stytch
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

import stytch_totp
from stytch_totp.testing import Emulator

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def browser(stytch_env: Emulator) -> AsyncIterator[httpx2.AsyncClient]:
    """The app, its lifespan started, answering an HTTP client in the test's event loop."""
    async with (
        LifespanManager(app) as started,  # runs the lifespan: Client.from_env() at startup
        httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=started.app), base_url="http://testserver"
        ) as client,
    ):
        yield client


async def test_the_first_code_signs_in_once(
    browser: httpx2.AsyncClient, stytch_env: Emulator, stytch_client: stytch_totp.Client
) -> None:
    user_id = stytch_env.create_user("ada@example.com")
    created = await stytch_client.totps.create(user_id=user_id)
    form = {"user_id": user_id, "code": stytch_env.totp_code(created.secret)}

    signed_in = await browser.post("/mfa/totp", json=form)
    replayed = await browser.post("/mfa/totp", json=form)

    assert signed_in.status_code == 200
    assert signed_in.json() == {"user_id": user_id}
    assert "stytch_session" in signed_in.cookies
    assert replayed.status_code == 401


# Overriding the dependency hands the app a client of the test's choosing: here one that does
# not retry, so that an outage shows in one request, without the retries' waits.
@pytest_asyncio.fixture
async def impatient_app(stytch_emulator: Emulator) -> AsyncIterator[FastAPI]:
    async with stytch_emulator.client(retry=stytch_totp.RetryPolicy.none()) as client:
        app.dependency_overrides[stytch] = lambda: client
        try:
            yield app
        finally:
            app.dependency_overrides.clear()


async def test_an_outage_is_not_a_wrong_code(
    impatient_app: FastAPI, browser: httpx2.AsyncClient, stytch_env: Emulator
) -> None:
    user_id = stytch_env.create_user("ada@example.com")
    stytch_env.inject("/v1/totps/authenticate", status=503)

    answer = await browser.post("/mfa/totp", json={"user_id": user_id, "code": "123456"})

    assert answer.status_code == 503
    assert stytch_env.request_count("/v1/totps/authenticate") == 1  # not retried
