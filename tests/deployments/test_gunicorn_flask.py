"""docs/examples/deploy_flask.py under gunicorn -w 2 -k gthread --threads 8, with and without
--preload: 32 concurrent browsers, each answered with its own user's result; each worker's
connections to Stytch bounded by its pool; HUP and SIGTERM with calls in flight."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from stytch_totp.testing import ThreadedEmulator

from ._servers import NOISE, Gunicorn, connections_to, stytch_env

POOL = 4  # below the 8 threads of a worker: the bound is what limits the connections


def post(url: str, body: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - gunicorn on 127.0.0.1
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - 127.0.0.1
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Sampler:
    """Samples, on a thread, the connections each worker holds to the emulator."""

    def __init__(self, server: Gunicorn, port: int) -> None:
        self.server, self.port = server, port
        self.peak: dict[int, int] = {}
        self.master_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for pid in self.server.worker_pids():
                held = connections_to(pid, self.port)
                self.peak[pid] = max(self.peak.get(pid, 0), held)
            held = connections_to(self.server.process.pid, self.port)
            self.master_peak = max(self.master_peak, held)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(10)


def enroll_and_verify(emulator: ThreadedEmulator, url: str, user_id: str) -> dict[str, Any]:
    status, created = post(f"{url}/mfa/enroll", {"user_id": user_id})
    assert status == 200, created
    assert created["user_id"] == user_id  # never another request's answer
    code = emulator.totp_code(created["key"])
    status, verified = post(f"{url}/mfa/verify", {"user_id": user_id, "code": code})
    assert status == 200, verified
    assert (verified["user_id"], verified["totp_id"]) == (user_id, created["totp_id"])
    return verified


def calls_in_flight(
    emulator: ThreadedEmulator, server: Gunicorn, users: list[str]
) -> tuple[ThreadPoolExecutor, list[Any]]:
    """Enrolled ``users`` whose verify is now held 1.5 s by Stytch (the emulator)."""
    codes = {}
    for user_id in users:
        _, created = post(f"{server.url}/mfa/enroll", {"user_id": user_id})
        codes[user_id] = emulator.totp_code(created["key"])
    before = emulator.request_count("/v1/totps/authenticate")
    emulator.inject("/v1/totps/authenticate", delay=1.5, times=len(users))
    pool = ThreadPoolExecutor(len(users))
    futures = [
        pool.submit(post, f"{server.url}/mfa/verify", {"user_id": u, "code": codes[u]})
        for u in users
    ]
    deadline = time.monotonic() + 30
    while emulator.request_count("/v1/totps/authenticate") < before + len(users):
        assert time.monotonic() < deadline, "the calls never reached the emulator"
        time.sleep(0.02)
    return pool, futures


@pytest.mark.parametrize("preload", [False, True], ids=["forked-then-imported", "preload"])
def test_flask_under_gunicorn_gthread(
    stytch_emulator_thread: ThreadedEmulator, preload: bool
) -> None:
    emulator = stytch_emulator_thread
    users = emulator.ensure_users(140)
    port = int(emulator.url.rsplit(":", 1)[1].strip("/"))
    args = ["-w", "2", "-k", "gthread", "--threads", "8", "--graceful-timeout", "20"]
    if preload:
        args.append("--preload")
    env = stytch_env(emulator, STYTCH_MAX_CONNECTIONS=str(POOL))
    server = Gunicorn([*args, "deploy_flask:app"], env)
    try:
        server.wait_for("Booting worker", count=2)

        # 100 users enrolled and verified (200 requests) by 32 concurrent browsers.
        with Sampler(server, port) as sampler, ThreadPoolExecutor(32) as browsers:
            answers = list(
                browsers.map(lambda u: enroll_and_verify(emulator, server.url, u), users[:100])
            )
        workers = {answer["worker"] for answer in answers}
        assert workers == server.worker_pids()  # both workers answered
        assert set(sampler.peak) >= workers
        assert all(1 <= sampler.peak[pid] <= POOL for pid in workers), sampler.peak
        assert sampler.master_peak == 0  # the master never talks to Stytch, even with --preload

        # HUP (graceful reload) with calls in flight: they finish, new workers take over.
        pool, futures = calls_in_flight(emulator, server, users[100:116])
        server.signal(signal.SIGHUP)
        assert [f.result(timeout=60)[0] for f in futures] == [200] * 16
        pool.shutdown()
        server.wait_for("Booting worker", count=4)
        deadline = time.monotonic() + 30
        while server.worker_pids() & workers:  # the old workers finish, then exit
            assert time.monotonic() < deadline, "the old workers did not exit"
            time.sleep(0.05)
        reloaded = [enroll_and_verify(emulator, server.url, u) for u in users[116:124]]
        assert {answer["worker"] for answer in reloaded}.isdisjoint(workers)

        # SIGTERM with calls in flight: they finish, then gunicorn exits.
        pool, futures = calls_in_flight(emulator, server, users[124:140])
        server.signal(signal.SIGTERM)
        assert [f.result(timeout=60)[0] for f in futures] == [200] * 16
        pool.shutdown()
        assert server.stop(timeout=30) == 0
    finally:
        server.stop()
    assert "Shutting down: Master" in server.log
    assert not NOISE.search(server.log), server.log
