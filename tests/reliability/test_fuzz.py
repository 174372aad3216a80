"""End-to-end fuzzing: whatever a real server sends, a real Client raises only ``StytchError``s.

The pure decoders are fuzzed in ``tests/core``; here the bytes go over a socket, through
aiohttp's parser, the size cap, the retry loop (with arbitrary ``Retry-After`` headers) and the
decoders, so an exception that escapes any layer shows. Parameters are fuzzed through the
client too: every input either is sent, or is refused with ``InvalidParamsError`` before any
byte leaves (the server counts), and the refusal never repeats a secret value.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stytch_totp import Client, InvalidParamsError, RetryPolicy, StytchError, _jsoncodec
from tests.conftest import PROJECT_ID, SECRET
from tests.reliability._helpers import OPERATIONS, Operation, connections_in_use
from tests.reliability._servers import RawServer, raw_bytes, respond

#: One quick retry, and any Retry-After over 10 ms means "don't": fast whatever is drawn.
RETRY = RetryPolicy(max_retries=1, initial_backoff=0.0, max_backoff=0.0, max_retry_after=0.01)
CAP = 64 * 1024
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(
    str.strip
)
STATUSES = st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 409, 429, 500, 502, 503, 504])
CONTENT_TYPES = st.sampled_from(
    [None, "application/json", "application/json; charset=utf-8", "text/html", "text/plain", ""]
)


@pytest.fixture
async def server() -> AsyncIterator[RawServer]:
    async with RawServer(lambda _: respond(200)) as running:
        yield running


@pytest.fixture
async def client(server: RawServer) -> AsyncIterator[Client]:
    async with Client(
        PROJECT_ID,
        SECRET,
        base_url=server.url,
        retry=RETRY,
        timeout=5.0,
        max_response_bytes=CAP,
    ) as made:
        yield made


async def _only_stytch_errors(client: Client, operation: Operation) -> None:
    try:
        async with asyncio.timeout(30):
            await operation.call(client)
    except StytchError:
        pass
    assert connections_in_use(client) == 0


@FUZZ
@given(
    operation=st.sampled_from(OPERATIONS),
    status=STATUSES,
    content_type=CONTENT_TYPES,
    body=st.binary(max_size=2048),
    retry_after=st.none() | HEADER_TEXT,
)
async def test_arbitrary_bodies_raise_only_stytch_errors(
    server: RawServer,
    client: Client,
    operation: Operation,
    status: int,
    content_type: str | None,
    body: bytes,
    retry_after: str | None,
) -> None:
    headers = [] if retry_after is None else [("Retry-After", retry_after)]
    server.choose = lambda _: respond(status, body, content_type=content_type, headers=headers)
    await _only_stytch_errors(client, operation)


@FUZZ
@given(operation=st.sampled_from(OPERATIONS), status=STATUSES, value=JSON)
async def test_arbitrary_json_raises_only_stytch_errors(
    server: RawServer, client: Client, operation: Operation, status: int, value: Any
) -> None:
    body = json.dumps(value).encode()  # stdlib: integers beyond 64 bits and Infinity too
    server.choose = lambda _: respond(status, body)
    await _only_stytch_errors(client, operation)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        return {**document, head: _replace(document[head], rest, new)}
    copy = list(document)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@st.composite
def _mutated_success(draw: st.DrawFn) -> tuple[Operation, bytes]:
    """A documented success body with one value, anywhere in it, replaced by arbitrary JSON."""
    operation = draw(st.sampled_from(OPERATIONS))
    document = operation.success_body()
    path = draw(st.sampled_from(_paths(document)))
    return operation, json.dumps(_replace(document, path, draw(JSON))).encode()


@FUZZ
@given(case=_mutated_success())
async def test_mutated_success_bodies_raise_only_stytch_errors(
    server: RawServer, client: Client, case: tuple[Operation, bytes]
) -> None:
    operation, body = case
    server.choose = lambda _: respond(200, body)
    await _only_stytch_errors(client, operation)


@FUZZ
@given(
    operation=st.sampled_from(OPERATIONS),
    wire=st.binary(max_size=512)
    | st.builds(
        lambda status, junk: b"HTTP/1.1 " + status + b"\r\n" + junk,
        st.binary(max_size=8),
        st.binary(max_size=256),
    ),
)
async def test_arbitrary_bytes_on_the_wire_raise_only_stytch_errors(
    server: RawServer, client: Client, operation: Operation, wire: bytes
) -> None:
    server.choose = lambda _: raw_bytes(wire)
    await _only_stytch_errors(client, operation)


# --- parameters -------------------------------------------------------------------------------

MARKER = "zqxjsecret"
ANYTHING = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats()
    | st.text(max_size=12)
    | st.from_regex(r"[0-9]{6}", fullmatch=True)
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=5), JSON, max_size=3)
)
#: A secret value: anything, or a string no message could contain by accident.
SECRET_VALUE = ANYTHING | st.text(max_size=20).map(lambda text: MARKER + text)
SECRET_FIELDS = {"totp_code", "recovery_code", "session_token", "session_jwt"}
FIELDS = {
    "create": ["user_id", "expiration_minutes"],
    "authenticate": [
        "user_id",
        "totp_code",
        "session_token",
        "session_duration_minutes",
        "session_jwt",
        "session_custom_claims",
        "telemetry_id",
    ],
    "recovery_codes": ["user_id"],
    "recover": [
        "user_id",
        "recovery_code",
        "session_token",
        "session_duration_minutes",
        "session_jwt",
        "session_custom_claims",
        "telemetry_id",
    ],
}


@st.composite
def _call_arguments(draw: st.DrawFn) -> tuple[Operation, dict[str, Any]]:
    operation = draw(st.sampled_from(OPERATIONS))
    arguments = {}
    for field in FIELDS[operation.name]:
        if draw(st.booleans()):
            strategy = SECRET_VALUE if field in SECRET_FIELDS else ANYTHING
            arguments[field] = draw(strategy | st.sampled_from(_plausible(field)))
    return operation, arguments


def _plausible(field: str) -> list[Any]:
    """Valid values, so that drawn calls also pass validation and get sent."""
    values: dict[str, list[Any]] = {
        "user_id": ["user-test-1", "ext-id"],
        "expiration_minutes": [5, 60, 1440],
        "totp_code": ["000000", "123456"],
        "recovery_code": ["ckss-2skx-ebow"],
        "session_token": ["tok"],
        "session_jwt": ["jwt"],
        "session_duration_minutes": [5, 60, 527040],
        "session_custom_claims": [{"a": 1}, {"b": None}, {}],
        "telemetry_id": ["tel-1"],
    }
    return values[field]


@FUZZ
@given(case=_call_arguments())
async def test_parameters_are_sent_or_refused_before_anything_is_sent(
    server: RawServer, client: Client, case: tuple[Operation, dict[str, Any]]
) -> None:
    operation, arguments = case
    server.choose = lambda _: operation.succeed()
    server.requests.clear()
    method = getattr(client.totps, operation.name)
    refusal: InvalidParamsError | None = None
    try:
        await method(**arguments)
    except InvalidParamsError as error:
        refusal = error

    if refusal is not None:
        assert server.requests == []
        assert refusal.field in FIELDS[operation.name]
        for field in SECRET_FIELDS & set(arguments):
            value = arguments[field]
            if isinstance(value, str) and value.startswith(MARKER):
                assert value not in str(refusal)
                assert MARKER not in repr(vars(refusal))
    else:
        assert len(server.requests) == 1
        sent = _jsoncodec.loads(server.requests[0].body)
        # What was given is what was sent: nothing dropped, nothing invented.
        assert sent == {k: v for k, v in arguments.items() if v is not None}
