"""Request bodies as the emulator reads them: JSON in, validated params out, or a Stytch error.

The TOTP bodies become the SDK's own params classes, so the emulator enforces the same bounds the
SDK documents; a value the SDK would refuse becomes the error type Stytch uses for that field.
The users and sessions bodies, which the SDK does not send, have classes of their own here.
Messages say what is wrong without repeating a code, token or secret the caller sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, TypeVar

import attrs
import cattrs

from ... import _jsoncodec as jsoncodec
from ..._config import SESSION_DURATION_MINUTES_MAX, SESSION_DURATION_MINUTES_MIN
from ..._core.converter import converter, explain_failure
from ..._exceptions import InvalidParamsError
from ..._models import AuthenticateParams, CreateParams, Name, RecoverParams, RecoveryCodesParams
from .errors import EmulatorError

__all__ = [
    "NewUser",
    "SessionAuthenticateParams",
    "SessionRevokeParams",
    "check_new_user",
    "parse_authenticate",
    "parse_body",
    "parse_create_totp",
    "parse_create_user",
    "parse_recover",
    "parse_recovery_codes",
    "parse_session_authenticate",
    "parse_session_revoke",
    "parse_user_id_query",
]

P = TypeVar("P")

RECOVERY_CODE_PATTERN: Final = re.compile(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}")
_TOTP_CODE_PATTERN: Final = re.compile(r"[0-9]{6}")
_EMAIL_PATTERN: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE_PATTERN: Final = re.compile(r"\+[1-9][0-9]{6,14}")
_EXTERNAL_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9._|-]{1,128}")
_STYTCH_CLAIM_PREFIX: Final = "https://stytch.com/"

# The error type Stytch answers with when this field of a TOTP body is out of bounds.
_FIELD_ERRORS: Final = {
    "user_id": "invalid_user_id",
    "totp_code": "invalid_totp_code",
    "expiration_minutes": "invalid_expiration",
    "session_duration_minutes": "invalid_session_duration_minutes",
    "session_token": "invalid_session_token",
    "session_jwt": "unable_to_parse_session_jwt",
    "session_custom_claims": "custom_claims_too_large",
}


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body (an empty body is an empty object)."""
    if not raw.strip():
        return {}
    try:
        data = jsoncodec.loads(raw)
    except jsoncodec.JSONDecodeError:
        raise EmulatorError("bad_request", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise EmulatorError("bad_request", "The request body must be a JSON object.")
    return data


def _structure(body: Mapping[str, Any], params_type: type[P]) -> P:
    try:
        return converter.structure(dict(body), params_type)
    except InvalidParamsError as exc:
        error_type = _FIELD_ERRORS.get(exc.field, "bad_request")
        if error_type == "bad_request":
            raise EmulatorError(error_type, f"{exc.field}: {exc.problem}") from None
        raise EmulatorError(error_type) from None
    except (TypeError, ValueError, KeyError, cattrs.BaseValidationError):
        # A body of the wrong shape; anything else is an emulator bug, answered 500 and logged.
        path, reason = explain_failure(dict(body), params_type)
        field = path.removeprefix("$.") if path else "body"
        raise EmulatorError("bad_request", f"{field}: {reason}") from None


def _check_claims(body: Mapping[str, Any]) -> None:
    claims = body.get("session_custom_claims")
    if claims is None:
        return
    if not isinstance(claims, dict):
        raise EmulatorError("bad_request", "session_custom_claims: expected an object")
    if any(key.startswith(_STYTCH_CLAIM_PREFIX) for key in claims):
        raise EmulatorError("stytch_claims_in_custom_claims")


def parse_create_totp(body: Mapping[str, Any]) -> CreateParams:
    """``POST /v1/totps``."""
    return _structure(body, CreateParams)


def parse_authenticate(body: Mapping[str, Any]) -> AuthenticateParams:
    """``POST /v1/totps/authenticate``."""
    code = body.get("totp_code")
    if isinstance(code, str) and _TOTP_CODE_PATTERN.fullmatch(code) is None:
        if RECOVERY_CODE_PATTERN.fullmatch(code.strip().lower()):
            raise EmulatorError("recovery_code_used_as_totp_code")
        raise EmulatorError("invalid_totp_code")
    _check_claims(body)
    return _structure(body, AuthenticateParams)


def parse_recovery_codes(body: Mapping[str, Any]) -> RecoveryCodesParams:
    """``POST /v1/totps/recovery_codes``."""
    return _structure(body, RecoveryCodesParams)


def parse_recover(body: Mapping[str, Any]) -> RecoverParams:
    """``POST /v1/totps/recover``."""
    code = body.get("recovery_code")
    if isinstance(code, str) and _TOTP_CODE_PATTERN.fullmatch(code.strip()):
        raise EmulatorError("totp_code_used_as_recovery_code")
    _check_claims(body)
    return _structure(body, RecoverParams)


@attrs.frozen
class NewUser:
    """The fields of ``POST /v1/users`` the emulator keeps (others are accepted and ignored)."""

    email: str | None = None
    """Email address."""
    phone_number: str | None = None
    """E.164 phone number, e.g. ``"+12025550162"``."""
    name: Name | None = None
    """The user's name."""
    external_id: str | None = None
    """Your own id for the user."""
    trusted_metadata: Mapping[str, Any] | None = None
    """Backend-only metadata."""
    untrusted_metadata: Mapping[str, Any] | None = None
    """Client-writable metadata."""
    create_user_as_pending: bool = False
    """Create the user with status ``"pending"``."""
    roles: tuple[str, ...] = ()
    """Roles to give the user."""


attrs.resolve_types(NewUser)


def check_new_user(user: NewUser) -> NewUser:
    """``user`` if its fields are well formed, else the Stytch error for the first bad one."""
    if user.email is None and user.phone_number is None:
        raise EmulatorError("bad_request", "email or phone_number is required.")
    if user.email is not None and _EMAIL_PATTERN.fullmatch(user.email) is None:
        raise EmulatorError("invalid_email")
    if user.phone_number is not None and _PHONE_PATTERN.fullmatch(user.phone_number) is None:
        raise EmulatorError("invalid_phone_number")
    if user.external_id is not None and _EXTERNAL_ID_PATTERN.fullmatch(user.external_id) is None:
        raise EmulatorError("invalid_external_id")
    return user


def parse_create_user(body: Mapping[str, Any]) -> NewUser:
    """``POST /v1/users``."""
    return check_new_user(_structure(body, NewUser))


@attrs.frozen
class SessionAuthenticateParams:
    """``POST /v1/sessions/authenticate``: exactly one of the token and the JWT."""

    session_token: str | None = None
    """The session's opaque token."""
    session_jwt: str | None = attrs.field(default=None, repr=False)
    """A JWT of the session, expired or not."""
    session_duration_minutes: int | None = None
    """Extend the session to now + this many minutes."""
    session_custom_claims: Mapping[str, Any] | None = None
    """Claims to set (``null`` deletes one)."""
    authorization_check: Mapping[str, Any] | None = None
    """An RBAC check, which the emulator does not implement."""


@attrs.frozen
class SessionRevokeParams:
    """``POST /v1/sessions/revoke``: exactly one way of naming the session."""

    session_id: str | None = None
    """The session's id."""
    session_token: str | None = attrs.field(default=None, repr=False)
    """The session's opaque token."""
    session_jwt: str | None = attrs.field(default=None, repr=False)
    """A JWT of the session."""


for _params in (SessionAuthenticateParams, SessionRevokeParams):
    attrs.resolve_types(_params)


def _check_session_names(*names: str | None) -> None:
    given = [name for name in names if name is not None]
    if not given:
        raise EmulatorError("no_session_arguments")
    if len(given) > 1:
        raise EmulatorError("too_many_session_arguments")
    if not given[0]:
        raise EmulatorError("invalid_session_token")


def parse_session_authenticate(body: Mapping[str, Any]) -> SessionAuthenticateParams:
    """``POST /v1/sessions/authenticate``."""
    _check_claims(body)
    params = _structure(body, SessionAuthenticateParams)
    _check_session_names(params.session_token, params.session_jwt)
    duration = params.session_duration_minutes
    if duration is not None and not (
        SESSION_DURATION_MINUTES_MIN <= duration <= SESSION_DURATION_MINUTES_MAX
    ):
        raise EmulatorError("invalid_session_duration_minutes")
    if params.authorization_check is not None:
        raise EmulatorError("bad_request", "authorization_check: RBAC is not part of the emulator.")
    return params


def parse_session_revoke(body: Mapping[str, Any]) -> SessionRevokeParams:
    """``POST /v1/sessions/revoke``."""
    params = _structure(body, SessionRevokeParams)
    _check_session_names(params.session_id, params.session_token, params.session_jwt)
    return params


def parse_user_id_query(query: Mapping[str, str]) -> str:
    """The ``user_id`` of ``GET /v1/sessions?user_id=...``."""
    user_id = query.get("user_id", "").strip()
    if not user_id:
        raise EmulatorError("bad_request", "user_id: a query parameter is required.")
    return user_id
