"""``client.totps``: the four TOTP operations, and bulk enrollment.

Each method takes either one positional params object or the fields as keyword arguments, plus
the per-call options of :class:`RequestOptions`. Fields are declared once, on the params classes
(``_models/params.py``), with their validation and docstrings; the keyword overloads below repeat
only their names and types for type checkers, and a test keeps the two in step.
"""

import functools
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from typing import Any, ParamSpec, Protocol, TypeVar, Unpack, overload

from .._bulk.engine import BulkEnrollment, BulkProgress, UserInput
from .._config import DEFAULT_BULK_CONCURRENCY, DEFAULT_BULK_MAX_CONSECUTIVE_CONNECTION_FAILURES
from .._core import protocol
from .._core.call_args import RequestOptions
from .._core.protocol import Operation
from .._core.raw_response import APIResponse
from .._core.retry import Pacer, RetryPolicy
from .._core.timeouts import Timeout
from .._models import (
    AuthenticateParams,
    AuthenticateResponse,
    CreateParams,
    CreateResponse,
    RecoverParams,
    RecoverResponse,
    RecoveryCodesParams,
    RecoveryCodesResponse,
)

__all__ = ["Caller", "TOTPs", "TOTPsWithRawResponse"]

P = ParamSpec("P")
R = TypeVar("R")


class Caller(Protocol):
    """What the resources need of a client: two ways to make a call, and its retry policy."""

    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy calls use unless they pass their own ``retry=``."""
        ...

    def _perform(
        self, operation: Operation[Any, R], params: object, kwargs: dict[str, Any]
    ) -> Awaitable[R]:
        """Bind ``params``/``kwargs`` (see ``bind_call``) and make the call, retries included."""
        ...

    def _perform_raw(
        self,
        operation: Operation[Any, R],
        params: object,
        kwargs: dict[str, Any],
        *,
        pacer: Pacer | None = None,
    ) -> Awaitable[APIResponse[R]]:
        """The same, returning the raw response; ``pacer`` paces the attempts (bulk)."""
        ...


class TOTPs:
    """The TOTP operations of a :class:`Client`, reached as ``client.totps``."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller
        self._raw: TOTPsWithRawResponse | None = None

    def __repr__(self) -> str:
        return f"<TOTPs of {self._caller!r}>"

    @property
    def with_raw_response(self) -> "TOTPsWithRawResponse":
        """The same operations, returning an :class:`APIResponse` (status, headers, request id,
        attempts, elapsed time, and ``parse()`` for the usual model)::

            raw = await client.totps.with_raw_response.create(user_id=user_id)
            print(raw.headers.get("X-RateLimit-Remaining"), raw.attempts)
            created = raw.parse()
        """
        if self._raw is None:
            self._raw = TOTPsWithRawResponse(self)
        return self._raw

    @overload
    async def create(
        self, params: CreateParams, /, **options: Unpack[RequestOptions]
    ) -> CreateResponse: ...
    @overload
    async def create(
        self,
        /,
        *,
        user_id: str,
        expiration_minutes: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> CreateResponse: ...
    async def create(self, params: CreateParams | None = None, /, **kwargs: Any) -> CreateResponse:
        """Create a TOTP registration for a user (``POST /v1/totps``).

        The response carries the secret, the QR code and the recovery codes to show the user
        once. The registration stays unverified until a first code authenticates, and becomes
        unusable after ``expiration_minutes`` (5-1440) if that never happens.

        Never retried once the request may have reached Stytch (a second registration would
        fail with ``active_totp_exists``).
        """
        return await self._caller._perform(protocol.CREATE, params, kwargs)

    def create_many(
        self,
        users: Iterable[UserInput] | AsyncIterable[UserInput],
        /,
        *,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        expiration_minutes: int | None = None,
        max_rate: float | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | Timeout | None = None,
        on_progress: Callable[[BulkProgress], None] | None = None,
        max_failures: int | None = None,
        max_consecutive_connection_failures: int | None = (
            DEFAULT_BULK_MAX_CONSECUTIVE_CONNECTION_FAILURES
        ),
    ) -> BulkEnrollment:
        """Enroll many users at once; see :class:`BulkEnrollment` for how to iterate.

        ``users`` (user ids or :class:`CreateParams`, as an iterable or async iterable) is read
        lazily. At most ``concurrency`` requests run at once and, with ``max_rate``, at most that
        many start per second. A 429 ``too_many_requests`` pauses the whole batch (for
        ``Retry-After`` when given) before that user is tried again. ``expiration_minutes``
        applies to items that do not set their own; ``retry`` defaults to the client's policy;
        ``on_progress`` is called with a :class:`BulkProgress` after each result.

        The run stops early, raising :class:`BulkAbortedError`, when a failure would be every
        user's (rejected credentials, a wrong base URL, a TLS failure), after
        ``max_consecutive_connection_failures`` connection failures in a row, or when more than
        ``max_failures`` users failed; see :class:`BulkEnrollment`.
        """
        caller = self._caller

        async def create(
            params: CreateParams,
            *,
            retry: RetryPolicy,
            timeout: float | Timeout | None,
            pacer: Pacer,
        ) -> APIResponse[CreateResponse]:
            options: dict[str, Any] = {"retry": retry, "timeout": timeout}
            return await caller._perform_raw(protocol.CREATE, params, options, pacer=pacer)

        return BulkEnrollment(
            create,
            users,
            concurrency=concurrency,
            expiration_minutes=expiration_minutes,
            max_rate=max_rate,
            retry=self._caller.retry_policy if retry is None else retry,
            timeout=timeout,
            on_progress=on_progress,
            max_failures=max_failures,
            max_consecutive_connection_failures=max_consecutive_connection_failures,
        )

    @overload
    async def authenticate(
        self, params: AuthenticateParams, /, **options: Unpack[RequestOptions]
    ) -> AuthenticateResponse: ...
    @overload
    async def authenticate(
        self,
        /,
        *,
        user_id: str,
        totp_code: str,
        session_token: str | None = None,
        session_duration_minutes: int | None = None,
        session_jwt: str | None = None,
        session_custom_claims: Mapping[str, Any] | None = None,
        telemetry_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AuthenticateResponse: ...
    async def authenticate(
        self, params: AuthenticateParams | None = None, /, **kwargs: Any
    ) -> AuthenticateResponse:
        """Authenticate a 6-digit TOTP code (``POST /v1/totps/authenticate``).

        With ``session_duration_minutes`` a session is started (or the one named by
        ``session_token``/``session_jwt`` extended). A wrong code raises
        :class:`AuthenticationError`; a code already used raises it too
        (``totp_code_already_authenticated``).

        Never retried once the request may have reached Stytch: the code may already be spent.
        """
        return await self._caller._perform(protocol.AUTHENTICATE, params, kwargs)

    @overload
    async def recovery_codes(
        self, params: RecoveryCodesParams, /, **options: Unpack[RequestOptions]
    ) -> RecoveryCodesResponse: ...
    @overload
    async def recovery_codes(
        self, /, *, user_id: str, **options: Unpack[RequestOptions]
    ) -> RecoveryCodesResponse: ...
    async def recovery_codes(
        self, params: RecoveryCodesParams | None = None, /, **kwargs: Any
    ) -> RecoveryCodesResponse:
        """List a user's TOTP registrations with their recovery codes
        (``POST /v1/totps/recovery_codes``).

        Read-only, so retried after any transient failure.
        """
        return await self._caller._perform(protocol.RECOVERY_CODES, params, kwargs)

    @overload
    async def recover(
        self, params: RecoverParams, /, **options: Unpack[RequestOptions]
    ) -> RecoverResponse: ...
    @overload
    async def recover(
        self,
        /,
        *,
        user_id: str,
        recovery_code: str,
        session_token: str | None = None,
        session_duration_minutes: int | None = None,
        session_jwt: str | None = None,
        session_custom_claims: Mapping[str, Any] | None = None,
        telemetry_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> RecoverResponse: ...
    async def recover(
        self, params: RecoverParams | None = None, /, **kwargs: Any
    ) -> RecoverResponse:
        """Log in with a single-use recovery code (``POST /v1/totps/recover``).

        Session parameters work as in :meth:`authenticate`. Never retried once the request may
        have reached Stytch: a replay would burn a second recovery code.
        """
        return await self._caller._perform(protocol.RECOVER, params, kwargs)


class TOTPsWithRawResponse:
    """``client.totps.with_raw_response``: each operation of :class:`TOTPs`, with the same
    arguments, returning an :class:`APIResponse` of its usual model instead of the model."""

    def __init__(self, totps: TOTPs) -> None:
        self._totps = totps
        caller = totps._caller
        self.create = _ReturningRaw(caller, protocol.CREATE)(totps.create)
        """:meth:`TOTPs.create`, returning ``APIResponse[CreateResponse]``."""
        self.authenticate = _ReturningRaw(caller, protocol.AUTHENTICATE)(totps.authenticate)
        """:meth:`TOTPs.authenticate`, returning ``APIResponse[AuthenticateResponse]``."""
        self.recovery_codes = _ReturningRaw(caller, protocol.RECOVERY_CODES)(totps.recovery_codes)
        """:meth:`TOTPs.recovery_codes`, returning ``APIResponse[RecoveryCodesResponse]``."""
        self.recover = _ReturningRaw(caller, protocol.RECOVER)(totps.recover)
        """:meth:`TOTPs.recover`, returning ``APIResponse[RecoverResponse]``."""

    def __repr__(self) -> str:
        return f"<TOTPsWithRawResponse of {self._totps._caller!r}>"


class _ReturningRaw:
    """Makes the raw form of an operation method: same parameters, an ``APIResponse`` back.

    A class with a one-argument ``__call__``, not a function of three arguments: that is the
    shape in which mypy carries the method's overloads over to the result.
    """

    def __init__(self, caller: Caller, operation: Operation[Any, Any]) -> None:
        self._caller = caller
        self._operation = operation

    def __call__(self, method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[APIResponse[R]]]:
        caller, operation = self._caller, self._operation

        async def call(params: object = None, /, **kwargs: Any) -> APIResponse[Any]:
            return await caller._perform_raw(operation, params, kwargs)

        functools.update_wrapper(call, method)
        return call  # type: ignore[return-value]  # ``method``'s parameters, by construction
