"""``benchmarks/_worker.py`` end to end: each variant, in a fresh process, against the server."""

from __future__ import annotations

import subprocess
import sys

import pytest
import run
from _report import LAYER_LABELS, VARIANT_ORDER


@pytest.mark.parametrize("variant", [*VARIANT_ORDER, *LAYER_LABELS])
def test_each_variant_measures_real_answers(server: tuple[str, int], variant: str) -> None:
    url, _ = server
    for endpoint in ("authenticate", "create"):
        result = run.run_worker(
            [
                "throughput", variant, endpoint, "--url", url,
                "--concurrency", "4", "--requests", "40", "--warmup", "8",
            ]
        )  # fmt: skip
        assert result["cpu_us_per_request"] > 0
        assert result["requests_per_second"] > 0


def test_a_variant_that_gets_wrong_answers_fails_the_run() -> None:
    # A server that answers every path with an error: the worker must not report a number.
    with run.local_server() as (url, _), pytest.raises(run.BenchmarkError, match="worker failed"):
        run.run_worker(
            [
                "throughput", "tuned", "create", "--url", url + "nowhere/",
                "--concurrency", "1", "--requests", "2", "--warmup", "0",
            ]
        )  # fmt: skip


def test_rss_counts_every_call_and_the_server_saw_them_in_flight() -> None:
    with run.local_server(delay=0.2) as (url, port):
        result = run.run_worker(["rss", "stytch_totp", "--url", url, "--calls", "200"])
        stats = run.server_stats(port)
    assert result["calls"] == 200
    assert result["peak_rss_kib"] >= result["rss_before_kib"] > 0
    assert stats["peak_pending"] == 200


def test_import_time_is_read_from_importtime() -> None:
    # A module nothing imports at interpreter start-up (under coverage, `json` already is).
    assert run.import_time_us("colorsys") > 0
    with pytest.raises(run.BenchmarkError):
        run.import_time_us("no_such_module_anywhere")


def test_breakdown_prints_one_row_per_step() -> None:
    completed = subprocess.run(
        [sys.executable, str(run.HERE / "breakdown.py"), "--requests", "20", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=run.child_environment(),
    )
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + 4  # header, rule, four steps
    assert all(float(row.rsplit("|", 2)[1]) > 0 for row in rows[2:])
