"""Enrolling an existing user base at once with ``create_many``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import stytch_totp

Deliver = Callable[[str, stytch_totp.CreateResponse], None]


async def enroll_everyone(
    client: stytch_totp.Client, user_ids: AsyncIterator[str], deliver: Deliver
) -> list[stytch_totp.EnrollmentResult]:
    """Enroll every user; hand each new TOTP to ``deliver``; return the failures."""
    failures = []
    batch = client.totps.create_many(user_ids, concurrency=32, max_rate=100)
    async with batch as results:
        async for result in results:  # in completion order, not input order
            if result.response is not None:
                deliver(result.response.user_id, result.response)
            else:
                failures.append(result)
    progress = batch.progress
    print(f"{progress.succeeded} enrolled, {progress.failed} failed in {progress.elapsed:.1f} s")
    return failures


async def enroll_until_too_many_failures(
    client: stytch_totp.Client, user_ids: list[str], *, max_failures: int
) -> int:
    """Stop early when something is clearly wrong; returns how many were enrolled."""
    enrolled = failed = 0
    async with client.totps.create_many(user_ids) as results:
        async for result in results:
            if result.ok:
                enrolled += 1
                continue
            failed += 1
            if failed >= max_failures:
                # Leaving the block cancels the requests in flight and waits for them.
                break
    return enrolled
