"""A script with a module-level SyncClient that it never closes: at interpreter exit the SDK
closes it (``python deploy_script.py <user_id>...`` prints each user's recovery codes left)."""

from __future__ import annotations

import sys

import stytch_totp

stytch = stytch_totp.SyncClient.from_env()


def main(user_ids: list[str]) -> None:
    for user_id in user_ids:
        listing = stytch.totps.recovery_codes(user_id=user_id)
        print(user_id, sum(len(totp.recovery_codes) for totp in listing.totps))


if __name__ == "__main__":
    main(sys.argv[1:])
