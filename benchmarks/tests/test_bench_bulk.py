"""``benchmarks/bench_bulk.py``: every loop it compares really enrolls, and its report is right."""

from __future__ import annotations

from typing import Any

import bench_bulk
import pytest


@pytest.mark.parametrize("variant", sorted(bench_bulk.VARIANTS))
def test_each_loop_enrolls_every_user(server: tuple[str, int], variant: str) -> None:
    _, port = server
    # The worker exits non-zero (and measure raises) unless every answer was a good one.
    result = bench_bulk.measure(port, variant, 50)

    assert result["ok"] == 50
    assert result["seconds"] > 0
    assert result["maxrss_kb"] > 0


def _report(*, raw_ratio: float, memory_difference: float) -> dict[str, Any]:
    variants = list(bench_bulk.VARIANTS)
    speed = {
        "requests": 6000,
        "concurrency": bench_bulk.CONCURRENCY,
        "ratios": {v: [raw_ratio] for v in variants if v != "create_many"},
        "median_ratio": {"raw": raw_ratio, "naive_raw": 0.8, "sdk_loop": 0.95},
        "median_rate": dict.fromkeys(variants, 1000.0),
        "median_cpu_us": dict.fromkeys(variants, 100.0),
    }
    slow = {
        "latency_seconds": bench_bulk.LATENCY,
        "median_ratio": {"raw": 1.04},
        "median_rate": {"create_many": 2600.0, "raw": 2500.0},
        "median_cpu_us": {"create_many": 200.0, "raw": 130.0},
    }
    memory = {
        "inputs": [1000, 100_000],
        "peak_rss_mb": {"1000": 40.0, "100000": 40.0 + memory_difference},
        "difference_mb": memory_difference,
    }
    return {"throughput": speed, "with_latency": slow, "memory": memory}


@pytest.mark.parametrize(
    ("raw_ratio", "memory_difference", "verdicts"),
    [
        (0.95, 1.0, ["yes", "yes"]),
        (0.63, 25.0, ["no", "no"]),
        (0.90, 19.9, ["yes", "yes"]),  # at the limits: >= 0.90x is met, < 20 MB is met
        (0.899, 20.0, ["no", "no"]),
    ],
)
def test_the_report_says_whether_each_target_is_met(
    raw_ratio: float, memory_difference: float, verdicts: list[str]
) -> None:
    text = bench_bulk.markdown(_report(raw_ratio=raw_ratio, memory_difference=memory_difference))
    target_rows = text.split("| Target | Result | Met |")[1].strip().splitlines()[1:]

    assert [row.rstrip(" |").rsplit("| ", 1)[1] for row in target_rows] == verdicts
    assert f"{raw_ratio:.3f}x" in target_rows[0]


def test_the_report_has_the_latency_comparison() -> None:
    text = bench_bulk.markdown(_report(raw_ratio=0.7, memory_difference=0.0))

    table = text.split(f"| With {bench_bulk.LATENCY * 1000:.0f} ms of server latency")[1]
    rows = table.strip().split("\n\n")[0].splitlines()[2:]

    assert rows == [
        "| requests/s | 2,600 | 2,500 |",
        "| client CPU µs/request | 200 | 130 |",
        "| `create_many` throughput / this loop's | 1 | 1.040 |",
    ]
