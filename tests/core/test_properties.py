"""Property tests: round trips, and no input (however odd) escaping the typed errors."""

from __future__ import annotations

import collections.abc
import enum
import math
import types
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

import stytch_totp
import stytch_totp._models as models
from stytch_totp import (
    AuthenticateParams,
    AuthenticateResponse,
    CreateParams,
    CreateResponse,
    InvalidParamsError,
    RecoverParams,
    RecoverResponse,
    RecoveryCodesParams,
    RecoveryCodesResponse,
    StytchError,
    UnexpectedResponseError,
    _jsoncodec,
)
from stytch_totp._core.converter import converter
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
from stytch_totp._core.retry import parse_retry_after
from stytch_totp._exceptions import printable
from tests.conftest import load_example

FUZZ = settings(max_examples=200, deadline=None)

RESPONSE_TYPES: list[type[Any]] = [
    CreateResponse,
    AuthenticateResponse,
    RecoveryCodesResponse,
    RecoverResponse,
]
OPERATIONS: list[Operation[Any, Any]] = [CREATE, AUTHENTICATE, RECOVERY_CODES, RECOVER]
EXAMPLE_OF = {
    CREATE: "create",
    AUTHENTICATE: "authenticate_no_session",
    RECOVERY_CODES: "recovery_codes",
    RECOVER: "recover_no_session",
}

# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
aware_datetimes = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
) | st.datetimes(
    min_value=datetime(2, 1, 1),
    max_value=datetime(9998, 12, 31),
    timezones=st.builds(
        timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
    ),
)


_strategies: dict[object, st.SearchStrategy[Any]] = {}


def strategy_for(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of ``annotation`` as a model field holds them (JSON-compatible inside)."""
    if annotation not in _strategies:
        _strategies[annotation] = new_strategy_for(annotation)
    return _strategies[annotation]


def new_strategy_for(annotation: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is str:
        return st.text(max_size=16)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(min_value=-(2**63), max_value=2**63 - 1)
    if annotation is datetime:
        return aware_datetimes
    if origin is tuple:
        return st.lists(strategy_for(args[0]), max_size=2).map(tuple)
    if origin is collections.abc.Mapping:
        return st.dictionaries(st.text(max_size=8), json_values, max_size=3)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in args if a is not type(None)]
        enums = [a for a in options if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums:
            return st.sampled_from(list(enums[0])) | st.text(max_size=16)
        (inner,) = options
        return st.none() | strategy_for(inner)
    if attrs.has(annotation):
        return model_strategy(annotation)
    raise AssertionError(f"no strategy for {annotation!r}")


def model_strategy(cls: type[Any]) -> st.SearchStrategy[Any]:
    # Every required field, plus a few optional ones: an AuthenticationFactor has 44 of them,
    # and filling them all makes examples slow without finding more.
    required = {f.name: strategy_for(f.type) for f in attrs.fields(cls) if not has_default(f)}
    optional = [f for f in attrs.fields(cls) if has_default(f)]

    def build(chosen: list[attrs.Attribute[Any]]) -> st.SearchStrategy[Any]:
        return st.builds(cls, **required, **{f.name: strategy_for(f.type) for f in chosen})

    if not optional:
        return build([])
    return st.lists(st.sampled_from(optional), max_size=4, unique_by=lambda f: f.name).flatmap(
        build
    )


def has_default(field: attrs.Attribute[Any]) -> bool:
    return field.default is not attrs.NOTHING


def model_classes_inside(cls: type[Any], found: set[type[Any]]) -> set[type[Any]]:
    found.add(cls)

    def visit(annotation: Any) -> None:
        if attrs.has(annotation) and annotation not in found:
            model_classes_inside(annotation, found)
        for arg in typing.get_args(annotation):
            visit(arg)

    for field in attrs.fields(cls):
        visit(field.type)
    return found


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------


def test_the_responses_reach_every_model_class() -> None:
    # So round-tripping the four responses exercises every model of the package.
    reached: set[type[Any]] = set()
    for response_type in RESPONSE_TYPES:
        model_classes_inside(response_type, reached)
    model_classes = {
        obj
        for module in (models.user, models.session, models.device, models.totp)
        for name in module.__all__
        if attrs.has(obj := getattr(stytch_totp, name))
    }
    assert reached == model_classes


@pytest.mark.parametrize("response_type", RESPONSE_TYPES, ids=lambda t: t.__name__)
@FUZZ
@given(data=st.data())
def test_responses_round_trip_through_json(response_type: type[Any], data: st.DataObject) -> None:
    model = data.draw(strategy_for(response_type))
    unstructured = converter.unstructure(model)
    wire = _jsoncodec.loads(_jsoncodec.dumps(unstructured))
    assert converter.structure(wire, response_type) == model
    assert converter.structure(unstructured, response_type) == model


@FUZZ
@given(data=st.data())
def test_every_model_is_frozen(data: st.DataObject) -> None:
    cls = data.draw(
        st.sampled_from(sorted(model_classes_inside(AuthenticateResponse, set()), key=str))
    )
    model = data.draw(strategy_for(cls))
    name = attrs.fields(cls)[0].name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(model, name, None)


# --------------------------------------------------------------------------------------------
# Reprs never show a secret
# --------------------------------------------------------------------------------------------


def with_marked_secrets(value: Any, marks: list[str]) -> Any:
    """``value`` with every secret (a field with a masked ``repr``) replaced by a unique mark."""
    if attrs.has(type(value)):
        changes: dict[str, Any] = {}
        for field in attrs.fields(type(value)):
            item = getattr(value, field.name)
            if field.repr is not True:
                if item is None:
                    continue
                if isinstance(item, tuple):
                    fresh = tuple(f"secret-mark-{len(marks) + i}" for i in range(len(item)))
                    marks.extend(fresh)
                    changes[field.name] = fresh
                else:
                    marks.append(f"secret-mark-{len(marks)}")
                    changes[field.name] = marks[-1]
            else:
                changes[field.name] = with_marked_secrets(item, marks)
        return attrs.evolve(value, **changes)
    if isinstance(value, tuple):
        return tuple(with_marked_secrets(item, marks) for item in value)
    return value


def masked_fields_set(value: Any) -> int:
    if attrs.has(type(value)):
        return sum(
            1 if field.repr is not True else masked_fields_set(getattr(value, field.name))
            for field in attrs.fields(type(value))
            if getattr(value, field.name) is not None
        )
    if isinstance(value, tuple):
        return sum(masked_fields_set(item) for item in value)
    return 0


def nested_models(value: Any) -> list[Any]:
    if attrs.has(type(value)):
        return [
            value,
            *(m for f in attrs.fields(type(value)) for m in nested_models(getattr(value, f.name))),
        ]
    if isinstance(value, tuple):
        return [m for item in value for m in nested_models(item)]
    return []


@pytest.mark.parametrize("response_type", RESPONSE_TYPES, ids=lambda t: t.__name__)
@FUZZ
@given(data=st.data())
def test_no_repr_shows_a_secret(response_type: type[Any], data: st.DataObject) -> None:
    marks: list[str] = []
    response = with_marked_secrets(data.draw(strategy_for(response_type)), marks)
    for model in nested_models(response):
        for text in (repr(model), str(model)):
            assert not [mark for mark in marks if mark in text]
    # Yet each secret that is set can be discovered: one ``<hidden>`` per secret field.
    assert repr(response).count("=<hidden>") == masked_fields_set(response)


# --------------------------------------------------------------------------------------------
# Decoding never escapes the typed errors
# --------------------------------------------------------------------------------------------

content_types = st.sampled_from(
    [None, "application/json", "application/json; charset=utf-8", "text/html", ""]
)


def headers_with(content_type: str | None) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict({"request-id": "request-id-header"})
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


@FUZZ
@given(
    operation=st.sampled_from(OPERATIONS),
    status=st.integers(min_value=100, max_value=599),
    content_type=content_types,
    body=st.none() | st.binary(max_size=64) | json_values.map(_jsoncodec.dumps),
)
def test_decode_response_raises_only_stytch_errors(
    operation: Operation[Any, Any], status: int, content_type: str | None, body: bytes | None
) -> None:
    try:
        decoded = decode_response(operation, status, headers_with(content_type), body)
    except StytchError:
        return  # the one way decoding may fail
    assert isinstance(decoded, operation.response_type)


@FUZZ
@given(
    operation=st.sampled_from(OPERATIONS),
    status=st.integers(min_value=300, max_value=599),
    content_type=content_types,
    body=st.none() | st.binary(max_size=64) | json_values.map(_jsoncodec.dumps),
)
def test_decode_error_always_returns_the_status_error(
    operation: Operation[Any, Any], status: int, content_type: str | None, body: bytes | None
) -> None:
    error = decode_error(operation, status, headers_with(content_type), body)
    assert isinstance(error, stytch_totp.APIStatusError)
    assert error.status_code == status
    assert error.operation == operation.name
    assert isinstance(error.error_details, collections.abc.Mapping)
    for text in (error.error_type, error.error_message, error.error_url, error.request_id):
        assert text is None or (isinstance(text, str) and text)


@FUZZ
@given(
    envelope=st.fixed_dictionaries(
        {},
        optional=dict.fromkeys(
            (
                "status_code",
                "request_id",
                "error_type",
                "error_message",
                "error_url",
                "error_details",
                "error",
                "error_description",
                "error_uri",
            ),
            json_values,
        ),
    ),
    status=st.integers(min_value=400, max_value=599),
)
def test_decode_error_reads_any_envelope_shape(envelope: dict[str, Any], status: int) -> None:
    def first_text(*keys: str) -> str | None:
        texts = [envelope.get(key) for key in keys]
        return next((text for text in texts if isinstance(text, str) and text), None)

    error = decode_error(CREATE, status, CIMultiDict(), _jsoncodec.dumps(envelope))
    # Text from a response is shown cut to a bounded length, unprintable characters replaced.
    assert error.request_id == printable(first_text("request_id"), 128)
    assert error.error_type == printable(first_text("error_type", "error"), 100)
    assert error.error_message == printable(first_text("error_message", "error_description"), 500)
    assert error.error_url == printable(first_text("error_url", "error_uri"), 300)
    assert str(error).encode("utf-8")
    details = envelope.get("error_details")
    assert error.error_details == (details if isinstance(details, dict) else {})


def all_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths.extend(all_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths.extend(all_paths(item, (*prefix, index)))
    return paths


def secrets_in(body: dict[str, Any]) -> list[str]:
    found = [body.get("secret"), body.get("qr_code"), body.get("session_token") or None]
    found.extend(body.get("recovery_codes", []))
    for totp in body.get("totps", []):
        found.extend(totp["recovery_codes"])
    return [secret for secret in found if isinstance(secret, str)]


@FUZZ
@given(data=st.data(), operation=st.sampled_from(OPERATIONS))
def test_a_damaged_example_fails_with_a_path_and_no_secret(
    data: st.DataObject, operation: Operation[Any, Any]
) -> None:
    body = load_example(EXAMPLE_OF[operation])
    if operation is AUTHENTICATE:
        body["session"] = load_example("session_object")
        body["session_token"] = "session-token-that-must-not-leak-0123456789"
    secrets = secrets_in(body)
    path = data.draw(st.sampled_from(all_paths(body)))
    *parents, last = path
    target: Any = body
    for step in parents:
        target = target[step]
    if isinstance(target, dict) and data.draw(st.booleans()):
        del target[last]
    else:
        target[last] = data.draw(json_values)

    failure: UnexpectedResponseError | None = None
    try:
        decode_response(operation, 200, headers_with("application/json"), _jsoncodec.dumps(body))
    except UnexpectedResponseError as error:
        failure = error
    if failure is not None:
        assert failure.path is not None
        assert failure.path.startswith("$")
        for text in (str(failure), repr(failure.args), repr(vars(failure))):
            for secret in secrets:
                assert secret not in text


# --------------------------------------------------------------------------------------------
# Params validation
# --------------------------------------------------------------------------------------------

PARAMS_TYPES: list[type[Any]] = [
    CreateParams,
    AuthenticateParams,
    RecoveryCodesParams,
    RecoverParams,
]

anything = (
    st.none()
    | st.text(max_size=10)
    | st.integers()
    | st.booleans()
    | st.floats()
    | st.binary(max_size=4)
    | st.lists(st.integers(), max_size=2)
)
code_like = (
    st.from_regex(r"\A[0-9]{6}\Z")
    | st.text(alphabet="0123456789\u0660\u0661\u0662\u096a\uff15 ", min_size=5, max_size=7)
    | st.text(max_size=8)
)
claims_like = (
    st.dictionaries(st.text(max_size=6), json_scalars | st.floats(), max_size=3)
    | st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=2)
    | st.dictionaries(
        st.text(max_size=6), st.sets(st.integers(), max_size=2), min_size=1, max_size=1
    )
    | st.lists(st.text(), max_size=2)
)
FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "user_id": anything | st.text(min_size=1, max_size=20),
    "totp_code": anything | code_like,
    "recovery_code": anything | st.text(min_size=1, max_size=20),
    "session_token": anything,
    "session_jwt": anything,
    "telemetry_id": anything,
    "expiration_minutes": anything | st.integers(min_value=0, max_value=2000),
    "session_duration_minutes": anything | st.integers(min_value=0, max_value=600_000),
    "session_custom_claims": st.none() | claims_like,
}


def first_invalid_field(fields: dict[str, Any]) -> str | None:
    """An oracle written from the API reference, independent of the implementation."""

    def text(value: Any, required: bool) -> bool:
        if value is None:
            return not required
        return isinstance(value, str) and value.strip() != ""

    def whole(value: Any, low: int, high: int) -> bool:
        return value is None or (type(value) is int and low <= value <= high)

    def json_claims(value: Any) -> bool:
        if value is None:
            return True
        if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
            return False
        return all(
            item is None
            or isinstance(item, str | bool)
            or (isinstance(item, int) and -(2**63) <= item < 2**64)
            or (isinstance(item, float) and math.isfinite(item))
            for item in value.values()
        )

    rules = {
        "user_id": lambda v: text(v, required=True),
        "totp_code": lambda v: (
            isinstance(v, str) and len(v) == 6 and all(c in "0123456789" for c in v)
        ),
        "recovery_code": lambda v: text(v, required=True),
        "session_token": lambda v: text(v, required=False),
        "session_jwt": lambda v: text(v, required=False),
        "telemetry_id": lambda v: text(v, required=False),
        "expiration_minutes": lambda v: whole(v, 5, 1440),
        "session_duration_minutes": lambda v: whole(v, 5, 527040),
        "session_custom_claims": json_claims,
    }
    for name, value in fields.items():
        if not rules[name](value):
            return name
    return None


@pytest.mark.parametrize("params_type", PARAMS_TYPES, ids=lambda t: t.__name__)
@FUZZ
@given(data=st.data())
def test_params_validation_matches_the_rules(params_type: type[Any], data: st.DataObject) -> None:
    names = [field.name for field in attrs.fields(params_type)]
    fields = {name: data.draw(FIELD_STRATEGIES[name], label=name) for name in names}
    expected_error = first_invalid_field(fields)
    if expected_error is not None:
        with pytest.raises(InvalidParamsError) as caught:
            params_type(**fields)
        assert caught.value.field == expected_error
        return
    params = params_type(**fields)
    sent = _jsoncodec.loads(encode_request(params))
    assert sent == {name: value for name, value in fields.items() if value is not None}


@FUZZ
@given(header=st.none() | st.text(max_size=40))
def test_parse_retry_after_never_fails(header: str | None) -> None:
    seconds = parse_retry_after(header, now=1_745_305_200.0)
    assert seconds is None or seconds >= 0.0
