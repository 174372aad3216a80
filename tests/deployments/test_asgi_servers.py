"""docs/examples/deploy_fastapi.py (the Client in the lifespan) and
deploy_fastapi_module_level.py (a module-level Client created at import) under uvicorn
--workers 2 and under gunicorn -k uvicorn_worker.UvicornWorker, and deploy_django_async.py
(async views, a module-level Client) under uvicorn --workers 2: 300 requests from 32 concurrent
browsers, each answered for its own user, each worker's connections bounded by its pool, then
SIGTERM with calls in flight: they finish, the server exits within seconds, and nothing is
logged but INFO lines (no "Unclosed client session", no "Task was destroyed")."""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from stytch_totp._config import DEFAULT_MAX_CONNECTIONS
from stytch_totp.testing import ThreadedEmulator

from ._servers import (
    NOISE,
    Gunicorn,
    Sampler,
    Server,
    Uvicorn,
    calls_in_flight,
    enroll_and_verify,
    stytch_env,
)

POOL = 4  # the lifespan client's max_connections, far below the 32 concurrent requests

#: How each server is started, with two workers and time enough for a graceful shutdown.
SERVERS: dict[str, Callable[[str, dict[str, str]], Server]] = {
    "uvicorn": lambda app, env: Uvicorn(
        ["--workers", "2", "--timeout-graceful-shutdown", "20", app], env
    ),
    "gunicorn-uvicorn-worker": lambda app, env: Gunicorn(
        ["-w", "2", "-k", "uvicorn_worker.UvicornWorker", "--graceful-timeout", "20", app], env
    ),
}

#: The app, and the bound on each worker's connections to Stytch.
APPS = {
    "lifespan": ("deploy_fastapi:app", POOL),
    "module-level": ("deploy_fastapi_module_level:app", DEFAULT_MAX_CONNECTIONS),
}

#: Show ResourceWarnings (an unclosed pool, a leaked socket), but for the listening socket
#: uvicorn's supervisor process itself leaves to the garbage collector.
WARNINGS = "default,ignore:unclosed <socket.socket:ResourceWarning"


def serve_and_stop(
    emulator: ThreadedEmulator, server_kind: str, app: str, bound: int, **env: str
) -> tuple[Server, float]:
    """Run the app: 150 users enrolled and verified by 32 browsers, then SIGTERM with 16 calls
    in flight. Returns the server (stopped) and the seconds it took to exit after SIGTERM."""
    users = emulator.ensure_users(166)
    port = int(emulator.url.rsplit(":", 1)[1].strip("/"))
    environ = stytch_env(emulator, STYTCH_MAX_CONNECTIONS=str(POOL), PYTHONWARNINGS=WARNINGS, **env)
    server = SERVERS[server_kind](app, environ)
    try:
        server.wait_for("Application startup complete", count=2)

        with Sampler(server, port) as sampler, ThreadPoolExecutor(32) as browsers:
            answers = list(
                browsers.map(lambda u: enroll_and_verify(emulator, server.url, u), users[:150])
            )
        workers = {answer["worker"] for answer in answers}
        assert workers <= server.worker_pids()  # answered by the workers, never the master
        assert all(1 <= sampler.peak[pid] <= bound for pid in workers), sampler.peak
        assert sampler.master_peak == 0

        pool, futures = calls_in_flight(emulator, server, users[150:166])
        server.signal(signal.SIGTERM)
        signalled = time.monotonic()
        assert [f.result(timeout=60)[0] for f in futures] == [200] * 16
        pool.shutdown()
        assert server.stop(timeout=30) == 0
        took = time.monotonic() - signalled
    finally:
        server.stop()
    assert emulator.request_count("/v1/totps") == 166  # each create sent once
    return server, took


@pytest.mark.parametrize("app_kind", list(APPS))
@pytest.mark.parametrize("server_kind", list(SERVERS))
def test_fastapi_under_uvicorn_workers(
    stytch_emulator_thread: ThreadedEmulator, server_kind: str, app_kind: str
) -> None:
    app, bound = APPS[app_kind]
    server, took = serve_and_stop(stytch_emulator_thread, server_kind, app, bound)
    assert took < 10  # the calls in flight were held 1.5 s; then the workers exit at once
    assert server.log.count("Application shutdown complete") == 2
    assert not NOISE.search(server.log), server.log


def test_django_async_views_under_uvicorn(stytch_emulator_thread: ThreadedEmulator) -> None:
    server, took = serve_and_stop(
        stytch_emulator_thread,
        "uvicorn",
        "deploy_django_async:application",
        DEFAULT_MAX_CONNECTIONS,
        DJANGO_SETTINGS_MODULE="deploy_django_async",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(32),
    )
    assert took < 10
    # Django answers no lifespan events: uvicorn says so (an INFO line) and goes on.
    assert server.log.count("ASGI 'lifespan' protocol appears unsupported") == 2
    assert not NOISE.search(server.log), server.log
