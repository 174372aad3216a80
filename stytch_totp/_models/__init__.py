"""The public data types: what Stytch returns (one module per resource) and what each call sends.

Frozen, slotted attrs classes, named after the JSON keys. How JSON becomes these objects, and
back, is not their business: that is ``_core/converter.py``. Unknown keys are ignored there,
unknown enum values kept as plain strings, and a missing required key is an
``UnexpectedResponseError`` naming its path.

Every model is slotted. Non-slotted classes would parse a little faster, but then ``vars(model)``
would show the secret fields that ``repr`` hides, and a ``__dict__`` costs memory: a kept
authenticate response grew from 8.1 to 12.9 KiB (CPython shares the keys of instance dicts only
up to 30 keys; ``AuthenticationFactor`` has 46).
"""

from .device import DeviceAttributeDetails, DeviceInfo
from .params import AuthenticateParams, CreateParams, RecoverParams, RecoveryCodesParams
from .session import (
    Attributes,
    AuthenticationFactor,
    AuthenticationFactorDeliveryMethod,
    AuthenticationFactorType,
    AuthenticatorAppFactor,
    BiometricFactor,
    CryptoWalletFactor,
    EmailFactor,
    EmbeddableMagicLinkFactor,
    ImpersonatedFactor,
    OAuthAccessTokenExchangeFactor,
    OAuthExchangeFactor,
    OAuthFactor,
    PhoneNumberFactor,
    RecoveryCodeFactor,
    Session,
    SSOFactor,
    TrustedAuthTokenFactor,
    WebAuthnFactor,
)
from .totp import (
    TOTP,
    AuthenticateResponse,
    CreateResponse,
    RecoverResponse,
    RecoveryCodesResponse,
)
from .user import (
    BiometricRegistration,
    CryptoWallet,
    Email,
    Name,
    OAuthProvider,
    Password,
    PhoneNumber,
    User,
    UserTOTP,
    WebAuthnRegistration,
)

__all__ = [
    "TOTP",
    "Attributes",
    "AuthenticateParams",
    "AuthenticateResponse",
    "AuthenticationFactor",
    "AuthenticationFactorDeliveryMethod",
    "AuthenticationFactorType",
    "AuthenticatorAppFactor",
    "BiometricFactor",
    "BiometricRegistration",
    "CreateParams",
    "CreateResponse",
    "CryptoWallet",
    "CryptoWalletFactor",
    "DeviceAttributeDetails",
    "DeviceInfo",
    "Email",
    "EmailFactor",
    "EmbeddableMagicLinkFactor",
    "ImpersonatedFactor",
    "Name",
    "OAuthAccessTokenExchangeFactor",
    "OAuthExchangeFactor",
    "OAuthFactor",
    "OAuthProvider",
    "Password",
    "PhoneNumber",
    "PhoneNumberFactor",
    "RecoverParams",
    "RecoverResponse",
    "RecoveryCodeFactor",
    "RecoveryCodesParams",
    "RecoveryCodesResponse",
    "SSOFactor",
    "Session",
    "TrustedAuthTokenFactor",
    "User",
    "UserTOTP",
    "WebAuthnFactor",
    "WebAuthnRegistration",
]
