"""The contract suite's own checks catch what they are there to catch."""

from __future__ import annotations

import copy
from typing import Any

from stytch_totp import AuthenticateResponse, CreateResponse

from .helpers import example
from .shapes import shape_differences, value_format
from .test_contract import model_gaps


def published_create() -> dict[str, Any]:
    return copy.deepcopy(example("create"))


def test_a_published_example_has_its_own_shape() -> None:
    for name in ("create", "authenticate_no_session", "session_authenticate", "sessions_get"):
        assert shape_differences(example(name), example(name)) == []


def test_null_where_stytch_sends_an_empty_string_is_caught() -> None:
    body = published_create()
    body["user"]["name"]["middle_name"] = None
    assert shape_differences(body, example("create")) == [
        "$.user.name.middle_name: null, where Stytch sends empty string"
    ]


def test_a_key_stytch_does_not_send_and_a_missing_key_are_caught() -> None:
    body = copy.deepcopy(example("authenticate_no_session"))
    body["user_device"] = None
    del body["user"]["roles"]
    assert sorted(shape_differences(body, example("authenticate_no_session"))) == [
        "$.user.roles: missing",
        "$.user_device: a key Stytch does not send",
    ]


def test_formats_are_compared_not_values() -> None:
    body = published_create()
    body["user"]["created_at"] = "2030-01-01T12:00:10Z"  # another instant: fine
    body["totp_id"] = "totp-test-00000000-0000-4000-8000-000000000000"  # another id: fine
    assert shape_differences(body, example("create")) == []
    body["user"]["created_at"] = "2030-01-01 12:00:10"
    body["user_id"] = "user-00000000-0000-4000-8000-000000000000"
    assert sorted(shape_differences(body, example("create"))) == [
        "$.user.created_at: text, where Stytch sends timestamp",
        "$.user_id: text, where Stytch sends id user",
    ]


def test_value_formats() -> None:
    assert value_format("data:image/png;base64,iVBORw0KGgo=") == "png data URI"
    assert value_format("data:image/png;base64, iVBORw0KGgo=") == "png data URI"
    assert value_format("ckss-2skx-ebow") == "recovery code"
    assert value_format("https://stytch.com/docs/api/errors/401") == "url"
    assert value_format("") == "empty string"
    assert value_format(False) == "boolean"
    assert value_format(0) == "number"


def test_a_field_the_sdks_models_lack_is_caught() -> None:
    body = published_create()
    body["totp_uri"] = "otpauth://..."
    body["user"]["emails"][0]["is_primary"] = True
    assert model_gaps(body, CreateResponse) == [
        "$.totp_uri: not a field of the SDK's CreateResponse",
        "$.user.emails[0].is_primary: not a field of the SDK's Email",
    ]


def test_a_field_of_the_sdks_models_that_is_never_sent_is_caught() -> None:
    body = published_create()
    del body["user"]["external_id"]
    assert model_gaps(body, CreateResponse) == [
        "$.user.external_id: a field of the SDK's User never sent"
    ]
    # user_device is sent only for a fingerprinted telemetry_id: its absence is expected.
    assert model_gaps(example("authenticate_no_session"), AuthenticateResponse) == []
