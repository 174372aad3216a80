"""docs/examples/deploy_django.py under gunicorn gthread: a Django view with a module-level
SyncClient, 32 concurrent browsers, each answered for its own user, then a clean SIGTERM."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

from stytch_totp.testing import ThreadedEmulator

from ._servers import NOISE, Gunicorn, enroll_and_verify, stytch_env


def test_django_under_gunicorn_gthread(stytch_emulator_thread: ThreadedEmulator) -> None:
    emulator = stytch_emulator_thread
    users = emulator.ensure_users(64)
    env = stytch_env(
        emulator,
        DJANGO_SETTINGS_MODULE="deploy_django",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(32),
    )
    args = ["-w", "2", "-k", "gthread", "--threads", "8", "deploy_django:application"]
    server = Gunicorn(args, env)
    try:
        server.wait_for("Booting worker", count=2)
        with ThreadPoolExecutor(32) as browsers:
            answers = list(
                browsers.map(lambda u: enroll_and_verify(emulator, server.url, u), users)
            )
        assert {answer["worker"] for answer in answers} <= server.worker_pids()
        assert server.stop(timeout=30) == 0
    finally:
        server.stop()
    assert emulator.request_count("/v1/totps") == 64  # each create sent once
    assert not NOISE.search(server.log), server.log
