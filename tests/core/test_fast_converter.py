"""The generated hooks accept, build and reject exactly what the detailed converter does.

The fast converter writes one hook per model (``_core/model_hooks.py``) with its own inline checks.
A seeded mutator damages realistic bodies thousands of ways (keys dropped, nulls, wrong types,
bools for ints, strings for lists, unknown enum values, extra keys, deep nesting, odd timestamps,
added factor objects...) and every body must get the same outcome from the fast converter, from
the same converter without generated hooks, and from the detailed converter: the same model (down
to the types of its values) or a rejection that ``explain_failure`` locates where the body was
damaged. Being deterministic and quick, it runs with the suite, so a cattrs upgrade cannot
silently change what the SDK accepts.
"""

from __future__ import annotations

import copy
import enum
import gc
import linecache
import pickle
import random
import traceback
import tracemalloc
import weakref
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

import attrs
import cattrs
import pytest

import stytch_totp
from stytch_totp import (
    AuthenticateResponse,
    AuthenticationFactor,
    CreateResponse,
    RecoverResponse,
    RecoveryCodesResponse,
    Session,
    User,
    _jsoncodec,
)
from stytch_totp._core.converter import converter, explain_failure, make_converter
from stytch_totp._core.model_hooks import generated_source, is_eligible
from tests.conftest import load_example

PLAIN_FAST = make_converter(generated_hooks=False)
DETAILED = make_converter(detailed_validation=True)

#: Bodies per seed; the test runs several seeds (4,000 bodies in all).
BODIES_PER_SEED = 500
SEEDS = range(8)


# --------------------------------------------------------------------------------------------
# Realistic bodies
# --------------------------------------------------------------------------------------------


def login_body(example: str, last_factor: dict[str, Any]) -> dict[str, Any]:
    body = load_example(example)
    body["session"] = load_example("session_object")
    body["session"]["authentication_factors"].append(last_factor)
    body["session"]["roles"] = ["stytch_user"]
    body["session_token"] = "mZAYn5aLEqKUlZ_Ad9U_fWr38GaAQ1oFAhT8ds245v7Q"
    body["session_jwt"] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    body["user_device"] = {
        "visitor_id": "visitor-1",
        "visitor_id_details": {"is_new": False, "first_seen_at": "2025-01-01T00:00:00Z"},
        "ip_address": "203.0.113.7",
        "ip_geo_country": "FR",
    }
    return body


BASES: list[tuple[type[Any], dict[str, Any]]] = [
    (CreateResponse, load_example("create")),
    (
        AuthenticateResponse,
        login_body(
            "authenticate_no_session",
            {
                "type": "totp",
                "delivery_method": "authenticator_app",
                "created_at": "2025-04-22T07:41:52Z",
                "last_authenticated_at": "2025-04-22T07:41:52Z",
                "updated_at": "2025-04-22T07:41:52Z",
                "authenticator_app_factor": {"totp_id": "totp-test-1"},
            },
        ),
    ),
    (
        RecoverResponse,
        login_body(
            "recover_no_session",
            {
                "type": "recovery_codes",
                "delivery_method": "recovery_code",
                "recovery_code_factor": {"totp_recovery_code_id": "totp-recovery-code-test-1"},
            },
        ),
    ),
    (RecoveryCodesResponse, load_example("recovery_codes")),
    (AuthenticateResponse, load_example("authenticate_no_session")),
]

FACTOR_FIELDS = {
    field.name: _inner
    for field in attrs.fields(AuthenticationFactor)
    if field.name.endswith("_factor")
    for _inner in [next(arg for arg in get_args(field.type) if arg is not NoneType)]
}


def sample(type_: Any) -> Any:
    """A valid JSON value for ``type_``."""
    origin, args = get_origin(type_), get_args(type_)
    if attrs.has(type_):
        return {
            field.name: sample(field.type)
            for field in attrs.fields(type_)
            if field.default is attrs.NOTHING
        }
    if origin in (Union, UnionType):
        return sample(next(arg for arg in args if arg is not NoneType))
    if isinstance(type_, type) and issubclass(type_, enum.Enum):
        return next(iter(type_)).value
    samples: dict[Any, Any] = {str: "text", int: 7, bool: True, datetime: "2025-04-22T07:00:00Z"}
    if type_ in samples:
        return samples[type_]
    if origin is tuple:
        return [sample(args[0])]
    if origin is Mapping:
        return {"key": "value"}
    raise AssertionError(f"no sample for {type_!r}")


# --------------------------------------------------------------------------------------------
# The mutator
# --------------------------------------------------------------------------------------------

Path = tuple[str | int, ...]

ODD_VALUES: list[Any] = [
    None,
    0,
    1,
    -1,
    2**70,
    1.5,
    200.0,
    True,
    False,
    "",
    "text",
    " ",
    "2025-04-22T07:00:00Z",
    [],
    {},
    ["a"],
    [{}],
    [None],
    {"a": 1},
    {"type": "totp"},
]
ODD_TIMESTAMPS: list[Any] = [
    "",
    "2025-04-22T07:00:00",
    "2025-04-22T09:00:00+02:00",
    "2025-04-22T07:00:00.123456Z",
    "2025-04-22",
    "2025-13-01T00:00:00Z",
    "not a timestamp",
    "2025-04-22T07:00:00Z ",
    1745305200,
    None,
]


def paths_in(value: Any, prefix: Path = ()) -> list[Path]:
    found: list[Path] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(paths_in(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(paths_in(item, (*prefix, index)))
    return found


def parent_of(body: dict[str, Any], path: Path) -> Any:
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    return target


def factor_paths(body: dict[str, Any]) -> list[Path]:
    return [
        path
        for path in paths_in(body)
        if path[-2:-1] == ("authentication_factors",)
        and isinstance(parent_of(body, path)[path[-1]], dict)
    ]


def deeply_nested(rng: random.Random) -> Any:
    value: Any = rng.choice([{}, [], "leaf", None])
    for _ in range(rng.randint(5, 60)):
        value = [value] if rng.random() < 0.5 else {"a": value}
    return value


def mutate(body: dict[str, Any], rng: random.Random) -> Path:
    """Damage ``body`` in place in one random way; the path of the damage."""
    path = rng.choice(paths_in(body))
    parent, last = parent_of(body, path), path[-1]
    value = parent[last]
    kind = rng.randrange(13)
    if kind == 0:  # drop a key, or an item of a list
        del parent[last]
        if isinstance(parent, list):
            return path[:-1]  # the items after it moved
    elif kind == 1:
        parent[last] = None
    elif kind == 2:
        parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif kind == 3:  # bools for ints and ints for bools, strings for lists, lists for objects
        if isinstance(value, bool):
            parent[last] = int(value)
        elif isinstance(value, int):
            parent[last] = bool(value)
        elif isinstance(value, list):
            parent[last] = rng.choice(["abc", "", '["a"]'])
        elif isinstance(value, dict):
            parent[last] = [value]
        else:
            parent[last] = [value]
    elif kind == 4:  # a key from a later API version, wherever there is an object
        target = value if isinstance(value, dict) else body
        target[rng.choice(["added_later", "new_flag", "x"])] = copy.deepcopy(rng.choice(ODD_VALUES))
        return path if target is value else ()
    elif kind == 5:
        parent[last] = deeply_nested(rng)
    elif kind == 6 and isinstance(last, str) and last.endswith("_at"):
        parent[last] = rng.choice(ODD_TIMESTAMPS)
    elif kind == 7 and last in ("type", "delivery_method"):
        parent[last] = rng.choice(["carrier_pigeon", "", "TOTP", "totp", "email", 5])
    elif kind == 8 and (factors := factor_paths(body)):  # a factor object, maybe a bad one
        factor_path = rng.choice(factors)
        name = rng.choice(sorted(FACTOR_FIELDS))
        added = rng.choice(
            [sample(FACTOR_FIELDS[name]), {}, None, "text", [], {"unknown": 1}, [sample(str)]]
        )
        parent_of(body, (*factor_path, name))[name] = added
        return (*factor_path, name)
    elif kind == 9 and isinstance(value, list) and value:  # repeat or empty a list
        parent[last] = value + value if rng.random() < 0.5 else []
    elif kind == 10 and isinstance(value, str):
        parent[last] = rng.choice([value + "é", value * 50, value.upper(), "\x00"])
    elif kind == 11 and isinstance(value, dict):
        parent[last] = {}
    elif kind == 12 and isinstance(value, dict):  # keys in another order
        parent[last] = dict(reversed(value.items()))
    else:
        parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
    return path


def mutated_bodies(seed: int) -> list[tuple[type[Any], dict[str, Any], list[Path]]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(BODIES_PER_SEED):
        model, base = rng.choice(BASES)
        body = copy.deepcopy(base)
        damaged = [mutate(body, rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        cases.append((model, body, damaged))
    return cases


# --------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------


def snapshot(value: Any) -> Any:
    """Everything a model holds, types included (``==`` alone says a str equals its enum)."""
    if attrs.has(type(value)):
        return (
            type(value),
            tuple(snapshot(getattr(value, f.name)) for f in attrs.fields(type(value))),
        )
    if isinstance(value, tuple | list):
        return (type(value), tuple(snapshot(item) for item in value))
    if isinstance(value, dict):
        return (type(value), tuple((key, snapshot(item)) for key, item in value.items()))
    if isinstance(value, datetime):
        return (datetime, value.isoformat())
    return (type(value), value)


REJECTED = "rejected"


def outcome(structure: Callable[[Any, type[Any]], Any], body: Any, model: type[Any]) -> Any:
    """The snapshot of the model built from ``body``, or ``REJECTED``."""
    try:
        return snapshot(structure(copy.deepcopy(body), model))
    except Exception:
        return REJECTED


def fast_error(body: Any, model: type[Any]) -> Exception:
    try:
        converter.structure(copy.deepcopy(body), model)
    except Exception as error:
        return error
    raise AssertionError("not rejected")


def json_path(path: Path) -> str:
    return "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)


def related(reported: str, damaged: str) -> bool:
    """One path leads to the other: the error is at the damage, or inside what replaced it."""

    def within(inner: str, outer: str) -> bool:
        return inner == outer or inner.startswith((outer + ".", outer + "["))

    return within(reported, damaged) or within(damaged, reported)


@pytest.mark.parametrize("seed", SEEDS)
def test_fast_and_detailed_converters_agree_on_mutated_bodies(seed: int) -> None:
    accepted = rejected = 0
    for model, body, damaged in mutated_bodies(seed):
        fast = outcome(converter.structure, body, model)
        assert fast == outcome(PLAIN_FAST.structure, body, model), body
        detailed = outcome(DETAILED.structure, body, model)
        assert fast == detailed, body
        if fast is not REJECTED:
            accepted += 1
            continue
        # Rejected by both, with an error the callers (client and emulator) catch.
        assert isinstance(fast_error(body, model), KeyError | TypeError | ValueError), body
        path, reason = explain_failure(copy.deepcopy(body), model)
        assert path is not None, (reason, body)
        assert any(related(path, json_path(where)) for where in damaged), (path, damaged)
        rejected += 1
    # Both outcomes are well represented, so neither half of the comparison is vacuous.
    assert accepted > BODIES_PER_SEED // 10
    assert rejected > BODIES_PER_SEED // 2


def test_the_mutator_reaches_every_kind_of_field() -> None:
    # Every model class and every field type of the responses is damaged somewhere.
    seen: set[str] = set()
    for seed in SEEDS:
        for _, _, damaged in mutated_bodies(seed):
            seen.update(str(step) for where in damaged for step in where)
    expected = {
        "user",
        "emails",
        "verified",
        "status_code",
        "authentication_factors",
        "created_at",
        "type",
        "delivery_method",
        "custom_claims",
        "trusted_metadata",
        "recovery_codes",
        "totps",
        "user_device",
        "visitor_id_details",
        "roles",
        "session",
        "authenticator_app_factor",
        "recovery_code_factor",
    }
    assert expected <= seen
    assert len(seen & set(FACTOR_FIELDS)) > 20  # factor objects added


# --------------------------------------------------------------------------------------------
# What the generated hooks build
# --------------------------------------------------------------------------------------------


def authenticate_response() -> AuthenticateResponse:
    model, body = BASES[1]
    response = converter.structure(body, model)
    assert isinstance(response, AuthenticateResponse)
    return response


def every_model_in(value: Any) -> list[Any]:
    found = []
    if attrs.has(type(value)):
        found.append(value)
        for field in attrs.fields(type(value)):
            found.extend(every_model_in(getattr(value, field.name)))
    elif isinstance(value, tuple):
        for item in value:
            found.extend(every_model_in(item))
    return found


def test_every_model_of_a_response_is_a_true_frozen_instance() -> None:
    models = every_model_in(authenticate_response())
    assert len(models) >= 15
    for model in models:
        cls = type(model)
        assert cls.__module__ == "stytch_totp"
        assert getattr(stytch_totp, cls.__name__) is cls
        assert not hasattr(model, "__dict__")
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(model, attrs.fields(cls)[0].name, "changed")
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            delattr(model, attrs.fields(cls)[0].name)
        # Built the way the class's own __init__ would build it.
        assert model == cls(**{f.name: getattr(model, f.name) for f in attrs.fields(cls)})


def test_generated_models_are_weak_referenceable_picklable_and_copyable() -> None:
    response = authenticate_response()
    for model in every_model_in(response):
        reference = weakref.ref(model)
        assert reference() is model
        clone = pickle.loads(pickle.dumps(model))  # noqa: S301 - our own bytes
        assert clone == model
        assert type(clone) is type(model)
        assert copy.deepcopy(model) == model
    assert attrs.evolve(response, totp_id="totp-2").totp_id == "totp-2"


def test_a_dropped_response_is_freed() -> None:
    reference = weakref.ref(authenticate_response())
    gc.collect()
    assert reference() is None


def test_the_response_models_all_get_generated_hooks() -> None:
    for model in (AuthenticateResponse, CreateResponse, RecoverResponse, RecoveryCodesResponse):
        converter.get_structure_hook(model)
    for name in stytch_totp._models.__all__:
        cls = getattr(stytch_totp, name)
        if attrs.has(cls) and not name.endswith("Params"):
            assert is_eligible(cls), name
            assert generated_source(cls) is not None, name


def test_models_whose_init_does_more_keep_cattrs_hooks() -> None:
    assert not is_eligible(stytch_totp.AuthenticateParams)  # validators and a converter

    @attrs.frozen
    class WithFactory:
        items: list[int] = attrs.Factory(list)

    @attrs.define
    class Mutable:
        name: str

    @attrs.frozen
    class WithPostInit:
        name: str

        def __attrs_post_init__(self) -> None:
            pass

    @attrs.frozen(slots=False)
    class NotSlotted:
        name: str

    for cls in (WithFactory, Mutable, WithPostInit, NotSlotted, dict, int):
        assert not is_eligible(cls), cls


def test_an_eligible_class_with_other_defaults_is_built_right() -> None:
    @attrs.frozen
    class Settings:
        name: str
        enabled: bool = False
        roles: tuple[str, ...] = ("reader",)
        when: datetime | None = None

    structure = make_converter().structure
    assert is_eligible(Settings)
    assert structure({"name": "a"}, Settings) == Settings("a")
    assert structure({"name": "a", "enabled": True, "roles": []}, Settings) == Settings(
        "a", True, ()
    )
    assert structure({"name": "a", "when": "2025-04-22T07:00:00"}, Settings).when == datetime(
        2025, 4, 22, 7, tzinfo=UTC
    )
    bad_bodies: list[Any] = [{}, {"name": "a", "enabled": None}, {"name": "a", "roles": None}, []]
    for bad in bad_bodies:
        with pytest.raises((KeyError, TypeError)):
            structure(bad, Settings)


def test_tracebacks_show_the_generated_source() -> None:
    body = {"type": "totp", "delivery_method": "authenticator_app", "created_at": 5}
    with pytest.raises(TypeError, match="expected an RFC 3339 timestamp") as caught:
        converter.structure(body, AuthenticationFactor)
    frames = traceback.extract_tb(caught.value.__traceback__)
    generated = [frame for frame in frames if frame.filename.startswith("<stytch_totp generated")]
    assert generated, [frame.filename for frame in frames]
    assert "AuthenticationFactor" in generated[0].filename
    assert generated[0].line  # linecache knows the source
    line_number = generated[0].lineno
    assert line_number is not None
    assert linecache.getline(generated[0].filename, line_number).strip() == generated[0].line
    source = generated_source(AuthenticationFactor)
    assert source is not None
    assert generated[0].line in source


def test_a_dict_subclass_goes_through_the_converter_s_own_hook() -> None:
    class Body(dict[str, Any]):
        pass

    email: dict[str, Any] = {"email_id": "email-1", "email": "a@example.com", "verified": True}
    assert converter.structure(Body(email), stytch_totp.Email) == stytch_totp.Email(**email)
    with pytest.raises(TypeError, match="expected an object"):
        converter.structure([email], stytch_totp.Email)


def test_nested_dict_subclasses_are_built_as_the_detailed_converter_builds_them() -> None:
    # Where a small model is built inline, anything but a plain dict goes to its own hook.
    class Body(dict[str, Any]):
        pass

    user = load_example("create")["user"]
    user["emails"] = [Body(user["emails"][0])]
    user["name"] = Body(user["name"])
    assert snapshot(converter.structure(user, User)) == snapshot(DETAILED.structure(user, User))
    assert converter.structure(user, User).emails[0].email == "test@example.com"


def test_the_detailed_converter_has_no_generated_hooks() -> None:
    # Its failures must name paths: cattrs' own hooks do that, the generated ones do not.
    with pytest.raises(cattrs.ClassValidationError):
        DETAILED.structure({"user_id": 1}, User)
    with pytest.raises(KeyError):
        converter.structure({"session_id": "s"}, Session)


def test_names_in_generated_code_never_shadow_what_it_uses() -> None:
    # A model named like a builtin the generated code calls, with fields named like others.
    @attrs.frozen
    class type:
        len: str
        tuple: int | None = None
        fallback: bool = False

    model = type
    assert is_eligible(model)
    built = make_converter().structure({"len": "t", "tuple": 3, "fallback": True}, model)
    assert built == model("t", 3, True)
    assert built.__class__ is model
    source = generated_source(model)
    assert source is not None
    assert "if type(data) is not dict:" in source
    assert "obj.__class__ = type_2" in source


@attrs.frozen(kw_only=True)
class Window:
    """Required and optional timestamps in one model: the generated hook reuses repeated ones."""

    closed: datetime | None = None
    opened: datetime
    checked: datetime | None = None


TIMESTAMP_VALUES: list[Any] = [
    "2025-04-22T07:00:00Z",
    "2025-04-22T09:00:00+02:00",
    "2025-04-22T07:00:00",
    "",
    "not a timestamp",
    None,
    5,
    ABSENT_KEY := object(),
]


def test_every_mix_of_timestamps_gets_the_detailed_converter_s_outcome() -> None:
    fast = make_converter()
    assert is_eligible(Window)
    combinations = 0
    for opened in TIMESTAMP_VALUES:
        for closed in TIMESTAMP_VALUES:
            for checked in TIMESTAMP_VALUES:
                body = {
                    key: value
                    for key, value in (("opened", opened), ("closed", closed), ("checked", checked))
                    if value is not ABSENT_KEY
                }
                assert outcome(fast.structure, body, Window) == outcome(
                    DETAILED.structure, body, Window
                ), body
                combinations += 1
    assert combinations == len(TIMESTAMP_VALUES) ** 3
    shared = fast.structure(
        {"opened": "2025-04-22T07:00:00Z", "closed": "2025-04-22T07:00:00Z"}, Window
    )
    assert shared.opened == shared.closed == datetime(2025, 4, 22, 7, tzinfo=UTC)
    assert shared.checked is None


def test_a_kept_response_takes_no_more_memory_than_before() -> None:
    # The same slots as a model built by __init__: the generated hooks add nothing per object.
    body = _jsoncodec.dumps(BASES[1][1])

    def kept_bytes(structure: Callable[[Any, type[Any]], Any]) -> int:
        kept = [structure(_jsoncodec.loads(body), AuthenticateResponse) for _ in range(5)]
        gc.collect()
        tracemalloc.start()
        try:
            kept = [structure(_jsoncodec.loads(body), AuthenticateResponse) for _ in range(50)]
            gc.collect()
            held = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert len(kept) == 50
        return held

    assert kept_bytes(converter.structure) <= kept_bytes(PLAIN_FAST.structure)
