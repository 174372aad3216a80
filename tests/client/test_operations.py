"""The four operations on the wire: URL, method, headers, omit-empty body, typed response."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

import stytch_totp
from stytch_totp import (
    AuthenticateParams,
    Client,
    CreateParams,
    InvalidParamsError,
    RecoverParams,
    RecoveryCodesParams,
    _jsoncodec,
)
from tests.conftest import PROJECT_ID, SECRET, load_example

BASE = "https://test.stytch.com/"


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with Client(PROJECT_ID, SECRET, retry=stytch_totp.RetryPolicy.none()) as client:
        yield client


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


def sent_requests(mock: aioresponses, path: str) -> list[Any]:
    return list(mock.requests.get(("POST", URL(BASE + path)), []))


def sent_json(call: Any) -> dict[str, Any]:
    data: dict[str, Any] = _jsoncodec.loads(call.kwargs["data"])
    return data


async def test_create_sends_only_what_was_set(client: Client, mocked: aioresponses) -> None:
    mocked.post(BASE + "v1/totps", payload=load_example("create"))
    created = await client.totps.create(user_id="user-test-1", expiration_minutes=60)

    (call,) = sent_requests(mocked, "v1/totps")
    assert sent_json(call) == {"user_id": "user-test-1", "expiration_minutes": 60}
    headers = call.kwargs["headers"]
    assert headers["Authorization"] == aiohttp.encode_basic_auth(PROJECT_ID, SECRET)
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("stytch-totp-python/")
    assert call.kwargs["allow_redirects"] is False

    assert isinstance(created, stytch_totp.CreateResponse)
    assert created.totp_id == "totp-test-41920359-8bbb-4fe8-8fa3-aaa83f35f02c"
    assert created.secret == "BTGNX5RKJRMQWQFRQKTG34JCF6XDRHZS"
    assert len(created.recovery_codes) == 10
    assert created.user.user_id == created.user_id


async def test_create_without_expiration_omits_the_key(
    client: Client, mocked: aioresponses
) -> None:
    mocked.post(BASE + "v1/totps", payload=load_example("create"))
    await client.totps.create(user_id="user-test-1")
    (call,) = sent_requests(mocked, "v1/totps")
    assert sent_json(call) == {"user_id": "user-test-1"}


async def test_authenticate_with_session_and_claims(client: Client, mocked: aioresponses) -> None:
    body = load_example("authenticate_no_session")
    body["session"] = load_example("session_object")
    body["session_token"] = "session-token-value"
    body["session_jwt"] = "session.jwt.value"
    mocked.post(BASE + "v1/totps/authenticate", payload=body)

    auth = await client.totps.authenticate(
        user_id="user-test-1",
        totp_code="123456",
        session_duration_minutes=60,
        session_custom_claims={"plan": "pro", "old_claim": None},
        telemetry_id="telemetry-1",
    )

    (call,) = sent_requests(mocked, "v1/totps/authenticate")
    assert sent_json(call) == {
        "user_id": "user-test-1",
        "totp_code": "123456",
        "session_duration_minutes": 60,
        "session_custom_claims": {"plan": "pro", "old_claim": None},
        "telemetry_id": "telemetry-1",
    }
    assert auth.session is not None
    assert auth.session.session_id == "session-test-fe6c042b-6286-479f-8a4f-b046a6c46509"
    assert auth.session_token == "session-token-value"
    assert "session-token-value" not in repr(auth)
    assert "session.jwt.value" not in repr(auth)


async def test_authenticate_without_session(client: Client, mocked: aioresponses) -> None:
    mocked.post(BASE + "v1/totps/authenticate", payload=load_example("authenticate_no_session"))
    auth = await client.totps.authenticate(user_id="user-test-1", totp_code="000000")
    assert auth.session is None
    assert auth.session_token == ""
    assert auth.session_jwt == ""


async def test_recovery_codes(client: Client, mocked: aioresponses) -> None:
    mocked.post(BASE + "v1/totps/recovery_codes", payload=load_example("recovery_codes"))
    codes = await client.totps.recovery_codes(user_id="user-test-1")
    (call,) = sent_requests(mocked, "v1/totps/recovery_codes")
    assert sent_json(call) == {"user_id": "user-test-1"}
    assert codes.totps[0].verified is True
    assert codes.totps[0].recovery_codes[0] == "ckss-2skx-ebow"
    assert "ckss-2skx-ebow" not in repr(codes)


async def test_recover(client: Client, mocked: aioresponses) -> None:
    mocked.post(BASE + "v1/totps/recover", payload=load_example("recover_no_session"))
    recovered = await client.totps.recover(
        user_id="user-test-1", recovery_code="ckss-2skx-ebow", session_token="tok"
    )
    (call,) = sent_requests(mocked, "v1/totps/recover")
    assert sent_json(call) == {
        "user_id": "user-test-1",
        "recovery_code": "ckss-2skx-ebow",
        "session_token": "tok",
    }
    assert recovered.totp_id == "totp-test-41920359-8bbb-4fe8-8fa3-aaa83f35f02c"


@pytest.mark.parametrize(
    ("method", "params", "path", "example"),
    [
        ("create", CreateParams(user_id="u-1", expiration_minutes=5), "v1/totps", "create"),
        (
            "authenticate",
            AuthenticateParams(user_id="u-1", totp_code="654321"),
            "v1/totps/authenticate",
            "authenticate_no_session",
        ),
        (
            "recovery_codes",
            RecoveryCodesParams(user_id="u-1"),
            "v1/totps/recovery_codes",
            "recovery_codes",
        ),
        (
            "recover",
            RecoverParams(user_id="u-1", recovery_code="abcd-efgh-ijkl"),
            "v1/totps/recover",
            "recover_no_session",
        ),
    ],
)
async def test_a_params_object_is_sent_like_keywords(
    client: Client, mocked: aioresponses, method: str, params: Any, path: str, example: str
) -> None:
    mocked.post(BASE + path, payload=load_example(example))
    response = await getattr(client.totps, method)(params)
    (call,) = sent_requests(mocked, path)
    assert sent_json(call) == stytch_totp._core.converter.converter.unstructure(params)
    assert response.request_id == "request-id-test-b05c992f-ebdc-489d-a754-c7e70ba13141"
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "kwargs", "field"),
    [
        ("create", {"user_id": ""}, "user_id"),
        ("create", {}, "user_id"),
        ("create", {"user_id": "u", "expiration_minutes": 4}, "expiration_minutes"),
        ("create", {"user_id": "u", "expiration_minutes": 1441}, "expiration_minutes"),
        ("authenticate", {"user_id": "u"}, "totp_code"),
        ("authenticate", {"user_id": "u", "totp_code": "12345"}, "totp_code"),
        ("authenticate", {"user_id": "u", "totp_code": "12345a"}, "totp_code"),
        (
            "authenticate",
            {"user_id": "u", "totp_code": "123456", "session_duration_minutes": 527041},
            "session_duration_minutes",
        ),
        (
            "authenticate",
            {"user_id": "u", "totp_code": "123456", "session_custom_claims": {"k": {1, 2}}},
            "session_custom_claims",
        ),
        ("recovery_codes", {"user_id": ""}, "user_id"),
        ("recover", {"user_id": "u"}, "recovery_code"),
        ("recover", {"user_id": "u", "recovery_code": ""}, "recovery_code"),
        (
            "recover",
            {"user_id": "u", "recovery_code": "c", "session_custom_claims": {"k": "x" * 5000}},
            "session_custom_claims",
        ),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    client: Client, mocked: aioresponses, method: str, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        await getattr(client.totps, method)(**kwargs)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)
    assert not mocked.requests
    assert client.transport._session is None  # type: ignore[attr-defined]


async def test_params_object_and_keywords_together_are_refused(
    client: Client, mocked: aioresponses
) -> None:
    with pytest.raises(InvalidParamsError, match="not both"):
        await client.totps.create(CreateParams(user_id="u"), user_id="v")  # type: ignore[call-overload]
    assert not mocked.requests


async def test_wrong_params_type_is_refused(client: Client, mocked: aioresponses) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        await client.totps.authenticate(CreateParams(user_id="u"))  # type: ignore[call-overload]
    assert caught.value.field == "params"
    assert not mocked.requests


async def test_per_call_timeout_overrides_the_clients(client: Client, mocked: aioresponses) -> None:
    mocked.post(BASE + "v1/totps/recovery_codes", payload=load_example("recovery_codes"))
    await client.totps.recovery_codes(user_id="u", timeout=1.5)
    (call,) = sent_requests(mocked, "v1/totps/recovery_codes")
    assert call.kwargs["timeout"].total == 1.5


async def test_error_status_becomes_its_typed_error(client: Client, mocked: aioresponses) -> None:
    mocked.post(BASE + "v1/totps", status=400, payload=load_example("error_400_active_totp_exists"))
    with pytest.raises(stytch_totp.BadRequestError) as caught:
        await client.totps.create(user_id="u")
    error = caught.value
    assert error.status_code == 400
    assert error.error_type == "active_totp_exists"
    assert error.request_id == "request-id-test-b05c992f-ebdc-489d-a754-c7e70ba13141"
    assert error.error_url == "https://stytch.com/docs/api/errors/400#active_totp_exists"
    assert error.operation == "totps.create"


async def test_malformed_success_body_is_an_unexpected_response(
    client: Client, mocked: aioresponses
) -> None:
    body = load_example("create")
    del body["user"]["emails"][0]["email_id"]
    mocked.post(BASE + "v1/totps", payload=body)
    with pytest.raises(stytch_totp.UnexpectedResponseError) as caught:
        await client.totps.create(user_id="u")
    assert caught.value.path == "$.user.emails[0].email_id"
    assert caught.value.request_id == body["request_id"]
    assert "BTGNX5RKJRMQWQFRQKTG34JCF6XDRHZS" not in str(caught.value)


async def test_extra_body_and_headers_reach_the_wire(client: Client, mocked: aioresponses) -> None:
    mocked.post(BASE + "v1/totps/recovery_codes", payload=load_example("recovery_codes"))
    await client.totps.recovery_codes(
        user_id="user-test-1",
        extra_body={"not_yet_in_the_sdk": {"nested": True}},
        extra_headers={"X-Request-Source": "admin-console"},
    )
    (call,) = sent_requests(mocked, "v1/totps/recovery_codes")
    assert sent_json(call) == {"user_id": "user-test-1", "not_yet_in_the_sdk": {"nested": True}}
    headers = call.kwargs["headers"]
    assert headers["X-Request-Source"] == "admin-console"
    assert headers["Authorization"] == aiohttp.encode_basic_auth(PROJECT_ID, SECRET)


async def test_aioresponses_with_the_documented_shim_serves_bodies_over_128_kib(
    client: Client, mocked: aioresponses
) -> None:
    body = load_example("recovery_codes")
    body["padding"] = "x" * 300_000  # an unknown key, ignored by the model
    mocked.post(BASE + "v1/totps/recovery_codes", payload=body)
    codes = await client.totps.recovery_codes(user_id="user-test-1")
    assert codes.user_id == body["user_id"]
