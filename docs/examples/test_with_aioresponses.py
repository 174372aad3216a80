"""Unit tests without any server: aioresponses answers aiohttp's requests with canned bodies.

Good for an exact response you want to replay (an error body copied from Stytch's docs). It
replaces aiohttp's request machinery, so timeouts and connection handling are not exercised:
test those against the emulator.
"""

from __future__ import annotations

import pytest
from aioresponses import aioresponses
from yarl import URL

import stytch_totp

pytestmark = pytest.mark.asyncio

AUTHENTICATE = "https://test.stytch.com/v1/totps/authenticate"

LOCKED = {
    "status_code": 429,
    "request_id": "request-id-test-b05c992f-ebdc-489d-a754-c7e70ba13141",
    "error_type": "user_lock_limit_reached",
    "error_message": "The user has been locked out due to too many failed authentication "
    "attempts. Please try again later.",
    "error_url": "https://stytch.com/docs/api/errors/429",
}


async def test_a_locked_user_is_not_retried() -> None:
    with aioresponses() as mocked:
        mocked.post(AUTHENTICATE, status=429, payload=LOCKED)
        async with stytch_totp.Client("project-test-example", "secret-test-example") as client:
            with pytest.raises(stytch_totp.RateLimitError) as raised:
                await client.totps.authenticate(user_id="user-test-example", totp_code="123456")

    assert raised.value.error_type == "user_lock_limit_reached"
    assert raised.value.request_id == LOCKED["request_id"]
    assert len(mocked.requests[("POST", URL(AUTHENTICATE))]) == 1
