"""The SDK against the emulator over real HTTP on 127.0.0.1: the flow, every error path, faults."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest

from stytch_totp import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    Client,
    InternalServerError,
    InvalidParamsError,
    Name,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    _jsoncodec,
    totp_code,
)
from stytch_totp.testing import Emulator, EmulatorError
from stytch_totp.testing._emulator import _base_url
from stytch_totp.testing._server.project import EmulatedProject

#: Retries without waiting, so fault tests stay fast.
FAST_RETRY = RetryPolicy(max_retries=2, initial_backoff=0.0, max_backoff=0.0)

ENVELOPE_KEYS = {"status_code", "request_id", "error_type", "error_message", "error_url"}


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[Client]:
    async with emulator.client(retry=FAST_RETRY) as sdk_client:
        yield sdk_client


def basic_auth(project_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{project_id}:{secret}".encode()).decode()


async def raw(
    emulator: Emulator,
    method: str,
    path: str,
    body: bytes | io.BytesIO | None = None,
    *,
    authorization: str | None = "valid",
) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    """One request as any HTTP client would send it; returns status, JSON body, headers."""
    headers = {"Content-Type": "application/json"}
    if authorization == "valid":
        headers["Authorization"] = basic_auth(emulator.project_id, emulator.secret)
    elif authorization is not None:
        headers["Authorization"] = authorization
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, emulator.url + path, data=body, headers=headers) as response,
    ):
        data: dict[str, Any] = await response.json(content_type=None)
        return response.status, data, response.headers


async def enroll(emulator: Emulator, client: Client, email: str = "ada@example.com") -> Any:
    return await client.totps.create(user_id=emulator.create_user(email))


# --------------------------------------------------------------------------------------------
# The flow
# --------------------------------------------------------------------------------------------


async def test_the_whole_flow(emulator: Emulator, client: Client) -> None:
    user_id = emulator.create_user("ada@example.com", name="Ada King Lovelace")
    created = await client.totps.create(user_id=user_id, expiration_minutes=60)
    # Stytch sends "" for the parts of a name it does not have.
    assert created.user.name == Name(first_name="Ada King", middle_name="", last_name="Lovelace")
    assert created.qr_code_png().startswith(b"\x89PNG")

    code = emulator.totp_code(created.secret)
    assert code == totp_code(created.secret, emulator.clock.now())
    auth = await client.totps.authenticate(
        user_id=user_id, totp_code=code, session_duration_minutes=30
    )
    assert auth.session is not None
    assert auth.user.totps[0].verified is True

    listed = await client.totps.recovery_codes(user_id=user_id)
    assert listed.totps[0].recovery_codes == created.recovery_codes

    recovered = await client.totps.recover(
        user_id=user_id,
        recovery_code=created.recovery_codes[0],
        session_token=auth.session_token,
        session_duration_minutes=30,
    )
    assert recovered.session is not None
    assert recovered.session.session_id == auth.session.session_id

    with pytest.raises(AuthenticationError) as spent:
        await client.totps.recover(user_id=user_id, recovery_code=created.recovery_codes[0])
    assert spent.value.error_type == "unable_to_authenticate_recovery_code"
    with pytest.raises(AuthenticationError) as replayed:
        await client.totps.authenticate(user_id=user_id, totp_code=code)
    assert replayed.value.error_type == "totp_code_already_authenticated"


async def test_time_moved_with_the_clock_is_seen_over_http(
    emulator: Emulator, client: Client
) -> None:
    created = await client.totps.create(
        user_id=emulator.create_user("ada@example.com"), expiration_minutes=5
    )
    stale = emulator.totp_code(created.secret)
    emulator.clock.advance(120)
    with pytest.raises(AuthenticationError) as old_code:
        await client.totps.authenticate(user_id=created.user_id, totp_code=stale)
    assert old_code.value.error_type == "unable_to_authenticate_totp"
    emulator.clock.advance(180)  # the 5 minutes to verify are over
    with pytest.raises(NotFoundError) as expired:
        await client.totps.authenticate(
            user_id=created.user_id, totp_code=emulator.totp_code(created.secret)
        )
    assert expired.value.error_type == "totps_not_found_for_user"


async def test_a_user_lock_is_a_rate_limit_error_that_is_not_retried(
    emulator: Emulator, client: Client
) -> None:
    created = await enroll(emulator, client)
    wrong = f"{(int(emulator.totp_code(created.secret)) + 1) % 1_000_000:06d}"
    for _ in range(9):
        with pytest.raises(AuthenticationError):
            await client.totps.authenticate(user_id=created.user_id, totp_code=wrong)
    before = emulator.request_count("/v1/totps/authenticate")
    with pytest.raises(RateLimitError) as locked:
        await client.totps.authenticate(user_id=created.user_id, totp_code=wrong)
    assert locked.value.error_type == "user_lock_limit_reached"
    assert emulator.request_count("/v1/totps/authenticate") == before + 1

    status, user, _ = await raw(emulator, "GET", f"v1/users/{created.user_id}")
    assert status == 200
    assert user["is_locked"] is True
    assert user["lock_expires_at"].endswith("Z")


# --------------------------------------------------------------------------------------------
# Users, JWKS and the wire format
# --------------------------------------------------------------------------------------------


async def test_users_over_http(emulator: Emulator) -> None:
    status, created, _ = await raw(
        emulator,
        "POST",
        "v1/users",
        b'{"email": "ada@example.com", "name": {"first_name": "Ada"}, "external_id": "crm-7"}',
    )
    assert status == 200
    assert {
        "user_id",
        "email_id",
        "status",
        "phone_id",
        "user",
        "status_code",
        "request_id",
    } <= set(created)
    assert created["phone_id"] == ""
    user_id = created["user_id"]

    status, user, _ = await raw(emulator, "GET", f"v1/users/{user_id}?user_id={user_id}")
    assert status == 200
    # The get-user body is the user itself, plus the envelope fields.
    assert user["user_id"] == user_id
    assert user["status_code"] == 200
    assert user["request_id"].startswith("request-id-test-")
    for required in (
        "emails",
        "status",
        "phone_numbers",
        "webauthn_registrations",
        "providers",
        "totps",
        "crypto_wallets",
        "biometric_registrations",
        "is_locked",
        "roles",
    ):
        assert required in user
    assert user["created_at"].endswith("Z")

    status, by_external, _ = await raw(emulator, "GET", "v1/users/crm-7")
    assert (status, by_external["user_id"]) == (200, user_id)
    status, missing, _ = await raw(emulator, "GET", "v1/users/user-test-a%2Bb%2Fc")
    assert (status, missing["error_type"]) == (404, "user_not_found")


async def test_delete_totp_over_http(emulator: Emulator, client: Client) -> None:
    created = await enroll(emulator, client)
    status, deleted, _ = await raw(emulator, "DELETE", f"v1/users/totps/{created.totp_id}")
    assert (status, deleted["user_id"], deleted["user"]["totps"]) == (200, created.user_id, [])
    status, again, _ = await raw(emulator, "DELETE", f"v1/users/totps/{created.totp_id}")
    assert (status, again["error_type"]) == (404, "totp_not_found")


async def test_no_session_means_empty_strings_and_null(emulator: Emulator, client: Client) -> None:
    created = await enroll(emulator, client)
    body = (
        f'{{"user_id": "{created.user_id}", "totp_code": "{emulator.totp_code(created.secret)}"}}'
    )
    status, auth, _ = await raw(emulator, "POST", "v1/totps/authenticate", body.encode())
    assert status == 200
    assert (auth["session"], auth["session_token"], auth["session_jwt"]) == (None, "", "")


async def test_session_factors_carry_only_the_factor_they_use(
    emulator: Emulator, client: Client
) -> None:
    created = await enroll(emulator, client)
    body = (
        f'{{"user_id": "{created.user_id}", "session_duration_minutes": 5, '
        f'"totp_code": "{emulator.totp_code(created.secret)}"}}'
    )
    status, auth, _ = await raw(emulator, "POST", "v1/totps/authenticate", body.encode())
    assert status == 200
    (factor,) = auth["session"]["authentication_factors"]
    assert set(factor) == {
        "type",
        "delivery_method",
        "last_authenticated_at",
        "created_at",
        "updated_at",
        "authenticator_app_factor",
    }
    assert auth["session"]["roles"] == ["stytch_user"]


async def test_jwks_is_public_and_verifies_session_jwts(emulator: Emulator, client: Client) -> None:
    created = await enroll(emulator, client)
    auth = await client.totps.authenticate(
        user_id=created.user_id,
        totp_code=emulator.totp_code(created.secret),
        session_duration_minutes=60,
    )
    status, jwks, _ = await raw(
        emulator, "GET", f"v1/sessions/jwks/{emulator.project_id}", authorization=None
    )
    assert status == 200
    assert jwks["status_code"] == 200
    keys = jwt.PyJWKSet.from_dict(jwks)
    header = jwt.get_unverified_header(auth.session_jwt)
    claims = jwt.decode(
        auth.session_jwt,
        keys[header["kid"]].key,
        algorithms=["RS256"],
        audience=emulator.project_id,
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert claims["iss"] == f"stytch.com/{emulator.project_id}"
    status, other, _ = await raw(emulator, "GET", "v1/sessions/jwks/project-test-other")
    assert (status, other["error_type"]) == (404, "project_not_found")


# --------------------------------------------------------------------------------------------
# Sessions and users over HTTP
# --------------------------------------------------------------------------------------------


async def started_session(emulator: Emulator, client: Client) -> Any:
    created = await enroll(emulator, client)
    return await client.totps.authenticate(
        user_id=created.user_id,
        totp_code=emulator.totp_code(created.secret),
        session_duration_minutes=60,
    )


def json_body(**fields: Any) -> bytes:
    return _jsoncodec.dumps(fields)


async def test_sessions_over_http(emulator: Emulator, client: Client) -> None:
    auth = await started_session(emulator, client)
    assert auth.session is not None
    status, checked, _ = await raw(
        emulator, "POST", "v1/sessions/authenticate", json_body(session_token=auth.session_token)
    )
    assert status == 200
    assert set(checked) == {
        "status_code",
        "request_id",
        "session",
        "session_jwt",
        "session_token",
        "user",
    }
    status, listed, _ = await raw(emulator, "GET", f"v1/sessions?user_id={auth.user_id}")
    assert (status, [s["session_id"] for s in listed["sessions"]]) == (
        200,
        [auth.session.session_id],
    )
    status, revoked, _ = await raw(
        emulator, "POST", "v1/sessions/revoke", json_body(session_jwt=auth.session_jwt)
    )
    assert (status, set(revoked)) == (200, {"status_code", "request_id"})
    status, gone, _ = await raw(
        emulator, "POST", "v1/sessions/authenticate", json_body(session_token=auth.session_token)
    )
    assert (status, gone["error_type"]) == (404, "session_not_found")


@pytest.mark.parametrize(
    ("path", "fields", "status", "error_type"),
    [
        ("v1/sessions/authenticate", {}, 400, "no_session_arguments"),
        ("v1/sessions/authenticate", {"token_and_jwt": True}, 400, "too_many_session_arguments"),
        ("v1/sessions/authenticate", {"session_token": 42}, 400, "bad_request"),
        (
            "v1/sessions/authenticate",
            {"use_token": True, "session_duration_minutes": 4},
            400,
            "invalid_session_duration_minutes",
        ),
        (
            "v1/sessions/authenticate",
            {"use_token": True, "session_custom_claims": {"https://stytch.com/x": 1}},
            400,
            "stytch_claims_in_custom_claims",
        ),
        (
            "v1/sessions/authenticate",
            {"use_token": True, "authorization_check": {"resource_id": "r", "action": "a"}},
            400,
            "bad_request",
        ),
        ("v1/sessions/revoke", {}, 400, "no_session_arguments"),
        ("v1/sessions/revoke", {"token_and_jwt": True}, 400, "too_many_session_arguments"),
        ("v1/sessions/revoke", {"session_id": "session-test-nope"}, 404, "session_not_found"),
    ],
)
async def test_session_requests_are_checked(
    emulator: Emulator,
    client: Client,
    path: str,
    fields: dict[str, Any],
    status: int,
    error_type: str,
) -> None:
    auth = await started_session(emulator, client)
    if fields.pop("token_and_jwt", False):
        fields.update(session_token=auth.session_token, session_jwt=auth.session_jwt)
    if fields.pop("use_token", False):
        fields["session_token"] = auth.session_token
    got_status, body, _ = await raw(emulator, "POST", path, json_body(**fields))
    assert (got_status, body["error_type"]) == (status, error_type)
    # A refused request changes nothing.
    assert (await client.totps.recovery_codes(user_id=auth.user_id)).totps


async def test_listing_sessions_needs_a_known_user(emulator: Emulator) -> None:
    status, body, _ = await raw(emulator, "GET", "v1/sessions")
    assert (status, body["error_type"]) == (400, "bad_request")
    status, body, _ = await raw(emulator, "GET", "v1/sessions?user_id=user-test-nope")
    assert (status, body["error_type"]) == (404, "user_not_found")


async def test_delete_user_over_http(emulator: Emulator, client: Client) -> None:
    auth = await started_session(emulator, client)
    status, deleted, _ = await raw(emulator, "DELETE", f"v1/users/{auth.user_id}")
    assert (status, deleted["user_id"]) == (200, auth.user_id)
    status, again, _ = await raw(emulator, "DELETE", f"v1/users/{auth.user_id}")
    assert (status, again["error_type"]) == (404, "user_not_found")


async def test_pending_totps_are_refused_or_replaced_as_configured(
    client: Client, emulator: Emulator
) -> None:
    user_id = emulator.create_user("ada@example.com")
    await client.totps.create(user_id=user_id)
    with pytest.raises(BadRequestError) as caught:
        await client.totps.create(user_id=user_id)
    assert caught.value.error_type == "pending_totp_exists"

    async with Emulator(pending_totp="replace") as replacing, replacing.client() as other:
        user_id = replacing.create_user("ada@example.com")
        first = await other.totps.create(user_id=user_id)
        second = await other.totps.create(user_id=user_id)
        assert [totp.totp_id for totp in second.user.totps] == [second.totp_id]
        assert second.totp_id != first.totp_id
    with pytest.raises(InvalidParamsError) as refused:
        Emulator(pending_totp="keep")  # type: ignore[arg-type]
    assert refused.value.field == "pending_totp"


async def test_ensure_users_makes_users_for_a_rehearsal(emulator: Emulator, tmp_path: Path) -> None:
    user_ids = emulator.ensure_users(3)
    assert len(set(user_ids)) == 3
    assert emulator.ensure_users(3) == user_ids  # the same users, not three more
    assert emulator.ensure_users(4)[:3] == user_ids
    named = emulator.ensure_users(2, email="staff-{n}@example.org")
    assert set(named).isdisjoint(user_ids)
    status, user, _ = await raw(emulator, "GET", f"v1/users/{named[1]}")
    assert (status, user["emails"][0]["email"]) == (200, "staff-2@example.org")
    for count, email in (
        (-1, "u{n}@example.com"),
        (2, "no-placeholder@example.com"),
        (2, "u{n}-{team}@example.com"),
    ):
        with pytest.raises(InvalidParamsError):
            emulator.ensure_users(count, email=email)
    # With a state file, thousands of users are one transaction, and are there after a restart.
    async with Emulator(state=tmp_path / "state.db") as first:
        kept = first.ensure_users(2000)
    async with Emulator(state=tmp_path / "state.db") as second:
        assert second.ensure_users(2000) == kept


# --------------------------------------------------------------------------------------------
# Error paths
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer abc",
        "Basic !!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "wrong-secret",
    ],
)
async def test_bad_credentials_are_refused(emulator: Emulator, authorization: str | None) -> None:
    if authorization == "wrong-secret":
        authorization = basic_auth(emulator.project_id, emulator.secret + "x")
    status, body, _ = await raw(
        emulator, "POST", "v1/totps", b'{"user_id": "u"}', authorization=authorization
    )
    assert status == 401
    assert body["error_type"] == "unauthorized_credentials"
    assert set(body) == ENVELOPE_KEYS


async def test_the_sdk_reports_bad_credentials(emulator: Emulator) -> None:
    async with Client(emulator.project_id, "secret-test-wrong", base_url=emulator.url) as bad:
        with pytest.raises(AuthenticationError) as caught:
            await bad.totps.create(user_id=emulator.create_user("ada@example.com"))
    assert caught.value.error_type == "unauthorized_credentials"
    assert caught.value.error_url == "https://stytch.com/docs/api/errors/401"
    assert "secret-test-wrong" not in str(caught.value)


@pytest.mark.parametrize(
    ("method", "path", "status", "error_type"),
    [
        ("POST", "v1/nothing-here", 404, "route_not_found"),
        ("GET", "v1/totps", 405, "method_not_allowed"),
        ("PUT", "v1/users/user-test-1", 405, "method_not_allowed"),
    ],
)
async def test_routing_errors_use_the_envelope(
    emulator: Emulator, method: str, path: str, status: int, error_type: str
) -> None:
    got_status, body, _ = await raw(emulator, method, path, authorization=None)
    assert (got_status, body["status_code"], body["error_type"]) == (status, status, error_type)
    assert set(body) == ENVELOPE_KEYS


@pytest.mark.parametrize(
    ("path", "body", "error_type"),
    [
        ("v1/totps", b"not json", "bad_request"),
        ("v1/totps", b'{"user_id": 42}', "bad_request"),
        ("v1/totps", b'{"user_id": "u", "expiration_minutes": 2}', "invalid_expiration"),
        ("v1/totps/authenticate", b'{"user_id": "u", "totp_code": "12"}', "invalid_totp_code"),
        (
            "v1/totps/recover",
            b'{"user_id": "u", "recovery_code": "123456"}',
            "totp_code_used_as_recovery_code",
        ),
        ("v1/users", b'{"email": "nope"}', "invalid_email"),
    ],
)
async def test_invalid_bodies_are_400s_with_stytchs_error_types(
    emulator: Emulator, path: str, body: bytes, error_type: str
) -> None:
    status, data, _ = await raw(emulator, "POST", path, body)
    assert (status, data["error_type"]) == (400, error_type)
    assert set(data) == ENVELOPE_KEYS


async def test_an_oversized_body_gets_the_envelope_too(emulator: Emulator) -> None:
    status, data, _ = await raw(emulator, "POST", "v1/totps", io.BytesIO(b" " * (2 * 1024 * 1024)))
    assert (status, data["status_code"], data["error_type"]) == (413, 413, "bad_request")


async def test_the_sdk_raises_the_typed_error_of_each_status(
    emulator: Emulator, client: Client
) -> None:
    with pytest.raises(NotFoundError) as unknown:
        await client.totps.create(user_id="user-test-unknown")
    assert unknown.value.error_type == "user_not_found"
    created = await enroll(emulator, client)
    await client.totps.authenticate(
        user_id=created.user_id, totp_code=emulator.totp_code(created.secret)
    )
    with pytest.raises(BadRequestError) as twice:
        await client.totps.create(user_id=created.user_id)
    assert twice.value.error_type == "active_totp_exists"
    assert twice.value.request_id is not None
    assert twice.value.request_id.startswith("request-id-test-")


# --------------------------------------------------------------------------------------------
# Fault injection driving the SDK's retry rules
# --------------------------------------------------------------------------------------------


async def test_a_503_is_retried_until_it_clears(emulator: Emulator, client: Client) -> None:
    created = await enroll(emulator, client)
    fault = emulator.inject("/v1/totps/recovery_codes", status=503, times=2)
    listed = await client.totps.recovery_codes(user_id=created.user_id)
    assert len(listed.totps) == 1
    assert emulator.request_count("/v1/totps/recovery_codes") == 3
    assert fault.remaining == 0


async def test_a_429_with_retry_after_is_retried_even_for_authenticate(
    emulator: Emulator, client: Client
) -> None:
    created = await enroll(emulator, client)
    emulator.inject("v1/totps/authenticate", status=429, retry_after=0)
    auth = await client.totps.authenticate(
        user_id=created.user_id, totp_code=emulator.totp_code(created.secret)
    )
    assert auth.user_id == created.user_id
    assert emulator.request_count("/v1/totps/authenticate") == 2


async def test_retries_give_up_after_max_retries(emulator: Emulator, client: Client) -> None:
    created = await enroll(emulator, client)
    emulator.inject("/v1/totps/recovery_codes", status=503, times=None)
    with pytest.raises(InternalServerError) as caught:
        await client.totps.recovery_codes(user_id=created.user_id)
    assert caught.value.error_type == "service_unavailable"
    assert emulator.request_count("/v1/totps/recovery_codes") == 3
    emulator.clear_faults()
    assert (await client.totps.recovery_codes(user_id=created.user_id)).user_id == created.user_id


async def test_a_retry_after_beyond_the_limit_is_not_waited_for(
    emulator: Emulator, client: Client
) -> None:
    created = await enroll(emulator, client)
    emulator.inject("/v1/totps/recovery_codes", status=429, retry_after=3600)
    with pytest.raises(RateLimitError) as caught:
        await client.totps.recovery_codes(user_id=created.user_id)
    assert caught.value.retry_after == 3600
    assert emulator.request_count("/v1/totps/recovery_codes") == 1


async def test_a_500_is_retried_for_reads_but_not_for_authenticate(
    emulator: Emulator, client: Client
) -> None:
    created = await enroll(emulator, client)
    emulator.inject("/v1/totps/recovery_codes", status=500)
    await client.totps.recovery_codes(user_id=created.user_id)
    assert emulator.request_count("/v1/totps/recovery_codes") == 2

    emulator.inject("/v1/totps/authenticate", status=500, error_type="internal_server_error")
    with pytest.raises(InternalServerError):
        await client.totps.authenticate(
            user_id=created.user_id, totp_code=emulator.totp_code(created.secret)
        )
    assert emulator.request_count("/v1/totps/authenticate") == 1


async def test_a_dropped_connection_after_processing_is_never_replayed(
    emulator: Emulator, client: Client
) -> None:
    created = await enroll(emulator, client)
    code = emulator.totp_code(created.secret)
    emulator.inject("/v1/totps/authenticate", drop_connection=True)
    with pytest.raises(APIConnectionError) as caught:
        await client.totps.authenticate(user_id=created.user_id, totp_code=code)
    assert caught.value.may_have_been_processed is True
    assert emulator.request_count("/v1/totps/authenticate") == 1
    # The server did act: the code is spent, which is why the SDK must not replay it.
    with pytest.raises(AuthenticationError) as replay:
        await client.totps.authenticate(user_id=created.user_id, totp_code=code)
    assert replay.value.error_type == "totp_code_already_authenticated"


async def test_a_dropped_connection_is_retried_for_reads(
    emulator: Emulator, client: Client
) -> None:
    created = await enroll(emulator, client)
    emulator.inject("/v1/totps/recovery_codes", drop_connection=True)
    listed = await client.totps.recovery_codes(user_id=created.user_id)
    assert listed.user_id == created.user_id
    assert emulator.request_count("/v1/totps/recovery_codes") == 2


async def test_a_stalled_server_times_the_client_out(emulator: Emulator, client: Client) -> None:
    created = await enroll(emulator, client)
    emulator.inject("*", delay=5.0)
    with pytest.raises(APITimeoutError):
        await client.totps.authenticate(
            user_id=created.user_id,
            totp_code=emulator.totp_code(created.secret),
            timeout=0.2,
        )
    assert emulator.request_count("/v1/totps/authenticate") == 1


async def test_a_request_the_client_gave_up_on_is_still_processed(
    emulator: Emulator, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    created = await enroll(emulator, client)
    code = emulator.totp_code(created.secret)
    emulator.inject("/v1/totps/authenticate", delay=0.3)
    with pytest.raises(APITimeoutError) as caught:
        await client.totps.authenticate(user_id=created.user_id, totp_code=code, timeout=0.05)
    assert caught.value.may_have_been_processed is True
    # Like Stytch, the emulator acts on the request it received, answer or not.
    deadline = asyncio.get_running_loop().time() + 5
    while not (await client.totps.recovery_codes(user_id=created.user_id)).totps[0].verified:
        assert asyncio.get_running_loop().time() < deadline, "the stalled request was dropped"
        await asyncio.sleep(0.05)
    with pytest.raises(AuthenticationError) as replay:
        await client.totps.authenticate(user_id=created.user_id, totp_code=code)
    assert replay.value.error_type == "totp_code_already_authenticated"
    assert emulator.request_count("/v1/totps/authenticate") == 2
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_client_that_leaves_mid_body_is_no_emulator_failure(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = emulator.url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    auth = basic_auth(emulator.project_id, emulator.secret)
    writer.write(
        b"POST /v1/totps/recovery_codes HTTP/1.1\r\nHost: emulator\r\n"
        + f"Authorization: {auth}\r\n".encode()
        + b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user_id"'
    )
    await writer.drain()
    deadline = asyncio.get_running_loop().time() + 5
    while emulator.request_count("/v1/totps/recovery_codes") == 0:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    writer.close()
    await writer.wait_closed()
    assert await reader.read() == b""  # no answer for a request that never fully arrived
    await asyncio.sleep(0.1)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


# --------------------------------------------------------------------------------------------
# The Emulator object
# --------------------------------------------------------------------------------------------


async def test_the_emulator_object(emulator: Emulator) -> None:
    assert emulator.url.startswith("http://127.0.0.1:")
    assert emulator.url.endswith("/")
    assert emulator.project_id.startswith("project-test-")
    assert emulator.secret not in repr(emulator)
    assert emulator.app is not None
    with pytest.raises(RuntimeError, match="already running"):
        await emulator.start()
    emulator.create_user("ada@example.com", name=Name(first_name="Ada"))
    with pytest.raises(EmulatorError) as duplicate:
        emulator.create_user("ada@example.com")
    assert duplicate.value.error_type == "duplicate_email"
    assert emulator.totp_code("JBSWY3DPEHPK3PXP", 59) == totp_code("JBSWY3DPEHPK3PXP", 59)


async def test_an_emulator_not_running_has_no_url_and_cannot_restart() -> None:
    emulator = Emulator(project_id="project-test-mine", secret="secret-test-mine")
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.url
    await emulator.aclose()
    await emulator.aclose()
    with pytest.raises(RuntimeError, match="cannot be restarted"):
        await emulator.start()
    with pytest.raises(ValueError, match="port"):
        Emulator(port=70000)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"project_id": ""}, "project_id"),
        ({"secret": ""}, "secret"),
        ({"project_id": "project-test:mine"}, "project_id"),
        ({"host": ""}, "host"),
    ],
)
def test_an_emulator_refuses_what_no_client_could_use(
    tmp_path: Path, kwargs: dict[str, Any], field: str
) -> None:
    state = tmp_path / "state.db"
    with pytest.raises(InvalidParamsError) as caught:
        Emulator(state=state, **kwargs)
    assert caught.value.field == field
    assert not state.exists()  # refused before the state file is made


async def test_a_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with Emulator(state=state) as first, first.client() as client:
        created = await client.totps.create(user_id=first.create_user("ada@example.com"))
        code = first.totp_code(created.secret)
        await client.totps.authenticate(user_id=created.user_id, totp_code=code)
        credentials = (first.project_id, first.secret)
    async with Emulator(state=state) as second, second.client() as client:
        assert (second.project_id, second.secret) == credentials
        with pytest.raises(AuthenticationError) as replay:
            await client.totps.authenticate(user_id=created.user_id, totp_code=code)
        assert replay.value.error_type == "totp_code_already_authenticated"
        listed = await client.totps.recovery_codes(user_id=created.user_id)
        assert listed.totps[0].verified is True


async def test_the_port_must_be_free(emulator: Emulator) -> None:
    port = int(emulator.url.rsplit(":", 1)[1].rstrip("/"))
    with pytest.raises(OSError):  # noqa: PT011 - the OS chooses the errno
        await Emulator(port=port).start()


async def test_a_bug_in_the_emulator_is_logged_and_answered_with_the_envelope(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("emulator bug")

    monkeypatch.setattr(EmulatedProject, "recovery_codes", broken)
    status, body, _ = await raw(emulator, "POST", "v1/totps/recovery_codes", b'{"user_id": "u"}')
    assert (status, body["error_type"]) == (500, "internal_server_error")
    assert set(body) == ENVELOPE_KEYS
    assert "emulator bug" in caplog.text


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8787/"),
        ("0.0.0.0", "http://127.0.0.1:8787/"),  # noqa: S104 - not binding anything
        ("::", "http://[::1]:8787/"),
        ("::1", "http://[::1]:8787/"),
        ("localhost", "http://localhost:8787/"),
    ],
)
def test_the_base_url_is_one_clients_can_reach(host: str, url: str) -> None:
    assert _base_url(host, 8787) == url


async def test_metadata_that_is_not_an_object_is_a_bad_request(emulator: Emulator) -> None:
    status, body, _ = await raw(
        emulator,
        "POST",
        "v1/users",
        b'{"email": "ada@example.com", "trusted_metadata": [1]}',
    )
    assert status == 400
    assert body["error_type"] == "bad_request"
    assert "trusted_metadata" in body["error_message"]
