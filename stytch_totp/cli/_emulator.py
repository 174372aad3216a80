"""``stytch-totp emulator``: run the local Stytch TOTP emulator until Ctrl-C or SIGTERM.

It prints the base URL and the project's credentials (the emulator's own, good for nothing
else), then a line starting with ``Ready.`` once it accepts requests. ``--users N`` makes N users
first (for rehearsing a bulk enrollment), and ``--users-csv FILE`` writes their ids where
``stytch-totp bulk-enroll`` reads them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import shlex
import signal
import sqlite3
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from .. import _config
from .._core.net import is_loopback_host
from ._exit import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from ..testing import Emulator

__all__ = ["register"]

PROG: Final = "stytch-totp emulator"
DEFAULT_PORT: Final = 8787

_DESCRIPTION = """\
Run a local, stateful Stytch TOTP API for developing and testing an app offline.

Point the app (or stytch_totp.Client.from_env()) at the printed base URL with the printed
credentials. Without --state, everything is forgotten when the emulator stops; with --state FILE,
users, TOTPs, sessions and the credentials themselves are kept in that SQLite file.

To rehearse a bulk enrollment, --users 20000 --users-csv users.csv makes 20,000 users
(user1@example.com, user2@example.com...; those already in the state file are kept) and
writes their ids to users.csv, the input of stytch-totp bulk-enroll.
"""


def register(subparsers: Any) -> None:
    """Add the ``emulator`` sub-command."""
    parser = subparsers.add_parser(
        "emulator",
        help="run a local Stytch TOTP emulator",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        type=_host,
        default="127.0.0.1",
        help="interface to listen on; 0.0.0.0 for every one (default: %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="keep the state in this SQLite file, across restarts (default: in memory)",
    )
    parser.add_argument(
        "--project-name",
        type=_project_name,
        help="issuer name authenticator apps show (default: the emulator's)",
    )
    parser.add_argument(
        "--users",
        type=_count,
        default=0,
        metavar="N",
        help="make N users before serving (user1@example.com...), reusing those in the state",
    )
    parser.add_argument(
        "--users-csv",
        type=Path,
        metavar="FILE",
        help="write the ids of the --users users to FILE (user_id,email), for bulk-enroll",
    )
    parser.add_argument(
        "--pending-totp",
        choices=("refuse", "replace"),
        default="refuse",
        help="what create does while the user's last TOTP is unverified: answer 400 "
        "pending_totp_exists, or replace it (default: %(default)s; Stytch's is undocumented)",
    )
    parser.set_defaults(run=_run)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return port


def _count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of users (0 or more)")
    return count


def _host(text: str) -> str:
    if not text.strip():
        # An empty host would listen on every interface without saying so.
        raise argparse.ArgumentTypeError("must not be empty (0.0.0.0 listens on every interface)")
    return text


def _project_name(text: str) -> str:
    if not text or ":" in text:
        raise argparse.ArgumentTypeError("must be non-empty and must not contain ':'")
    return text


def _write_users_csv(path: Path, user_ids: list[str], emails: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(("user_id", "email"))
        writer.writerows(zip(user_ids, emails, strict=True))


def _print_banner(
    emulator: Emulator, args: argparse.Namespace, emails: list[str], out: IO[str]
) -> None:
    state = args.state
    where = f"{state} (SQLite, kept across restarts)" if state else "in memory (lost on exit)"
    exports = " ".join(
        f"{name}={shlex.quote(value)}"
        for name, value in (
            (_config.ENV_PROJECT_ID, emulator.project_id),
            (_config.ENV_SECRET, emulator.secret),
            (_config.ENV_BASE_URL, emulator.url),
        )
    )
    lines = [
        f"Stytch TOTP emulator listening on {emulator.url}",
        f"  project_id  {emulator.project_id}",
        f"  secret      {emulator.secret}",
        f"  state       {where}",
    ]
    if emails:
        written = f", ids in {args.users_csv}" if args.users_csv else ""
        lines.append(f"  users       {len(emails)} ({emails[0]} ... {emails[-1]}){written}")
    lines += [
        "",
        "Point your app at it (stytch_totp.Client.from_env() reads these):",
        f"  export {exports}",
        "",
        "Ready. Press Ctrl-C to stop.",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


async def serve(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run the emulator described by ``args`` until SIGINT or SIGTERM."""
    from ..testing import Emulator
    from ..testing._emulator import DEFAULT_USER_EMAILS

    try:
        emulator = Emulator(
            args.host,
            args.port,
            state=args.state,
            project_name=args.project_name,
            pending_totp=args.pending_totp,
        )
    except (ValueError, OSError, sqlite3.Error) as exc:
        # Only the state file can be wrong here: the other arguments were checked by argparse.
        err.write(f"{PROG}: cannot use the state file {args.state}: {exc}\n")
        return EXIT_USAGE
    emails = [DEFAULT_USER_EMAILS.format(n=n) for n in range(1, args.users + 1)]
    try:
        user_ids = emulator.ensure_users(args.users)
        if args.users_csv is not None:
            _write_users_csv(args.users_csv, user_ids, emails)
    except OSError as exc:
        await emulator.aclose()
        err.write(f"{PROG}: cannot write {args.users_csv}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    try:
        await emulator.start()
    except OSError as exc:
        await emulator.aclose()
        err.write(f"{PROG}: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows' event loop: Ctrl-C then arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
    try:
        if not is_loopback_host(args.host):
            err.write(f"{PROG}: warning: listening on {args.host}, reachable from other machines\n")
        _print_banner(emulator, args, emails, out)
        await stop.wait()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        await emulator.aclose()
    out.write("Stopped.\n")
    out.flush()
    return EXIT_OK


def _check(args: argparse.Namespace) -> str | None:
    """What is wrong with the combination of arguments, if anything."""
    if args.users_csv is not None and not args.users:
        return "--users-csv needs --users N (the users whose ids it writes)"
    return None


def _run(args: argparse.Namespace) -> int:
    problem = _check(args)
    if problem is not None:
        sys.stderr.write(f"{PROG}: error: {problem}\n")
        return EXIT_USAGE
    try:
        from ..testing import Emulator  # noqa: F401 - fail early, with the install hint
    except ImportError as exc:
        sys.stderr.write(f"{PROG}: {exc}\n")
        return EXIT_USAGE
    try:
        return asyncio.run(serve(args, sys.stdout, sys.stderr))
    except KeyboardInterrupt:
        return EXIT_OK
