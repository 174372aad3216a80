"""The standard library's JSON path, the only one on free-threaded builds (no orjson there)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from stytch_totp._jsoncodec import stdlib_dumps, stdlib_loads


@pytest.mark.parametrize(
    "value",
    [
        {"a": {1, 2}},
        {"a": object()},
        {"a": "\ud800"},
        {"a": math.inf},
        {"a": [{1: "key not a string"}]},
        {"a": [2**64]},
        {"a": (-(2**63) - 1,)},
    ],
)
def test_the_stdlib_path_refuses_what_json_cannot_carry_with_a_type_error(value: object) -> None:
    with pytest.raises(TypeError):
        stdlib_dumps(value)


def test_the_stdlib_path_writes_64_bit_integers_at_both_ends() -> None:
    assert (
        stdlib_dumps({"a": [2**64 - 1, -(2**63)]})
        == b'{"a":[18446744073709551615,-9223372036854775808]}'
    )


def test_the_stdlib_path_refuses_a_cycle_with_a_type_error() -> None:
    looped: list[object] = []
    looped.append(looped)
    with pytest.raises(TypeError):
        stdlib_dumps({"a": looped})


def test_the_stdlib_path_refuses_nan_rather_than_writing_invalid_json() -> None:
    with pytest.raises(TypeError):
        stdlib_dumps({"a": math.nan})


@pytest.mark.parametrize("data", [b"{oops", b"\xff\xfe", b"", b'{"a": 1} x', "{oops"])
def test_the_stdlib_path_refuses_what_is_not_json_with_a_value_error(data: bytes | str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - JSONDecodeError, what orjson's subclasses too
        stdlib_loads(data)


def test_the_sdk_installs_and_works_where_orjson_cannot_be_installed() -> None:
    # Free-threaded Python has no orjson wheels: the SDK imports without it and works.
    script = """
import asyncio, sys
sys.modules["orjson"] = None  # import orjson now raises ImportError
import stytch_totp
from stytch_totp.testing import MockResponse, MockTransport
assert not stytch_totp._jsoncodec.FAST

body = {"status_code": 200, "request_id": "r", "user_id": "user-1", "totps": [
    {"totp_id": "totp-1", "verified": True, "recovery_codes": ["ckss-2skx-ebow"]}]}
seen = []

def stytch(request):
    seen.append(request.json())
    return MockResponse(200, json=body)

async def main():
    async with stytch_totp.Client("project-test-x", "secret-test-y", transport=MockTransport(stytch)) as client:
        codes = await client.totps.recovery_codes(user_id="user-1", extra_body={"k": "ü"})
        assert codes.totps[0].recovery_codes == ("ckss-2skx-ebow",)
        try:
            await client.totps.create(user_id="user-\\ud800")
        except stytch_totp.InvalidParamsError as error:
            assert error.field == "user_id"
        else:
            raise AssertionError("a lone surrogate was sent")
    assert seen == [{"user_id": "user-1", "k": "ü"}]

asyncio.run(main())
print("ok")
"""
    finished = subprocess.run(  # noqa: S603 - our own script, run by this interpreter
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "ok"
