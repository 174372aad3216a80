"""Comparing a body with a published example: same keys, same nesting, same kinds of values.

Values themselves differ (ids are random, times are now), so strings are compared by their
format: an id's prefix, a timestamp, an empty string, a data URI... (free text, such as a name,
may be empty). Numbers and booleans by type.
What may legitimately differ is said here, each with its reason:

* ``null`` in the example: the value may be ``null`` or the documented kind of value
  (``external_id`` a string, ``lock_*_at`` timestamps, ``session`` the session object);
* ``password`` (an object in the example): ``null`` for users without a password, the only kind
  the emulator has;
* free-form objects (metadata, custom claims): only their type;
* lists: each element against the example's first one, when both have elements;
* a session's authentication factors: the keys every factor has, plus the one factor object of
  its own kind (a TOTP's ``authenticator_app_factor``, a recovery code's ``recovery_code_factor``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["shape_differences", "value_format"]

_UUID: Final = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_FORMATS: Final = [
    ("timestamp", re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")),
    ("id", re.compile(rf"(?P<prefix>[a-z-]+?)-(test|live)-{_UUID}")),
    ("png data URI", re.compile(r"data:image/png;base64, ?[A-Za-z0-9+/]+={0,2}")),
    ("recovery code", re.compile(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}")),
    ("base32 secret", re.compile(r"[A-Z2-7]{32}")),
    ("url", re.compile(r"https://\S+")),
    ("email", re.compile(r"[^@\s]+@[^@\s]+\.[a-z]+")),
    ("E.164 phone number", re.compile(r"\+[1-9][0-9]{6,14}")),
    # Stytch's pages show JWTs as "eyJ...": the base64 of '{"' starts every one.
    ("JWT", re.compile(r"eyJ[A-Za-z0-9_.-]*(\.\.\.)?")),
    ("session token", re.compile(r"[A-Za-z0-9_-]{44}")),
]

#: Keys whose value is an object of the caller's choosing.
FREE_FORM: Final = frozenset({"trusted_metadata", "untrusted_metadata", "custom_claims"})
#: ``null`` in the example; the kind of value it holds when it is not.
NULLABLE: Final = {
    "external_id": "text",
    "lock_created_at": "timestamp",
    "lock_expires_at": "timestamp",
    "session": "object",
}
#: An object in the example, ``null`` for what has none.
MAY_BE_NULL: Final = frozenset({"password"})
#: The factor object each kind of factor carries, and its fields' formats.
FACTOR_OBJECTS: Final = {
    "authenticator_app_factor": {"totp_id": "id totp"},
    "recovery_code_factor": {"totp_recovery_code_id": "id totp-recovery-code"},
    "email_factor": {"email_id": "id email", "email_address": "email"},
}


def value_format(value: object) -> str:
    """The kind of a JSON value, for strings down to their format."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    assert isinstance(value, str), type(value)
    if value == "":
        return "empty string"
    for name, pattern in _FORMATS:
        match = pattern.fullmatch(value)
        if match:
            return f"id {match['prefix']}" if name == "id" else name
    return "text"


def shape_differences(actual: Any, published: Any, path: str = "$") -> list[str]:
    """Where ``actual`` differs from ``published`` in keys, nesting or kinds of values."""
    key = path.rpartition(".")[2].partition("[")[0]
    if published is None and actual is not None:
        expected = NULLABLE.get(key)
        kind = value_format(actual)
        if expected is None or not (kind == expected or (expected == "text" and kind != "null")):
            return [f"{path}: {kind}, where Stytch's example has null"]
        return []
    if actual is None and key in MAY_BE_NULL:
        return []
    if key in FREE_FORM:
        return [] if isinstance(actual, dict) else [f"{path}: {value_format(actual)}, not object"]
    if isinstance(published, dict) and isinstance(actual, dict):
        return _object_differences(actual, published, path)
    if isinstance(published, list) and isinstance(actual, list):
        if not published or not actual:
            return []
        if key == "authentication_factors":
            return [
                problem
                for index, factor in enumerate(actual)
                for problem in _factor_differences(factor, published, f"{path}[{index}]")
            ]
        return [
            problem
            for index, element in enumerate(actual)
            for problem in shape_differences(element, published[0], f"{path}[{index}]")
        ]
    kind, expected_kind = value_format(actual), value_format(published)
    if kind == expected_kind or {kind, expected_kind} == {"text", "empty string"}:
        return []  # free text may be empty: a user without a first name has ""
    return [f"{path}: {kind}, where Stytch sends {expected_kind}"]


def _object_differences(
    actual: Mapping[str, Any], published: Mapping[str, Any], path: str
) -> list[str]:
    problems = [f"{path}.{name}: missing" for name in published if name not in actual]
    problems += [
        f"{path}.{name}: a key Stytch does not send" for name in actual if name not in published
    ]
    for name in published.keys() & actual.keys():
        problems += shape_differences(actual[name], published[name], f"{path}.{name}")
    return problems


def _factor_differences(
    actual: Mapping[str, Any], published: list[Mapping[str, Any]], path: str
) -> list[str]:
    """A factor against the keys every published factor has, and its own factor object."""
    common = {
        name: value
        for name, value in published[0].items()
        if all(name in factor for factor in published)
    }
    own = {name: value for name, value in actual.items() if name.endswith("_factor")}
    problems = _object_differences(
        {name: value for name, value in actual.items() if name not in own}, common, path
    )
    if len(own) > 1:
        problems.append(f"{path}: more than one factor object: {sorted(own)}")
    for name, value in own.items():
        fields = FACTOR_OBJECTS.get(name)
        if fields is None:
            problems.append(f"{path}.{name}: a factor object the emulator should not have")
        elif (
            not isinstance(value, dict) or {k: value_format(v) for k, v in value.items()} != fields
        ):
            problems.append(f"{path}.{name}: {value!r} is not {fields}")
    return problems
