"""The public surface: ``stytch_totp.__all__`` is exactly what the package offers, and it ships typed."""

from __future__ import annotations
import __future__

import importlib.metadata
import types
import typing
import zipfile
from pathlib import Path

import attrs
from hatchling.builders.wheel import WheelBuilder
from packaging.version import Version

import stytch_totp

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


def test_private_modules_export_nothing_the_package_forgets() -> None:
    # Anything a private module marks public is either re-exported or an internal of the SDK.
    internal = {
        "_protocol": {
            "AUTHENTICATE",
            "CREATE",
            "RECOVER",
            "RECOVERY_CODES",
            "Operation",
            "decode_error",
            "decode_response",
            "encode_request",
        },
        "_converter": {"converter", "explain_failure", "make_converter"},
        "_retry": {"Safety", "classify_status", "next_delay", "parse_retry_after"},
        "_transport": {"RawResponse", "TransportFailure", "post"},
    }
    for module_name in (
        "_client",
        "_converter",
        "_exceptions",
        "_models",
        "_params",
        "_protocol",
        "_retry",
        "_totps",
        "_transport",
    ):
        module = getattr(stytch_totp, module_name)
        declared = set(module.__all__)
        forgotten = declared - set(stytch_totp.__all__) - internal.get(module_name, set())
        assert not forgotten, f"stytch_totp.{module_name} exports {forgotten}, the package does not"


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


def test_built_wheel_ships_py_typed_and_every_module(tmp_path: Path) -> None:
    (wheel_path,) = WheelBuilder(str(PROJECT_ROOT)).build(
        directory=str(tmp_path), versions=["standard"]
    )
    with zipfile.ZipFile(wheel_path) as wheel:
        names = set(wheel.namelist())
    assert "stytch_totp/py.typed" in names
    for module in PACKAGE_DIR.glob("*.py"):
        assert f"stytch_totp/{module.name}" in names
    assert not any(name.startswith("tests/") for name in names)
