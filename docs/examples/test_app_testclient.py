"""Testing a Starlette (or FastAPI) app through ``TestClient``: synchronous, so the emulator
runs on its own thread (``stytch_emulator_thread``)."""

from __future__ import annotations

import asyncio

import pytest
from app_starlette import app
from starlette.testclient import TestClient

from stytch_totp.testing import ThreadedEmulator


@pytest.fixture
def stytch_env_thread(
    stytch_emulator_thread: ThreadedEmulator, monkeypatch: pytest.MonkeyPatch
) -> ThreadedEmulator:
    monkeypatch.setenv("STYTCH_PROJECT_ID", stytch_emulator_thread.project_id)
    monkeypatch.setenv("STYTCH_SECRET", stytch_emulator_thread.secret)
    monkeypatch.setenv("STYTCH_BASE_URL", stytch_emulator_thread.url)
    return stytch_emulator_thread


def new_totp_secret(emulator: ThreadedEmulator, user_id: str) -> str:
    """Enroll ``user_id`` as the app's enrollment page would (here, outside the app)."""

    async def create() -> str:
        async with emulator.client() as client:
            created = await client.totps.create(user_id=user_id)
        return created.secret

    return asyncio.run(create())


def test_the_first_code_signs_in_once(stytch_env_thread: ThreadedEmulator) -> None:
    user_id = stytch_env_thread.create_user("ada@example.com")
    secret = new_totp_secret(stytch_env_thread, user_id)
    form = {"user_id": user_id, "code": stytch_env_thread.totp_code(secret)}

    with TestClient(app) as browser:  # runs the lifespan: Client.from_env() at startup
        signed_in = browser.post("/mfa/totp", json=form)
        replayed = browser.post("/mfa/totp", json=form)

    assert signed_in.status_code == 200
    assert signed_in.json() == {"user_id": user_id}
    assert replayed.status_code == 401
    assert stytch_env_thread.request_count("/v1/totps/authenticate") == 2
