"""Stytch's published example bodies become the right frozen, typed, forward-compatible models."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

import stytch_totp
from stytch_totp import (
    TOTP,
    AuthenticateResponse,
    AuthenticationFactor,
    AuthenticationFactorDeliveryMethod,
    AuthenticationFactorType,
    CreateResponse,
    RecoverResponse,
    RecoveryCodesResponse,
    Session,
    User,
)
from stytch_totp._core.converter import converter, explain_failure, make_converter
from stytch_totp._models.reprs import hide
from tests.conftest import load_example

USER_ID = "user-test-16d9ba61-97a1-4ba4-9720-b03761dc50c6"
TOTP_ID = "totp-test-41920359-8bbb-4fe8-8fa3-aaa83f35f02c"
REQUEST_ID = "request-id-test-b05c992f-ebdc-489d-a754-c7e70ba13141"
TOTP_SECRET = "BTGNX5RKJRMQWQFRQKTG34JCF6XDRHZS"
FIRST_RECOVERY_CODE = "ckss-2skx-ebow"
SESSION_TOKEN = "mZAYn5aLEqKUlZ_Ad9U_fWr38GaAQ1oFAhT8ds245v7Q"
SESSION_JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6Imp3ay10ZXN0LXNlY3JldC1wYXJ0In0.eyJzdWIiOiJ4In0.c2ln"


def authenticate_body_with_session() -> dict[str, Any]:
    body = load_example("authenticate_no_session")
    body["session"] = load_example("session_object")
    body["session_token"] = SESSION_TOKEN
    body["session_jwt"] = SESSION_JWT
    return body


def totp_factor(**overrides: Any) -> dict[str, Any]:
    factor: dict[str, Any] = {
        "type": "totp",
        "delivery_method": "authenticator_app",
        "created_at": "2025-04-22T07:41:52Z",
        "last_authenticated_at": "2025-04-22T07:41:52Z",
        "updated_at": "2025-04-22T07:41:52Z",
        "authenticator_app_factor": {"totp_id": TOTP_ID},
    }
    factor.update(overrides)
    return factor


def assert_is_the_example_user(user: User) -> None:
    assert isinstance(user, User)
    assert user.user_id == USER_ID
    assert user.status == "active"
    assert user.created_at == datetime(2021, 12, 29, 12, 33, 9, tzinfo=UTC)
    assert user.name is not None
    assert (user.name.first_name, user.name.middle_name, user.name.last_name) == ("Jane", "", "Doe")
    assert user.trusted_metadata == {"shopify_cust_id": "207119551"}
    assert user.untrusted_metadata == {"onboarding_checklist": {"complete": True}}
    (email,) = user.emails
    assert email == stytch_totp.Email(
        email_id="email-test-81bf03a8-86e1-4d95-bd44-bb3495224953",
        email="test@example.com",
        verified=True,
    )
    (phone,) = user.phone_numbers
    assert phone.phone_number == "+12025550162"
    assert phone.verified is True
    (provider,) = user.providers
    assert provider.provider_type == "Google"
    assert provider.locale == "en"
    (registration,) = user.webauthn_registrations
    assert registration.authenticator_type == "platform"
    assert registration.name == "Google Passkey"
    assert user.totps == (stytch_totp.UserTOTP(totp_id=TOTP_ID, verified=True),)
    assert user.biometric_registrations == ()
    assert user.crypto_wallets == ()
    assert user.password == stytch_totp.Password(
        password_id="password-test-5c44cc6a-8af7-48d6-8da7-ea821342f5a6", requires_reset=False
    )
    assert user.external_id is None
    assert user.is_locked is False
    assert user.lock_created_at is None
    assert user.lock_expires_at is None
    assert user.roles == ()


# --------------------------------------------------------------------------------------------
# The published examples
# --------------------------------------------------------------------------------------------


def test_create_example() -> None:
    created = converter.structure(load_example("create"), CreateResponse)
    assert created.request_id == REQUEST_ID
    assert created.status_code == 200
    assert created.totp_id == TOTP_ID
    assert created.secret == TOTP_SECRET
    assert created.qr_code.startswith("data:image/png;base64,")
    assert isinstance(created.recovery_codes, tuple)
    assert len(created.recovery_codes) == 10
    assert created.recovery_codes[0] == FIRST_RECOVERY_CODE
    assert created.user_id == USER_ID
    assert_is_the_example_user(created.user)


def test_authenticate_example_without_session() -> None:
    auth = converter.structure(load_example("authenticate_no_session"), AuthenticateResponse)
    assert auth.request_id == REQUEST_ID
    assert auth.status_code == 200
    assert auth.totp_id == TOTP_ID
    assert auth.user_id == USER_ID
    assert auth.session is None
    assert auth.session_token == ""
    assert auth.session_jwt == ""
    assert auth.user_device is None
    assert_is_the_example_user(auth.user)


def test_recover_example_without_session() -> None:
    recovered = converter.structure(load_example("recover_no_session"), RecoverResponse)
    assert recovered.request_id == REQUEST_ID
    assert recovered.totp_id == TOTP_ID
    assert recovered.user_id == USER_ID
    assert recovered.session is None
    assert (recovered.session_token, recovered.session_jwt) == ("", "")
    assert_is_the_example_user(recovered.user)


def test_recovery_codes_example() -> None:
    codes = converter.structure(load_example("recovery_codes"), RecoveryCodesResponse)
    assert codes.request_id == REQUEST_ID
    assert codes.status_code == 200
    assert codes.user_id == USER_ID
    (totp,) = codes.totps
    assert isinstance(totp, TOTP)
    assert totp.totp_id == TOTP_ID
    assert totp.verified is True
    assert isinstance(totp.recovery_codes, tuple)
    assert len(totp.recovery_codes) == 10
    assert totp.recovery_codes[0] == FIRST_RECOVERY_CODE


def test_session_example() -> None:
    session = converter.structure(load_example("session_object"), Session)
    assert session.session_id == "session-test-fe6c042b-6286-479f-8a4f-b046a6c46509"
    assert session.user_id == USER_ID
    assert session.started_at == datetime(2025, 4, 22, 7, 0, tzinfo=UTC)
    assert session.last_accessed_at == datetime(2025, 4, 22, 7, 41, 52, tzinfo=UTC)
    assert session.expires_at == datetime(2025, 4, 22, 8, 0, tzinfo=UTC)
    assert session.attributes == stytch_totp.Attributes(ip_address="", user_agent="")
    assert session.custom_claims == {"claim1": "value1", "claim2": "value2"}
    assert session.roles == ()

    magic_link, password = session.authentication_factors
    assert magic_link.type is AuthenticationFactorType.MAGIC_LINK
    assert magic_link.delivery_method is AuthenticationFactorDeliveryMethod.EMAIL
    assert magic_link.email_factor == stytch_totp.EmailFactor(
        email_id="email-test-81bf03a8-86e1-4d95-bd44-bb3495224953",
        email_address="sandbox@stytch.com",
    )
    assert magic_link.created_at == datetime(2025, 1, 9, 7, 41, 52, tzinfo=UTC)
    assert password.type is AuthenticationFactorType.PASSWORD
    assert password.delivery_method is AuthenticationFactorDeliveryMethod.KNOWLEDGE
    assert password.email_factor is None
    assert password.updated_at == datetime(2025, 1, 9, 8, 41, 52, tzinfo=UTC)


def test_session_without_roles_defaults_to_no_roles() -> None:
    body = load_example("session_object")
    del body["roles"]
    assert converter.structure(body, Session).roles == ()


def test_authenticate_with_session_and_totp_factor() -> None:
    body = authenticate_body_with_session()
    body["session"]["authentication_factors"].append(totp_factor())
    body["session"]["roles"] = ["stytch_user", "admin"]
    auth = converter.structure(body, AuthenticateResponse)

    assert auth.session_token == SESSION_TOKEN
    assert auth.session_jwt == SESSION_JWT
    assert auth.session is not None
    assert auth.session.roles == ("stytch_user", "admin")
    totp = auth.session.authentication_factors[-1]
    assert totp.type == "totp"
    assert totp.type is AuthenticationFactorType.TOTP
    assert totp.delivery_method is AuthenticationFactorDeliveryMethod.AUTHENTICATOR_APP
    assert totp.authenticator_app_factor == stytch_totp.AuthenticatorAppFactor(totp_id=TOTP_ID)
    assert totp.recovery_code_factor is None


def test_recover_with_session_and_recovery_code_factor() -> None:
    body = load_example("recover_no_session")
    body["session"] = load_example("session_object")
    body["session"]["authentication_factors"] = [
        {
            "type": "recovery_codes",
            "delivery_method": "recovery_code",
            "recovery_code_factor": {"totp_recovery_code_id": "totp-recovery-code-test-1"},
        }
    ]
    recovered = converter.structure(body, RecoverResponse)
    assert recovered.session is not None
    (factor,) = recovered.session.authentication_factors
    assert factor.type is AuthenticationFactorType.RECOVERY_CODES
    assert factor.delivery_method is AuthenticationFactorDeliveryMethod.RECOVERY_CODE
    assert factor.recovery_code_factor == stytch_totp.RecoveryCodeFactor(
        "totp-recovery-code-test-1"
    )
    assert factor.created_at is None


def test_user_device_is_parsed() -> None:
    body = load_example("authenticate_no_session")
    body["user_device"] = {
        "visitor_id": "visitor-1",
        "visitor_id_details": {
            "is_new": False,
            "first_seen_at": "2025-01-01T00:00:00Z",
            "last_seen_at": "2025-04-01T00:00:00Z",
        },
        "ip_address": "203.0.113.7",
        "ip_geo_country": "FR",
        "ip_geo_country_details": {"is_new": True},
    }
    device = converter.structure(body, AuthenticateResponse).user_device
    assert device is not None
    assert device.visitor_id == "visitor-1"
    assert device.visitor_id_details == stytch_totp.DeviceAttributeDetails(
        is_new=False,
        first_seen_at=datetime(2025, 1, 1, tzinfo=UTC),
        last_seen_at=datetime(2025, 4, 1, tzinfo=UTC),
    )
    assert device.ip_geo_country_details == stytch_totp.DeviceAttributeDetails(is_new=True)
    assert device.ip_geo_city is None


def test_locked_user_carries_lock_times() -> None:
    body = load_example("create")
    body["user"].update(
        is_locked=True,
        lock_created_at="2025-04-22T07:00:00Z",
        lock_expires_at="2025-04-22T08:00:00Z",
        external_id="my-own-id",
    )
    user = converter.structure(body, CreateResponse).user
    assert user.is_locked is True
    assert user.lock_expires_at is not None
    assert user.lock_created_at is not None
    assert user.lock_expires_at - user.lock_created_at == timedelta(hours=1)
    assert user.external_id == "my-own-id"


# --------------------------------------------------------------------------------------------
# Datetimes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-04-22T07:00:00Z", datetime(2025, 4, 22, 7, 0, tzinfo=UTC)),
        ("2025-04-22T07:00:00.123456Z", datetime(2025, 4, 22, 7, 0, 0, 123456, tzinfo=UTC)),
        ("2025-04-22T09:00:00+02:00", datetime(2025, 4, 22, 7, 0, tzinfo=UTC)),
        # No offset at all: Stytch means UTC, never the machine's local time.
        ("2025-04-22T07:00:00", datetime(2025, 4, 22, 7, 0, tzinfo=UTC)),
    ],
)
def test_datetimes_are_timezone_aware(text: str, expected: datetime) -> None:
    body = load_example("session_object")
    body["started_at"] = text
    started_at = converter.structure(body, Session).started_at
    assert started_at is not None
    assert started_at.tzinfo is not None
    assert started_at == expected


def test_an_offset_is_kept_not_discarded() -> None:
    body = load_example("session_object")
    body["started_at"] = "2025-04-22T09:00:00+02:00"
    started_at = converter.structure(body, Session).started_at
    assert started_at is not None
    assert started_at.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize("never", [None, ""])
def test_absent_datetimes_are_none(never: str | None) -> None:
    body = load_example("session_object")
    body["expires_at"] = never
    assert converter.structure(body, Session).expires_at is None


def test_datetimes_are_written_back_with_z() -> None:
    session = converter.structure(load_example("session_object"), Session)
    assert converter.unstructure(session)["started_at"] == "2025-04-22T07:00:00Z"
    other_zone = attrs.evolve(
        session, started_at=datetime(2025, 4, 22, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    )
    assert converter.unstructure(other_zone)["started_at"] == "2025-04-22T07:00:00Z"
    naive = attrs.evolve(session, started_at=datetime(2025, 4, 22, 7, 0))
    assert converter.unstructure(naive)["started_at"] == "2025-04-22T07:00:00Z"


# --------------------------------------------------------------------------------------------
# Forward compatibility
# --------------------------------------------------------------------------------------------


#: Free-form objects: every key in them is data, kept as is.
FREE_FORM_KEYS = {"trusted_metadata", "untrusted_metadata", "custom_claims"}


def with_unknown_keys_everywhere(value: Any) -> Any:
    """A copy of ``value`` where every modelled JSON object gained keys Stytch might add later."""
    if isinstance(value, dict):
        grown = {
            key: item if key in FREE_FORM_KEYS else with_unknown_keys_everywhere(item)
            for key, item in value.items()
        }
        grown["added_in_a_later_api_version"] = {"nested": [1, "two", None]}
        grown["another_new_flag"] = True
        return grown
    if isinstance(value, list):
        return [with_unknown_keys_everywhere(item) for item in value]
    return value


@pytest.mark.parametrize(
    ("example", "model"),
    [
        ("create", CreateResponse),
        ("authenticate_no_session", AuthenticateResponse),
        ("recover_no_session", RecoverResponse),
        ("recovery_codes", RecoveryCodesResponse),
        ("session_object", Session),
    ],
)
def test_unknown_keys_at_every_level_are_ignored(example: str, model: type[Any]) -> None:
    body = load_example(example)
    grown = with_unknown_keys_everywhere(body)
    assert grown != body
    assert converter.structure(grown, model) == converter.structure(body, model)


def test_unknown_keys_inside_a_session_are_ignored() -> None:
    body = authenticate_body_with_session()
    body["session"]["authentication_factors"].append(totp_factor())
    grown = with_unknown_keys_everywhere(body)
    assert converter.structure(grown, AuthenticateResponse) == converter.structure(
        body, AuthenticateResponse
    )


def test_free_form_objects_keep_every_key() -> None:
    body = authenticate_body_with_session()
    metadata = {"plan": "pro", "nested": {"list": [1, 2.5, None, True]}, "new_key": "kept"}
    body["user"]["trusted_metadata"] = metadata
    body["session"]["custom_claims"] = metadata
    auth = converter.structure(body, AuthenticateResponse)
    assert auth.user.trusted_metadata == metadata
    assert auth.session is not None
    assert auth.session.custom_claims == metadata


def test_unknown_factor_type_and_delivery_method_stay_plain_strings() -> None:
    factor = converter.structure(
        {
            "type": "passkey_v2",
            "delivery_method": "carrier_pigeon",
            "carrier_pigeon_factor": {"pigeon_id": "p-1"},
        },
        AuthenticationFactor,
    )
    assert type(factor.type) is str
    assert factor.type == "passkey_v2"
    assert type(factor.delivery_method) is str
    assert factor.delivery_method == "carrier_pigeon"
    assert factor.type not in set(AuthenticationFactorType)


@pytest.mark.parametrize("member", list(AuthenticationFactorType))
def test_every_known_factor_type_becomes_its_member(member: AuthenticationFactorType) -> None:
    factor = converter.structure(
        {"type": member.value, "delivery_method": "x"}, AuthenticationFactor
    )
    assert factor.type is member
    assert factor.type == member.value


@pytest.mark.parametrize("member", list(AuthenticationFactorDeliveryMethod))
def test_every_known_delivery_method_becomes_its_member(
    member: AuthenticationFactorDeliveryMethod,
) -> None:
    factor = converter.structure(
        {"type": "x", "delivery_method": member.value}, AuthenticationFactor
    )
    assert factor.delivery_method is member


FACTOR_TYPES = [
    "magic_link",
    "otp",
    "oauth",
    "webauthn",
    "totp",
    "crypto",
    "password",
    "signature_challenge",
    "sso",
    "imported",
    "recovery_codes",
    "email_otp",
    "impersonated",
    "trusted_auth_token",
]
DELIVERY_METHODS = [
    "email",
    "sms",
    "whatsapp",
    "embedded",
    "oauth_google",
    "oauth_microsoft",
    "oauth_apple",
    "webauthn_registration",
    "authenticator_app",
    "oauth_github",
    "recovery_code",
    "oauth_facebook",
    "crypto_wallet",
    "oauth_amazon",
    "oauth_bitbucket",
    "oauth_coinbase",
    "oauth_discord",
    "oauth_figma",
    "oauth_gitlab",
    "oauth_instagram",
    "oauth_linkedin",
    "oauth_shopify",
    "oauth_slack",
    "oauth_snapchat",
    "oauth_spotify",
    "oauth_steam",
    "oauth_tiktok",
    "oauth_twitch",
    "oauth_twitter",
    "knowledge",
    "biometric",
    "sso_saml",
    "sso_oidc",
    "oauth_salesforce",
    "oauth_yahoo",
    "oauth_hubspot",
    "imported_auth0",
    "oauth_exchange_slack",
    "oauth_exchange_hubspot",
    "oauth_exchange_github",
    "oauth_exchange_google",
    "impersonation",
    "oauth_access_token_exchange",
    "trusted_token_exchange",
]


def test_enum_values_match_the_api_reference() -> None:
    assert [member.value for member in AuthenticationFactorType] == FACTOR_TYPES
    assert [member.value for member in AuthenticationFactorDeliveryMethod] == DELIVERY_METHODS
    plain: str = "recovery_codes"
    assert plain == AuthenticationFactorType.RECOVERY_CODES
    assert hash(AuthenticationFactorType.RECOVERY_CODES) == hash(plain)


def test_every_factor_key_of_the_api_is_a_field() -> None:
    # 3 timestamps and 41 factor objects follow the two required enums (API reference §3.2).
    names = [field.name for field in attrs.fields(AuthenticationFactor)]
    assert names[:2] == ["type", "delivery_method"]
    assert len(names) == 2 + 3 + 41
    assert {"authenticator_app_factor", "recovery_code_factor", "git_lab_oauth_factor"} <= set(
        names
    )


def test_strings_come_back_as_exactly_str() -> None:
    class Label(str):
        pass

    user = converter.structure(
        {"email_id": Label("email-1"), "email": "a@example.com", "verified": True},
        stytch_totp.Email,
    )
    assert type(user.email_id) is str
    assert user.email_id == "email-1"


# --------------------------------------------------------------------------------------------
# Immutability and secrets
# --------------------------------------------------------------------------------------------


def all_example_models() -> list[Any]:
    auth = converter.structure(authenticate_body_with_session(), AuthenticateResponse)
    assert auth.session is not None
    created = converter.structure(load_example("create"), CreateResponse)
    return [
        created,
        created.user,
        created.user.emails[0],
        created.user.name,
        created.user.password,
        auth,
        auth.session,
        auth.session.authentication_factors[0],
        converter.structure(load_example("recover_no_session"), RecoverResponse),
        converter.structure(load_example("recovery_codes"), RecoveryCodesResponse),
    ]


@pytest.mark.parametrize("model", all_example_models(), ids=lambda model: type(model).__name__)
def test_models_are_frozen(model: Any) -> None:
    first_field = attrs.fields(type(model))[0].name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(model, first_field, "changed")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        delattr(model, first_field)
    with pytest.raises((AttributeError, TypeError)):
        model.not_a_field = 1


def test_collections_are_tuples() -> None:
    created = converter.structure(load_example("create"), CreateResponse)
    for value in (
        created.recovery_codes,
        created.user.emails,
        created.user.phone_numbers,
        created.user.totps,
        created.user.roles,
    ):
        assert isinstance(value, tuple)


def test_create_response_hides_its_secrets() -> None:
    created = converter.structure(load_example("create"), CreateResponse)
    for text in (repr(created), str(created)):
        assert TOTP_SECRET not in text
        assert "base64" not in text
        assert "iVBORw0KGgo" not in text
        for code in created.recovery_codes:
            assert code not in text
        # The rest is there, so a logged response is still useful, and the secrets can be
        # discovered (their names show), though nothing of their values does.
        assert TOTP_ID in text
        assert USER_ID in text
        for name in ("secret", "qr_code", "recovery_codes"):
            assert f"{name}=<hidden>" in text


@pytest.mark.parametrize("model", [AuthenticateResponse, RecoverResponse])
def test_session_tokens_are_hidden(model: type[Any]) -> None:
    response = converter.structure(authenticate_body_with_session(), model)
    assert response.session_token == SESSION_TOKEN
    for text in (repr(response), str(response)):
        assert SESSION_TOKEN not in text
        assert SESSION_JWT not in text
        assert "session-test-fe6c042b" in text
        assert "session_token=<hidden>, session_jwt=<hidden>" in text


def test_recovery_codes_are_hidden() -> None:
    codes = converter.structure(load_example("recovery_codes"), RecoveryCodesResponse)
    for shown in (codes, codes.totps[0]):
        for text in (repr(shown), str(shown)):
            for code in codes.totps[0].recovery_codes:
                assert code not in text
            assert TOTP_ID in text
            assert "recovery_codes=<hidden>" in text


SECRET_FIELDS = {
    ("CreateResponse", "secret"),
    ("CreateResponse", "qr_code"),
    ("CreateResponse", "recovery_codes"),
    ("AuthenticateResponse", "session_token"),
    ("AuthenticateResponse", "session_jwt"),
    ("RecoverResponse", "session_token"),
    ("RecoverResponse", "session_jwt"),
    ("TOTP", "recovery_codes"),
    ("AuthenticateParams", "totp_code"),
    ("AuthenticateParams", "session_token"),
    ("AuthenticateParams", "session_jwt"),
    ("RecoverParams", "recovery_code"),
    ("RecoverParams", "session_token"),
    ("RecoverParams", "session_jwt"),
}


def public_attrs_classes() -> list[type[Any]]:
    return [cls for name in stytch_totp.__all__ if attrs.has(cls := getattr(stytch_totp, name))]


def test_secret_fields_are_exactly_the_masked_ones() -> None:
    masked = {
        (cls.__name__, field.name)
        for cls in public_attrs_classes()
        for field in attrs.fields(cls)
        if field.repr is not True
    }
    assert masked == SECRET_FIELDS
    for cls_name, name in SECRET_FIELDS:
        assert attrs.fields_dict(getattr(stytch_totp, cls_name))[name].repr is hide


# --------------------------------------------------------------------------------------------
# Reprs: what says something, secrets masked (the rule is in the _models package docstring)
# --------------------------------------------------------------------------------------------


def test_a_factor_repr_shows_only_what_it_holds() -> None:
    factor = converter.structure(
        {"type": "totp", "delivery_method": "authenticator_app", **totp_factor_object()},
        AuthenticationFactor,
    )
    assert repr(factor) == (
        "AuthenticationFactor(type=<AuthenticationFactorType.TOTP: 'totp'>, "
        "delivery_method=<AuthenticationFactorDeliveryMethod.AUTHENTICATOR_APP: "
        "'authenticator_app'>, authenticator_app_factor=AuthenticatorAppFactor(totp_id="
        f"'{TOTP_ID}'))"
    )
    assert str(factor) == repr(factor)


def totp_factor_object() -> dict[str, Any]:
    return {"authenticator_app_factor": {"totp_id": TOTP_ID}}


def test_empty_fields_are_left_out_required_or_not() -> None:
    auth = converter.structure(authenticate_body_with_session(), AuthenticateResponse)
    text = repr(auth)
    for nothing in ("=None", "=()", "={}", "=''"):
        assert nothing not in text
    # Required but empty (crypto_wallets, biometric_registrations, roles), or absent.
    for name in ("crypto_wallets", "biometric_registrations", "roles", "user_device"):
        assert f"{name}=" not in text
    assert "external_id" not in text  # null
    assert "lock_created_at" not in text


def test_values_that_say_something_are_shown_even_when_falsy() -> None:
    auth = converter.structure(authenticate_body_with_session(), AuthenticateResponse)
    text = repr(auth)
    assert "is_locked=False" in text
    assert "requires_reset=False" in text
    assert "status_code=200" in text


def test_empty_strings_are_left_out() -> None:
    auth = converter.structure(authenticate_body_with_session(), AuthenticateResponse)
    # What Stytch sends for what the user never gave, or a request without those headers.
    name, session = auth.user.name, auth.session
    assert name is not None
    assert session is not None
    assert session.attributes is not None
    assert name.middle_name == ""
    assert session.attributes.ip_address == session.attributes.user_agent == ""
    text = repr(auth)
    assert "middle_name" not in text
    assert "attributes=Attributes()" in text  # its ip_address and user_agent hold ''
    # A non-empty string is shown as ever.
    assert f"first_name={name.first_name!r}" in text


def test_unset_factor_fields_are_left_out() -> None:
    auth = converter.structure(authenticate_body_with_session(), AuthenticateResponse)
    text = repr(auth)
    # Of 2 factors x 41 factor fields, only the one set shows (the magic link's email_factor).
    assert text.count("_factor=") == 1
    assert text.count("AuthenticationFactor(") == 2


def test_an_empty_secret_is_hidden_too_and_an_absent_one_left_out() -> None:
    without_session = converter.structure(
        load_example("authenticate_no_session"), AuthenticateResponse
    )
    assert without_session.session_token == ""
    # Not even emptiness shows: an empty token looks like any other.
    assert "session_token=<hidden>" in repr(without_session)
    params = stytch_totp.AuthenticateParams(user_id="user-1", totp_code="123456")
    assert repr(params) == "AuthenticateParams(user_id='user-1', totp_code=<hidden>)"


def test_params_reprs_follow_the_same_rule() -> None:
    params = stytch_totp.AuthenticateParams(
        user_id="user-1",
        totp_code="123456",
        session_token=SESSION_TOKEN,
        session_duration_minutes=60,
        session_jwt=SESSION_JWT,
        session_custom_claims={"tenant": "acme"},
    )
    assert repr(params) == (
        "AuthenticateParams(user_id='user-1', totp_code=<hidden>, session_token=<hidden>, "
        "session_duration_minutes=60, session_jwt=<hidden>, "
        "session_custom_claims={'tenant': 'acme'})"
    )
    recover = stytch_totp.RecoverParams(user_id="user-1", recovery_code=FIRST_RECOVERY_CODE)
    assert repr(recover) == "RecoverParams(user_id='user-1', recovery_code=<hidden>)"
    assert str(recover) == repr(recover)
    assert repr(stytch_totp.CreateParams("user-1")) == "CreateParams(user_id='user-1')"
    assert repr(stytch_totp.CreateParams("user-1", expiration_minutes=30)) == (
        "CreateParams(user_id='user-1', expiration_minutes=30)"
    )
    assert (
        repr(stytch_totp.RecoveryCodesParams("user-1")) == "RecoveryCodesParams(user_id='user-1')"
    )


def test_no_secret_value_in_the_repr_of_any_model_nested_ones_included() -> None:
    created = converter.structure(load_example("create"), CreateResponse)
    codes = converter.structure(load_example("recovery_codes"), RecoveryCodesResponse)
    auth = converter.structure(authenticate_body_with_session(), AuthenticateResponse)
    recovered = converter.structure(authenticate_body_with_session(), RecoverResponse)
    secrets = [
        TOTP_SECRET,
        created.qr_code,
        created.qr_code.partition(",")[2][:16],
        *created.recovery_codes,
        *codes.totps[0].recovery_codes,
        SESSION_TOKEN,
        SESSION_JWT,
        # Its length would say something too.
        f"len={len(TOTP_SECRET)}",
        str(len(TOTP_SECRET)),
    ]
    params = [
        stytch_totp.AuthenticateParams(
            user_id="user-1",
            totp_code="918273",
            session_token=SESSION_TOKEN,
            session_jwt=SESSION_JWT,
        ),
        stytch_totp.RecoverParams(user_id="user-1", recovery_code=FIRST_RECOVERY_CODE),
    ]
    secrets.append("918273")
    for model in (created, codes, auth, recovered, *params):
        for shown in models_within(model):
            for text in (repr(shown), str(shown)):
                assert [secret for secret in secrets if secret in text] == []


def models_within(value: Any) -> list[Any]:
    found = []
    if attrs.has(type(value)):
        found.append(value)
        for field in attrs.fields(type(value)):
            found.extend(models_within(getattr(value, field.name)))
    elif isinstance(value, tuple):
        for item in value:
            found.extend(models_within(item))
    return found


# --------------------------------------------------------------------------------------------
# Converter edge cases
# --------------------------------------------------------------------------------------------


def test_python_values_that_are_not_json_are_named_by_type() -> None:
    with pytest.raises(TypeError, match="expected a string, got tuple"):
        converter.structure(
            {"email_id": ("email-1",), "email": "a@example.com", "verified": True},
            stytch_totp.Email,
        )


def test_explain_failure_of_a_body_that_is_not_an_object() -> None:
    assert explain_failure([], CreateResponse) == (None, "expected an object, got an array")


def test_explain_failure_of_a_body_that_is_fine() -> None:
    # Only ever called after the fast converter failed; a valid body still gets an answer.
    assert explain_failure(load_example("create"), CreateResponse) == (
        None,
        "the body could not be read as the documented model",
    )


def test_a_converter_with_the_same_rules_can_be_built() -> None:
    strict = make_converter(detailed_validation=True)
    created = strict.structure(load_example("create"), CreateResponse)
    assert created == converter.structure(load_example("create"), CreateResponse)
    assert strict is not converter


def test_create_response_gives_the_qr_code_as_png_bytes() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR-not-a-whole-image"
    body = load_example("create")
    body["qr_code"] = "data:image/png;base64, " + base64.b64encode(png).decode()
    created = converter.structure(body, CreateResponse)
    assert created.qr_code_png() == png
