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


def _report(
    *, naive_ratio: float, sdk_ratio: float, memory_difference: float, tuned_ratio: float = 0.7
) -> dict[str, Any]:
    variants = list(bench_bulk.VARIANTS)
    median_ratio = {"raw": tuned_ratio, "naive_raw": naive_ratio, "sdk_loop": sdk_ratio}
    speed = {
        "requests": 6000,
        "concurrency": bench_bulk.CONCURRENCY,
        "ratios": {loop: [value] for loop, value in median_ratio.items()},
        "median_ratio": median_ratio,
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


def _target_rows(text: str) -> dict[str, tuple[str, str]]:
    """``{target: (result, verdict)}`` from the report's target table."""
    rows = text.split("| Target | Result | Met |")[1].strip().splitlines()[1:]
    cells = [row.strip("| ").split(" | ") for row in rows]
    return {target: (result, verdict) for target, result, verdict in cells}


NAIVE = "throughput >= 1.00x the naive raw aiohttp semaphore loop"
SDK_LOOP = "throughput >= 0.95x the semaphore loop over `client.totps.create`"
MEMORY = "peak RSS, 100,000 vs 1,000 inputs, differs by < 20 MB"


@pytest.mark.parametrize(
    ("naive_ratio", "sdk_ratio", "memory_difference", "verdicts"),
    [
        (1.10, 0.99, 1.0, ["yes", "yes", "yes"]),
        (0.73, 0.85, 25.0, ["no", "no", "no"]),
        (1.00, 0.95, 19.9, ["yes", "yes", "yes"]),  # at the limits: >= is met, < 20 MB is met
        (0.999, 0.949, 20.0, ["no", "no", "no"]),
        (1.02, 0.90, 0.0, ["yes", "no", "yes"]),
    ],
)
def test_the_report_says_whether_each_target_is_met(
    naive_ratio: float, sdk_ratio: float, memory_difference: float, verdicts: list[str]
) -> None:
    text = bench_bulk.markdown(
        _report(naive_ratio=naive_ratio, sdk_ratio=sdk_ratio, memory_difference=memory_difference)
    )
    rows = _target_rows(text)

    assert list(rows) == [NAIVE, SDK_LOOP, MEMORY]
    assert [verdict for _, verdict in rows.values()] == verdicts
    assert rows[NAIVE][0] == f"{naive_ratio:.3f}x"
    assert rows[SDK_LOOP][0] == f"{sdk_ratio:.3f}x"


def test_the_tuned_loop_ratio_is_shown_without_a_target() -> None:
    text = bench_bulk.markdown(
        _report(naive_ratio=1.0, sdk_ratio=1.0, memory_difference=0.0, tuned_ratio=0.812)
    )
    ratio_row = next(row for row in text.splitlines() if row.startswith("| `create_many` through"))

    assert ratio_row == "| `create_many` throughput / this loop's | 1 | 1.000 | 1.000 | 0.812 |"
    assert "tuned raw aiohttp + semaphore (informative)" in text
    assert not any("tuned" in target for target in _target_rows(text))


def test_the_report_has_the_latency_comparison() -> None:
    text = bench_bulk.markdown(_report(naive_ratio=0.9, sdk_ratio=0.9, memory_difference=0.0))

    table = text.split(f"| With {bench_bulk.LATENCY * 1000:.0f} ms of server latency")[1]
    rows = table.strip().split("\n\n")[0].splitlines()[2:]

    assert rows == [
        "| requests/s | 2,600 | 2,500 |",
        "| client CPU µs/request | 200 | 130 |",
        "| `create_many` throughput / this loop's | 1 | 1.040 |",
    ]
