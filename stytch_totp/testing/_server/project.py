"""The emulated Stytch project: every rule of the TOTP API, as a state machine without I/O.

Each public method takes validated params, reads and writes records through a
:class:`~stytch_totp.testing._server.store.Store`, reads time from a
:class:`~stytch_totp.testing._server.clock.Clock`, and returns the response model or raises an
:class:`~stytch_totp.testing._server.errors.EmulatorError`. The HTTP layer only moves JSON in and out.

Rules, with the choices made where Stytch does not document its behaviour (marked *inferred*):

* Codes are RFC 6238 (SHA1, 6 digits, 30 s); the previous and next steps are accepted. Once a code
  is accepted, codes of that step or an earlier one are refused with
  ``totp_code_already_authenticated`` (RFC 6238 §5.2), which does not count as a failed attempt.
* A new TOTP is unverified until its first successful authenticate; an unverified TOTP past its
  ``expiration_minutes`` (default 1440) is treated as gone. Creating a TOTP while a verified one
  exists fails with ``active_totp_exists``; an unverified one is replaced (*inferred*).
* Recovery codes: 10 per TOTP, single use, valid only once the TOTP is verified (*inferred*); the
  recovery-codes endpoint lists the unused ones (*inferred*).
* Locks: 10 consecutive failed attempts (wrong TOTP code, or wrong or spent recovery code) lock
  the user for an hour; the 10th attempt already answers ``user_lock_limit_reached`` (*inferred*),
  as does every attempt while the lock lasts, even with a right code. A success resets the count.
* Sessions: ``session_duration_minutes`` starts one (or extends the one named by
  ``session_token``/``session_jwt`` to now + that many minutes); custom claims are merged (``null``
  deletes, reserved JWT claims are ignored). Sessions carry the role ``stytch_user``, users
  carry only the roles they were given (*inferred*). Session JWTs live 5 minutes.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import string
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final, NoReturn, TypeVar

import attrs
import orjson

from ..._config import SESSION_CUSTOM_CLAIMS_MAX_BYTES
from ..._core.totp_codes import code_at_step, decode_secret, otpauth_uri, time_step
from ..._exceptions import InvalidParamsError
from ..._models import (
    TOTP,
    Attributes,
    AuthenticateParams,
    AuthenticateResponse,
    AuthenticationFactor,
    AuthenticationFactorDeliveryMethod,
    AuthenticationFactorType,
    AuthenticatorAppFactor,
    CreateParams,
    CreateResponse,
    Email,
    PhoneNumber,
    RecoverParams,
    RecoverResponse,
    RecoveryCodeFactor,
    RecoveryCodesParams,
    RecoveryCodesResponse,
    Session,
    User,
    UserTOTP,
)
from .clock import Clock
from .errors import EmulatorError
from .jwt import RESERVED_CLAIMS, SESSION_CLAIM, SigningKey, issuer_for
from .qr import qr_data_uri
from .records import ProjectRecord, RecoveryCodeRecord, SessionRecord, TOTPRecord, UserRecord
from .requests import NewUser, check_new_user
from .responses import CreateUserResponse, DeleteTOTPResponse, GetUserResponse, JWKSResponse, wire
from .store import Store

_SignInResponse = TypeVar("_SignInResponse", AuthenticateResponse, RecoverResponse)

__all__ = ["DEFAULT_PROJECT_NAME", "EmulatedProject", "check_credentials", "new_request_id"]

DEFAULT_PROJECT_NAME: Final = "Stytch TOTP Emulator"
DEFAULT_EXPIRATION_MINUTES: Final = 1440
RECOVERY_CODE_COUNT: Final = 10
LOCK_THRESHOLD: Final = 10
LOCK_DURATION: Final = timedelta(hours=1)
SESSION_JWT_LIFETIME: Final = timedelta(minutes=5)
SESSION_ROLES: Final = ("stytch_user",)
#: Steps accepted on either side of the current one.
TOTP_WINDOW: Final = 1

_RECOVERY_ALPHABET: Final = string.ascii_lowercase + string.digits


def _new_id(kind: str) -> str:
    return f"{kind}-test-{uuid.uuid4()}"


def new_request_id() -> str:
    """A fresh ``request_id``."""
    return _new_id("request-id")


def _new_secret() -> str:
    # 20 random bytes are exactly 32 base32 characters, with no padding.
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def _new_recovery_code() -> str:
    groups = ("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


def check_credentials(project_id: str | None, secret: str | None) -> None:
    """Refuse given credentials no client could authenticate with (``None`` means generate)."""
    if project_id is not None:
        if not isinstance(project_id, str) or not project_id:
            raise InvalidParamsError(
                "project_id", "must be a non-empty str, or None to generate one"
            )
        if ":" in project_id:
            # HTTP Basic auth splits "project_id:secret" at the first ':'.
            raise InvalidParamsError("project_id", "must not contain ':'")
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise InvalidParamsError("secret", "must be a non-empty str, or None to generate one")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


@attrs.frozen
class _SessionPlan:
    """What a successful authentication will do to sessions, checked before the code is spent."""

    existing: SessionRecord | None
    duration_minutes: int | None
    custom_claims: Mapping[str, Any]


class EmulatedProject:
    """One Stytch project's users, TOTPs and sessions, and the rules that govern them."""

    def __init__(self, store: Store, clock: Clock, project: ProjectRecord) -> None:
        self._store = store
        self._clock = clock
        self.record = project
        self.key = SigningKey(project.signing_key_pem)

    def __repr__(self) -> str:
        return f"<EmulatedProject {self.record.project_id!r}>"

    @classmethod
    def open(
        cls,
        store: Store,
        clock: Clock,
        *,
        project_id: str | None = None,
        secret: str | None = None,
        project_name: str | None = None,
        new_key: Callable[[], SigningKey] = SigningKey.generate,
    ) -> EmulatedProject:
        """The project kept in ``store``, or a new one saved there.

        Credentials not given are generated; a store that already holds a project keeps its
        credentials and key, and refuses different ones. Unusable credentials (empty, or a
        ``project_id`` with ``':'``) raise :class:`InvalidParamsError`.
        """
        check_credentials(project_id, secret)
        if project_name is not None and (not project_name or ":" in project_name):
            raise ValueError("project_name must be non-empty and must not contain ':'")
        record = store.load_project()
        if record is None:
            record = ProjectRecord(
                project_id=_new_id("project") if project_id is None else project_id,
                secret=f"secret-test-{secrets.token_urlsafe(30)}" if secret is None else secret,
                project_name=project_name or DEFAULT_PROJECT_NAME,
                signing_key_pem=new_key().private_key_pem,
            )
            store.save_project(record)
        else:
            if project_id is not None and project_id != record.project_id:
                raise ValueError(
                    f"the state holds project {record.project_id!r}, not {project_id!r}"
                )
            if secret is not None and not _same(secret, record.secret):
                raise ValueError("the state holds this project with another secret")
            if project_name is not None and project_name != record.project_name:
                record = attrs.evolve(record, project_name=project_name)
                store.save_project(record)
        return cls(store, clock, record)

    # ----------------------------------------------------------------------------------------
    # Credentials and keys
    # ----------------------------------------------------------------------------------------

    def credentials_match(self, project_id: str, secret: str) -> bool:
        """Whether Basic-auth credentials are this project's; both compared in constant time."""
        id_ok = _same(project_id, self.record.project_id)
        secret_ok = _same(secret, self.record.secret)
        return id_ok and secret_ok

    def jwks(self, project_id: str) -> JWKSResponse:
        """``GET /v1/sessions/jwks/{project_id}``: the key that verifies session JWTs."""
        if project_id != self.record.project_id:
            raise EmulatorError("project_not_found")
        return JWKSResponse(new_request_id(), 200, (self.key.jwk(),))

    # ----------------------------------------------------------------------------------------
    # Users
    # ----------------------------------------------------------------------------------------

    def create_user(self, new_user: NewUser) -> CreateUserResponse:
        """``POST /v1/users``."""
        check_new_user(new_user)
        if new_user.email is not None and self._store.find_user(email=new_user.email):
            raise EmulatorError("duplicate_email")
        if new_user.external_id is not None and self._store.find_user(
            external_id=new_user.external_id
        ):
            raise EmulatorError("duplicate_external_id")
        user = UserRecord(
            user_id=_new_id("user"),
            created_at=self._now(),
            status="pending" if new_user.create_user_as_pending else "active",
            email=new_user.email,
            email_id=_new_id("email") if new_user.email is not None else None,
            phone_number=new_user.phone_number,
            phone_id=_new_id("phone-number") if new_user.phone_number is not None else None,
            name=new_user.name,
            external_id=new_user.external_id,
            trusted_metadata=new_user.trusted_metadata,
            untrusted_metadata=new_user.untrusted_metadata,
            roles=new_user.roles,
        )
        self._store.put_user(user)
        return CreateUserResponse(
            request_id=new_request_id(),
            status_code=200,
            user_id=user.user_id,
            email_id=user.email_id or "",
            status=user.status,
            phone_id=user.phone_id or "",
            user=self._user_view(user, self._now()),
        )

    def get_user(self, user_id: str) -> GetUserResponse:
        """``GET /v1/users/{user_id}``."""
        user = self._resolve_user(user_id)
        return GetUserResponse(new_request_id(), 200, self._user_view(user, self._now()))

    def delete_totp(self, totp_id: str) -> DeleteTOTPResponse:
        """``DELETE /v1/users/totps/{totp_id}``."""
        totp = self._store.get_totp(totp_id)
        if totp is None:
            raise EmulatorError("totp_not_found")
        self._store.delete_totp(totp_id)
        user = self._resolve_user(totp.user_id)
        return DeleteTOTPResponse(
            new_request_id(), 200, user.user_id, self._user_view(user, self._now())
        )

    # ----------------------------------------------------------------------------------------
    # TOTPs
    # ----------------------------------------------------------------------------------------

    def create_totp(self, params: CreateParams) -> CreateResponse:
        """``POST /v1/totps``."""
        now = self._now()
        user = self._resolve_user(params.user_id)
        for existing in self._store.totps_of(user.user_id):
            if existing.verified:
                raise EmulatorError("active_totp_exists")
            # An unverified (or expired) enrollment is abandoned: the new one replaces it.
            self._store.delete_totp(existing.totp_id)
        minutes = params.expiration_minutes or DEFAULT_EXPIRATION_MINUTES
        codes = tuple(
            RecoveryCodeRecord(_new_id("totp-recovery-code"), _new_recovery_code())
            for _ in range(RECOVERY_CODE_COUNT)
        )
        totp = TOTPRecord(
            totp_id=_new_id("totp"),
            user_id=user.user_id,
            secret=_new_secret(),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
            recovery_codes=codes,
        )
        self._store.put_totp(totp)
        account = user.email or user.phone_number or user.user_id
        uri = otpauth_uri(totp.secret, account=account, issuer=self.record.project_name)
        return CreateResponse(
            request_id=new_request_id(),
            status_code=200,
            totp_id=totp.totp_id,
            secret=totp.secret,
            qr_code=qr_data_uri(uri),
            recovery_codes=tuple(code.code for code in codes),
            user=self._user_view(user, now),
            user_id=user.user_id,
        )

    def authenticate(self, params: AuthenticateParams) -> AuthenticateResponse:
        """``POST /v1/totps/authenticate``."""
        now = self._now()
        user = self._unlocked_user(params.user_id, now)
        plan = self._plan_session(params, user, now)
        totp = self._usable_totp(user, now, verified_only=False)
        key = decode_secret(totp.secret)
        current = time_step(now)
        # Every candidate is compared, so timing does not tell which step matched.
        matches = [
            step
            for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1)
            if _same(params.totp_code, code_at_step(key, step))
        ]
        if not matches:
            self._fail(user, now, "unable_to_authenticate_totp")
        fresh = [
            step for step in matches if totp.last_used_step is None or step > totp.last_used_step
        ]
        if not fresh:
            raise EmulatorError("totp_code_already_authenticated")
        self._store.put_totp(attrs.evolve(totp, verified=True, last_used_step=max(fresh)))
        factor = AuthenticationFactor(
            type=AuthenticationFactorType.TOTP,
            delivery_method=AuthenticationFactorDeliveryMethod.AUTHENTICATOR_APP,
            last_authenticated_at=now,
            created_at=now,
            updated_at=now,
            authenticator_app_factor=AuthenticatorAppFactor(totp_id=totp.totp_id),
        )
        return self._signed_in(AuthenticateResponse, plan, user, totp, factor, now)

    def recovery_codes(self, params: RecoveryCodesParams) -> RecoveryCodesResponse:
        """``POST /v1/totps/recovery_codes``: the user's TOTPs with their unused codes."""
        now = self._now()
        user = self._resolve_user(params.user_id)
        totps = self._live_totps(user.user_id, now)
        if not totps:
            raise EmulatorError("totps_not_found_for_user")
        return RecoveryCodesResponse(
            request_id=new_request_id(),
            status_code=200,
            user_id=user.user_id,
            totps=tuple(
                TOTP(
                    totp_id=totp.totp_id,
                    verified=totp.verified,
                    recovery_codes=tuple(
                        code.code for code in totp.recovery_codes if code.used_at is None
                    ),
                )
                for totp in totps
            ),
        )

    def recover(self, params: RecoverParams) -> RecoverResponse:
        """``POST /v1/totps/recover``: authenticate with a single-use recovery code."""
        now = self._now()
        user = self._unlocked_user(params.user_id, now)
        plan = self._plan_session(params, user, now)
        totp = self._usable_totp(user, now, verified_only=True)
        # Codes are lowercase; one typed in capitals is the same code.
        given = params.recovery_code.strip().lower()
        matched: RecoveryCodeRecord | None = None
        for code in totp.recovery_codes:  # no early exit: timing says nothing about the codes
            if _same(given, code.code):
                matched = code
        if matched is None or matched.used_at is not None:
            self._fail(user, now, "unable_to_authenticate_recovery_code")
        spent = tuple(
            attrs.evolve(code, used_at=now) if code is matched else code
            for code in totp.recovery_codes
        )
        self._store.put_totp(attrs.evolve(totp, recovery_codes=spent))
        factor = AuthenticationFactor(
            type=AuthenticationFactorType.RECOVERY_CODES,
            delivery_method=AuthenticationFactorDeliveryMethod.RECOVERY_CODE,
            last_authenticated_at=now,
            created_at=now,
            updated_at=now,
            recovery_code_factor=RecoveryCodeFactor(totp_recovery_code_id=matched.recovery_code_id),
        )
        return self._signed_in(RecoverResponse, plan, user, totp, factor, now)

    def _signed_in(
        self,
        response_type: type[_SignInResponse],
        plan: _SessionPlan | None,
        user: UserRecord,
        totp: TOTPRecord,
        factor: AuthenticationFactor,
        now: datetime,
    ) -> _SignInResponse:
        """The end of a successful authenticate or recover: reset failures, session, response."""
        user = self._succeed(user)
        token, jwt, session = self._apply_session(plan, user, factor, now)
        return response_type(
            request_id=new_request_id(),
            status_code=200,
            user_id=user.user_id,
            totp_id=totp.totp_id,
            user=self._user_view(user, now),
            session_token=token,
            session_jwt=jwt,
            session=session,
        )

    # ----------------------------------------------------------------------------------------
    # Users: lookup, locks, views
    # ----------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        # Stytch's timestamps have whole seconds.
        return self._clock.now().replace(microsecond=0)

    def _resolve_user(self, user_id: str) -> UserRecord:
        user = self._store.get_user(user_id) or self._store.find_user(external_id=user_id)
        if user is None:
            raise EmulatorError("user_not_found")
        return user

    def _unlocked_user(self, user_id: str, now: datetime) -> UserRecord:
        user = self._resolve_user(user_id)
        if user.lock_expires_at is None:
            return user
        if user.lock_expires_at > now:
            raise EmulatorError("user_lock_limit_reached")
        unlocked = attrs.evolve(user, failed_attempts=0, lock_created_at=None, lock_expires_at=None)
        self._store.put_user(unlocked)
        return unlocked

    def _fail(self, user: UserRecord, now: datetime, error_type: str) -> NoReturn:
        attempts = user.failed_attempts + 1
        if attempts >= LOCK_THRESHOLD:
            locked = attrs.evolve(
                user,
                failed_attempts=attempts,
                lock_created_at=now,
                lock_expires_at=now + LOCK_DURATION,
            )
            self._store.put_user(locked)
            raise EmulatorError("user_lock_limit_reached")
        self._store.put_user(attrs.evolve(user, failed_attempts=attempts))
        raise EmulatorError(error_type)

    def _succeed(self, user: UserRecord) -> UserRecord:
        if user.failed_attempts == 0:
            return user
        reset = attrs.evolve(user, failed_attempts=0)
        self._store.put_user(reset)
        return reset

    def _live_totps(self, user_id: str, now: datetime) -> list[TOTPRecord]:
        return [
            totp for totp in self._store.totps_of(user_id) if totp.verified or totp.expires_at > now
        ]

    def _usable_totp(self, user: UserRecord, now: datetime, *, verified_only: bool) -> TOTPRecord:
        for totp in self._live_totps(user.user_id, now):
            if totp.verified or not verified_only:
                return totp
        raise EmulatorError("totps_not_found_for_user")

    def _user_view(self, user: UserRecord, now: datetime) -> User:
        locked = user.lock_expires_at is not None and user.lock_expires_at > now
        emails: tuple[Email, ...] = ()
        if user.email is not None and user.email_id is not None:
            emails = (Email(email_id=user.email_id, email=user.email, verified=False),)
        phones: tuple[PhoneNumber, ...] = ()
        if user.phone_number is not None and user.phone_id is not None:
            phones = (
                PhoneNumber(phone_id=user.phone_id, phone_number=user.phone_number, verified=False),
            )
        return User(
            user_id=user.user_id,
            emails=emails,
            status=user.status,
            phone_numbers=phones,
            webauthn_registrations=(),
            providers=(),
            totps=tuple(
                UserTOTP(totp_id=totp.totp_id, verified=totp.verified)
                for totp in self._live_totps(user.user_id, now)
            ),
            crypto_wallets=(),
            biometric_registrations=(),
            is_locked=locked,
            roles=user.roles,
            name=user.name,
            created_at=user.created_at,
            trusted_metadata=user.trusted_metadata,
            untrusted_metadata=user.untrusted_metadata,
            external_id=user.external_id,
            lock_created_at=user.lock_created_at if locked else None,
            lock_expires_at=user.lock_expires_at if locked else None,
        )

    # ----------------------------------------------------------------------------------------
    # Sessions
    # ----------------------------------------------------------------------------------------

    def _plan_session(
        self, params: AuthenticateParams | RecoverParams, user: UserRecord, now: datetime
    ) -> _SessionPlan | None:
        existing = self._session_named_by(params.session_token, params.session_jwt, now)
        if existing is not None and existing.user_id != user.user_id:
            raise EmulatorError("user_id_mismatch")
        duration = params.session_duration_minutes
        if existing is None and duration is None:
            return None
        claims = dict(existing.custom_claims) if existing is not None else {}
        if duration is not None and params.session_custom_claims:
            for name, value in params.session_custom_claims.items():
                if name in RESERVED_CLAIMS:
                    continue
                if value is None:
                    claims.pop(name, None)
                else:
                    claims[name] = value
        if len(orjson.dumps(claims)) > SESSION_CUSTOM_CLAIMS_MAX_BYTES:
            raise EmulatorError("custom_claims_too_large")
        return _SessionPlan(existing, duration, claims)

    def _session_named_by(
        self, token: str | None, jwt: str | None, now: datetime
    ) -> SessionRecord | None:
        by_token = by_jwt = None
        if token is not None:
            by_token = self._store.find_session(token)
            if by_token is None:
                raise EmulatorError("session_not_found")
        if jwt is not None:
            session_id = self.key.session_id_of(jwt, project_id=self.record.project_id)
            if session_id is None:
                raise EmulatorError("unable_to_parse_session_jwt")
            by_jwt = self._store.get_session(session_id)
            if by_jwt is None:
                raise EmulatorError("session_not_found")
        if by_token is not None and by_jwt is not None and by_token.session_id != by_jwt.session_id:
            raise EmulatorError("too_many_session_arguments")
        session = by_token or by_jwt
        if session is not None and session.expires_at <= now:
            raise EmulatorError("session_not_found")
        return session

    def _apply_session(
        self,
        plan: _SessionPlan | None,
        user: UserRecord,
        factor: AuthenticationFactor,
        now: datetime,
    ) -> tuple[str, str, Session | None]:
        """Start or extend the planned session: ``(session_token, session_jwt, session)``."""
        if plan is None:
            return "", "", None
        lifetime = (
            timedelta(minutes=plan.duration_minutes) if plan.duration_minutes is not None else None
        )
        if plan.existing is None:
            assert lifetime is not None  # a plan without a session to extend has a duration
            record = SessionRecord(
                session_id=_new_id("session"),
                user_id=user.user_id,
                session_token=secrets.token_urlsafe(33),
                started_at=now,
                last_accessed_at=now,
                expires_at=now + lifetime,
                authentication_factors=(factor,),
                roles=SESSION_ROLES,
                custom_claims=plan.custom_claims,
            )
        else:
            record = attrs.evolve(
                plan.existing,
                last_accessed_at=now,
                expires_at=now + lifetime if lifetime is not None else plan.existing.expires_at,
                authentication_factors=_with_factor(plan.existing.authentication_factors, factor),
                custom_claims=plan.custom_claims,
            )
        self._store.put_session(record)
        session = Session(
            session_id=record.session_id,
            user_id=record.user_id,
            authentication_factors=record.authentication_factors,
            roles=record.roles,
            started_at=record.started_at,
            last_accessed_at=record.last_accessed_at,
            expires_at=record.expires_at,
            attributes=Attributes(ip_address="", user_agent=""),
            custom_claims=record.custom_claims,
        )
        return record.session_token, self._session_jwt(session, now), session

    def _session_jwt(self, session: Session, now: datetime) -> str:
        data = wire.unstructure(session)
        project_id = self.record.project_id
        claims: dict[str, Any] = {
            **(session.custom_claims or {}),
            "aud": [project_id],
            "iss": issuer_for(project_id),
            "sub": session.user_id,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + SESSION_JWT_LIFETIME).timestamp()),
            SESSION_CLAIM: {
                "id": data["session_id"],
                "started_at": data["started_at"],
                "last_accessed_at": data["last_accessed_at"],
                "expires_at": data["expires_at"],
                "attributes": data["attributes"],
                "authentication_factors": data["authentication_factors"],
                "roles": data["roles"],
            },
        }
        return self.key.sign(claims)


def _with_factor(
    factors: tuple[AuthenticationFactor, ...], new: AuthenticationFactor
) -> tuple[AuthenticationFactor, ...]:
    """``factors`` with ``new`` added, or refreshing the factor of the same kind."""
    for index, factor in enumerate(factors):
        if (factor.type, factor.delivery_method) == (new.type, new.delivery_method):
            refreshed = attrs.evolve(new, created_at=factor.created_at)
            return (*factors[:index], refreshed, *factors[index + 1 :])
    return (*factors, new)
