"""Sphinx extension: fail the HTML build when a page would show an error banner.

Some errors never reach Sphinx's warnings, so ``-W`` cannot catch them: they are drawn on the
page. Furo paints a red "ERROR: Adding a table of contents in Furo-based documentation is
unnecessary" over every ``contents`` directive (from its CSS, not from the build), and docutils
renders what it could not process as ``system-message`` boxes and ``problematic`` red text.
After an HTML build, every page written is scanned for those; each one found is a warning that
names the page and the banner, and fails the build (with or without ``-W``).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

__all__ = ["Banner", "banners_in", "setup"]

#: Furo's escape hatch: a table of contents with this class is drawn without the banner.
FURO_TOC_ALLOWED = "this-will-duplicate-information-and-it-is-still-useful-here"

#: HTML class -> what the reader sees.
BANNER_CLASSES = {
    "contents": "Furo's red 'ERROR: Adding a table of contents ... is unnecessary' banner",
    "system-message": "a docutils error box (System Message)",
    "problematic": "red text marking markup docutils could not process",
}


@attrs.frozen
class Banner:
    """One error banner on a page."""

    page: str
    """The page's path in the output directory."""
    line: int
    """Line of the HTML element in that page."""
    what: str
    """What the reader sees."""


class _BannerFinder(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.found: list[Banner] = []

    def handle_starttag(self, tag: str, attrs_: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs_).get("class") or "").split())
        for name, what in BANNER_CLASSES.items():
            if name in classes and not (name == "contents" and FURO_TOC_ALLOWED in classes):
                self.found.append(Banner(self.page, self.getpos()[0], what))


def banners_in(html: str, page: str) -> list[Banner]:
    """The error banners ``html`` (the page ``page``) would show."""
    finder = _BannerFinder(page)
    finder.feed(html)
    finder.close()
    return finder.found


def _check_pages(app: Sphinx, exception: BaseException | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    found = [
        banner
        for path in sorted(outdir.rglob("*.html"))
        for banner in banners_in(
            path.read_text(encoding="utf-8"), path.relative_to(outdir).as_posix()
        )
    ]
    for banner in found:
        logger.warning(
            "%s:%d: the page shows %s",
            banner.page,
            banner.line,
            banner.what,
            type="error_banners",
        )
    if found:
        app.statuscode = 1


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", _check_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
