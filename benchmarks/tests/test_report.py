"""``benchmarks/_report.py`` and the runner's helpers: pure functions over synthetic results."""

from __future__ import annotations

import argparse
import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _report
import pytest
import run

PROSE_BEFORE = "# Benchmarks\n\nHow the numbers are obtained.\n\n## Results\n\n"
PROSE_AFTER = "\n## Afterword\n\nStays.\n"

#: Instructions per request of the synthetic run, the same in every cell.
COUNTS = {
    "naive": 660_000.0,
    "tuned": 500_000.0,
    "official": 950_000.0,
    "stytch_totp": 640_000.0,
    "transport_only": 520_000.0,
    "no_models": 560_000.0,
}


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
    # Written in the reverse of table order: the report must sort the cells itself.
    instructions = {
        "when": "2026-01-01T00:00:00+00:00",
        "settings": {"requests": 1000, "warmup": 300},
        "instructions_per_request": {
            f"{endpoint} @ {concurrency}": dict(COUNTS)
            for endpoint in ("create", "authenticate")
            for concurrency in (128, 16)
        },
    }
    return {
        "meta": {
            "date": "2026-01-01 00:00 UTC",
            "machine": "test CPU",
            "python": "3.11",
            "versions": {},
            "phase_seconds": {"import": 12.0, "instructions": 1800.0},
        },
        "config": {"quick": False, "reps": 2, "requests": 2000, "warmup": 200},
        "throughput": throughput,
        "rss": rss,
        "import": imports,
        "instructions": instructions,
        "models": {
            "page": "docs/benchmarks.md",
            "authenticate_dict_time_ratio": 0.52,
            "authenticate_dict_instruction_ratio": 0.548,
        },
        "bulk": {
            "markdown": "| a | b |\n|---|---|\n| 1 | 2 |",
            "returncode": 0,
            "report": {
                "throughput": {"median_ratio": {"raw": 0.8, "naive_raw": 1.02, "sdk_loop": 0.94}}
            },
        },
        "sync": {
            "wrote_docs": False,
            "report": {"table": ["| Threads | Client |", "|---|---|", "| 1 | SyncClient |"]},
        },
    }


def by_description(results: dict[str, Any]) -> dict[str, _report.Target]:
    return {target.description: target for target in _report.targets(results)}


def test_ratios_are_paired_within_each_repetition() -> None:
    results = sample_results()
    # Every repetition says 0.90, whatever the machine's speed at the time.
    assert _report.throughput_ratio(results, "create", 16, "stytch_totp", "naive") == pytest.approx(
        0.9
    )
    assert _report.import_ratio(results, "stytch_totp", "stytch") == pytest.approx(0.4)
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


def test_instruction_ratios_come_from_the_counts_of_the_same_cell() -> None:
    results = sample_results()
    results["instructions"]["instructions_per_request"]["create @ 128"]["naive"] = 800_000.0

    assert _report.instruction_ratio(
        results, "authenticate", 16, "stytch_totp", "naive"
    ) == pytest.approx(640 / 660)
    assert _report.instruction_ratio(
        results, "create", 128, "stytch_totp", "naive"
    ) == pytest.approx(0.8)
    assert math.isnan(_report.instruction_ratio(results, "create", 1, "stytch_totp", "naive"))
    assert _report.instruction_cells(results) == [
        ("authenticate", 16),
        ("authenticate", 128),
        ("create", 16),
        ("create", 128),
    ]


def test_the_layers_add_up_to_the_full_client() -> None:
    layers = _report.layer_breakdown(sample_results(), "authenticate", 16)

    assert layers == {
        "transport": 520_000.0,  # transport_only
        "call_path": 40_000.0,  # no_models - transport_only
        "models": 80_000.0,  # stytch_totp - no_models
        "total": 640_000.0,
    }
    assert layers["transport"] + layers["call_path"] + layers["models"] == layers["total"]


def test_without_the_layer_counts_there_is_no_breakdown() -> None:
    results = sample_results()
    for cell in results["instructions"]["instructions_per_request"].values():
        del cell["no_models"]

    assert _report.layer_breakdown(results, "authenticate", 16) is None
    text = _report.breakdown_markdown(results)
    assert text.startswith("Not counted in this run")
    assert "--layers" in text


def test_the_breakdown_table_has_one_row_per_cell_with_each_layers_share() -> None:
    text = _report.breakdown_markdown(sample_results())
    rows = [line for line in text.splitlines() if line.startswith("| ")]

    assert len(rows) == 2 + 4  # header, rule, four cells
    assert rows[2] == (
        "| authenticate | 16 | 500.0k | 520.0k (81%) | 40.0k (6%) | 80.0k (12%) | 640.0k "
        "| 660.0k | 950.0k |"
    )
    assert "2026-01-01 00:00 UTC" in text


@pytest.mark.parametrize(
    ("measured", "at_least", "met", "verdict"),
    [
        (1.00, False, True, "yes"),  # a ceiling is met at the limit
        (1.001, False, False, "**no**"),
        (0.999, True, False, "**no**"),  # a floor is missed just below it
        (1.00, True, True, "yes"),
        (1.30, True, True, "yes"),
        (math.nan, False, None, "n/a"),
        (math.nan, True, None, "n/a"),
    ],
)
def test_a_target_is_a_ceiling_or_a_floor(
    measured: float, at_least: bool, met: bool | None, verdict: str
) -> None:
    target = _report.Target("x", measured, 1.0, at_least=at_least)

    assert target.met is met
    assert target.verdict == verdict
    assert target.bound == ("≥ 1.00x" if at_least else "≤ 1.00x")


def test_a_missed_informative_target_is_not_shown_as_a_failure() -> None:
    stretch = _report.Target("stretch", 0.97, 0.95, figure="counted", informative=True)

    assert stretch.met is False
    assert stretch.verdict == "no"


def test_the_targets_are_issue_14s_each_with_its_figure() -> None:
    targets = by_description(sample_results())
    cell = "authenticate, concurrency 16"

    vs_naive = targets[f"Instructions/request, {cell}: stytch-totp ÷ naive raw aiohttp"]
    assert (vs_naive.limit, vs_naive.figure, vs_naive.met) == (1.00, "counted", True)
    vs_official = targets[f"Instructions/request, {cell}: stytch-totp ÷ official stytch SDK"]
    assert (vs_official.limit, vs_official.figure) == (0.75, "counted")
    assert vs_official.measured == pytest.approx(640 / 950)
    stretch = targets[f"Instructions/request, {cell}: stytch-totp ÷ naive raw aiohttp (stretch)"]
    assert (stretch.limit, stretch.informative, stretch.met) == (0.95, True, False)  # 0.97
    cpu = targets[f"CPU/request, {cell}: stytch-totp ÷ naive raw aiohttp"]
    assert (cpu.limit, cpu.figure) == (1.05, "timed")
    assert cpu.measured == pytest.approx(0.9)

    parse = targets[
        "Parse one authenticate body, dict → models: stytch-totp ÷ official SDK (pydantic)"
    ]
    assert (parse.measured, parse.limit, parse.figure) == (0.52, 0.55, "timed")
    assert parse.note == "instructions: 0.548x"

    naive_loop = targets[
        "`create_many` throughput, concurrency 64: ÷ naive raw aiohttp semaphore loop"
    ]
    assert (naive_loop.measured, naive_loop.limit, naive_loop.at_least) == (1.02, 1.0, True)
    assert naive_loop.met is True
    sdk_loop = targets[
        "`create_many` throughput, concurrency 64: ÷ semaphore loop over `client.totps.create`"
    ]
    assert (sdk_loop.measured, sdk_loop.limit, sdk_loop.at_least) == (0.94, 0.95, True)
    assert sdk_loop.met is False

    rss = targets["Peak RSS, 10,000 calls in flight: stytch-totp ÷ naive raw aiohttp"]
    assert (rss.limit, rss.figure, rss.met) == (1.00, "memory", False)  # 1.05
    imports = targets["Import time: `import stytch_totp` ÷ `import stytch`"]
    assert (imports.limit, imports.met) == (0.5, True)

    # Per cell (2 endpoints x 2 concurrencies): 3 counted rows and 1 timed; then 5 more.
    assert len(targets) == 4 * 4 + 5
    assert {(t.figure, t.informative) for t in targets.values()} == {
        ("counted", False),
        ("counted", True),
        ("timed", False),
        ("memory", False),
    }


def test_every_target_of_a_run_that_measured_nothing_is_n_a() -> None:
    results = {"meta": {}, "config": {"quick": True}}
    targets = _report.targets(results)

    assert {target.verdict for target in targets} == {"n/a"}
    assert len(targets) == 4 * 4 + 5
    text = _report.markdown(results, None)
    assert "Not counted in this run." in text
    assert "Not measured in this run." in text
    assert "**no**" not in text


def test_without_valgrind_the_counted_targets_say_n_a_and_why() -> None:
    results = sample_results()
    results["instructions"] = {"skipped": "valgrind is not installed, so nothing was counted"}
    targets = _report.targets(results)

    assert {t.verdict for t in targets if t.figure == "counted"} == {"n/a"}
    assert all(t.met is not None for t in targets if t.figure != "counted")
    text = _report.markdown(results, None)
    assert "Counted: skipped (valgrind is not installed, so nothing was counted)." in text
    assert "Not counted in this run: valgrind is not installed" in text
    assert "valgrind is not installed" in _report.breakdown_markdown(results)
    assert "not counted (valgrind is not installed" in _report.ratio_summary(results)


def test_markdown_has_every_figure_and_the_bulk_tables() -> None:
    text = _report.markdown(sample_results(), "_static/benchmarks.png")
    for heading in (
        "### Targets",
        "### Instructions per request (callgrind",
        "### Client CPU per request",
        "### Requests per second",
        "### Peak RSS with 10,000 authenticate calls in flight",
        "### Import time",
        "### Bulk enrollment",
        "### Synchronous client",
        "### Parsing a response",
    ):
        assert heading in text
    assert "(_static/benchmarks.png)" in text
    assert "| 1 | 2 |" in text
    assert "| 1 | SyncClient |" in text
    assert "0.90x" in text
    assert "Phases took import 0.2 min, instructions 30.0 min." in text


def test_the_targets_table_says_which_figure_checks_each_row() -> None:
    text = _report.markdown(sample_results(), None)
    rows = {
        line.split(" | ")[0].removeprefix("| "): line.split(" | ")[1:]
        for line in text.split("### Targets")[1].split("###")[0].splitlines()
        if line.startswith("| ")
    }

    vs_naive = rows[
        "Instructions/request, create, concurrency 128: stytch-totp ÷ naive raw aiohttp"
    ]
    assert vs_naive == ["counted", "0.970x", "≤ 1.00x", "yes", " |"]
    parse = rows[
        "Parse one authenticate body, dict → models: stytch-totp ÷ official SDK (pydantic)"
    ]
    assert parse == ["timed", "0.52x", "≤ 0.55x", "yes", "instructions: 0.548x |"]
    sdk_loop = rows[
        "`create_many` throughput, concurrency 64: ÷ semaphore loop over `client.totps.create`"
    ]
    assert sdk_loop[:4] == ["timed", "0.94x", "≥ 0.95x", "**no**"]
    assert "*counted*: instructions per request under callgrind" in text


def test_the_instructions_table_shows_every_variant_and_the_layers() -> None:
    text = _report.markdown(sample_results(), None)
    table = text.split("### Instructions per request")[1].split("###")[0]
    header, _, first, *_ = [line for line in table.splitlines() if line.startswith("| ")]

    assert header == (
        "| Endpoint | Concurrency | naive raw aiohttp | tuned raw aiohttp | official stytch SDK "
        "| stytch-totp: transport only | stytch-totp: without models | stytch-totp (full) "
        "| stytch-totp ÷ naive | ÷ tuned | ÷ official |"
    )
    assert first == (
        "| authenticate | 16 | 660.0k | 500.0k | 950.0k | 520.0k | 560.0k | 640.0k "
        "| 0.970x | 1.280x | 0.674x |"
    )


def test_the_sync_tables_are_left_to_their_own_section_when_the_docs_have_them() -> None:
    results = sample_results()
    results["sync"]["wrote_docs"] = True

    assert "### Synchronous client" not in _report.markdown(results, None)


def test_markdown_of_a_partial_run_says_n_a_instead_of_failing() -> None:
    results = sample_results()
    del results["rss"], results["import"], results["bulk"], results["models"]
    text = _report.markdown(results, None)
    assert "Peak RSS" in text
    assert "n/a" in text
    assert "### Peak RSS" not in text


def test_the_summary_prints_every_target_with_its_verdict() -> None:
    summary = _report.ratio_summary(sample_results())

    assert "authenticate c=16     640.0k  ÷naive 0.970x  ÷tuned 1.280x  ÷official 0.674x" in (
        summary
    )
    assert "[    met] counted Instructions/request, authenticate, concurrency 16" in summary
    assert "[not yet] counted Instructions/request, authenticate, concurrency 16" in summary
    assert "[ MISSED] timed   `create_many` throughput" in summary
    assert "(limit ≤ 0.55x; instructions: 0.548x)" in summary


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


def test_the_breakdown_has_markers_of_its_own() -> None:
    breakdown = (_report.BREAKDOWN_BEGIN_MARKER, _report.BREAKDOWN_END_MARKER)
    document = (
        f"{PROSE_BEFORE}{breakdown[0]}\nold layers\n{breakdown[1]}\n"
        f"{_report.BEGIN_MARKER}\nold numbers\n{_report.END_MARKER}{PROSE_AFTER}"
    )
    updated = _report.replace_generated(document, "new layers", *breakdown)

    assert "new layers" in updated
    assert "old layers" not in updated
    assert "old numbers" in updated  # the results block is not the breakdown's


def test_generated_block_is_appended_when_the_markers_are_missing() -> None:
    updated = _report.replace_generated(PROSE_BEFORE, "numbers")
    assert updated.startswith(PROSE_BEFORE.rstrip("\n"))
    assert updated.rstrip().endswith(_report.END_MARKER)
    assert "numbers" in updated


@pytest.mark.parametrize("counted", [True, False])
def test_chart_is_a_png(tmp_path: Path, counted: bool) -> None:
    results = sample_results()
    if not counted:
        results["instructions"] = {"skipped": "no valgrind"}
    chart = tmp_path / "static" / "chart.png"
    _report.write_chart(results, chart)
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
    assert "parse" not in run.PHASES
    with pytest.raises(SystemExit):
        run.parse_arguments(["--only", "parse"])


def test_only_a_complete_full_run_is_complete() -> None:
    assert run.complete_run(run.parse_arguments([]))
    assert run.complete_run(run.parse_arguments(["--only", *reversed(run.PHASES)]))
    assert not run.complete_run(run.parse_arguments(["--quick"]))
    assert not run.complete_run(run.parse_arguments(["--only", "sync"]))


class ScriptCalls:
    """Stands in for ``run.run_script``: records each command, reads canned results."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, stdout: str = "") -> None:
        self.commands: list[list[str]] = []
        self.stdout = stdout
        monkeypatch.setattr(run, "run_script", self)
        monkeypatch.setattr(run, "_read_json", lambda path: {"read": path.name})

    def __call__(
        self, command: Sequence[str], name: str, timeout: float, *, show_progress: bool = False
    ) -> Any:
        self.commands.append([Path(command[0]).name, *command[1:]])
        return argparse.Namespace(stdout=self.stdout, returncode=0)


@pytest.mark.parametrize(
    ("argv", "sync", "emulator", "models"),
    [
        (["--quick"], ["--quick"], ["--quick"], ["--quick"]),
        (["--only", "sync", "emulator", "models"], ["--callgrind"], [], []),
        (
            [],
            ["--callgrind", "--write-docs"],
            ["--write-docs", "--instructions"],
            ["--write-docs"],
        ),
    ],
)
def test_only_a_complete_full_run_asks_the_scripts_to_write_the_docs(
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    sync: list[str],
    emulator: list[str],
    models: list[str],
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    calls = ScriptCalls(monkeypatch, stdout='{"page": "x"}\n')
    options = run.parse_arguments(argv)

    synced = run.run_sync(options)
    emulated = run.run_emulator(options)
    parsed = run.run_parse_models(options)

    assert calls.commands == [
        ["bench_sync.py", *sync],
        ["bench_emulator.py", *emulator],
        ["bench_parse.py", *models],
    ]
    suffix = "-quick" if "--quick" in argv else ""
    assert synced["report"] == {"read": f"sync{suffix}.json"}
    assert synced["wrote_docs"] == ("--write-docs" in sync)
    assert emulated["report"] == {"read": f"emulator{suffix}.json"}
    assert parsed["raw"] == {"read": f"parse{suffix}.json"}


@pytest.mark.parametrize(("argv", "arguments"), [(["--quick"], ["--quick"]), ([], ["--layers"])])
def test_the_instruction_phase_counts_the_layers_in_full_mode(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], arguments: list[str]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    calls = ScriptCalls(monkeypatch)

    counted = run.run_instructions(run.parse_arguments(argv))

    assert calls.commands == [["bench_instructions.py", *arguments]]
    assert counted["read"] == ("instructions-quick.json" if argv else "instructions.json")


def test_without_valgrind_nothing_is_counted_and_the_reason_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    calls = ScriptCalls(monkeypatch, stdout='{"page": "x"}\n')
    options = run.parse_arguments([])

    assert run.run_instructions(options) == {
        "skipped": "valgrind is not installed, so nothing was counted"
    }
    run.run_sync(options)
    run.run_emulator(options)
    assert calls.commands == [
        ["bench_sync.py", "--write-docs"],
        ["bench_emulator.py", "--write-docs"],
    ]


def canned_phases(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every phase of ``run.main`` returns its part of ``sample_results``; outputs under tmp_path.

    Returns the stand-in docs page, whose prose surrounds both generated sections.
    """
    results = sample_results()
    for name, phase in (
        ("measure_imports", "import"),
        ("measure_throughput", "throughput"),
        ("measure_rss", "rss"),
        ("run_instructions", "instructions"),
        ("run_bulk", "bulk"),
        ("run_sync", "sync"),
        ("run_emulator", "emulator"),
        ("run_parse_models", "models"),
    ):
        monkeypatch.setattr(run, name, lambda options, phase=phase: results.get(phase, {}))
    page = tmp_path / "docs" / "benchmarks.md"
    page.parent.mkdir()
    page.write_text(
        f"{PROSE_BEFORE}{_report.BREAKDOWN_BEGIN_MARKER}\nnot yet\n{_report.BREAKDOWN_END_MARKER}\n"
        f"{_report.BEGIN_MARKER}\nold\n{_report.END_MARKER}{PROSE_AFTER}",
        encoding="utf-8",
    )
    monkeypatch.setattr(run, "DOCS_PAGE", page)
    monkeypatch.setattr(run, "DOCS_CHART", tmp_path / "docs" / "_static" / "benchmarks.png")
    monkeypatch.setattr(run, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(run, "REPO", tmp_path)
    return page


def test_a_complete_run_fills_both_generated_sections_of_the_page(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = canned_phases(monkeypatch, tmp_path)

    assert run.main([]) == 0

    text = page.read_text(encoding="utf-8")
    assert text.startswith(PROSE_BEFORE)
    assert text.endswith(PROSE_AFTER)
    assert "not yet" not in text
    assert "| authenticate | 16 | 500.0k | 520.0k (81%) |" in text
    assert "\nold\n" not in text
    assert "### Targets" in text
    assert (tmp_path / "docs" / "_static" / "benchmarks.png").exists()
    saved = json.loads((tmp_path / "results" / "core.json").read_text(encoding="utf-8"))
    assert set(run.PHASES) <= set(saved)
    assert "Targets:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "suffix"), [(["--quick"], "-quick"), (["--only", "instructions"], "-partial")]
)
def test_a_quick_or_partial_run_leaves_the_docs_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str], suffix: str
) -> None:
    page = canned_phases(monkeypatch, tmp_path)
    before = page.read_bytes()

    assert run.main(argv) == 0

    assert page.read_bytes() == before
    assert not (tmp_path / "docs" / "_static").exists()
    written = (tmp_path / "results" / f"benchmarks{suffix}.md").read_text(encoding="utf-8")
    assert _report.BREAKDOWN_BEGIN_MARKER in written
    assert (tmp_path / "results" / f"core{suffix}.json").exists()


def across_run(python: str, scale: float = 1.0) -> dict[str, Any]:
    """One interpreter's stored ``--across-pythons`` figures, counts multiplied by ``scale``."""
    results = sample_results()
    for cell in results["instructions"]["instructions_per_request"].values():
        for variant in cell:
            cell[variant] *= scale
    meta = {
        **results["meta"],
        "python": python,
        "load_average_at_start": (1.5, 1.0, 1.0),
        "accelerators": {
            "aiohttp": {
                "installed": True,
                "compiled": True,
                "wheel": "cp315-cp315-manylinux_2_17_x86_64",
                "version": "3.14.5",
            },
            "orjson": {
                "installed": True,
                "compiled": True,
                "wheel": "cp315-cp315-linux_x86_64",
                "version": "3.13.0",
            },
            "frozenlist": {
                "installed": True,
                "compiled": False,
                "wheel": "py3-none-any",
                "version": "1.8.0",
            },
            "pydantic-core": {"installed": False},
        },
    }
    config = {**results["config"], "concurrency": [1, 16, 128]}
    return {
        "python": python,
        "phases": {
            phase: {"meta": meta, "config": config, "data": results[phase]}
            for phase in run.ACROSS_PHASES
        },
    }


def test_interpreters_sort_in_release_order() -> None:
    versions = ["3.15", "3.14t", "3.9", "3.11", "3.14"]
    assert sorted(versions, key=_report.version_key) == ["3.9", "3.11", "3.14", "3.14t", "3.15"]


def test_the_across_pythons_section_puts_each_interpreter_side_by_side() -> None:
    text = _report.pythons_markdown(
        {"3.11": across_run("3.11.7"), "3.15": across_run("3.15.0rc2", 0.9)}
    )

    assert "- **Python 3.15.0rc2**: counted 2026-01-01 00:00 UTC: 1,000 requests" in text
    assert "7 repetitions" not in text  # the run's own settings, not the defaults
    assert "concurrency 1, 16, 128, load average 1.5 at the start" in text
    assert "from PyPI wheels: aiohttp 3.14.5" in text
    assert "compiled here from source (no wheel for this Python): orjson 3.13.0" in text
    assert "pure Python: frozenlist 1.8.0 (`py3-none-any`)" in text
    assert "pydantic-core" not in text  # not installed: not mentioned
    # Counted: each interpreter's count, and the newer ÷ the reference.
    assert "| Endpoint | Concurrency | Client | 3.11 | 3.15 | 3.15 ÷ 3.11 |" in text
    assert "| authenticate | 16 | stytch-totp | 640.0k | 576.0k | 0.900x |" in text
    assert "| create | 128 | stytch-totp: transport only | 520.0k | 468.0k | 0.900x |" in text
    # stytch-totp's ratios on each interpreter: counted from the counts, timed from the pairs.
    assert "| authenticate | 16 | counted | 0.970x | 0.970x | 1.280x | 1.280x |" in text
    assert "| authenticate | 1 | timed | 0.90x | 0.90x | 1.12x | 1.12x | 0.72x | 0.72x |" in text
    assert "| `import stytch_totp` | 360.0 | 360.0 | 0.40x | 0.40x |" in text
    assert "| stytch-totp ÷ official SDK (pydantic), counted | 0.548x | 0.548x |" in text


def test_the_across_pythons_section_says_what_is_missing() -> None:
    assert "nox -s bench_pythons" in _report.pythons_markdown({})
    only_imports = across_run("3.15.0rc2")
    only_imports["phases"] = {"import": only_imports["phases"]["import"]}
    text = _report.pythons_markdown({"3.15": only_imports})
    assert "Not counted yet." in text
    assert "Not measured yet." in text
    assert "Parsing" not in text


def test_across_pythons_runs_its_own_phases_only() -> None:
    options = run.parse_arguments(["--across-pythons"])
    assert not run.complete_run(options)
    assert run.parse_arguments(["--across-pythons", "--only", "import"]).only == ["import"]
    with pytest.raises(SystemExit):
        run.parse_arguments(["--across-pythons", "--only", "rss"])


def test_an_across_pythons_run_keeps_each_phase_and_writes_its_section_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = canned_phases(monkeypatch, tmp_path)
    monkeypatch.setattr(run, "BASE_RESULTS_DIR", tmp_path / "results")
    monkeypatch.setenv(run.RESULTS_ENVIRONMENT, str(tmp_path / "elsewhere"))
    other = tmp_path / "results" / "python-3.99" / run.ACROSS_FILE
    other.parent.mkdir(parents=True)
    other.write_text(json.dumps(across_run("3.99.0")), encoding="utf-8")
    before = page.read_text(encoding="utf-8")

    assert run.main(["--across-pythons"]) == 0
    assert run.main(["--across-pythons", "--only", "import"]) == 0

    mine = tmp_path / "results" / f"python-{run.python_version()}"
    assert mine == run.RESULTS_DIR
    assert run.child_environment()[run.RESULTS_ENVIRONMENT] == str(mine)
    stored = json.loads((mine / run.ACROSS_FILE).read_text(encoding="utf-8"))
    # The second run measured imports only: the other phases keep the first run's figures.
    assert set(stored["phases"]) == set(run.ACROSS_PHASES)
    text = page.read_text(encoding="utf-8")
    main_section = before.partition(_report.BEGIN_MARKER)[2].partition(_report.END_MARKER)[0]
    assert main_section in text  # the reference run's tables are untouched
    after_begin = text.partition(_report.PYTHONS_BEGIN_MARKER)[2]
    section = after_begin.partition(_report.PYTHONS_END_MARKER)[0]
    assert "**Python 3.99.0**" in section
    assert f"| Endpoint | Concurrency | Client | {run.python_version()} | 3.99 |" in section
    assert not (tmp_path / "results" / "core.json").exists()
    assert "stytch-totp ÷ naive raw aiohttp, by interpreter" in capsys.readouterr().out


def test_accelerators_say_which_implementation_is_in_use() -> None:
    found = run.accelerators()
    assert found["aiohttp"]["installed"]
    assert isinstance(found["aiohttp"]["compiled"], bool)
    assert found["aiohttp"]["wheel"] != "?"
