"""The emulated project's rules, without HTTP, against both stores (memory and SQLite)."""

from __future__ import annotations

import re
import string
import struct
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import jwt
import pytest

from stytch_totp import (
    AuthenticateParams,
    CreateParams,
    InvalidParamsError,
    RecoverParams,
    RecoveryCodesParams,
    totp_code,
)
from stytch_totp.testing import Clock, EmulatorError
from stytch_totp.testing._server.bodies import timestamp
from stytch_totp.testing._server.jwt import SESSION_CLAIM, shared_key
from stytch_totp.testing._server.project import EmulatedProject
from stytch_totp.testing._server.requests import (
    NewUser,
    SessionAuthenticateParams,
    SessionRevokeParams,
)
from stytch_totp.testing._server.store import Store

from .helpers import decode_qr, qr_png_bytes

EMAIL = "ada@example.com"
Body = dict[str, Any]


class _RequestId(str):
    """Equal to any ``request-id-test-<uuid4>``."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(
            re.fullmatch(r"request-id-test-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", other)
        )

    __hash__ = str.__hash__


ANY_REQUEST_ID = _RequestId()


def new_user(project: EmulatedProject, email: str = EMAIL, **fields: Any) -> str:
    user_id: str = project.create_user(NewUser(email=email, **fields))["user_id"]
    return user_id


def enroll(project: EmulatedProject, email: str = EMAIL, **fields: Any) -> Body:
    return dict(project.create_totp(CreateParams(user_id=new_user(project, email), **fields)))


def code(created: Mapping[str, Any], clock: Clock, shift_seconds: float = 0) -> str:
    return totp_code(created["secret"], clock.now() + timedelta(seconds=shift_seconds))


def auth(project: EmulatedProject, user_id: str, totp: str, **fields: Any) -> Body:
    params = AuthenticateParams(user_id=user_id, totp_code=totp, **fields)
    return dict(project.authenticate(params))


def recover(project: EmulatedProject, user_id: str, recovery_code: str, **fields: Any) -> Body:
    params = RecoverParams(user_id=user_id, recovery_code=recovery_code, **fields)
    return dict(project.recover(params))


def session_auth(project: EmulatedProject, **fields: Any) -> Body:
    return dict(project.authenticate_session(SessionAuthenticateParams(**fields)))


def user_of(project: EmulatedProject, user_id: str) -> Body:
    return project.get_user(user_id)


def totps_of(user: Mapping[str, Any]) -> list[tuple[str, bool]]:
    return [(totp["totp_id"], totp["verified"]) for totp in user["totps"]]


def refused(call: Callable[[], object], error_type: str) -> EmulatorError:
    with pytest.raises(EmulatorError) as caught:
        call()
    assert caught.value.error_type == error_type, caught.value
    return caught.value


def wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


# --------------------------------------------------------------------------------------------
# Enrollment
# --------------------------------------------------------------------------------------------


def test_create_gives_a_secret_recovery_codes_and_a_qr_code_of_the_otpauth_uri(
    project: EmulatedProject,
) -> None:
    created = enroll(project, "ada+mfa@example.com")
    assert re.fullmatch(r"[A-Z2-7]{32}", created["secret"])
    assert len(created["recovery_codes"]) == 10
    assert len(set(created["recovery_codes"])) == 10
    assert all(
        re.fullmatch(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}", c) for c in created["recovery_codes"]
    )
    assert re.fullmatch(
        r"totp-test-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        created["totp_id"],
    )
    # What a scanner reads: the project as issuer, the email as account, as Stytch's QR codes.
    assert decode_qr(created["qr_code"]) == (
        "otpauth://totp/Stytch%20TOTP%20Emulator:ada%2Bmfa@example.com?algorithm=SHA1&digits=6"
        f"&period=30&secret={created['secret']}&issuer=Stytch%20TOTP%20Emulator"
    )
    # Stytch's published example has a space after the comma.
    assert created["qr_code"].startswith("data:image/png;base64, iVBOR")
    assert totps_of(created["user"]) == [(created["totp_id"], False)]


def test_the_qr_code_is_a_png_a_screen_can_show(project: EmulatedProject) -> None:
    png = qr_png_bytes(enroll(project)["qr_code"])
    width, height, depth, color_type = struct.unpack(">IIBB", png[16:26])
    # Square, about the size of Stytch's (200 px), grayscale: an <img> shows it as it is.
    assert width == height
    assert 150 <= width <= 400
    assert color_type == 0
    assert depth in (1, 2, 4, 8, 16)


def test_the_qr_code_account_is_the_phone_number_without_an_email(
    project: EmulatedProject,
) -> None:
    user_id = project.create_user(NewUser(phone_number="+12025550162"))["user_id"]
    created = project.create_totp(CreateParams(user_id=user_id))
    assert ":%2B12025550162?" in decode_qr(created["qr_code"])


def test_secrets_and_ids_differ_between_enrollments(project: EmulatedProject) -> None:
    first, second = enroll(project, "a@example.com"), enroll(project, "b@example.com")
    assert first["secret"] != second["secret"]
    assert set(first["recovery_codes"]).isdisjoint(second["recovery_codes"])
    assert first["totp_id"] != second["totp_id"]


def test_recovery_codes_use_every_letter_and_digit(project: EmulatedProject) -> None:
    characters = Counter(
        character
        for index in range(60)
        for recovery_code in enroll(project, f"u{index}@example.com")["recovery_codes"]
        for character in recovery_code.replace("-", "")
    )
    # 7,200 characters over 36 symbols: each appears about 200 times if they are uniform.
    assert set(characters) == set(string.ascii_lowercase + string.digits)
    assert min(characters.values()) > 100
    assert max(characters.values()) < 320


def test_a_totp_is_unverified_until_its_first_code(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    result = auth(project, created["user_id"], code(created, clock))
    assert totps_of(result["user"]) == [(created["totp_id"], True)]
    assert totps_of(user_of(project, created["user_id"])) == [(created["totp_id"], True)]


def test_a_verified_totp_blocks_a_second_one(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    auth(project, created["user_id"], code(created, clock))
    error = refused(
        lambda: project.create_totp(CreateParams(user_id=created["user_id"])),
        "active_totp_exists",
    )
    assert error.status == 400


def test_by_default_a_pending_totp_blocks_a_second_one(
    project: EmulatedProject, clock: Clock
) -> None:
    first = enroll(project)
    error = refused(
        lambda: project.create_totp(CreateParams(user_id=first["user_id"])), "pending_totp_exists"
    )
    assert error.status == 400
    # The pending TOTP is untouched: its codes still work, and it can then be used.
    assert auth(project, first["user_id"], code(first, clock))["totp_id"] == first["totp_id"]


def test_a_pending_totp_that_expired_does_not_block_a_new_one(
    project: EmulatedProject, clock: Clock
) -> None:
    first = enroll(project, expiration_minutes=5)
    clock.advance(5 * 60)
    second = project.create_totp(CreateParams(user_id=first["user_id"]))
    assert totps_of(second["user"]) == [(second["totp_id"], False)]


def test_a_deleted_pending_totp_does_not_block_a_new_one(project: EmulatedProject) -> None:
    first = enroll(project)
    project.delete_totp(first["totp_id"])
    assert project.create_totp(CreateParams(user_id=first["user_id"]))["status_code"] == 200


def test_a_project_can_replace_pending_totps_instead(store: Store, clock: Clock) -> None:
    project = EmulatedProject.open(store, clock, new_key=shared_key, pending_totp="replace")
    first = enroll(project)
    second = project.create_totp(CreateParams(user_id=first["user_id"]))
    assert totps_of(second["user"]) == [(second["totp_id"], False)]
    # The abandoned secret no longer works; the new one does.
    refused(
        lambda: auth(project, first["user_id"], code(first, clock)), "unable_to_authenticate_totp"
    )
    assert auth(project, first["user_id"], code(second, clock))["totp_id"] == second["totp_id"]
    # A verified TOTP is never replaced.
    refused(
        lambda: project.create_totp(CreateParams(user_id=first["user_id"])), "active_totp_exists"
    )


def test_the_pending_totp_choice_is_checked(store: Store, clock: Clock) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        EmulatedProject.open(store, clock, new_key=shared_key, pending_totp="ignore")  # type: ignore[arg-type]
    assert caught.value.field == "pending_totp"


def test_an_unverified_totp_is_unusable_after_expiration_minutes(
    project: EmulatedProject, clock: Clock
) -> None:
    created = enroll(project, expiration_minutes=5)
    clock.advance(5 * 60)
    refused(
        lambda: auth(project, created["user_id"], code(created, clock)), "totps_not_found_for_user"
    )
    assert user_of(project, created["user_id"])["totps"] == []
    # The user may enroll again.
    again = project.create_totp(CreateParams(user_id=created["user_id"]))
    assert again["totp_id"] != created["totp_id"]


def test_the_default_expiration_is_one_day(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    clock.advance(24 * 3600 - 60)
    assert auth(project, created["user_id"], code(created, clock))["totp_id"] == created["totp_id"]


def test_a_verified_totp_does_not_expire(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project, expiration_minutes=5)
    auth(project, created["user_id"], code(created, clock))
    clock.advance(30 * 24 * 3600)
    assert auth(project, created["user_id"], code(created, clock))["totp_id"] == created["totp_id"]


def test_delete_totp_lets_the_user_enroll_again(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    auth(project, created["user_id"], code(created, clock))
    deleted = project.delete_totp(created["totp_id"])
    assert deleted["user_id"] == created["user_id"]
    assert deleted["user"]["totps"] == []
    refused(lambda: project.delete_totp(created["totp_id"]), "totp_not_found")
    assert project.create_totp(CreateParams(user_id=created["user_id"]))["status_code"] == 200


def test_unknown_users_are_not_found(project: EmulatedProject) -> None:
    unknown = "user-test-00000000-0000-0000-0000-000000000000"
    refused(lambda: project.create_totp(CreateParams(user_id=unknown)), "user_not_found")
    refused(lambda: auth(project, unknown, "123456"), "user_not_found")
    refused(lambda: recover(project, unknown, "abcd-efgh-ijkl"), "user_not_found")
    refused(lambda: project.recovery_codes(RecoveryCodesParams(user_id=unknown)), "user_not_found")
    refused(lambda: project.get_user(unknown), "user_not_found")
    refused(lambda: project.delete_user(unknown), "user_not_found")
    refused(lambda: project.list_sessions(unknown), "user_not_found")


def test_external_id_works_wherever_user_id_does(project: EmulatedProject, clock: Clock) -> None:
    user_id = new_user(project, external_id="crm-42")
    created = project.create_totp(CreateParams(user_id="crm-42"))
    assert created["user_id"] == user_id
    assert auth(project, "crm-42", code(dict(created), clock))["user_id"] == user_id
    assert project.get_user("crm-42")["external_id"] == "crm-42"
    assert project.list_sessions("crm-42")["sessions"] == []


def test_users_need_a_unique_well_formed_email_or_phone(project: EmulatedProject) -> None:
    new_user(project, external_id="crm-1")
    refused(lambda: new_user(project), "duplicate_email")
    refused(
        lambda: new_user(project, "b@example.com", external_id="crm-1"), "duplicate_external_id"
    )
    refused(lambda: new_user(project, "not-an-email"), "invalid_email")
    refused(lambda: project.create_user(NewUser()), "bad_request")
    refused(lambda: project.create_user(NewUser(phone_number="555-0100")), "invalid_phone_number")
    refused(
        lambda: new_user(project, "c@example.com", external_id="has space"), "invalid_external_id"
    )
    by_phone = project.create_user(NewUser(phone_number="+12025550162"))
    assert by_phone["phone_id"].startswith("phone-number-test-")
    assert by_phone["email_id"] == ""
    assert by_phone["user"]["phone_numbers"][0]["phone_number"] == "+12025550162"


def test_a_user_without_a_name_or_metadata_has_empty_ones(project: EmulatedProject) -> None:
    user = user_of(project, new_user(project))
    # As Stytch sends them: empty strings and objects, never null.
    assert user["name"] == {"first_name": "", "middle_name": "", "last_name": ""}
    assert (user["trusted_metadata"], user["untrusted_metadata"]) == ({}, {})
    assert (user["external_id"], user["password"]) == (None, None)


def test_a_user_can_be_created_pending(project: EmulatedProject) -> None:
    created = project.create_user(NewUser(email=EMAIL, create_user_as_pending=True))
    assert created["status"] == "pending"
    assert created["user"]["status"] == "pending"


def test_deleting_a_user_deletes_their_totps_and_sessions(
    project: EmulatedProject, clock: Clock
) -> None:
    created = enroll(project)
    signed_in = auth(project, created["user_id"], code(created, clock), session_duration_minutes=60)
    assert project.delete_user(created["user_id"])["user_id"] == created["user_id"]
    refused(lambda: project.get_user(created["user_id"]), "user_not_found")
    refused(lambda: project.delete_totp(created["totp_id"]), "totp_not_found")
    refused(
        lambda: session_auth(project, session_token=signed_in["session_token"]),
        "session_not_found",
    )
    # The email is free again.
    assert new_user(project) != created["user_id"]


def test_ensure_users_creates_what_is_missing_and_reuses_the_rest(
    project: EmulatedProject,
) -> None:
    existing = new_user(project, "user2@example.com")
    emails = [f"user{n}@example.com" for n in range(1, 4)]
    first = project.ensure_users(emails)
    assert first[1] == existing
    assert len(set(first)) == 3
    assert project.ensure_users(emails) == first
    assert [user_of(project, user_id)["emails"][0]["email"] for user_id in first] == emails


# --------------------------------------------------------------------------------------------
# Codes: windows and replays
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shift", [-30, 0, 30])
def test_the_previous_current_and_next_codes_are_accepted(
    project: EmulatedProject, clock: Clock, shift: int
) -> None:
    created = enroll(project)
    assert auth(project, created["user_id"], code(created, clock, shift))["status_code"] == 200


@pytest.mark.parametrize("shift", [-60, 60])
def test_codes_two_steps_away_are_refused(
    project: EmulatedProject, clock: Clock, shift: int
) -> None:
    created = enroll(project)
    refused(
        lambda: auth(project, created["user_id"], code(created, clock, shift)),
        "unable_to_authenticate_totp",
    )


def test_moving_the_clock_moves_the_window(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    stale = code(created, clock)
    clock.advance(90)
    refused(lambda: auth(project, created["user_id"], stale), "unable_to_authenticate_totp")
    assert auth(project, created["user_id"], code(created, clock))["status_code"] == 200


def test_an_accepted_code_is_refused_when_replayed(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    totp = code(created, clock)
    auth(project, created["user_id"], totp)
    error = refused(
        lambda: auth(project, created["user_id"], totp), "totp_code_already_authenticated"
    )
    assert error.status == 401
    # The next step's code is still good.
    clock.advance(30)
    assert auth(project, created["user_id"], code(created, clock))["status_code"] == 200


def test_an_older_code_is_refused_after_a_newer_one(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    auth(project, created["user_id"], code(created, clock, 30))
    refused(
        lambda: auth(project, created["user_id"], code(created, clock)),
        "totp_code_already_authenticated",
    )


def test_authenticate_needs_a_totp(project: EmulatedProject) -> None:
    user_id = new_user(project)
    refused(lambda: auth(project, user_id, "123456"), "totps_not_found_for_user")
    refused(
        lambda: project.recovery_codes(RecoveryCodesParams(user_id=user_id)),
        "totps_not_found_for_user",
    )


# --------------------------------------------------------------------------------------------
# Recovery codes
# --------------------------------------------------------------------------------------------


def test_recovery_codes_are_single_use_and_listed_until_spent(
    project: EmulatedProject, clock: Clock
) -> None:
    created = enroll(project)
    auth(project, created["user_id"], code(created, clock))
    listed = project.recovery_codes(RecoveryCodesParams(user_id=created["user_id"]))
    assert [(t["totp_id"], t["verified"]) for t in listed["totps"]] == [(created["totp_id"], True)]
    assert listed["totps"][0]["recovery_codes"] == created["recovery_codes"]

    spent = created["recovery_codes"][3]
    result = recover(project, created["user_id"], spent)
    assert (result["user_id"], result["totp_id"], result["session"]) == (
        created["user_id"],
        created["totp_id"],
        None,
    )
    assert (result["session_token"], result["session_jwt"]) == ("", "")
    refused(
        lambda: recover(project, created["user_id"], spent), "unable_to_authenticate_recovery_code"
    )

    remaining = project.recovery_codes(RecoveryCodesParams(user_id=created["user_id"]))
    assert spent not in remaining["totps"][0]["recovery_codes"]
    assert len(remaining["totps"][0]["recovery_codes"]) == 9


def test_a_code_typed_in_capitals_is_the_same_recovery_code(
    project: EmulatedProject, clock: Clock
) -> None:
    created = enroll(project)
    auth(project, created["user_id"], code(created, clock))
    assert (
        recover(project, created["user_id"], created["recovery_codes"][0].upper())["status_code"]
        == 200
    )


def test_recovery_needs_a_verified_totp(project: EmulatedProject) -> None:
    created = enroll(project)
    refused(
        lambda: recover(project, created["user_id"], created["recovery_codes"][0]),
        "totps_not_found_for_user",
    )


def test_an_unknown_recovery_code_is_refused(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    auth(project, created["user_id"], code(created, clock))
    refused(
        lambda: recover(project, created["user_id"], "aaaa-bbbb-cccc"),
        "unable_to_authenticate_recovery_code",
    )


# --------------------------------------------------------------------------------------------
# User locks
# --------------------------------------------------------------------------------------------


def test_ten_failures_lock_the_user_for_an_hour(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    bad = wrong_code(code(created, clock))
    for _ in range(9):
        refused(lambda: auth(project, created["user_id"], bad), "unable_to_authenticate_totp")
    error = refused(lambda: auth(project, created["user_id"], bad), "user_lock_limit_reached")
    assert error.status == 429

    user = user_of(project, created["user_id"])
    assert user["is_locked"] is True
    assert user["lock_created_at"] == timestamp(clock.now())
    assert user["lock_expires_at"] == timestamp(clock.now() + timedelta(hours=1))
    # Even the right code is refused while the lock lasts.
    refused(
        lambda: auth(project, created["user_id"], code(created, clock)), "user_lock_limit_reached"
    )

    clock.advance(3600)
    unlocked = user_of(project, created["user_id"])
    assert (unlocked["is_locked"], unlocked["lock_created_at"], unlocked["lock_expires_at"]) == (
        False,
        None,
        None,
    )
    assert auth(project, created["user_id"], code(created, clock))["status_code"] == 200


def test_a_success_resets_the_failure_count(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    for _ in range(9):
        refused(
            lambda: auth(project, created["user_id"], wrong_code(code(created, clock))),
            "unable_to_authenticate_totp",
        )
    auth(project, created["user_id"], code(created, clock))
    clock.advance(30)
    for _ in range(9):
        refused(
            lambda: auth(project, created["user_id"], wrong_code(code(created, clock))),
            "unable_to_authenticate_totp",
        )
    assert user_of(project, created["user_id"])["is_locked"] is False


def test_failed_recovery_codes_count_towards_the_lock(
    project: EmulatedProject, clock: Clock
) -> None:
    created = enroll(project)
    auth(project, created["user_id"], code(created, clock))
    clock.advance(30)
    for _ in range(5):
        refused(
            lambda: auth(project, created["user_id"], wrong_code(code(created, clock))),
            "unable_to_authenticate_totp",
        )
    for _ in range(4):
        refused(
            lambda: recover(project, created["user_id"], "aaaa-bbbb-cccc"),
            "unable_to_authenticate_recovery_code",
        )
    refused(
        lambda: recover(project, created["user_id"], "aaaa-bbbb-cccc"), "user_lock_limit_reached"
    )
    refused(
        lambda: recover(project, created["user_id"], created["recovery_codes"][0]),
        "user_lock_limit_reached",
    )


def test_a_replayed_code_does_not_count_as_a_failure(
    project: EmulatedProject, clock: Clock
) -> None:
    created = enroll(project)
    totp = code(created, clock)
    auth(project, created["user_id"], totp)
    for _ in range(12):
        refused(lambda: auth(project, created["user_id"], totp), "totp_code_already_authenticated")
    assert user_of(project, created["user_id"])["is_locked"] is False


# --------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------


def verified_claims(project: EmulatedProject, token: str) -> dict[str, Any]:
    jwks = project.jwks(project.record.project_id)
    key = jwt.PyJWKSet.from_dict({"keys": jwks["keys"]})[project.key.kid]
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=project.record.project_id,
        issuer=f"stytch.com/{project.record.project_id}",
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    return claims


def test_no_session_unless_asked_for(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    result = auth(project, created["user_id"], code(created, clock))
    assert (result["session"], result["session_token"], result["session_jwt"]) == (None, "", "")


def test_session_duration_starts_a_session_with_a_verifiable_jwt(
    project: EmulatedProject, clock: Clock
) -> None:
    created = enroll(project)
    result = auth(
        project,
        created["user_id"],
        code(created, clock),
        session_duration_minutes=60,
        session_custom_claims={"plan": "pro", "sub": "ignored", "exp": 1},
    )
    session = result["session"]
    assert session["user_id"] == created["user_id"]
    assert session["started_at"] == session["last_accessed_at"] == timestamp(clock.now())
    assert session["expires_at"] == timestamp(clock.now() + timedelta(minutes=60))
    assert session["roles"] == ["stytch_user"]
    assert session["custom_claims"] == {"plan": "pro"}
    (factor,) = session["authentication_factors"]
    assert factor == {
        "created_at": timestamp(clock.now()),
        "delivery_method": "authenticator_app",
        "last_authenticated_at": timestamp(clock.now()),
        "updated_at": timestamp(clock.now()),
        "type": "totp",
        "authenticator_app_factor": {"totp_id": created["totp_id"]},
    }
    assert len(result["session_token"]) == 44

    claims = verified_claims(project, result["session_jwt"])
    assert claims["sub"] == created["user_id"]
    assert claims["plan"] == "pro"
    assert claims["exp"] - claims["iat"] == 300
    assert claims["iat"] == int(clock.now().timestamp())
    assert claims[SESSION_CLAIM]["id"] == session["session_id"]
    assert claims[SESSION_CLAIM]["roles"] == ["stytch_user"]
    assert claims[SESSION_CLAIM]["authentication_factors"][0]["type"] == "totp"


def test_a_session_token_extends_the_session(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    first = auth(
        project,
        created["user_id"],
        code(created, clock),
        session_duration_minutes=10,
        session_custom_claims={"plan": "pro", "team": "a"},
    )
    clock.advance(5 * 60)
    second = recover(
        project,
        created["user_id"],
        created["recovery_codes"][0],
        session_token=first["session_token"],
        session_duration_minutes=60,
        session_custom_claims={"team": None, "seat": 3},
    )
    assert second["session"]["session_id"] == first["session"]["session_id"]
    assert second["session_token"] == first["session_token"]
    assert second["session"]["expires_at"] == timestamp(clock.now() + timedelta(minutes=60))
    assert second["session"]["started_at"] == first["session"]["started_at"]
    factors = second["session"]["authentication_factors"]
    assert [f["type"] for f in factors] == ["totp", "recovery_codes"]
    assert factors[1]["delivery_method"] == "recovery_code"
    assert "authenticator_app_factor" not in factors[1]
    recovery_code_id = factors[1]["recovery_code_factor"]["totp_recovery_code_id"]
    assert recovery_code_id.startswith("totp-recovery-code-test-")
    assert second["session"]["custom_claims"] == {"plan": "pro", "seat": 3}


def test_a_session_jwt_extends_the_session_even_once_expired(
    project: EmulatedProject, clock: Clock
) -> None:
    created = enroll(project)
    first = auth(project, created["user_id"], code(created, clock), session_duration_minutes=60)
    clock.advance(10 * 60)  # the 5-minute JWT has expired; the session has not
    second = auth(
        project, created["user_id"], code(created, clock), session_jwt=first["session_jwt"]
    )
    assert second["session"]["session_id"] == first["session"]["session_id"]
    assert (
        second["session"]["expires_at"] == first["session"]["expires_at"]
    )  # no duration: not extended
    assert len(second["session"]["authentication_factors"]) == 1  # the same factor, refreshed
    assert second["session"]["authentication_factors"][0]["last_authenticated_at"] == timestamp(
        clock.now()
    )


def test_an_expired_session_cannot_be_extended(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    first = auth(project, created["user_id"], code(created, clock), session_duration_minutes=5)
    clock.advance(6 * 60)
    refused(
        lambda: auth(
            project, created["user_id"], code(created, clock), session_token=first["session_token"]
        ),
        "session_not_found",
    )


def test_session_errors_leave_the_code_unspent(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    totp = code(created, clock)
    refused(
        lambda: auth(project, created["user_id"], totp, session_token="no-such-token"),
        "session_not_found",
    )
    refused(
        lambda: auth(project, created["user_id"], totp, session_jwt="not.a.jwt"),
        "unable_to_parse_session_jwt",
    )
    assert auth(project, created["user_id"], totp)["status_code"] == 200


def test_another_users_session_is_refused(project: EmulatedProject, clock: Clock) -> None:
    ada, bob = enroll(project, "ada@example.com"), enroll(project, "bob@example.com")
    ada_session = auth(project, ada["user_id"], code(ada, clock), session_duration_minutes=60)
    refused(
        lambda: auth(
            project, bob["user_id"], code(bob, clock), session_token=ada_session["session_token"]
        ),
        "user_id_mismatch",
    )


def test_a_token_and_a_jwt_must_name_the_same_session(
    project: EmulatedProject, clock: Clock
) -> None:
    created = enroll(project)
    auth(project, created["user_id"], code(created, clock))
    first = recover(
        project, created["user_id"], created["recovery_codes"][0], session_duration_minutes=9
    )
    second = recover(
        project, created["user_id"], created["recovery_codes"][1], session_duration_minutes=9
    )
    refused(
        lambda: recover(
            project,
            created["user_id"],
            created["recovery_codes"][2],
            session_token=first["session_token"],
            session_jwt=second["session_jwt"],
        ),
        "too_many_session_arguments",
    )
    same = recover(
        project,
        created["user_id"],
        created["recovery_codes"][2],
        session_token=first["session_token"],
        session_jwt=first["session_jwt"],
    )
    assert same["session"]["session_id"] == first["session"]["session_id"]


def test_custom_claims_must_fit_in_4_kb_once_merged(project: EmulatedProject, clock: Clock) -> None:
    created = enroll(project)
    first = auth(
        project,
        created["user_id"],
        code(created, clock),
        session_duration_minutes=60,
        session_custom_claims={"a": "x" * 3000},
    )
    refused(
        lambda: recover(
            project,
            created["user_id"],
            created["recovery_codes"][0],
            session_token=first["session_token"],
            session_duration_minutes=60,
            session_custom_claims={"b": "y" * 3000},
        ),
        "custom_claims_too_large",
    )


def signed_in(
    project: EmulatedProject, clock: Clock, email: str = EMAIL, **fields: Any
) -> tuple[Body, Body]:
    """A verified enrollment and the authenticate answer that started a session."""
    created = enroll(project, email)
    fields.setdefault("session_duration_minutes", 60)
    return created, auth(project, created["user_id"], code(created, clock), **fields)


def test_session_authenticate_by_token_or_jwt_answers_the_session(
    project: EmulatedProject, clock: Clock
) -> None:
    created, started = signed_in(project, clock, session_custom_claims={"plan": "pro"})
    clock.advance(60)
    by_token = session_auth(project, session_token=started["session_token"])
    by_jwt = session_auth(project, session_jwt=started["session_jwt"])
    for answer in (by_token, by_jwt):
        assert answer["session"]["session_id"] == started["session"]["session_id"]
        # Always the token, and a fresh JWT, whichever named the session.
        assert answer["session_token"] == started["session_token"]
        claims = verified_claims(project, answer["session_jwt"])
        assert claims["iat"] == int(clock.now().timestamp())
        assert claims["plan"] == "pro"
        assert answer["user"]["user_id"] == created["user_id"]
        # Accessed now; not extended without a duration.
        assert answer["session"]["last_accessed_at"] == timestamp(clock.now())
        assert answer["session"]["expires_at"] == started["session"]["expires_at"]


def test_session_authenticate_accepts_an_expired_jwt_of_a_live_session(
    project: EmulatedProject, clock: Clock
) -> None:
    _, started = signed_in(project, clock)
    clock.advance(30 * 60)  # the JWT lived 5 minutes; the session lives 60
    answer = session_auth(project, session_jwt=started["session_jwt"])
    assert verified_claims(project, answer["session_jwt"])["exp"] > clock.now().timestamp()


def test_session_duration_extends_from_now_and_claims_change(
    project: EmulatedProject, clock: Clock
) -> None:
    _, started = signed_in(project, clock, session_custom_claims={"plan": "pro", "team": "a"})
    clock.advance(600)
    answer = session_auth(
        project,
        session_token=started["session_token"],
        session_duration_minutes=30,
        session_custom_claims={"team": None, "seat": 2, "iss": "ignored"},
    )
    assert answer["session"]["expires_at"] == timestamp(clock.now() + timedelta(minutes=30))
    assert answer["session"]["custom_claims"] == {"plan": "pro", "seat": 2}
    assert verified_claims(project, answer["session_jwt"])["seat"] == 2
    # Kept for the next call.
    again = session_auth(project, session_token=started["session_token"])
    assert again["session"]["custom_claims"] == {"plan": "pro", "seat": 2}


def test_session_authenticate_refuses_expired_unknown_and_malformed_sessions(
    project: EmulatedProject, clock: Clock
) -> None:
    _, started = signed_in(project, clock, session_duration_minutes=5)
    refused(lambda: session_auth(project, session_token="no-such-token"), "session_not_found")
    refused(lambda: session_auth(project, session_jwt="not.a.jwt"), "unable_to_parse_session_jwt")
    clock.advance(5 * 60)
    refused(
        lambda: session_auth(project, session_token=started["session_token"]),
        "session_not_found",
    )
    refused(lambda: session_auth(project, session_jwt=started["session_jwt"]), "session_not_found")


@pytest.mark.parametrize("named_by", ["session_id", "session_token", "session_jwt"])
def test_a_revoked_session_is_gone_however_it_is_named(
    project: EmulatedProject, clock: Clock, named_by: str
) -> None:
    created, started = signed_in(project, clock)
    name = started["session"]["session_id"] if named_by == "session_id" else started[named_by]
    assert project.revoke_session(SessionRevokeParams(**{named_by: name})) == {
        "status_code": 200,
        "request_id": ANY_REQUEST_ID,
    }
    refused(
        lambda: session_auth(project, session_token=started["session_token"]), "session_not_found"
    )
    refused(lambda: session_auth(project, session_jwt=started["session_jwt"]), "session_not_found")
    refused(
        lambda: project.revoke_session(SessionRevokeParams(**{named_by: name})),
        "session_not_found",
    )
    assert project.list_sessions(created["user_id"])["sessions"] == []


def test_list_sessions_shows_the_live_ones(project: EmulatedProject, clock: Clock) -> None:
    created, short = signed_in(project, clock, session_duration_minutes=5)
    clock.advance(30)
    long = auth(project, created["user_id"], code(created, clock), session_duration_minutes=60)
    listed = project.list_sessions(created["user_id"])["sessions"]
    assert [s["session_id"] for s in listed] == [
        short["session"]["session_id"],
        long["session"]["session_id"],
    ]
    assert listed[1] == long["session"]
    clock.advance(5 * 60)
    listed = project.list_sessions(created["user_id"])["sessions"]
    assert [s["session_id"] for s in listed] == [long["session"]["session_id"]]


def test_jwks_serves_the_key_of_this_project_only(project: EmulatedProject) -> None:
    (key,) = project.jwks(project.record.project_id)["keys"]
    assert {"kty", "use", "key_ops", "alg", "kid", "x5c", "x5tS256", "n", "e"} <= set(key)
    assert (key["kty"], key["alg"], key["kid"]) == ("RSA", "RS256", project.key.kid)
    refused(lambda: project.jwks("project-test-someone-else"), "project_not_found")


# --------------------------------------------------------------------------------------------
# Credentials and persistence
# --------------------------------------------------------------------------------------------


def test_credentials_must_match_exactly(project: EmulatedProject) -> None:
    record = project.record
    assert project.credentials_match(record.project_id, record.secret)
    assert not project.credentials_match(record.project_id, record.secret + "x")
    assert not project.credentials_match(record.project_id + "x", record.secret)
    assert not project.credentials_match("", "")


def test_reprs_hold_no_secret(project: EmulatedProject, store: Store, clock: Clock) -> None:
    created = enroll(project)
    session = auth(project, created["user_id"], code(created, clock), session_duration_minutes=5)
    # The bodies are JSON on its way out; the objects that live on must not show secrets.
    texts = [repr(project), repr(project.record), repr(store), repr(project.key)]
    texts += [repr(totp) for totp in store.totps_of(created["user_id"])]
    texts.append(repr(store.get_session(session["session"]["session_id"])))
    for secret in (
        project.record.secret,
        created["secret"],
        *created["recovery_codes"],
        session["session_token"],
    ):
        assert all(secret not in text for text in texts)


def test_a_project_reopened_from_its_store_keeps_everything(
    project: EmulatedProject, store: Store, clock: Clock
) -> None:
    created = enroll(project)
    first = auth(project, created["user_id"], code(created, clock), session_duration_minutes=60)
    reopened = EmulatedProject.open(store, clock)
    assert reopened.record == project.record
    assert reopened.key.kid == project.key.kid
    # The reopened project knows the user, the spent code, and the session.
    refused(
        lambda: auth(reopened, created["user_id"], code(created, clock)),
        "totp_code_already_authenticated",
    )
    clock.advance(30)
    again = auth(
        reopened, created["user_id"], code(created, clock), session_token=first["session_token"]
    )
    assert again["session"]["session_id"] == first["session"]["session_id"]
    with pytest.raises(ValueError, match="holds project"):
        EmulatedProject.open(store, clock, project_id="project-test-other")
    with pytest.raises(ValueError, match="another secret"):
        EmulatedProject.open(store, clock, secret="secret-test-other")
    renamed = EmulatedProject.open(store, clock, project_name="Acme")
    assert renamed.record.project_name == "Acme"
    assert EmulatedProject.open(store, clock).record.project_name == "Acme"


def test_given_credentials_are_used(store: Store, clock: Clock) -> None:
    project = EmulatedProject.open(
        store, clock, project_id="project-test-mine", secret="secret-test-mine", new_key=shared_key
    )
    assert (project.record.project_id, project.record.secret) == (
        "project-test-mine",
        "secret-test-mine",
    )
    with pytest.raises(ValueError, match="project_name"):
        EmulatedProject.open(store, clock, project_name="Acme: staging")


@pytest.mark.parametrize(
    ("credentials", "field"),
    [
        ({"project_id": ""}, "project_id"),
        ({"secret": ""}, "secret"),
        ({"project_id": "project-test:mine"}, "project_id"),  # Basic auth splits at the first ':'
        ({"project_id": 42}, "project_id"),
        ({"secret": b"secret-test-mine"}, "secret"),
    ],
)
def test_given_credentials_must_be_usable(
    store: Store, clock: Clock, credentials: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        EmulatedProject.open(store, clock, new_key=shared_key, **credentials)
    assert caught.value.field == field
    assert store.load_project() is None
