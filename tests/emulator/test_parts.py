"""The emulator's small parts: the clock, fault specs, the request log, the SQLite file."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stytch_totp import InvalidParamsError
from stytch_totp.testing import Clock, EmulatorError, Fault
from stytch_totp.testing._errors import ERRORS, default_error_type, error_url
from stytch_totp.testing._faults import Faults, RequestLog
from stytch_totp.testing._sqlite_store import SqliteStore
from stytch_totp.testing._store import Store
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
    assert first.retry_after == "1.5"
    assert faults.take("/v1/totps") is first
    assert faults.take("/v1/totps/recover") is forever
    assert faults.take("/v1/totps") is first
    assert first.remaining == 0
    assert faults.take("/v1/totps") is forever
    assert len(faults) == 1
    faults.clear()
    assert faults.take("/v1/totps") is None


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
        assert error_url(status, error_type).endswith(f"/{status}#{error_type}")
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


def test_find_user_takes_exactly_one_key(store: Store) -> None:
    with pytest.raises(TypeError):
        store.find_user()
    with pytest.raises(TypeError):
        store.find_user(email="a@b.co", external_id="x")
