"""Forked workers (Celery's prefork pool, multiprocessing with the fork start method) sharing a
SyncClient created, and used, by the parent: ``python deploy_forked.py <user_id>...``."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys

import stytch_totp

stytch = stytch_totp.SyncClient.from_env()


def enroll(user_id: str) -> dict[str, object]:
    """A task, run in a forked child: the child's first call starts the child's own pool."""
    created = stytch.totps.create(user_id=user_id)
    return {"asked": user_id, "answered": created.user_id, "worker": os.getpid()}


def main(user_ids: list[str]) -> None:
    stytch.totps.create(user_id=user_ids[0])  # the parent uses its client first
    with multiprocessing.get_context("fork").Pool(4) as workers:
        for result in workers.imap_unordered(enroll, user_ids[1:]):
            print(json.dumps(result))
    # The parent's pool was never touched by the children: it still works.
    print(json.dumps({"parent": stytch.totps.recovery_codes(user_id=user_ids[0]).user_id}))


if __name__ == "__main__":
    main(sys.argv[1:])
