"""A script (a cron job, a Celery task, a shell): no event loop, no await."""

from __future__ import annotations

import stytch_totp


def recovery_codes_left(user_ids: list[str]) -> dict[str, int]:
    with stytch_totp.SyncClient.from_env() as client:
        left = {}
        for user_id in user_ids:
            codes = client.totps.recovery_codes(user_id=user_id)
            left[user_id] = sum(len(totp.recovery_codes) for totp in codes.totps)
        return left
