"""The responses of the four TOTP operations."""

import attrs

from .device import DeviceInfo
from .qr_code import png_of_data_uri
from .reprs import hide, readable_repr
from .session import Session
from .user import User

__all__ = [
    "TOTP",
    "AuthenticateResponse",
    "CreateResponse",
    "RecoverResponse",
    "RecoveryCodesResponse",
]


@attrs.frozen
class TOTP:
    """A TOTP registration with its recovery codes (from :meth:`TOTPs.recovery_codes`)."""

    __repr__ = readable_repr

    totp_id: str
    """Unique id of the TOTP registration."""
    verified: bool
    """``True`` once a code from it has been authenticated."""
    recovery_codes: tuple[str, ...] = attrs.field(repr=hide)
    """The remaining recovery codes (secret: hidden from ``repr``)."""


@attrs.frozen
class CreateResponse:
    """Result of :meth:`TOTPs.create`: everything needed to enroll the user's authenticator app."""

    __repr__ = readable_repr

    request_id: str
    """Id of this API call; log it when asking Stytch for help."""
    status_code: int
    """HTTP status, as repeated in the body."""
    totp_id: str
    """Id of the new TOTP registration."""
    secret: str = attrs.field(repr=hide)
    """Base32 TOTP secret for manual entry in an authenticator app (hidden from ``repr``)."""
    qr_code: str = attrs.field(repr=hide)
    """``data:image/png;base64,...`` QR code of the ``otpauth://`` URI (hidden from ``repr``)."""
    recovery_codes: tuple[str, ...] = attrs.field(repr=hide)
    """Single-use recovery codes to show the user once (hidden from ``repr``)."""
    user: User = attrs.field()
    """The user, after the TOTP was added."""
    user_id: str = attrs.field()
    """Id of the user."""

    def qr_code_png(self) -> bytes:
        """The QR code as PNG bytes (to save, or serve as ``image/png``)."""
        return png_of_data_uri(self.qr_code)


@attrs.frozen
class AuthenticateResponse:
    """Result of :meth:`TOTPs.authenticate`."""

    __repr__ = readable_repr

    request_id: str
    """Id of this API call."""
    status_code: int
    """HTTP status, as repeated in the body."""
    user_id: str
    """Id of the user who authenticated."""
    totp_id: str
    """Id of the TOTP registration the code belonged to."""
    user: User
    """The user, after authentication (``totps[].verified`` is now ``True``)."""
    session_token: str = attrs.field(repr=hide)
    """Opaque session token; ``""`` when no session was asked for (hidden from ``repr``)."""
    session_jwt: str = attrs.field(repr=hide)
    """Session JWT (5-minute lifetime); ``""`` when no session was asked for (hidden from ``repr``)."""
    session: Session | None = None
    """The session, when ``session_duration_minutes`` was given."""
    user_device: DeviceInfo | None = None
    """Device information, when a valid ``telemetry_id`` was given."""


@attrs.frozen
class RecoveryCodesResponse:
    """Result of :meth:`TOTPs.recovery_codes`."""

    __repr__ = readable_repr

    request_id: str
    """Id of this API call."""
    status_code: int
    """HTTP status, as repeated in the body."""
    user_id: str
    """Id of the user."""
    totps: tuple[TOTP, ...]
    """The user's TOTP registrations with their recovery codes."""


@attrs.frozen
class RecoverResponse:
    """Result of :meth:`TOTPs.recover`."""

    __repr__ = readable_repr

    request_id: str
    """Id of this API call."""
    status_code: int
    """HTTP status, as repeated in the body."""
    user_id: str
    """Id of the user who recovered."""
    totp_id: str
    """Id of the TOTP registration whose recovery code was used."""
    user: User
    """The user, after recovery."""
    session_token: str = attrs.field(repr=hide)
    """Opaque session token; ``""`` when no session was asked for (hidden from ``repr``)."""
    session_jwt: str = attrs.field(repr=hide)
    """Session JWT; ``""`` when no session was asked for (hidden from ``repr``)."""
    session: Session | None = None
    """The session, when ``session_duration_minutes`` was given."""
    user_device: DeviceInfo | None = None
    """Device information, when a valid ``telemetry_id`` was given."""
