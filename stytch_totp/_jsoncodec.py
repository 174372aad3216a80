"""JSON in and out: orjson when it is installed, the standard library's ``json`` otherwise.

orjson is a speed-up (``pip install 'stytch-totp[fast]'``), not a requirement: it has no wheels
for free-threaded Python builds, and the SDK must install and work there. Both paths behave the
same where it matters to the SDK:

* :func:`dumps` returns compact UTF-8 bytes, and raises ``TypeError`` for anything JSON cannot
  carry (an unknown type, a lone surrogate, a key that is not a string, an integer beyond 64
  bits, and, with the standard library, NaN or infinity);
* :func:`loads` reads bytes or text, and raises :data:`JSONDecodeError` (a ``ValueError``) for
  anything that is not JSON.
"""

import json
from collections.abc import Callable
from typing import Any

__all__ = ["FAST", "JSONDecodeError", "dumps", "loads", "stdlib_dumps", "stdlib_loads"]


#: The integers orjson writes: 64-bit signed or unsigned.
_SMALLEST_INT, _LARGEST_INT = -(2**63), 2**64 - 1


def stdlib_dumps(value: Any) -> bytes:
    """:func:`dumps` with the standard library."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        encoded = text.encode("utf-8")
    except ValueError as error:  # NaN, infinity, a lone surrogate (UnicodeEncodeError), a cycle
        raise TypeError(f"not JSON: {type(error).__name__}") from None
    _refuse_what_orjson_refuses(value)
    return encoded


def _refuse_what_orjson_refuses(value: Any) -> None:
    """Raise ``TypeError`` for what ``json`` writes and orjson does not, at any depth.

    ``json`` turns the key ``1`` into ``"1"`` and writes integers of any size; orjson refuses
    both, and the SDK's validation (of ``session_custom_claims``, say) relies on the refusal.
    Called once ``json.dumps`` has succeeded, so ``value`` holds no cycle.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                raise TypeError("not JSON: a key that is not a string")
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, int) and not _SMALLEST_INT <= item <= _LARGEST_INT:
            raise TypeError("not JSON: an integer beyond 64 bits")


def stdlib_loads(data: bytes | bytearray | memoryview | str) -> Any:
    """:func:`loads` with the standard library."""
    if not isinstance(data, str):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise json.JSONDecodeError("not UTF-8", "", 0) from None
    return json.loads(data)


dumps: Callable[[Any], bytes]
loads: Callable[[bytes | bytearray | memoryview | str], Any]
JSONDecodeError: type[ValueError]

try:
    import orjson
except ImportError:  # pragma: no cover - the stdlib-json test session runs without orjson
    #: Whether orjson is doing the work.
    FAST = False
    dumps, loads, JSONDecodeError = stdlib_dumps, stdlib_loads, json.JSONDecodeError
else:
    FAST = True
    dumps, loads, JSONDecodeError = orjson.dumps, orjson.loads, orjson.JSONDecodeError
