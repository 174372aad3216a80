"""What every reliability test needs: the four operations, fast retry settings, pool probes."""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from stytch_totp import AiohttpTransport, Client, RetryPolicy
from tests.conftest import load_example
from tests.reliability._servers import Action, respond_json

__all__ = [
    "FAST_RETRY",
    "OPERATIONS",
    "TIMEOUT",
    "Operation",
    "connections_idle",
    "connections_in_use",
    "expected_attempts",
    "no_warnings",
]

#: Retries with delays short enough for a test suite (the retry *rules* are the defaults).
FAST_RETRY = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.02)
#: Per-attempt timeout of the fault tests: long for 127.0.0.1, short for a stalled server.
TIMEOUT = 0.4
USER_ID = "user-test-16d9ba61-97a1-4ba4-9720-b03761dc50c6"


@attrs.frozen
class Operation:
    """One of the four TOTP calls, with arguments and the example body of its success."""

    name: str
    kwargs: Mapping[str, Any]
    example: str
    read_only: bool

    async def call(self, client: Client, **extra: Any) -> object:
        method = getattr(client.totps, self.name)
        result: object = await method(**{**self.kwargs, **extra})
        return result

    def success_body(self) -> dict[str, Any]:
        return load_example(self.example)

    def succeed(self) -> Action:
        return respond_json(self.success_body())


OPERATIONS = [
    Operation("create", {"user_id": USER_ID}, "create", read_only=False),
    Operation(
        "authenticate",
        {"user_id": USER_ID, "totp_code": "123456"},
        "authenticate_no_session",
        read_only=False,
    ),
    Operation("recovery_codes", {"user_id": USER_ID}, "recovery_codes", read_only=True),
    Operation(
        "recover",
        {"user_id": USER_ID, "recovery_code": "ckss-2skx-ebow"},
        "recover_no_session",
        read_only=False,
    ),
]


def expected_attempts(safety: str, operation: Operation, policy: RetryPolicy = FAST_RETRY) -> int:
    """Attempts the core retry rules allow for a failure that keeps happening.

    ``safety`` is ``"not_acted"`` (the server surely did nothing: retried for every call),
    ``"maybe_acted"`` (retried only for the read-only ``recovery_codes``) or ``"final"``.
    """
    every = policy.max_retries + 1
    if safety == "not_acted":
        return every
    if safety == "maybe_acted":
        return every if operation.read_only else 1
    assert safety == "final", safety
    return 1


def _session_of(client: Client) -> Any:
    transport = client.transport
    assert isinstance(transport, AiohttpTransport)
    return transport._session


def connections_in_use(client: Client) -> int:
    """Connections the client's pool has handed out and not got back."""
    session = _session_of(client)
    if session is None:
        return 0
    connector = session.connector
    assert connector is not None
    return len(connector._acquired)


def connections_idle(client: Client) -> int:
    """Keep-alive connections waiting in the pool for the next request."""
    session = _session_of(client)
    if session is None:
        return 0
    connector = session.connector
    assert connector is not None
    return sum(len(idle) for idle in connector._conns.values())


@contextlib.contextmanager
def no_warnings() -> Iterator[None]:
    """Fail if the block, or the garbage it leaves behind, warns (unclosed sockets, sessions...)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    assert [str(w.message) for w in caught] == []
