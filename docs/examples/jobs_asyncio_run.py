"""One event loop per job: a module-level Client shared by jobs that each run their own
``asyncio.run`` (a thread pool of jobs, a worker that runs each task in a fresh loop, a command
per job): ``python jobs_asyncio_run.py <user_id>...``."""

from __future__ import annotations

import asyncio
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import stytch_totp

# One client for the process. Each event loop it is used from gets a pool of its own, opened
# on the loop's first call and closed when that loop shuts down (as asyncio.run ends).
stytch = stytch_totp.Client.from_env()


async def enroll(user_id: str) -> dict[str, str]:
    created = await stytch.totps.create(user_id=user_id)
    return {"asked": user_id, "answered": created.user_id}


def run_job(user_id: str) -> dict[str, str]:
    """One job, in an event loop of its own."""
    return asyncio.run(enroll(user_id))


def main(user_ids: list[str]) -> None:
    half = len(user_ids) // 2
    for user_id in user_ids[:half]:  # one job after another, a new loop each time
        print(json.dumps(run_job(user_id)))
    with ThreadPoolExecutor(4) as threads:  # jobs at the same time, a loop in each thread
        for result in threads.map(run_job, user_ids[half:]):
            print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
