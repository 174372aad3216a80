"""The public surface: ``stytch_totp.__all__`` is exactly what the package offers, and it ships typed."""

from __future__ import annotations
import __future__

import importlib
import importlib.metadata
import pickle
import sys
import types
import typing
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from packaging.version import Version

import stytch_totp
from stytch_totp._publish import defined_in, publish

PACKAGE_DIR = Path(stytch_totp.__file__).parent
PROJECT_ROOT = PACKAGE_DIR.parent

#: Dunder names that are deliberately public.
PUBLIC_DUNDERS = {"__version__"}


def public_names() -> set[str]:
    """Names a user can reach as ``stytch_totp.X``, minus submodules and ``__future__`` flags."""
    names = set()
    for name, value in vars(stytch_totp).items():
        if name.startswith("_") and name not in PUBLIC_DUNDERS:
            continue
        if isinstance(value, types.ModuleType | type(__future__.annotations)):
            continue
        names.add(name)
    return names


def exported_classes() -> list[type]:
    return [
        obj for name in stytch_totp.__all__ if isinstance(obj := getattr(stytch_totp, name), type)
    ]


def test_all_lists_every_public_name_exactly_once() -> None:
    assert len(stytch_totp.__all__) == len(set(stytch_totp.__all__))
    assert sorted(stytch_totp.__all__) == sorted(public_names())


def test_every_name_in_all_exists() -> None:
    for name in stytch_totp.__all__:
        assert hasattr(stytch_totp, name), name


#: What the private modules declare in ``__all__`` without the package exporting it: the SDK's
#: own internals, listed so that a new public-looking name needs a decision.
INTERNAL: dict[str, set[str]] = {
    "stytch_totp._bulk.engine": {"CreateCall", "UserInput", "fatal_reason"},
    "stytch_totp._bulk.pacing": {"BatchPacer", "PauseGate", "TokenBucket", "wait_turn"},
    "stytch_totp._client": {"credentials_from_env"},
    "stytch_totp._core.call_args": {"OPTION_NAMES", "CallOptions", "bind_call"},
    "stytch_totp._core.converter": {"converter", "explain_failure", "make_converter"},
    "stytch_totp._core.model_hooks": {
        "generated_source",
        "is_eligible",
        "mutable_subclass_of",
        "register_model_hooks",
    },
    "stytch_totp._core.net": {"is_loopback_host"},
    "stytch_totp._core.params_builder": {"builder_of", "generated_source"},
    "stytch_totp._core.protocol": {
        "AUTHENTICATE",
        "CREATE",
        "RECOVER",
        "RECOVERY_CODES",
        "Operation",
        "decode_error",
        "decode_response",
        "encode_request",
    },
    "stytch_totp._core.retry": {
        "Pacer",
        "Safety",
        "classify_failure",
        "classify_status",
        "may_wait_out_rate_limit",
        "next_delay",
        "parse_retry_after",
    },
    "stytch_totp._core.timeouts": {"DEFAULT_TIMEOUT", "resolve_timeout"},
    "stytch_totp._core.totp_codes": {"code_at_step", "decode_secret", "time_step"},
    "stytch_totp._exceptions": set(),
    "stytch_totp._jsoncodec": {
        "FAST",
        "JSONDecodeError",
        "dumps",
        "loads",
        "stdlib_dumps",
        "stdlib_loads",
    },
    "stytch_totp._models.qr_code": {"png_of_data_uri"},
    "stytch_totp._models.reprs": {"HIDDEN", "hide", "readable_repr"},
    "stytch_totp._publish": {"defined_in", "publish"},
    "stytch_totp._resources.totps": {"Caller"},
    "stytch_totp._sync.client": set(),
    "stytch_totp._sync.loop_thread": {"LoopThread", "in_running_loop"},
    "stytch_totp._sync.resources": set(),
    "stytch_totp._transport.aiohttp": set(),
    "stytch_totp._transport.base": set(),
}


def private_modules() -> list[str]:
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        name = ".".join(parts)
        if name.startswith(("stytch_totp.testing", "stytch_totp.cli")) or "_" not in name:
            continue
        if name in ("stytch_totp", "stytch_totp.__main__", "stytch_totp._version"):
            continue
        found.append(name)
    return found


def test_private_modules_export_nothing_the_package_forgets() -> None:
    for module_name in private_modules():
        module = importlib.import_module(module_name)
        declared = set(getattr(module, "__all__", ()))
        forgotten = declared - set(stytch_totp.__all__) - INTERNAL.get(module_name, set())
        assert not forgotten, f"{module_name} exports {forgotten}, the package does not"


def test_the_internal_list_names_only_what_exists() -> None:
    # A stale entry would let a future public name slip through unexported.
    for module_name, names in INTERNAL.items():
        module = importlib.import_module(module_name)
        assert names <= set(module.__all__), module_name


def test_no_alias_classes() -> None:
    # One name per class: an alias would be frozen API that tells a type checker nothing.
    seen: dict[int, str] = {}
    for name in stytch_totp.__all__:
        obj = getattr(stytch_totp, name)
        if isinstance(obj, type):
            assert id(obj) not in seen, f"{name} is {seen[id(obj)]}"
            assert obj.__name__ == name
            seen[id(obj)] = name


def test_public_classes_belong_to_the_package() -> None:
    classes = exported_classes()
    assert stytch_totp.User in classes
    for cls in classes:
        assert cls.__module__ == "stytch_totp", cls
        # What pickle and the docs follow: `stytch_totp.<qualname>` must lead back to the class.
        assert getattr(stytch_totp, cls.__qualname__) is cls


def test_public_attrs_classes_keep_resolvable_type_hints() -> None:
    # Re-labelling a class as `stytch_totp.X` must not break introspection (Sphinx, cattrs, users).
    attrs_classes = [cls for cls in exported_classes() if attrs.has(cls)]
    assert stytch_totp.Session in attrs_classes
    assert stytch_totp.AuthenticateParams in attrs_classes
    for cls in attrs_classes:
        hints = typing.get_type_hints(cls)
        assert set(hints) == {field.name for field in attrs.fields(cls)}, cls


def test_field_types_of_public_models_are_public() -> None:
    # A user can name (and isinstance-check) every type a public model hands back.
    exported = {id(obj) for obj in exported_classes()}

    def classes_in(annotation: object) -> list[type]:
        found = [annotation] if isinstance(annotation, type) else []
        for arg in typing.get_args(annotation):
            found.extend(classes_in(arg))
        return found

    for cls in exported_classes():
        if not attrs.has(cls):
            continue
        for name, annotation in typing.get_type_hints(cls).items():
            for used in classes_in(annotation):
                if used.__module__.startswith("stytch_totp"):
                    assert id(used) in exported, f"{cls.__name__}.{name} uses {used}"


def test_version_is_the_installed_distributions() -> None:
    assert str(Version(stytch_totp.__version__)) == stytch_totp.__version__
    assert importlib.metadata.version("stytch-totp") == stytch_totp.__version__


def test_py_typed_is_in_the_package() -> None:
    assert (PACKAGE_DIR / "py.typed").is_file()


def test_publish_relabels_and_keeps_what_relabelling_would_break() -> None:
    # The helper every public package uses: the class answers to the public name, pickles by it,
    # and its string annotations stay resolvable although `datetime` is not a name of the package.
    user = stytch_totp.User
    assert user.__module__ == "stytch_totp"
    assert defined_in(user) == "stytch_totp._models.user"
    assert typing.get_type_hints(user)["created_at"] == datetime | None
    policy = stytch_totp.RetryPolicy(max_retries=5)
    assert pickle.loads(pickle.dumps(policy))  # noqa: S301 - our own bytes == policy
    error = stytch_totp.InvalidParamsError("user_id", "must not be empty")
    assert type(pickle.loads(pickle.dumps(error)))  # noqa: S301 is stytch_totp.InvalidParamsError


def test_publish_resolves_string_annotations_of_attrs_classes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A private module written with `from __future__ import annotations`.
    module = types.ModuleType("stytch_totp._prices")
    source = (
        "from __future__ import annotations\n"
        "import attrs\n"
        "from decimal import Decimal\n"
        "@attrs.frozen\n"
        "class Price:\n"
        "    amount: Decimal\n"
    )
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(source, vars(module))  # noqa: S102 - our own source, to make a module from
    price = module.Price
    assert typing.get_type_hints(price) == {"amount": Decimal}  # before: resolved in its module
    publish("stytch_totp", vars(module), ["Price"])
    assert price.__module__ == "stytch_totp"
    assert typing.get_type_hints(price) == {"amount": Decimal}
    assert defined_in(price) == "stytch_totp._prices"


def test_publish_leaves_other_packages_classes_alone() -> None:
    namespace = {"Decimal": Decimal}
    publish("stytch_totp", namespace, ["Decimal"])
    assert Decimal.__module__ == "decimal"
