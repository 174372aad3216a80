"""How models and params show themselves: only the fields that say something, secrets masked.

The rule (also in the package docstring):

* a secret field, declared with ``attrs.field(repr=hide)``, shows as ``name=<hidden>`` whenever it
  holds a value, i.e. anything but ``None``: never the value, nor its length, nor whether it
  is empty, so what the field holds cannot be guessed but its existence can be discovered;
* any other field is left out when it holds nothing: ``None``, an empty string, tuple or
  mapping, or the field's default. Every other value (``False`` and ``0`` included) is shown
  with its own ``repr``, nested models with theirs.

A class opts in with ``__repr__ = readable_repr`` in its body (attrs then adds no ``__repr__``
of its own); ``str()`` is the same text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

__all__ = ["HIDDEN", "hide", "readable_repr"]

#: What a secret field shows instead of its value.
HIDDEN: Final = "<hidden>"


def hide(value: object) -> str:
    """The ``repr`` of a secret field's value (``attrs.field(repr=hide)``): always ``<hidden>``."""
    return HIDDEN


def _holds_nothing(field: attrs.Attribute[Any], value: object) -> bool:
    if value is None:
        return True
    # Stytch sends "" for what a user never gave (middle_name, ip_address...): as said as None.
    if isinstance(value, str | tuple | Mapping) and not value:
        return True
    default = field.default
    return (
        default is not attrs.NOTHING
        and not isinstance(default, attrs.Factory)  # type: ignore[arg-type]
        and value == default
    )


def readable_repr(self: attrs.AttrsInstance) -> str:
    """``Model(field=value, ...)`` by the module's rule: empty fields left out, secrets masked."""
    parts = []
    for field in attrs.fields(type(self)):
        if field.repr is False:
            continue
        value = getattr(self, field.name)
        if field.repr is True:
            if not _holds_nothing(field, value):
                parts.append(f"{field.name}={value!r}")
        elif value is not None:
            parts.append(f"{field.name}={field.repr(value)}")
    return f"{type(self).__qualname__}({', '.join(parts)})"
