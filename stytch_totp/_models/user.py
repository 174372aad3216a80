"""The user, as returned inside every TOTP response (``users.User`` in Stytch's API)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from .reprs import readable_repr

__all__ = [
    "BiometricRegistration",
    "CryptoWallet",
    "Email",
    "Name",
    "OAuthProvider",
    "Password",
    "PhoneNumber",
    "User",
    "UserTOTP",
    "WebAuthnRegistration",
]


@attrs.frozen
class Name:
    """A user's name; every part is optional."""

    __repr__ = readable_repr

    first_name: str | None = None
    """Given name."""
    middle_name: str | None = None
    """Middle name."""
    last_name: str | None = None
    """Family name."""


@attrs.frozen
class Email:
    """An email address attached to a user."""

    __repr__ = readable_repr

    email_id: str
    """Unique id of this email address."""
    email: str
    """The address itself."""
    verified: bool
    """Whether the user has proven they own it."""


@attrs.frozen
class PhoneNumber:
    """A phone number attached to a user."""

    __repr__ = readable_repr

    phone_id: str
    """Unique id of this phone number."""
    phone_number: str
    """The number, E.164 formatted."""
    verified: bool
    """Whether the user has proven they own it."""


@attrs.frozen
class WebAuthnRegistration:
    """A WebAuthn (passkey or security key) registration."""

    __repr__ = readable_repr

    webauthn_registration_id: str
    """Unique id of the registration."""
    domain: str
    """Domain the credential is bound to."""
    user_agent: str
    """User agent that registered it."""
    verified: bool
    """Whether the registration completed."""
    authenticator_type: str
    """``"platform"``, ``"cross-platform"`` or ``""``."""
    name: str
    """Display name of the credential."""


@attrs.frozen
class OAuthProvider:
    """An OAuth identity linked to a user."""

    __repr__ = readable_repr

    provider_type: str
    """Provider name, e.g. ``"Google"``."""
    provider_subject: str
    """The user's id at the provider."""
    profile_picture_url: str
    """Profile picture URL from the provider."""
    locale: str
    """Locale reported by the provider."""
    oauth_user_registration_id: str
    """Unique id of this OAuth registration."""


@attrs.frozen
class UserTOTP:
    """A TOTP registration as listed on a :class:`User` (without recovery codes)."""

    __repr__ = readable_repr

    totp_id: str
    """Unique id of the TOTP registration."""
    verified: bool
    """``True`` once a code from it has been authenticated."""


@attrs.frozen
class CryptoWallet:
    """A crypto wallet linked to a user."""

    __repr__ = readable_repr

    crypto_wallet_id: str
    """Unique id of the wallet registration."""
    crypto_wallet_address: str
    """Public address of the wallet."""
    crypto_wallet_type: str
    """Wallet type, e.g. ``"ethereum"``."""
    verified: bool
    """Whether the wallet has been verified."""


@attrs.frozen
class BiometricRegistration:
    """A mobile biometric registration."""

    __repr__ = readable_repr

    biometric_registration_id: str
    """Unique id of the registration."""
    verified: bool
    """Whether the registration completed."""


@attrs.frozen
class Password:
    """A user's password (never the password itself)."""

    __repr__ = readable_repr

    password_id: str
    """Unique id of the password."""
    requires_reset: bool
    """Whether the user must reset it before logging in."""


@attrs.frozen
class User:
    """A Stytch user, as returned inside every TOTP response."""

    __repr__ = readable_repr

    user_id: str
    """Unique id of the user."""
    emails: tuple[Email, ...]
    """Email addresses."""
    status: str
    """``"active"`` or ``"pending"``."""
    phone_numbers: tuple[PhoneNumber, ...]
    """Phone numbers."""
    webauthn_registrations: tuple[WebAuthnRegistration, ...]
    """WebAuthn registrations."""
    providers: tuple[OAuthProvider, ...]
    """Linked OAuth identities."""
    totps: tuple[UserTOTP, ...]
    """TOTP registrations."""
    crypto_wallets: tuple[CryptoWallet, ...]
    """Linked crypto wallets."""
    biometric_registrations: tuple[BiometricRegistration, ...]
    """Biometric registrations."""
    is_locked: bool
    """``True`` while the user is locked out after too many failed attempts."""
    roles: tuple[str, ...]
    """RBAC roles of the user."""
    name: Name | None = None
    """The user's name."""
    created_at: datetime | None = None
    """When the user was created (timezone-aware)."""
    password: Password | None = None
    """The user's password, if one is set."""
    trusted_metadata: Mapping[str, Any] | None = None
    """Metadata only your backend may write."""
    untrusted_metadata: Mapping[str, Any] | None = None
    """Metadata the user's own client may write."""
    external_id: str | None = None
    """Your own id for this user, usable wherever ``user_id`` is."""
    lock_created_at: datetime | None = None
    """When the current lock started."""
    lock_expires_at: datetime | None = None
    """When the current lock ends."""
