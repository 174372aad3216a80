"""Developer tasks. ``nox`` alone runs the checks CI runs; ``nox -s bench`` runs the benchmarks.

``nox -s tests`` is the quick part of the suite; ``nox -s soak`` the tests marked ``slow``.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "soak", "lint", "typecheck", "docs"]

PYPROJECT = nox.project.load_toml("pyproject.toml")


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite but the soak, with branch coverage of ``stytch_totp`` (at least 90 %).

    Arguments after ``--`` go to pytest (``nox -s tests -- tests/client -x``); ``-m slow`` there
    runs the soak under coverage too.
    """
    session.install("-e", ".[emulator,cli,fast]", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "-m", "not slow", *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")


@nox.session
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
