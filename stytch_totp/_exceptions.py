"""The errors raised by stytch-totp.

Every error the SDK raises is a :class:`StytchError`, so one ``except StytchError`` catches them all.
The tree::

    StytchError                       root of everything below
    ├── InvalidParamsError            bad input, raised before any request is sent (also a ValueError)
    ├── APIConnectionError            no usable HTTP response: refused, reset, dropped, TLS failure
    │   ├── APITimeoutError           the attempt ran out of time (connect or total)
    │   └── ClientClosedError         the Client was closed before or during the call
    ├── UnexpectedResponseError       a 2xx response that is not JSON, too large, or not the documented shape
    ├── BulkAbortedError              a bulk enrollment stopped: its failure would be every user's
    └── APIStatusError                Stytch answered with an error status (carries the error envelope)
        ├── BadRequestError           400
        ├── AuthenticationError       401 (bad project credentials, wrong TOTP or recovery code)
        ├── PermissionDeniedError     403
        ├── NotFoundError             404
        ├── ConflictError             409
        ├── RateLimitError            429 (``too_many_requests``, ``user_lock_limit_reached``)
        └── InternalServerError       5xx

:class:`APIStatusError` exposes Stytch's error envelope: ``status_code``, ``request_id``,
``error_type`` (e.g. ``"unable_to_authenticate_totp"``), ``error_message``, ``error_url`` and
``error_details``. OAuth-style envelopes (``error``, ``error_description``, ``error_uri``) are read
into the same attributes. An error body that is not JSON still gives the subclass of its status.

No message or attribute of these errors holds a secret (project secret, TOTP secret, QR code,
recovery codes, session tokens or JWTs, codes sent), and none quotes bytes of a response beyond
the fields of Stytch's error envelope: text taken from a response is cut to a bounded length and
anything unprintable in it (control characters, lone surrogates) is replaced, so every message
encodes as UTF-8 and fits on one log line.

Every error of a call carries ``operation`` (e.g. ``"totps.authenticate"``) and ``attempts``.

A custom transport reports a failed attempt with :class:`~stytch_totp.TransportError`, which says
whether the request was written; the client turns it into an :class:`APIConnectionError` and
never lets it reach the caller.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BulkAbortedError",
    "ClientClosedError",
    "ConflictError",
    "FailureKind",
    "InternalServerError",
    "InvalidParamsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StytchError",
    "TransportError",
    "UnexpectedResponseError",
]


def printable(value: str | None, limit: int = 200) -> str | None:
    """``value`` made safe to show: unprintable characters replaced, cut at ``limit``."""
    if value is None:
        return None
    if len(value) <= limit and value.isprintable():
        return value
    cut = value[:limit]
    cleaned = "".join(ch if ch.isprintable() else "\ufffd" for ch in cut)
    return cleaned + ("\u2026" if len(value) > limit else "")


class StytchError(Exception):
    """Root of every error raised by stytch-totp."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take keyword-only arguments, so ``cls(*self.args)`` (the default) cannot
        # rebuild them: restore ``args`` and the attributes instead, for pickle and copy.
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[StytchError], args: tuple[Any, ...], state: dict[str, Any]) -> StytchError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class InvalidParamsError(StytchError, ValueError):
    """A parameter is invalid; nothing was sent.

    ``field`` names the offending parameter (``"totp_code"``, ``"session_custom_claims"``...).
    The message never repeats the value of a secret parameter.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class FailureKind(enum.Enum):
    """How an attempt with no response failed (the ``kind`` of :class:`APIConnectionError`)."""

    CONNECT = "could not connect"
    """The connection could not be made (refused, unreachable, DNS)."""
    TIMEOUT = "timed out"
    """The attempt ran out of time."""
    TLS = "TLS failure"
    """The TLS handshake failed (e.g. an untrusted certificate): retrying will not help."""
    DISCONNECTED = "connection lost"
    """The connection broke before a complete answer."""
    PROTOCOL = "unusable response"
    """Something answered, but not with well-formed HTTP."""
    CLOSED = "transport closed"
    """The client (and its transport) was closed."""
    UNUSABLE = "transport unusable here"
    """The transport cannot be used from here (e.g. no running asyncio event loop, or the
    SyncClient called from a thread that runs one)."""


class TransportError(Exception):
    """A transport's report of an attempt that produced no response (never raised by a call).

    ``request_sent`` is the transport's observation of whether any byte of the request was
    written: ``False`` means the server cannot have acted on it, so even a single-use code may
    be sent again. The message describes the fault; it must never quote the request (it holds
    the credentials) or bytes of a response.
    """

    def __init__(
        self, message: str, *, request_sent: bool, kind: FailureKind | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request_sent = request_sent
        if kind is None:
            kind = FailureKind.DISCONNECTED if request_sent else FailureKind.CONNECT
        #: How it failed; by default ``DISCONNECTED`` if the request was sent, else ``CONNECT``.
        self.kind = kind

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_transport_error, (self.message, self.request_sent, self.kind))


def _restore_transport_error(message: str, request_sent: bool, kind: FailureKind) -> TransportError:
    return TransportError(message, request_sent=request_sent, kind=kind)


class APIConnectionError(StytchError):
    """The call got no usable HTTP response (connection refused, reset, dropped mid-response...).

    ``operation`` is the call that failed (e.g. ``"totps.create"``) and ``attempts`` how many
    attempts were made. ``may_have_been_processed`` is ``False`` when the request surely never
    reached Stytch (the connection could not be made), ``True`` when it may have been acted on
    (e.g. a timeout after it was sent): a TOTP code or recovery code sent then may be spent.
    The underlying aiohttp or OS error is chained as ``__cause__``.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        attempts: int = 1,
        may_have_been_processed: bool = True,
        kind: FailureKind | None = None,
    ) -> None:
        self.operation = operation
        self.attempts = attempts
        self.may_have_been_processed = may_have_been_processed
        #: How the last attempt failed, when a transport said so.
        self.kind = kind
        super().__init__(f"{message} | operation={operation}" if operation else message)


class APITimeoutError(APIConnectionError):
    """The attempt did not finish within the configured timeout."""


class ClientClosedError(APIConnectionError):
    """The :class:`~stytch_totp.Client` was closed before or while this call ran."""


class UnexpectedResponseError(StytchError):
    """A 2xx response that the SDK cannot turn into the documented model.

    ``path`` says where the body went wrong (``"$.user.emails[0].email_id"``), or is ``None`` when
    the body as a whole was unusable (not JSON, not an object, too large).
    """

    def __init__(
        self,
        reason: str,
        *,
        operation: str,
        status_code: int,
        request_id: str | None = None,
        path: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.reason = reason
        self.operation = operation
        self.status_code = status_code
        self.request_id = printable(request_id, 128)
        self.path = printable(path, 200)
        self.attempts = attempts
        where = f" at {self.path}" if self.path else ""
        rid = f", request_id={self.request_id}" if self.request_id else ""
        super().__init__(
            f"unexpected response to {operation} (HTTP {status_code}{rid}){where}: {reason}"
        )


class BulkAbortedError(StytchError):
    """A bulk enrollment stopped because the remaining users would fail the same way.

    ``reason`` says why (rejected credentials, a wrong base URL, a TLS failure, connection
    failures in a row, too many failed users); ``__cause__`` is the error that decided it. The
    results of the requests already in flight were yielded before it was raised.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"bulk enrollment stopped: {reason}")


class APIStatusError(StytchError):
    """Stytch (or something in front of it) answered with a non-2xx status.

    Attributes mirror Stytch's error envelope; those the body did not carry are ``None``
    (``error_details`` is then an empty mapping). ``headers`` are the response's headers
    (case-insensitive), rate-limit headers included.
    """

    def __init__(
        self,
        *,
        status_code: int,
        request_id: str | None = None,
        error_type: str | None = None,
        error_message: str | None = None,
        error_url: str | None = None,
        error_details: Mapping[str, Any] | None = None,
        operation: str = "",
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        attempts: int = 1,
    ) -> None:
        self.status_code = status_code
        self.request_id = printable(request_id, 128)
        self.error_type = printable(error_type, 100)
        self.error_message = printable(error_message, 500)
        self.error_url = printable(error_url, 300)
        self.error_details: Mapping[str, Any] = error_details or {}
        self.operation = operation
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.attempts = attempts
        #: Seconds the server asked us to wait (``Retry-After``), when it said so.
        self.retry_after = retry_after
        super().__init__(self._describe())

    def _describe(self) -> str:
        kind = self.error_type or "http_error"
        text = self.error_message or "no error message in the response"
        parts = [f"HTTP {self.status_code} {kind}: {text}"]
        if self.operation:
            parts.append(f"operation={self.operation}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " | ".join(parts)


class BadRequestError(APIStatusError):
    """HTTP 400: the request was invalid (e.g. ``active_totp_exists``, ``invalid_user_id``)."""


class AuthenticationError(APIStatusError):
    """HTTP 401: bad project credentials, or a TOTP / recovery code that did not authenticate."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the project may not do this."""


class NotFoundError(APIStatusError):
    """HTTP 404: no such user, TOTP or route."""


class ConflictError(APIStatusError):
    """HTTP 409: the request conflicts with the current state."""


class RateLimitError(APIStatusError):
    """HTTP 429: rate limited (``too_many_requests``) or user locked (``user_lock_limit_reached``)."""


class InternalServerError(APIStatusError):
    """HTTP 5xx: Stytch (or a proxy in front of it) failed."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The :class:`APIStatusError` subclass that stands for ``status_code``."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_ERRORS.get(status_code, APIStatusError)
