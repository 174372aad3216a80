"""Retries: tune the policy, and know what to do when a call may or may not have happened."""

from __future__ import annotations

import enum

import stytch_totp

# Patient with rate limits and restarts, but never waits more than 10 s for a Retry-After.
PATIENT = stytch_totp.RetryPolicy(
    max_retries=4, initial_backoff=0.2, max_backoff=4.0, max_retry_after=10.0
)


def make_client() -> stytch_totp.Client:
    return stytch_totp.Client.from_env(retry=PATIENT)


async def codes_left(client: stytch_totp.Client, user_id: str) -> int:
    # Read-only: retried after a timeout, a dropped connection or a 5xx, too.
    listing = await client.totps.recovery_codes(user_id=user_id)
    return sum(len(totp.recovery_codes) for totp in listing.totps)


class Next(enum.Enum):
    SIGNED_IN = "signed in"
    RETRY_SAME_CODE = "the code never reached Stytch: it can be sent again"
    ASK_FOR_NEXT_CODE = "the code may be spent: ask for the next one"


async def log_in(client: stytch_totp.Client, user_id: str, code: str) -> Next:
    try:
        await client.totps.authenticate(user_id=user_id, totp_code=code)
    except stytch_totp.APIConnectionError as error:
        # Already retried when that was safe. Otherwise, it depends on whether Stytch may
        # have seen the code: a replay of an accepted code would be refused.
        if error.may_have_been_processed:
            return Next.ASK_FOR_NEXT_CODE
        return Next.RETRY_SAME_CODE
    except stytch_totp.InternalServerError:
        return Next.ASK_FOR_NEXT_CODE  # a 500/502/504: Stytch may have acted, too
    return Next.SIGNED_IN


async def log_in_without_retries(client: stytch_totp.Client, user_id: str, code: str) -> None:
    # Per call: e.g. inside a request that has its own deadline.
    await client.totps.authenticate(
        user_id=user_id, totp_code=code, retry=stytch_totp.RetryPolicy.none()
    )
