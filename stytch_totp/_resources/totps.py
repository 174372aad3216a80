"""``client.totps``: the four TOTP operations, and bulk enrollment.

Each method takes either one positional params object or the fields as keyword arguments, plus
the per-call options of :class:`RequestOptions`. Fields are declared once, on the params classes
(``_models/params.py``), with their validation and docstrings; the keyword overloads below repeat
only their names and types for type checkers, and a test keeps the two in step.
"""

from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar, Unpack, overload

from .._bulk.engine import BulkEnrollment, BulkProgress, UserInput
from .._config import DEFAULT_BULK_CONCURRENCY
from .._core import protocol
from .._core.call_args import RequestOptions
from .._core.protocol import Operation
from .._core.retry import RetryPolicy
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

__all__ = ["Caller", "TOTPs"]

R = TypeVar("R")


class Caller(Protocol):
    """What the resources need of a client: one way to make a call, and its retry policy."""

    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy calls use unless they pass their own ``retry=``."""
        ...

    async def _perform(
        self, operation: Operation[Any, R], params: object, kwargs: dict[str, Any]
    ) -> R:
        """Bind ``params``/``kwargs`` (see ``bind_call``) and make the call, retries included."""
        ...


class TOTPs:
    """The TOTP operations of a :class:`Client`, reached as ``client.totps``."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    def __repr__(self) -> str:
        return f"<TOTPs of {self._caller!r}>"

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
    ) -> BulkEnrollment:
        """Enroll many users at once; see :class:`BulkEnrollment` for how to iterate.

        ``users`` (user ids or :class:`CreateParams`, as an iterable or async iterable) is read
        lazily. At most ``concurrency`` requests run at once and, with ``max_rate``, at most that
        many start per second. A 429 ``too_many_requests`` pauses the whole batch (for
        ``Retry-After`` when given) before that user is tried again. ``expiration_minutes``
        applies to items that do not set their own; ``retry`` defaults to the client's policy;
        ``on_progress`` is called with a :class:`BulkProgress` after each result.
        """
        return BulkEnrollment(
            self.create,
            users,
            concurrency=concurrency,
            expiration_minutes=expiration_minutes,
            max_rate=max_rate,
            retry=self._caller.retry_policy if retry is None else retry,
            timeout=timeout,
            on_progress=on_progress,
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
