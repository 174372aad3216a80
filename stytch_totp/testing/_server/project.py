"""The emulated Stytch project: every rule of the TOTP and sessions APIs, as a state machine.

Each public method takes validated params, reads and writes records through a
:class:`~stytch_totp.testing._server.store.Store`, reads time from a
:class:`~stytch_totp.testing._server.clock.Clock`, and returns the JSON body (built by
``bodies.py``) or raises an :class:`~stytch_totp.testing._server.errors.EmulatorError`. The HTTP
layer only moves JSON in and out. No I/O here, and no ``await``: each call is atomic.

Rules, with the choices made where Stytch does not document its behaviour (marked *inferred*):

* Codes are RFC 6238 (SHA1, 6 digits, 30 s); the previous and next steps are accepted. Once a code
  is accepted, codes of that step or an earlier one are refused with
  ``totp_code_already_authenticated`` (RFC 6238 §5.2), which does not count as a failed attempt.
* A new TOTP is unverified until its first successful authenticate; an unverified TOTP past its
  ``expiration_minutes`` (default 1440) is treated as gone. Creating a TOTP while a verified one
  exists fails with ``active_totp_exists``; while an unverified one is pending, it fails with
  ``pending_totp_exists`` or replaces it, as the project is configured (*inferred*, see
  :data:`PENDING_TOTP_CHOICES`).
* Recovery codes: 10 per TOTP, single use, valid only once the TOTP is verified (*inferred*); the
  recovery-codes endpoint lists the unused ones (*inferred*).
* Locks: 10 consecutive failed attempts (wrong TOTP code, or wrong or spent recovery code) lock
  the user for an hour; the 10th attempt already answers ``user_lock_limit_reached`` (*inferred*),
  as does every attempt while the lock lasts, even with a right code. A success resets the count.
* Sessions: ``session_duration_minutes`` starts one (or extends the one named by
  ``session_token``/``session_jwt`` to now + that many minutes); custom claims are merged (``null``
  deletes, reserved JWT claims are ignored). ``POST /v1/sessions/authenticate`` takes exactly one
  of the token and a JWT (expired JWTs included, while the session lives), extends the session
  only when given a duration, applies custom claims with or without one (*inferred*), and always
  answers with the token and a fresh JWT. Revoked and expired sessions are ``session_not_found``.
  Sessions carry the role ``stytch_user``, users only the roles they were given (*inferred*).
  Session JWTs live 5 minutes.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import string
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final, Literal, NoReturn, get_args
from urllib.parse import quote

import attrs

from ... import _jsoncodec as jsoncodec
from ..._config import SESSION_CUSTOM_CLAIMS_MAX_BYTES
from ..._core.totp_codes import code_at_step, decode_secret, time_step
from ..._exceptions import InvalidParamsError
from ..._models import AuthenticateParams, CreateParams, RecoverParams, RecoveryCodesParams
from .bodies import (
    AuthenticateBody,
    CreateTOTPBody,
    CreateUserBody,
    DeleteTOTPBody,
    DeleteUserBody,
    JWKSBody,
    RecoveryCodesBody,
    RevokeSessionBody,
    SessionAuthenticateBody,
    SessionBody,
    SessionsBody,
    UserBody,
    session_body,
    user_body,
)
from .clock import Clock
from .errors import EmulatorError
from .jwt import RESERVED_CLAIMS, SESSION_CLAIM, SigningKey, issuer_for
from .qr import qr_data_uri
from .records import (
    FactorRecord,
    NameRecord,
    ProjectRecord,
    RecoveryCodeRecord,
    SessionRecord,
    TOTPRecord,
    UserRecord,
)
from .requests import NewUser, SessionAuthenticateParams, SessionRevokeParams, check_new_user
from .store import Store

__all__ = [
    "DEFAULT_PROJECT_NAME",
    "PENDING_TOTP_CHOICES",
    "EmulatedProject",
    "PendingTOTP",
    "check_credentials",
    "check_pending_totp",
    "new_request_id",
]

DEFAULT_PROJECT_NAME: Final = "Stytch TOTP Emulator"
DEFAULT_EXPIRATION_MINUTES: Final = 1440
RECOVERY_CODE_COUNT: Final = 10
LOCK_THRESHOLD: Final = 10
LOCK_DURATION: Final = timedelta(hours=1)
SESSION_JWT_LIFETIME: Final = timedelta(minutes=5)
SESSION_ROLES: Final = ("stytch_user",)
#: Steps accepted on either side of the current one.
TOTP_WINDOW: Final = 1

#: What ``create`` does while the user's previous TOTP is still unverified: ``"refuse"`` answers
#: 400 ``pending_totp_exists``, ``"replace"`` deletes the pending one and creates a new one.
PendingTOTP = Literal["refuse", "replace"]
PENDING_TOTP_CHOICES: Final[tuple[PendingTOTP, ...]] = get_args(PendingTOTP)

_RECOVERY_ALPHABET: Final = string.ascii_lowercase + string.digits
# Random bytes become recovery-code characters through one translate(): the 252 lowest values
# map to the 36 characters 7 times each (uniformly), the 4 highest are dropped.
_USABLE_BYTES: Final = len(_RECOVERY_ALPHABET) * (256 // len(_RECOVERY_ALPHABET))
_TO_RECOVERY_CHARACTERS: Final = bytes(
    ord(_RECOVERY_ALPHABET[value % len(_RECOVERY_ALPHABET)]) if value < _USABLE_BYTES else 0
    for value in range(256)
)
_UNUSABLE_BYTES: Final = bytes(range(_USABLE_BYTES, 256))
_RECOVERY_CODE_CHARACTERS: Final = 12


# A random (version 4) UUID: these bits cleared, then the version and variant bits set.
_UUID4_CLEAR: Final = ~(0xF << 76) & ~(0x3 << 62)
_UUID4_SET: Final = (4 << 76) | (0x2 << 62)
_UUID_BITS: Final = (1 << 128) - 1


def _new_ids(kind: str, count: int) -> list[str]:
    """``count`` ids ``<kind>-test-<uuid4>``, from one draw of random bytes (a create needs 12)."""
    drawn = int.from_bytes(secrets.token_bytes(16 * count))
    ids = []
    for index in range(count):
        hex_ = f"{(drawn >> (128 * index)) & _UUID_BITS & _UUID4_CLEAR | _UUID4_SET:032x}"
        ids.append(f"{kind}-test-{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}")
    return ids


def _new_id(kind: str) -> str:
    return _new_ids(kind, 1)[0]


def new_request_id() -> str:
    """A fresh ``request_id``."""
    return _new_id("request-id")


def _new_secret() -> str:
    # 20 random bytes are exactly 32 base32 characters, with no padding.
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def _new_recovery_codes(count: int) -> list[str]:
    """``count`` codes ``xxxx-xxxx-xxxx`` of uniformly random lowercase letters and digits."""
    needed = count * _RECOVERY_CODE_CHARACTERS
    characters = b""
    while len(characters) < needed:
        # 1.5x what is needed: the dropped bytes (4 in 256) practically never make it short.
        drawn = secrets.token_bytes(needed + needed // 2)
        characters += drawn.translate(_TO_RECOVERY_CHARACTERS, _UNUSABLE_BYTES)
    text = characters[:needed].decode("ascii")
    return [
        f"{text[at : at + 4]}-{text[at + 4 : at + 8]}-{text[at + 8 : at + 12]}"
        for at in range(0, needed, _RECOVERY_CODE_CHARACTERS)
    ]


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


def check_pending_totp(pending_totp: object) -> PendingTOTP:
    """``pending_totp`` if it is one of :data:`PENDING_TOTP_CHOICES`."""
    for choice in PENDING_TOTP_CHOICES:
        if pending_totp == choice:
            return choice
    raise InvalidParamsError("pending_totp", f"must be one of {', '.join(PENDING_TOTP_CHOICES)}")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _merged_claims(current: Mapping[str, Any], changes: Mapping[str, Any] | None) -> dict[str, Any]:
    """``current`` with ``changes`` applied: ``null`` deletes, reserved JWT claims are ignored."""
    claims = dict(current)
    for name, value in (changes or {}).items():
        if name in RESERVED_CLAIMS:
            continue
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    if len(jsoncodec.dumps(claims)) > SESSION_CUSTOM_CLAIMS_MAX_BYTES:
        raise EmulatorError("custom_claims_too_large")
    return claims


@attrs.frozen
class _SessionPlan:
    """What a successful authentication will do to sessions, checked before the code is spent."""

    existing: SessionRecord | None
    duration_minutes: int | None
    custom_claims: Mapping[str, Any]


class EmulatedProject:
    """One Stytch project's users, TOTPs and sessions, and the rules that govern them."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        project: ProjectRecord,
        *,
        pending_totp: PendingTOTP = "refuse",
    ) -> None:
        self._store = store
        self._clock = clock
        self.record = project
        self.key = SigningKey(project.signing_key_pem)
        self.pending_totp = check_pending_totp(pending_totp)
        self._quoted_issuer = quote(project.project_name, safe="")

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
        pending_totp: PendingTOTP = "refuse",
    ) -> EmulatedProject:
        """The project kept in ``store``, or a new one saved there.

        Credentials not given are generated; a store that already holds a project keeps its
        credentials and key, and refuses different ones. Unusable credentials (empty, or a
        ``project_id`` with ``':'``) raise :class:`InvalidParamsError`.
        """
        check_credentials(project_id, secret)
        check_pending_totp(pending_totp)
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
        return cls(store, clock, record, pending_totp=pending_totp)

    # ----------------------------------------------------------------------------------------
    # Credentials and keys
    # ----------------------------------------------------------------------------------------

    def credentials_match(self, project_id: str, secret: str) -> bool:
        """Whether Basic-auth credentials are this project's; both compared in constant time."""
        id_ok = _same(project_id, self.record.project_id)
        secret_ok = _same(secret, self.record.secret)
        return id_ok and secret_ok

    def jwks(self, project_id: str) -> JWKSBody:
        """``GET /v1/sessions/jwks/{project_id}``: the key that verifies session JWTs."""
        if project_id != self.record.project_id:
            raise EmulatorError("project_not_found")
        return {"status_code": 200, "request_id": new_request_id(), "keys": [self.key.jwk()]}

    # ----------------------------------------------------------------------------------------
    # Users
    # ----------------------------------------------------------------------------------------

    def create_user(self, new_user: NewUser) -> CreateUserBody:
        """``POST /v1/users``."""
        check_new_user(new_user)
        if new_user.email is not None and self._store.find_user(email=new_user.email):
            raise EmulatorError("duplicate_email")
        if new_user.external_id is not None and self._store.find_user(
            external_id=new_user.external_id
        ):
            raise EmulatorError("duplicate_external_id")
        name = new_user.name
        now = self._now()
        user = UserRecord(
            user_id=_new_id("user"),
            created_at=now,
            status="pending" if new_user.create_user_as_pending else "active",
            email=new_user.email,
            email_id=_new_id("email") if new_user.email is not None else None,
            phone_number=new_user.phone_number,
            phone_id=_new_id("phone-number") if new_user.phone_number is not None else None,
            name=NameRecord(
                first_name=(name.first_name or "") if name else "",
                middle_name=(name.middle_name or "") if name else "",
                last_name=(name.last_name or "") if name else "",
            ),
            external_id=new_user.external_id,
            trusted_metadata=new_user.trusted_metadata,
            untrusted_metadata=new_user.untrusted_metadata,
            roles=new_user.roles,
        )
        self._store.put_user(user)
        return {
            "status_code": 200,
            "request_id": new_request_id(),
            "user_id": user.user_id,
            "email_id": user.email_id or "",
            "status": user.status,
            "phone_id": user.phone_id or "",
            "user": self._user_body(user, now),
        }

    def ensure_users(self, emails: list[str]) -> list[str]:
        """The ids of users with these emails, creating those that do not exist yet."""
        user_ids = []
        with self._store.batch():
            for email in emails:
                existing = self._store.find_user(email=email)
                if existing is not None:
                    user_ids.append(existing.user_id)
                else:
                    user_ids.append(self.create_user(NewUser(email=email))["user_id"])
        return user_ids

    def get_user(self, user_id: str) -> dict[str, Any]:
        """``GET /v1/users/{user_id}``: the user's fields at the top level."""
        user = self._resolve_user(user_id)
        return {
            "status_code": 200,
            "request_id": new_request_id(),
            **self._user_body(user, self._now()),
        }

    def delete_user(self, user_id: str) -> DeleteUserBody:
        """``DELETE /v1/users/{user_id}``: the user, their TOTPs and their sessions."""
        user = self._resolve_user(user_id)
        self._store.delete_user(user.user_id)
        return {"status_code": 200, "request_id": new_request_id(), "user_id": user.user_id}

    def delete_totp(self, totp_id: str) -> DeleteTOTPBody:
        """``DELETE /v1/users/totps/{totp_id}``."""
        totp = self._store.get_totp(totp_id)
        if totp is None:
            raise EmulatorError("totp_not_found")
        self._store.delete_totp(totp_id)
        user = self._resolve_user(totp.user_id)
        return {
            "status_code": 200,
            "request_id": new_request_id(),
            "user_id": user.user_id,
            "user": self._user_body(user, self._now()),
        }

    # ----------------------------------------------------------------------------------------
    # TOTPs
    # ----------------------------------------------------------------------------------------

    def create_totp(self, params: CreateParams) -> CreateTOTPBody:
        """``POST /v1/totps``."""
        now = self._now()
        user = self._resolve_user(params.user_id)
        for existing in self._store.totps_of(user.user_id):
            if existing.verified:
                raise EmulatorError("active_totp_exists")
            if existing.expires_at > now and self.pending_totp == "refuse":
                raise EmulatorError("pending_totp_exists")
            # Expired, or replaced: the abandoned enrollment goes.
            self._store.delete_totp(existing.totp_id)
        minutes = params.expiration_minutes or DEFAULT_EXPIRATION_MINUTES
        codes = _new_recovery_codes(RECOVERY_CODE_COUNT)
        code_ids = _new_ids("totp-recovery-code", RECOVERY_CODE_COUNT)
        totp = TOTPRecord(
            totp_id=_new_id("totp"),
            user_id=user.user_id,
            secret=_new_secret(),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
            recovery_codes=tuple(map(RecoveryCodeRecord, code_ids, codes)),
        )
        self._store.put_totp(totp)
        uri = self._otpauth_uri(totp.secret, user.email or user.phone_number or user.user_id)
        return {
            "status_code": 200,
            "request_id": new_request_id(),
            "secret": totp.secret,
            "totp_id": totp.totp_id,
            "qr_code": qr_data_uri(uri),
            "recovery_codes": codes,
            "user_id": user.user_id,
            "user": user_body(user, (totp,), now),
        }

    def _otpauth_uri(self, secret: str, account: str) -> str:
        """What the QR code holds: label ``issuer:account``, the issuer repeated as a parameter.

        The form of the URI in the QR code of a Stytch TOTP (decoded from one in Stytch's
        browser SDK's tests); the project name is the issuer, the user's email the account.
        """
        issuer = self._quoted_issuer
        return (
            f"otpauth://totp/{issuer}:{quote(account, safe='@')}?algorithm=SHA1&digits=6"
            f"&period=30&secret={secret}&issuer={issuer}"
        )

    def authenticate(self, params: AuthenticateParams) -> AuthenticateBody:
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
        factor = FactorRecord(
            type="totp",
            delivery_method="authenticator_app",
            created_at=now,
            last_authenticated_at=now,
            totp_id=totp.totp_id,
        )
        return self._signed_in(plan, user, totp, factor, now)

    def recovery_codes(self, params: RecoveryCodesParams) -> RecoveryCodesBody:
        """``POST /v1/totps/recovery_codes``: the user's TOTPs with their unused codes."""
        now = self._now()
        user = self._resolve_user(params.user_id)
        totps = self._live_totps(user.user_id, now)
        if not totps:
            raise EmulatorError("totps_not_found_for_user")
        return {
            "status_code": 200,
            "request_id": new_request_id(),
            "user_id": user.user_id,
            "totps": [
                {
                    "totp_id": totp.totp_id,
                    "verified": totp.verified,
                    "recovery_codes": [
                        code.code for code in totp.recovery_codes if code.used_at is None
                    ],
                }
                for totp in totps
            ],
        }

    def recover(self, params: RecoverParams) -> AuthenticateBody:
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
        factor = FactorRecord(
            type="recovery_codes",
            delivery_method="recovery_code",
            created_at=now,
            last_authenticated_at=now,
            recovery_code_id=matched.recovery_code_id,
        )
        return self._signed_in(plan, user, totp, factor, now)

    def _signed_in(
        self,
        plan: _SessionPlan | None,
        user: UserRecord,
        totp: TOTPRecord,
        factor: FactorRecord,
        now: datetime,
    ) -> AuthenticateBody:
        """The end of a successful authenticate or recover: reset failures, session, response."""
        user = self._succeed(user)
        session: SessionBody | None = None
        token = jwt = ""
        if plan is not None:
            record = self._apply_session(plan, user, factor, now)
            session = session_body(record)
            token, jwt = record.session_token, self._session_jwt(record, session, now)
        return {
            "status_code": 200,
            "request_id": new_request_id(),
            "totp_id": totp.totp_id,
            "session": session,
            "session_jwt": jwt,
            "session_token": token,
            "user": self._user_body(user, now),
            "user_id": user.user_id,
        }

    # ----------------------------------------------------------------------------------------
    # Sessions
    # ----------------------------------------------------------------------------------------

    def authenticate_session(self, params: SessionAuthenticateParams) -> SessionAuthenticateBody:
        """``POST /v1/sessions/authenticate``: check a session, maybe extend it, new JWT."""
        now = self._now()
        session = self._session_named_by(params.session_token, params.session_jwt, now)
        if session is None:  # the request parser lets no request name no session
            raise EmulatorError("no_session_arguments")
        user = self._store.get_user(session.user_id)
        if user is None:
            raise EmulatorError("session_not_found")
        duration = params.session_duration_minutes
        record = attrs.evolve(
            session,
            last_accessed_at=now,
            expires_at=now + timedelta(minutes=duration) if duration else session.expires_at,
            custom_claims=_merged_claims(session.custom_claims, params.session_custom_claims),
        )
        self._store.put_session(record)
        body = session_body(record)
        return {
            "status_code": 200,
            "request_id": new_request_id(),
            "session": body,
            "session_jwt": self._session_jwt(record, body, now),
            "session_token": record.session_token,
            "user": self._user_body(user, now),
        }

    def revoke_session(self, params: SessionRevokeParams) -> RevokeSessionBody:
        """``POST /v1/sessions/revoke``: the session ends at once, its token and JWTs with it."""
        now = self._now()
        if params.session_id is not None:
            session = self._store.get_session(params.session_id)
            if session is None or session.expires_at <= now:
                raise EmulatorError("session_not_found")
        else:
            session = self._session_named_by(params.session_token, params.session_jwt, now)
            if session is None:  # the request parser lets no request name no session
                raise EmulatorError("no_session_arguments")
        self._store.delete_session(session.session_id)
        return {"status_code": 200, "request_id": new_request_id()}

    def list_sessions(self, user_id: str) -> SessionsBody:
        """``GET /v1/sessions?user_id=``: the user's live sessions."""
        now = self._now()
        user = self._resolve_user(user_id)
        return {
            "status_code": 200,
            "request_id": new_request_id(),
            "sessions": [
                session_body(session)
                for session in self._store.sessions_of(user.user_id)
                if session.expires_at > now
            ],
        }

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

    def _user_body(self, user: UserRecord, now: datetime) -> UserBody:
        return user_body(user, self._live_totps(user.user_id, now), now)

    # ----------------------------------------------------------------------------------------
    # Sessions: naming, starting, extending, JWTs
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
        current = existing.custom_claims if existing is not None else {}
        # Custom claims are applied only along with a duration, as Stytch documents.
        changes = params.session_custom_claims if duration is not None else None
        return _SessionPlan(existing, duration, _merged_claims(current, changes))

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
        self, plan: _SessionPlan, user: UserRecord, factor: FactorRecord, now: datetime
    ) -> SessionRecord:
        """Start or extend the planned session, and save it."""
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
        return record

    def _session_jwt(self, record: SessionRecord, body: SessionBody, now: datetime) -> str:
        project_id = self.record.project_id
        claims: dict[str, Any] = {
            **record.custom_claims,
            "aud": [project_id],
            "iss": issuer_for(project_id),
            "sub": record.user_id,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + SESSION_JWT_LIFETIME).timestamp()),
            SESSION_CLAIM: {
                "id": body["session_id"],
                "started_at": body["started_at"],
                "last_accessed_at": body["last_accessed_at"],
                "expires_at": body["expires_at"],
                "attributes": body["attributes"],
                "authentication_factors": body["authentication_factors"],
                "roles": body["roles"],
            },
        }
        return self.key.sign(claims)


def _with_factor(factors: tuple[FactorRecord, ...], new: FactorRecord) -> tuple[FactorRecord, ...]:
    """``factors`` with ``new`` added, or refreshing the factor of the same kind."""
    for index, factor in enumerate(factors):
        if (factor.type, factor.delivery_method) == (new.type, new.delivery_method):
            refreshed = attrs.evolve(new, created_at=factor.created_at)
            return (*factors[:index], refreshed, *factors[index + 1 :])
    return (*factors, new)
