"""The emulator's schema of Stytch's JSON bodies, and the functions that build them from records.

Each body is a ``TypedDict`` whose keys are those of Stytch's published example, in its order,
with the same kinds of values: ``""`` where Stytch sends an empty string (a name's missing parts,
``session_token`` without a session), ``null`` where it sends ``null``, ``{}`` for metadata and
custom claims that were never set, timestamps as ``2021-12-29T12:33:09Z``. Keys Stytch sends only
in cases the emulator never has (``user_device``, a session's ``verdict``) are left out, as
Stytch leaves them out.

Nothing here comes from the SDK's response models: the emulator has to be able to disagree with
them. ``tests/emulator/test_shapes.py`` compares these bodies with Stytch's published examples,
and the SDK's models are tested by parsing them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypedDict

from ... import _jsoncodec as jsoncodec
from .errors import EmulatorError, error_url
from .records import FactorRecord, NameRecord, SessionRecord, TOTPRecord, UserRecord

__all__ = [
    "AuthenticateBody",
    "CreateTOTPBody",
    "CreateUserBody",
    "DeleteTOTPBody",
    "DeleteUserBody",
    "ErrorBody",
    "FactorBody",
    "JWKSBody",
    "RecoveryCodesBody",
    "RevokeSessionBody",
    "SessionAuthenticateBody",
    "SessionBody",
    "SessionsBody",
    "UserBody",
    "error_body",
    "factor_body",
    "session_body",
    "timestamp",
    "to_json",
    "user_body",
]


class NameBody(TypedDict):
    first_name: str
    middle_name: str
    last_name: str


class EmailBody(TypedDict):
    email_id: str
    email: str
    verified: bool


class PhoneNumberBody(TypedDict):
    phone_id: str
    phone_number: str
    verified: bool


class UserTOTPBody(TypedDict):
    totp_id: str
    verified: bool


class UserBody(TypedDict):
    """``users.User``: every key of Stytch's get-user example."""

    user_id: str
    created_at: str
    status: str
    name: NameBody
    trusted_metadata: Mapping[str, Any]
    untrusted_metadata: Mapping[str, Any]
    emails: list[EmailBody]
    phone_numbers: list[PhoneNumberBody]
    providers: list[Any]
    webauthn_registrations: list[Any]
    biometric_registrations: list[Any]
    totps: list[UserTOTPBody]
    crypto_wallets: list[Any]
    password: None
    external_id: str | None
    is_locked: bool
    lock_created_at: str | None
    lock_expires_at: str | None
    roles: list[str]


class FactorBody(TypedDict, total=False):
    """``sessions.AuthenticationFactor``: only the factor object of its own kind is present."""

    created_at: str
    delivery_method: str
    last_authenticated_at: str
    updated_at: str
    type: str
    authenticator_app_factor: dict[str, str]
    recovery_code_factor: dict[str, str]


class AttributesBody(TypedDict):
    ip_address: str
    user_agent: str


class SessionBody(TypedDict):
    """``sessions.Session``, as in Stytch's session-object example (with ``roles``)."""

    attributes: AttributesBody
    authentication_factors: list[FactorBody]
    custom_claims: Mapping[str, Any]
    expires_at: str
    last_accessed_at: str
    started_at: str
    session_id: str
    user_id: str
    roles: list[str]


class CreateTOTPBody(TypedDict):
    """``POST /v1/totps``."""

    status_code: int
    request_id: str
    secret: str
    totp_id: str
    qr_code: str
    recovery_codes: list[str]
    user_id: str
    user: UserBody


class AuthenticateBody(TypedDict):
    """``POST /v1/totps/authenticate`` and ``POST /v1/totps/recover``."""

    status_code: int
    request_id: str
    totp_id: str
    session: SessionBody | None
    session_jwt: str
    session_token: str
    user: UserBody
    user_id: str


class TOTPWithCodesBody(TypedDict):
    totp_id: str
    verified: bool
    recovery_codes: list[str]


class RecoveryCodesBody(TypedDict):
    """``POST /v1/totps/recovery_codes``."""

    status_code: int
    request_id: str
    user_id: str
    totps: list[TOTPWithCodesBody]


class CreateUserBody(TypedDict):
    """``POST /v1/users``."""

    status_code: int
    request_id: str
    user_id: str
    email_id: str
    status: str
    phone_id: str
    user: UserBody


class DeleteTOTPBody(TypedDict):
    """``DELETE /v1/users/totps/{totp_id}``."""

    status_code: int
    request_id: str
    user_id: str
    user: UserBody


class DeleteUserBody(TypedDict):
    """``DELETE /v1/users/{user_id}``."""

    status_code: int
    request_id: str
    user_id: str


class JWKSBody(TypedDict):
    """``GET /v1/sessions/jwks/{project_id}``."""

    status_code: int
    request_id: str
    keys: list[dict[str, Any]]


class SessionAuthenticateBody(TypedDict):
    """``POST /v1/sessions/authenticate``."""

    status_code: int
    request_id: str
    session: SessionBody
    session_jwt: str
    session_token: str
    user: UserBody


class SessionsBody(TypedDict):
    """``GET /v1/sessions``."""

    status_code: int
    request_id: str
    sessions: list[SessionBody]


class RevokeSessionBody(TypedDict):
    """``POST /v1/sessions/revoke``."""

    status_code: int
    request_id: str


class ErrorBody(TypedDict):
    """Stytch's error envelope."""

    status_code: int
    request_id: str
    error_type: str
    error_message: str
    error_url: str


def timestamp(when: datetime) -> str:
    """RFC 3339 in UTC with whole seconds, as Stytch's examples: ``2021-12-29T12:33:09Z``."""
    # The emulator's instants are UTC and whole seconds, so isoformat() is already right but for
    # the offset; this is much faster than strftime().
    return when.isoformat().replace("+00:00", "Z")


def _name(name: NameRecord) -> NameBody:
    return {
        "first_name": name.first_name,
        "middle_name": name.middle_name,
        "last_name": name.last_name,
    }


def user_body(user: UserRecord, totps: Iterable[TOTPRecord], now: datetime) -> UserBody:
    """The user as every body that holds one shows it; ``totps`` are the live ones."""
    locked = user.lock_expires_at is not None and user.lock_expires_at > now
    emails: list[EmailBody] = []
    if user.email is not None and user.email_id is not None:
        emails.append({"email_id": user.email_id, "email": user.email, "verified": False})
    phones: list[PhoneNumberBody] = []
    if user.phone_number is not None and user.phone_id is not None:
        phones.append(
            {"phone_id": user.phone_id, "phone_number": user.phone_number, "verified": False}
        )
    return {
        "user_id": user.user_id,
        "created_at": timestamp(user.created_at),
        "status": user.status,
        "name": _name(user.name),
        "trusted_metadata": user.trusted_metadata or {},
        "untrusted_metadata": user.untrusted_metadata or {},
        "emails": emails,
        "phone_numbers": phones,
        "providers": [],
        "webauthn_registrations": [],
        "biometric_registrations": [],
        "totps": [{"totp_id": totp.totp_id, "verified": totp.verified} for totp in totps],
        "crypto_wallets": [],
        "password": None,
        "external_id": user.external_id,
        "is_locked": locked,
        "lock_created_at": timestamp(user.lock_created_at)
        if locked and user.lock_created_at is not None
        else None,
        "lock_expires_at": timestamp(user.lock_expires_at)
        if locked and user.lock_expires_at is not None
        else None,
        "roles": list(user.roles),
    }


def factor_body(factor: FactorRecord) -> FactorBody:
    """A session's factor, with the one factor object its kind uses."""
    used = timestamp(factor.last_authenticated_at)
    body: FactorBody = {
        "created_at": timestamp(factor.created_at),
        "delivery_method": factor.delivery_method,
        "last_authenticated_at": used,
        "updated_at": used,
        "type": factor.type,
    }
    if factor.totp_id is not None:
        body["authenticator_app_factor"] = {"totp_id": factor.totp_id}
    if factor.recovery_code_id is not None:
        body["recovery_code_factor"] = {"totp_recovery_code_id": factor.recovery_code_id}
    return body


def session_body(session: SessionRecord) -> SessionBody:
    """The session object."""
    return {
        # The emulator sees no browser: Stytch sends empty strings when it knows neither.
        "attributes": {"ip_address": "", "user_agent": ""},
        "authentication_factors": [factor_body(f) for f in session.authentication_factors],
        "custom_claims": dict(session.custom_claims),
        "expires_at": timestamp(session.expires_at),
        "last_accessed_at": timestamp(session.last_accessed_at),
        "started_at": timestamp(session.started_at),
        "session_id": session.session_id,
        "user_id": session.user_id,
        "roles": list(session.roles),
    }


def error_body(error: EmulatorError, request_id: str) -> ErrorBody:
    """The envelope of ``error``."""
    return {
        "status_code": error.status,
        "request_id": request_id,
        "error_type": error.error_type,
        "error_message": error.message,
        "error_url": error_url(error.status, error.error_type),
    }


def to_json(body: Mapping[str, Any]) -> bytes:
    """The JSON bytes of a body."""
    return jsoncodec.dumps(body)
