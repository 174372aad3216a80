"""``with_raw_response``: the headers, the attempts and the time a call took, then the model."""

from __future__ import annotations

import stytch_totp


async def codes_left(client: stytch_totp.Client, user_id: str) -> tuple[int, int, str | None]:
    raw = await client.totps.with_raw_response.recovery_codes(user_id=user_id)
    # Rate-limit headers, the request id header, how many attempts it took: all on `raw`.
    print(f"{raw.operation}: HTTP {raw.status_code} after {raw.attempts} attempt(s)")
    codes = raw.parse()  # the RecoveryCodesResponse that recovery_codes() returns
    left = sum(len(totp.recovery_codes) for totp in codes.totps)
    return left, raw.attempts, raw.headers.get("Content-Type")
