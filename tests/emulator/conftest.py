"""Fixtures for the emulator tests: both stores, a stopped clock, the project, a running emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stytch_totp.testing import Clock, Emulator
from stytch_totp.testing._server.jwt import shared_key
from stytch_totp.testing._server.project import EmulatedProject
from stytch_totp.testing._server.sqlite_store import SqliteStore
from stytch_totp.testing._server.store import MemoryStore, Store

#: Ten seconds into a 30-second step, so a test is never on a step boundary by accident.
START = datetime(2030, 1, 1, 12, 0, 10, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store implementation in turn: the behaviour tests run against both."""
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.db")
    yield made
    made.close()


@pytest.fixture
def clock() -> Clock:
    """A clock stopped at :data:`START`."""
    return Clock(START)


@pytest.fixture
def project(store: Store, clock: Clock) -> EmulatedProject:
    """A fresh emulated project over ``store``."""
    return EmulatedProject.open(store, clock, new_key=shared_key)


@pytest.fixture
async def emulator(clock: Clock) -> AsyncIterator[Emulator]:
    """A running in-memory emulator on the stopped ``clock``."""
    async with Emulator(clock=clock) as running:
        yield running
