"""Enrolling a user's authenticator app, and logging in with a recovery code."""

from __future__ import annotations

import html
from pathlib import Path

import stytch_totp

WRONG_CODE = {"unable_to_authenticate_totp", "totp_code_already_authenticated"}


async def start_enrollment(client: stytch_totp.Client, user_id: str) -> stytch_totp.CreateResponse:
    # Unverified until the user types a first code; unusable if that takes over 15 minutes.
    return await client.totps.create(user_id=user_id, expiration_minutes=15)


def enrollment_page(created: stytch_totp.CreateResponse) -> str:
    """The HTML that shows the QR code, the key for manual entry, and the recovery codes.

    Send it to this user only, once; never log or store the secret or the codes yourself.
    """
    key = " ".join(created.secret[i : i + 4] for i in range(0, len(created.secret), 4))
    codes = "".join(f"<li><code>{html.escape(code)}</code></li>" for code in created.recovery_codes)
    return (
        f'<img src="{html.escape(created.qr_code)}" alt="QR code for your authenticator app">\n'
        f"<p>Can't scan it? Enter this key: <code>{html.escape(key)}</code></p>\n"
        f"<p>Keep these recovery codes somewhere safe; each works once:</p>\n<ul>{codes}</ul>\n"
    )


def save_qr_code(created: stytch_totp.CreateResponse, path: Path) -> None:
    """The QR code as a PNG file, e.g. to attach to an email or print."""
    path.write_bytes(created.qr_code_png())


async def finish_enrollment(client: stytch_totp.Client, user_id: str, code: str) -> bool:
    """Verify the first code the app shows: from then on, TOTP is the user's second factor."""
    try:
        auth = await client.totps.authenticate(user_id=user_id, totp_code=code)
    except stytch_totp.InvalidParamsError:
        return False  # not 6 digits: nothing was sent
    except stytch_totp.AuthenticationError as error:
        if error.error_type in WRONG_CODE:
            return False
        raise  # e.g. unauthorized_credentials: a configuration problem, not the user's
    return any(totp.verified for totp in auth.user.totps)


async def log_in_with_recovery_code(
    client: stytch_totp.Client, user_id: str, recovery_code: str
) -> stytch_totp.RecoverResponse | None:
    """Second factor for a user without their phone: spends one recovery code."""
    try:
        recovered = await client.totps.recover(
            user_id=user_id, recovery_code=recovery_code.strip(), session_duration_minutes=60
        )
    except stytch_totp.AuthenticationError as error:
        if error.error_type == "unable_to_authenticate_recovery_code":
            return None  # wrong, or already used
        raise
    return recovered


async def recovery_codes_left(client: stytch_totp.Client, user_id: str) -> int:
    """After a recovery login: when few are left, ask the user to enroll their app again."""
    listing = await client.totps.recovery_codes(user_id=user_id)
    return sum(len(totp.recovery_codes) for totp in listing.totps if totp.verified)
