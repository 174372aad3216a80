"""Sphinx configuration: MyST Markdown pages, the furo theme, autodoc from the package's docstrings.

Built by ``nox -s docs`` with ``-W --keep-going -n -E``: any warning (a broken reference, a missing
include, a docstring that does not parse) fails the build, and so does an error banner drawn on a
written page (``_ext/error_banners.py``). See ``contributing.md`` for why.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, cast

from sphinx.application import Sphinx
from sphinx.ext.napoleon.docstring import GoogleDocstring

import stytch_totp
from stytch_totp._publish import defined_in

DOCS = Path(__file__).parent
PACKAGE = Path(stytch_totp.__file__).parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "stytch-totp"
author = "stytch-totp developers"
copyright = "stytch-totp developers"
release = stytch_totp.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    # Fails the build on an error drawn on a page, which -W cannot see (_ext/error_banners.py).
    "error_banners",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext"]
# The pages are the interface: every reference must resolve (see ``nitpick_ignore_regex``).
nitpicky = True

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"stytch-totp {release}"
html_theme_options = {
    "source_repository": "https://github.com/stytch-totp/stytch-totp/",
    "source_branch": "main",
    "source_directory": "docs/",
}

pygments_style = "friendly"
pygments_dark_style = "monokai"

# --- autodoc -----------------------------------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = False
autodoc_inherit_docstrings = False
python_use_unqualified_type_names = True

# Without intersphinx (the build runs offline: CI may reach PyPI, nothing else) references to
# other projects' types cannot resolve; they are named in signatures, just not linked.
nitpick_ignore_regex = [
    (
        "py:(class|obj|exc|data)",
        r"(aiohttp|yarl|multidict|ssl|os|datetime|enum|collections\.abc)\..*",
    ),
    ("py:(class|obj|exc|data)", r"(typing|typing_extensions)\..*"),
    ("py:(class|obj|exc|data)", r"(ValueError|Exception|BaseException|TimeoutError|float)"),
    # ``Self`` in ``from_env``'s signature: the class itself.
    ("py:(class|obj)", r"Self"),
    # A private alias in ``create_many``'s signature: ``Callable[[BulkProgress], None]``, as its
    # docstring says.
    ("py:class", r"ProgressCallback"),
    # ``from_env``'s ``**kwargs``: the constructor's keyword arguments, typed for mypy.
    ("py:class", r"(stytch_totp\._client\.)?_ClientOptions"),
    # The keyword form of each operation takes ``**options: Unpack[RequestOptions]``.
    ("py:class", r"Unpack"),
    # Type variables of generic classes (``APIResponse[R]``) and of the raw-response forms.
    ("py:class", r"stytch_totp\..*\.(R|P)"),
    # ``ThreadedEmulator.call`` returns what its function returns: a type variable.
    ("py:class", r"T"),
]


def _point_public_classes_at_their_source() -> None:
    """Undo, for this build only, the package's relabelling of its classes as ``stytch_totp.X``.

    autodoc finds attribute docstrings (the per-field docstrings of the attrs models) and source
    order by parsing the module named in ``__module__``, so it is pointed back at the module that
    defines each class (as remembered by ``stytch_totp._publish``). autodoc then marks, e.g.,
    ``stytch_totp._models.user.User`` as the *canonical* name of the documented
    ``stytch_totp.User``, so references in either spelling resolve.
    """
    for package in ("stytch_totp", "stytch_totp.testing"):
        public = importlib.import_module(package)
        for name in public.__all__:
            obj = getattr(public, name)
            if isinstance(obj, type) and obj.__module__ == package:
                obj.__module__ = defined_in(obj)


_point_public_classes_at_their_source()

# Google-style ``Args:`` sections are read by napoleon, but only in docstrings of callables and
# classes: napoleon reads an attribute docstring "text: more text" as "type: description", which
# would mangle field docstrings such as "The remaining recovery codes (secret: hidden...)". So
# napoleon's own blanket processing is off, and ``_google_sections`` applies it where it belongs.
napoleon_google_docstring = False
napoleon_numpy_docstring = False
_NAPOLEON_KINDS = frozenset({"class", "exception", "method", "function", "classmethod"})


def _google_sections(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    if what in _NAPOLEON_KINDS:
        parsed = GoogleDocstring(lines, app.config, app, cast("Any", what), name, obj, options)
        lines[:] = parsed.lines()


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", _google_sections)
    return {"parallel_read_safe": True}
