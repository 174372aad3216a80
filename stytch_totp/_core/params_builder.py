"""Building a params object from keyword arguments, with attrs' own checks and fewer calls.

A call passes its fields as keywords (``authenticate(user_id=..., totp_code=...)``), and most
optional fields are absent. ``cls(**kwargs)`` would run every field's validator, absent ones
included (each returns at once on ``None``). The function generated here for a params class
does what its attrs ``__init__`` does (converters, then every slot set, then the validators in
field order) but calls an optional field's converter and validator only when the field was
given: the same objects and the same errors (``tests/core/test_params_builder.py`` compares
them), in about half the instructions.

It applies to the classes it can reproduce exactly (slotted, no ``__attrs_pre_init__`` or
``__attrs_post_init__``, every default ``None``, converters that keep ``None``); any other class
is built by its own ``__init__``. The source is registered with linecache, so a traceback
through it shows the generated lines.
"""

import linecache
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from .model_hooks import mutable_subclass_of

__all__ = ["builder_of", "generated_source"]

P = TypeVar("P")

_BUILDERS: dict[type[Any], Callable[[dict[str, Any]], Any]] = {}


def builder_of(params_type: type[P]) -> Callable[[dict[str, Any]], P]:
    """The function that builds ``params_type`` from a dict of its fields (absent: ``None``)."""
    builder = _BUILDERS.get(params_type)
    if builder is None:
        builder = _BUILDERS[params_type] = _make_builder(params_type)
    return builder


def generated_source(params_type: type[Any]) -> str | None:
    """The generated builder's source, or ``None`` when the class builds itself."""
    builder = builder_of(params_type)
    code = getattr(builder, "__code__", None)
    if code is None or not code.co_filename.startswith("<stytch_totp"):
        return None
    return "".join(linecache.getlines(code.co_filename))


def _reproducible(params_type: type[Any]) -> bool:
    if not attrs.has(params_type) or "__slots__" not in vars(params_type):
        return False
    if hasattr(params_type, "__attrs_pre_init__") or hasattr(params_type, "__attrs_post_init__"):
        return False
    for field in attrs.fields(params_type):
        if not field.init or field.default not in (attrs.NOTHING, None):
            return False
        converter = field.converter
        if converter is not None and (
            isinstance(converter, attrs.Converter) or converter(None) is not None
        ):
            return False
    return True


def _make_builder(params_type: type[Any]) -> Callable[[dict[str, Any]], Any]:
    if not _reproducible(params_type):
        return lambda fields: params_type(**fields)
    names: dict[str, Any] = {
        "_new": object.__new__,
        "_cls": params_type,
        "_mutable": mutable_subclass_of(params_type),
    }
    fields = attrs.fields(params_type)
    lines = [
        f"def build_{params_type.__name__}(fields):",
        "    self = _new(_mutable)",
        "    get = fields.get",
    ]
    for field in fields:
        lines.append(f"    {field.name} = get({field.name!r})")
        if field.converter is not None:
            names[f"_convert_{field.name}"] = field.converter
            lines.append(f"    if {field.name} is not None:")
            lines.append(f"        {field.name} = _convert_{field.name}({field.name})")
    # Plain stores into the mutable subclass, then the object becomes the frozen class: what
    # object.__setattr__ per field does, at a fraction of the cost (see model_hooks).
    lines += [f"    self.{field.name} = {field.name}" for field in fields]
    lines.append("    self.__class__ = _cls")
    for field in fields:
        if field.validator is None:
            continue
        names[f"_validate_{field.name}"] = field.validator
        names[f"_field_{field.name}"] = field
        check = f"_validate_{field.name}(self, _field_{field.name}, {field.name})"
        if field.default is attrs.NOTHING:
            lines.append(f"    {check}")
        else:
            lines += [f"    if {field.name} is not None:", f"        {check}"]
    lines.append("    return self")
    source = "\n".join(lines) + "\n"
    filename = f"<stytch_totp generated builder {params_type.__qualname__}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), names)  # noqa: S102 - our own generated source
    builder: Callable[[dict[str, Any]], Any] = names[f"build_{params_type.__name__}"]
    return builder
