"""The ``stytch-totp`` command line (also ``python -m stytch_totp``).

Each sub-command lives in its own module exposing ``register(subparsers)``; modules import their
optional dependencies lazily, so ``stytch-totp --help`` works with only the core installed.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from .._version import __version__

__all__ = ["main"]

_COMMAND_MODULES = ("_demo", "_emulator", "_bulk_enroll.command")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="stytch-totp",
        description="Stytch TOTP tools: a demo, a local emulator, and bulk enrollment.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.run(args)
    return status
