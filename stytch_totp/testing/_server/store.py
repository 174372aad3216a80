"""Where the emulator keeps its records: the :class:`Store` interface and the in-memory store.

A store only keeps records; every rule (windows, locks, expiry) lives in ``_project.py``. The
SQLite store (``_sqlite_store.py``) implements the same interface, and both pass one test suite.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Iterator
from typing import Protocol, TypeVar

from .records import ProjectRecord, SessionRecord, TOTPRecord, UserRecord

__all__ = ["MemoryStore", "Store"]

_K = TypeVar("_K")


class Store(Protocol):
    """Persistence of one emulated project's records. Every ``put_*`` inserts or replaces."""

    def load_project(self) -> ProjectRecord | None:
        """The project, or ``None`` for a new, empty store."""

    def save_project(self, project: ProjectRecord) -> None:
        """Remember the project (credentials and signing key)."""

    def get_user(self, user_id: str) -> UserRecord | None:
        """The user with this id, if any."""

    def find_user(
        self, *, email: str | None = None, external_id: str | None = None
    ) -> UserRecord | None:
        """The user with this email address or external id (exactly one must be given)."""

    def put_user(self, user: UserRecord) -> None:
        """Insert or replace a user."""

    def delete_user(self, user_id: str) -> None:
        """Forget a user with their TOTPs and sessions."""

    def get_totp(self, totp_id: str) -> TOTPRecord | None:
        """The TOTP registration with this id, if any."""

    def totps_of(self, user_id: str) -> list[TOTPRecord]:
        """A user's TOTP registrations, oldest first."""

    def put_totp(self, totp: TOTPRecord) -> None:
        """Insert or replace a TOTP registration."""

    def delete_totp(self, totp_id: str) -> None:
        """Forget a TOTP registration and its recovery codes."""

    def get_session(self, session_id: str) -> SessionRecord | None:
        """The session with this id, if any."""

    def find_session(self, session_token: str) -> SessionRecord | None:
        """The session with this token, if any."""

    def put_session(self, session: SessionRecord) -> None:
        """Insert or replace a session."""

    def sessions_of(self, user_id: str) -> list[SessionRecord]:
        """A user's sessions (live or not), oldest first."""

    def delete_session(self, session_id: str) -> None:
        """Forget a session."""

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Group many writes: an SQLite store commits them once, at the end."""

    def close(self) -> None:
        """Release what the store holds open."""


def _only_one(email: str | None, external_id: str | None) -> None:
    if (email is None) == (external_id is None):
        raise TypeError("find_user() takes exactly one of email= and external_id=")


def _token_hash(session_token: str) -> bytes:
    return hashlib.sha256(session_token.encode()).digest()


class MemoryStore:
    """A :class:`Store` in dictionaries: fast, and gone when the process ends.

    Every lookup goes through an index kept up to date by ``put_*`` and ``delete_*``. Sessions
    are indexed by the SHA-256 of their token, and the token is then compared in constant time,
    so a lookup takes no longer for a token that shares a prefix with a real one.
    """

    def __init__(self) -> None:
        self._project: ProjectRecord | None = None
        self._users: dict[str, UserRecord] = {}
        self._user_by_email: dict[str, str] = {}
        self._user_by_external_id: dict[str, str] = {}
        self._totps: dict[str, TOTPRecord] = {}
        # user_id -> that user's totp_ids, as dict keys: in insertion order, which is creation order.
        self._totps_by_user: dict[str, dict[str, None]] = {}
        self._sessions: dict[str, SessionRecord] = {}
        self._session_by_token_hash: dict[bytes, str] = {}
        self._sessions_by_user: dict[str, dict[str, None]] = {}

    def __repr__(self) -> str:
        return f"<MemoryStore: {len(self._users)} users, {len(self._totps)} TOTPs>"

    def load_project(self) -> ProjectRecord | None:
        return self._project

    def save_project(self, project: ProjectRecord) -> None:
        self._project = project

    def get_user(self, user_id: str) -> UserRecord | None:
        return self._users.get(user_id)

    def find_user(
        self, *, email: str | None = None, external_id: str | None = None
    ) -> UserRecord | None:
        _only_one(email, external_id)
        if email is not None:
            user_id = self._user_by_email.get(email)
        else:
            assert external_id is not None  # checked by _only_one
            user_id = self._user_by_external_id.get(external_id)
        return None if user_id is None else self._users[user_id]

    def put_user(self, user: UserRecord) -> None:
        old = self._users.get(user.user_id)
        if old is not None:
            _unindex(self._user_by_email, old.email, old.user_id)
            _unindex(self._user_by_external_id, old.external_id, old.user_id)
        self._users[user.user_id] = user
        if user.email is not None:
            self._user_by_email.setdefault(user.email, user.user_id)
        if user.external_id is not None:
            self._user_by_external_id.setdefault(user.external_id, user.user_id)

    def delete_user(self, user_id: str) -> None:
        user = self._users.pop(user_id, None)
        if user is None:
            return
        _unindex(self._user_by_email, user.email, user_id)
        _unindex(self._user_by_external_id, user.external_id, user_id)
        for totp_id in list(self._totps_by_user.get(user_id, ())):
            self.delete_totp(totp_id)
        for session_id in list(self._sessions_by_user.get(user_id, ())):
            self.delete_session(session_id)

    def get_totp(self, totp_id: str) -> TOTPRecord | None:
        return self._totps.get(totp_id)

    def totps_of(self, user_id: str) -> list[TOTPRecord]:
        return [self._totps[totp_id] for totp_id in self._totps_by_user.get(user_id, ())]

    def put_totp(self, totp: TOTPRecord) -> None:
        old = self._totps.get(totp.totp_id)
        if old is not None and old.user_id != totp.user_id:
            self._forget_totp_of(old)
        self._totps[totp.totp_id] = totp
        self._totps_by_user.setdefault(totp.user_id, {})[totp.totp_id] = None

    def delete_totp(self, totp_id: str) -> None:
        old = self._totps.pop(totp_id, None)
        if old is not None:
            self._forget_totp_of(old)

    def _forget_totp_of(self, totp: TOTPRecord) -> None:
        ids = self._totps_by_user.get(totp.user_id, {})
        ids.pop(totp.totp_id, None)
        if not ids:
            self._totps_by_user.pop(totp.user_id, None)

    def get_session(self, session_id: str) -> SessionRecord | None:
        return self._sessions.get(session_id)

    def find_session(self, session_token: str) -> SessionRecord | None:
        session_id = self._session_by_token_hash.get(_token_hash(session_token))
        session = None if session_id is None else self._sessions.get(session_id)
        if session is None or not hmac.compare_digest(
            session.session_token.encode(), session_token.encode()
        ):
            return None
        return session

    def put_session(self, session: SessionRecord) -> None:
        old = self._sessions.get(session.session_id)
        if old is not None:
            _unindex(self._session_by_token_hash, _token_hash(old.session_token), old.session_id)
        self._sessions[session.session_id] = session
        self._session_by_token_hash[_token_hash(session.session_token)] = session.session_id
        self._sessions_by_user.setdefault(session.user_id, {})[session.session_id] = None

    def sessions_of(self, user_id: str) -> list[SessionRecord]:
        return [self._sessions[sid] for sid in self._sessions_by_user.get(user_id, ())]

    def delete_session(self, session_id: str) -> None:
        old = self._sessions.pop(session_id, None)
        if old is None:
            return
        _unindex(self._session_by_token_hash, _token_hash(old.session_token), session_id)
        ids = self._sessions_by_user.get(old.user_id, {})
        ids.pop(session_id, None)
        if not ids:
            self._sessions_by_user.pop(old.user_id, None)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Nothing to group: every write is done when it returns."""
        yield

    def close(self) -> None:
        """Nothing to release."""


def _unindex(index: dict[_K, str], key: _K | None, record_id: str) -> None:
    """Remove ``key`` from ``index`` if it still points to ``record_id``."""
    if key is not None and index.get(key) == record_id:
        del index[key]
