"""The parse benchmark measures real parses and reports what it measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bench_parse
import pytest


def test_every_parser_really_parses_the_full_body() -> None:
    cases = bench_parse.parsers()
    expected = {
        f"{path}/{endpoint}/{parser}"
        for path, parsers in bench_parse.PARSERS.items()
        for endpoint in bench_parse.ENDPOINTS
        for parser in parsers
    }
    assert set(cases) == expected
    for name, parse in cases.items():
        parsed = parse()
        bench_parse.check(name, parsed)  # raises unless a complete model
        module = type(parsed).__module__
        assert (
            module.startswith("stytch.") if name.endswith("official") else module == "stytch_totp"
        )


def test_check_refuses_what_is_not_a_parsed_response() -> None:
    with pytest.raises(bench_parse.BenchmarkError):
        bench_parse.check("dict/create/x", {"user_id": bench_parse.USER_ID})
    with pytest.raises(bench_parse.BenchmarkError):
        bench_parse.check("dict/authenticate/x", type("R", (), {"user_id": "someone"})())


def test_memory_parsers_build_fresh_responses() -> None:
    for parse in bench_parse.memory_parsers().values():
        first, second = parse(), parse()
        assert first is not second
        bench_parse.check("memory/authenticate", first)
    assert bench_parse.kept_bytes(bench_parse.memory_parsers()["stytch_totp"], count=20) > 1000


def test_time_parsers_samples_every_case_every_round() -> None:
    calls: dict[str, int] = {"a": 0, "b": 0}

    def counter(name: str) -> Any:
        def parse() -> None:
            calls[name] += 1

        return parse

    samples = bench_parse.time_parsers({name: counter(name) for name in calls}, 3, 10)
    assert {name: len(values) for name, values in samples.items()} == {"a": 3, "b": 3}
    assert calls == {"a": 31, "b": 31}  # 1 warm-up call, then 3 rounds of 10
    assert all(value > 0 for values in samples.values() for value in values)


def test_instructions_per_parse_subtract_the_loop_and_take_the_last_dumps(tmp_path: Path) -> None:
    # Earlier dumps (none expected, but possible) come first; the counted ones are the last.
    totals = [999, 1_000, 101_000, 51_000]
    for number, total in enumerate(totals, start=1):
        (tmp_path / f"callgrind.out.{number}").write_text(
            f"events: Ir\nsummary: {total}\n", encoding="utf-8"
        )
    (tmp_path / "callgrind.out.10").write_text("totals: 21000\n", encoding="utf-8")
    (tmp_path / "callgrind.out").write_text("summary: 5\n", encoding="utf-8")  # at exit
    read = bench_parse.dump_totals(tmp_path)
    assert read == [*totals, 21_000]  # numeric order: .10 after .4
    names = [bench_parse.LOOP_OVERHEAD, "a", "b", "c"]
    assert bench_parse.per_parse(names, read, 100) == {"a": 1000.0, "b": 500.0, "c": 200.0}
    with pytest.raises(bench_parse.BenchmarkError, match="_operator_call"):
        bench_parse.per_parse(names, read[:3], 100)


def synthetic_results(ratio: float, counted: bool = True) -> dict[str, Any]:
    time_us: dict[str, list[float]] = {}
    instructions: dict[str, float] = {}
    for path, parsers in bench_parse.PARSERS.items():
        for endpoint in bench_parse.ENDPOINTS:
            for parser in parsers:
                factor = {"official": 1.0, "stytch_totp": ratio, "no_generated_hooks": 2.0}
                time_us[f"{path}/{endpoint}/{parser}"] = [
                    20.0 * factor[parser],
                    30.0 * factor[parser],
                ]
                instructions[f"{path}/{endpoint}/{parser}"] = 200_000 * factor[parser]
    results: dict[str, Any] = {
        "meta": {"date": "today", "machine": "m", "python": "3.11", "versions": {"cattrs": "1"}},
        "config": {"rounds": 2, "number": 10, "iterations": 5},
        "body_bytes": dict.fromkeys(bench_parse.ENDPOINTS, 4205),
        "kept_bytes": {"official": 25_000.0, "stytch_totp": 8_400.0, "no_generated_hooks": 8_400.0},
        "time_us": time_us,
    }
    if counted:
        results["instructions"] = instructions
    else:
        results["instructions_error"] = "quick run"
    return results


def test_the_report_states_the_target_and_the_measured_figures() -> None:
    met = bench_parse.markdown(synthetic_results(0.5))
    assert "| 0.50x | ≤ 0.55x | yes |" in met
    assert "| authenticate | 200.0k | 100.0k | 0.50x | 400.0k | 2.00x |" in met
    assert "| stytch-totp | 8.2 |" in met
    missed = bench_parse.markdown(synthetic_results(0.6))
    assert "| 0.60x | ≤ 0.55x | **no** |" in missed
    uncounted = bench_parse.markdown(synthetic_results(0.5, counted=False))
    assert "Instructions: not measured (quick run)" in uncounted
    assert "| authenticate | n/a | n/a | n/a |" in uncounted


def test_the_section_replaces_only_its_own_markers() -> None:
    page = "# Benchmarks\n\nintro\n\n<!-- benchmarks:begin -->\nother\n<!-- benchmarks:end -->\n"
    once = bench_parse.replace_section(page, "first")
    assert once.startswith(page.rstrip("\n"))
    assert bench_parse.BEGIN in once
    twice = bench_parse.replace_section(once, "second")
    assert "first" not in twice
    assert twice.count(bench_parse.BEGIN) == 1
    assert "second" in twice
    assert "<!-- benchmarks:begin -->\nother\n<!-- benchmarks:end -->" in twice
