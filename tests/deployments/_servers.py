"""Real process trees for the deployment tests: gunicorn, and who holds which connections."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from stytch_totp.testing import ThreadedEmulator

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"

#: What a clean run of gunicorn (or a script) never prints.
NOISE = re.compile(r"Traceback|Warning|Unclosed|\[ERROR\]|\[CRITICAL\]|Exception", re.I)


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
    wanted = f"0100007F:{port:04X}"
    count = 0
    for row in rows:
        fields = row.split()
        remote, state, inode = fields[2], fields[3], fields[9]
        if remote == wanted and state == "01" and inode in inodes:
            count += 1
    return count


class Gunicorn:
    """``python -m gunicorn ...`` on 127.0.0.1 (an ephemeral port), its log read as it comes."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path = EXAMPLES) -> None:
        command = [sys.executable, "-m", "gunicorn", "-b", "127.0.0.1:0", *args]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            command, cwd=cwd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        listening = self.wait_for(r"Listening at: http://127\.0\.0\.1:(\d+)")
        self.url = f"http://127.0.0.1:{listening.group(1)}"

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
                    raise AssertionError(f"no {count} x {pattern!r} in gunicorn's log:\n{self.log}")
                self._changed.wait(min(left, 0.5))

    def worker_pids(self) -> set[int]:
        """The workers running now (the master's children)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (graceful), then wait; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._reader.join(10)
            if self.process.stderr is not None:
                self.process.stderr.close()
