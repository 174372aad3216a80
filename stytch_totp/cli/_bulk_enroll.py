"""Placeholder: being implemented (see the issue tracker)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Not implemented yet."""
    parser = subparsers.add_parser("bulk_enroll".replace("_", "-"), help="(not implemented yet)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    raise SystemExit("not implemented yet")
