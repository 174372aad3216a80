"""Code as a user writes it, for ``mypy --strict`` (the ``typecheck`` session), not for pytest.

Every call's result type is asserted with ``assert_type``, and every mistake a type checker must
catch carries a ``# type: ignore[code]``: with ``warn_unused_ignores`` (part of ``--strict``), an
ignore that no longer silences an error is itself an error, so each one asserts the mistake is
still caught.
"""

from typing import assert_type

import stytch_totp
from stytch_totp import (
    APIResponse,
    AuthenticateParams,
    AuthenticateResponse,
    BulkEnrollment,
    CreateParams,
    CreateResponse,
    RecoverResponse,
    RecoveryCodesResponse,
    RetryPolicy,
    Session,
    Timeout,
)


async def every_operation(client: stytch_totp.Client) -> None:
    created = await client.totps.create(user_id="user-1", expiration_minutes=10)
    assert_type(created, CreateResponse)
    assert_type(created.recovery_codes, tuple[str, ...])
    assert_type(await client.totps.create(CreateParams(user_id="user-1")), CreateResponse)

    auth = await client.totps.authenticate(
        user_id="user-1",
        totp_code="123456",
        session_duration_minutes=60,
        session_custom_claims={"plan": "pro"},
        timeout=Timeout(total=5, connect=1),
        retry=RetryPolicy.none(),
        extra_body={"new_field": True},
        extra_headers={"X-Trace": "abc"},
    )
    assert_type(auth, AuthenticateResponse)
    assert_type(auth.session, Session | None)
    params = AuthenticateParams(user_id="user-1", totp_code="123456")
    assert_type(await client.totps.authenticate(params, timeout=2.0), AuthenticateResponse)

    codes = await client.totps.recovery_codes(user_id="user-1")
    assert_type(codes, RecoveryCodesResponse)
    recovered = await client.totps.recover(user_id="user-1", recovery_code="ckss-2skx-ebow")
    assert_type(recovered, RecoverResponse)

    batch = client.totps.create_many(["user-1", "user-2"], concurrency=8)
    assert_type(batch, BulkEnrollment)


async def mistakes_a_type_checker_catches(client: stytch_totp.Client) -> None:
    await client.totps.create()  # type: ignore[call-overload]
    await client.totps.create(user_id=42)  # type: ignore[call-overload]
    await client.totps.create(usr_id="user-1")  # type: ignore[call-overload]
    await client.totps.authenticate(user_id="user-1")  # type: ignore[call-overload]
    await client.totps.authenticate(  # type: ignore[call-overload]
        AuthenticateParams(user_id="user-1", totp_code="123456"), user_id="user-2"
    )
    await client.totps.recover(user_id="u", recovery_code="c", timeout="5")  # type: ignore[call-overload]
    await client.totps.recovery_codes(user_id="u", retry=3)  # type: ignore[call-overload]
    await client.totps.create(user_id="u", extra_headers={"X": 1})  # type: ignore[dict-item]


async def raw_responses(client: stytch_totp.Client) -> None:
    raw = await client.totps.with_raw_response.authenticate(user_id="u", totp_code="123456")
    assert_type(raw, APIResponse[AuthenticateResponse])
    assert_type(raw.parse(), AuthenticateResponse)
    assert_type(raw.attempts, int)
    assert_type(
        await client.totps.with_raw_response.create(CreateParams(user_id="u")),
        APIResponse[CreateResponse],
    )
    await client.totps.with_raw_response.recover(user_id="u")  # type: ignore[call-overload]


def blocking_calls(client: stytch_totp.SyncClient) -> None:
    assert_type(client.totps.create(user_id="u", expiration_minutes=10), CreateResponse)
    assert_type(client.totps.authenticate(user_id="u", totp_code="123456"), AuthenticateResponse)
    assert_type(client.totps.recovery_codes(user_id="u"), RecoveryCodesResponse)
    assert_type(client.totps.recover(user_id="u", recovery_code="c"), RecoverResponse)
    raw = client.totps.with_raw_response.create(CreateParams(user_id="u"))
    assert_type(raw, APIResponse[CreateResponse])
    for result in client.totps.create_many(["u1", "u2"]):
        assert_type(result, stytch_totp.EnrollmentResult)
    client.totps.create()  # type: ignore[call-overload]
    client.totps.authenticate(user_id="u", totp_code=123456)  # type: ignore[call-overload]
