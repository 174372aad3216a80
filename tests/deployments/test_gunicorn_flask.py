"""docs/examples/deploy_flask.py under gunicorn -w 2 -k gthread --threads 8, with and without
--preload: 32 concurrent browsers, each answered with its own user's result; each worker's
connections to Stytch bounded by its pool; HUP and SIGTERM with calls in flight."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from stytch_totp.testing import ThreadedEmulator

from ._servers import NOISE, Gunicorn, Sampler, calls_in_flight, enroll_and_verify, stytch_env

POOL = 4  # below the 8 threads of a worker: the bound is what limits the connections


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
