"""``benchmarks/bench_sync.py``: its report, and the docs section it writes only when asked."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bench_sync
import pytest


def _runs(cpu: dict[str, float]) -> dict[str, list[dict[str, Any]]]:
    """Two repetitions per thread count; the second on a machine twice as slow."""
    return {
        threads: [
            {
                variant: {"calls": 1000, "seconds": 1.0 * slowdown, "cpu": seconds * slowdown}
                for variant, seconds in cpu.items()
            }
            for slowdown in (1.0, 2.0)
        ]
        for threads in ("1", "16")
    }


def test_the_report_has_paired_ratios_counts_and_verdicts(tmp_path: Path) -> None:
    results = tmp_path / "sync.json"
    lines = bench_sync.report(
        _runs({"requests": 1.0, "official": 1.25, "sync_client": 0.5}),
        {"requests": 800_000.0, "official": 1_000_000.0, "sync_client": 400_000.0},
        {"calls": 1000},
        results,
    )

    # Medians of the absolute figures, and the ratio paired within each repetition.
    assert "| 1 | stytch-totp `SyncClient` | 750 | 750 µs | 0.50x |" in lines
    assert "| stytch-totp `SyncClient` | 400,000 | 0.50x |" in lines
    assert lines[-2] == (
        "- 1 thread(s): SyncClient CPU per call 0.50x requests (met: target <= 1.2x), "
        "0.40x the official SDK (met: target < 1.00x)"
    )
    assert results.exists()


def test_without_counts_the_report_has_no_instruction_table(tmp_path: Path) -> None:
    lines = bench_sync.report(
        _runs({"requests": 1.0, "official": 1.0, "sync_client": 1.3}),
        {},
        {"calls": 1000},
        tmp_path / "sync.json",
    )

    assert not any("Instructions per call" in line for line in lines)
    assert "missed: target <= 1.2x" in lines[-1]


def test_the_docs_section_is_written_between_its_markers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# B\nbefore\n{bench_sync.BEGIN}\nold\n{bench_sync.END}\nafter\n")
    monkeypatch.setattr(bench_sync, "DOCS_PAGE", page)

    bench_sync.write_docs(["| new |"])

    text = page.read_text()
    assert text.startswith(f"# B\nbefore\n{bench_sync.BEGIN}\nMeasured ")
    assert text.endswith(f"\n| new |\n{bench_sync.END}\nafter\n")
    assert "old" not in text


def test_only_a_run_that_asks_writes_the_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[list[str]] = []
    monkeypatch.setattr(bench_sync, "write_docs", written.append)
    monkeypatch.setattr(bench_sync, "run_worker", lambda *a: {"seconds": 1, "cpu": 1, "calls": 1})
    monkeypatch.setattr(bench_sync, "report", lambda *a: ["| table |"])
    monkeypatch.setattr(bench_sync, "local_server", _no_server)

    for argv, expected in (([], []), (["--quick"], []), (["--write-docs"], [["| table |"]])):
        written.clear()
        monkeypatch.setattr("sys.argv", ["bench_sync.py", *argv, "--repetitions", "1"])
        bench_sync.main()
        assert written == expected


@contextlib.contextmanager
def _no_server() -> Iterator[tuple[str, int]]:
    """Stands in for ``local_server``: nothing is started."""
    yield "http://127.0.0.1:0/", 0
