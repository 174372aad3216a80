"""The retry loop: what is retried, how long it waits, and what is never replayed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web
from aioresponses import aioresponses
from yarl import URL

import stytch_totp
from stytch_totp import Client, RetryPolicy
from tests.conftest import PROJECT_ID, SECRET, ServerFactory, load_example

BASE = "https://test.stytch.com/"

OPERATIONS: dict[str, tuple[str, dict[str, Any], str]] = {
    "create": ("v1/totps", {"user_id": "u-1"}, "create"),
    "authenticate": (
        "v1/totps/authenticate",
        {"user_id": "u-1", "totp_code": "123456"},
        "authenticate_no_session",
    ),
    "recovery_codes": ("v1/totps/recovery_codes", {"user_id": "u-1"}, "recovery_codes"),
    "recover": (
        "v1/totps/recover",
        {"user_id": "u-1", "recovery_code": "ckss-2skx-ebow"},
        "recover_no_session",
    ),
}
NOT_READ_ONLY = ["create", "authenticate", "recover"]


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the retry loop's sleeps instead of waiting for them."""
    recorded: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(stytch_totp._client, "_sleep", fake_sleep)
    return recorded


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with Client(PROJECT_ID, SECRET) as client:
        yield client


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


def attempts(mock: aioresponses, path: str) -> int:
    return len(mock.requests.get(("POST", URL(BASE + path)), []))


def rate_limited(error_type: str = "too_many_requests") -> dict[str, Any]:
    body = load_example("error_429_too_many_requests")
    body["error_type"] = error_type
    return body


async def call(client: Client, name: str, **extra: Any) -> Any:
    _, kwargs, _ = OPERATIONS[name]
    return await getattr(client.totps, name)(**kwargs, **extra)


@pytest.mark.parametrize("name", list(OPERATIONS))
async def test_rate_limit_is_retried_for_every_operation_then_succeeds(
    client: Client,
    mocked: aioresponses,
    delays: list[float],
    name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path, _, example = OPERATIONS[name]
    mocked.post(BASE + path, status=429, payload=rate_limited())
    mocked.post(BASE + path, payload=load_example(example))
    with caplog.at_level(logging.INFO, logger="stytch_totp"):
        response = await call(client, name)
    assert response.status_code == 200
    assert attempts(mocked, path) == 2
    assert len(delays) == 1
    assert 0.375 <= delays[0] <= 0.5  # first backoff: 0.5 s minus up to 25 % jitter
    (record,) = [r for r in caplog.records if r.name == "stytch_totp"]
    assert record.levelno == logging.INFO
    assert "request-id-test-b05c992f-ebdc-489d-a754-c7e70ba13141" in record.getMessage()
    assert f"{delays[0]:.2f}" in record.getMessage()


@pytest.mark.parametrize("name", list(OPERATIONS))
async def test_service_unavailable_is_retried_for_every_operation(
    client: Client, mocked: aioresponses, delays: list[float], name: str
) -> None:
    path, _, example = OPERATIONS[name]
    mocked.post(BASE + path, status=503, body="<html>Service Unavailable</html>")
    mocked.post(BASE + path, payload=load_example(example))
    await call(client, name)
    assert attempts(mocked, path) == 2


@pytest.mark.parametrize("status", [500, 502, 504])
@pytest.mark.parametrize("name", NOT_READ_ONLY)
async def test_server_errors_are_never_replayed_for_single_use_operations(
    client: Client, mocked: aioresponses, delays: list[float], name: str, status: int
) -> None:
    path, _, _ = OPERATIONS[name]
    mocked.post(BASE + path, status=status, payload=load_example("error_500_internal_server_error"))
    with pytest.raises(stytch_totp.InternalServerError) as caught:
        await call(client, name)
    assert caught.value.status_code == status
    assert attempts(mocked, path) == 1
    assert delays == []


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_server_errors_are_retried_for_the_read_only_operation(
    client: Client, mocked: aioresponses, delays: list[float], status: int
) -> None:
    path = "v1/totps/recovery_codes"
    mocked.post(BASE + path, status=status, body="bad gateway")
    mocked.post(BASE + path, payload=load_example("recovery_codes"))
    await client.totps.recovery_codes(user_id="u-1")
    assert attempts(mocked, path) == 2


def stalling_app(path: str, received: list[str], *, answer: str | None = None) -> web.Application:
    """Takes the request (so it was sent), then never answers the first time; later, ``answer``."""

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        received.append(request.path)
        if answer is None or len(received) == 1:
            await asyncio.sleep(3600)
        return web.json_response(load_example(answer or "create"))

    app = web.Application()
    app.router.add_post("/" + path, handler)
    return app


@pytest.mark.parametrize("name", NOT_READ_ONLY)
async def test_a_timeout_after_sending_is_never_replayed(
    serve: ServerFactory, delays: list[float], name: str
) -> None:
    path, kwargs, _ = OPERATIONS[name]
    received: list[str] = []
    url = await serve(stalling_app(path, received))
    async with Client(PROJECT_ID, SECRET, base_url=url, timeout=0.3) as client:
        with pytest.raises(stytch_totp.APITimeoutError) as caught:
            await getattr(client.totps, name)(**kwargs)
    assert caught.value.may_have_been_processed is True
    assert "it may have been processed" in str(caught.value)
    assert caught.value.attempts == 1
    assert received == ["/" + path]
    assert delays == []


async def test_a_timeout_is_retried_for_the_read_only_operation(
    serve: ServerFactory, delays: list[float]
) -> None:
    path = "v1/totps/recovery_codes"
    received: list[str] = []
    url = await serve(stalling_app(path, received, answer="recovery_codes"))
    async with Client(PROJECT_ID, SECRET, base_url=url, timeout=0.3) as client:
        raw = await client.totps.with_raw_response.recovery_codes(user_id="u-1")
    assert raw.attempts == 2
    assert len(received) == 2
    assert len(delays) == 1


async def test_user_lock_is_never_retried(
    client: Client, mocked: aioresponses, delays: list[float]
) -> None:
    path = "v1/totps/authenticate"
    mocked.post(BASE + path, status=429, payload=rate_limited("user_lock_limit_reached"))
    with pytest.raises(stytch_totp.RateLimitError) as caught:
        await call(client, "authenticate")
    assert caught.value.error_type == "user_lock_limit_reached"
    assert attempts(mocked, path) == 1


async def test_retry_after_seconds_replaces_the_backoff(
    client: Client, mocked: aioresponses, delays: list[float]
) -> None:
    path = "v1/totps"
    mocked.post(BASE + path, status=429, payload=rate_limited(), headers={"Retry-After": "7"})
    mocked.post(BASE + path, payload=load_example("create"))
    await call(client, "create")
    assert delays == [7.0]


async def test_retry_after_http_date_is_honoured(
    client: Client, mocked: aioresponses, delays: list[float]
) -> None:
    path = "v1/totps"
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    mocked.post(BASE + path, status=429, payload=rate_limited(), headers={"Retry-After": when})
    mocked.post(BASE + path, payload=load_example("create"))
    await call(client, "create")
    (delay,) = delays
    assert 15 <= delay <= 20


async def test_retry_after_longer_than_the_cap_means_no_retry(
    client: Client, mocked: aioresponses, delays: list[float]
) -> None:
    path = "v1/totps"
    mocked.post(BASE + path, status=429, payload=rate_limited(), headers={"Retry-After": "61"})
    with pytest.raises(stytch_totp.RateLimitError) as caught:
        await call(client, "create")
    assert caught.value.retry_after == 61.0
    assert attempts(mocked, path) == 1
    assert delays == []


async def test_retries_stop_after_max_retries_and_raise_the_last_error(
    client: Client, mocked: aioresponses, delays: list[float]
) -> None:
    path = "v1/totps"
    mocked.post(BASE + path, status=503, payload={"error_type": "unavailable"}, repeat=True)
    with pytest.raises(stytch_totp.InternalServerError) as caught:
        await call(client, "create")
    assert caught.value.status_code == 503
    assert attempts(mocked, path) == 3
    assert len(delays) == 2
    assert 0.75 <= delays[1] <= 1.0  # second backoff doubles


async def test_per_call_retry_policy_overrides_the_clients(
    client: Client, mocked: aioresponses, delays: list[float]
) -> None:
    path = "v1/totps"
    mocked.post(BASE + path, status=503, body="", repeat=True)
    with pytest.raises(stytch_totp.InternalServerError):
        await call(client, "create", retry=RetryPolicy.none())
    assert attempts(mocked, path) == 1

    with pytest.raises(stytch_totp.InternalServerError):
        await call(client, "create", retry=RetryPolicy(max_retries=4, initial_backoff=0.01))
    assert attempts(mocked, path) == 1 + 5
    assert all(d <= 0.16 for d in delays)


async def test_bad_per_call_retry_is_refused(client: Client, mocked: aioresponses) -> None:
    with pytest.raises(stytch_totp.InvalidParamsError):
        await call(client, "create", retry=2)
    assert not mocked.requests


async def test_non_retryable_client_errors_are_raised_at_once(
    client: Client, mocked: aioresponses, delays: list[float]
) -> None:
    path = "v1/totps/authenticate"
    body = {
        "status_code": 401,
        "request_id": "request-id-1",
        "error_type": "unable_to_authenticate_totp",
        "error_message": "The TOTP code could not be authenticated.",
    }
    mocked.post(BASE + path, status=401, payload=body)
    with pytest.raises(stytch_totp.AuthenticationError) as caught:
        await call(client, "authenticate")
    assert caught.value.error_type == "unable_to_authenticate_totp"
    assert attempts(mocked, path) == 1
    assert delays == []
    assert "123456" not in str(caught.value)


async def test_cancellation_during_a_backoff_propagates(
    mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeping = asyncio.Event()

    async def slow_sleep(seconds: float) -> None:
        sleeping.set()
        await asyncio.sleep(3600)

    monkeypatch.setattr(stytch_totp._client, "_sleep", slow_sleep)
    mocked.post(BASE + "v1/totps", status=503, body="", repeat=True)
    async with Client(PROJECT_ID, SECRET) as client:
        task = asyncio.create_task(call(client, "create"))
        await sleeping.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
