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
  ``AuthenticationFactor``), reads only the keys the body holds instead of asking for each one;
* builds small models (those holding no model, like an ``Email``) inline, where their holder
  finds them, and reuses the datetime of a timestamp repeating the previous one's text.

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

__all__ = ["generated_source", "is_eligible", "mutable_subclass_of", "register_model_hooks"]

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


def _is_leaf(type_: Any) -> bool:
    """An eligible model holding no model: small enough to be built inline by its holder."""
    return is_eligible(type_) and not any(
        _holds_a_model(field.type) for field in attrs.fields(attrs.resolve_types(type_))
    )


def _holds_a_model(type_: Any) -> bool:
    return attrs.has(type_) or any(_holds_a_model(arg) for arg in get_args(type_))


def _homogeneous_tuple_item(type_: Any) -> Any:
    """``X`` for ``tuple[X, ...]``, else ``None``."""
    args = get_args(type_)
    if get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return None


_BUILDERS: dict[type[Any], type[Any]] = {}


def mutable_subclass_of(model: type[Any]) -> type[Any]:
    """A mutable subclass of ``model`` with its very layout, whose instances become models.

    A subclass adding no slot, because CPython accepts a ``__class__`` assignment only between
    layouts it can prove equal: a sibling class declaring the same ``__slots__`` is refused
    ("object layout differs"), its ``__weakref__`` slot sitting after the others.
    """
    if model not in _BUILDERS:
        _BUILDERS[model] = _new_builder(model)
    return _BUILDERS[model]


def _new_builder(model: type[Any]) -> type[Any]:
    return type(
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


class _Scope:
    """The local variable names of one model being built (nested models get their own)."""

    def __init__(self, data: str, depth: int) -> None:
        suffix = f"_{depth}" if depth else ""
        self.depth = depth
        self.data = data
        self.obj = "obj" + suffix
        self.value = "value" + suffix
        self.item = "item" + suffix
        self.items = "items" + suffix
        self.key = "key" + suffix
        self.parsed = "parsed" + suffix
        self.timestamp_text = "timestamp_text" + suffix
        self.timestamp = "timestamp" + suffix
        self.remember_timestamps = False

    def nested(self, data: str) -> _Scope:
        return _Scope(data, self.depth + 1)


class _HookWriter:
    """Writes, compiles and registers the hook of one model.

    A small model held by a field (``X``, ``X | None``, the only item of a ``tuple[X, ...]``)
    is built inline when it is eligible and holds no model itself (an ``Email``, a ``Name``...),
    which saves a call per such object; any other shape of its value still goes to its hook.
    """

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
        self.namespace: dict[str, Any] = {"fallback": fallback, "ABSENT": _ABSENT}
        self.building: list[
            type[Any]
        ] = []  # the models whose code is being written, outermost first

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
        name = f"structure_{model.__name__}"
        scope = _Scope("data", 0)
        lines = [
            f"def {name}(data, type_):",
            "    if type(data) is not dict:",
            "        return fallback(data, type_)",
            *("    " + line for line in self.model_lines(model, scope)),
            f"    return {scope.obj}",
        ]
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

    def model_lines(self, model: type[Any], scope: _Scope) -> list[str]:
        """Build ``model`` from the dict in ``scope.data`` into ``scope.obj``."""
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
        scope.remember_timestamps = len(timestamps) > 1
        builder = self.bind(mutable_subclass_of(model).__name__, mutable_subclass_of(model))
        lines = [f"{scope.obj} = {builder}()"]
        if scope.remember_timestamps:
            lines.append(f"{scope.timestamp_text} = {scope.timestamp} = None")
        for field in fields:
            if field not in sparse:
                lines.extend(self.field_lines(field, scope))
        if sparse:
            lines.extend(self.sparse_lines(sparse, scope))
        lines.append(f"{scope.obj}.__class__ = {self.bind(model.__name__, model)}")
        return lines

    def field_lines(self, field: attrs.Attribute[Any], scope: _Scope) -> list[str]:
        """Read ``field`` from the model's dict, convert it, store it in the model."""
        key, value = field.name, scope.value
        inner = _optional_inner(field.type)
        if field.default is attrs.NOTHING:
            read = [f"{value} = {scope.data}[{key!r}]"]
            convert = self.conversion(field.type, key, value, scope)
        elif field.default is None and inner is not None:
            # Absent and null both mean None here. ``datetime | None`` is read as a whole: its
            # hook also takes an empty string for None.
            read = [f"{value} = {scope.data}.get({key!r})"]
            inner_type = field.type if inner is datetime else inner
            inner_lines = self.conversion(inner_type, key, value, scope)
            convert = [f"if {value} is not None:", *("    " + line for line in inner_lines)]
        else:
            default = self.bind(f"default_{key}", field.default)
            read = [f"{value} = {scope.data}.get({key!r}, ABSENT)"]
            convert = [
                f"if {value} is ABSENT:",
                f"    {value} = {default}",
                "else:",
                *("    " + line for line in self.conversion(field.type, key, value, scope)),
            ]
        return [*read, *convert, f"{scope.obj}.{key} = {value}"]

    def sparse_lines(self, sparse: list[attrs.Attribute[Any]], scope: _Scope) -> list[str]:
        """Optional sub-models: all ``None``, then only the keys the body holds are read."""
        hooks = {
            field.name: (
                self.conv.get_structure_hook(_optional_inner(field.type)),
                _optional_inner(field.type),
            )
            for field in sparse
        }
        table = self.bind("sparse_fields", hooks)
        obj, key, value = scope.obj, scope.key, scope.value
        return [
            *(f"{obj}.{field.name} = None" for field in sparse),
            f"for {key} in {scope.data}:",
            f"    if {key} in {table}:",
            f"        {value} = {scope.data}[{key}]",
            f"        if {value} is not None:",
            f"            structure, structured_type = {table}[{key}]",
            f"            setattr({obj}, {key}, structure({value}, structured_type))",
        ]

    def conversion(
        self, type_: Any, key: str, var: str, scope: _Scope, *, inline: bool = True
    ) -> list[str]:
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
            return self.datetime_conversion(type_, hook, type_name, var, scope)
        if inline and _is_leaf(type_):
            nested = scope.nested(var)
            return [
                f"if type({var}) is dict:",
                *("    " + line for line in self.model_lines(type_, nested)),
                f"    {var} = {nested.obj}",
                "else:",
                f"    {var} = {hook}({var}, {type_name})",
            ]
        item_type = _homogeneous_tuple_item(type_)
        if item_type is not None and var == scope.value:
            item, items = scope.item, scope.items
            # Most arrays of a body hold nothing or one item: those skip the loop.
            return [
                f"if type({var}) is list:",
                f"    if not {var}:",
                f"        {var} = ()",
                f"    elif len({var}) == 1:",
                f"        {item} = {var}[0]",
                *(
                    "        " + line
                    for line in self.conversion(item_type, f"{key}_item", item, scope)
                ),
                f"        {var} = ({item},)",
                "    else:",
                f"        {items} = []",
                f"        for {item} in {var}:",
                *(
                    "            " + line
                    for line in self.conversion(item_type, f"{key}_item", item, scope, inline=False)
                ),
                f"            {items}.append({item})",
                f"        {var} = tuple({items})",
                "else:",
                f"    {var} = {hook}({var}, {type_name})",
            ]
        # A mapping, a model built by its own hook, anything else: the converter's own hook.
        return [f"{var} = {hook}({var}, {type_name})"]

    def datetime_conversion(
        self, type_: Any, hook: str, type_name: str, var: str, scope: _Scope
    ) -> list[str]:
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
        parsed = scope.parsed
        parse = [
            "try:",
            f"    {parsed} = {fromisoformat}({var})",
            "except (TypeError, ValueError):",
            f"    {parsed} = None",
            f"if {parsed} is None:",
            f"    {var} = {hook}({var}, {type_name})",
            "else:",
            f"    if {parsed}.tzinfo is None:",
            f"        {parsed} = {parsed}.replace(tzinfo={utc})",
        ]
        if not scope.remember_timestamps:
            return [*parse, f"    {var} = {parsed}"]
        text, timestamp = scope.timestamp_text, scope.timestamp
        return [
            f"if type({var}) is str and {var} == {text}:",
            f"    {var} = {timestamp}",
            "else:",
            *("    " + line for line in parse),
            f"        {text}, {timestamp} = {var}, {parsed}",
            f"        {var} = {parsed}",
        ]
