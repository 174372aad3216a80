"""The fault matrix: every way a server can fail, against each of the four operations.

For each fault the call must raise the right typed error, make exactly the attempts the core retry
rules allow (counted by the server), give every connection back to the pool, and warn about
nothing. The same fault served once, followed by a good answer, must end in success exactly when
the fault is retryable for that operation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import attrs
import pytest

from stytch_totp import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
    StytchError,
    TransportError,
    UnexpectedResponseError,
    _jsoncodec,
)
from tests.conftest import load_example
from tests.reliability._helpers import (
    FAST_RETRY,
    OPERATIONS,
    TIMEOUT,
    Operation,
    connections_in_use,
    expected_attempts,
    no_warnings,
)
from tests.reliability._servers import (
    Action,
    Script,
    refusing_port,
    reset_before_headers,
    reset_mid_body,
    respond,
    respond_json,
    stall_before_headers,
    stall_mid_body,
    truncated_body,
)
from tests.reliability.conftest import MakeClient, StartServer

#: Generous outer limit on any single call: only there to turn a hang into a failure.
HANG_GUARD = 20.0


def _html(status: int) -> Action:
    page = f"<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>"
    return respond(status, page.encode(), content_type="text/html; charset=utf-8")


def _error(status: int, error_type: str) -> Action:
    body = load_example("error_429_too_many_requests")
    body.update(status_code=status, error_type=error_type)
    return respond_json(body, status)


def _missing(operation: Operation, key: str) -> Action:
    body = operation.success_body()
    del body[key]
    return respond_json(body)


@attrs.frozen
class Fault:
    """A way for the server to fail, and what the SDK must make of it."""

    name: str
    action: Callable[[Operation], Action]
    error: type[StytchError]
    safety: str
    """``not_acted``, ``maybe_acted`` or ``final`` (see ``expected_attempts``)."""


FAULTS = [
    Fault(
        "reset-before-headers", lambda _: reset_before_headers(), APIConnectionError, "maybe_acted"
    ),
    Fault("reset-mid-body", lambda _: reset_mid_body(), APIConnectionError, "maybe_acted"),
    Fault("truncated-body", lambda _: truncated_body(), APIConnectionError, "maybe_acted"),
    Fault("stalled-headers", lambda _: stall_before_headers(), APITimeoutError, "maybe_acted"),
    Fault("stalled-body", lambda _: stall_mid_body(), APITimeoutError, "maybe_acted"),
    Fault("500-html", lambda _: _html(500), InternalServerError, "maybe_acted"),
    Fault("502-html", lambda _: _html(502), InternalServerError, "maybe_acted"),
    Fault("503-html", lambda _: _html(503), InternalServerError, "not_acted"),
    Fault("504-html", lambda _: _html(504), InternalServerError, "maybe_acted"),
    Fault(
        "429-rate-limited", lambda _: _error(429, "too_many_requests"), RateLimitError, "not_acted"
    ),
    Fault(
        "429-user-locked", lambda _: _error(429, "user_lock_limit_reached"), RateLimitError, "final"
    ),
    Fault(
        "200-not-json",
        lambda _: respond(200, b'{"request_id": "req-1", trailing garbage'),
        UnexpectedResponseError,
        "final",
    ),
    Fault(
        "200-html",
        lambda _: _html(200),
        UnexpectedResponseError,
        "final",
    ),
    Fault(
        "200-json-as-text-plain",
        lambda op: respond(200, _jsoncodec.dumps(op.success_body()), content_type="text/plain"),
        UnexpectedResponseError,
        "final",
    ),
    Fault(
        "200-missing-user_id", lambda op: _missing(op, "user_id"), UnexpectedResponseError, "final"
    ),
    Fault(
        "200-missing-request_id",
        lambda op: _missing(op, "request_id"),
        UnexpectedResponseError,
        "final",
    ),
]

MATRIX = [
    pytest.param(fault, operation, id=f"{fault.name}-{operation.name}")
    for fault in FAULTS
    for operation in OPERATIONS
]


@pytest.mark.parametrize(("fault", "operation"), MATRIX)
async def test_a_persistent_fault_raises_its_typed_error_after_the_allowed_attempts(
    start_server: StartServer, make_client: MakeClient, fault: Fault, operation: Operation
) -> None:
    server = await start_server(lambda _: fault.action(operation))
    client = make_client(server.url)

    with no_warnings():
        async with asyncio.timeout(HANG_GUARD):
            with pytest.raises(StytchError) as caught:
                await operation.call(client)

        assert type(caught.value) is fault.error
        assert len(server.requests) == expected_attempts(fault.safety, operation)
        assert all(r.target == f"/{_path(operation)}" for r in server.requests)
        assert connections_in_use(client) == 0
        error = caught.value
        if isinstance(error, APIConnectionError):
            assert error.attempts == len(server.requests)
            assert error.operation == f"totps.{operation.name}"
            assert error.may_have_been_processed
            assert error.__cause__ is not None
        if isinstance(error, APIStatusError):
            assert error.operation == f"totps.{operation.name}"
        if isinstance(error, UnexpectedResponseError):
            assert error.status_code == 200


@pytest.mark.parametrize(("fault", "operation"), MATRIX)
async def test_a_single_fault_is_survived_exactly_when_it_is_retryable(
    start_server: StartServer, make_client: MakeClient, fault: Fault, operation: Operation
) -> None:
    server = await start_server(Script(fault.action(operation), then=operation.succeed()))
    client = make_client(server.url)
    retryable = expected_attempts(fault.safety, operation) > 1

    with no_warnings():
        async with asyncio.timeout(HANG_GUARD):
            if retryable:
                result = await operation.call(client)
                assert type(result).__name__.endswith("Response")
                assert len(server.requests) == 2
            else:
                with pytest.raises(fault.error):
                    await operation.call(client)
                assert len(server.requests) == 1
        assert connections_in_use(client) == 0

        # The client is still healthy after the fault: the next call goes through.
        server.choose = lambda _: operation.succeed()
        await operation.call(client)
        assert connections_in_use(client) == 0


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
async def test_connection_refused_is_retried_for_every_operation(
    make_client: MakeClient, operation: Operation, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="stytch_totp")
    with refusing_port() as port:
        client = make_client(f"http://127.0.0.1:{port}/")
        with no_warnings():
            async with asyncio.timeout(HANG_GUARD):
                with pytest.raises(APIConnectionError) as caught:
                    await operation.call(client)

            error = caught.value
            assert type(error) is APIConnectionError
            assert error.attempts == FAST_RETRY.max_retries + 1
            assert not error.may_have_been_processed
            # The transport's report, then what the OS said: nothing of a response in the chain.
            assert isinstance(error.__cause__, TransportError)
            assert error.__cause__.request_sent is False
            assert isinstance(error.__cause__.__cause__, OSError)
            retries = [r for r in caplog.records if r.getMessage().startswith("Retrying")]
            assert len(retries) == FAST_RETRY.max_retries
            assert connections_in_use(client) == 0


@pytest.mark.parametrize("fault", ["stalled-headers", "stalled-body"])
async def test_a_per_call_timeout_ends_a_stalled_call(
    start_server: StartServer, make_client: MakeClient, fault: str
) -> None:
    action = stall_before_headers() if fault == "stalled-headers" else stall_mid_body()
    server = await start_server(lambda _: action)
    # The client's own timeout would let the call hang for a minute; the call's wins.
    client = make_client(server.url, timeout=60.0)
    operation = OPERATIONS[1]

    with no_warnings():
        async with asyncio.timeout(HANG_GUARD):
            with pytest.raises(APITimeoutError) as caught:
                await operation.call(client, timeout=TIMEOUT)
        assert caught.value.may_have_been_processed
        assert len(server.requests) == 1
        assert connections_in_use(client) == 0


def _path(operation: Operation) -> str:
    return {
        "create": "v1/totps",
        "authenticate": "v1/totps/authenticate",
        "recovery_codes": "v1/totps/recovery_codes",
        "recover": "v1/totps/recover",
    }[operation.name]
