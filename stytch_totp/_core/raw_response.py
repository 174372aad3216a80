"""``APIResponse``: a successful call as the wire delivered it, for ``with_raw_response``."""

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from .protocol import Operation, decode_response

__all__ = ["APIResponse"]

R = TypeVar("R")

_UNPARSED: Any = object()


class APIResponse(Generic[R]):
    """The final response of a successful call, with what it took to get it.

    Returned by ``client.totps.with_raw_response.<operation>(...)``. :meth:`parse` gives the
    usual typed model (decoded once, then kept). Error statuses still raise
    :class:`~stytch_totp.APIStatusError`, as without ``with_raw_response``. Its ``repr`` shows
    no header value and no body.
    """

    __slots__ = ("_body", "_operation", "_parsed", "attempts", "elapsed", "headers", "status_code")

    def __init__(
        self,
        operation: Operation[Any, R],
        *,
        status_code: int,
        headers: Mapping[str, str],
        body: bytes | None,
        attempts: int,
        elapsed: float,
    ) -> None:
        self._operation = operation
        self._body = body
        self._parsed: R = _UNPARSED
        #: The HTTP status (2xx).
        self.status_code = status_code
        #: The response headers (case-insensitive), rate-limit headers and request id included.
        self.headers = headers
        #: Attempts made: retries taken + 1.
        self.attempts = attempts
        #: Seconds the whole call took, every attempt and every wait between them included.
        self.elapsed = elapsed

    @property
    def request_id(self) -> str | None:
        """The ``Request-Id`` (or ``X-Request-Id``) header, if the server sent one.

        The body's ``request_id`` is on the parsed model.
        """
        return self.headers.get("request-id") or self.headers.get("x-request-id")

    @property
    def operation(self) -> str:
        """The operation, e.g. ``"totps.create"``."""
        return self._operation.name

    def parse(self) -> R:
        """The typed model, as the call without ``with_raw_response`` returns it.

        Raises :class:`~stytch_totp.UnexpectedResponseError` if the body is not the documented
        shape.
        """
        if self._parsed is _UNPARSED:
            self._parsed = decode_response(
                self._operation, self.status_code, self.headers, self._body
            )
        return self._parsed

    def __repr__(self) -> str:
        return (
            f"<APIResponse {self._operation.name} {self.status_code} "
            f"attempts={self.attempts} elapsed={self.elapsed:.3f}s>"
        )
