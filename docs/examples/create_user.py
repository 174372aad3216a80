"""Create a user to try the quickstart with: Stytch's ``POST /v1/users``, which the emulator has.

stytch-totp covers the TOTP API only; in your app, users come from your sign-up flow (through
Stytch's users API). With the variables ``stytch-totp emulator`` prints exported::

    python create_user.py ada@example.com
"""

from __future__ import annotations

import asyncio
import os
import sys

import aiohttp


async def create_user(email: str) -> str:
    base_url = os.environ.get("STYTCH_BASE_URL", "https://test.stytch.com").rstrip("/")
    auth = aiohttp.encode_basic_auth(os.environ["STYTCH_PROJECT_ID"], os.environ["STYTCH_SECRET"])
    async with (
        aiohttp.ClientSession(raise_for_status=True) as session,
        session.post(
            f"{base_url}/v1/users", json={"email": email}, headers={"Authorization": auth}
        ) as response,
    ):
        body = await response.json()
    user_id: str = body["user_id"]
    return user_id


if __name__ == "__main__":
    print(asyncio.run(create_user(sys.argv[1])))
