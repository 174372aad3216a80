"""A :class:`~stytch_totp.testing._server.store.Store` in an SQLite file, so state survives restarts.

Each record is one row: its JSON (written by the SDK's converter) plus the columns it is looked
up by. The file holds the project secret and signing key, so it is created readable by its owner
only, and an existing file readable by others is made owner-only before anything is written.
Sessions are looked up by the SHA-256 of their token, so a lookup takes no longer for a token
that shares a prefix with a real one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, TypeVar

from ... import _jsoncodec as jsoncodec
from ..._core.converter import converter
from .records import ProjectRecord, SessionRecord, TOTPRecord, UserRecord

__all__ = ["SqliteStore"]

T = TypeVar("T")

#: 2: sessions are looked up by ``token_hash``, the SHA-256 of their token.
#: 3: records of the emulator's own (names with ``""`` parts, factors), sessions by user.
SCHEMA_VERSION: Final = 3

_META: Final = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
# Created once the version is known to be this one: another version's tables may differ.
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, email TEXT, external_id TEXT, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS users_email ON users (email);
CREATE INDEX IF NOT EXISTS users_external_id ON users (external_id);
CREATE TABLE IF NOT EXISTS totps (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS totps_user_id ON totps (user_id);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, token_hash BLOB NOT NULL UNIQUE,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user_id ON sessions (user_id);
"""


def _dump(record: Any) -> str:
    return jsoncodec.dumps(converter.unstructure(record)).decode()


def _load(text: str, record_type: type[T]) -> T:
    return converter.structure(jsoncodec.loads(text), record_type)


def _token_hash(session_token: str) -> bytes:
    return hashlib.sha256(session_token.encode()).digest()


def _make_private(path: Path) -> None:
    """Create ``path`` owner-only, or take group and other access away from an existing file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        # Created owner-only before SQLite opens it: it will hold the project secret.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        return
    if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077:
        path.chmod(stat.S_IMODE(info.st_mode) & 0o700)


class SqliteStore:
    """Records in the SQLite database at ``path`` (created if missing)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        _make_private(self._path)
        # Autocommit: every put is durable on its own, which is all the emulator needs.
        self._db = sqlite3.connect(self._path, isolation_level=None)
        try:
            self._db.executescript(_META)
            self._check_schema_version()
            self._db.executescript(_SCHEMA)
        except BaseException:
            self._db.close()
            raise

    def __repr__(self) -> str:
        return f"<SqliteStore {str(self._path)!r}>"

    def _check_schema_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        elif row[0] != str(SCHEMA_VERSION):
            raise ValueError(
                f"{self._path} was written by another version of the emulator "
                f"(schema {row[0]}, expected {SCHEMA_VERSION}); use a new state file"
            )

    def load_project(self) -> ProjectRecord | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'project'").fetchone()
        return None if row is None else _load(row[0], ProjectRecord)

    def save_project(self, project: ProjectRecord) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('project', ?)", (_dump(project),)
        )

    def get_user(self, user_id: str) -> UserRecord | None:
        row = self._db.execute("SELECT data FROM users WHERE id = ?", (user_id,)).fetchone()
        return None if row is None else _load(row[0], UserRecord)

    def find_user(
        self, *, email: str | None = None, external_id: str | None = None
    ) -> UserRecord | None:
        if (email is None) == (external_id is None):
            raise TypeError("find_user() takes exactly one of email= and external_id=")
        if email is not None:
            row = self._db.execute(
                "SELECT data FROM users WHERE email = ? LIMIT 1", (email,)
            ).fetchone()
        else:
            row = self._db.execute(
                "SELECT data FROM users WHERE external_id = ? LIMIT 1", (external_id,)
            ).fetchone()
        return None if row is None else _load(row[0], UserRecord)

    def put_user(self, user: UserRecord) -> None:
        self._db.execute(
            "INSERT INTO users (id, email, external_id, data) VALUES (?, ?, ?, ?) ON CONFLICT (id)"
            " DO UPDATE SET email = excluded.email, external_id = excluded.external_id,"
            " data = excluded.data",
            (user.user_id, user.email, user.external_id, _dump(user)),
        )

    def delete_user(self, user_id: str) -> None:
        with self.batch():
            for table, column in (("sessions", "user_id"), ("totps", "user_id"), ("users", "id")):
                self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (user_id,))  # noqa: S608 - constant names

    def get_totp(self, totp_id: str) -> TOTPRecord | None:
        row = self._db.execute("SELECT data FROM totps WHERE id = ?", (totp_id,)).fetchone()
        return None if row is None else _load(row[0], TOTPRecord)

    def totps_of(self, user_id: str) -> list[TOTPRecord]:
        rows = self._db.execute(
            "SELECT data FROM totps WHERE user_id = ? ORDER BY created_at, rowid", (user_id,)
        ).fetchall()
        return [_load(row[0], TOTPRecord) for row in rows]

    def put_totp(self, totp: TOTPRecord) -> None:
        self._db.execute(
            # An upsert, not a replace: the row keeps its rowid, which orders same-second TOTPs.
            "INSERT INTO totps (id, user_id, created_at, data) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (totp.totp_id, totp.user_id, totp.created_at.isoformat(), _dump(totp)),
        )

    def delete_totp(self, totp_id: str) -> None:
        self._db.execute("DELETE FROM totps WHERE id = ?", (totp_id,))

    def get_session(self, session_id: str) -> SessionRecord | None:
        row = self._db.execute("SELECT data FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else _load(row[0], SessionRecord)

    def find_session(self, session_token: str) -> SessionRecord | None:
        row = self._db.execute(
            "SELECT data FROM sessions WHERE token_hash = ?", (_token_hash(session_token),)
        ).fetchone()
        return None if row is None else _load(row[0], SessionRecord)

    def put_session(self, session: SessionRecord) -> None:
        self._db.execute(
            "INSERT INTO sessions (id, user_id, token_hash, data) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash,"
            " data = excluded.data",
            (
                session.session_id,
                session.user_id,
                _token_hash(session.session_token),
                _dump(session),
            ),
        )

    def sessions_of(self, user_id: str) -> list[SessionRecord]:
        rows = self._db.execute(
            "SELECT data FROM sessions WHERE user_id = ? ORDER BY rowid", (user_id,)
        ).fetchall()
        return [_load(row[0], SessionRecord) for row in rows]

    def delete_session(self, session_id: str) -> None:
        self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for the writes inside (nested batches join the outer one)."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
