"""Developer tasks. ``nox`` alone runs the checks CI runs; ``nox -s bench`` runs the benchmarks.

``nox -s tests`` is the suite but the soak on every supported Python (``nox -s tests-3.14t`` on
one); ``nox -s soak`` the tests marked ``slow``. The interpreters other than the machine's 3.11
are built from source by ``nox -s pythons`` (tools/build_pythons.py), which ``nox`` runs first.
``nox -s bench_pythons`` measures the figures docs/benchmarks.md compares between 3.11 and the
newest Python.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent / "tools"))
import build_pythons

#: Every Python the suite runs on: the oldest supported, each release after it, and the
#: free-threaded build. All but the machine's own come from ``nox -s pythons``.
PYTHONS = ["3.11", *(interpreter.name for interpreter in build_pythons.INTERPRETERS)]
#: Where coverage is measured (once: the other runs prove behaviour, not reach).
COVERAGE_PYTHON = "3.11"
#: What ``bench_pythons`` compares: the oldest supported Python (the one ``bench`` runs on) and
#: the newest release with the GIL. (Not the free-threaded build: orjson, which the tuned raw
#: loop and the SDK's fast path use, has no wheels for it.)
BENCH_PYTHONS = [
    COVERAGE_PYTHON,
    max(
        (i.name for i in build_pythons.INTERPRETERS if not i.name.endswith("t")),
        key=lambda name: tuple(int(part) for part in name.split(".")),
    ),
]

# The built interpreters are found on PATH; uv must find them there rather than try to download.
os.environ["PATH"] = os.pathsep.join([str(build_pythons.bin_dir()), os.environ.get("PATH", "")])
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
# A missing interpreter is a failure, never a silently skipped session.
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["pythons", "tests", "soak", "lint", "typecheck", "docs"]

PYPROJECT = nox.project.load_toml("pyproject.toml")


@nox.session(python=False)
def pythons(session: nox.Session) -> None:
    """Build the interpreters ``tests`` needs that are not built yet (about 3 minutes each)."""
    session.run(sys.executable, "tools/build_pythons.py", *session.posargs)


def free_threaded(session: nox.Session) -> bool:
    """Whether the session's interpreter is a free-threaded (``--disable-gil``) build."""
    found = session.run(
        "python",
        "-c",
        "import sysconfig; print(sysconfig.get_config_var('Py_GIL_DISABLED'))",
        silent=True,
    )
    return str(found).strip() == "1"


def install_test_dependencies(session: nox.Session) -> None:
    """The SDK with its extras and the test group; without orjson on free-threaded builds.

    orjson (the ``fast`` extra) refuses to build for free-threaded Python; there the SDK uses
    the standard library's json, and tests/conftest.py leaves out orjson's parity tests.
    """
    group = nox.project.dependency_groups(PYPROJECT, "test")
    if free_threaded(session):
        session.install("-e", ".[emulator,cli]", *(d for d in group if not d.startswith("orjson")))
        # Prove free threading, not the GIL: an extension that is not marked free-threading
        # safe would otherwise turn the GIL back on at import (with a RuntimeWarning).
        session.env["PYTHON_GIL"] = "0"
    else:
        session.install("-e", ".[emulator,cli,fast]", *group)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite but the soak; on 3.11 with branch coverage of ``stytch_totp`` (≥ 90 %).

    Arguments after ``--`` go to pytest (``nox -s tests-3.11 -- tests/client -x``); ``-m slow``
    there runs the soak too.
    """
    install_test_dependencies(session)
    if session.python != COVERAGE_PYTHON:
        session.run("pytest", "-m", "not slow", *session.posargs)
        return
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "-m", "not slow", *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")


@nox.session(python=COVERAGE_PYTHON)
def soak(session: nox.Session) -> None:
    """The tests marked ``slow``: 100,000 calls with injected faults, checked for leaks.

    Run without coverage, which would double their time without measuring anything the
    ``tests`` session does not.
    """
    session.install("-e", ".[emulator,cli,fast]", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", "-m", "slow", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package and the tests."""
    session.install(
        "-e", ".[emulator,cli,fast]", *nox.project.dependency_groups(PYPROJECT, "typecheck")
    )
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the docs (Sphinx) into docs/_build/html; any warning, or a broken reference, fails."""
    session.install("-e", ".[emulator,cli,fast]", *nox.project.dependency_groups(PYPROJECT, "docs"))
    # -E: read every page afresh, so a warning in an unchanged page is reported again.
    # -n: nitpicky, every cross-reference must resolve. -W --keep-going: fail, listing them all.
    strict = ["-E", "-n", "-W", "--keep-going"]
    session.run("sphinx-build", *strict, "-b", "html", "docs", "docs/_build/html", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks: timed, and counted under callgrind (about 45 minutes on 2 shared cores).

    Counting instructions takes about 25 of those minutes. ``nox -s bench -- --quick`` is a smoke
    run (about 17 minutes, 15 of them counting; add ``--only import throughput rss bulk sync
    emulator models`` for a two-minute run without the count). Only a complete full run rewrites
    docs/benchmarks.md (between its markers) and docs/_static/benchmarks.png; every run prints
    the ratios and the targets. See ``python benchmarks/run.py --help`` for the other options.
    """
    session.install(
        "-e", ".[emulator,cli,fast]", *nox.project.dependency_groups(PYPROJECT, "bench")
    )
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python=BENCH_PYTHONS)
def bench_pythons(session: nox.Session) -> None:
    """The figures compared across Pythons, on 3.11 and the newest (about 35 minutes each).

    ``benchmarks/run.py --across-pythons``: instructions per request counted under callgrind
    (about 30 of those minutes; the phase does not depend on the load, so the two sessions may
    run at once), the timed CPU ratios, import and parse times. Raw results go to
    ``benchmarks/results/python-X.Y/``; each run rewrites the "Across Pythons" section of
    docs/benchmarks.md from every interpreter's latest figures, leaving the rest of the page to
    ``bench``. ``nox -s bench_pythons-3.15 -- --only throughput`` measures one phase again.
    """
    session.install(
        "-e", ".[emulator,cli,fast]", *nox.project.dependency_groups(PYPROJECT, "bench")
    )
    session.run("python", "benchmarks/run.py", "--across-pythons", *session.posargs)
