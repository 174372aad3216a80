"""Typed, frozen models of what Stytch returns.

Each class mirrors one object of the API (field names are the JSON keys). How JSON becomes these
objects lives in ``_converter.py``, not here: unknown keys are ignored, unknown enum values are kept
as plain strings, and a missing required key is an ``UnexpectedResponseError`` naming its path.

Fields that hold secrets are left out of ``repr`` so a model can be logged safely.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeAlias

import attrs

from . import _totp_codes

__all__ = [
    "TOTP",
    "AmazonOAuthFactor",
    "AppleOAuthFactor",
    "Attributes",
    "AuthenticateResponse",
    "AuthenticationFactor",
    "AuthenticationFactorDeliveryMethod",
    "AuthenticationFactorType",
    "AuthenticatorAppFactor",
    "BiometricFactor",
    "BiometricRegistration",
    "BitbucketOAuthFactor",
    "CoinbaseOAuthFactor",
    "CreateResponse",
    "CryptoWallet",
    "CryptoWalletFactor",
    "DeviceAttributeDetails",
    "DeviceInfo",
    "DiscordOAuthFactor",
    "Email",
    "EmailFactor",
    "EmbeddableMagicLinkFactor",
    "FacebookOAuthFactor",
    "FigmaOAuthFactor",
    "GitLabOAuthFactor",
    "GithubOAuthExchangeFactor",
    "GithubOAuthFactor",
    "GoogleOAuthExchangeFactor",
    "GoogleOAuthFactor",
    "HubspotOAuthExchangeFactor",
    "HubspotOAuthFactor",
    "ImpersonatedFactor",
    "InstagramOAuthFactor",
    "LinkedInOAuthFactor",
    "MicrosoftOAuthFactor",
    "Name",
    "OAuthAccessTokenExchangeFactor",
    "OAuthExchangeFactor",
    "OAuthFactor",
    "OAuthProvider",
    "OIDCSSOFactor",
    "Password",
    "PhoneNumber",
    "PhoneNumberFactor",
    "RecoverResponse",
    "RecoveryCodeFactor",
    "RecoveryCodesResponse",
    "SAMLSSOFactor",
    "SSOFactor",
    "SalesforceOAuthFactor",
    "Session",
    "ShopifyOAuthFactor",
    "SlackOAuthExchangeFactor",
    "SlackOAuthFactor",
    "SnapchatOAuthFactor",
    "SpotifyOAuthFactor",
    "SteamOAuthFactor",
    "TikTokOAuthFactor",
    "TrustedAuthTokenFactor",
    "TwitchOAuthFactor",
    "TwitterOAuthFactor",
    "User",
    "UserTOTP",
    "WebAuthnFactor",
    "WebAuthnRegistration",
    "YahooOAuthFactor",
]


# Every model is a frozen *slotted* attrs class. Non-slotted classes parse ~15 % faster (a frozen
# slotted class sets each field through ``object.__setattr__``), but then ``vars(response)`` would
# show the secret fields that ``repr`` hides. Even for the models without a secret, a ``__dict__``
# costs memory: a kept authenticate response grew from 8.1 to 12.9 KiB (CPython shares the keys of
# instance dicts only up to 30 keys; ``AuthenticationFactor`` has 46). So we keep the slots.


# --------------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------------


@attrs.frozen
class Name:
    """A user's name; every part is optional."""

    first_name: str | None = None
    """Given name."""
    middle_name: str | None = None
    """Middle name."""
    last_name: str | None = None
    """Family name."""


@attrs.frozen
class Email:
    """An email address attached to a user."""

    email_id: str
    """Unique id of this email address."""
    email: str
    """The address itself."""
    verified: bool
    """Whether the user has proven they own it."""


@attrs.frozen
class PhoneNumber:
    """A phone number attached to a user."""

    phone_id: str
    """Unique id of this phone number."""
    phone_number: str
    """The number, E.164 formatted."""
    verified: bool
    """Whether the user has proven they own it."""


@attrs.frozen
class WebAuthnRegistration:
    """A WebAuthn (passkey or security key) registration."""

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

    totp_id: str
    """Unique id of the TOTP registration."""
    verified: bool
    """``True`` once a code from it has been authenticated."""


@attrs.frozen
class CryptoWallet:
    """A crypto wallet linked to a user."""

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

    biometric_registration_id: str
    """Unique id of the registration."""
    verified: bool
    """Whether the registration completed."""


@attrs.frozen
class Password:
    """A user's password (never the password itself)."""

    password_id: str
    """Unique id of the password."""
    requires_reset: bool
    """Whether the user must reset it before logging in."""


@attrs.frozen
class User:
    """A Stytch user, as returned inside every TOTP response."""

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


# --------------------------------------------------------------------------------------------
# Sessions and authentication factors
# --------------------------------------------------------------------------------------------


class AuthenticationFactorType(enum.StrEnum):
    """Known values of :attr:`AuthenticationFactor.type`.

    A value Stytch adds later arrives as a plain ``str``; since members are strings too,
    comparing with ``==`` works either way.
    """

    MAGIC_LINK = "magic_link"
    OTP = "otp"
    OAUTH = "oauth"
    WEBAUTHN = "webauthn"
    TOTP = "totp"
    CRYPTO = "crypto"
    PASSWORD = "password"  # noqa: S105 - a factor name, not a password
    SIGNATURE_CHALLENGE = "signature_challenge"
    SSO = "sso"
    IMPORTED = "imported"
    RECOVERY_CODES = "recovery_codes"
    EMAIL_OTP = "email_otp"
    IMPERSONATED = "impersonated"
    TRUSTED_AUTH_TOKEN = "trusted_auth_token"  # noqa: S105 - a factor name, not a token


class AuthenticationFactorDeliveryMethod(enum.StrEnum):
    """Known values of :attr:`AuthenticationFactor.delivery_method` (unknown ones stay ``str``)."""

    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMBEDDED = "embedded"
    OAUTH_GOOGLE = "oauth_google"
    OAUTH_MICROSOFT = "oauth_microsoft"
    OAUTH_APPLE = "oauth_apple"
    WEBAUTHN_REGISTRATION = "webauthn_registration"
    AUTHENTICATOR_APP = "authenticator_app"
    OAUTH_GITHUB = "oauth_github"
    RECOVERY_CODE = "recovery_code"
    OAUTH_FACEBOOK = "oauth_facebook"
    CRYPTO_WALLET = "crypto_wallet"
    OAUTH_AMAZON = "oauth_amazon"
    OAUTH_BITBUCKET = "oauth_bitbucket"
    OAUTH_COINBASE = "oauth_coinbase"
    OAUTH_DISCORD = "oauth_discord"
    OAUTH_FIGMA = "oauth_figma"
    OAUTH_GITLAB = "oauth_gitlab"
    OAUTH_INSTAGRAM = "oauth_instagram"
    OAUTH_LINKEDIN = "oauth_linkedin"
    OAUTH_SHOPIFY = "oauth_shopify"
    OAUTH_SLACK = "oauth_slack"
    OAUTH_SNAPCHAT = "oauth_snapchat"
    OAUTH_SPOTIFY = "oauth_spotify"
    OAUTH_STEAM = "oauth_steam"
    OAUTH_TIKTOK = "oauth_tiktok"
    OAUTH_TWITCH = "oauth_twitch"
    OAUTH_TWITTER = "oauth_twitter"
    KNOWLEDGE = "knowledge"
    BIOMETRIC = "biometric"
    SSO_SAML = "sso_saml"
    SSO_OIDC = "sso_oidc"
    OAUTH_SALESFORCE = "oauth_salesforce"
    OAUTH_YAHOO = "oauth_yahoo"
    OAUTH_HUBSPOT = "oauth_hubspot"
    IMPORTED_AUTH0 = "imported_auth0"
    OAUTH_EXCHANGE_SLACK = "oauth_exchange_slack"
    OAUTH_EXCHANGE_HUBSPOT = "oauth_exchange_hubspot"
    OAUTH_EXCHANGE_GITHUB = "oauth_exchange_github"
    OAUTH_EXCHANGE_GOOGLE = "oauth_exchange_google"
    IMPERSONATION = "impersonation"
    OAUTH_ACCESS_TOKEN_EXCHANGE = "oauth_access_token_exchange"  # noqa: S105 - not a token
    TRUSTED_TOKEN_EXCHANGE = "trusted_token_exchange"  # noqa: S105 - not a token


@attrs.frozen
class EmailFactor:
    """Details of an email-based factor."""

    email_id: str
    """Id of the email address used."""
    email_address: str
    """The email address used."""


@attrs.frozen
class PhoneNumberFactor:
    """Details of a phone-based factor."""

    phone_id: str
    """Id of the phone number used."""
    phone_number: str
    """The phone number used."""


@attrs.frozen
class OAuthFactor:
    """Details of an OAuth factor; every provider's factor has this shape."""

    id: str
    """Id of the OAuth registration."""
    provider_subject: str
    """The user's id at the provider."""
    email_id: str | None = None
    """Id of the email address the provider reported, if any."""


@attrs.frozen
class WebAuthnFactor:
    """Details of a WebAuthn factor."""

    webauthn_registration_id: str
    """Id of the WebAuthn registration used."""
    domain: str
    """Domain of the credential."""
    user_agent: str | None = None
    """User agent that authenticated."""


@attrs.frozen
class AuthenticatorAppFactor:
    """Details of a TOTP (authenticator app) factor."""

    totp_id: str
    """Id of the TOTP registration used."""


@attrs.frozen
class RecoveryCodeFactor:
    """Details of a recovery-code factor."""

    totp_recovery_code_id: str
    """Id of the recovery code used (never the code itself)."""


@attrs.frozen
class CryptoWalletFactor:
    """Details of a crypto wallet factor."""

    crypto_wallet_id: str
    """Id of the wallet registration used."""
    crypto_wallet_address: str
    """Address of the wallet used."""
    crypto_wallet_type: str
    """Type of the wallet used."""


@attrs.frozen
class EmbeddableMagicLinkFactor:
    """Details of an embeddable magic link factor."""

    embedded_id: str
    """Id of the embeddable magic link used."""


@attrs.frozen
class BiometricFactor:
    """Details of a biometric factor."""

    biometric_registration_id: str
    """Id of the biometric registration used."""


@attrs.frozen
class SSOFactor:
    """Details of a SAML or OIDC single sign-on factor."""

    id: str
    """Id of the SSO registration."""
    provider_id: str
    """Id of the identity provider connection."""
    external_id: str
    """The user's id at the identity provider."""


@attrs.frozen
class OAuthExchangeFactor:
    """Details of an OAuth token exchange factor; every provider's has this shape."""

    email_id: str
    """Id of the email address the exchange verified."""


@attrs.frozen
class ImpersonatedFactor:
    """Details of an impersonation factor."""

    impersonator_id: str
    """Id of the member or admin doing the impersonation."""
    impersonator_email_address: str
    """Email address of the impersonator."""


@attrs.frozen
class OAuthAccessTokenExchangeFactor:
    """Details of an OAuth access token exchange factor."""

    client_id: str
    """Id of the OAuth client that exchanged the token."""


@attrs.frozen
class TrustedAuthTokenFactor:
    """Details of a trusted auth token factor."""

    token_id: str
    """Id of the trusted auth token profile."""


# The API names one class per provider; they all share a shape, so they share a class.
GoogleOAuthFactor: TypeAlias = OAuthFactor
MicrosoftOAuthFactor: TypeAlias = OAuthFactor
AppleOAuthFactor: TypeAlias = OAuthFactor
GithubOAuthFactor: TypeAlias = OAuthFactor
FacebookOAuthFactor: TypeAlias = OAuthFactor
AmazonOAuthFactor: TypeAlias = OAuthFactor
BitbucketOAuthFactor: TypeAlias = OAuthFactor
CoinbaseOAuthFactor: TypeAlias = OAuthFactor
DiscordOAuthFactor: TypeAlias = OAuthFactor
FigmaOAuthFactor: TypeAlias = OAuthFactor
GitLabOAuthFactor: TypeAlias = OAuthFactor
InstagramOAuthFactor: TypeAlias = OAuthFactor
LinkedInOAuthFactor: TypeAlias = OAuthFactor
ShopifyOAuthFactor: TypeAlias = OAuthFactor
SlackOAuthFactor: TypeAlias = OAuthFactor
SnapchatOAuthFactor: TypeAlias = OAuthFactor
SpotifyOAuthFactor: TypeAlias = OAuthFactor
SteamOAuthFactor: TypeAlias = OAuthFactor
TikTokOAuthFactor: TypeAlias = OAuthFactor
TwitchOAuthFactor: TypeAlias = OAuthFactor
TwitterOAuthFactor: TypeAlias = OAuthFactor
SalesforceOAuthFactor: TypeAlias = OAuthFactor
YahooOAuthFactor: TypeAlias = OAuthFactor
HubspotOAuthFactor: TypeAlias = OAuthFactor
SAMLSSOFactor: TypeAlias = SSOFactor
OIDCSSOFactor: TypeAlias = SSOFactor
SlackOAuthExchangeFactor: TypeAlias = OAuthExchangeFactor
HubspotOAuthExchangeFactor: TypeAlias = OAuthExchangeFactor
GithubOAuthExchangeFactor: TypeAlias = OAuthExchangeFactor
GoogleOAuthExchangeFactor: TypeAlias = OAuthExchangeFactor


@attrs.frozen
class AuthenticationFactor:
    """One way the user proved who they are during a session.

    For TOTP, ``type`` is ``"totp"`` with ``delivery_method`` ``"authenticator_app"`` and
    :attr:`authenticator_app_factor` set; for a recovery code, ``"recovery_codes"`` /
    ``"recovery_code"`` with :attr:`recovery_code_factor` set.
    """

    type: AuthenticationFactorType | str
    """The kind of factor (an :class:`AuthenticationFactorType`, or a plain ``str`` if new)."""
    delivery_method: AuthenticationFactorDeliveryMethod | str
    """How the factor was delivered (an :class:`AuthenticationFactorDeliveryMethod` or ``str``)."""
    last_authenticated_at: datetime | None = None
    """When the factor was last used."""
    created_at: datetime | None = None
    """When the factor was first used in this session."""
    updated_at: datetime | None = None
    """When the factor was last updated."""
    email_factor: EmailFactor | None = None
    """Set for email factors."""
    phone_number_factor: PhoneNumberFactor | None = None
    """Set for SMS and WhatsApp factors."""
    google_oauth_factor: OAuthFactor | None = None
    """Set for Google OAuth."""
    microsoft_oauth_factor: OAuthFactor | None = None
    """Set for Microsoft OAuth."""
    apple_oauth_factor: OAuthFactor | None = None
    """Set for Apple OAuth."""
    webauthn_factor: WebAuthnFactor | None = None
    """Set for WebAuthn."""
    authenticator_app_factor: AuthenticatorAppFactor | None = None
    """Set for TOTP."""
    github_oauth_factor: OAuthFactor | None = None
    """Set for GitHub OAuth."""
    recovery_code_factor: RecoveryCodeFactor | None = None
    """Set for TOTP recovery codes."""
    facebook_oauth_factor: OAuthFactor | None = None
    """Set for Facebook OAuth."""
    crypto_wallet_factor: CryptoWalletFactor | None = None
    """Set for crypto wallets."""
    amazon_oauth_factor: OAuthFactor | None = None
    """Set for Amazon OAuth."""
    bitbucket_oauth_factor: OAuthFactor | None = None
    """Set for Bitbucket OAuth."""
    coinbase_oauth_factor: OAuthFactor | None = None
    """Set for Coinbase OAuth."""
    discord_oauth_factor: OAuthFactor | None = None
    """Set for Discord OAuth."""
    figma_oauth_factor: OAuthFactor | None = None
    """Set for Figma OAuth."""
    git_lab_oauth_factor: OAuthFactor | None = None
    """Set for GitLab OAuth."""
    instagram_oauth_factor: OAuthFactor | None = None
    """Set for Instagram OAuth."""
    linked_in_oauth_factor: OAuthFactor | None = None
    """Set for LinkedIn OAuth."""
    shopify_oauth_factor: OAuthFactor | None = None
    """Set for Shopify OAuth."""
    slack_oauth_factor: OAuthFactor | None = None
    """Set for Slack OAuth."""
    snapchat_oauth_factor: OAuthFactor | None = None
    """Set for Snapchat OAuth."""
    spotify_oauth_factor: OAuthFactor | None = None
    """Set for Spotify OAuth."""
    steam_oauth_factor: OAuthFactor | None = None
    """Set for Steam OAuth."""
    tik_tok_oauth_factor: OAuthFactor | None = None
    """Set for TikTok OAuth."""
    twitch_oauth_factor: OAuthFactor | None = None
    """Set for Twitch OAuth."""
    twitter_oauth_factor: OAuthFactor | None = None
    """Set for Twitter OAuth."""
    embeddable_magic_link_factor: EmbeddableMagicLinkFactor | None = None
    """Set for embeddable magic links."""
    biometric_factor: BiometricFactor | None = None
    """Set for biometrics."""
    saml_sso_factor: SSOFactor | None = None
    """Set for SAML SSO."""
    oidc_sso_factor: SSOFactor | None = None
    """Set for OIDC SSO."""
    salesforce_oauth_factor: OAuthFactor | None = None
    """Set for Salesforce OAuth."""
    yahoo_oauth_factor: OAuthFactor | None = None
    """Set for Yahoo OAuth."""
    hubspot_oauth_factor: OAuthFactor | None = None
    """Set for HubSpot OAuth."""
    slack_oauth_exchange_factor: OAuthExchangeFactor | None = None
    """Set for Slack token exchange."""
    hubspot_oauth_exchange_factor: OAuthExchangeFactor | None = None
    """Set for HubSpot token exchange."""
    github_oauth_exchange_factor: OAuthExchangeFactor | None = None
    """Set for GitHub token exchange."""
    google_oauth_exchange_factor: OAuthExchangeFactor | None = None
    """Set for Google token exchange."""
    impersonated_factor: ImpersonatedFactor | None = None
    """Set for impersonation."""
    oauth_access_token_exchange_factor: OAuthAccessTokenExchangeFactor | None = None
    """Set for OAuth access token exchange."""
    trusted_auth_token_factor: TrustedAuthTokenFactor | None = None
    """Set for trusted auth tokens."""


@attrs.frozen
class Attributes:
    """Where a session's request came from."""

    ip_address: str | None = None
    """IP address of the user's request."""
    user_agent: str | None = None
    """User agent of the user's request."""


@attrs.frozen
class Session:
    """A Stytch session, returned when ``session_duration_minutes`` was given."""

    session_id: str
    """Unique id of the session."""
    user_id: str
    """The user the session belongs to."""
    authentication_factors: tuple[AuthenticationFactor, ...]
    """Every factor used in this session, oldest first."""
    roles: tuple[str, ...] = ()
    """RBAC roles granted in this session (absent in some published examples, so it defaults)."""
    started_at: datetime | None = None
    """When the session started."""
    last_accessed_at: datetime | None = None
    """When the session was last used."""
    expires_at: datetime | None = None
    """When the session expires unless extended."""
    attributes: Attributes | None = None
    """Request attributes recorded with the session."""
    custom_claims: Mapping[str, Any] | None = None
    """Custom claims set on the session (also present in the JWT)."""


# --------------------------------------------------------------------------------------------
# Device fingerprinting
# --------------------------------------------------------------------------------------------


@attrs.frozen
class DeviceAttributeDetails:
    """How new a device attribute is for this user."""

    is_new: bool
    """``True`` the first time this value is seen for the user."""
    first_seen_at: datetime | None = None
    """When it was first seen."""
    last_seen_at: datetime | None = None
    """When it was last seen."""


@attrs.frozen
class DeviceInfo:
    """Device information, returned when a valid ``telemetry_id`` was sent."""

    visitor_id: str
    """Device Fingerprinting visitor id."""
    visitor_id_details: DeviceAttributeDetails | None = None
    """History of the visitor id."""
    ip_address: str | None = None
    """IP address of the device."""
    ip_address_details: DeviceAttributeDetails | None = None
    """History of the IP address."""
    ip_geo_city: str | None = None
    """City of the IP address."""
    ip_geo_region: str | None = None
    """Region of the IP address."""
    ip_geo_country: str | None = None
    """Country of the IP address."""
    ip_geo_country_details: DeviceAttributeDetails | None = None
    """History of the country."""


# --------------------------------------------------------------------------------------------
# TOTP operations
# --------------------------------------------------------------------------------------------


@attrs.frozen
class TOTP:
    """A TOTP registration with its recovery codes (from :meth:`TOTPs.recovery_codes`)."""

    totp_id: str
    """Unique id of the TOTP registration."""
    verified: bool
    """``True`` once a code from it has been authenticated."""
    recovery_codes: tuple[str, ...] = attrs.field(repr=False)
    """The remaining recovery codes (secret: hidden from ``repr``)."""


@attrs.frozen
class CreateResponse:
    """Result of :meth:`TOTPs.create`: everything needed to enroll the user's authenticator app."""

    request_id: str
    """Id of this API call; log it when asking Stytch for help."""
    status_code: int
    """HTTP status, as repeated in the body."""
    totp_id: str
    """Id of the new TOTP registration."""
    secret: str = attrs.field(repr=False)
    """Base32 TOTP secret for manual entry in an authenticator app (hidden from ``repr``)."""
    qr_code: str = attrs.field(repr=False)
    """``data:image/png;base64,...`` QR code of the ``otpauth://`` URI (hidden from ``repr``)."""
    recovery_codes: tuple[str, ...] = attrs.field(repr=False)
    """Single-use recovery codes to show the user once (hidden from ``repr``)."""
    user: User = attrs.field()
    """The user, after the TOTP was added."""
    user_id: str = attrs.field()
    """Id of the user."""

    def qr_code_png(self) -> bytes:
        """The QR code as PNG bytes (to save, or serve as ``image/png``)."""
        return _totp_codes.qr_code_png(self.qr_code)


@attrs.frozen
class AuthenticateResponse:
    """Result of :meth:`TOTPs.authenticate`."""

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
    session_token: str = attrs.field(repr=False)
    """Opaque session token; ``""`` when no session was asked for (hidden from ``repr``)."""
    session_jwt: str = attrs.field(repr=False)
    """Session JWT (5-minute lifetime); ``""`` when no session was asked for (hidden from ``repr``)."""
    session: Session | None = None
    """The session, when ``session_duration_minutes`` was given."""
    user_device: DeviceInfo | None = None
    """Device information, when a valid ``telemetry_id`` was given."""


@attrs.frozen
class RecoveryCodesResponse:
    """Result of :meth:`TOTPs.recovery_codes`."""

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
    session_token: str = attrs.field(repr=False)
    """Opaque session token; ``""`` when no session was asked for (hidden from ``repr``)."""
    session_jwt: str = attrs.field(repr=False)
    """Session JWT; ``""`` when no session was asked for (hidden from ``repr``)."""
    session: Session | None = None
    """The session, when ``session_duration_minutes`` was given."""
    user_device: DeviceInfo | None = None
    """Device information, when a valid ``telemetry_id`` was given."""


# Resolve the string annotations now, while this module's names are in scope: the package
# re-labels these classes as ``stytch_totp.X``, where ``datetime`` etc. would not be found.
# ``typing.get_type_hints`` looks names up in ``sys.modules[cls.__module__]`` too, so the class
# annotations are replaced by the resolved types as well.
for _model in list(globals().values()):
    if isinstance(_model, type) and attrs.has(_model):
        attrs.resolve_types(_model)
        _model.__annotations__ = {field.name: field.type for field in attrs.fields(_model)}
