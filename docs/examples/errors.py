"""Handling what can go wrong when a user types a TOTP code or a recovery code."""

from __future__ import annotations

import enum

import stytch_totp


class Outcome(enum.Enum):
    """What to tell the user, and what to do next."""

    OK = "Signed in."
    MALFORMED = "Enter the 6 digits your authenticator app shows."
    NOT_A_RECOVERY_CODE = "That is a code from your app. Enter one of your recovery codes."
    WRONG_CODE = "That code is not right. Check your app and try again."
    REPLAYED = "That code was already used. Wait for the next one."
    LOCKED = "Too many wrong codes. Try again later."
    NOT_ENROLLED = "Set up your authenticator app first."
    SLOW_DOWN = "Too many requests. Try again in a moment."
    UNAVAILABLE = "We cannot check your code right now. Try again in a moment."


async def check_code(client: stytch_totp.Client, user_id: str, code: str) -> Outcome:
    try:
        await client.totps.authenticate(user_id=user_id, totp_code=code)
    except stytch_totp.InvalidParamsError:
        return Outcome.MALFORMED  # refused before anything was sent
    except stytch_totp.AuthenticationError as error:
        if error.error_type == "unable_to_authenticate_totp":
            return Outcome.WRONG_CODE
        if error.error_type == "totp_code_already_authenticated":
            return Outcome.REPLAYED
        raise  # unauthorized_credentials: our configuration is wrong, not the user's code
    except stytch_totp.RateLimitError as error:
        if error.error_type == "user_lock_limit_reached":
            return Outcome.LOCKED
        return Outcome.SLOW_DOWN  # too_many_requests, already retried by the client
    except stytch_totp.NotFoundError:
        # totps_not_found_for_user: never enrolled, or the enrollment expired unverified.
        return Outcome.NOT_ENROLLED
    except (stytch_totp.APIConnectionError, stytch_totp.InternalServerError):
        return Outcome.UNAVAILABLE
    return Outcome.OK


async def check_recovery_code(client: stytch_totp.Client, user_id: str, code: str) -> Outcome:
    try:
        await client.totps.recover(user_id=user_id, recovery_code=code)
    except stytch_totp.AuthenticationError as error:
        if error.error_type == "unable_to_authenticate_recovery_code":
            return Outcome.WRONG_CODE  # wrong, or already used: each code works once
        raise
    except stytch_totp.BadRequestError as error:
        if error.error_type == "totp_code_used_as_recovery_code":
            return Outcome.NOT_A_RECOVERY_CODE
        raise
    except stytch_totp.RateLimitError as error:
        if error.error_type == "user_lock_limit_reached":
            return Outcome.LOCKED
        return Outcome.SLOW_DOWN
    except stytch_totp.NotFoundError:
        return Outcome.NOT_ENROLLED
    return Outcome.OK


async def start_enrollment(
    client: stytch_totp.Client, user_id: str
) -> stytch_totp.CreateResponse | None:
    """A new TOTP registration, or ``None`` when the user already has a verified one."""
    try:
        return await client.totps.create(user_id=user_id)
    except stytch_totp.BadRequestError as error:
        if error.error_type == "active_totp_exists":
            return None
        raise
