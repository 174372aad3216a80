"""The contract suite: what the emulator answers is what Stytch answers, checked on both.

Every check runs against the emulator in the default run, and also against a real Stytch test
project when asked (``contract.py`` says how; without the opt-in the Stytch variant is not
collected, and with it, missing credentials fail the run rather than skip it). A check
that fails only against Stytch is a place where the emulator's guess was wrong: the message says
which choice to make (``pending_totp="replace"``, an error's status...).

Three kinds of checks:

* shapes: each body against Stytch's published example (``shapes.py``): keys, nesting, formats;
* the SDK's models: they parse each TOTP body, and lose nothing: a key the body has and the
  models lack fails, as does a field the models have and the body never sends (unless it is
  one Stytch sends only in cases no check can make, listed in ``ABSENT_BY_DESIGN``);
* behaviour: the rules the emulator implements, where Stytch's are observable in a few calls.
"""

from __future__ import annotations

import re
import types
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final, Union, get_args, get_origin, get_type_hints

import attrs
import jwt
import pytest

from stytch_totp import (
    AuthenticateResponse,
    AuthenticationFactor,
    CreateResponse,
    RecoverResponse,
    RecoveryCodesResponse,
    Session,
    User,
)
from stytch_totp._core.converter import converter
from stytch_totp.testing import Emulator

from .contract import (
    Target,
    code_now,
    contract_requested,
    stytch_credentials,
    target_for_emulator,
    target_for_stytch,
)
from .helpers import decode_qr, example
from .shapes import shape_differences

#: Fields of the SDK's models that a target leaves out on purpose, and why.
ABSENT_BY_DESIGN: Final = {
    (AuthenticateResponse, "user_device"): "sent only for a telemetry_id Stytch fingerprinted",
    (RecoverResponse, "user_device"): "sent only for a telemetry_id Stytch fingerprinted",
}


#: The targets every check runs on: Stytch only when asked for.
TARGETS: Final = ["emulator", *(["stytch"] if contract_requested() else [])]


@pytest.fixture(params=TARGETS)
async def target(request: pytest.FixtureRequest) -> AsyncIterator[Target]:
    """The emulator (on real time, as Stytch), then Stytch if asked."""
    if request.param == "stytch":
        credentials = stytch_credentials()
        if isinstance(credentials, str):
            pytest.fail(credentials)
        async with target_for_stytch(*credentials) as stytch:
            yield stytch
        return
    async with (
        Emulator() as emulator,
        target_for_emulator(emulator.url, emulator.project_id, emulator.secret) as emulated,
    ):
        emulated.emulator = emulator
        yield emulated


@pytest.fixture
async def emulator_target() -> AsyncIterator[Target]:
    """The emulator alone, for the checks Stytch cannot be made to answer."""
    async with (
        Emulator() as emulator,
        target_for_emulator(emulator.url, emulator.project_id, emulator.secret) as emulated,
    ):
        emulated.emulator = emulator
        yield emulated


def assert_shape(body: Mapping[str, Any], published: str, target: Target) -> None:
    problems = shape_differences(body, example(published))
    assert not problems, f"{target.name} vs Stytch's {published}:\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------
# The SDK's models against the bodies
# --------------------------------------------------------------------------------------------


def model_gaps(body: Mapping[str, Any], model: type, path: str = "$") -> list[str]:
    """Keys of ``body`` that ``model`` lacks, and fields of ``model`` that ``body`` lacks."""
    hints = get_type_hints(model)
    fields = {field.name: field for field in attrs.fields(model)}
    gaps = [
        f"{path}.{key}: not a field of the SDK's {model.__name__}"
        for key in body
        if key not in fields
    ]
    for name, field in fields.items():
        if name in body:
            gaps += _value_gaps(body[name], hints[name], f"{path}.{name}")
        elif not (
            (model, name) in ABSENT_BY_DESIGN
            # A factor carries the object of its own kind, never the forty others.
            or (model is AuthenticationFactor and name.endswith("_factor"))
        ):
            gaps.append(f"{path}.{name}: a field of the SDK's {model.__name__} never sent")
            assert field.default is not attrs.NOTHING, "structuring would have failed"
    return gaps


def _value_gaps(value: Any, annotation: Any, path: str) -> list[str]:
    if get_origin(annotation) in (Union, types.UnionType):
        if value is None:
            return []
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    origin = get_origin(annotation)
    if attrs.has(annotation) and isinstance(value, dict):
        return model_gaps(value, annotation, path)
    if origin is tuple and isinstance(value, list):
        element = get_args(annotation)[0]
        return [
            gap
            for i, item in enumerate(value)
            for gap in _value_gaps(item, element, f"{path}[{i}]")
        ]
    return []


def assert_models_parse(body: Mapping[str, Any], model: type, target: Target) -> None:
    converter.structure(dict(body), model)  # raises on a missing or mistyped field
    gaps = model_gaps(body, model)
    assert not gaps, f"{target.name}'s body and the SDK's {model.__name__}:\n" + "\n".join(gaps)


# --------------------------------------------------------------------------------------------
# Enrollment: users and TOTPs
# --------------------------------------------------------------------------------------------


async def test_users_have_stytchs_shapes(target: Target) -> None:
    name = {"first_name": "Jane", "last_name": "Doe"}
    created = await target.new_user(name=name, phone_number="+12025550162")
    assert_shape(created, "create_user", target)
    # Parts of a name not given are empty strings, not null.
    assert created["user"]["name"] == {"first_name": "Jane", "middle_name": "", "last_name": "Doe"}
    fetched = await target.ok("GET", f"v1/users/{created['user_id']}")
    assert_shape(fetched, "get_user", target)
    assert_models_parse(created["user"], User, target)


async def test_create_has_stytchs_shape_and_a_qr_code_an_app_reads(target: Target) -> None:
    user = await target.new_user()
    email = user["user"]["emails"][0]["email"]
    created = await target.ok("POST", "v1/totps", {"user_id": user["user_id"]})
    assert_shape(created, "create", target)
    assert_models_parse(created, CreateResponse, target)
    uri = decode_qr(created["qr_code"])
    assert uri.startswith("otpauth://totp/")
    label, _, query = uri.removeprefix("otpauth://totp/").partition("?")
    parameters = dict(item.split("=", 1) for item in query.split("&"))
    assert parameters["secret"] == created["secret"]
    assert (parameters.get("digits", "6"), parameters.get("period", "30")) == ("6", "30")
    assert parameters.get("algorithm", "SHA1") == "SHA1"
    # The label is issuer:account, the account the user's email.
    issuer, _, account = label.partition(":")
    assert (issuer, account.replace("%40", "@")) == (parameters["issuer"], email)


async def test_authenticate_and_recover_have_stytchs_shapes(target: Target) -> None:
    created, with_session = await target.enrolled(session_duration_minutes=60)
    assert with_session is not None
    assert_shape(with_session, "authenticate_with_session", target)
    assert_models_parse(with_session, AuthenticateResponse, target)
    user_id = created["user_id"]

    codes = await target.ok("POST", "v1/totps/recovery_codes", {"user_id": user_id})
    assert_shape(codes, "recovery_codes", target)
    assert_models_parse(codes, RecoveryCodesResponse, target)

    recovered = await target.ok(
        "POST",
        "v1/totps/recover",
        {"user_id": user_id, "recovery_code": created["recovery_codes"][0]},
    )
    assert_shape(recovered, "recover_no_session", target)
    assert_models_parse(recovered, RecoverResponse, target)

    _, plain = await target.enrolled()
    assert plain is not None
    assert_shape(plain, "authenticate_no_session", target)
    assert_models_parse(plain, AuthenticateResponse, target)
    assert (plain["session"], plain["session_token"], plain["session_jwt"]) == (None, "", "")


async def test_deleting_has_stytchs_shapes(target: Target) -> None:
    created, _ = await target.enrolled()
    deleted = await target.ok("DELETE", f"v1/users/totps/{created['totp_id']}")
    assert_shape(deleted, "delete_totp", target)
    assert deleted["user"]["totps"] == []
    gone = await target.ok("DELETE", f"v1/users/{created['user_id']}")
    assert_shape(gone, "delete_user", target)
    status, body = await target.call("GET", f"v1/users/{created['user_id']}")
    assert (status, body["error_type"]) == (404, "user_not_found")


# --------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------


async def test_sessions_have_stytchs_shapes_and_rules(target: Target) -> None:
    created, started = await target.enrolled(
        session_duration_minutes=60, session_custom_claims={"plan": "pro"}
    )
    assert started is not None
    token, session_id = started["session_token"], started["session"]["session_id"]

    by_token = await target.ok("POST", "v1/sessions/authenticate", {"session_token": token})
    assert_shape(by_token, "session_authenticate", target)
    assert_models_parse(by_token["session"], Session, target)
    assert by_token["session"]["session_id"] == session_id
    assert by_token["session_token"] == token
    assert by_token["session"]["custom_claims"] == {"plan": "pro"}
    claims = jwt.decode(by_token["session_jwt"], options={"verify_signature": False})
    assert claims["https://stytch.com/session"]["id"] == session_id

    extended = await target.ok(
        "POST",
        "v1/sessions/authenticate",
        {
            "session_jwt": started["session_jwt"],
            "session_duration_minutes": 120,
            "session_custom_claims": {"plan": None, "seat": 2},
        },
    )
    assert extended["session_token"] == token
    assert extended["session"]["expires_at"] > started["session"]["expires_at"]
    assert extended["session"]["custom_claims"] == {"seat": 2}

    listed = await target.ok("GET", "v1/sessions", query={"user_id": created["user_id"]})
    assert_shape(listed, "sessions_get", target)
    assert [s["session_id"] for s in listed["sessions"]] == [session_id]

    revoked = await target.ok("POST", "v1/sessions/revoke", {"session_id": session_id})
    assert_shape(revoked, "session_revoke", target)
    status, body = await target.call("POST", "v1/sessions/authenticate", {"session_token": token})
    assert (status, body["error_type"]) == (404, "session_not_found")
    listed = await target.ok("GET", "v1/sessions", query={"user_id": created["user_id"]})
    assert listed["sessions"] == []


async def test_a_session_is_named_once(target: Target) -> None:
    _, started = await target.enrolled(session_duration_minutes=60)
    assert started is not None
    both = {"session_token": started["session_token"], "session_jwt": started["session_jwt"]}
    status, body = await target.call("POST", "v1/sessions/authenticate", both)
    assert (status, body["error_type"]) == (400, "too_many_session_arguments"), body


# --------------------------------------------------------------------------------------------
# Errors and rules
# --------------------------------------------------------------------------------------------


async def test_errors_have_stytchs_envelope_and_links(target: Target) -> None:
    created, _ = await target.enrolled()
    status, body = await target.call("POST", "v1/totps", {"user_id": created["user_id"]})
    assert status == 400
    assert_shape(body, "error_400_active_totp_exists", target)
    expected = example("error_400_active_totp_exists")
    assert {k: body[k] for k in ("error_type", "error_message", "error_url")} == {
        k: expected[k] for k in ("error_type", "error_message", "error_url")
    }

    status, body = await target.call(
        "POST", "v1/totps", {"user_id": "x"}, secret="secret-test-wrong"
    )
    assert status == 401
    expected = example("error_401_unauthorized_credentials")
    assert_shape(body, "error_401_unauthorized_credentials", target)
    assert {k: body[k] for k in ("error_type", "error_message", "error_url")} == {
        k: expected[k] for k in ("error_type", "error_message", "error_url")
    }

    unknown = "user-test-00000000-0000-4000-8000-000000000000"
    status, body = await target.call("POST", "v1/totps", {"user_id": unknown})
    assert (status, body["error_type"]) == (404, "user_not_found")
    assert body["error_url"] == "https://stytch.com/docs/api/errors/404#user_not_found"


@pytest.mark.parametrize(
    "published", ["error_429_too_many_requests", "error_500_internal_server_error"]
)
async def test_errors_no_request_can_cause_have_stytchs_envelope(
    emulator_target: Target, published: str
) -> None:
    # Emulator only: Stytch answers these only when it is overloaded or failing.
    target = emulator_target
    expected = example(published)
    assert target.emulator is not None
    target.emulator.inject("/v1/totps", status=expected["status_code"])
    status, body = await target.call("POST", "v1/totps", {"user_id": "user-test-x"})
    assert status == expected["status_code"]
    assert_shape(body, published, target)
    assert {k: body[k] for k in ("error_type", "error_message", "error_url")} == {
        k: expected[k] for k in ("error_type", "error_message", "error_url")
    }


async def test_a_second_create_while_the_first_is_pending_is_refused(target: Target) -> None:
    created, _ = await target.enrolled(verify=False)
    status, body = await target.call("POST", "v1/totps", {"user_id": created["user_id"]})
    assert (status, body.get("error_type")) == (400, "pending_totp_exists"), (
        f"{target.name} answered {status} {body.get('error_type')}: if it replaced the pending "
        "TOTP, run the emulator with pending_totp='replace' (--pending-totp replace)"
    )
    # The pending TOTP still works.
    answer = await target.ok(
        "POST",
        "v1/totps/authenticate",
        {"user_id": created["user_id"], "totp_code": code_now(created["secret"])},
    )
    assert answer["totp_id"] == created["totp_id"]


async def test_codes_are_single_use_and_wrong_ones_refused(target: Target) -> None:
    created, _ = await target.enrolled(verify=False)
    user_id, secret = created["user_id"], created["secret"]
    code = {"user_id": user_id, "totp_code": code_now(secret)}
    await target.ok("POST", "v1/totps/authenticate", code)
    status, body = await target.call("POST", "v1/totps/authenticate", code)
    assert (status, body["error_type"]) == (401, "totp_code_already_authenticated"), body
    wrong = f"{(int(code_now(secret)) + 500_000) % 1_000_000:06d}"
    status, body = await target.call(
        "POST", "v1/totps/authenticate", {"user_id": user_id, "totp_code": wrong}
    )
    assert (status, body["error_type"]) == (401, "unable_to_authenticate_totp"), body

    recovery = {"user_id": user_id, "recovery_code": created["recovery_codes"][0]}
    await target.ok("POST", "v1/totps/recover", recovery)
    status, body = await target.call("POST", "v1/totps/recover", recovery)
    assert (status, body["error_type"]) == (401, "unable_to_authenticate_recovery_code"), body
    listed = await target.ok("POST", "v1/totps/recovery_codes", {"user_id": user_id})
    assert listed["totps"][0]["recovery_codes"] == created["recovery_codes"][1:]


async def test_ten_failures_lock_the_user(target: Target) -> None:
    created, _ = await target.enrolled()
    user_id, secret = created["user_id"], created["secret"]
    answers = []
    for _ in range(10):
        wrong = f"{(int(code_now(secret)) + 500_000) % 1_000_000:06d}"
        status, body = await target.call(
            "POST", "v1/totps/authenticate", {"user_id": user_id, "totp_code": wrong}
        )
        answers.append((status, body["error_type"]))
    assert answers == [(401, "unable_to_authenticate_totp")] * 9 + [
        (429, "user_lock_limit_reached")
    ], answers
    user = await target.ok("GET", f"v1/users/{user_id}")
    assert user["is_locked"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", user["lock_expires_at"])
