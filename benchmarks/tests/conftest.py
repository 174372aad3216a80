"""The benchmark suite's own tests: its scripts live in ``benchmarks/``, not in a package."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import run  # noqa: E402 - needs the path above


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    """``_server.py`` in its own process, no delay: ``(base_url, port)``."""
    with run.local_server() as started:
        yield started
