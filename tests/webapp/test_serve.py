"""serve.py, the README's one command: where it listens, and what it says when it cannot."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from .conftest import SERVE


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYTCH_")}
    return subprocess.run(  # noqa: S603 - our own serve.py
        [sys.executable, str(SERVE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_person_gets_127_0_0_1_port_8000_unless_they_say_otherwise() -> None:
    result = serve("--help")
    assert result.returncode == 0, result.stderr
    assert "(default: 127.0.0.1)" in result.stdout
    assert "0 for any free one (default: 8000)" in result.stdout


def test_a_port_in_use_is_a_sentence_not_a_traceback() -> None:
    # The port stays taken (listening) for the whole run: serve.py cannot bind it.
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = serve("--port", str(port))
    assert result.returncode == 1
    assert result.stderr == (
        f"cannot listen on 127.0.0.1:{port}: Address already in use "
        "(another server uses it? try --port 0)\n"
    )
    assert result.stdout == ""
