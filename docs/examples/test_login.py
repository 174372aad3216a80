"""Testing your own code against the emulator, with the pytest plugin's fixtures.

``stytch_emulator`` is a fresh emulator for each test; ``stytch_client`` a Client pointed at it.
"""

from __future__ import annotations

import pytest

import stytch_totp
from stytch_totp.testing import Emulator

pytestmark = pytest.mark.asyncio  # not needed with asyncio_mode = "auto"


# The code under test; in your project, imported from your application.
async def second_factor(client: stytch_totp.Client, user_id: str, code: str) -> bool:
    try:
        await client.totps.authenticate(user_id=user_id, totp_code=code)
    except stytch_totp.AuthenticationError:
        return False
    return True


async def enrolled_user(emulator: Emulator, client: stytch_totp.Client) -> tuple[str, str]:
    """A user whose TOTP is verified, and its secret (for ``emulator.totp_code``)."""
    user_id = emulator.create_user("ada@example.com", name="Ada Lovelace")
    created = await client.totps.create(user_id=user_id)
    await client.totps.authenticate(user_id=user_id, totp_code=emulator.totp_code(created.secret))
    emulator.clock.advance(30)  # the next code: the first one is spent
    return user_id, created.secret


async def test_the_right_code_logs_in_once(
    stytch_emulator: Emulator, stytch_client: stytch_totp.Client
) -> None:
    user_id, secret = await enrolled_user(stytch_emulator, stytch_client)
    code = stytch_emulator.totp_code(secret)

    assert await second_factor(stytch_client, user_id, code)
    assert not await second_factor(stytch_client, user_id, code)  # replayed


async def test_a_lock_ends_after_an_hour(
    stytch_emulator: Emulator, stytch_client: stytch_totp.Client
) -> None:
    user_id, secret = await enrolled_user(stytch_emulator, stytch_client)
    for _ in range(9):
        assert not await second_factor(stytch_client, user_id, "000000")
    with pytest.raises(stytch_totp.RateLimitError, match="user_lock_limit_reached"):
        await second_factor(stytch_client, user_id, "000000")

    stytch_emulator.clock.advance(60 * 60)  # move the emulator's time, not the test's

    assert await second_factor(stytch_client, user_id, stytch_emulator.totp_code(secret))


async def test_an_outage_is_not_mistaken_for_a_wrong_code(
    stytch_emulator: Emulator, stytch_client: stytch_totp.Client
) -> None:
    user_id, secret = await enrolled_user(stytch_emulator, stytch_client)
    stytch_emulator.inject("/v1/totps/authenticate", status=500)
    sent_before = stytch_emulator.request_count("/v1/totps/authenticate")

    with pytest.raises(stytch_totp.InternalServerError):
        await second_factor(stytch_client, user_id, stytch_emulator.totp_code(secret))
    # Sent once: after a 500 the code may be spent, so the client does not send it again.
    assert stytch_emulator.request_count("/v1/totps/authenticate") == sent_before + 1


async def test_a_slow_stytch_times_out(
    stytch_emulator: Emulator, stytch_client: stytch_totp.Client
) -> None:
    user_id, secret = await enrolled_user(stytch_emulator, stytch_client)
    stytch_emulator.inject("/v1/totps/authenticate", delay=1.0)

    with pytest.raises(stytch_totp.APITimeoutError):
        await stytch_client.totps.authenticate(
            user_id=user_id, totp_code=stytch_emulator.totp_code(secret), timeout=0.1
        )
