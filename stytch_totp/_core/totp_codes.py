"""TOTP helpers for apps and tests: the current code, the ``otpauth://`` URI, the QR code's PNG.

Codes follow RFC 6238 as Stytch uses it: HMAC-SHA1, 6 digits, 30-second steps. Standard library
only, so ``import stytch_totp`` never needs the emulator's extra dependencies.

Errors never repeat a secret: a bad secret or QR code is described, not shown.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import struct
import time
from datetime import datetime
from urllib.parse import quote

from .._config import TOTP_CODE_DIGITS, TOTP_PERIOD_SECONDS
from .._exceptions import InvalidParamsError
from .._models.qr_code import png_of_data_uri
from .._models.totp import CreateResponse

__all__ = [
    "code_at_step",
    "decode_secret",
    "otpauth_uri",
    "qr_code_png",
    "time_step",
    "totp_code",
]

# Separators people type when copying a secret by hand ("WG2S AK2F ...").
_SECRET_SEPARATORS = re.compile(r"[\s-]+")
# RFC 4226's counter is 8 bytes.
_STEP_LIMIT = 2**64
_NO_STEP = "must be finite and from 1970-01-01 UTC on (the RFC 6238 counter starts there)"


def decode_secret(secret: str) -> bytes:
    """The key bytes of a base32 (RFC 4648) TOTP secret; case, spaces and padding don't matter."""
    if not isinstance(secret, str):
        raise InvalidParamsError("secret", f"must be a str, not {type(secret).__name__}")
    text = _SECRET_SEPARATORS.sub("", secret).upper().rstrip("=")
    if not text:
        raise InvalidParamsError("secret", "must not be empty")
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except binascii.Error:
        raise InvalidParamsError("secret", "must be base32 (letters A-Z and digits 2-7)") from None


def time_step(at: datetime | float | None = None, *, period: int = TOTP_PERIOD_SECONDS) -> int:
    """The RFC 6238 time step ``at`` falls in (now by default).

    ``at`` is a timezone-aware datetime or Unix seconds; a naive datetime is refused rather than
    guessed at, since reading it as local time or as UTC would give different codes. Times before
    1970 and non-finite seconds have no step: :class:`InvalidParamsError` names ``at``.
    """
    if at is None:
        seconds = time.time()
    elif isinstance(at, datetime):
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidParamsError("at", "must be a timezone-aware datetime")
        seconds = at.timestamp()
    elif isinstance(at, int | float) and not isinstance(at, bool):
        try:
            seconds = float(at)
        except OverflowError:
            raise InvalidParamsError("at", _NO_STEP) from None
    else:
        raise InvalidParamsError(
            "at", f"must be a datetime or Unix seconds, not {type(at).__name__}"
        )
    if not (math.isfinite(seconds) and seconds >= 0):
        raise InvalidParamsError("at", _NO_STEP)
    step = int(seconds // period)
    if step >= _STEP_LIMIT:
        raise InvalidParamsError("at", "is too far in the future for the RFC 6238 counter")
    return step


def code_at_step(key: bytes, step: int, *, digits: int = TOTP_CODE_DIGITS) -> str:
    """The HOTP value (RFC 4226) of ``key`` at counter ``step``, as ``digits`` decimal digits."""
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp_code(secret: str, at: datetime | float | None = None) -> str:
    """The 6-digit code an authenticator app shows for ``secret`` at ``at`` (now by default).

    ``secret`` is the base32 secret of :attr:`CreateResponse.secret`; ``at`` a timezone-aware
    datetime or Unix seconds.
    """
    return code_at_step(decode_secret(secret), time_step(at))


def otpauth_uri(
    secret: str,
    *,
    account: str,
    issuer: str,
    digits: int = TOTP_CODE_DIGITS,
    period: int = TOTP_PERIOD_SECONDS,
) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans, as Stytch puts in its QR codes.

    ``account`` is usually the user's email and ``issuer`` the Stytch project's name; both appear
    in the app's list. The label is ``issuer:account``, and ``issuer`` is repeated as a parameter.
    """
    decode_secret(secret)  # refuse a malformed secret here rather than in the user's app
    for field, value in (("account", account), ("issuer", issuer)):
        if not isinstance(value, str) or not value:
            raise InvalidParamsError(field, "must be a non-empty str")
    if ":" in issuer:
        raise InvalidParamsError("issuer", "must not contain ':' (it separates issuer and account)")
    normalized = _SECRET_SEPARATORS.sub("", secret).upper().rstrip("=")
    label = f"{quote(issuer, safe='')}:{quote(account, safe='@')}"
    return (
        f"otpauth://totp/{label}?algorithm=SHA1&digits={digits}&period={period}"
        f"&secret={normalized}&issuer={quote(issuer, safe='')}"
    )


def qr_code_png(source: CreateResponse | str) -> bytes:
    """The PNG bytes of a QR code, from a :class:`CreateResponse` or its ``qr_code`` data URI.

    Stytch sends ``data:image/png;base64,<png>``, sometimes with a space after the comma; both
    forms are accepted. Anything that is not a base64 PNG raises :class:`InvalidParamsError`.
    """
    if isinstance(source, CreateResponse):
        return source.qr_code_png()
    if not isinstance(source, str):
        raise InvalidParamsError(
            "qr_code", f"expected a CreateResponse or a data URI, not {type(source).__name__}"
        )
    return png_of_data_uri(source)
