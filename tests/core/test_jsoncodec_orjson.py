"""orjson is a speed-up: the standard-library path encodes and decodes the same, and fails alike.

Runs wherever orjson can be installed: every GIL build. Free-threaded builds have no orjson (it
refuses to build there), so only the standard-library path exists to test; tests/conftest.py
leaves this file out on those builds, and test_jsoncodec.py covers that path on all of them.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from stytch_totp import _jsoncodec
from stytch_totp._jsoncodec import stdlib_dumps, stdlib_loads
from tests.conftest import load_example

EXAMPLES = [
    "create",
    "authenticate_no_session",
    "recovery_codes",
    "session_object",
    "error_400_active_totp_exists",
]


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_stdlib_path_writes_the_same_bytes_and_reads_the_same_values(name: str) -> None:
    body: dict[str, Any] = load_example(name)
    body["note"] = "ünïcödé ✓ \u2028"  # non-ASCII text stays UTF-8, as orjson writes it
    body["number"] = 0.1
    assert stdlib_dumps(body) == orjson.dumps(body)
    encoded = orjson.dumps(body)
    assert stdlib_loads(encoded) == orjson.loads(encoded)
    assert stdlib_loads(encoded.decode()) == orjson.loads(encoded)


@pytest.mark.parametrize(
    "value",
    [
        {"a": {1, 2}},
        {"a": object()},
        {"a": "\ud800"},
        {"a": [{1: "key not a string"}]},
        {"a": [2**64]},
        {"a": (-(2**63) - 1,)},
    ],
)
def test_both_paths_refuse_what_json_cannot_carry_with_a_type_error(value: object) -> None:
    with pytest.raises(TypeError):
        orjson.dumps(value)
    with pytest.raises(TypeError):
        stdlib_dumps(value)


def test_both_paths_write_64_bit_integers_at_both_ends() -> None:
    value = {"a": [2**64 - 1, -(2**63)]}
    assert stdlib_dumps(value) == orjson.dumps(value)


@pytest.mark.parametrize("data", [b"{oops", b"\xff\xfe", b"", b'{"a": 1} x'])
def test_both_paths_refuse_what_is_not_json_with_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the common base both raise
        orjson.loads(data)
    with pytest.raises(ValueError):  # noqa: PT011
        stdlib_loads(data)


def test_orjson_is_used_when_installed() -> None:
    assert _jsoncodec.FAST
    assert _jsoncodec.dumps is orjson.dumps
