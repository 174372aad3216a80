"""``MockTransport``: unit-test code that uses the client, with no server and no monkeypatching.

In the spirit of ``httpx.MockTransport``: a handler (sync or async) receives each
:class:`~stytch_totp.TransportRequest` and returns a :class:`MockResponse`, or raises
:class:`~stytch_totp.TransportError` to simulate a connection failure, saying whether the
request was sent. Everything else (retries, errors, parsing) is the real client's.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from multidict import CIMultiDict, CIMultiDictProxy

from .. import TransportError, TransportRequest, TransportResponse
from .. import _jsoncodec as jsoncodec
from .._exceptions import FailureKind

__all__ = ["MockResponse", "MockTransport"]

_NO_JSON: Final[Any] = object()

Handler = Callable[[TransportRequest], "MockResponse | Awaitable[MockResponse]"]


class MockResponse:
    """A response for :class:`MockTransport` to return.

    Args:
        status_code: The HTTP status (default 200).
        json: A body to send as JSON (``Content-Type: application/json`` is then set).
        content: A body to send as given, instead of ``json``.
        headers: Response headers (``Retry-After``, ``Request-Id``...).
    """

    def __init__(
        self,
        status_code: int = 200,
        *,
        json: Any = _NO_JSON,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if json is not _NO_JSON and content is not None:
            raise ValueError("give json or content, not both")
        merged: CIMultiDict[str] = CIMultiDict()
        if json is not _NO_JSON:
            content = jsoncodec.dumps(json)
            merged["Content-Type"] = "application/json"
        merged.update(headers or {})
        self.status_code = status_code
        self.headers = CIMultiDictProxy(merged)
        self.content = content if content is not None else b""

    def __repr__(self) -> str:
        return f"<MockResponse {self.status_code} ({len(self.content)} bytes)>"


class MockTransport:
    """A :class:`~stytch_totp.Transport` that answers with ``handler`` instead of a network.

    ::

        def handler(request: stytch_totp.TransportRequest) -> MockResponse:
            assert request.path == "/v1/totps/authenticate"
            return MockResponse(401, json={"status_code": 401, "error_type": "unable_to_authenticate_totp", ...})

        client = stytch_totp.Client(project_id, secret, transport=MockTransport(handler))

    Every request the client sent is kept in :attr:`requests` (their ``repr`` hides headers and
    body; the objects themselves hold them, for assertions).
    """

    def __init__(self, handler: Handler) -> None:
        if not callable(handler):
            raise TypeError("handler must be callable")
        self._handler = handler
        #: Every request sent through this transport, in order.
        self.requests: list[TransportRequest] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"<MockTransport {len(self.requests)} request(s)>"

    async def send(self, request: TransportRequest) -> TransportResponse:
        """Hand ``request`` to the handler and return its answer."""
        if self.closed:
            raise TransportError(
                "the transport is closed", request_sent=False, kind=FailureKind.CLOSED
            )
        self.requests.append(request)
        answer = self._handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        if not isinstance(answer, MockResponse):
            raise TypeError(f"the handler must return a MockResponse, not {type(answer).__name__}")
        return TransportResponse(answer.status_code, answer.headers, answer.content)

    async def aclose(self) -> None:
        """Mark the transport closed; later requests fail as on a closed client."""
        self.closed = True
