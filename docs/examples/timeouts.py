"""Timeouts and pool size: set once on the Client, overridden per call where it matters."""

from __future__ import annotations

import stytch_totp

#: A login form should not hang: give Stytch a few seconds, then tell the user.
LOGIN_TIMEOUT = 5.0


def make_client() -> stytch_totp.Client:
    return stytch_totp.Client.from_env(
        # Per attempt: at most 2 s to connect, 15 s in all (a float means total seconds).
        timeout=stytch_totp.Timeout(total=15, connect=2),
        # At most 50 connections to Stytch at once; further calls wait for a free one.
        max_connections=50,
    )


async def second_factor(client: stytch_totp.Client, user_id: str, code: str) -> str:
    try:
        await client.totps.authenticate(user_id=user_id, totp_code=code, timeout=LOGIN_TIMEOUT)
    except stytch_totp.APIConnectionError as error:  # APITimeoutError is one
        if error.may_have_been_processed:
            # The request went out and no answer came in time. Not retried: Stytch may have
            # accepted the code, and sending it again would be refused as a replay.
            return "Stytch did not answer in time; wait for the next code and try again."
        # Nothing was sent (after the retries this allows): the same code can be tried again.
        return "Stytch cannot be reached right now; try again in a moment."
    return "ok"
