"""``client.totps``: the four TOTP operations.

Each method takes either one positional params object or keyword arguments named exactly like
the API fields, plus per-call ``timeout=`` and ``retry=``. Parameters are validated by building
the params object, so bad input raises :class:`InvalidParamsError` before anything is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from . import _protocol
from ._bulk import BulkEnrollment, BulkProgress
from ._config import DEFAULT_BULK_CONCURRENCY
from ._exceptions import InvalidParamsError
from ._models import AuthenticateResponse, CreateResponse, RecoverResponse, RecoveryCodesResponse
from ._params import AuthenticateParams, CreateParams, RecoverParams, RecoveryCodesParams
from ._retry import RetryPolicy
from ._types import Timeout

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["TOTPs"]

P = TypeVar("P")


def _params(params_type: type[P], given: P | None, fields: dict[str, Any]) -> P:
    if given is None:
        return params_type(**{name: value for name, value in fields.items() if value is not None})
    if not isinstance(given, params_type):
        raise InvalidParamsError(
            "params", f"must be a {params_type.__name__}, not {type(given).__name__}"
        )
    extra = sorted(name for name, value in fields.items() if value is not None)
    if extra:
        raise InvalidParamsError(
            extra[0], f"pass either a {params_type.__name__} or keyword arguments, not both"
        )
    return given


def _missing_required(params_type: type[Any], fields: dict[str, Any], *required: str) -> None:
    for name in required:
        if fields.get(name) is None:
            raise InvalidParamsError(name, f"is required (or pass a {params_type.__name__})")


class TOTPs:
    """The TOTP operations of a :class:`Client`, reached as ``client.totps``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<TOTPs of {self._client!r}>"

    @overload
    async def create(
        self,
        params: CreateParams,
        /,
        *,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> CreateResponse: ...
    @overload
    async def create(
        self,
        /,
        *,
        user_id: str,
        expiration_minutes: int | None = None,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> CreateResponse: ...
    async def create(
        self,
        params: CreateParams | None = None,
        /,
        *,
        user_id: str | None = None,
        expiration_minutes: int | None = None,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> CreateResponse:
        """Create a TOTP registration for a user (``POST /v1/totps``).

        The response carries the secret, the QR code and the recovery codes to show the user
        once. The registration stays unverified until a first code authenticates, and becomes
        unusable after ``expiration_minutes`` (5-1440) if that never happens.

        Never retried once the request may have reached Stytch (a second registration would
        fail with ``active_totp_exists``).
        """
        fields = {"user_id": user_id, "expiration_minutes": expiration_minutes}
        if params is None:
            _missing_required(CreateParams, fields, "user_id")
        built = _params(CreateParams, params, fields)
        del fields  # not kept alive across the await: thousands of calls may be in flight
        return await self._client._call(_protocol.CREATE, built, timeout=timeout, retry=retry)

    def create_many(
        self,
        users: Iterable[str | CreateParams] | AsyncIterable[str | CreateParams],
        /,
        *,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        expiration_minutes: int | None = None,
        max_rate: float | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout | None = None,
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
            self,
            users,
            concurrency=concurrency,
            expiration_minutes=expiration_minutes,
            max_rate=max_rate,
            retry=self._client._retry if retry is None else retry,
            timeout=timeout,
            on_progress=on_progress,
        )

    @overload
    async def authenticate(
        self,
        params: AuthenticateParams,
        /,
        *,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
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
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> AuthenticateResponse: ...
    async def authenticate(
        self,
        params: AuthenticateParams | None = None,
        /,
        *,
        user_id: str | None = None,
        totp_code: str | None = None,
        session_token: str | None = None,
        session_duration_minutes: int | None = None,
        session_jwt: str | None = None,
        session_custom_claims: Mapping[str, Any] | None = None,
        telemetry_id: str | None = None,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> AuthenticateResponse:
        """Authenticate a 6-digit TOTP code (``POST /v1/totps/authenticate``).

        With ``session_duration_minutes`` a session is started (or the one named by
        ``session_token``/``session_jwt`` extended). A wrong code raises
        :class:`AuthenticationError`; a code already used raises it too
        (``totp_code_already_authenticated``).

        Never retried once the request may have reached Stytch: the code may already be spent.
        """
        fields = {
            "user_id": user_id,
            "totp_code": totp_code,
            "session_token": session_token,
            "session_duration_minutes": session_duration_minutes,
            "session_jwt": session_jwt,
            "session_custom_claims": session_custom_claims,
            "telemetry_id": telemetry_id,
        }
        if params is None:
            _missing_required(AuthenticateParams, fields, "user_id", "totp_code")
        built = _params(AuthenticateParams, params, fields)
        del fields
        return await self._client._call(_protocol.AUTHENTICATE, built, timeout=timeout, retry=retry)

    @overload
    async def recovery_codes(
        self,
        params: RecoveryCodesParams,
        /,
        *,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> RecoveryCodesResponse: ...
    @overload
    async def recovery_codes(
        self,
        /,
        *,
        user_id: str,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> RecoveryCodesResponse: ...
    async def recovery_codes(
        self,
        params: RecoveryCodesParams | None = None,
        /,
        *,
        user_id: str | None = None,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> RecoveryCodesResponse:
        """List a user's TOTP registrations with their recovery codes
        (``POST /v1/totps/recovery_codes``).

        Read-only, so retried after any transient failure.
        """
        fields = {"user_id": user_id}
        if params is None:
            _missing_required(RecoveryCodesParams, fields, "user_id")
        built = _params(RecoveryCodesParams, params, fields)
        del fields
        return await self._client._call(
            _protocol.RECOVERY_CODES, built, timeout=timeout, retry=retry
        )

    @overload
    async def recover(
        self,
        params: RecoverParams,
        /,
        *,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
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
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> RecoverResponse: ...
    async def recover(
        self,
        params: RecoverParams | None = None,
        /,
        *,
        user_id: str | None = None,
        recovery_code: str | None = None,
        session_token: str | None = None,
        session_duration_minutes: int | None = None,
        session_jwt: str | None = None,
        session_custom_claims: Mapping[str, Any] | None = None,
        telemetry_id: str | None = None,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> RecoverResponse:
        """Log in with a single-use recovery code (``POST /v1/totps/recover``).

        Session parameters work as in :meth:`authenticate`. Never retried once the request may
        have reached Stytch: a replay would burn a second recovery code.
        """
        fields = {
            "user_id": user_id,
            "recovery_code": recovery_code,
            "session_token": session_token,
            "session_duration_minutes": session_duration_minutes,
            "session_jwt": session_jwt,
            "session_custom_claims": session_custom_claims,
            "telemetry_id": telemetry_id,
        }
        if params is None:
            _missing_required(RecoverParams, fields, "user_id", "recovery_code")
        built = _params(RecoverParams, params, fields)
        del fields
        return await self._client._call(_protocol.RECOVER, built, timeout=timeout, retry=retry)
