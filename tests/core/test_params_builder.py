"""The generated params builder makes what ``cls(**kwargs)`` makes, and refuses what it refuses.

``bind_call`` builds a call's params with ``_core/params_builder.py`` rather than the class's own
``__init__``, to skip the checks of the optional fields left out. Hypothesis draws every field
from valid, invalid and absent values; both ways must give equal, equally typed, frozen objects,
or the same error for the same field with the same words.
"""

from __future__ import annotations

import math
import traceback
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stytch_totp import (
    AuthenticateParams,
    CreateParams,
    InvalidParamsError,
    RecoverParams,
    RecoveryCodesParams,
)
from stytch_totp._core.params_builder import builder_of, generated_source

PARAMS_TYPES = [CreateParams, AuthenticateParams, RecoveryCodesParams, RecoverParams]

#: Values each field may get: some valid, some refused, of the right type and of others.
CANDIDATES: dict[str, list[object]] = {
    "user_id": ["user-test-1", "", " ", "x" * 500, 7, None, b"user"],
    "totp_code": ["576831", "57683", "٥٧٦٨٣١", 576831, None],
    "recovery_code": ["ckss-2skx-ebow", "", None, ["ckss"]],
    "expiration_minutes": [5, 60, 1440, 1441, 0, True, 60.0, "60", None],
    "session_token": ["mZAYn5aLEqKUlZ_Ad9U", "", b"t", None],
    "session_duration_minutes": [5, 60, 527041, False, 30.5, None],
    "session_jwt": ["eyJh.e30.c2ln", " ", 1, None],
    "session_custom_claims": [
        {"plan": "pro"},
        {},
        {"nested": {"n": [1, 2.5, None]}},
        {1: "one"},
        {"nan": math.nan},
        {"blob": "x" * 4096},
        ["a"],
        "plan=pro",
        None,
    ],
    "telemetry_id": ["telemetry-1", "", 7, None],
}

ABSENT = object()


def outcome(build: Any) -> tuple[str, Any]:
    try:
        return "built", build()
    except InvalidParamsError as error:
        return "refused", (type(error), error.field, str(error))


@st.composite
def call_kwargs(draw: st.DrawFn, params_type: type[Any]) -> dict[str, Any]:
    # bind_call refuses a call missing a required field before building anything.
    kwargs: dict[str, Any] = {}
    for field in attrs.fields(params_type):
        required = field.default is attrs.NOTHING
        value = draw(st.sampled_from([*([] if required else [ABSENT]), *CANDIDATES[field.name]]))
        if value is not ABSENT:
            kwargs[field.name] = value
    return kwargs


@pytest.mark.parametrize("params_type", PARAMS_TYPES, ids=lambda t: t.__name__)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_builder_agrees_with_the_class(params_type: type[Any], data: st.DataObject) -> None:
    kwargs = data.draw(call_kwargs(params_type))
    by_class = outcome(lambda: params_type(**kwargs))
    by_builder = outcome(lambda: builder_of(params_type)(dict(kwargs)))
    assert by_builder[0] == by_class[0]
    if by_class[0] == "refused":
        assert by_builder[1] == by_class[1]
        return
    built, expected = by_builder[1], by_class[1]
    assert type(built) is params_type
    assert built == expected
    assert repr(built) == repr(expected)
    for field in attrs.fields(params_type):
        assert type(getattr(built, field.name)) is type(getattr(expected, field.name))


@pytest.mark.parametrize("params_type", PARAMS_TYPES, ids=lambda t: t.__name__)
def test_every_params_class_gets_a_generated_builder(params_type: type[Any]) -> None:
    # A class that fell back to its own __init__ would still be right, only slower; this says
    # when a change to the models turns the fast path off.
    source = generated_source(params_type)
    assert source is not None
    assert f"def build_{params_type.__name__}(fields):" in source


def test_what_the_builder_makes_is_frozen() -> None:
    params = builder_of(AuthenticateParams)({"user_id": "user-1", "totp_code": "576831"})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        params.user_id = "user-2"  # type: ignore[misc]


def test_a_refusal_from_the_builder_shows_the_generated_line() -> None:
    with pytest.raises(InvalidParamsError) as caught:
        builder_of(CreateParams)({"user_id": "user-1", "expiration_minutes": 0})
    rendered = "".join(traceback.format_exception(caught.value))
    assert "generated builder CreateParams" in rendered
    assert "_validate_expiration_minutes(self" in rendered


def test_a_class_the_builder_cannot_reproduce_builds_itself() -> None:
    @attrs.frozen
    class WithDefault:
        name: str = "anonymous"

    assert generated_source(WithDefault) is None
    assert builder_of(WithDefault)({}) == WithDefault()
