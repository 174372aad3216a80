"""JSON in and out: orjson when it is installed, the standard library's ``json`` otherwise.

orjson is a speed-up (``pip install 'stytch-totp[fast]'``), not a requirement: it has no wheels
for free-threaded Python builds, and the SDK must install and work there. Both paths behave the
same where it matters to the SDK:

* :func:`dumps` returns compact UTF-8 bytes, and raises ``TypeError`` for anything JSON cannot
  carry (an unknown type, a lone surrogate, and, with the standard library, NaN or infinity);
* :func:`loads` reads bytes or text, and raises :data:`JSONDecodeError` (a ``ValueError``) for
  anything that is not JSON.
"""

import json
from collections.abc import Callable
from typing import Any

__all__ = ["FAST", "JSONDecodeError", "dumps", "loads", "stdlib_dumps", "stdlib_loads"]


def stdlib_dumps(value: Any) -> bytes:
    """:func:`dumps` with the standard library."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8")
    except ValueError as error:  # NaN, infinity, a lone surrogate (UnicodeEncodeError)
        raise TypeError(f"not JSON: {type(error).__name__}") from None


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
