"""Quickstart: enroll a user's authenticator app, then verify the first code it shows.

Run it against your Stytch test project, or against the local emulator (``stytch-totp emulator``
prints the variables to export)::

    export STYTCH_PROJECT_ID=project-test-... STYTCH_SECRET=secret-test-...
    python quickstart.py user-test-...
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

import stytch_totp


def ask_in_terminal(secret: str) -> str:
    """Have the person add the key to their authenticator app, then type the code it shows."""
    # Printed on purpose: in this demo the terminal is how the key reaches the app. A web app
    # shows the QR code (``created.qr_code``) instead, and never logs either.
    print(f"Add this key to your authenticator app: {secret}")
    return input("Then type the 6-digit code it shows: ").strip()


async def main(user_id: str, ask_for_code: Callable[[str], str] = ask_in_terminal) -> None:
    # Reads STYTCH_PROJECT_ID, STYTCH_SECRET and, when set, STYTCH_BASE_URL.
    async with stytch_totp.Client.from_env() as client:
        created = await client.totps.create(user_id=user_id, expiration_minutes=10)
        print(f"Created {created.totp_id} with {len(created.recovery_codes)} recovery codes")

        # input() blocks: run it in a thread so the event loop stays free.
        code = await asyncio.to_thread(ask_for_code, created.secret)
        auth = await client.totps.authenticate(
            user_id=user_id, totp_code=code, session_duration_minutes=60
        )
        assert auth.session is not None  # asked for with session_duration_minutes
        print(f"Verified: session {auth.session.session_id} until {auth.session.expires_at}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
