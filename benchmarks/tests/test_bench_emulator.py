"""``benchmarks/bench_emulator.py``: it measures a real emulator doing its real work, and says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bench_emulator
import pytest


def test_a_measurement_runs_a_real_emulator() -> None:
    report = bench_emulator.measure(30, 1, 4, pin_cores=False)
    (run,) = report["runs"]
    for phase in ("users", "creates"):
        assert run[phase]["calls"] == 30
        assert run[phase]["wall_seconds"] > 0
    summary = report["summary"]["creates"]
    assert summary["calls_per_wall_second"] > 0
    if summary["cpu_us_per_call"] is not None:  # /proc is there (Linux)
        assert summary["cpu_us_per_call"] > 0


@pytest.mark.parametrize(
    "body",
    [
        {"qr_code": "data:image/png;base64, AAAA", "secret": "A" * 32, "recovery_codes": [""] * 10},
        {"qr_code": "", "secret": "A" * 32, "recovery_codes": [""] * 10},
        {"qr_code": "data:image/png;base64,iVBORw0KGgo=", "secret": "", "recovery_codes": []},
    ],
)
def test_an_answer_that_is_not_a_real_create_fails_the_run(body: dict[str, Any]) -> None:
    with pytest.raises(bench_emulator.BenchmarkError):
        bench_emulator.check_created(body)


def _report(creates_cpu_seconds: float) -> dict[str, Any]:
    runs = [
        {
            phase: {
                "calls": 1000,
                "wall_seconds": 1.0,
                "cpu_seconds": seconds,
                "user_seconds": seconds * 0.9,
                "system_seconds": seconds * 0.1,
            }
            for phase, seconds in (("users", 0.3), ("creates", creates_cpu_seconds))
        }
    ]
    meta = {
        "date": "today",
        "machine": "a machine",
        "python": "3.x",
        "requests": 1000,
        "repetitions": 1,
        "concurrency": 32,
        "pinned": "no",
    }
    return {"meta": meta, "runs": runs, "summary": bench_emulator.summarize(runs)}


@pytest.mark.parametrize(
    ("seconds", "verdict"), [(0.5, "met (2,000/s)"), (1.25, "NOT met (800/s)")]
)
def test_the_table_says_whether_the_target_is_met(seconds: float, verdict: str) -> None:
    text = bench_emulator.markdown(_report(seconds))
    assert f"| at least 1,000 creates per CPU-second | {verdict} |" in text
    assert "| `POST /v1/totps` (create) |" in text


def test_the_docs_section_is_replaced_between_its_markers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(
        f"# Benchmarks\nbefore\n{bench_emulator.BEGIN}\nold table\n{bench_emulator.END}\nafter\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(bench_emulator, "DOCS_PAGE", page)
    bench_emulator.write_docs("new table")
    assert page.read_text(encoding="utf-8") == (
        f"# Benchmarks\nbefore\n{bench_emulator.BEGIN}\nnew table\n{bench_emulator.END}\nafter\n"
    )
