"""A tiny fake of ``POST /v1/totps`` with exact control over faults and timing.

The real emulator (``stytch_totp.testing.Emulator``) covers Stytch's behaviour; this fake exists for
what a test must control precisely: which request gets which fault, holding requests in flight,
and a server-side log of when each request arrived.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Callable
from typing import Any

import attrs
from aiohttp import web

from stytch_totp import _jsoncodec
from tests.conftest import PROJECT_ID, SECRET, load_example

CREATE_EXAMPLE = load_example("create")


@attrs.define
class Arrival:
    """One request as the server saw it."""

    at: float
    """``time.monotonic()`` when the request arrived."""
    user_id: str
    """The ``user_id`` it asked to enroll."""
    body: dict[str, Any]
    """The JSON body."""
    status: int = 0
    """The status answered (``0`` while still in flight)."""


@attrs.define
class Fault:
    """An error answered instead of a success, ``times`` times, to matching requests."""

    status: int
    error_type: str
    times: int
    user_id: str | None = None
    """Only for this user (any user when ``None``)."""
    after: int = 0
    """Only once this many requests have arrived."""
    retry_after: str | None = None
    """``Retry-After`` header to send."""


@attrs.define
class FakeStytch:
    """State of the fake: enrolled users, scripted faults, and the arrival log."""

    url: str = ""
    """Base URL of the running fake."""
    enrolled: dict[str, str] = attrs.field(factory=dict)
    """user_id -> totp_id of every enrollment the server made."""
    arrivals: list[Arrival] = attrs.field(factory=list)
    faults: list[Fault] = attrs.field(factory=list)
    unknown_users: set[str] = attrs.field(factory=set)
    """User ids answered with 404 ``user_not_found``."""
    garbled_users: set[str] = attrs.field(factory=set)
    """User ids answered with a 200 whose body is not a CreateResponse."""
    dropped_users: set[str] = attrs.field(factory=set)
    """User ids whose connection is closed without an answer (after the server enrolled them)."""
    delay: float = 0.0
    """Seconds every request waits before it is answered."""
    hold: asyncio.Event | None = None
    """When set, requests wait for this event before they are answered."""
    held_users: dict[str, asyncio.Event] = attrs.field(factory=dict)
    """Requests for these users wait for their event before they are answered."""
    in_flight: int = 0
    max_in_flight: int = 0

    def fail(
        self,
        status: int,
        error_type: str,
        *,
        times: int = 1,
        user_id: str | None = None,
        after: int = 0,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with this error."""
        self.faults.append(Fault(status, error_type, times, user_id, after, retry_after))

    def arrivals_of(self, user_id: str) -> list[Arrival]:
        return [arrival for arrival in self.arrivals if arrival.user_id == user_id]

    def _fault_for(self, user_id: str) -> Fault | None:
        for fault in self.faults:
            if fault.times <= 0 or len(self.arrivals) <= fault.after:
                continue
            if fault.user_id is None or fault.user_id == user_id:
                fault.times -= 1
                return fault
        return None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/totps", self._create)
        return app

    async def _create(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{PROJECT_ID}:{SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return _error(401, "unauthorized_credentials")
        body = _jsoncodec.loads(await request.read())
        user_id = body["user_id"]
        arrival = Arrival(time.monotonic(), user_id, body)
        self.arrivals.append(arrival)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.hold is not None:
                await self.hold.wait()
            if user_id in self.held_users:
                await self.held_users[user_id].wait()
            if self.delay:
                await asyncio.sleep(self.delay)
            response = self._answer(user_id)
            if user_id in self.dropped_users and request.transport is not None:
                request.transport.abort()
        finally:
            self.in_flight -= 1
        arrival.status = response.status
        return response

    def _answer(self, user_id: str) -> web.Response:
        fault = self._fault_for(user_id)
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            return _error(fault.status, fault.error_type, headers)
        if user_id in self.unknown_users:
            return _error(404, "user_not_found")
        if user_id in self.enrolled:
            return _error(400, "active_totp_exists")
        if user_id in self.garbled_users:
            return web.Response(body=b'{"status_code": 200}', content_type="application/json")
        totp_id = f"totp-test-{uuid.uuid4()}"
        self.enrolled[user_id] = totp_id
        data: dict[str, Any] = dict(CREATE_EXAMPLE)
        data.update(
            request_id=f"request-id-test-{uuid.uuid4()}",
            totp_id=totp_id,
            user_id=user_id,
            user={**CREATE_EXAMPLE["user"], "user_id": user_id},
        )
        return web.Response(body=_jsoncodec.dumps(data), content_type="application/json")


async def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait until ``condition()`` holds (polling; the fake and the code under test share a loop)."""
    async with asyncio.timeout(timeout):
        while True:
            if condition():
                return
            await asyncio.sleep(0.001)


def _error(status: int, error_type: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {
        "status_code": status,
        "request_id": f"request-id-test-{uuid.uuid4()}",
        "error_type": error_type,
        "error_message": f"fake {error_type}",
        "error_url": f"https://stytch.com/docs/api/errors/{status}",
    }
    return web.Response(
        status=status, body=_jsoncodec.dumps(body), content_type="application/json", headers=headers
    )
