"""The library's cattrs converter: every JSON rule of the SDK lives here, none in the models.

* Params are unstructured *omit-empty*: a field left at its default (``None``) is absent from the
  body, never ``null``. Inside ``session_custom_claims`` a ``None`` value stays ``null`` (that is how
  a claim is deleted).
* Responses are structured *forward-compatibly*: unknown keys are ignored and unknown enum values
  are kept as plain ``str``; but types are checked strictly (no ``None`` turning into ``"None"``).
* Datetimes are RFC 3339 with a ``Z`` suffix, and always timezone-aware once parsed.

Two converters share these rules. :data:`converter` is the fast one, used on every response; when
it fails, :func:`explain_failure` re-runs the body through a converter with detailed validation to
say *where* the body was wrong. The global cattrs converter is never touched.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import NoneType, UnionType
from typing import Any, Final, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from .._models import (
    AuthenticateParams,
    AuthenticationFactorDeliveryMethod,
    AuthenticationFactorType,
    CreateParams,
    RecoverParams,
    RecoveryCodesParams,
)
from .model_hooks import register_model_hooks

__all__ = ["converter", "explain_failure", "make_converter"]

T = TypeVar("T")

PARAMS_TYPES: Final = (CreateParams, AuthenticateParams, RecoveryCodesParams, RecoverParams)


def _strict_str(value: object, _: object) -> str:
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str(value)
    raise TypeError(f"expected a string, got {_json_type(value)}")


def _strict_int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"expected an integer, got {_json_type(value)}")


def _strict_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected a boolean, got {_json_type(value)}")


def _parse_datetime(value: object, _: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an RFC 3339 timestamp, got {_json_type(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("expected an RFC 3339 timestamp") from None
    # Stytch always sends UTC; a timestamp without an offset is read as UTC, never as local time.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _parse_optional_datetime(value: object, type_: object) -> datetime | None:
    # An empty string is how some Stytch endpoints say "never".
    if value is None or value == "":
        return None
    return _parse_datetime(value, type_)


def _format_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _enum_or_str(enum_type: type[enum.StrEnum]) -> Callable[[object, object], str]:
    known = {member.value: member for member in enum_type}

    def structure(value: object, _: object) -> str:
        text = _strict_str(value, None)
        return known.get(text, text)

    return structure


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_homogeneous_tuple(type_: Any) -> bool:
    args = get_args(type_)
    return getattr(type_, "__origin__", None) is tuple and len(args) == 2 and args[1] is Ellipsis


def _make_tuple_hook(
    conv: cattrs.Converter, detailed: bool
) -> Callable[[Any], Callable[[Any, Any], tuple[Any, ...]]]:
    """JSON arrays only: cattrs alone would happily turn a string into a tuple of characters."""

    def factory(type_: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
        element_type = get_args(type_)[0]
        element_hook = conv.get_structure_hook(element_type)

        def structure(value: Any, _: Any) -> tuple[Any, ...]:
            if not isinstance(value, list):
                raise TypeError(f"expected an array, got {_json_type(value)}")
            if not detailed:
                return tuple([element_hook(item, element_type) for item in value])
            items: list[Any] = []
            errors: list[Exception] = []
            for index, item in enumerate(value):
                try:
                    items.append(element_hook(item, element_type))
                except Exception as exc:
                    exc.__notes__ = [
                        *getattr(exc, "__notes__", []),
                        IterableValidationNote(f"Structuring @ index {index}", index, element_type),
                    ]
                    errors.append(exc)
            if errors:
                raise IterableValidationError(f"While structuring {type_!r}", errors, type_)
            return tuple(items)

        return structure

    return factory


def _make_object_hook(
    conv: cattrs.Converter,
) -> Callable[[type[Any]], Callable[[Any, Any], Any]]:
    """JSON objects only: otherwise a ``null`` or ``[]`` model is blamed on its first field."""

    def factory(type_: type[Any]) -> Callable[[Any, Any], Any]:
        structure_fields = make_dict_structure_fn(type_, conv)

        def structure(value: Any, cls: Any) -> Any:
            if not isinstance(value, dict):
                raise TypeError(f"expected an object, got {_json_type(value)}")
            return structure_fields(value, cls)

        return structure

    return factory


def _make_mapping_hook(conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """JSON objects only: cattrs' own mapping hook fails on a list with an ``AttributeError``."""
    generic_hook = conv.get_structure_hook(Mapping[str, Any])

    def structure(value: Any, type_: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {_json_type(value)}")
        return generic_hook(value, type_)

    return structure


ENUM_TYPES: Final = (AuthenticationFactorType, AuthenticationFactorDeliveryMethod)


def make_converter(
    *, detailed_validation: bool = False, generated_hooks: bool = True
) -> cattrs.Converter:
    """Build a converter with the SDK's JSON rules (see the module docstring).

    The fast converter (``detailed_validation=False``) structures models with hooks generated
    per model (``model_hooks``); ``generated_hooks=False`` leaves them out, so tests and
    benchmarks can compare both ways on the same inputs.
    """
    conv = cattrs.Converter(detailed_validation=detailed_validation)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook(datetime, _parse_datetime)
    conv.register_structure_hook(datetime | None, _parse_optional_datetime)
    conv.register_unstructure_hook(datetime, _format_datetime)
    for enum_type in ENUM_TYPES:
        conv.register_structure_hook(enum_type | str, _enum_or_str(enum_type))
    conv.register_structure_hook_factory(
        _is_homogeneous_tuple, _make_tuple_hook(conv, detailed_validation)
    )
    object_hook_factory = _make_object_hook(conv)
    conv.register_structure_hook_factory(attrs.has, object_hook_factory)
    conv.register_structure_hook_func(
        lambda type_: type_ == Mapping[str, Any], _make_mapping_hook(conv)
    )
    # JSON carries optional text and numbers as they are: with ``identity`` as their hook, the
    # code cattrs generates for a params class reads the field instead of calling two hooks.
    for optional_scalar in (str | None, int | None):
        conv.register_unstructure_hook(optional_scalar, identity)
    for params_type in PARAMS_TYPES:
        conv.register_unstructure_hook(
            params_type, make_dict_unstructure_fn(params_type, conv, _cattrs_omit_if_default=True)
        )
    if not detailed_validation:
        _register_fast_paths(conv, explicit_unions={datetime | None})
        if generated_hooks:
            register_model_hooks(
                conv, object_hook_factory=object_hook_factory, enum_types=ENUM_TYPES
            )
    return conv


def _register_fast_paths(conv: cattrs.Converter, *, explicit_unions: set[Any]) -> None:
    """Hooks for the hot path that return what cattrs' own would, with fewer calls per value.

    Profiling the client showed response structuring as its largest cost; these hooks remove
    work cattrs repeats for every value (looking up the hook of ``X`` again for each ``X | None``,
    one hook call per string of an array or key of an object). Any input they are not sure
    about goes to the hook cattrs would have used, so results and failures are unchanged. Only
    the fast converter gets them: the diagnostic one keeps cattrs' paths for its messages.
    """

    def is_plain_optional(type_: Any) -> bool:
        args = get_args(type_)
        return (
            get_origin(type_) in (Union, UnionType)
            and len(args) == 2
            and NoneType in args
            and type_ not in explicit_unions
        )

    def optional_hook(type_: Any) -> Callable[[Any, Any], Any]:
        first, second = get_args(type_)
        inner_type = first if second is NoneType else second
        inner_hook = conv.get_structure_hook(inner_type)

        def structure(value: Any, _: Any) -> Any:
            return None if value is None else inner_hook(value, inner_type)

        return structure

    json_object = Mapping[str, Any]
    generic_object_hook = conv.get_structure_hook(json_object)

    def structure_object(value: Any, type_: Any) -> Any:
        # cattrs' hook copies the dict, checking each key with ``_strict_str`` and passing each
        # ``Any`` value through: with only ``str`` keys, that is exactly ``dict(value)``.
        if type(value) is dict:
            for key in value:
                if type(key) is not str:
                    break
            else:
                return dict(value)
        return generic_object_hook(value, type_)

    strings = tuple[str, ...]
    generic_strings_hook = conv.get_structure_hook(strings)

    def structure_strings(value: Any, type_: Any) -> Any:
        if type(value) is list:
            for item in value:
                if type(item) is not str:
                    break
            else:
                return tuple(value)
        return generic_strings_hook(value, type_)

    conv.register_structure_hook_factory(is_plain_optional, optional_hook)
    conv.register_structure_hook_func(lambda type_: type_ == json_object, structure_object)
    conv.register_structure_hook_func(lambda type_: type_ == strings, structure_strings)


#: The converter used on every request and response.
converter: Final = make_converter()

_diagnostic_converter: cattrs.Converter | None = None


def explain_failure(data: Any, type_: type[Any]) -> tuple[str | None, str]:
    """Say where ``data`` fails to become ``type_``: a ``(json_path, reason)`` pair.

    Only called after the fast converter failed, so its cost does not matter. The reason never
    includes the offending value, which might be a secret.
    """
    global _diagnostic_converter
    if _diagnostic_converter is None:
        _diagnostic_converter = make_converter(detailed_validation=True)
    try:
        _diagnostic_converter.structure(data, type_)
    except cattrs.BaseValidationError as exc:
        messages = cattrs.transform_error(exc, path="$", format_exception=_describe_exception)
        first = messages[0] if messages else "invalid body"
        reason, _, path = first.rpartition(" @ ")
        more = f" (and {len(messages) - 1} more problems)" if len(messages) > 1 else ""
        return (path or None), (reason or first) + more
    except Exception as exc:
        return None, _describe_exception(exc, None)
    return None, "the body could not be read as the documented model"


def _describe_exception(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, TypeError | ValueError) and str(exc).startswith("expected"):
        return str(exc)
    return cattrs.v.format_exception(exc, type_)
