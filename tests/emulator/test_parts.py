"""The emulator's small parts: the clock, fault specs, the request log, the SQLite file."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from stytch_totp import InvalidParamsError
from stytch_totp.testing import Clock, EmulatorError, Fault
from stytch_totp.testing._server.errors import ERRORS, default_error_type, error_url
from stytch_totp.testing._server.faults import Faults, RequestLog
from stytch_totp.testing._server.records import SessionRecord, TOTPRecord, UserRecord
from stytch_totp.testing._server.sqlite_store import SCHEMA_VERSION, SqliteStore
from stytch_totp.testing._server.store import Store
from tests.emulator.conftest import START


def test_a_new_clock_follows_real_time() -> None:
    clock = Clock()
    before = datetime.now(UTC)
    now = clock.now()
    assert before <= now <= datetime.now(UTC)
    assert now.tzinfo is not None
    assert not clock.stopped


def test_set_stops_the_clock_and_advance_moves_it() -> None:
    clock = Clock()
    clock.set(START)
    assert clock.stopped
    assert clock.now() == START
    clock.advance(90)
    assert clock.now() == START + timedelta(seconds=90)
    clock.advance(-30)
    assert clock.now() == START + timedelta(seconds=60)


def test_a_running_clock_can_be_moved_and_a_stopped_one_resumed() -> None:
    clock = Clock()
    clock.advance(3600)
    assert clock.now() - datetime.now(UTC) > timedelta(minutes=59)
    clock.set(START)
    clock.resume()
    assert not clock.stopped
    assert START <= clock.now() < START + timedelta(minutes=1)


def test_the_clock_refuses_naive_times_and_non_numbers() -> None:
    with pytest.raises(InvalidParamsError):
        Clock(datetime(2030, 1, 1))
    with pytest.raises(InvalidParamsError):
        Clock().advance("30")  # type: ignore[arg-type]
    assert "stopped" in repr(Clock(START))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "status"),
        ({"status": 302}, "status"),
        ({"status": True}, "status"),
        ({"status": 500, "drop_connection": True}, "drop_connection"),
        ({"error_type": "too_many_requests"}, "error_type"),
        ({"retry_after": 1}, "retry_after"),
        ({"status": 429, "retry_after": object()}, "retry_after"),
        ({"status": 429, "retry_after": True}, "retry_after"),
        ({"status": 429, "retry_after": -5}, "retry_after"),
        ({"status": 429, "retry_after": float("nan")}, "retry_after"),
        ({"status": 429, "retry_after": float("inf")}, "retry_after"),
        ({"status": 500, "times": 0}, "times"),
        ({"status": 500, "delay": -1}, "delay"),
        ({"status": 500, "delay": float("inf")}, "delay"),
    ],
)
def test_faults_are_checked(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        Fault.build("/v1/totps", **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_faults_apply_in_order_and_count_down() -> None:
    faults = Faults()
    first = faults.add(Fault.build("v1/totps", status=503, times=2, retry_after=1.5))
    forever = faults.add(Fault.build("*", delay=0.1, times=None))
    assert first.path == "/v1/totps"
    assert first.retry_after == "2"
    assert faults.take("/v1/totps") is first
    assert faults.take("/v1/totps/recover") is forever
    assert faults.take("/v1/totps") is first
    assert first.remaining == 0
    assert faults.take("/v1/totps") is forever
    assert len(faults) == 1
    faults.clear()
    assert faults.take("/v1/totps") is None


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(0, "0"), (0.1, "1"), (30, "30"), (2.0, "2"), (1234567, "1234567"), ("0.2", "0.2")],
)
def test_retry_after_seconds_are_sent_as_whole_seconds(
    retry_after: float | str, header: str
) -> None:
    assert Fault.build("/v1/totps", status=429, retry_after=retry_after).retry_after == header


def test_the_request_log_counts_per_path() -> None:
    log = RequestLog()
    for path in ("/v1/totps", "/v1/totps", "/v1/users"):
        log.record(path)
    assert (log.count("v1/totps"), log.count("/v1/users"), log.count(), log.count("/x")) == (
        2,
        1,
        3,
        0,
    )


def test_every_error_type_has_a_status_and_a_documentation_link() -> None:
    for error_type, (status, message) in ERRORS.items():
        assert 400 <= status <= 599
        assert message
        assert error_url(status, error_type).startswith(
            f"https://stytch.com/docs/api/errors/{status}"
        )


@pytest.mark.parametrize(
    ("error_type", "url"),
    [
        # As published (tests/examples): the errors every route shares link to the status page,
        ("unauthorized_credentials", "https://stytch.com/docs/api/errors/401"),
        ("too_many_requests", "https://stytch.com/docs/api/errors/429"),
        ("internal_server_error", "https://stytch.com/docs/api/errors/500"),
        # the others to their own entry (published 400; Stytch's SDK tests for a 401 and a 404).
        ("active_totp_exists", "https://stytch.com/docs/api/errors/400#active_totp_exists"),
        (
            "unable_to_authenticate_totp",
            "https://stytch.com/docs/api/errors/401#unable_to_authenticate_totp",
        ),
        ("user_not_found", "https://stytch.com/docs/api/errors/404#user_not_found"),
        (
            "user_lock_limit_reached",
            "https://stytch.com/docs/api/errors/429#user_lock_limit_reached",
        ),
    ],
)
def test_error_urls_link_as_stytchs_do(error_type: str, url: str) -> None:
    assert error_url(ERRORS[error_type][0], error_type) == url
    assert (default_error_type(503), default_error_type(418), default_error_type(599)) == (
        "service_unavailable",
        "bad_request",
        "internal_server_error",
    )
    with pytest.raises(ValueError, match="catalog"):
        EmulatorError("made_up")
    assert EmulatorError("made_up", status=418).message == "HTTP 418 made_up."


def test_the_state_file_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteStore(path).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_an_existing_state_file_is_made_private_before_secrets_go_in(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()
    path.chmod(0o644)  # as `touch` or another program may have left it
    SqliteStore(path).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    path.chmod(0o664)  # a state file already in use, made readable since
    SqliteStore(path).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_state_file_path_that_is_a_directory_keeps_its_permissions(tmp_path: Path) -> None:
    directory = tmp_path / "shared"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    with pytest.raises((OSError, sqlite3.Error)):
        SqliteStore(directory)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o755


def test_a_file_that_is_not_a_state_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are not the droids you are looking for" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        SqliteStore(path)


def test_a_state_file_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    db.close()
    with pytest.raises(ValueError, match="schema 999"):
        SqliteStore(path)


def test_a_state_file_of_schema_1_is_refused(tmp_path: Path) -> None:
    # Version 1 kept session tokens in clear in a looked-up column.
    path = tmp_path / "state.db"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema_version', '1');"
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE,"
            " data TEXT NOT NULL);"
        )
    with pytest.raises(ValueError, match=f"schema 1, expected {SCHEMA_VERSION}"):
        SqliteStore(path)


@pytest.mark.parametrize("refusal", ["not a state file", "another schema"])
def test_a_refused_state_file_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refusal: str
) -> None:
    path = tmp_path / "state.db"
    if refusal == "not a state file":
        path.write_bytes(b"not SQLite" * 1000)
    else:
        SqliteStore(path).close()
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def recording_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(sqlite3, "connect", recording_connect)
    with pytest.raises((ValueError, sqlite3.DatabaseError)):
        SqliteStore(path)
    assert len(opened) == 1
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("SELECT 1")


def test_find_user_takes_exactly_one_key(store: Store) -> None:
    with pytest.raises(TypeError):
        store.find_user()
    with pytest.raises(TypeError):
        store.find_user(email="a@b.co", external_id="x")


def _session(session_id: str, token: str) -> SessionRecord:
    return SessionRecord(
        session_id=session_id,
        user_id="user-test-1",
        session_token=token,
        started_at=START,
        last_accessed_at=START,
        expires_at=START + timedelta(hours=1),
        authentication_factors=(),
        roles=("stytch_user",),
    )


def _totp(totp_id: str, user_id: str, created_at: datetime = START) -> TOTPRecord:
    return TOTPRecord(
        totp_id=totp_id,
        user_id=user_id,
        secret="JBSWY3DPEHPK3PXP",
        created_at=created_at,
        expires_at=created_at + timedelta(days=1),
        recovery_codes=(),
    )


class _NoEquality(str):
    """A token that fails the test if compared with ``==`` (which stops at the first difference)."""

    __hash__ = str.__hash__

    def __eq__(self, other: object) -> bool:
        raise AssertionError("session tokens must be compared in constant time, not with ==")

    def __ne__(self, other: object) -> bool:
        raise AssertionError("session tokens must be compared in constant time, not with !=")


def test_sessions_are_found_by_their_exact_token_in_constant_time(store: Store) -> None:
    store.put_session(_session("session-test-1", "token-one"))
    store.put_session(_session("session-test-2", "token-two"))
    found = store.find_session(_NoEquality("token-two"))
    assert found is not None
    assert found.session_id == "session-test-2"
    for near_miss in ("token-tw", "token-twO", "token-two ", ""):
        assert store.find_session(_NoEquality(near_miss)) is None
    store.put_session(_session("session-test-2", "token-new"))  # the same session, a new token
    assert store.find_session("token-two") is None
    assert store.find_session("token-one") is not None
    found = store.find_session("token-new")
    assert found is not None
    assert found.session_id == "session-test-2"


def test_the_state_file_keeps_only_a_hash_of_the_token_to_look_up(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    store.put_session(_session("session-test-1", "token-one"))
    store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(sessions)")]
        (token_hash,) = db.execute("SELECT token_hash FROM sessions").fetchone()
    assert "token" not in columns
    assert token_hash == hashlib.sha256(b"token-one").digest()


def test_users_are_found_by_email_and_external_id_as_they_change(store: Store) -> None:
    ada = UserRecord(
        user_id="user-test-1", created_at=START, status="active", email="ada@example.com"
    )
    store.put_user(ada)
    assert store.find_user(email="ada@example.com") == ada
    assert store.find_user(external_id="ada") is None
    renamed = attrs.evolve(ada, email="lovelace@example.com", external_id="ada")
    store.put_user(renamed)
    assert store.find_user(email="ada@example.com") is None
    assert store.find_user(email="lovelace@example.com") == renamed
    assert store.find_user(external_id="ada") == renamed
    store.put_user(attrs.evolve(renamed, external_id=None))
    assert store.find_user(external_id="ada") is None


def test_a_users_totps_are_listed_oldest_first_as_they_change(store: Store) -> None:
    first, second = _totp("totp-test-1", "user-test-1"), _totp("totp-test-2", "user-test-1")
    other = _totp("totp-test-3", "user-test-2")
    for totp in (first, second, other):
        store.put_totp(totp)
    assert store.totps_of("user-test-1") == [first, second]
    verified = attrs.evolve(first, verified=True)
    store.put_totp(verified)  # replacing keeps its place
    assert store.totps_of("user-test-1") == [verified, second]
    store.delete_totp("totp-test-1")
    store.delete_totp("totp-test-1")
    assert store.totps_of("user-test-1") == [second]
    store.delete_totp("totp-test-2")
    assert store.totps_of("user-test-1") == []
    assert store.totps_of("user-test-2") == [other]
    assert store.totps_of("user-test-9") == []
