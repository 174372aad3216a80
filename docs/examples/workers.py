"""Async workers: one Client per process, shared by every worker task of its event loop.

This job finds the users who are running out of recovery codes, so they can be asked to
print new ones. ``recovery_codes`` is read-only, which makes it safe to retry on any failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import stytch_totp

LOW_WATER_MARK = 3


async def codes_left(client: stytch_totp.Client, user_id: str) -> int:
    listing = await client.totps.recovery_codes(user_id=user_id)
    return sum(len(totp.recovery_codes) for totp in listing.totps if totp.verified)


async def users_running_low(user_ids: Iterable[str], *, workers: int = 8) -> list[str]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for user_id in user_ids:
        queue.put_nowait(user_id)
    running_low: list[str] = []

    async def worker(client: stytch_totp.Client) -> None:
        while not queue.empty():
            user_id = queue.get_nowait()
            try:
                left = await codes_left(client, user_id)
            except stytch_totp.NotFoundError:
                continue  # no TOTP: nothing to run low on
            if left <= LOW_WATER_MARK:
                running_low.append(user_id)

    # One Client (one connection pool) for all workers; no more connections than workers.
    client = stytch_totp.Client.from_env(max_connections=workers)
    async with client, asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker(client))
    return sorted(running_low)


if __name__ == "__main__":
    import sys

    print("\n".join(asyncio.run(users_running_low(sys.argv[1:]))))
