"""Forked workers (Celery's prefork pool, multiprocessing with the fork start method) whose
tasks run the async Client, each in its own ``asyncio.run``, sharing a Client that the parent
created and used: ``python deploy_forked_async.py <user_id>...``."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys

import stytch_totp

stytch = stytch_totp.Client.from_env()


async def enroll(user_id: str) -> dict[str, object]:
    created = await stytch.totps.create(user_id=user_id)
    return {"asked": user_id, "answered": created.user_id, "worker": os.getpid()}


def task(user_id: str) -> dict[str, object]:
    """A task, run in a forked child: its own event loop, so its own pool."""
    return asyncio.run(enroll(user_id))


async def parent_call(user_id: str) -> str:
    return (await stytch.totps.recovery_codes(user_id=user_id)).user_id


def main(user_ids: list[str]) -> None:
    asyncio.run(enroll(user_ids[0]))  # the parent uses its client first
    # Fork outside any running event loop (as Celery does): a child forked inside one would
    # inherit a loop it cannot run.
    with multiprocessing.get_context("fork").Pool(4) as workers:
        for result in workers.imap_unordered(task, user_ids[1:]):
            print(json.dumps(result))
    print(json.dumps({"parent": asyncio.run(parent_call(user_ids[0]))}))  # still works


if __name__ == "__main__":
    main(sys.argv[1:])
