"""Unit tests with no server at all: MockTransport answers the client's requests.

The handler sees each request (path, headers, JSON body) and returns a MockResponse, or raises
TransportError to act out a network failure, saying whether the request was sent. The client
around it is the real one: its validation, retries, errors and parsing are what you test.
"""

from __future__ import annotations

import pytest

import stytch_totp
from stytch_totp.testing import MockResponse, MockTransport

pytestmark = pytest.mark.asyncio

LOCKED = {
    "status_code": 429,
    "request_id": "request-id-test-b05c992f-ebdc-489d-a754-c7e70ba13141",
    "error_type": "user_lock_limit_reached",
    "error_message": "The user has been locked out due to too many failed authentication "
    "attempts. Please try again later.",
    "error_url": "https://stytch.com/docs/api/errors/429",
}


def client_with(transport: MockTransport) -> stytch_totp.Client:
    return stytch_totp.Client("project-test-example", "secret-test-example", transport=transport)


async def test_a_locked_user_is_reported_and_not_retried() -> None:
    def stytch(request: stytch_totp.TransportRequest) -> MockResponse:
        assert request.path == "/v1/totps/authenticate"
        assert request.json() == {"user_id": "user-test-example", "totp_code": "123456"}
        return MockResponse(429, json=LOCKED)

    transport = MockTransport(stytch)
    async with client_with(transport) as client:
        with pytest.raises(stytch_totp.RateLimitError) as raised:
            await client.totps.authenticate(user_id="user-test-example", totp_code="123456")

    assert raised.value.error_type == "user_lock_limit_reached"
    assert len(transport.requests) == 1


async def test_a_code_that_never_left_is_sent_again_one_that_did_is_not() -> None:
    def unreachable(request: stytch_totp.TransportRequest) -> MockResponse:
        raise stytch_totp.TransportError("connection refused", request_sent=False)

    transport = MockTransport(unreachable)
    async with client_with(transport) as client:
        with pytest.raises(stytch_totp.APIConnectionError) as raised:
            await client.totps.authenticate(
                user_id="user-test-example",
                totp_code="123456",
                retry=stytch_totp.RetryPolicy(initial_backoff=0.001),
            )
    assert raised.value.may_have_been_processed is False  # safe to ask for the code again
    assert len(transport.requests) == 3  # nothing was sent, so the client retried

    def dropped(request: stytch_totp.TransportRequest) -> MockResponse:
        raise stytch_totp.TransportError("connection reset", request_sent=True)

    transport = MockTransport(dropped)
    async with client_with(transport) as client:
        with pytest.raises(stytch_totp.APIConnectionError) as raised:
            await client.totps.authenticate(user_id="user-test-example", totp_code="123456")
    assert raised.value.may_have_been_processed is True  # the code may be spent
    assert len(transport.requests) == 1  # never replayed
