"""conftest.py: when your app builds its own Client with ``Client.from_env()``, point the
environment at the test's emulator."""

from __future__ import annotations

import pytest

from stytch_totp.testing import Emulator


@pytest.fixture
def stytch_env(stytch_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("STYTCH_PROJECT_ID", stytch_emulator.project_id)
    monkeypatch.setenv("STYTCH_SECRET", stytch_emulator.secret)
    monkeypatch.setenv("STYTCH_BASE_URL", stytch_emulator.url)
    return stytch_emulator
