"""The request parameters of the four TOTP operations.

Building a params object validates it: bad input raises :class:`InvalidParamsError` naming the
field, before anything is sent. Optional fields left at ``None`` are omitted from the JSON body
(see ``_core/converter.py``). ``repr`` follows the models' rule (see ``reprs.py``): secret fields
show as ``<hidden>``, fields left at ``None`` are left out.
"""

import copy
import math
from collections.abc import Mapping
from typing import Any

import attrs

from .. import _jsoncodec as jsoncodec
from .._config import (
    EXPIRATION_MINUTES_MAX,
    EXPIRATION_MINUTES_MIN,
    MAX_ID_LENGTH,
    MAX_RECOVERY_CODE_LENGTH,
    MAX_SESSION_JWT_LENGTH,
    SESSION_CUSTOM_CLAIMS_MAX_BYTES,
    SESSION_CUSTOM_CLAIMS_MAX_DEPTH,
    SESSION_DURATION_MINUTES_MAX,
    SESSION_DURATION_MINUTES_MIN,
    TOTP_CODE_DIGITS,
)
from .._exceptions import InvalidParamsError
from .reprs import hide, readable_repr

__all__ = [
    "AuthenticateParams",
    "CreateParams",
    "RecoverParams",
    "RecoveryCodesParams",
]


def _text(max_length: int, *, optional: bool = False) -> Any:
    """A validator of a non-empty ``str`` of at most ``max_length`` characters.

    Text JSON cannot carry (lone surrogates) is refused when the body is encoded, also before
    anything is sent, naming the field: checking it here would cost every call.
    """

    def check(_: Any, attribute: "attrs.Attribute[Any]", value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str):
            raise InvalidParamsError(attribute.name, f"must be a str, not {type(value).__name__}")
        if len(value) > max_length:
            raise InvalidParamsError(
                attribute.name, f"must be at most {max_length} characters, got {len(value)}"
            )
        if not value.strip():
            raise InvalidParamsError(attribute.name, "must not be empty")

    return check


_id = _text(MAX_ID_LENGTH)
_optional_id = _text(MAX_ID_LENGTH, optional=True)
_optional_jwt = _text(MAX_SESSION_JWT_LENGTH, optional=True)
_recovery_code = _text(MAX_RECOVERY_CODE_LENGTH)


def _int_between(low: int, high: int) -> Any:
    def check(_: Any, attribute: "attrs.Attribute[Any]", value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParamsError(attribute.name, f"must be an int, not {type(value).__name__}")
        if not low <= value <= high:
            raise InvalidParamsError(
                attribute.name, f"must be between {low} and {high}, got {value}"
            )

    return check


def _totp_code(_: Any, attribute: "attrs.Attribute[Any]", value: object) -> None:
    # The value is a secret: the message describes it without repeating it.
    if not isinstance(value, str):
        raise InvalidParamsError(attribute.name, f"must be a str, not {type(value).__name__}")
    # isascii() first: isdigit() alone would take other scripts' digits, and superscripts.
    if not (len(value) == TOTP_CODE_DIGITS and value.isascii() and value.isdigit()):
        raise InvalidParamsError(
            attribute.name,
            f"must be exactly {TOTP_CODE_DIGITS} ASCII digits (got {len(value)} characters)",
        )


def _nests_deeper_than(value: object, limit: int) -> bool:
    """Whether ``value`` nests mappings and lists more than ``limit`` levels (no recursion)."""
    level: list[object] = [value]
    for _ in range(limit + 1):
        inner: list[object] = []
        for item in level:
            if isinstance(item, Mapping):
                inner.extend(item.values())
            elif isinstance(item, list | tuple):
                inner.extend(item)
        if not inner:
            return False
        level = inner
    return True


def _custom_claims(_: Any, attribute: "attrs.Attribute[Any]", value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise InvalidParamsError(attribute.name, f"must be a mapping, not {type(value).__name__}")
    if _nests_deeper_than(value, SESSION_CUSTOM_CLAIMS_MAX_DEPTH):
        raise InvalidParamsError(
            attribute.name, f"must nest at most {SESSION_CUSTOM_CLAIMS_MAX_DEPTH} levels deep"
        )
    for key in value:
        if not isinstance(key, str):
            raise InvalidParamsError(attribute.name, f"keys must be str, not {type(key).__name__}")
    try:
        encoded = jsoncodec.dumps(dict(value))
    except TypeError as exc:
        raise InvalidParamsError(attribute.name, f"must be JSON-serializable ({exc})") from None
    if _has_non_finite_float(value):
        # orjson writes NaN and infinity as null, and a null claim deletes the claim.
        raise InvalidParamsError(
            attribute.name, "must be JSON-serializable (NaN and infinity are not JSON numbers)"
        )
    if len(encoded) > SESSION_CUSTOM_CLAIMS_MAX_BYTES:
        raise InvalidParamsError(
            attribute.name,
            f"must encode to at most {SESSION_CUSTOM_CLAIMS_MAX_BYTES} bytes of JSON, "
            f"got {len(encoded)}",
        )


def _has_non_finite_float(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(_has_non_finite_float(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite_float(item) for item in value)
    return False


def _freeze_claims(value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    # A private deep copy, so mutating the caller's dict (or a list or dict nested in it) later
    # cannot change a frozen params object.
    if not isinstance(value, Mapping):
        return value
    if _nests_deeper_than(value, SESSION_CUSTOM_CLAIMS_MAX_DEPTH):
        return dict(value)  # a deep copy would recurse too far: the validator refuses it
    try:
        return copy.deepcopy(dict(value))
    except TypeError:
        return dict(value)  # not copyable, hence not JSON either: the validator says so


_expiration_minutes = _int_between(EXPIRATION_MINUTES_MIN, EXPIRATION_MINUTES_MAX)
_session_duration_minutes = _int_between(SESSION_DURATION_MINUTES_MIN, SESSION_DURATION_MINUTES_MAX)


@attrs.frozen
class CreateParams:
    """Parameters of :meth:`TOTPs.create` (``POST /v1/totps``)."""

    __repr__ = readable_repr

    user_id: str = attrs.field(validator=_id)
    """The ``user_id`` (or ``external_id``) of an active user."""
    expiration_minutes: int | None = attrs.field(default=None, validator=_expiration_minutes)
    """Minutes (5-1440) the new TOTP may stay unverified before it becomes unusable."""


@attrs.frozen
class AuthenticateParams:
    """Parameters of :meth:`TOTPs.authenticate` (``POST /v1/totps/authenticate``)."""

    __repr__ = readable_repr

    user_id: str = attrs.field(validator=_id)
    """The ``user_id`` (or ``external_id``) of the user."""
    totp_code: str = attrs.field(validator=_totp_code, repr=hide)
    """The 6-digit code from the authenticator app (hidden from ``repr``)."""
    session_token: str | None = attrs.field(default=None, validator=_optional_id, repr=hide)
    """Token of an existing session to extend (hidden from ``repr``)."""
    session_duration_minutes: int | None = attrs.field(
        default=None, validator=_session_duration_minutes
    )
    """Start (or extend) a session lasting this many minutes (5-527040); no session if omitted."""
    session_jwt: str | None = attrs.field(default=None, validator=_optional_jwt, repr=hide)
    """JWT of an existing session to extend (hidden from ``repr``)."""
    session_custom_claims: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_freeze_claims, validator=_custom_claims
    )
    """Custom claims to set on the session; a ``None`` value deletes that claim (at most 4 KB)."""
    telemetry_id: str | None = attrs.field(default=None, validator=_optional_id)
    """Device Fingerprinting telemetry id, to get ``user_device`` back."""


@attrs.frozen
class RecoveryCodesParams:
    """Parameters of :meth:`TOTPs.recovery_codes` (``POST /v1/totps/recovery_codes``)."""

    __repr__ = readable_repr

    user_id: str = attrs.field(validator=_id)
    """The ``user_id`` (or ``external_id``) of the user."""


@attrs.frozen
class RecoverParams:
    """Parameters of :meth:`TOTPs.recover` (``POST /v1/totps/recover``)."""

    __repr__ = readable_repr

    user_id: str = attrs.field(validator=_id)
    """The ``user_id`` (or ``external_id``) of the user."""
    recovery_code: str = attrs.field(validator=_recovery_code, repr=hide)
    """A single-use recovery code, e.g. ``"ckss-2skx-ebow"`` (hidden from ``repr``)."""
    session_token: str | None = attrs.field(default=None, validator=_optional_id, repr=hide)
    """Token of an existing session to extend (hidden from ``repr``)."""
    session_duration_minutes: int | None = attrs.field(
        default=None, validator=_session_duration_minutes
    )
    """Start (or extend) a session lasting this many minutes (5-527040); no session if omitted."""
    session_jwt: str | None = attrs.field(default=None, validator=_optional_jwt, repr=hide)
    """JWT of an existing session to extend (hidden from ``repr``)."""
    session_custom_claims: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_freeze_claims, validator=_custom_claims
    )
    """Custom claims to set on the session; a ``None`` value deletes that claim (at most 4 KB)."""
    telemetry_id: str | None = attrs.field(default=None, validator=_optional_id)
    """Device Fingerprinting telemetry id, to get ``user_device`` back."""
