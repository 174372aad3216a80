"""The pages and their examples stay in step: no unreferenced example, no dangling include, no
inline code that escapes the tests, no public name missing from the API reference, no command
line that the CLI would refuse.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import attrs
import pytest

import stytch_totp
import stytch_totp.testing
from stytch_totp.cli import build_parser

from .conftest import DOCS, EXAMPLES

PAGES = sorted(DOCS.glob("*.md"))
TESTS = Path(__file__).parent
WEBAPP = DOCS.parent / "examples" / "webapp"  # the example web app, tested by tests/webapp

# ```{literalinclude} examples/x.py   followed by its ":option: value" lines
_INCLUDE = re.compile(
    r"^```\{literalinclude\}[ \t]+(?P<path>\S+)[ \t]*\n(?P<options>(?::.*\n)*)", re.M
)
_OPTION = re.compile(r"^:(?P<name>[\w-]+):[ \t]*(?P<value>.*)$", re.M)
_FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
_AUTODOC = re.compile(
    r"^\.\. (?:autoclass|autoexception|autofunction|autodata|py:data|py:function)::"
    r"[ \t]+(?P<name>[\w.]+)",
    re.M,
)


@attrs.frozen
class Include:
    page: str
    path: Path
    options: dict[str, str]


def _includes() -> list[Include]:
    found = []
    for page in PAGES:
        for match in _INCLUDE.finditer(page.read_text(encoding="utf-8")):
            options = {m["name"]: m["value"].strip() for m in _OPTION.finditer(match["options"])}
            found.append(Include(page.name, (page.parent / match["path"]).resolve(), options))
    return found


INCLUDES = _includes()


def _python_objects(path: Path) -> set[str]:
    """Top-level functions and classes of ``path``, and ``Class.method`` for their methods."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return names


def test_there_are_pages_and_examples() -> None:
    assert len(PAGES) >= 10
    assert len(INCLUDES) >= 10


@pytest.mark.parametrize(
    "example", sorted(p.name for p in EXAMPLES.iterdir() if p.is_file()), ids=str
)
def test_every_example_is_shown_on_a_page(example: str) -> None:
    shown_on = {include.page for include in INCLUDES if include.path == EXAMPLES / example}
    assert shown_on, f"docs/examples/{example} is included by no page: include it, or delete it"


@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.py")), ids=str)
def test_every_python_example_is_run_by_a_test(example: str) -> None:
    # tests/deployments runs the "Deploying" page's examples in the servers they are for.
    folders = (TESTS, TESTS.parent / "deployments")
    tests = "\n".join(
        path.read_text(encoding="utf-8") for folder in folders for path in folder.glob("test_*.py")
    )
    run_as = (f'load_example("{example}")', f'"{example}.py"', f'"{example}:')
    assert any(form in tests for form in run_as), (
        f"docs/examples/{example}.py is run by no test in tests/docs or tests/deployments"
    )


@pytest.mark.parametrize("include", INCLUDES, ids=lambda i: f"{i.page}:{i.path.name}")
def test_every_include_points_at_what_exists(include: Include) -> None:
    assert include.path.is_file(), f"{include.page} includes a missing file: {include.path}"
    assert include.path.parent in (EXAMPLES, WEBAPP), (
        f"{include.page}: include only from docs/examples/ or examples/webapp/"
    )
    text = include.path.read_text(encoding="utf-8")
    if "pyobject" in include.options:
        assert include.options["pyobject"] in _python_objects(include.path)
    for marker in ("start-after", "end-before"):
        if marker in include.options:
            assert include.options[marker] in text, f"{include.page}: no {marker!r} marker"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_hold_no_untested_code(page: Path) -> None:
    """Python (and other program code) on a page must come from an executed example file."""
    for fence in _FENCE.finditer(page.read_text(encoding="utf-8")):
        info = fence["info"].strip()
        assert not info.startswith(("python", "py", "{code")), (
            f"{page.name}: inline code block {info!r}: put it in docs/examples/ and include it"
        )


def _documented_names() -> set[str]:
    return {
        match["name"]
        for page in PAGES
        for match in _AUTODOC.finditer(page.read_text(encoding="utf-8"))
    }


@pytest.mark.parametrize(
    ("package", "name"),
    [("stytch_totp", name) for name in stytch_totp.__all__]
    + [("stytch_totp.testing", name) for name in stytch_totp.testing.__all__],
    ids=lambda value: str(value),
)
def test_every_public_name_is_in_the_api_reference(package: str, name: str) -> None:
    assert f"{package}.{name}" in _documented_names(), (
        f"{package}.{name} is public but not documented in docs/api.md"
    )


def _command_lines() -> list[tuple[str, str]]:
    lines = []
    for page in PAGES:
        for fence in _FENCE.finditer(page.read_text(encoding="utf-8")):
            if fence["info"].strip() not in ("console", "shell", "bash", "sh"):
                continue
            for line in fence["body"].splitlines():
                command = line.removeprefix("$ ").split("#", 1)[0].strip()
                if command.startswith("stytch-totp "):
                    lines.append((page.name, command))
    return lines


@pytest.mark.parametrize(("page", "command"), _command_lines(), ids=lambda value: str(value))
def test_every_command_line_shown_is_accepted_by_the_cli(page: str, command: str) -> None:
    argv = shlex.split(command)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as exit_:
        pytest.fail(f"{page}: `{command}` is refused by the CLI (exit status {exit_.code})")
