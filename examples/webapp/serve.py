"""Serve the example app: ``python examples/webapp/serve.py`` (``--help`` for the options).

With ``STYTCH_PROJECT_ID`` and ``STYTCH_SECRET`` set (and ``STYTCH_BASE_URL``, if not
Stytch's test environment), the app talks to that Stytch project. Without them, a local Stytch
emulator starts first, in this process, and the app talks to it: nothing leaves the machine,
and its users last as long as the process.

The listening socket is bound here, before anything else starts, and handed to uvicorn: the
address printed ("open http://127.0.0.1:8000/ in your browser") is the one bound, also with
``--port 0``, which takes any free port (what the tests do).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import socket
import sys
from pathlib import Path

import uvicorn

log = logging.getLogger("webapp")


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (port 0: a free one, chosen by the system)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port, 0 for any free one (default: 8000)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    try:
        sock = listen(args.host, args.port)
    except OSError as error:
        why = os.strerror(error.errno) if error.errno else str(error)
        hint = " (another server uses it? try --port 0)" if error.errno == errno.EADDRINUSE else ""
        parser.exit(1, f"cannot listen on {args.host}:{args.port}: {why}{hint}\n")
    with sock, contextlib.ExitStack() as stack:
        if os.environ.get("STYTCH_PROJECT_ID") and os.environ.get("STYTCH_SECRET"):
            log.info("using the Stytch project %s", os.environ["STYTCH_PROJECT_ID"])
        else:
            from stytch_totp.testing import ThreadedEmulator

            emulator = stack.enter_context(ThreadedEmulator(project_name="Example app"))
            os.environ["STYTCH_PROJECT_ID"] = emulator.project_id
            os.environ["STYTCH_SECRET"] = emulator.secret
            os.environ["STYTCH_BASE_URL"] = emulator.url
            log.info("started a local Stytch emulator at %s", emulator.url)
        sys.path.insert(0, str(Path(__file__).parent))
        from app import app

        host, port = sock.getsockname()[:2]
        log.info("open %s in your browser", url_of(sock))
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port))
        server.run(sockets=[sock])


if __name__ == "__main__":
    main()
