"""Run the documentation's examples (``docs/examples/*.py``) against the emulator.

The examples read their credentials from the environment (``Client.from_env``), as users' code
does; :func:`stytch_env` points that environment at the test's emulator.
"""

from __future__ import annotations

import importlib.util
import socket
import sys
from pathlib import Path
from types import ModuleType

import attrs
import pytest

import stytch_totp
from stytch_totp.testing import Emulator, ThreadedEmulator

DOCS = Path(__file__).parents[2] / "docs"
EXAMPLES = DOCS / "examples"


def load_example(name: str) -> ModuleType:
    """Import ``docs/examples/<name>.py`` afresh (the examples are not a package)."""
    path = EXAMPLES / f"{name}.py"
    module_name = f"docs_example_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered while it runs, so dataclass-like machinery (enum, TypedDict) can find it.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[module_name]
    return module


@pytest.fixture
def stytch_env(stytch_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Point ``Client.from_env()`` at the test's emulator."""
    monkeypatch.setenv("STYTCH_PROJECT_ID", stytch_emulator.project_id)
    monkeypatch.setenv("STYTCH_SECRET", stytch_emulator.secret)
    monkeypatch.setenv("STYTCH_BASE_URL", stytch_emulator.url)
    return stytch_emulator


@pytest.fixture
def no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries happen without waiting; returns the delays the client asked for."""
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    monkeypatch.setattr("stytch_totp._client._sleep", record)
    return delays


@pytest.fixture
def refused_url() -> str:
    """A loopback URL on which nothing listens: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@attrs.frozen
class Enrolled:
    """A user with a verified TOTP."""

    user_id: str
    secret: str = attrs.field(repr=False)
    recovery_codes: tuple[str, ...] = attrs.field(repr=False)


async def enroll(
    emulator: Emulator | ThreadedEmulator, client: stytch_totp.Client, email: str
) -> Enrolled:
    """A new user whose TOTP is verified; the emulator's clock then moves to the next code."""
    user_id = emulator.create_user(email)
    created = await client.totps.create(user_id=user_id)
    await client.totps.authenticate(user_id=user_id, totp_code=emulator.totp_code(created.secret))
    emulator.clock.advance(30)
    return Enrolled(user_id, created.secret, created.recovery_codes)


def wrong_code(emulator: Emulator, secret: str) -> str:
    """A well-formed code that the emulator refuses now (it is in none of the accepted steps)."""
    now = emulator.clock.now().timestamp()
    accepted = {emulator.totp_code(secret, now + offset) for offset in (-30, 0, 30)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)
