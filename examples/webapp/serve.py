"""Serve the example app: ``python examples/webapp/serve.py`` (``--help`` for the options).

With ``STYTCH_PROJECT_ID`` and ``STYTCH_SECRET`` set (and ``STYTCH_BASE_URL``, if not
Stytch's test environment), the app talks to that Stytch project. Without them, a local Stytch
emulator starts first, in this process, and the app talks to it: nothing leaves the machine,
and its users last as long as the process.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from pathlib import Path

import uvicorn

log = logging.getLogger("webapp")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    with contextlib.ExitStack() as stack:
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

        log.info("open http://%s:%d/ in your browser", args.host, args.port)
        uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
