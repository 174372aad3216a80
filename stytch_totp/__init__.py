"""stytch-totp: an async-first client for Stytch's TOTP (authenticator app) API.

::

    import stytch_totp

    async with stytch_totp.Client(project_id, secret) as client:
        created = await client.totps.create(user_id=user_id)
        auth = await client.totps.authenticate(user_id=user_id, totp_code="123456")

Everything public is importable from here; the modules behind it are private.
"""

from . import _publish
from ._bulk.engine import BulkEnrollment, BulkProgress, EnrollmentResult
from ._client import Client
from ._core.call_args import RequestOptions
from ._core.raw_response import APIResponse
from ._core.retry import RetryPolicy
from ._core.timeouts import Timeout
from ._core.totp_codes import otpauth_uri, qr_code_png, totp_code
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BulkAbortedError,
    ClientClosedError,
    ConflictError,
    FailureKind,
    InternalServerError,
    InvalidParamsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StytchError,
    TransportError,
    UnexpectedResponseError,
)
from ._models import (
    TOTP,
    Attributes,
    AuthenticateParams,
    AuthenticateResponse,
    AuthenticationFactor,
    AuthenticationFactorDeliveryMethod,
    AuthenticationFactorType,
    AuthenticatorAppFactor,
    BiometricFactor,
    BiometricRegistration,
    CreateParams,
    CreateResponse,
    CryptoWallet,
    CryptoWalletFactor,
    DeviceAttributeDetails,
    DeviceInfo,
    Email,
    EmailFactor,
    EmbeddableMagicLinkFactor,
    ImpersonatedFactor,
    Name,
    OAuthAccessTokenExchangeFactor,
    OAuthExchangeFactor,
    OAuthFactor,
    OAuthProvider,
    Password,
    PhoneNumber,
    PhoneNumberFactor,
    RecoverParams,
    RecoverResponse,
    RecoveryCodeFactor,
    RecoveryCodesParams,
    RecoveryCodesResponse,
    Session,
    SSOFactor,
    TrustedAuthTokenFactor,
    User,
    UserTOTP,
    WebAuthnFactor,
    WebAuthnRegistration,
)
from ._resources.totps import TOTPs, TOTPsWithRawResponse
from ._sync.client import SyncClient
from ._sync.resources import SyncBulkEnrollment, SyncTOTPs, SyncTOTPsWithRawResponse
from ._transport.aiohttp import AiohttpTransport
from ._transport.base import Transport, TransportRequest, TransportResponse
from ._version import __version__

__all__ = [
    "TOTP",
    "APIConnectionError",
    "APIResponse",
    "APIStatusError",
    "APITimeoutError",
    "AiohttpTransport",
    "Attributes",
    "AuthenticateParams",
    "AuthenticateResponse",
    "AuthenticationError",
    "AuthenticationFactor",
    "AuthenticationFactorDeliveryMethod",
    "AuthenticationFactorType",
    "AuthenticatorAppFactor",
    "BadRequestError",
    "BiometricFactor",
    "BiometricRegistration",
    "BulkAbortedError",
    "BulkEnrollment",
    "BulkProgress",
    "Client",
    "ClientClosedError",
    "ConflictError",
    "CreateParams",
    "CreateResponse",
    "CryptoWallet",
    "CryptoWalletFactor",
    "DeviceAttributeDetails",
    "DeviceInfo",
    "Email",
    "EmailFactor",
    "EmbeddableMagicLinkFactor",
    "EnrollmentResult",
    "FailureKind",
    "ImpersonatedFactor",
    "InternalServerError",
    "InvalidParamsError",
    "Name",
    "NotFoundError",
    "OAuthAccessTokenExchangeFactor",
    "OAuthExchangeFactor",
    "OAuthFactor",
    "OAuthProvider",
    "Password",
    "PermissionDeniedError",
    "PhoneNumber",
    "PhoneNumberFactor",
    "RateLimitError",
    "RecoverParams",
    "RecoverResponse",
    "RecoveryCodeFactor",
    "RecoveryCodesParams",
    "RecoveryCodesResponse",
    "RequestOptions",
    "RetryPolicy",
    "SSOFactor",
    "Session",
    "StytchError",
    "SyncBulkEnrollment",
    "SyncClient",
    "SyncTOTPs",
    "SyncTOTPsWithRawResponse",
    "TOTPs",
    "TOTPsWithRawResponse",
    "Timeout",
    "Transport",
    "TransportError",
    "TransportRequest",
    "TransportResponse",
    "TrustedAuthTokenFactor",
    "UnexpectedResponseError",
    "User",
    "UserTOTP",
    "WebAuthnFactor",
    "WebAuthnRegistration",
    "__version__",
    "otpauth_uri",
    "qr_code_png",
    "totp_code",
]

# Reprs, tracebacks, pickles and the docs name ``stytch_totp.X``, not the private module behind it.
_publish.publish(__name__, globals(), __all__)
