"""``SyncClient``: blocking calls from any thread, one shared bounded pool, fork and Ctrl-C safe."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from aiohttp import web

import stytch_totp
from stytch_totp import (
    APIConnectionError,
    AuthenticationError,
    ClientClosedError,
    CreateParams,
    FailureKind,
    InvalidParamsError,
    SyncClient,
)
from stytch_totp.testing import MockResponse, MockTransport, ThreadedEmulator
from tests.conftest import PROJECT_ID, SECRET, load_example


def loop_thread_tasks(client: SyncClient) -> int:
    """Tasks still alive on the client's loop thread (besides the one counting them)."""

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1

    return client._run(count())


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "stytch-totp-sync-client"]


# -- the operations, blocking ----------------------------------------------------------------


def test_every_operation_blocks_and_returns_the_async_clients_models(
    stytch_emulator_thread: ThreadedEmulator, stytch_sync_client: SyncClient
) -> None:
    emulator, client = stytch_emulator_thread, stytch_sync_client
    user_id = emulator.create_user(email="ada@example.com")

    created = client.totps.create(user_id=user_id)
    assert isinstance(created, stytch_totp.CreateResponse)
    auth = client.totps.authenticate(
        user_id=user_id, totp_code=emulator.totp_code(created.secret), session_duration_minutes=60
    )
    assert auth.session is not None
    codes = client.totps.recovery_codes(stytch_totp.RecoveryCodesParams(user_id=user_id))
    assert len(codes.totps[0].recovery_codes) == 10
    raw = client.totps.with_raw_response.recover(
        user_id=user_id, recovery_code=created.recovery_codes[0]
    )
    assert raw.status_code == 200
    assert raw.attempts == 1
    assert raw.parse().user_id == user_id

    with pytest.raises(AuthenticationError) as caught:
        client.totps.recover(user_id=user_id, recovery_code=created.recovery_codes[0])
    assert caught.value.error_type == "unable_to_authenticate_recovery_code"
    with pytest.raises(InvalidParamsError) as invalid:
        client.totps.authenticate(user_id=user_id, totp_code="12")
    assert invalid.value.field == "totp_code"
    assert client.totps.create.__doc__ == stytch_totp.TOTPs.create.__doc__


def test_a_sync_client_works_with_mock_transport() -> None:
    transport = MockTransport(lambda _: MockResponse(200, json=load_example("create")))
    with SyncClient(PROJECT_ID, SECRET, transport=transport) as client:
        created = client.totps.create(user_id="user-1")
    assert created.totp_id == load_example("create")["totp_id"]
    assert [request.json() for request in transport.requests] == [{"user_id": "user-1"}]
    assert transport.closed


def test_from_env_reads_the_same_variables_as_the_async_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STYTCH_PROJECT_ID", PROJECT_ID)
    monkeypatch.setenv("STYTCH_SECRET", SECRET)
    monkeypatch.setenv("STYTCH_BASE_URL", "http://127.0.0.1:8787/")
    with SyncClient.from_env(timeout=3) as client:
        assert client.project_id == PROJECT_ID
        assert client.base_url == "http://127.0.0.1:8787/"
        assert SECRET not in repr(client)


# -- threads ---------------------------------------------------------------------------------


def test_32_threads_share_one_client_and_every_answer_is_theirs(
    stytch_emulator_thread: ThreadedEmulator,
) -> None:
    emulator = stytch_emulator_thread
    users = [emulator.create_user(email=f"user{n}@example.com") for n in range(32)]

    def enroll(user_id: str) -> tuple[str, str, str]:
        created = client.totps.create(user_id=user_id)
        auth = client.totps.authenticate(
            user_id=user_id, totp_code=emulator.totp_code(created.secret)
        )
        codes = client.totps.recovery_codes(user_id=user_id)
        authenticated = auth.user_id if auth.totp_id == created.totp_id else "another TOTP"
        return created.user_id, authenticated, codes.user_id

    with emulator.sync_client(max_connections=8) as client, ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(enroll, users))

    assert answers == [(user, user, user) for user in users]
    assert len(loop_threads()) == 0  # closing the client ended its loop thread


class CountingServer:
    """A slow Stytch stand-in on its own thread that counts connections and concurrency."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.connections: set[object] = set()
        self.in_flight = self.peak = self.requests = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def _handler(self, request: web.Request) -> web.Response:
        self.connections.add(request.transport)
        self.requests += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(self.delay)
        self.in_flight -= 1
        return web.json_response(load_example("recovery_codes"))

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/v1/totps/recovery_codes", self._handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def __enter__(self) -> CountingServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    with CountingServer(delay=0.01) as server:
        yield server


def test_threads_share_a_bounded_pool_whose_connections_are_reused(
    counting_server: CountingServer,
) -> None:
    server = counting_server
    with (
        SyncClient(PROJECT_ID, SECRET, base_url=server.url, max_connections=4) as client,
        ThreadPoolExecutor(32) as pool,
    ):
        results = list(pool.map(lambda _: client.totps.recovery_codes(user_id="u"), range(320)))

    assert len(results) == 320
    assert server.requests == 320
    assert server.peak <= 4  # bounded
    assert len(server.connections) <= 4  # reused: no new connection per call


# -- where a blocking call must not go -------------------------------------------------------


async def test_a_call_from_a_running_event_loop_is_refused_at_once() -> None:
    transport = MockTransport(lambda _: MockResponse(200, json=load_example("recovery_codes")))
    client = SyncClient(PROJECT_ID, SECRET, transport=transport)
    with pytest.raises(APIConnectionError, match=r"use stytch_totp\.Client") as caught:
        client.totps.recovery_codes(user_id="u")
    assert caught.value.kind is FailureKind.UNUSABLE
    assert caught.value.may_have_been_processed is False
    assert transport.requests == []
    client.close()


# -- Ctrl-C and close ------------------------------------------------------------------------


def test_ctrl_c_during_a_call_ends_it_promptly(counting_server: CountingServer) -> None:
    counting_server.delay = 30
    with SyncClient(PROJECT_ID, SECRET, base_url=counting_server.url) as client:
        main_thread = threading.get_ident()
        timer = threading.Timer(0.3, signal.pthread_kill, (main_thread, signal.SIGINT))
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        started = time.monotonic()
        try:
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                client.totps.recovery_codes(user_id="u")
        finally:
            timer.cancel()
            signal.signal(signal.SIGINT, previous)
        assert time.monotonic() - started < 10  # a hang detector, far above the 0.3 s
        # The interrupted call gave its connection back: the client still works.
        counting_server.delay = 0
        assert client.totps.recovery_codes(user_id="u").user_id


def test_close_with_calls_in_flight_ends_them_with_client_closed(
    counting_server: CountingServer,
) -> None:
    counting_server.delay = 30
    client = SyncClient(PROJECT_ID, SECRET, base_url=counting_server.url)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.totps.recovery_codes(user_id="u")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while counting_server.requests < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    client.close()
    client.close()  # idempotent
    for thread in threads:
        thread.join(10)

    assert len(errors) == 5
    assert all(isinstance(error, ClientClosedError) for error in errors)
    assert all(error.may_have_been_processed for error in errors)  # type: ignore[attr-defined]
    with pytest.raises(ClientClosedError):
        client.totps.recovery_codes(user_id="u")
    assert loop_threads() == []


# -- fork ------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_a_client_created_before_fork_works_in_the_child_with_its_own_pool(
    counting_server: CountingServer,
) -> None:
    with SyncClient(PROJECT_ID, SECRET, base_url=counting_server.url) as client:
        client.totps.recovery_codes(user_id="parent")  # the parent's pool has a connection
        parent_connections = set(counting_server.connections)
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, 3.12+
            pid = os.fork()
        if pid == 0:  # the child: use the client, report, exit without pytest's cleanup
            status = 1
            try:
                os.close(read_end)
                client.totps.recovery_codes(user_id="child")
                client.close()
                status = 0
            finally:
                os.write(write_end, bytes([status]))
                os._exit(status)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            reported = pipe.read()
        _, wait_status = os.waitpid(pid, 0)
        assert reported == b"\x00"
        assert os.waitstatus_to_exitcode(wait_status) == 0
        # The child opened its own connection; the parent's still works.
        assert len(counting_server.connections - parent_connections) >= 1
        assert client.totps.recovery_codes(user_id="parent-again").user_id


# -- create_many, blocking -------------------------------------------------------------------


def test_create_many_yields_every_user_exactly_once(
    stytch_emulator_thread: ThreadedEmulator, stytch_sync_client: SyncClient
) -> None:
    users: list[Any] = [
        stytch_emulator_thread.create_user(email=f"u{n}@example.com") for n in range(30)
    ]
    users.append(CreateParams(user_id="user-test-does-not-exist"))

    with stytch_sync_client.totps.create_many(users, concurrency=8) as results:
        seen = list(results)

    assert sorted(result.index for result in seen) == list(range(31))
    assert sum(1 for result in seen if result.ok) == 30
    (missing,) = [result for result in seen if not result.ok]
    assert isinstance(missing.error, stytch_totp.NotFoundError)


def test_leaving_create_many_early_stops_the_run(
    stytch_emulator_thread: ThreadedEmulator, stytch_sync_client: SyncClient
) -> None:
    users = [stytch_emulator_thread.create_user(email=f"u{n}@example.com") for n in range(40)]
    with stytch_sync_client.totps.create_many(users, concurrency=2) as results:
        first = next(results)
    assert first.ok
    progress = results.progress
    assert progress.started < 40  # the rest was never taken
    assert progress.in_flight <= 2  # only what was in flight was cancelled
    assert loop_thread_tasks(stytch_sync_client) == 0
