"""The docs build fails on an error banner drawn on a page, which ``-W`` alone does not catch."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import DOCS


def _load_extension() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "error_banners", DOCS / "_ext" / "error_banners.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


error_banners = _load_extension()

PAGE = """<html><body><article role="main">
<h1>Title</h1>
{body}
</article></body></html>"""


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ('<nav class="contents" id="contents"><ul></ul></nav>', "table of contents"),
        ('<div class="contents topic" id="on-this-page"></div>', "table of contents"),
        ('<aside class="system-message"><p>Unknown directive</p></aside>', "error box"),
        ('<p>See <a class="problematic" href="#id1">`broken`_</a></p>', "red text"),
    ],
    ids=["furo-toc-nav", "docutils-toc-div", "system-message", "problematic"],
)
def test_a_page_with_a_banner_is_reported(body: str, what: str) -> None:
    (banner,) = error_banners.banners_in(PAGE.format(body=body), "api.html")
    assert banner.page == "api.html"
    assert banner.line == 3
    assert what in banner.what


@pytest.mark.parametrize(
    "body",
    [
        "<p>Plain text about contents and system messages.</p>",
        '<nav class="contents this-will-duplicate-information-and-it-is-still-useful-here"></nav>',
        '<div class="toc-tree"><ul><li><a class="reference" href="#a">A</a></li></ul></div>',
    ],
    ids=["text", "furo-escape-hatch", "furo-sidebar-toc"],
)
def test_a_page_without_a_banner_passes(body: str) -> None:
    assert error_banners.banners_in(PAGE.format(body=body), "index.html") == []


def test_the_build_fails_on_a_furo_toc_banner(tmp_path: Path) -> None:
    # What happened to the API reference page: a {contents} directive, which Furo paints over
    # with a red ERROR banner while Sphinx, even with -W, reports nothing.
    source = tmp_path / "docs"
    source.mkdir()
    (source / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        'extensions = ["myst_parser", "error_banners"]\n'
        'html_theme = "furo"\n',
        encoding="utf-8",
    )
    (source / "index.md").write_text(
        "# Reference\n\n```{contents}\n```\n\n## Client\n\nText.\n", encoding="utf-8"
    )
    built = subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable,
            "-m",
            "sphinx",
            "-q",
            "-E",
            "-b",
            "html",
            str(source),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 1, built.stdout + built.stderr
    assert "index.html:" in built.stderr
    assert "Adding a table of contents" in built.stderr
