"""Testing an app that creates its own Client, through the ``stytch_env`` fixture above."""

from __future__ import annotations

import pytest

import stytch_totp
from stytch_totp.testing import Emulator

pytestmark = pytest.mark.asyncio


# The code under test: it builds its Client from the environment, as in production.
async def enroll(user_id: str) -> stytch_totp.CreateResponse:
    async with stytch_totp.Client.from_env() as client:
        return await client.totps.create(user_id=user_id)


async def test_enroll_talks_to_the_emulator(stytch_env: Emulator) -> None:
    user_id = stytch_env.create_user("ada@example.com")

    created = await enroll(user_id)

    assert created.qr_code_png().startswith(b"\x89PNG")
    assert len(created.recovery_codes) == 10
