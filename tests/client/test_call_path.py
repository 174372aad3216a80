"""The call path through a transport: raw responses, headers on errors, hostile input, logs."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import stytch_totp
from stytch_totp import (
    APIConnectionError,
    APIResponse,
    Client,
    FailureKind,
    InvalidParamsError,
    RateLimitError,
    RetryPolicy,
    TransportError,
    TransportRequest,
    UnexpectedResponseError,
)
from stytch_totp.testing import MockResponse, MockTransport
from tests.conftest import PROJECT_ID, SECRET, ServerFactory, load_example

QUICK = RetryPolicy(max_retries=2, initial_backoff=0.001, max_backoff=0.002)
RATE_LIMITED = load_example("error_429_too_many_requests")


def client_of(handler: Callable[[TransportRequest], Any], **kwargs: Any) -> Client:
    return Client(PROJECT_ID, SECRET, transport=MockTransport(handler), **kwargs)


# -- with_raw_response -------------------------------------------------------------------------


async def test_a_raw_response_has_headers_attempts_and_the_model() -> None:
    answers = [
        MockResponse(429, json=RATE_LIMITED, headers={"Retry-After": "0"}),
        MockResponse(
            200,
            json=load_example("recovery_codes"),
            headers={"Request-Id": "req-header-1", "X-RateLimit-Remaining": "41"},
        ),
    ]
    async with client_of(lambda _: answers.pop(0), retry=QUICK) as client:
        raw = await client.totps.with_raw_response.recovery_codes(user_id="user-1")

    assert isinstance(raw, APIResponse)
    assert raw.status_code == 200
    assert raw.attempts == 2
    assert raw.elapsed >= 0
    assert raw.operation == "totps.recovery_codes"
    assert raw.request_id == "req-header-1"
    assert raw.headers["x-ratelimit-remaining"] == "41"  # case-insensitive
    codes = raw.parse()
    assert codes.user_id == load_example("recovery_codes")["user_id"]
    assert raw.parse() is codes  # decoded once


async def test_a_raw_response_repr_shows_neither_headers_nor_body() -> None:
    body = load_example("create")

    async with client_of(lambda _: MockResponse(200, json=body)) as client:
        raw = await client.totps.with_raw_response.create(user_id="user-1")

    shown = repr(raw) + str(raw)
    assert body["secret"] not in shown
    assert "totps.create" in shown


async def test_a_raw_body_that_is_not_the_model_fails_when_parsed() -> None:
    async with client_of(lambda _: MockResponse(200, json={"no": "model"})) as client:
        raw = await client.totps.with_raw_response.create(user_id="user-1")
    with pytest.raises(UnexpectedResponseError):
        raw.parse()


async def test_error_statuses_raise_with_the_response_headers() -> None:
    def locked(_: TransportRequest) -> MockResponse:
        return MockResponse(429, json=RATE_LIMITED, headers={"Retry-After": "3600"})

    async with client_of(locked) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.totps.with_raw_response.recovery_codes(user_id="user-1")
    assert caught.value.headers["retry-after"] == "3600"
    assert caught.value.retry_after == 3600
    assert caught.value.attempts == 1  # longer than max_retry_after: not waited for


# -- MockTransport -------------------------------------------------------------------------


async def test_an_async_handler_and_the_recorded_requests() -> None:
    async def handler(request: TransportRequest) -> MockResponse:
        await asyncio.sleep(0)
        return MockResponse(200, json=load_example("create"))

    transport = MockTransport(handler)
    async with Client(PROJECT_ID, SECRET, transport=transport) as client:
        await client.totps.create(user_id="user-1", extra_headers={"X-Trace": "t-1"})

    (request,) = transport.requests
    assert request.method == "POST"
    assert request.path == "/v1/totps"
    assert request.json() == {"user_id": "user-1"}
    assert request.headers["X-Trace"] == "t-1"
    assert request.operation == "totps.create"
    assert request.attempt == 1
    assert SECRET not in repr(request)
    assert transport.closed  # the client owns its transport


async def test_a_handler_that_breaks_its_contract_is_a_typed_error_not_retried() -> None:
    def broken(_: TransportRequest) -> MockResponse:
        return {"status": 200}  # type: ignore[return-value]

    transport = MockTransport(broken)
    async with Client(PROJECT_ID, SECRET, transport=transport, retry=QUICK) as client:
        with pytest.raises(APIConnectionError, match="must raise TransportError") as caught:
            await client.totps.recovery_codes(user_id="user-1")
    assert isinstance(caught.value.__cause__, TypeError)
    assert len(transport.requests) == 1


@pytest.mark.parametrize(
    ("kind", "error_type"),
    [
        (FailureKind.TIMEOUT, stytch_totp.APITimeoutError),
        (FailureKind.CLOSED, stytch_totp.ClientClosedError),
        (FailureKind.PROTOCOL, APIConnectionError),
    ],
)
async def test_a_transport_failure_becomes_the_matching_error(
    kind: FailureKind, error_type: type[APIConnectionError]
) -> None:
    def fail(_: TransportRequest) -> MockResponse:
        raise TransportError("simulated", request_sent=True, kind=kind)

    async with client_of(fail, retry=QUICK) as client:
        with pytest.raises(error_type) as caught:
            await client.totps.authenticate(user_id="user-1", totp_code="123456")
    assert type(caught.value) is error_type
    assert caught.value.kind is kind
    assert caught.value.may_have_been_processed


def test_a_transport_cannot_be_combined_with_the_default_transports_options() -> None:
    with pytest.raises(InvalidParamsError) as caught:
        client_of(lambda _: MockResponse(), max_connections=3)
    assert caught.value.field == "max_connections"
    with pytest.raises(InvalidParamsError) as caught:
        Client(PROJECT_ID, SECRET, transport=object())  # type: ignore[arg-type]
    assert caught.value.field == "transport"


# -- hostile input -------------------------------------------------------------------------

LONE_SURROGATE = "\ud800"


@pytest.mark.parametrize(
    ("method", "kwargs", "field"),
    [
        ("create", {"user_id": f"user-{LONE_SURROGATE}"}, "user_id"),
        (
            "authenticate",
            {"user_id": "u", "totp_code": "123456", "session_token": LONE_SURROGATE},
            "session_token",
        ),
        (
            "authenticate",
            {"user_id": "u", "totp_code": "123456", "telemetry_id": f"t{LONE_SURROGATE}"},
            "telemetry_id",
        ),
        (
            "recover",
            {"user_id": "u", "recovery_code": f"abcd-{LONE_SURROGATE}"},
            "recovery_code",
        ),
        (
            "recover",
            {"user_id": "u", "recovery_code": "c", "session_jwt": f"j{LONE_SURROGATE}"},
            "session_jwt",
        ),
        (
            "authenticate",
            {
                "user_id": "u",
                "totp_code": "123456",
                "session_custom_claims": {"name": f"x{LONE_SURROGATE}"},
            },
            "session_custom_claims",
        ),
        ("create", {"user_id": "u", "extra_body": {"note": LONE_SURROGATE}}, "extra_body"),
        ("create", {"user_id": "u" * 257}, "user_id"),
        ("recover", {"user_id": "u", "recovery_code": "c" * 65}, "recovery_code"),
        (
            "authenticate",
            {"user_id": "u", "totp_code": "123456", "session_jwt": "j" * 16385},
            "session_jwt",
        ),
    ],
)
async def test_text_json_cannot_carry_and_oversized_ids_are_refused_before_sending(
    method: str, kwargs: dict[str, Any], field: str
) -> None:
    transport = MockTransport(lambda _: MockResponse(500))
    async with Client(PROJECT_ID, SECRET, transport=transport) as client:
        with pytest.raises(InvalidParamsError) as caught:
            await getattr(client.totps, method)(**kwargs)
    assert caught.value.field == field
    assert transport.requests == []
    assert str(caught.value).encode("utf-8")  # the message itself is valid text


async def test_claims_nested_past_the_documented_depth_are_refused_not_recursed() -> None:
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(10_000):
        inner["next"] = {}
        inner = inner["next"]
    transport = MockTransport(lambda _: MockResponse(500))
    async with Client(PROJECT_ID, SECRET, transport=transport) as client:
        with pytest.raises(InvalidParamsError, match="at most 32 levels") as caught:
            await client.totps.authenticate(
                user_id="u", totp_code="123456", session_custom_claims=deep
            )
    assert caught.value.field == "session_custom_claims"
    assert transport.requests == []


@pytest.mark.parametrize("timeout", [math.inf, -math.inf, math.nan, 0, -1, True])
def test_timeouts_that_are_not_a_finite_positive_number_are_refused(timeout: float) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        Client(PROJECT_ID, SECRET, timeout=timeout)
    assert caught.value.field == "timeout"
    with pytest.raises(InvalidParamsError) as caught:
        stytch_totp.Timeout(total=10, connect=timeout)
    assert caught.value.field == "Timeout.connect"


# -- logging and tracing ---------------------------------------------------------------------


async def test_retry_and_response_logs_carry_structured_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="stytch_totp")
    answers = [
        MockResponse(429, json=RATE_LIMITED),
        MockResponse(200, json=load_example("recovery_codes"), headers={"Request-Id": "r-2"}),
    ]
    async with client_of(lambda _: answers.pop(0), retry=QUICK) as client:
        await client.totps.recovery_codes(user_id="user-1")

    retry = next(r for r in caplog.records if r.levelno == logging.INFO)
    assert (retry.operation, retry.attempt, retry.status) == ("totps.recovery_codes", 1, 429)  # type: ignore[attr-defined]
    assert retry.request_id == RATE_LIMITED["request_id"]  # type: ignore[attr-defined]
    done = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert [(r.attempt, r.status) for r in done] == [(1, 429), (2, 200)]  # type: ignore[attr-defined]
    assert done[-1].request_id == "r-2"  # type: ignore[attr-defined]
    assert SECRET not in caplog.text


async def test_trace_configs_run_on_the_clients_own_bounded_pool(serve: ServerFactory) -> None:
    seen: list[Any] = []
    in_flight = peak = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return web.json_response(load_example("recovery_codes"))

    async def on_request_start(session: Any, context: Any, params: Any) -> None:
        seen.append(dict(context.trace_request_ctx))

    trace_config = aiohttp.TraceConfig()
    trace_config.on_request_start.append(on_request_start)
    app = web.Application()
    app.router.add_post("/v1/totps/recovery_codes", handler)
    url = await serve(app)
    async with Client(
        PROJECT_ID, SECRET, base_url=url, trace_configs=[trace_config], max_connections=2
    ) as client:
        await asyncio.gather(*(client.totps.recovery_codes(user_id="u") for _ in range(6)))

    assert seen == [{"operation": "totps.recovery_codes", "attempt": 1}] * 6
    assert peak == 2
