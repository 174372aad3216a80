"""The pure protocol layer: request bytes out, typed models or typed errors in."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import CIMultiDict

import stytch_totp
from stytch_totp import (
    APIStatusError,
    AuthenticateParams,
    AuthenticateResponse,
    CreateParams,
    CreateResponse,
    RecoverParams,
    RecoverResponse,
    RecoveryCodesParams,
    RecoveryCodesResponse,
    UnexpectedResponseError,
    _jsoncodec,
)
from stytch_totp._core.protocol import (
    AUTHENTICATE,
    CREATE,
    RECOVER,
    RECOVERY_CODES,
    Operation,
    decode_error,
    decode_response,
    encode_request,
)
from tests.conftest import load_example

REQUEST_ID = "request-id-test-b05c992f-ebdc-489d-a754-c7e70ba13141"
HEADER_REQUEST_ID = "request-id-from-header-1"
JSON = CIMultiDict({"Content-Type": "application/json"})

EXAMPLE_OF: dict[str, str] = {
    "totps.create": "create",
    "totps.authenticate": "authenticate_no_session",
    "totps.recovery_codes": "recovery_codes",
    "totps.recover": "recover_no_session",
}
OPERATIONS: list[Operation[Any, Any]] = [CREATE, AUTHENTICATE, RECOVERY_CODES, RECOVER]


def secrets_of_create_example() -> list[str]:
    body = load_example("create")
    return [body["secret"], body["qr_code"], body["qr_code"][-20:], *body["recovery_codes"]]


def body_of(data: Any) -> bytes:
    return _jsoncodec.dumps(data)


def decode_create(data: Any, headers: CIMultiDict[str] = JSON) -> CreateResponse:
    return decode_response(CREATE, 200, headers, body_of(data))


def failure(data: Any, operation: Operation[Any, Any] = CREATE) -> UnexpectedResponseError:
    with pytest.raises(UnexpectedResponseError) as caught:
        decode_response(operation, 200, JSON, body_of(data))
    error = caught.value
    # The structuring error is not chained: nothing in a traceback can show the body.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    return error


def assert_no_secret_in(error: BaseException) -> None:
    for text in (str(error), repr(error), repr(error.args), repr(vars(error))):
        for secret in secrets_of_create_example():
            assert secret not in text


# --------------------------------------------------------------------------------------------
# Operations and requests
# --------------------------------------------------------------------------------------------


def test_operations_describe_the_api() -> None:
    assert [(op.name, op.path) for op in OPERATIONS] == [
        ("totps.create", "v1/totps"),
        ("totps.authenticate", "v1/totps/authenticate"),
        ("totps.recovery_codes", "v1/totps/recovery_codes"),
        ("totps.recover", "v1/totps/recover"),
    ]
    assert [(op.params_type, op.response_type) for op in OPERATIONS] == [
        (CreateParams, CreateResponse),
        (AuthenticateParams, AuthenticateResponse),
        (RecoveryCodesParams, RecoveryCodesResponse),
        (RecoverParams, RecoverResponse),
    ]
    # Only reading recovery codes can be replayed without consuming anything.
    assert [op.read_only for op in OPERATIONS] == [False, False, True, False]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            CreateParams("user-1", expiration_minutes=30),
            b'{"user_id":"user-1","expiration_minutes":30}',
        ),
        (AuthenticateParams("user-1", "012345"), b'{"user_id":"user-1","totp_code":"012345"}'),
        (RecoveryCodesParams("user-1"), b'{"user_id":"user-1"}'),
        (
            RecoverParams("user-1", "ckss-2skx-ebow", session_duration_minutes=60),
            b'{"user_id":"user-1","recovery_code":"ckss-2skx-ebow","session_duration_minutes":60}',
        ),
    ],
)
def test_encode_request_gives_compact_omit_empty_json(params: object, expected: bytes) -> None:
    assert encode_request(params) == expected


# --------------------------------------------------------------------------------------------
# Successful responses
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
def test_each_operation_decodes_its_example(operation: Operation[Any, Any]) -> None:
    example = load_example(EXAMPLE_OF[operation.name])
    decoded = decode_response(operation, 200, JSON, body_of(example))
    assert type(decoded) is operation.response_type
    assert decoded.request_id == REQUEST_ID
    assert decoded.user_id == example["user_id"]
    assert decoded.status_code == 200


def test_decoded_values_match_the_body() -> None:
    created = decode_create(load_example("create"))
    assert created.secret == "BTGNX5RKJRMQWQFRQKTG34JCF6XDRHZS"
    assert created.recovery_codes[-1] == "c2qd-k7m4-ifmc"
    assert created.user.emails[0].email == "test@example.com"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/problem+json",
        None,
    ],
)
def test_json_content_types_are_accepted(content_type: str | None) -> None:
    headers: CIMultiDict[str] = CIMultiDict()
    if content_type is not None:
        headers["Content-Type"] = content_type
    assert decode_create(load_example("create"), headers).totp_id.startswith("totp-test-")


@pytest.mark.parametrize("status", [200, 201, 299])
def test_any_2xx_is_a_success(status: int) -> None:
    decoded = decode_response(RECOVERY_CODES, status, JSON, body_of(load_example("recovery_codes")))
    assert isinstance(decoded, RecoveryCodesResponse)


# --------------------------------------------------------------------------------------------
# Bad successful responses
# --------------------------------------------------------------------------------------------


def test_missing_nested_field_names_its_path() -> None:
    body = load_example("create")
    del body["user"]["emails"][0]["email_id"]
    error = failure(body)
    assert error.path == "$.user.emails[0].email_id"
    assert error.reason == "required field missing"
    assert error.operation == "totps.create"
    assert error.status_code == 200
    assert error.request_id == REQUEST_ID
    assert str(error) == (
        f"unexpected response to totps.create (HTTP 200, request_id={REQUEST_ID})"
        " at $.user.emails[0].email_id: required field missing"
    )
    assert_no_secret_in(error)


@pytest.mark.parametrize(
    ("operation", "key"),
    [
        (CREATE, "totp_id"),
        (CREATE, "secret"),
        (AUTHENTICATE, "session_token"),
        (AUTHENTICATE, "session_jwt"),
        (RECOVERY_CODES, "totps"),
        (RECOVER, "user"),
        (RECOVER, "request_id"),
    ],
)
def test_missing_top_level_field(operation: Operation[Any, Any], key: str) -> None:
    body = load_example(EXAMPLE_OF[operation.name])
    del body[key]
    error = failure(body, operation)
    assert error.path == f"$.{key}"
    assert error.reason == "required field missing"
    assert error.operation == operation.name


def test_missing_field_inside_a_session() -> None:
    body = load_example("authenticate_no_session")
    body["session"] = load_example("session_object")
    del body["session"]["authentication_factors"][1]["type"]
    error = failure(body, AUTHENTICATE)
    assert error.path == "$.session.authentication_factors[1].type"


def test_several_problems_are_counted() -> None:
    body = load_example("create")
    del body["totp_id"]
    del body["secret"]
    body["user"]["is_locked"] = "no"
    error = failure(body)
    assert error.path == "$.totp_id"
    assert error.reason == "required field missing (and 2 more problems)"
    assert_no_secret_in(error)


ONE_TOTP_THEN_TEXT = [{"totp_id": "totp-1", "verified": True}, "totp-2"]


def set_at(body: dict[str, Any], dotted_key: str, value: object) -> None:
    *parents, key = dotted_key.split(".")
    for parent in parents:
        body = body[parent]
    body[key] = value


@pytest.mark.parametrize(
    ("key", "value", "path", "reason"),
    [
        ("totp_id", None, "$.totp_id", "expected a string, got null"),
        ("status_code", "1", "$.status_code", "expected an integer, got a string"),
        ("status_code", 200.5, "$.status_code", "expected an integer, got a number"),
        ("status_code", True, "$.status_code", "expected an integer, got a boolean"),
        ("recovery_codes", "ab", "$.recovery_codes", "expected an array, got a string"),
        ("recovery_codes", {}, "$.recovery_codes", "expected an array, got an object"),
        ("recovery_codes", None, "$.recovery_codes", "expected an array, got null"),
        ("secret", [], "$.secret", "expected a string, got an array"),
        ("user.is_locked", "false", "$.user.is_locked", "expected a boolean, got a string"),
        ("user.is_locked", 0, "$.user.is_locked", "expected a boolean, got a number"),
        ("user.roles", ["a", 7], "$.user.roles[1]", "expected a string, got a number"),
        ("user.created_at", 1640781189, "$.user.created_at", "expected an RFC 3339 timestamp, got a number"),
        ("user.created_at", "yesterday", "$.user.created_at", "expected an RFC 3339 timestamp"),
        ("user.trusted_metadata", ["k", "v"], "$.user.trusted_metadata", "expected an object, got an array"),
        ("user", None, "$.user", "expected an object, got null"),
        ("user", [], "$.user", "expected an object, got an array"),
        ("user", "user-test-1", "$.user", "expected an object, got a string"),
        ("user.name", 5, "$.user.name", "expected an object, got a number"),
        ("user.password", [], "$.user.password", "expected an object, got an array"),
        ("user.emails", [None], "$.user.emails[0]", "expected an object, got null"),
        ("user.totps", ONE_TOTP_THEN_TEXT, "$.user.totps[1]", "expected an object, got a string"),
    ],
)  # fmt: skip
def test_wrong_types_are_reported_where_they_are(
    key: str, value: object, path: str, reason: str
) -> None:
    body = load_example("create")
    set_at(body, key, value)
    error = failure(body)
    assert (error.path, error.reason) == (path, reason)
    assert f" at {path}: {reason}" in str(error)
    assert_no_secret_in(error)


def test_a_bad_value_is_never_quoted() -> None:
    # Whatever Stytch put in a field may be a secret; errors describe it, never repeat it.
    body = load_example("create")
    body["user"]["created_at"] = body["secret"]
    body["user"]["lock_expires_at"] = body["recovery_codes"][0]
    body["recovery_codes"] = [body["qr_code"], 12]
    error = failure(body)
    assert error.path is not None
    assert "(and 2 more problems)" in error.reason
    assert_no_secret_in(error)


def test_a_bad_secret_in_a_recovery_codes_response_is_not_quoted() -> None:
    body = load_example("recovery_codes")
    codes = body["totps"][0]["recovery_codes"]
    body["totps"][0]["recovery_codes"] = [*codes, None]
    error = failure(body, RECOVERY_CODES)
    assert error.path == "$.totps[0].recovery_codes[10]"
    for code in codes:
        assert code not in str(error)


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>502 Bad Gateway</body></html>", b'{"truncated": ', b"\xff\xfe{}"],
)
def test_a_body_that_is_not_json(body: bytes) -> None:
    headers = CIMultiDict({"request-id": HEADER_REQUEST_ID})
    with pytest.raises(UnexpectedResponseError) as caught:
        decode_response(CREATE, 200, headers, body)
    error = caught.value
    assert error.path is None
    assert error.reason == f"the body is not valid JSON ({len(body)} bytes)"
    assert error.request_id == HEADER_REQUEST_ID


@pytest.mark.parametrize("data", [[], ["a"], "text", 1, 2.5, True, None])
def test_json_that_is_not_an_object(data: object) -> None:
    error = failure(data)
    assert error.path == "$"
    assert error.reason == "the body is not a JSON object"
    assert error.request_id is None


@pytest.mark.parametrize(
    "content_type", ["text/html", "text/plain; charset=utf-8", "application/xml"]
)
def test_a_non_json_content_type_is_refused(content_type: str) -> None:
    headers = CIMultiDict({"Content-Type": content_type, "request-id": HEADER_REQUEST_ID})
    with pytest.raises(UnexpectedResponseError) as caught:
        decode_response(CREATE, 200, headers, body_of(load_example("create")))
    error = caught.value
    media_type = content_type.partition(";")[0]
    assert error.reason == f"the content type is {media_type!r}, not application/json"
    assert error.path is None
    assert error.request_id == HEADER_REQUEST_ID
    assert_no_secret_in(error)


def test_an_oversized_body() -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        decode_response(RECOVER, 200, JSON, None)
    error = caught.value
    assert "max_response_bytes" in error.reason
    assert error.path is None
    assert error.operation == "totps.recover"
    assert str(error).startswith("unexpected response to totps.recover (HTTP 200):")


def test_request_id_comes_from_the_body_first_then_the_headers() -> None:
    body = load_example("create")
    del body["totp_id"]
    headers = CIMultiDict({"Content-Type": "application/json", "Request-Id": HEADER_REQUEST_ID})
    with pytest.raises(UnexpectedResponseError) as caught:
        decode_create(body, headers)
    assert caught.value.request_id == REQUEST_ID

    del body["request_id"]
    with pytest.raises(UnexpectedResponseError) as caught:
        decode_create(body, headers)
    assert caught.value.request_id == HEADER_REQUEST_ID

    with pytest.raises(UnexpectedResponseError) as caught:
        decode_create(body, CIMultiDict({"X-Request-Id": "proxy-id"}))
    assert caught.value.request_id == "proxy-id"


# --------------------------------------------------------------------------------------------
# Error responses
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, stytch_totp.BadRequestError),
        (401, stytch_totp.AuthenticationError),
        (403, stytch_totp.PermissionDeniedError),
        (404, stytch_totp.NotFoundError),
        (409, stytch_totp.ConflictError),
        (429, stytch_totp.RateLimitError),
        (500, stytch_totp.InternalServerError),
        (502, stytch_totp.InternalServerError),
        (503, stytch_totp.InternalServerError),
        (504, stytch_totp.InternalServerError),
        (301, APIStatusError),
        (302, APIStatusError),
        (307, APIStatusError),
        (405, APIStatusError),
        (418, APIStatusError),
        (422, APIStatusError),
    ],
)
@pytest.mark.parametrize("body", [b"", b"<html><h1>Bad Gateway</h1></html>", None, b"[]", b"null"])
def test_every_status_gives_its_subclass_whatever_the_body(
    status: int, error_class: type[APIStatusError], body: bytes | None
) -> None:
    headers = CIMultiDict({"Content-Type": "text/html", "request-id": HEADER_REQUEST_ID})
    error = decode_error(AUTHENTICATE, status, headers, body)
    assert type(error) is error_class
    assert error.status_code == status
    assert error.request_id == HEADER_REQUEST_ID
    assert error.error_type is None
    assert error.error_url is None
    assert error.error_details == {}
    assert error.operation == "totps.authenticate"
    assert f"HTTP {status} http_error" in str(error)


@pytest.mark.parametrize(
    ("example", "error_class"),
    [
        ("error_400_active_totp_exists", stytch_totp.BadRequestError),
        ("error_401_unauthorized_credentials", stytch_totp.AuthenticationError),
        ("error_429_too_many_requests", stytch_totp.RateLimitError),
        ("error_500_internal_server_error", stytch_totp.InternalServerError),
    ],
)
def test_stytch_envelopes(example: str, error_class: type[APIStatusError]) -> None:
    envelope = load_example(example)
    error = decode_error(CREATE, envelope["status_code"], JSON, body_of(envelope))
    assert type(error) is error_class
    assert error.status_code == envelope["status_code"]
    assert error.request_id == REQUEST_ID
    assert error.error_type == envelope["error_type"]
    assert error.error_message == envelope["error_message"]
    assert error.error_url == envelope["error_url"]
    assert error.error_details == {}
    assert error.retry_after is None


def test_decode_response_raises_the_error_of_a_non_2xx_status() -> None:
    envelope = load_example("error_429_too_many_requests")
    with pytest.raises(stytch_totp.RateLimitError) as caught:
        decode_response(AUTHENTICATE, 429, JSON, body_of(envelope), retry_after=2.5)
    assert caught.value.error_type == "too_many_requests"
    assert caught.value.retry_after == 2.5
    assert caught.value.operation == "totps.authenticate"


def test_error_details_are_kept() -> None:
    envelope = load_example("error_400_active_totp_exists")
    envelope["error_details"] = {"field": "user_id", "limits": [1, 2]}
    error = decode_error(CREATE, 400, JSON, body_of(envelope))
    assert error.error_details == {"field": "user_id", "limits": [1, 2]}


def test_oauth_style_envelope() -> None:
    body = {
        "status_code": 401,
        "request_id": "request-id-oauth-1",
        "error": "invalid_client",
        "error_description": "The client credentials are invalid.",
        "error_uri": "https://stytch.com/docs/api/errors/401#invalid_client",
    }
    error = decode_error(CREATE, 401, JSON, body_of(body))
    assert type(error) is stytch_totp.AuthenticationError
    assert error.request_id == "request-id-oauth-1"
    assert error.error_type == "invalid_client"
    assert error.error_message == "The client credentials are invalid."
    assert error.error_url == "https://stytch.com/docs/api/errors/401#invalid_client"


def test_stytch_fields_win_over_oauth_ones() -> None:
    body = {
        "error_type": "stytch_type",
        "error": "oauth_type",
        "error_message": "stytch message",
        "error_description": "oauth message",
        "error_url": "https://stytch.example/a",
        "error_uri": "https://oauth.example/b",
    }
    error = decode_error(CREATE, 400, JSON, body_of(body))
    assert (error.error_type, error.error_message, error.error_url) == (
        "stytch_type",
        "stytch message",
        "https://stytch.example/a",
    )


def test_unusable_envelope_fields_are_left_out() -> None:
    body = {
        "request_id": 12,
        "error_type": 5,
        "error_message": "",
        "error_url": None,
        "error_details": ["not", "an", "object"],
    }
    headers = CIMultiDict({"request-id": HEADER_REQUEST_ID})
    error = decode_error(CREATE, 400, headers, body_of(body))
    assert error.request_id == HEADER_REQUEST_ID
    assert error.error_type is None
    assert error.error_message is None
    assert error.error_url is None
    assert error.error_details == {}
    assert "no error message in the response" in str(error)


def test_request_id_of_an_error_prefers_the_body() -> None:
    envelope = load_example("error_500_internal_server_error")
    headers = CIMultiDict({"request-id": HEADER_REQUEST_ID})
    assert decode_error(CREATE, 500, headers, body_of(envelope)).request_id == REQUEST_ID
    assert decode_error(CREATE, 500, CIMultiDict(), b"").request_id is None


def test_a_redirect_says_it_was_not_followed() -> None:
    headers = CIMultiDict({"Location": "https://elsewhere.example/v1/totps"})
    error = decode_error(CREATE, 302, headers, b"")
    assert error.error_message is not None
    assert "redirect" in error.error_message
    assert "never followed" in str(error)
    # A redirect that explains itself keeps its own message.
    error = decode_error(CREATE, 301, JSON, body_of({"error_message": "moved"}))
    assert error.error_message == "moved"


def test_error_message_summarises_the_envelope() -> None:
    envelope = load_example("error_400_active_totp_exists")
    error = decode_error(CREATE, 400, JSON, body_of(envelope))
    assert str(error) == (
        f"HTTP 400 active_totp_exists: {envelope['error_message']}"
        f" | operation=totps.create | request_id={REQUEST_ID}"
    )
