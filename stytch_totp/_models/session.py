"""A session and the authentication factors it records (``sessions.Session`` in Stytch's API).

Stytch names one factor class per OAuth provider (``GoogleOAuthFactor``, ``GithubOAuthFactor``...),
all of the same shape; here one class per shape serves them all: :class:`OAuthFactor` for the 24
OAuth providers, :class:`SSOFactor` for SAML and OIDC, :class:`OAuthExchangeFactor` for the four
token exchanges. Which provider a factor came from is told by the field that holds it
(``google_oauth_factor``) and by :attr:`AuthenticationFactor.delivery_method` (``"oauth_google"``).
"""

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from .reprs import readable_repr

__all__ = [
    "Attributes",
    "AuthenticationFactor",
    "AuthenticationFactorDeliveryMethod",
    "AuthenticationFactorType",
    "AuthenticatorAppFactor",
    "BiometricFactor",
    "CryptoWalletFactor",
    "EmailFactor",
    "EmbeddableMagicLinkFactor",
    "ImpersonatedFactor",
    "OAuthAccessTokenExchangeFactor",
    "OAuthExchangeFactor",
    "OAuthFactor",
    "PhoneNumberFactor",
    "RecoveryCodeFactor",
    "SSOFactor",
    "Session",
    "TrustedAuthTokenFactor",
    "WebAuthnFactor",
]


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

    __repr__ = readable_repr

    email_id: str
    """Id of the email address used."""
    email_address: str
    """The email address used."""


@attrs.frozen
class PhoneNumberFactor:
    """Details of a phone-based factor."""

    __repr__ = readable_repr

    phone_id: str
    """Id of the phone number used."""
    phone_number: str
    """The phone number used."""


@attrs.frozen
class OAuthFactor:
    """Details of an OAuth factor; every provider's factor has this shape."""

    __repr__ = readable_repr

    id: str
    """Id of the OAuth registration."""
    provider_subject: str
    """The user's id at the provider."""
    email_id: str | None = None
    """Id of the email address the provider reported, if any."""


@attrs.frozen
class WebAuthnFactor:
    """Details of a WebAuthn factor."""

    __repr__ = readable_repr

    webauthn_registration_id: str
    """Id of the WebAuthn registration used."""
    domain: str
    """Domain of the credential."""
    user_agent: str | None = None
    """User agent that authenticated."""


@attrs.frozen
class AuthenticatorAppFactor:
    """Details of a TOTP (authenticator app) factor."""

    __repr__ = readable_repr

    totp_id: str
    """Id of the TOTP registration used."""


@attrs.frozen
class RecoveryCodeFactor:
    """Details of a recovery-code factor."""

    __repr__ = readable_repr

    totp_recovery_code_id: str
    """Id of the recovery code used (never the code itself)."""


@attrs.frozen
class CryptoWalletFactor:
    """Details of a crypto wallet factor."""

    __repr__ = readable_repr

    crypto_wallet_id: str
    """Id of the wallet registration used."""
    crypto_wallet_address: str
    """Address of the wallet used."""
    crypto_wallet_type: str
    """Type of the wallet used."""


@attrs.frozen
class EmbeddableMagicLinkFactor:
    """Details of an embeddable magic link factor."""

    __repr__ = readable_repr

    embedded_id: str
    """Id of the embeddable magic link used."""


@attrs.frozen
class BiometricFactor:
    """Details of a biometric factor."""

    __repr__ = readable_repr

    biometric_registration_id: str
    """Id of the biometric registration used."""


@attrs.frozen
class SSOFactor:
    """Details of a SAML or OIDC single sign-on factor."""

    __repr__ = readable_repr

    id: str
    """Id of the SSO registration."""
    provider_id: str
    """Id of the identity provider connection."""
    external_id: str
    """The user's id at the identity provider."""


@attrs.frozen
class OAuthExchangeFactor:
    """Details of an OAuth token exchange factor; every provider's has this shape."""

    __repr__ = readable_repr

    email_id: str
    """Id of the email address the exchange verified."""


@attrs.frozen
class ImpersonatedFactor:
    """Details of an impersonation factor."""

    __repr__ = readable_repr

    impersonator_id: str
    """Id of the member or admin doing the impersonation."""
    impersonator_email_address: str
    """Email address of the impersonator."""


@attrs.frozen
class OAuthAccessTokenExchangeFactor:
    """Details of an OAuth access token exchange factor."""

    __repr__ = readable_repr

    client_id: str
    """Id of the OAuth client that exchanged the token."""


@attrs.frozen
class TrustedAuthTokenFactor:
    """Details of a trusted auth token factor."""

    __repr__ = readable_repr

    token_id: str
    """Id of the trusted auth token profile."""


@attrs.frozen
class AuthenticationFactor:
    """One way the user proved who they are during a session.

    For TOTP, ``type`` is ``"totp"`` with ``delivery_method`` ``"authenticator_app"`` and
    :attr:`authenticator_app_factor` set; for a recovery code, ``"recovery_codes"`` /
    ``"recovery_code"`` with :attr:`recovery_code_factor` set.
    """

    __repr__ = readable_repr

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

    __repr__ = readable_repr

    ip_address: str | None = None
    """IP address of the user's request."""
    user_agent: str | None = None
    """User agent of the user's request."""


@attrs.frozen
class Session:
    """A Stytch session, returned when ``session_duration_minutes`` was given."""

    __repr__ = readable_repr

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
