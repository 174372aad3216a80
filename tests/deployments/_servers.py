"""Real process trees for the deployment tests: gunicorn, and who holds which connections."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from stytch_totp.testing import ThreadedEmulator

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"

#: What a clean run of gunicorn (or a script) never prints.
NOISE = re.compile(
    r"Traceback|Warning|Unclosed|\[ERROR\]|\[CRITICAL\]|ERROR:|CRITICAL:|Exception|"
    r"Task was destroyed|never awaited",
    re.I,
)


def stytch_env(emulator: ThreadedEmulator, **extra: str) -> dict[str, str]:
    """The environment of a process pointed at ``emulator`` (as ``SyncClient.from_env`` reads)."""
    return {
        **os.environ,
        "STYTCH_PROJECT_ID": emulator.project_id,
        "STYTCH_SECRET": emulator.secret,
        "STYTCH_BASE_URL": emulator.url,
        **extra,
    }


def connections_to(pid: int, port: int) -> int:
    """Established TCP connections that process ``pid`` holds to 127.0.0.1:``port`` (Linux)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        with open(f"/proc/{pid}/net/tcp", encoding="ascii") as table:
            rows = table.read().splitlines()[1:]
    except OSError:
        return 0  # the process has exited
    return count_established(rows, inodes, port)


def count_established(rows: list[str], inodes: set[str], port: int) -> int:
    """The sockets among ``inodes`` that ``rows`` (of ``/proc/<pid>/net/tcp``) show connected
    to 127.0.0.1:``port``.

    Distinct sockets, not rows: the kernel writes the table over several reads, and when it
    changes meanwhile (as it does all through a full test run, with thousands of TIME_WAIT
    rows) some sockets are listed twice.
    """
    wanted = f"0100007F:{port:04X}"
    established = set()
    for row in rows:
        fields = row.split()
        remote, state, inode = fields[2], fields[3], fields[9]
        if remote == wanted and state == "01" and inode in inodes:
            established.add(inode)
    return len(established)


def run_python(
    emulator: ThreadedEmulator,
    *args: str,
    timeout: float = 60,
    cwd: Path | None = None,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """``python <args>`` pointed at ``emulator`` (and ``env``), its output captured as text.

    It must end within ``timeout`` seconds: a process that hangs fails the test instead.
    """
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, *args],
        cwd=cwd,
        env=stytch_env(emulator, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Server:
    """A server process (``python -m <module> ...``), its log (stderr) read as it comes.

    ``listening`` matches the log line that gives the port it listens on (127.0.0.1, ephemeral).
    """

    def __init__(
        self, command: list[str], env: dict[str, str], listening: str, cwd: Path = EXAMPLES
    ) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-m", *command],
            cwd=cwd,
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._terminating = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            port = self.wait_for(listening).group(1)
        except BaseException:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{port}"

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def log(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 60) -> re.Match[str]:
        """The ``count``-th line of the log matching ``pattern``, waited for."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [m for m in map(re.compile(pattern).search, self.lines) if m]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"no {count} x {pattern!r} in the server's log:\n{self.log}"
                    )
                self._changed.wait(min(left, 0.5))

    def worker_pids(self) -> set[int]:
        """The workers running now (the master's children; for uvicorn, multiprocessing's
        resource tracker too)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)
        self._terminating |= signum == signal.SIGTERM

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (graceful) unless sent already, then wait; returns the exit status.

        Never a second SIGTERM: it could arrive while the server's interpreter is exiting,
        after Python has restored the default handlers, and kill it (exit status -15)."""
        if self.process.poll() is None and not self._terminating:
            self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._reader.join(10)
            if self.process.stderr is not None:
                self.process.stderr.close()


class Gunicorn(Server):
    """``python -m gunicorn -b 127.0.0.1:0 ...``."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path = EXAMPLES) -> None:
        super().__init__(
            ["gunicorn", "-b", "127.0.0.1:0", *args],
            env,
            r"Listening at: http://127\.0\.0\.1:(\d+)",
            cwd,
        )


class Uvicorn(Server):
    """``python -m uvicorn --host 127.0.0.1 --port 0 ...``."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path = EXAMPLES) -> None:
        super().__init__(
            ["uvicorn", "--host", "127.0.0.1", "--port", "0", "--no-access-log", *args],
            env,
            r"Uvicorn running on http://127\.0\.0\.1:(\d+)",
            cwd,
        )


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

    def __init__(self, server: Server, port: int) -> None:
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
    emulator: ThreadedEmulator, server: Server, users: list[str]
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
