"""Single-use credentials and user locks hold when many calls race, end to end through the SDK.

50 tasks share one Client and one user on a running emulator (both stores). Whatever order the
requests are processed in, a TOTP code and a recovery code are accepted once, and a lock stops
every attempt after the threshold, right codes included. The SDK never retries any of these
refusals (the emulator counts the requests).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stytch_totp import (
    AuthenticateResponse,
    AuthenticationError,
    Client,
    RateLimitError,
    RecoverResponse,
    StytchError,
)
from stytch_totp.testing import Clock, Emulator
from stytch_totp.testing._server.project import LOCK_THRESHOLD
from tests.reliability._helpers import FAST_RETRY, connections_in_use, no_warnings

TASKS = 50
#: Ten seconds into a 30-second step: the code of "now" stays the code of now for the test.
START = datetime(2030, 1, 1, 12, 0, 10, tzinfo=UTC)
HANG_GUARD = 30.0


@pytest.fixture(params=["memory", "sqlite"])
async def emulator(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Emulator]:
    state = None if request.param == "memory" else tmp_path / "state.db"
    async with Emulator(clock=Clock(START), state=state) as running:
        yield running


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[Client]:
    async with emulator.client(retry=FAST_RETRY, max_connections=TASKS) as made:
        yield made


async def _enrolled(emulator: Emulator, client: Client) -> tuple[str, str, tuple[str, ...]]:
    """A user with a verified TOTP: ``(user_id, totp secret, recovery codes)``."""
    user_id = emulator.create_user(email="racer@example.com")
    created = await client.totps.create(user_id=user_id)
    await client.totps.authenticate(user_id=user_id, totp_code=emulator.totp_code(created.secret))
    emulator.clock.advance(30)  # the next step: its code has not been used yet
    return user_id, created.secret, created.recovery_codes


async def _race(calls: list[Any]) -> list[object]:
    async with asyncio.timeout(HANG_GUARD):
        results: list[object] = await asyncio.gather(*calls, return_exceptions=True)
    return results


def _outcomes(results: list[object]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for result in results:
        if isinstance(result, AuthenticateResponse | RecoverResponse):
            kinds["success"] += 1
        elif isinstance(result, AuthenticationError | RateLimitError):
            kinds[str(result.error_type)] += 1
        else:
            raise AssertionError(f"unexpected outcome {result!r}")
    return kinds


async def test_fifty_tasks_with_the_same_totp_code_exactly_one_succeeds(
    emulator: Emulator, client: Client
) -> None:
    user_id, secret, _ = await _enrolled(emulator, client)
    code = emulator.totp_code(secret)
    sent_before = emulator.request_count("/v1/totps/authenticate")

    with no_warnings():
        results = await _race(
            [
                client.totps.authenticate(
                    user_id=user_id, totp_code=code, session_duration_minutes=60
                )
                for _ in range(TASKS)
            ]
        )

    # A replay is not a failed attempt, so no lock: every loser hears "already authenticated".
    assert _outcomes(results) == {"success": 1, "totp_code_already_authenticated": TASKS - 1}
    assert emulator.request_count("/v1/totps/authenticate") - sent_before == TASKS
    [winner] = [r for r in results if isinstance(r, AuthenticateResponse)]
    assert winner.session_token
    assert connections_in_use(client) == 0


async def test_fifty_tasks_with_wrong_codes_lock_the_user_at_the_threshold(
    emulator: Emulator, client: Client
) -> None:
    user_id, secret, _ = await _enrolled(emulator, client)
    right = emulator.totp_code(secret)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    sent_before = emulator.request_count("/v1/totps/authenticate")

    with no_warnings():
        results = await _race(
            [client.totps.authenticate(user_id=user_id, totp_code=wrong) for _ in range(TASKS)]
        )

    assert _outcomes(results) == {
        "unable_to_authenticate_totp": LOCK_THRESHOLD - 1,
        "user_lock_limit_reached": TASKS - LOCK_THRESHOLD + 1,
    }
    # 429 user_lock_limit_reached is final: one request per task, no retries.
    assert emulator.request_count("/v1/totps/authenticate") - sent_before == TASKS

    # Locked means locked: the right code, and a recovery code, are refused too...
    with pytest.raises(RateLimitError) as caught:
        await client.totps.authenticate(user_id=user_id, totp_code=right)
    assert caught.value.error_type == "user_lock_limit_reached"
    # ...until the lock expires.
    emulator.clock.advance(3600 + 30)
    await client.totps.authenticate(user_id=user_id, totp_code=emulator.totp_code(secret))


async def test_fifty_tasks_with_the_same_recovery_code_exactly_one_succeeds(
    emulator: Emulator, client: Client
) -> None:
    user_id, _, recovery_codes = await _enrolled(emulator, client)
    code = recovery_codes[0]

    with no_warnings():
        results = await _race(
            [client.totps.recover(user_id=user_id, recovery_code=code) for _ in range(TASKS)]
        )

    kinds = _outcomes(results)
    assert kinds["success"] == 1
    # A spent code is a failed attempt: the losers run into the lock after the threshold.
    assert set(kinds) <= {
        "success",
        "unable_to_authenticate_recovery_code",
        "user_lock_limit_reached",
    }
    assert kinds["unable_to_authenticate_recovery_code"] <= LOCK_THRESHOLD - 1

    listed = await client.totps.recovery_codes(user_id=user_id)
    [totp] = listed.totps
    assert code not in totp.recovery_codes
    assert len(totp.recovery_codes) == len(recovery_codes) - 1


async def test_distinct_recovery_codes_used_at_once_each_succeed_once(
    emulator: Emulator, client: Client
) -> None:
    user_id, _, recovery_codes = await _enrolled(emulator, client)

    with no_warnings():
        results = await _race(
            [client.totps.recover(user_id=user_id, recovery_code=code) for code in recovery_codes]
        )

    assert _outcomes(results) == {"success": len(recovery_codes)}
    listed = await client.totps.recovery_codes(user_id=user_id)
    assert listed.totps[0].recovery_codes == ()
    # And none of them works a second time.
    with pytest.raises(StytchError) as caught:
        await client.totps.recover(user_id=user_id, recovery_code=recovery_codes[-1])
    assert isinstance(caught.value, AuthenticationError)
    assert caught.value.error_type == "unable_to_authenticate_recovery_code"


async def test_a_dropped_answer_to_authenticate_is_not_replayed(
    emulator: Emulator, client: Client
) -> None:
    """The emulator acts, then drops the connection: the SDK must not send the code again."""
    user_id, secret, _ = await _enrolled(emulator, client)
    emulator.inject("/v1/totps/authenticate", drop_connection=True)
    sent_before = emulator.request_count("/v1/totps/authenticate")

    with pytest.raises(StytchError) as caught:
        await client.totps.authenticate(user_id=user_id, totp_code=emulator.totp_code(secret))
    assert type(caught.value).__name__ == "APIConnectionError"
    assert emulator.request_count("/v1/totps/authenticate") - sent_before == 1
    # The code was spent on the server: replaying it now is refused, as a retry would have been.
    with pytest.raises(AuthenticationError, match="totp_code_already_authenticated"):
        await client.totps.authenticate(user_id=user_id, totp_code=emulator.totp_code(secret))


async def test_injected_rate_limits_are_retried_and_the_code_is_accepted_once(
    emulator: Emulator, client: Client
) -> None:
    user_id, secret, _ = await _enrolled(emulator, client)
    fault = emulator.inject("/v1/totps/authenticate", status=429, retry_after=0, times=2)
    sent_before = emulator.request_count("/v1/totps/authenticate")

    response = await client.totps.authenticate(
        user_id=user_id, totp_code=emulator.totp_code(secret)
    )
    assert response.user_id == user_id
    assert fault.remaining == 0
    assert emulator.request_count("/v1/totps/authenticate") - sent_before == 3


async def test_an_injected_stall_times_out_and_only_the_read_only_call_is_retried(
    emulator: Emulator,
) -> None:
    user_id = emulator.create_user(email="staller@example.com")
    async with emulator.client(retry=FAST_RETRY, timeout=0.3) as client:
        created = await client.totps.create(user_id=user_id)
        await client.totps.authenticate(
            user_id=user_id, totp_code=emulator.totp_code(created.secret)
        )
        emulator.clock.advance(30)

        emulator.inject("/v1/totps/recovery_codes", delay=5.0, times=1)
        listed = await client.totps.recovery_codes(user_id=user_id)
        assert listed.totps[0].recovery_codes == created.recovery_codes
        assert emulator.request_count("/v1/totps/recovery_codes") == 2

        emulator.inject("/v1/totps/authenticate", delay=5.0, times=None)
        with pytest.raises(StytchError) as caught:
            await client.totps.authenticate(
                user_id=user_id, totp_code=emulator.totp_code(created.secret)
            )
        assert type(caught.value).__name__ == "APITimeoutError"
        assert emulator.request_count("/v1/totps/authenticate") == 2  # enrolment + this one
        emulator.clear_faults()
