"""Testing an aiohttp.web app against the emulator with pytest-aiohttp's ``aiohttp_client``.

``conftest.py`` provides ``stytch_env`` (see "When your app creates its own client").
"""

from __future__ import annotations

import pytest
from app_aiohttp import make_app
from pytest_aiohttp import AiohttpClient

import stytch_totp
from stytch_totp.testing import Emulator

pytestmark = pytest.mark.asyncio


async def test_the_first_code_signs_in_once(
    aiohttp_client: AiohttpClient, stytch_env: Emulator, stytch_client: stytch_totp.Client
) -> None:
    browser = await aiohttp_client(make_app())  # starts the app: its cleanup context runs
    user_id = stytch_env.create_user("ada@example.com")
    created = await stytch_client.totps.create(user_id=user_id)
    form = {"user_id": user_id, "code": stytch_env.totp_code(created.secret)}

    signed_in = await browser.post("/mfa/totp", json=form)
    replayed = await browser.post("/mfa/totp", json=form)

    assert signed_in.status == 200
    assert await signed_in.json() == {"user_id": user_id}
    assert "stytch_session" in signed_in.cookies
    assert replayed.status == 401


async def test_a_malformed_code_never_reaches_stytch(
    aiohttp_client: AiohttpClient, stytch_env: Emulator
) -> None:
    browser = await aiohttp_client(make_app())
    user_id = stytch_env.create_user("ada@example.com")

    answer = await browser.post("/mfa/totp", json={"user_id": user_id, "code": "12345"})

    assert answer.status == 400
    assert stytch_env.request_count() == 0
