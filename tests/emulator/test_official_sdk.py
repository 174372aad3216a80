"""Stytch's own Python SDK (15.x) pointed at the emulator parses every response of the flow.

Its pydantic models require every field the published schema marks required, so this is the
check that the emulator's bodies are complete, errors included; and its session calls (the
remote check, and the JWT check that falls back to it) are what apps use to validate sessions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import requests
import stytch
from stytch.core.response_base import StytchError

from stytch_totp.testing import Clock, Emulator

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


async def signed_in(running: Emulator, official: stytch.Client, email: str) -> Any:
    """An enrolled user's first authenticate, with a 60-minute session and a custom claim."""
    user_id = running.create_user(email)
    created = await official.totps.create_async(user_id)
    return await official.totps.authenticate_async(
        user_id,
        running.totp_code(created.secret),
        session_duration_minutes=60,
        session_custom_claims={"plan": "pro"},
    )


async def test_the_official_sdk_authenticates_and_revokes_sessions(
    running: Emulator, official: stytch.Client
) -> None:
    started = await signed_in(running, official, "ada@example.com")
    session_id = started.session.session_id

    by_token = await official.sessions.authenticate_async(session_token=started.session_token)
    assert by_token.session.session_id == session_id
    assert by_token.session_token == started.session_token
    assert by_token.user.user_id == started.user_id
    assert by_token.session.custom_claims == {"plan": "pro"}

    extended = await official.sessions.authenticate_async(
        session_jwt=started.session_jwt,
        session_duration_minutes=120,
        session_custom_claims={"seat": 2},
    )
    assert extended.session.expires_at is not None
    assert started.session.expires_at is not None
    assert extended.session.expires_at > started.session.expires_at
    assert extended.session.custom_claims == {"plan": "pro", "seat": 2}
    # The fresh JWT verifies locally, with the emulator's keys.
    local = await official.sessions.authenticate_jwt_local_async(extended.session_jwt)
    assert local is not None
    assert local.custom_claims == {"plan": "pro", "seat": 2}

    listed = await official.sessions.get_async(started.user_id)
    assert [session.session_id for session in listed.sessions] == [session_id]

    await official.sessions.revoke_async(session_id=session_id)
    with pytest.raises(StytchError) as caught:
        await official.sessions.authenticate_async(session_token=started.session_token)
    assert (caught.value.details.status_code, caught.value.details.error_type) == (
        404,
        "session_not_found",
    )
    assert (await official.sessions.get_async(started.user_id)).sessions == []


async def test_the_official_sdk_falls_back_to_the_remote_check(
    running: Emulator, official: stytch.Client
) -> None:
    started = await signed_in(running, official, "ada@example.com")
    # max_token_age_seconds=0: every JWT is "too old" locally, so the SDK asks the emulator.
    checked = await official.sessions.authenticate_jwt_async(
        started.session_jwt, max_token_age_seconds=0
    )
    assert checked.session.session_id == started.session.session_id
    assert checked.request_id.startswith("request-id-test-")  # it came from the emulator
    assert checked.session_jwt != ""


async def test_the_official_sdk_refreshes_a_stale_jwt_remotely() -> None:
    # The emulator's clock runs ten minutes behind: the JWT it mints is five minutes stale by
    # the system clock the SDK checks it against, while the session, by the emulator's, lives.
    clock = Clock()
    clock.advance(-600)
    async with Emulator(clock=clock) as running:
        official = stytch.Client(running.project_id, running.secret, environment=running.url)
        try:
            started = await signed_in(running, official, "ada@example.com")
            assert await official.sessions.authenticate_jwt_local_async(started.session_jwt) is None
            checked = await official.sessions.authenticate_jwt_async(started.session_jwt)
        finally:
            await official.close()
    assert checked.session.session_id == started.session.session_id
    assert checked.request_id.startswith("request-id-test-")
    assert checked.session_jwt.count(".") == 2  # the JWT the remote check answered with


async def test_the_official_sdks_sync_calls_work_too(running: Emulator) -> None:
    # The sync client (requests) blocks: it runs in a thread while the emulator serves here.
    session = requests.Session()
    session.trust_env = False  # straight to 127.0.0.1, whatever proxy the environment names
    official = stytch.Client(
        running.project_id, running.secret, environment=running.url, sync_session=session
    )
    user_id = running.create_user("ada@example.com")
    try:
        created = await asyncio.to_thread(official.totps.create, user_id)
        code = running.totp_code(created.secret)
        started = await asyncio.to_thread(
            official.totps.authenticate, user_id, code, session_duration_minutes=60
        )
        checked = await asyncio.to_thread(
            official.sessions.authenticate, session_token=started.session_token
        )
        await asyncio.to_thread(official.sessions.revoke, session_token=started.session_token)
        with pytest.raises(StytchError) as caught:
            await asyncio.to_thread(
                official.sessions.authenticate, session_token=started.session_token
            )
    finally:
        session.close()
        await official.close()
    assert started.session is not None
    assert checked.session.session_id == started.session.session_id
    assert caught.value.details.error_type == "session_not_found"
