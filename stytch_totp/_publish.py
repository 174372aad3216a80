"""One helper that makes a package's public classes answer to the package's name.

``stytch_totp.User`` is defined in ``stytch_totp._models.user``; after :func:`publish`, its
``__module__`` is ``"stytch_totp"``, so reprs, tracebacks and pickles name the public path, which
survives any reshuffle of the private modules behind it.

Relabelling alone would break one thing: a string annotation (``from __future__ import
annotations``) is resolved in the namespace of ``__module__``, where ``datetime`` and friends are
not. So before relabelling an attrs class, its annotations are resolved in its own module and
stored as objects. The original module is remembered for the docs build (:func:`defined_in`),
whose autodoc reads per-field docstrings from the source.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["defined_in", "publish"]

_DEFINED_IN: dict[type, str] = {}


def publish(package: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Relabel every class among ``names`` in ``namespace`` as a member of ``package``.

    Classes already relabelled, and classes of other packages, are left alone.
    """
    for name in names:
        obj = namespace[name]
        if not isinstance(obj, type) or not obj.__module__.startswith(f"{package}."):
            continue
        if attrs.has(obj):
            attrs.resolve_types(obj)
            obj.__annotations__ = {field.name: field.type for field in attrs.fields(obj)}
        _DEFINED_IN[obj] = obj.__module__
        obj.__module__ = package


def defined_in(cls: type) -> str:
    """The module that defines ``cls``, whatever its ``__module__`` now says."""
    return _DEFINED_IN.get(cls, cls.__module__)
