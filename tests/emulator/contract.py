"""The two targets of the contract suite: the emulator, and a real Stytch test project.

The same checks run against both (``test_contract.py``): the emulator always, Stytch only when
asked, with the credentials of a ``project-test-`` project::

    STYTCH_CONTRACT=1 STYTCH_PROJECT_ID=project-test-... STYTCH_SECRET=secret-test-... \\
        pytest tests/emulator/test_contract.py

Requests go out as any HTTP client sends them (aiohttp, Basic auth, JSON), so what is compared
is what each target answers, not what an SDK makes of it. Every user a check creates is deleted
afterwards.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

import aiohttp

from stytch_totp import totp_code
from stytch_totp.testing import Emulator

__all__ = [
    "OPT_IN",
    "STYTCH_TEST_URL",
    "Target",
    "contract_requested",
    "stytch_credentials",
    "target_for_stytch",
]

#: The variable that asks for the run against Stytch; its credentials are the usual ones.
OPT_IN: Final = "STYTCH_CONTRACT"
STYTCH_TEST_URL: Final = "https://test.stytch.com/"
HOW_TO_RUN: Final = (
    f"runs against real Stytch only when asked: {OPT_IN}=1 STYTCH_PROJECT_ID=project-test-... "
    "STYTCH_SECRET=secret-test-... pytest tests/emulator/test_contract.py "
    "(see docs/emulator.md, 'Checking it against Stytch')"
)
#: Seconds before a request to either target is given up.
REQUEST_TIMEOUT: Final = 30.0


def contract_requested() -> bool:
    """Whether this run also checks against real Stytch."""
    return os.environ.get(OPT_IN) == "1"


def stytch_credentials() -> tuple[str, str] | str:
    """``(project_id, secret)`` of the test project to check against, or why there is none."""
    if not contract_requested():
        return HOW_TO_RUN
    project_id = os.environ.get("STYTCH_PROJECT_ID", "")
    secret = os.environ.get("STYTCH_SECRET", "")
    if not project_id.startswith("project-test-") or not secret:
        # A live project's users are real people: the suite creates and deletes users.
        return (
            f"{OPT_IN}=1 needs STYTCH_PROJECT_ID of a project-test- project and its STYTCH_SECRET"
        )
    return project_id, secret


class Target:
    """One Stytch API (real or emulated) and the users created in it."""

    def __init__(
        self, name: str, base_url: str, project_id: str, secret: str, session: aiohttp.ClientSession
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.project_id = project_id
        self._secret = secret
        self._session = session
        self._users: list[str] = []
        #: The emulator behind this target, if it is one (to inject what no request can cause).
        self.emulator: Emulator | None = None
        token = base64.b64encode(f"{project_id}:{secret}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def __repr__(self) -> str:
        return f"<Target {self.name}>"

    @property
    def is_emulator(self) -> bool:
        """Whether this is the emulator (which can be made to fail on demand)."""
        return self.emulator is not None

    async def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        query: Mapping[str, str] | None = None,
        secret: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """``(status, JSON body)`` of one request; ``secret`` replaces the project's."""
        headers = dict(self._headers)
        if secret is not None:
            token = base64.b64encode(f"{self.project_id}:{secret}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        async with self._session.request(
            method, self.base_url + path, json=body, params=query, headers=headers
        ) as response:
            data: dict[str, Any] = await response.json(content_type=None)
            return response.status, data

    async def ok(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        """The body of a request that must succeed."""
        status, data = await self.call(method, path, body, **kw)
        assert status == 200, f"{self.name}: {method} {path} answered {status}: {data}"
        return data

    async def new_user(self, **fields: Any) -> dict[str, Any]:
        """A new user (deleted when the check ends): the create-user body."""
        email = f"stytch-totp-contract-{uuid.uuid4().hex[:12]}@example.com"
        created = await self.ok("POST", "v1/users", {"email": email, **fields})
        self._users.append(created["user_id"])
        return created

    async def enrolled(
        self, *, verify: bool = True, **auth_fields: Any
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A user with a TOTP: the create-TOTP body, and the first authenticate's if ``verify``."""
        user = await self.new_user()
        created = await self.ok("POST", "v1/totps", {"user_id": user["user_id"]})
        if not verify:
            return created, None
        answer = await self.ok(
            "POST",
            "v1/totps/authenticate",
            {"user_id": user["user_id"], "totp_code": code_now(created["secret"]), **auth_fields},
        )
        return created, answer

    async def delete_users(self) -> None:
        for user_id in self._users:
            await self.call("DELETE", f"v1/users/{user_id}")
        self._users.clear()


def code_now(secret: str) -> str:
    """The code an authenticator app shows now (both targets run on real time)."""
    return totp_code(secret, time.time())


@asynccontextmanager
async def target_for_stytch(project_id: str, secret: str) -> AsyncIterator[Target]:
    """Stytch's test environment, with the project's credentials."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        target = Target("stytch", STYTCH_TEST_URL, project_id, secret, session)
        try:
            yield target
        finally:
            await target.delete_users()


@asynccontextmanager
async def target_for_emulator(base_url: str, project_id: str, secret: str) -> AsyncIterator[Target]:
    """A running emulator."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        target = Target("emulator", base_url, project_id, secret, session)
        try:
            yield target
        finally:
            await target.delete_users()
