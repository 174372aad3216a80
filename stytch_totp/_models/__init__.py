"""The public data types: what Stytch returns (one module per resource) and what each call sends.

Frozen, slotted attrs classes, named after the JSON keys. How JSON becomes these objects, and
back, is not their business: that is ``_core/converter.py`` (with a hook generated per model in
``_core/model_hooks.py``). Unknown keys are ignored there, unknown enum values kept as plain
strings, and a missing required key is an ``UnexpectedResponseError`` naming its path.

**What ``repr`` shows** (``str`` is the same; ``reprs.py``), for responses and params alike:

* a secret (the TOTP ``secret``, ``qr_code``, ``recovery_codes``, ``session_token``,
  ``session_jwt``, and in params the ``totp_code`` and ``recovery_code``) shows as
  ``secret=<hidden>`` whenever it holds a value (anything but ``None``), so it can be discovered
  in a REPL; nothing of the value shows, not even its length or whether it is empty;
* any other field is left out when it holds nothing: ``None``, an empty string, tuple or mapping,
  or its default, whether the field is required or not (an empty ``User.crypto_wallets`` says no
  more than an absent one, and the ``""`` Stytch sends for a ``middle_name`` never given no more
  than ``None``). Every other value is shown with its own ``repr``, ``False`` and ``0``
  included, nested models by this same rule.

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
