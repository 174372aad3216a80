"""``benchmarks/_report.py`` and the runner's helpers: pure functions over results."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import _report
import pytest
import run

PROSE_BEFORE = "# Benchmarks\n\nHow the numbers are obtained.\n\n## Results\n\n"
PROSE_AFTER = "\n## Afterword\n\nStays.\n"


def sample_results() -> dict[str, Any]:
    """Two repetitions in which the machine got twice as slow between them."""
    throughput = []
    base = {"naive": 100.0, "tuned": 80.0, "official": 125.0, "stytch_totp": 90.0}
    for rep, slowdown in ((0, 1.0), (1, 2.0)):
        for endpoint in _report.ENDPOINTS:
            for concurrency in (1, 16, 128):
                for variant, cpu in base.items():
                    throughput.append(
                        {
                            "rep": rep,
                            "endpoint": endpoint,
                            "concurrency": concurrency,
                            "variant": variant,
                            "cpu_us_per_request": cpu * slowdown,
                            "requests_per_second": 1e6 / (cpu * slowdown),
                        }
                    )
    rss = [
        {
            "rep": 0,
            "variant": variant,
            "peak_rss_kib": kib,
            "rss_before_kib": 30_000,
            "calls": 10_000,
            "server_peak_pending": 10_000,
        }
        for variant, kib in (
            ("naive", 200_000),
            ("tuned", 190_000),
            ("official", 250_000),
            ("stytch_totp", 210_000),
        )
    ]
    imports = [
        {"rep": rep, "module": module, "us": us * (rep + 1)}
        for rep in range(3)
        for module, us in (("stytch_totp", 180_000), ("stytch", 450_000), ("aiohttp", 110_000))
    ]
    parse = {
        "body_bytes": 4205,
        "us": {
            "official_bytes": 32.0,
            "stytch_totp_bytes": 40.0,
            "official_dict": 20.0,
            "stytch_totp_dict": 34.0,
        },
        "samples_us": {
            "official_bytes": [32.0, 64.0],
            "stytch_totp_bytes": [40.0, 80.0],
            "official_dict": [20.0, 40.0],
            "stytch_totp_dict": [34.0, 68.0],
        },
    }
    return {
        "meta": {
            "date": "2026-01-01 00:00 UTC",
            "machine": "test CPU",
            "python": "3.11",
            "versions": {},
        },
        "config": {"quick": False, "reps": 2, "requests": 2000, "warmup": 200},
        "throughput": throughput,
        "rss": rss,
        "import": imports,
        "parse": parse,
        "bulk": {"markdown": "| a | b |\n|---|---|\n| 1 | 2 |", "returncode": 0},
    }


def test_ratios_are_paired_within_each_repetition() -> None:
    results = sample_results()
    # Every repetition says 0.90, whatever the machine's speed at the time.
    assert _report.throughput_ratio(results, "create", 16, "stytch_totp", "naive") == pytest.approx(
        0.9
    )
    assert _report.import_ratio(results, "stytch_totp", "stytch") == pytest.approx(0.4)
    assert _report.parse_ratio(results, "bytes") == pytest.approx(1.25)
    assert _report.rss_ratio(results, "stytch_totp") == pytest.approx(1.05)


def test_a_ratio_needs_both_runs_of_a_repetition() -> None:
    results = sample_results()
    results["throughput"] = [
        s for s in results["throughput"] if not (s["rep"] == 1 and s["variant"] == "naive")
    ]
    # Only repetition 0 has both; the unpaired stytch-totp run of repetition 1 is ignored.
    assert _report.throughput_ratio(results, "create", 16, "stytch_totp", "naive") == pytest.approx(
        0.9
    )
    assert math.isnan(_report.throughput_ratio(results, "create", 16, "stytch_totp", "missing"))


def test_targets_say_which_are_met() -> None:
    verdicts = {t.description: t.met for t in _report.targets(sample_results())}
    cpu_vs_naive = "CPU/request, authenticate, concurrency 16: stytch-totp ÷ naive raw aiohttp"
    cpu_vs_tuned = "CPU/request, authenticate, concurrency 16: stytch-totp ÷ tuned raw aiohttp"
    assert verdicts[cpu_vs_naive] is True  # 0.90 <= 0.95
    assert verdicts[cpu_vs_tuned] is False  # 1.125 > 1.10
    assert verdicts["Import time: `import stytch_totp` ÷ `import stytch`"] is True
    parse_bytes = "Parse an authenticate response, bytes → models: stytch-totp ÷ official SDK"
    assert verdicts[parse_bytes] is False
    assert len(verdicts) == 4 * 2 + 4


def test_markdown_has_every_figure_and_the_bulk_tables() -> None:
    text = _report.markdown(sample_results(), "_static/benchmarks.png")
    for heading in (
        "### Targets",
        "### Client CPU per request",
        "### Requests per second",
        "### Peak RSS with 10,000 authenticate calls in flight",
        "### Import time",
        "### Parse one authenticate response (4,205 bytes",
        "### Bulk enrollment",
    ):
        assert heading in text
    assert "![" in text
    assert "(_static/benchmarks.png)" in text
    assert "| 1 | 2 |" in text
    assert "0.90x" in text


def test_markdown_of_a_partial_run_says_n_a_instead_of_failing() -> None:
    results = sample_results()
    del results["rss"], results["import"], results["parse"], results["bulk"]
    text = _report.markdown(results, None)
    assert "Peak RSS" in text
    assert "n/a" in text
    assert "### Peak RSS" not in text


def test_generated_block_replaces_only_what_is_between_the_markers() -> None:
    document = (
        PROSE_BEFORE + _report.BEGIN_MARKER + "\nold numbers\n" + _report.END_MARKER + PROSE_AFTER
    )
    updated = _report.replace_generated(document, "new numbers")
    assert updated.startswith(PROSE_BEFORE)
    assert updated.endswith(PROSE_AFTER)
    assert "new numbers" in updated
    assert "old numbers" not in updated
    assert _report.replace_generated(updated, "new numbers") == updated


def test_generated_block_is_appended_when_the_markers_are_missing() -> None:
    updated = _report.replace_generated(PROSE_BEFORE, "numbers")
    assert updated.startswith(PROSE_BEFORE.rstrip("\n"))
    assert updated.rstrip().endswith(_report.END_MARKER)
    assert "numbers" in updated


def test_chart_is_a_png(tmp_path: Path) -> None:
    chart = tmp_path / "static" / "chart.png"
    _report.write_chart(sample_results(), chart)
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_rotation_puts_each_variant_in_each_position() -> None:
    orders = [run.rotated(["a", "b", "c", "d"], shift) for shift in range(4)]
    for position in range(4):
        assert {order[position] for order in orders} == {"a", "b", "c", "d"}
    assert run.rotated(["a", "b"], 5) == ["b", "a"]


def test_quick_mode_has_smaller_defaults_and_explicit_options_win() -> None:
    quick = run.parse_arguments(["--quick"])
    full = run.parse_arguments([])
    assert quick.requests < full.requests
    assert quick.reps < full.reps
    assert full.rss_calls == 10_000
    assert run.parse_arguments(["--quick", "--requests", "123"]).requests == 123
