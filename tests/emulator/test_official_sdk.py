"""Stytch's own Python SDK (15.x) pointed at the emulator parses every response of the flow.

Its pydantic models require every field the published schema marks required, so this is the
check that the emulator's bodies are complete, errors included.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import stytch
from stytch.core.response_base import StytchError

from stytch_totp.testing import Emulator

# stytch 15.x authenticates with aiohttp.BasicAuth and auth=, both deprecated by aiohttp 3.14;
# that is the official SDK's business, not what these tests check.
pytestmark = [
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
]


@pytest.fixture
async def running() -> AsyncIterator[Emulator]:
    # A clock on real time: the official SDK checks JWT timestamps against the system clock.
    async with Emulator() as emulator:
        yield emulator


@pytest.fixture
async def official(running: Emulator) -> AsyncIterator[stytch.Client]:
    client = stytch.Client(running.project_id, running.secret, environment=running.url)
    yield client
    await client.close()


async def test_the_official_sdk_parses_the_whole_flow(
    running: Emulator, official: stytch.Client
) -> None:
    # A dict, not stytch's Name: the SDK calls Name.dict(), which pydantic 2 deprecates.
    name: Any = {"first_name": "Ada", "last_name": "Lovelace"}
    created_user = await official.users.create_async(email="ada@example.com", name=name)
    user_id = created_user.user_id
    assert created_user.user.emails[0].email == "ada@example.com"

    fetched = await official.users.get_async(user_id)
    assert (fetched.user_id, fetched.status_code) == (user_id, 200)
    assert fetched.name is not None
    assert fetched.name.last_name == "Lovelace"

    created = await official.totps.create_async(user_id, expiration_minutes=60)
    assert len(created.recovery_codes) == 10
    assert created.qr_code.startswith("data:image/png;base64,")

    with_session = await official.totps.authenticate_async(
        user_id,
        running.totp_code(created.secret),
        session_duration_minutes=60,
        session_custom_claims={"plan": "pro"},
    )
    assert with_session.session is not None
    assert with_session.session.roles == ["stytch_user"]
    factor = with_session.session.authentication_factors[0]
    assert (factor.type, factor.delivery_method) == ("totp", "authenticator_app")

    listed = await official.totps.recovery_codes_async(user_id)
    assert listed.totps[0].verified is True

    plain = await official.totps.recover_async(user_id, created.recovery_codes[1])
    assert (plain.session, plain.session_token, plain.session_jwt) == (None, "", "")

    recovered = await official.totps.recover_async(
        user_id,
        created.recovery_codes[0],
        session_token=with_session.session_token,
        session_duration_minutes=60,
    )
    assert recovered.session is not None
    assert recovered.session.session_id == with_session.session.session_id

    jwks = await official.sessions.get_jwks_async(running.project_id)
    assert jwks.keys[0].alg == "RS256"

    # The official SDK verifies the session JWT locally, with keys from the JWKS endpoint.
    session = await official.sessions.authenticate_jwt_local_async(recovered.session_jwt)
    assert session is not None
    assert session.session_id == recovered.session.session_id
    assert session.user_id == user_id
    assert session.custom_claims == {"plan": "pro"}
    assert [f.type for f in session.authentication_factors] == ["totp", "recovery_codes"]

    deleted = await official.users.delete_totp_async(created.totp_id)
    assert deleted.user.totps == []


@pytest.mark.parametrize(
    ("path", "call", "error_type", "status"),
    [
        ("create", lambda c: c.totps.create_async("user-test-unknown"), "user_not_found", 404),
        (
            "auth",
            lambda c: c.totps.authenticate_async("user-test-unknown", "12"),
            "invalid_totp_code",
            400,
        ),
        (
            "recover",
            lambda c: c.totps.recover_async("user-test-unknown", "aaaa-bbbb-cccc"),
            "user_not_found",
            404,
        ),
        ("user", lambda c: c.users.get_async("user-test-unknown"), "user_not_found", 404),
    ],
)
async def test_the_official_sdk_parses_error_envelopes(
    official: stytch.Client, path: str, call: object, error_type: str, status: int
) -> None:
    with pytest.raises(StytchError) as caught:
        await call(official)  # type: ignore[operator]
    details = caught.value.details
    assert (details.error_type, details.status_code) == (error_type, status)
    assert details.request_id.startswith("request-id-test-")
    assert details.error_message != "An unknown error occurred"


async def test_the_official_sdk_sees_bad_credentials(running: Emulator) -> None:
    client = stytch.Client(running.project_id, "secret-test-wrong", environment=running.url)
    try:
        with pytest.raises(StytchError) as caught:
            await client.totps.create_async("user-test-unknown")
    finally:
        await client.close()
    assert caught.value.details.error_type == "unauthorized_credentials"
