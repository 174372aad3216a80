"""Request bodies become params or the error type Stytch answers with, without echoing secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stytch_totp.testing import EmulatorError
from stytch_totp.testing._server.requests import (
    parse_authenticate,
    parse_body,
    parse_create_totp,
    parse_create_user,
    parse_recover,
    parse_recovery_codes,
)

USER = "user-test-1"


def error_of(call: Callable[[], object]) -> EmulatorError:
    with pytest.raises(EmulatorError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b'"text"', b"\xff"])
def test_a_body_must_be_a_json_object(raw: bytes) -> None:
    error = error_of(lambda: parse_body(raw))
    assert (error.status, error.error_type) == (400, "bad_request")


def test_an_empty_body_is_an_empty_object() -> None:
    assert parse_body(b"  ") == {}


def test_valid_bodies_become_the_sdks_params() -> None:
    params = parse_authenticate(
        {
            "user_id": USER,
            "totp_code": "123456",
            "session_duration_minutes": 60,
            "session_custom_claims": {"plan": "pro"},
            "unknown_field": "ignored",
        }
    )
    assert (params.user_id, params.totp_code, params.session_duration_minutes) == (
        USER,
        "123456",
        60,
    )
    assert parse_create_totp({"user_id": USER, "expiration_minutes": 5}).expiration_minutes == 5
    assert parse_recovery_codes({"user_id": USER}).user_id == USER
    assert parse_recover({"user_id": USER, "recovery_code": "abcd-efgh-ijkl"}).user_id == USER


@pytest.mark.parametrize(
    ("parse", "body", "error_type"),
    [
        (parse_create_totp, {}, "bad_request"),
        (parse_create_totp, {"user_id": 42}, "bad_request"),
        (parse_create_totp, {"user_id": None}, "bad_request"),
        (parse_create_totp, {"user_id": "  "}, "invalid_user_id"),
        (parse_create_totp, {"user_id": USER, "expiration_minutes": 4}, "invalid_expiration"),
        (parse_create_totp, {"user_id": USER, "expiration_minutes": 1441}, "invalid_expiration"),
        (parse_create_totp, {"user_id": USER, "expiration_minutes": "60"}, "bad_request"),
        (parse_authenticate, {"user_id": USER}, "bad_request"),
        (parse_authenticate, {"user_id": USER, "totp_code": "12345"}, "invalid_totp_code"),
        (parse_authenticate, {"user_id": USER, "totp_code": "12345a"}, "invalid_totp_code"),
        (parse_authenticate, {"user_id": USER, "totp_code": 123456}, "bad_request"),
        (
            parse_authenticate,
            {"user_id": USER, "totp_code": "ckss-2skx-ebow"},
            "recovery_code_used_as_totp_code",
        ),
        (
            parse_authenticate,
            {"user_id": USER, "totp_code": "123456", "session_duration_minutes": 4},
            "invalid_session_duration_minutes",
        ),
        (
            parse_authenticate,
            {"user_id": USER, "totp_code": "123456", "session_duration_minutes": 527041},
            "invalid_session_duration_minutes",
        ),
        (
            parse_authenticate,
            {"user_id": USER, "totp_code": "123456", "session_token": ""},
            "invalid_session_token",
        ),
        (
            parse_authenticate,
            {"user_id": USER, "totp_code": "123456", "session_jwt": " "},
            "unable_to_parse_session_jwt",
        ),
        (
            parse_authenticate,
            {"user_id": USER, "totp_code": "123456", "session_custom_claims": [1]},
            "bad_request",
        ),
        (
            parse_authenticate,
            {"user_id": USER, "totp_code": "123456", "session_custom_claims": {"a": "x" * 5000}},
            "custom_claims_too_large",
        ),
        (
            parse_authenticate,
            {
                "user_id": USER,
                "totp_code": "123456",
                "session_custom_claims": {"https://stytch.com/session": {}},
            },
            "stytch_claims_in_custom_claims",
        ),
        (parse_recover, {"user_id": USER}, "bad_request"),
        (parse_recover, {"user_id": USER, "recovery_code": ""}, "bad_request"),
        (
            parse_recover,
            {"user_id": USER, "recovery_code": "123456"},
            "totp_code_used_as_recovery_code",
        ),
        (parse_recovery_codes, {"user_id": ["a"]}, "bad_request"),
    ],
)
def test_bad_bodies_get_stytchs_error_types(
    parse: Callable[[dict[str, Any]], object], body: dict[str, Any], error_type: str
) -> None:
    error = error_of(lambda: parse(body))
    assert (error.status, error.error_type) == (400, error_type)


def test_messages_name_the_field_without_repeating_the_value() -> None:
    error = error_of(lambda: parse_create_totp({"user_id": USER, "expiration_minutes": "sixty"}))
    assert "expiration_minutes" in error.message
    assert "sixty" not in error.message
    code_error = error_of(lambda: parse_authenticate({"user_id": USER, "totp_code": "98765"}))
    assert "98765" not in code_error.message


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({}, "bad_request"),
        ({"email": "not-an-email"}, "invalid_email"),
        ({"phone_number": "2025550162"}, "invalid_phone_number"),
        ({"email": "a@b.co", "external_id": "x" * 129}, "invalid_external_id"),
        ({"email": "a@b.co", "roles": "admin"}, "bad_request"),
    ],
)
def test_create_user_bodies_are_checked(body: dict[str, Any], error_type: str) -> None:
    assert error_of(lambda: parse_create_user(body)).error_type == error_type


def test_create_user_reads_names_metadata_and_roles() -> None:
    user = parse_create_user(
        {
            "email": "ada@example.com",
            "name": {"first_name": "Ada", "last_name": "Lovelace"},
            "trusted_metadata": {"tier": 1},
            "roles": ["admin"],
            "create_user_as_pending": True,
            "attributes": {"ip_address": "ignored"},
        }
    )
    assert user.name is not None
    assert (user.name.first_name, user.name.last_name) == ("Ada", "Lovelace")
    assert (user.trusted_metadata, user.roles, user.create_user_as_pending) == (
        {"tier": 1},
        ("admin",),
        True,
    )
