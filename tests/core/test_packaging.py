"""What ships: the wheel and the sdist as PyPI would get them, and the description PyPI shows.

The wheel and the sdist are built once, with hatchling (the build backend) in this process, and
read back: files, the license, the entry points, and the metadata's long description.
"""

from __future__ import annotations

import email.message
import email.parser
import importlib.util
import re
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from hatchling.builders.sdist import SdistBuilder
from hatchling.builders.wheel import WheelBuilder

import stytch_totp

PACKAGE_DIR = Path(stytch_totp.__file__).parent
PROJECT_ROOT = PACKAGE_DIR.parent
PLUGIN_MODULE = "_stytch_totp_pytestplugin"
REPOSITORY = "https://github.com/stytch-totp/stytch-totp"
#: The oldest supported Python: the machine's own, the one nox does not build.
OLDEST_PYTHON = "3.11"

#: ``[text](target)`` and ``![alt](target)``, and reference definitions ``[name]: target``.
_INLINE_LINK = re.compile(r"\]\((?P<target>[^)\s]+)")
_REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*(?P<target>\S+)", re.M)
_FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```", re.M | re.S)


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    (wheel_path,) = WheelBuilder(str(PROJECT_ROOT)).build(
        directory=str(tmp_path_factory.mktemp("wheel")), versions=["standard"]
    )
    with zipfile.ZipFile(wheel_path) as wheel:
        return {name: wheel.read(name) for name in wheel.namelist()}


@pytest.fixture(scope="module")
def sdist_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    (sdist_path,) = SdistBuilder(str(PROJECT_ROOT)).build(
        directory=str(tmp_path_factory.mktemp("sdist")), versions=["standard"]
    )
    with tarfile.open(sdist_path) as sdist:
        # Drop the leading "stytch_totp-<version>/".
        return {name.partition("/")[2] for name in sdist.getnames()}


def _dist_info(wheel_files: dict[str, bytes], name: str) -> bytes:
    (path,) = [path for path in wheel_files if re.fullmatch(rf"[^/]+\.dist-info/{name}", path)]
    return wheel_files[path]


@pytest.fixture(scope="module")
def metadata(wheel_files: dict[str, bytes]) -> email.message.Message:
    return email.parser.BytesParser().parsebytes(_dist_info(wheel_files, "METADATA"))


@pytest.fixture(scope="module")
def description(metadata: email.message.Message) -> str:
    payload = metadata.get_payload()
    assert isinstance(payload, str)
    return payload


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def test_the_wheel_ships_every_module_and_py_typed(wheel_files: dict[str, bytes]) -> None:
    assert "stytch_totp/py.typed" in wheel_files
    for module in PACKAGE_DIR.rglob("*.py"):
        assert module.relative_to(PROJECT_ROOT).as_posix() in wheel_files
    assert f"{PLUGIN_MODULE}.py" in wheel_files


def test_the_wheel_ships_no_tests_docs_or_benchmarks(wheel_files: dict[str, bytes]) -> None:
    top_level = {name.split("/")[0] for name in wheel_files if ".dist-info/" not in name}
    assert top_level == {"stytch_totp", f"{PLUGIN_MODULE}.py"}
    assert not [name for name in wheel_files if "/tests/" in name or "__pycache__" in name]


def test_the_wheel_and_the_sdist_ship_the_license(
    wheel_files: dict[str, bytes], sdist_names: set[str], metadata: email.message.Message
) -> None:
    license_text = (PROJECT_ROOT / "LICENSE").read_bytes()
    assert license_text.startswith(b"MIT License")
    assert _dist_info(wheel_files, "licenses/LICENSE") == license_text
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert "LICENSE" in sdist_names


def test_the_sdist_builds_the_same_wheel(sdist_names: set[str]) -> None:
    # What a wheel is built from: the package, the plugin module, the README for the description.
    for needed in ("pyproject.toml", "README.md", f"{PLUGIN_MODULE}.py", "stytch_totp/py.typed"):
        assert needed in sdist_names
    # noxfile.py, shipped for running the suite from the sdist, builds its Pythons with this.
    assert "tools/build_pythons.py" in sdist_names


def _built_pythons() -> list[str]:
    """The interpreters tools/build_pythons.py builds for ``nox -s tests`` (3.12, ... 3.14t)."""
    spec = importlib.util.spec_from_file_location(
        "build_pythons", PROJECT_ROOT / "tools" / "build_pythons.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return [interpreter.name for interpreter in module.INTERPRETERS]


def test_the_classifiers_name_exactly_the_pythons_the_suite_runs_on(
    metadata: email.message.Message,
) -> None:
    tested = [OLDEST_PYTHON, *_built_pythons()]
    classifiers = metadata.get_all("Classifier") or []
    versions = [
        classifier.rsplit(" :: ", 1)[1]
        for classifier in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", classifier)
    ]
    assert versions == [version for version in tested if not version.endswith("t")]
    assert metadata["Requires-Python"] == f">={OLDEST_PYTHON}"
    # The whole suite runs with the GIL off (PYTHON_GIL=0), nothing re-enabling it.
    free_threaded = "Programming Language :: Python :: Free Threading :: 3 - Stable"
    assert (free_threaded in classifiers) == any(version.endswith("t") for version in tested)


def test_the_pytest_plugin_entry_point_names_the_shipped_module(
    wheel_files: dict[str, bytes],
) -> None:
    entry_points = _dist_info(wheel_files, "entry_points.txt").decode()
    assert f"[pytest11]\nstytch_totp = {PLUGIN_MODULE}\n" in entry_points


# ---------------------------------------------------------------------------------------------
# What PyPI shows
# ---------------------------------------------------------------------------------------------


def test_the_project_urls_lead_to_the_changelog_issues_and_docs(
    metadata: email.message.Message,
) -> None:
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert set(urls) >= {"Changelog", "Issues", "Documentation", "Source"}
    assert all(url.startswith(REPOSITORY) for url in urls.values())
    assert urls["Changelog"].endswith("/docs/changelog.md")
    assert (PROJECT_ROOT / "docs" / "changelog.md").is_file()


def test_the_description_is_markdown_that_starts_with_installing(
    metadata: email.message.Message, description: str
) -> None:
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert description.startswith("# stytch-totp\n")
    first_block = _FENCE.search(description)
    assert first_block is not None
    assert first_block["body"].startswith("pip install 'stytch-totp[fast]' ")
    # The clone-and-nox commands are for the repository's README, not for PyPI.
    assert "nox" not in description.split("## Install")[0]
    assert "python3 -m venv .venv" not in description


def test_the_description_has_only_absolute_links(description: str) -> None:
    outside_code = _FENCE.sub("", description)
    targets = [m["target"] for m in _INLINE_LINK.finditer(outside_code)]
    targets += [m["target"] for m in _REFERENCE_LINK.finditer(outside_code)]
    assert len(targets) > 10  # the docs, the license, attrs, cattrs...
    relative = [target for target in targets if not target.startswith("https://")]
    assert relative == []


def test_the_description_links_into_the_repository_where_the_readme_did(
    description: str,
) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for target in _INLINE_LINK.findall(readme.split("<!-- pypi-start -->")[1]):
        if target.startswith(("https://", "#")):
            continue
        assert (PROJECT_ROOT / target).exists(), f"README links to a missing {target}"
        assert f"]({REPOSITORY}/blob/main/{target})" in description
