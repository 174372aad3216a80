"""Structure hooks written per model: the fast converter's path from a JSON object to a model.

Two costs dominate building a model with cattrs' generic hooks: one Python hook call per field,
and a frozen slotted attrs ``__init__``, which sets each field through ``object.__setattr__`` (46
calls for an :class:`~stytch_totp.AuthenticationFactor`, three of them in a login's session). For
each eligible model this module writes one function that instead

* checks the usual JSON shapes inline (``type(value) is str``, a list of objects...) and hands
  anything else (``None`` where it is not allowed, a ``str`` subclass, a dict subclass...) to the
  hook the converter registered for that type, which accepts or rejects it exactly as before;
* fills the slots of a *builder*, a mutable subclass of the model with its very layout, with plain
  attribute stores, then turns it into the model by assigning ``__class__`` (so the result is a
  true, frozen instance of the model: same type, same slots, weak-referenceable and picklable);
* for a model with many optional sub-objects (the 41 ``*_factor`` fields of an
  ``AuthenticationFactor``), reads only the keys the body holds instead of asking for each one.

Failures are plain ``KeyError``/``TypeError``/``ValueError``, as from cattrs' non-detailed hooks;
the caller re-runs the detailed converter to say where the body was wrong (``explain_failure``).
Generated code is registered in :mod:`linecache`, as cattrs does, so tracebacks show it; print
``generated_source(Model)`` to read one. Only models where bypassing ``__init__`` changes nothing
are eligible (no validators, converters, factories, aliases, custom ``__init__``/``__new__``,
inheritance); the others keep cattrs' own hooks.
"""

from __future__ import annotations

import enum
import linecache
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from types import NoneType, UnionType
from typing import Any, Final, Union, get_args, get_origin

import attrs
import cattrs

__all__ = ["generated_source", "is_eligible", "register_model_hooks"]

#: A model with at least this many optional sub-model fields is filled from the keys present.
SPARSE_FIELDS_MIN: Final = 16

#: Builtins the generated code calls by name: never shadowed by what ``bind`` adds.
_BUILTINS_USED: Final = frozenset(
    {"type", "dict", "str", "int", "bool", "len", "tuple", "setattr", "TypeError", "ValueError"}
)
_ABSENT: Final = object()
_FROMISOFORMAT: Final = datetime.fromisoformat
_SOURCES: dict[type[Any], str] = {}


def generated_source(model: type[Any]) -> str | None:
    """The source written for ``model``'s hook, or ``None`` if none was (yet) generated."""
    return _SOURCES.get(model)


def is_eligible(model: Any) -> bool:
    """Whether filling ``model``'s slots directly is exactly what its ``__init__`` would do."""
    if not (isinstance(model, type) and attrs.has(model)):
        return False
    props = attrs.inspect(model)
    if not (props.is_slotted and props.is_frozen and props.added_init):
        return False
    if model.__mro__ != (model, object) or model.__new__ is not object.__new__:
        return False
    if any(hasattr(model, hook) for hook in ("__attrs_pre_init__", "__attrs_post_init__")):
        return False
    fields = attrs.fields(model)
    if set(vars(model)["__slots__"]) != {field.name for field in fields} | {"__weakref__"}:
        return False  # e.g. a cached-hash slot the generated __init__ would have set
    return all(
        field.init
        and field.converter is None
        and field.validator is None
        and field.alias == field.name
        and not isinstance(field.default, attrs.Factory)  # type: ignore[arg-type]
        for field in fields
    )


def register_model_hooks(
    conv: cattrs.Converter,
    *,
    object_hook_factory: Callable[[type[Any]], Callable[[Any, Any], Any]],
    enum_types: Collection[type[enum.StrEnum]],
) -> None:
    """Give every eligible model of ``conv`` a generated hook.

    ``object_hook_factory`` builds the hook the converter would use without this module; it
    takes over any input that is not a plain ``dict``. ``enum_types`` are the enums whose
    ``Enum | str`` union the converter reads as "a member if known, else the string".
    """

    def factory(model: type[Any]) -> Callable[[Any, Any], Any]:
        return _HookWriter(conv, model, object_hook_factory(model), enum_types).write()

    conv.register_structure_hook_factory(is_eligible, factory)


def _optional_inner(type_: Any) -> Any:
    """``X`` for ``X | None``, else ``None``."""
    args = get_args(type_)
    if get_origin(type_) in (Union, UnionType) and len(args) == 2 and NoneType in args:
        return args[0] if args[1] is NoneType else args[1]
    return None


def _homogeneous_tuple_item(type_: Any) -> Any:
    """``X`` for ``tuple[X, ...]``, else ``None``."""
    args = get_args(type_)
    if get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return None


class _HookWriter:
    """Writes, compiles and registers the hook of one model."""

    def __init__(
        self,
        conv: cattrs.Converter,
        model: type[Any],
        fallback: Callable[[Any, Any], Any],
        enum_types: Collection[type[enum.StrEnum]],
    ) -> None:
        self.conv = conv
        self.model = model
        self.enum_or_str = {enum_type | str: enum_type for enum_type in enum_types}
        builder = type(
            f"{model.__name__}Builder",
            (model,),
            {
                "__slots__": (),
                "__module__": __name__,
                "__doc__": f"A {model.__name__} being filled in (see stytch_totp._core.model_hooks).",
                # Both, or CPython keeps the frozen class's Python-level __setattr__ slot.
                "__setattr__": object.__setattr__,
                "__delattr__": object.__delattr__,
                "__init__": object.__init__,
            },
        )
        self.namespace: dict[str, Any] = {"fallback": fallback, "ABSENT": _ABSENT}
        self.model_name = self.bind(model.__name__, model)
        self.builder_name = self.bind(builder.__name__, builder)
        self.remember_timestamps = False

    def bind(self, name: str, value: Any) -> str:
        """Put ``value`` in the generated code's globals under ``name`` (made unique)."""
        unique, count = name, 1
        while unique in _BUILTINS_USED or (
            unique in self.namespace and self.namespace[unique] is not value
        ):
            count += 1
            unique = f"{name}_{count}"
        self.namespace[unique] = value
        return unique

    def write(self) -> Callable[[Any, Any], Any]:
        model = self.model
        attrs.resolve_types(model)
        fields = attrs.fields(model)
        sparse = [
            field
            for field in fields
            if field.default is None and attrs.has(_optional_inner(field.type))
        ]
        if len(sparse) < SPARSE_FIELDS_MIN:
            sparse = []
        timestamps = [field for field in fields if field.type in (datetime, datetime | None)]
        self.remember_timestamps = len(timestamps) > 1
        name = f"structure_{model.__name__}"
        lines = [
            f"def {name}(data, type_):",
            "    if type(data) is not dict:",
            "        return fallback(data, type_)",
            f"    obj = {self.builder_name}()",
        ]
        if self.remember_timestamps:
            lines.append("    timestamp_text = timestamp = None")
        for field in fields:
            if field in sparse:
                continue
            lines.extend("    " + line for line in self.field_lines(field))
        if sparse:
            lines.extend("    " + line for line in self.sparse_lines(sparse))
        lines.append(f"    obj.__class__ = {self.model_name}")
        lines.append("    return obj")
        source = "\n".join(lines) + "\n"
        filename = self.register_source(source)
        exec(compile(source, filename, "exec"), self.namespace)  # noqa: S102 - our own code
        _SOURCES[model] = source
        hook: Callable[[Any, Any], Any] = self.namespace[name]
        return hook

    def register_source(self, source: str) -> str:
        lines = source.splitlines(keepends=True)
        base = f"<stytch_totp generated structure {self.model.__module__}.{self.model.__qualname__}"
        count = 1
        while True:
            filename = base + (f"-{count}>" if count > 1 else ">")
            entry = (len(source), None, lines, filename)
            if linecache.cache.setdefault(filename, entry) == entry:
                return filename
            count += 1

    def field_lines(self, field: attrs.Attribute[Any]) -> list[str]:
        """Read ``field`` from ``data``, convert it, store it in ``obj``."""
        key = field.name
        inner = _optional_inner(field.type)
        if field.default is attrs.NOTHING:
            read = [f"value = data[{key!r}]"]
            convert = self.conversion(field.type, key)
        elif field.default is None and inner is not None:
            # Absent and null both mean None here. ``datetime | None`` is read as a whole: its
            # hook also takes an empty string for None.
            read = [f"value = data.get({key!r})"]
            inner_lines = self.conversion(field.type if inner is datetime else inner, key)
            convert = ["if value is not None:", *("    " + line for line in inner_lines)]
        else:
            default = self.bind(f"default_{key}", field.default)
            read = [f"value = data.get({key!r}, ABSENT)"]
            convert = [
                "if value is ABSENT:",
                f"    value = {default}",
                "else:",
                *("    " + line for line in self.conversion(field.type, key) or ["pass"]),
            ]
        return [*read, *convert, f"obj.{key} = value"]

    def sparse_lines(self, sparse: list[attrs.Attribute[Any]]) -> list[str]:
        """Optional sub-models: all ``None``, then only the keys the body holds are read."""
        hooks = {
            field.name: (
                self.conv.get_structure_hook(_optional_inner(field.type)),
                _optional_inner(field.type),
            )
            for field in sparse
        }
        table = self.bind("sparse_fields", hooks)
        return [
            *(f"obj.{field.name} = None" for field in sparse),
            "for key in data:",
            f"    if key in {table}:",
            "        value = data[key]",
            "        if value is not None:",
            f"            structure, structured_type = {table}[key]",
            "            setattr(obj, key, structure(value, structured_type))",
        ]

    def conversion(self, type_: Any, key: str, var: str = "value") -> list[str]:
        """Statements turning ``var`` (known not to be ``None`` if optional) into ``type_``."""
        conv = self.conv
        if type_ in (str, int, bool):
            hook = self.bind(f"structure_{type_.__name__}", conv.get_structure_hook(type_))
            return [
                f"if type({var}) is not {type_.__name__}:",
                f"    {var} = {hook}({var}, {type_.__name__})",
            ]
        hook = self.bind(f"structure_{key}", conv.get_structure_hook(type_))
        type_name = self.bind(f"type_{key}", type_)
        if type_ in self.enum_or_str:
            known = self.bind(
                f"known_{key}", {member.value: member for member in self.enum_or_str[type_]}
            )
            return [
                f"if type({var}) is str:",
                f"    {var} = {known}.get({var}, {var})",
                "else:",
                f"    {var} = {hook}({var}, {type_name})",
            ]
        if type_ in (datetime, datetime | None):
            return self.datetime_conversion(type_, hook, type_name, var)
        item_type = _homogeneous_tuple_item(type_)
        if item_type is not None and var == "value":
            # Most arrays of a body hold nothing or one item: those skip the loop.
            single_lines = self.conversion(item_type, f"{key}_item", "item")
            return [
                "if type(value) is list:",
                "    if not value:",
                "        value = ()",
                "    elif len(value) == 1:",
                "        item = value[0]",
                *("        " + line for line in single_lines),
                "        value = (item,)",
                "    else:",
                "        items = []",
                "        for item in value:",
                *("            " + line for line in single_lines),
                "            items.append(item)",
                "        value = tuple(items)",
                "else:",
                f"    value = {hook}(value, {type_name})",
            ]
        # A model, a mapping, anything else: the converter's own hook.
        return [f"{var} = {hook}({var}, {type_name})"]

    def datetime_conversion(self, type_: Any, hook: str, type_name: str, var: str) -> list[str]:
        """What ``_parse_datetime`` does, inline; anything else, and every failure, goes to ``hook``.

        ``datetime.fromisoformat`` refuses what the hook refuses (a non-string, an empty string,
        a malformed timestamp), and the hook then decides: for ``datetime | None`` an empty
        string is ``None``; otherwise it raises its own error, which never quotes the value.
        In a model with several timestamps, one that repeats the previous one's text (a factor's
        ``created_at``, ``last_authenticated_at`` and ``updated_at`` often do) reuses its
        (immutable) datetime.
        """
        fromisoformat = self.bind("fromisoformat", _FROMISOFORMAT)
        utc = self.bind("UTC", UTC)
        parse = [
            "try:",
            f"    parsed = {fromisoformat}({var})",
            "except (TypeError, ValueError):",
            "    parsed = None",
            "if parsed is None:",
            f"    {var} = {hook}({var}, {type_name})",
            "else:",
            "    if parsed.tzinfo is None:",
            f"        parsed = parsed.replace(tzinfo={utc})",
        ]
        if not self.remember_timestamps:
            return [*parse, f"    {var} = parsed"]
        return [
            f"if type({var}) is str and {var} == timestamp_text:",
            f"    {var} = timestamp",
            "else:",
            *("    " + line for line in parse),
            f"        timestamp_text, timestamp = {var}, parsed",
            f"        {var} = parsed",
        ]
