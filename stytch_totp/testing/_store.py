"""Where the emulator keeps its records: the :class:`Store` interface and the in-memory store.

A store only keeps records; every rule (windows, locks, expiry) lives in ``_project.py``. The
SQLite store (``_sqlite_store.py``) implements the same interface, and both pass one test suite.
"""

from __future__ import annotations

from typing import Protocol

from ._records import ProjectRecord, SessionRecord, TOTPRecord, UserRecord

__all__ = ["MemoryStore", "Store"]


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

    def close(self) -> None:
        """Release what the store holds open."""


def _only_one(email: str | None, external_id: str | None) -> None:
    if (email is None) == (external_id is None):
        raise TypeError("find_user() takes exactly one of email= and external_id=")


class MemoryStore:
    """A :class:`Store` in dictionaries: fast, and gone when the process ends."""

    def __init__(self) -> None:
        self._project: ProjectRecord | None = None
        self._users: dict[str, UserRecord] = {}
        self._totps: dict[str, TOTPRecord] = {}
        self._sessions: dict[str, SessionRecord] = {}

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
        for user in self._users.values():
            if email is not None and user.email == email:
                return user
            if external_id is not None and user.external_id == external_id:
                return user
        return None

    def put_user(self, user: UserRecord) -> None:
        self._users[user.user_id] = user

    def get_totp(self, totp_id: str) -> TOTPRecord | None:
        return self._totps.get(totp_id)

    def totps_of(self, user_id: str) -> list[TOTPRecord]:
        # Dicts keep insertion order, which is creation order.
        return [totp for totp in self._totps.values() if totp.user_id == user_id]

    def put_totp(self, totp: TOTPRecord) -> None:
        self._totps[totp.totp_id] = totp

    def delete_totp(self, totp_id: str) -> None:
        self._totps.pop(totp_id, None)

    def get_session(self, session_id: str) -> SessionRecord | None:
        return self._sessions.get(session_id)

    def find_session(self, session_token: str) -> SessionRecord | None:
        for session in self._sessions.values():
            if session.session_token == session_token:
                return session
        return None

    def put_session(self, session: SessionRecord) -> None:
        self._sessions[session.session_id] = session

    def close(self) -> None:
        """Nothing to release."""
