"""The README's Python snippets are excerpts of examples the test suite runs, so none goes stale."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXAMPLES = ROOT / "docs" / "examples"

PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[str]:
    return PYTHON_BLOCK.findall(README.read_text(encoding="utf-8"))


def test_the_readme_has_python_snippets() -> None:
    assert len(python_blocks()) >= 2


@pytest.mark.parametrize("block", python_blocks())
def test_each_readme_snippet_is_an_excerpt_of_a_tested_example(block: str) -> None:
    sources = [path.read_text(encoding="utf-8") for path in EXAMPLES.glob("*.py")]
    assert any(block in source for source in sources), (
        "this README snippet is not a verbatim excerpt of any file in docs/examples/:\n" + block
    )


def test_the_readme_starts_with_the_two_fresh_machine_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install --quiet '.[emulator]'"
        " && .venv/bin/stytch-totp demo",
        "python3 -m pip install --quiet nox uv && python3 -m nox",
    ]
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci_script


def test_the_readmes_test_command_runs_every_check_ci_runs() -> None:
    # `python3 -m nox` runs nox's default sessions: they must include the soak, which the
    # `tests` session leaves out to stay quick, and build the Pythons `tests` runs on first.
    noxfile = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    defaults = next(
        node.value
        for node in ast.walk(noxfile)
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "nox.options.sessions"
    )
    assert ast.literal_eval(defaults) == ["pythons", "tests", "soak", "lint", "typecheck", "docs"]
    sessions = {
        node.name: [ast.unparse(d) for d in node.decorator_list]
        for node in noxfile.body
        if isinstance(node, ast.FunctionDef)
        and any("nox.session" in ast.unparse(d) for d in node.decorator_list)
    }
    assert {"pythons", "tests", "soak", "lint", "typecheck", "docs", "bench"} <= set(sessions)
    # ... on every supported Python.
    assert sessions["tests"] == ["nox.session(python=PYTHONS)"]
