"""Params: validated before anything is sent, serialized omit-empty, secrets kept out of sight."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from stytch_totp import (
    AuthenticateParams,
    CreateParams,
    InvalidParamsError,
    RecoverParams,
    RecoveryCodesParams,
    _jsoncodec,
)
from stytch_totp._core.protocol import encode_request

TOTP_CODE = "576831"
RECOVERY_CODE = "ckss-2skx-ebow"
SESSION_TOKEN = "mZAYn5aLEqKUlZ_Ad9U_fWr38GaAQ1oFAhT8ds245v7Q"
SESSION_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl"


def sent(params: Any) -> dict[str, Any]:
    body: dict[str, Any] = _jsoncodec.loads(encode_request(params))
    return body


# --------------------------------------------------------------------------------------------
# Serialization
# --------------------------------------------------------------------------------------------


def test_create_sends_only_the_user_id_by_default() -> None:
    assert encode_request(CreateParams(user_id="user-1")) == b'{"user_id":"user-1"}'


def test_create_with_expiration() -> None:
    assert encode_request(CreateParams("user-1", expiration_minutes=60)) == (
        b'{"user_id":"user-1","expiration_minutes":60}'
    )


def test_recovery_codes_sends_the_user_id() -> None:
    assert sent(RecoveryCodesParams("user-1")) == {"user_id": "user-1"}


def test_authenticate_minimal_body_has_no_nulls() -> None:
    body = encode_request(AuthenticateParams("user-1", TOTP_CODE))
    assert body == b'{"user_id":"user-1","totp_code":"576831"}'
    assert b"null" not in body


def test_recover_minimal_body() -> None:
    assert sent(RecoverParams("user-1", RECOVERY_CODE)) == {
        "user_id": "user-1",
        "recovery_code": RECOVERY_CODE,
    }


@pytest.mark.parametrize("params_type", [AuthenticateParams, RecoverParams])
def test_every_optional_field_is_sent_when_set(params_type: type[Any]) -> None:
    secret_field = "totp_code" if params_type is AuthenticateParams else "recovery_code"
    secret_value = TOTP_CODE if params_type is AuthenticateParams else RECOVERY_CODE
    params = params_type(
        user_id="user-1",
        session_token=SESSION_TOKEN,
        session_duration_minutes=60,
        session_jwt=SESSION_JWT,
        session_custom_claims={"plan": "pro", "seats": 3},
        telemetry_id="telemetry-1",
        **{secret_field: secret_value},
    )
    assert sent(params) == {
        "user_id": "user-1",
        secret_field: secret_value,
        "session_token": SESSION_TOKEN,
        "session_duration_minutes": 60,
        "session_jwt": SESSION_JWT,
        "session_custom_claims": {"plan": "pro", "seats": 3},
        "telemetry_id": "telemetry-1",
    }


def test_a_claim_set_to_none_is_sent_as_null() -> None:
    # `null` is how a claim is deleted; it must survive the omit-empty rule.
    params = AuthenticateParams(
        "user-1", TOTP_CODE, session_duration_minutes=60, session_custom_claims={"old": None}
    )
    body = encode_request(params)
    assert b'"session_custom_claims":{"old":null}' in body
    assert sent(params)["session_custom_claims"] == {"old": None}


def test_nested_claims_are_sent_as_given() -> None:
    claims = {"org": {"id": "org-1", "roles": ["a", "b"], "owner": None}, "n": 1.5}
    params = RecoverParams(
        "user-1", RECOVERY_CODE, session_duration_minutes=5, session_custom_claims=claims
    )
    assert sent(params)["session_custom_claims"] == claims


def test_text_is_sent_as_utf8() -> None:
    body = encode_request(CreateParams("utilisatrice-é-🙂"))
    assert body == '{"user_id":"utilisatrice-é-🙂"}'.encode()


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

Build = Callable[[], object]

INVALID: list[tuple[str, Build]] = [
    # user_id, on every operation
    ("user_id", lambda: CreateParams("")),
    ("user_id", lambda: CreateParams("   ")),
    ("user_id", lambda: CreateParams(None)),  # type: ignore[arg-type]
    ("user_id", lambda: CreateParams(42)),  # type: ignore[arg-type]
    ("user_id", lambda: RecoveryCodesParams("")),
    ("user_id", lambda: RecoveryCodesParams(b"user-1")),  # type: ignore[arg-type]
    ("user_id", lambda: AuthenticateParams("", TOTP_CODE)),
    ("user_id", lambda: RecoverParams("\t\n", RECOVERY_CODE)),
    # totp_code: exactly six ASCII digits
    ("totp_code", lambda: AuthenticateParams("u", "12345")),
    ("totp_code", lambda: AuthenticateParams("u", "1234567")),
    ("totp_code", lambda: AuthenticateParams("u", "")),
    ("totp_code", lambda: AuthenticateParams("u", "١٢٣٤٥٦")),  # Arabic-Indic digits
    ("totp_code", lambda: AuthenticateParams("u", "１２３４５６")),  # fullwidth digits  # noqa: RUF001
    ("totp_code", lambda: AuthenticateParams("u", "123 456")),
    ("totp_code", lambda: AuthenticateParams("u", " 123456")),
    ("totp_code", lambda: AuthenticateParams("u", "123456 ")),
    ("totp_code", lambda: AuthenticateParams("u", "123456\n")),
    ("totp_code", lambda: AuthenticateParams("u", "12345a")),
    ("totp_code", lambda: AuthenticateParams("u", "-12345")),
    ("totp_code", lambda: AuthenticateParams("u", 123456)),  # type: ignore[arg-type]
    ("totp_code", lambda: AuthenticateParams("u", None)),  # type: ignore[arg-type]
    # recovery_code
    ("recovery_code", lambda: RecoverParams("u", "")),
    ("recovery_code", lambda: RecoverParams("u", "   ")),
    ("recovery_code", lambda: RecoverParams("u", None)),  # type: ignore[arg-type]
    ("recovery_code", lambda: RecoverParams("u", ["ckss-2skx-ebow"])),  # type: ignore[arg-type]
    # expiration_minutes: an int in 5..1440
    ("expiration_minutes", lambda: CreateParams("u", expiration_minutes=4)),
    ("expiration_minutes", lambda: CreateParams("u", expiration_minutes=1441)),
    ("expiration_minutes", lambda: CreateParams("u", expiration_minutes=0)),
    ("expiration_minutes", lambda: CreateParams("u", expiration_minutes=-60)),
    ("expiration_minutes", lambda: CreateParams("u", expiration_minutes=True)),
    ("expiration_minutes", lambda: CreateParams("u", expiration_minutes=60.0)),  # type: ignore[arg-type]
    ("expiration_minutes", lambda: CreateParams("u", expiration_minutes="60")),  # type: ignore[arg-type]
    # session_duration_minutes: an int in 5..527040
    ("session_duration_minutes", lambda: AuthenticateParams("u", TOTP_CODE, None, 4)),
    ("session_duration_minutes", lambda: AuthenticateParams("u", TOTP_CODE, None, 527041)),
    ("session_duration_minutes", lambda: AuthenticateParams("u", TOTP_CODE, None, False)),
    ("session_duration_minutes", lambda: RecoverParams("u", "c", None, 30.5)),  # type: ignore[arg-type]
    ("session_duration_minutes", lambda: RecoverParams("u", "c", None, "30")),  # type: ignore[arg-type]
    # optional strings: a str with content, when given
    ("session_token", lambda: AuthenticateParams("u", TOTP_CODE, session_token="")),
    ("session_token", lambda: RecoverParams("u", "c", session_token=b"t")),  # type: ignore[arg-type]
    ("session_jwt", lambda: AuthenticateParams("u", TOTP_CODE, session_jwt=" ")),
    ("session_jwt", lambda: RecoverParams("u", "c", session_jwt=1)),  # type: ignore[arg-type]
    ("telemetry_id", lambda: AuthenticateParams("u", TOTP_CODE, telemetry_id="")),
    ("telemetry_id", lambda: RecoverParams("u", "c", telemetry_id=7)),  # type: ignore[arg-type]
    # session_custom_claims: a JSON object of at most 4 KB
    ("session_custom_claims", lambda: claims(["a", "b"])),
    ("session_custom_claims", lambda: claims("plan=pro")),
    ("session_custom_claims", lambda: claims({1: "one"})),
    ("session_custom_claims", lambda: claims({"nested": {2: "two"}})),
    ("session_custom_claims", lambda: claims({"tags": {"a", "b"}})),
    ("session_custom_claims", lambda: claims({"obj": object()})),
    ("session_custom_claims", lambda: claims({"lock": threading.Lock()})),
    ("session_custom_claims", lambda: claims({"big": 2**64})),
    ("session_custom_claims", lambda: claims({"nan": math.nan})),
    ("session_custom_claims", lambda: claims({"deep": [{"inf": math.inf}]})),
    ("session_custom_claims", lambda: claims({"neg": -math.inf})),
    ("session_custom_claims", lambda: claims({"blob": "x" * 4096})),
]


def claims(value: object) -> AuthenticateParams:
    return AuthenticateParams(
        "u",
        TOTP_CODE,
        session_duration_minutes=60,
        session_custom_claims=value,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(("field", "build"), INVALID)
def test_invalid_params_raise_naming_the_field(field: str, build: Build) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        build()
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.field == field
    assert str(error).startswith(f"{field}: ")
    assert error.problem in str(error)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("totp_code", "98765"),
        ("totp_code", "9876543"),
        ("totp_code", "٩٨٧٦٥٤"),
        ("totp_code", "98 76 54"),
        ("totp_code", b"987654"),
        ("recovery_code", b"zq9x-7kfp-ab12"),
        ("recovery_code", ["zq9x-7kfp-ab12"]),
        ("session_token", b"mZAYn5aLEqKUlZ_Ad9U_fWr38G"),
        ("session_jwt", b"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
    ],
)
def test_a_bad_secret_is_never_repeated(field: str, value: object) -> None:
    kwargs: dict[str, Any] = {"user_id": "u", "totp_code": TOTP_CODE, field: value}
    params_type: type[Any] = AuthenticateParams
    if field == "recovery_code":
        del kwargs["totp_code"]
        params_type = RecoverParams
    with pytest.raises(InvalidParamsError) as caught:
        params_type(**kwargs)
    if isinstance(value, bytes):
        needle = value.decode()
    elif isinstance(value, list):
        needle = value[0]
    else:
        needle = str(value)
    for rendering in (str(caught.value), repr(caught.value), repr(caught.value.args)):
        assert needle not in rendering


@pytest.mark.parametrize(
    "build",
    [
        lambda: CreateParams("u", expiration_minutes=5),
        lambda: CreateParams("u", expiration_minutes=1440),
        lambda: AuthenticateParams("u", "000000", session_duration_minutes=5),
        lambda: AuthenticateParams("u", "999999", session_duration_minutes=527040),
        lambda: RecoverParams("u", "c", session_duration_minutes=5),
        lambda: RecoverParams("u", "c", session_duration_minutes=527040),
        lambda: claims({}),
        lambda: claims({"gone": None, "n": 0, "f": -1.5, "t": True, "l": [], "o": {}}),
    ],
)
def test_boundaries_and_edge_values_are_accepted(build: Build) -> None:
    body = _jsoncodec.loads(encode_request(build()))
    assert isinstance(body, dict)


def test_claims_of_exactly_4_kb_are_accepted_one_byte_more_is_not() -> None:
    overhead = len(_jsoncodec.dumps({"blob": ""}))
    exactly = {"blob": "x" * (4096 - overhead)}
    assert len(_jsoncodec.dumps(exactly)) == 4096
    assert claims(exactly).session_custom_claims == exactly

    with pytest.raises(InvalidParamsError, match="at most 4096 bytes"):
        claims({"blob": "x" * (4097 - overhead)})


def test_the_4_kb_limit_counts_utf8_bytes_not_characters() -> None:
    # 2045 characters, 4098 bytes of JSON.
    with pytest.raises(InvalidParamsError, match="got 4098"):
        claims({"t": "é" * 2045})


def test_type_messages_name_the_type() -> None:
    with pytest.raises(InvalidParamsError, match="must be a str, not int"):
        CreateParams(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidParamsError, match="must be an int, not bool"):
        CreateParams("u", expiration_minutes=True)
    with pytest.raises(InvalidParamsError, match="between 5 and 1440, got 1441"):
        CreateParams("u", expiration_minutes=1441)
    with pytest.raises(InvalidParamsError, match="must be a mapping, not list"):
        claims([])


# --------------------------------------------------------------------------------------------
# Secrets and immutability
# --------------------------------------------------------------------------------------------


def test_authenticate_params_repr_hides_secrets() -> None:
    params = AuthenticateParams(
        "user-1",
        TOTP_CODE,
        session_token=SESSION_TOKEN,
        session_jwt=SESSION_JWT,
        telemetry_id="telemetry-1",
    )
    for text in (repr(params), str(params)):
        assert TOTP_CODE not in text
        assert SESSION_TOKEN not in text
        assert SESSION_JWT not in text
        assert "user-1" in text
        assert "telemetry-1" in text


def test_recover_params_repr_hides_secrets() -> None:
    params = RecoverParams(
        "user-1", RECOVERY_CODE, session_token=SESSION_TOKEN, session_jwt=SESSION_JWT
    )
    for text in (repr(params), str(params)):
        assert RECOVERY_CODE not in text
        assert SESSION_TOKEN not in text
        assert SESSION_JWT not in text
        assert "user-1" in text


@pytest.mark.parametrize(
    "params",
    [
        CreateParams("u"),
        RecoveryCodesParams("u"),
        AuthenticateParams("u", TOTP_CODE),
        RecoverParams("u", RECOVERY_CODE),
    ],
)
def test_params_are_immutable(params: Any) -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        params.user_id = "someone-else"
    assert params.user_id == "u"


def test_params_validate_again_on_evolve() -> None:
    params = CreateParams("u", expiration_minutes=60)
    with pytest.raises(InvalidParamsError):
        attrs.evolve(params, expiration_minutes=2000)


def test_mutating_the_callers_claims_later_changes_nothing() -> None:
    caller_claims: dict[str, Any] = {"plan": "pro", "org": {"roles": ["member"]}}
    params = claims(caller_claims)
    body_before = encode_request(params)

    caller_claims["plan"] = "free"
    caller_claims["added"] = "x" * 5000
    caller_claims["org"]["roles"].append("admin")
    caller_claims["org"]["owner"] = True

    assert params.session_custom_claims == {"plan": "pro", "org": {"roles": ["member"]}}
    assert encode_request(params) == body_before
