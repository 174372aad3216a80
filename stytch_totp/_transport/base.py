"""The transport seam: what the client asks of whatever moves its bytes.

A transport sends one prepared request and returns the status, headers and body, or fails with a
:class:`TransportError` that says whether any byte of the request was written. That one fact is
what makes retries safe for single-use codes: a request that never left may be sent again, one
that did may already have been acted on. The default transport is
:class:`~stytch_totp.AiohttpTransport`; tests use :class:`stytch_totp.testing.MockTransport`.
"""

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from .. import _jsoncodec as jsoncodec
from .._core.timeouts import Timeout
from .._exceptions import FailureKind, TransportError

__all__ = ["FailureKind", "Transport", "TransportError", "TransportRequest", "TransportResponse"]


class TransportRequest:
    """One attempt of a call, ready to send. Treat it as read-only.

    Its ``repr`` shows neither headers nor body: they carry the project secret and the codes.
    """

    __slots__ = ("attempt", "body", "headers", "method", "operation", "path", "timeout", "url")

    def __init__(
        self,
        method: str,
        url: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: Timeout,
        operation: str,
        attempt: int,
    ) -> None:
        #: The HTTP method (``"POST"``).
        self.method = method
        #: The absolute URL.
        self.url = url
        #: The API path, e.g. ``"/v1/totps/authenticate"``.
        self.path = path
        #: Every header to send, ``Authorization`` included.
        self.headers = headers
        #: The JSON body.
        self.body = body
        #: How long this attempt may take.
        self.timeout = timeout
        #: The operation, e.g. ``"totps.create"``.
        self.operation = operation
        #: 1 for the first attempt, 2 for the first retry...
        self.attempt = attempt

    def json(self) -> Any:
        """The body, decoded from JSON."""
        return jsoncodec.loads(self.body)

    def __repr__(self) -> str:
        return (
            f"<TransportRequest {self.operation} attempt {self.attempt}: "
            f"{self.method} {self.path} ({len(self.body)} bytes)>"
        )


class TransportResponse:
    """What came back. Treat it as read-only.

    ``headers`` is case-insensitive; ``body`` is ``None`` when it was larger than the client
    allows (it was not read). Its ``repr`` leaves the body out: it may hold a TOTP secret.
    """

    __slots__ = ("body", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], body: bytes | None) -> None:
        #: The HTTP status.
        self.status_code = status_code
        #: The response headers (case-insensitive).
        self.headers = headers
        #: The body, or ``None`` when it exceeded ``max_response_bytes``.
        self.body = body

    def __repr__(self) -> str:
        size = "not read" if self.body is None else f"{len(self.body)} bytes"
        return f"<TransportResponse {self.status_code} ({size})>"


@runtime_checkable
class Transport(Protocol):
    """Moves one request and its response; the client does everything else.

    ``send`` either returns a :class:`TransportResponse` (whatever its status) or raises a
    :class:`TransportError`. It must not retry, follow redirects or interpret the body.
    ``aclose`` releases connections; calls in flight then fail with ``FailureKind.CLOSED``.
    """

    async def send(self, request: TransportRequest) -> TransportResponse:
        """Send ``request``; see the class docstring."""
        ...

    async def aclose(self) -> None:
        """Release every connection (idempotent)."""
        ...
