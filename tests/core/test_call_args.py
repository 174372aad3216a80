"""One call's arguments: fields declared once on the params classes, options checked, nothing leaked."""

from __future__ import annotations

import inspect
import math
import typing
from typing import Any

import attrs
import pytest

from stytch_totp import (
    AuthenticateParams,
    CreateParams,
    InvalidParamsError,
    RecoverParams,
    RecoveryCodesParams,
    RequestOptions,
    RetryPolicy,
    Timeout,
    TOTPs,
    _jsoncodec,
)
from stytch_totp._core.call_args import NO_OPTIONS, bind_call
from stytch_totp._core.protocol import encode_request

SECRET_VALUE = "s3cr3t-value-never-shown"

OPERATIONS = {
    "create": CreateParams,
    "authenticate": AuthenticateParams,
    "recovery_codes": RecoveryCodesParams,
    "recover": RecoverParams,
}


def keyword_overload(method_name: str) -> inspect.Signature:
    """The overload of ``TOTPs.<method_name>`` that takes the fields as keywords."""
    for overload in typing.get_overloads(getattr(TOTPs, method_name)):
        signature = inspect.signature(overload)
        if "params" not in signature.parameters:
            return signature
    raise AssertionError(f"TOTPs.{method_name} has no keyword overload")


@pytest.mark.parametrize(("method_name", "params_type"), OPERATIONS.items())
def test_keyword_overloads_match_the_params_classes(
    method_name: str, params_type: type[Any]
) -> None:
    # The params class declares each field once; the overload only repeats it for type checkers.
    signature = keyword_overload(method_name)
    keywords = [
        parameter
        for parameter in signature.parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    fields = attrs.fields(params_type)
    assert [parameter.name for parameter in keywords] == [field.name for field in fields]
    for parameter, field in zip(keywords, fields, strict=True):
        assert parameter.annotation == field.type, field.name
        if field.default is attrs.NOTHING:
            assert parameter.default is inspect.Parameter.empty, f"{field.name} is required"
        else:
            assert parameter.default == field.default, field.name
    (options,) = [p for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD]
    assert options.annotation == typing.Unpack[RequestOptions]


@pytest.mark.parametrize(("method_name", "params_type"), OPERATIONS.items())
def test_params_overloads_take_the_object_and_the_options(
    method_name: str, params_type: type[Any]
) -> None:
    signatures = [inspect.signature(o) for o in typing.get_overloads(getattr(TOTPs, method_name))]
    (with_params,) = [s for s in signatures if "params" in s.parameters]
    params = with_params.parameters["params"]
    assert params.kind is inspect.Parameter.POSITIONAL_ONLY
    assert params.annotation is params_type
    assert [p.kind for p in with_params.parameters.values()][-1] is inspect.Parameter.VAR_KEYWORD


def test_no_option_shadows_a_field() -> None:
    for params_type in OPERATIONS.values():
        assert not set(RequestOptions.__annotations__) & set(attrs.fields_dict(params_type))


def test_keywords_become_the_params_object_and_the_kwargs_are_emptied() -> None:
    kwargs: dict[str, Any] = {"user_id": "user-1", "totp_code": "123456", "timeout": 4}
    params, options = bind_call(AuthenticateParams, None, kwargs)
    assert params == AuthenticateParams(user_id="user-1", totp_code="123456")
    assert options.timeout == Timeout(total=4.0, connect=4.0)
    # Nothing the caller passed (a code, a token) outlives the binding in the caller's frame.
    assert kwargs == {}


def test_no_options_costs_no_object() -> None:
    _, options = bind_call(CreateParams, None, {"user_id": "user-1"})
    assert options is NO_OPTIONS


def test_a_params_object_passes_through_with_its_options() -> None:
    given = CreateParams(user_id="user-1")
    policy = RetryPolicy.none()
    params, options = bind_call(CreateParams, given, {"retry": policy})
    assert params is given
    assert options.retry is policy


@pytest.mark.parametrize(
    ("params", "kwargs", "field"),
    [
        (None, {}, "user_id"),
        (None, {"user_id": None}, "user_id"),
        (None, {"user_id": "u", "usr": "x"}, "usr"),
        (CreateParams(user_id="u"), {"user_id": "v"}, "user_id"),
        (AuthenticateParams(user_id="u", totp_code="123456"), {}, "params"),
        (None, {"user_id": "u", "retry": 2}, "retry"),
        (None, {"user_id": "u", "timeout": "5"}, "timeout"),
        (None, {"user_id": "u", "timeout": math.inf}, "timeout"),
        (None, {"user_id": "u", "timeout": math.nan}, "timeout"),
        (None, {"user_id": "u", "timeout": 0}, "timeout"),
        (None, {"user_id": "u", "extra_body": ["a"]}, "extra_body"),
        (None, {"user_id": "u", "extra_body": {1: "a"}}, "extra_body"),
        (None, {"user_id": "u", "extra_headers": "X-A: b"}, "extra_headers"),
        (None, {"user_id": "u", "extra_headers": {"Bad Name": "v"}}, "extra_headers"),
    ],
)
def test_mistakes_name_the_argument(params: object, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        bind_call(CreateParams, params, kwargs)
    assert caught.value.field == field


@pytest.mark.parametrize("name", ["Authorization", "host", "Content-Length", "CONTENT-TYPE"])
def test_extra_headers_cannot_override_what_the_client_owns(name: str) -> None:
    with pytest.raises(InvalidParamsError, match="set by the client") as caught:
        bind_call(CreateParams, None, {"user_id": "u", "extra_headers": {name: SECRET_VALUE}})
    assert caught.value.field == f"extra_headers[{name!r}]"
    assert SECRET_VALUE not in str(caught.value)


@pytest.mark.parametrize("value", [f"{SECRET_VALUE}\r\nX-Injected: 1", f"{SECRET_VALUE}\x00", 7])
def test_extra_header_values_must_be_one_line_of_text_and_are_never_quoted(value: object) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        bind_call(CreateParams, None, {"user_id": "u", "extra_headers": {"X-Token": value}})
    assert caught.value.field == "extra_headers['X-Token']"
    assert SECRET_VALUE not in str(caught.value)
    assert SECRET_VALUE not in repr(caught.value)


def test_checked_options_hide_the_extra_values_from_repr() -> None:
    _, options = bind_call(
        CreateParams,
        None,
        {"user_id": "u", "extra_body": {"k": SECRET_VALUE}, "extra_headers": {"X-K": SECRET_VALUE}},
    )
    assert options.extra_headers == (("X-K", SECRET_VALUE),)
    assert SECRET_VALUE not in repr(options)


def test_extra_body_is_merged_and_wins_over_a_field_of_the_same_name() -> None:
    body = encode_request(
        CreateParams(user_id="user-1"), {"expiration_minutes": 7, "future_flag": [1, None]}
    )
    assert _jsoncodec.loads(body) == {
        "user_id": "user-1",
        "expiration_minutes": 7,
        "future_flag": [1, None],
    }


def test_extra_body_that_json_cannot_carry_is_named_not_quoted() -> None:
    with pytest.raises(InvalidParamsError) as caught:
        encode_request(CreateParams(user_id="user-1"), {"when": {SECRET_VALUE}})
    assert caught.value.field == "extra_body"
    assert SECRET_VALUE not in str(caught.value)
