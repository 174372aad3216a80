"""Build the CPython interpreters the test suite runs on, from Debian's source packages.

The only software sources this project's machines reach are the package registries, and Debian's
source packages carry CPython's own release tarballs (``python3.14_3.14.7.orig.tar.xz``). This
script downloads them from Debian's pool (3.12, which Debian skipped, from Ubuntu's), checks
each against the SHA-256 pinned below, builds it with the system's gcc into its own prefix, and
links the executables into one folder that ``noxfile.py`` puts on ``PATH``::

    ~/.cache/stytch-totp/pythons/
        bin/python3.14t        -> ../3.14t/bin/python3.14t
        3.14t/                 the install prefix (configure --disable-gil)
        3.14t.built            what was built: the tarball's hash, the configure options
        sources/               the downloaded tarballs

It is idempotent: an interpreter whose stamp matches is reused as it is; a stamp that does not
match (another pinned tarball, other options) or a prefix without one is rebuilt. A build is
installed into a staging folder and moved into place only once it is complete, and checked to
run (ssl, sqlite3, ctypes...) before it is stamped, so an interrupted run leaves nothing that
counts as built.

Why pinned files rather than ``apt-get source``: the mirror this machine reaches serves Debian's
package indexes ahead of its pool (the sid index lists python3.14 3.14.10-1 and python3.15
3.15.2-1 while the pool holds 3.14.7 and 3.15.0~rc2), and ``apt-get source`` can only fetch what
the index lists. Pins also make every machine build the same interpreters. Provenance of each
pin is given beside it; raise a pin by changing the version and the hash together.

Usage::

    python3 tools/build_pythons.py              # every interpreter the suite runs on
    python3 tools/build_pythons.py 3.15 3.14t   # some of them
    python3 tools/build_pythons.py --list       # what is built, what is missing

``STYTCH_TOTP_PYTHONS`` moves the cache folder. Building needs root for ``apt-get install`` of
the few -dev packages CPython's optional modules link against, when they are missing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEBIAN_POOL = "http://deb.debian.org/debian/pool/main"
#: Ubuntu's archive, for 3.12, which Debian skipped (bookworm has 3.11, trixie 3.13).
UBUNTU_POOL = "http://archive.ubuntu.com/ubuntu/pool/main"

#: Debian packages whose headers CPython's optional modules need (ssl, ctypes, sqlite3, bz2,
#: lzma, readline, uuid, curses, compression.zstd on 3.14 and newer).
BUILD_DEPENDENCIES = (
    "libssl-dev",
    "zlib1g-dev",
    "libffi-dev",
    "libsqlite3-dev",
    "libbz2-dev",
    "liblzma-dev",
    "libreadline-dev",
    "uuid-dev",
    "libncurses-dev",
    "libzstd-dev",
    "pkg-config",
)


@dataclass(frozen=True)
class Tarball:
    """A CPython release tarball as Debian's source package ``package`` carries it."""

    package: str
    #: Debian's upstream version: ``3.15.0~rc2`` for CPython's 3.15.0rc2.
    upstream_version: str
    sha256: str
    #: The archive's pool the tarball is fetched from.
    pool: str = DEBIAN_POOL

    @property
    def file_name(self) -> str:
        return f"{self.package}_{self.upstream_version}.orig.tar.xz"

    @property
    def url(self) -> str:
        return f"{self.pool}/{self.package[0]}/{self.package}/{self.file_name}"


PYTHON_3_12 = Tarball(
    # Debian went from 3.11 (bookworm) to 3.13 (trixie), so 3.12 comes from Ubuntu 24.04 (noble),
    # whose source package carries CPython's 3.12.3 tarball. The hash is the one in noble's
    # Sources index, whose own hash is in noble's InRelease (Ubuntu's archive key is not in
    # Debian's keyrings, so that signature was not checked here).
    "python3.12",
    "3.12.3",
    "56bfef1fdfc1221ce6720e43a661e3eb41785dd914ce99698d8c7896af4bdaa1",
    UBUNTU_POOL,
)
PYTHON_3_13 = Tarball(
    # In forky's signed Sources index, and in python3.13_3.13.15-1.dsc signed by its maintainer.
    "python3.13",
    "3.13.15",
    "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76",
)
PYTHON_3_14 = Tarball(
    # In python3.14_3.14.7-1.dsc, signed by its maintainer (checked with debian-keyring).
    "python3.14",
    "3.14.7",
    "3b48dac8fb59f62eaa67ac83c1eb12bda1b7a08406dd286e252c11a66be27f81",
)
PYTHON_3_15 = Tarball(
    # The newest 3.15 the pool serves. Its .dsc is not served, so this hash was pinned on first
    # download, not checked against a signature: raise it to 3.15.x once the pool has it.
    "python3.15",
    "3.15.0~rc2",
    "8d93af5eaaaea5adfd41bd786a7ba3f03f2ad1ab57c6a65e0b963deab91d5ad7",
)


@dataclass(frozen=True)
class Interpreter:
    """One interpreter the suite runs on."""

    #: The name nox uses (``3.14t``) and the install prefix's folder name.
    name: str
    tarball: Tarball
    #: ``./configure`` options beyond ``--prefix``.
    configure: tuple[str, ...] = ()

    @property
    def executable(self) -> str:
        """The executable's name inside the prefix's ``bin/``: ``python3.14t``."""
        return f"python{self.name}"


INTERPRETERS = (
    Interpreter("3.12", PYTHON_3_12),
    Interpreter("3.13", PYTHON_3_13),
    Interpreter("3.14", PYTHON_3_14),
    Interpreter("3.15", PYTHON_3_15),
    Interpreter("3.14t", PYTHON_3_14, ("--disable-gil",)),
)
BY_NAME = {interpreter.name: interpreter for interpreter in INTERPRETERS}


def cache_root() -> Path:
    """The cache folder (``STYTCH_TOTP_PYTHONS``, or ``~/.cache/stytch-totp/pythons``)."""
    configured = os.environ.get("STYTCH_TOTP_PYTHONS")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "stytch-totp" / "pythons"


def bin_dir() -> Path:
    """The folder of links to the built executables (``python3.14t``...), for ``PATH``."""
    return cache_root() / "bin"


def say(message: str) -> None:
    print(f"[build_pythons] {message}", flush=True)


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``command``; a failure raises ``CalledProcessError``."""
    return subprocess.run(command, check=True, text=True, **kwargs)  # noqa: S603


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(tarball: Tarball, into: Path) -> Path:
    """The tarball, from the cache or the archive's pool, checked against its pinned hash."""
    into.mkdir(parents=True, exist_ok=True)
    path = into / tarball.file_name
    if path.exists() and sha256_of(path) == tarball.sha256:
        return path
    say(f"downloading {tarball.url}")
    partial = path.with_suffix(".part")
    with urllib.request.urlopen(tarball.url, timeout=120) as response, partial.open("wb") as out:  # noqa: S310 (a constant http URL: the hash below is the check)
        shutil.copyfileobj(response, out)
    actual = sha256_of(partial)
    if actual != tarball.sha256:
        partial.unlink()
        raise SystemExit(
            f"{tarball.file_name}: SHA-256 {actual} is not the pinned {tarball.sha256}; "
            "not building it"
        )
    partial.replace(path)
    return path


def install_build_dependencies() -> None:
    missing = [
        package
        for package in BUILD_DEPENDENCIES
        if subprocess.run(["dpkg", "-s", package], capture_output=True).returncode != 0  # noqa: S603, S607
    ]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(
            f"missing build dependencies: {' '.join(missing)}; "
            f"install them (sudo apt-get install {' '.join(missing)}) and run again"
        )
    say(f"installing build dependencies: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", *missing], env=env)


def stamp_text(interpreter: Interpreter) -> str:
    tarball = interpreter.tarball
    return (
        f"{tarball.file_name} sha256 {tarball.sha256}\n"
        f"configure {' '.join(interpreter.configure)}\n"
    )


def is_built(root: Path, interpreter: Interpreter) -> bool:
    stamp = root / f"{interpreter.name}.built"
    executable = root / interpreter.name / "bin" / interpreter.executable
    return stamp.exists() and executable.exists() and stamp.read_text() == stamp_text(interpreter)


def build(root: Path, interpreter: Interpreter) -> None:
    tarball = download(interpreter.tarball, root / "sources")
    prefix = root / interpreter.name
    jobs = str(os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix=f"build-{interpreter.name}-", dir=root) as work:
        say(f"unpacking {tarball.name}")
        with tarfile.open(tarball) as archive:
            archive.extractall(work, filter="data")
        (source,) = (path for path in Path(work).iterdir() if path.is_dir())
        staging = Path(work) / "prefix"
        options = " ".join(interpreter.configure) or "no extra options"
        say(f"configuring {interpreter.name} ({options}); gcc, make -j{jobs}: several minutes")
        run(
            [
                "./configure",
                f"--prefix={prefix}",
                "--with-ensurepip=install",
                *interpreter.configure,
            ],
            cwd=source,
            stdout=subprocess.DEVNULL,
        )
        say(f"compiling {interpreter.name}")
        log = root / f"{interpreter.name}.build.log"
        with log.open("w") as output:
            try:
                run(["make", f"-j{jobs}"], cwd=source, stdout=output, stderr=subprocess.STDOUT)
                # DESTDIR: installed under the staging folder, moved into place once it runs.
                run(
                    ["make", "install", f"DESTDIR={staging}"],
                    cwd=source,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            except subprocess.CalledProcessError:
                raise SystemExit(f"building {interpreter.name} failed: see {log}") from None
        staged = staging / prefix.relative_to(prefix.anchor)
        # The staged tree runs from its final prefix only; check it once moved, and undo if not.
        shutil.rmtree(prefix, ignore_errors=True)
        (root / f"{interpreter.name}.built").unlink(missing_ok=True)
        shutil.move(staged, prefix)
    executable = prefix / "bin" / interpreter.executable
    check = "import ssl, sqlite3, ctypes, lzma, bz2, zlib, sys; print(sys.version)"
    try:
        version_line = run([str(executable), "-c", check], capture_output=True).stdout.strip()
    except subprocess.CalledProcessError as error:
        shutil.rmtree(prefix, ignore_errors=True)
        raise SystemExit(f"{interpreter.name} was built but does not run: {error.stderr}") from None
    (root / f"{interpreter.name}.built").write_text(stamp_text(interpreter))
    say(f"built {interpreter.name}: {version_line}")


def link(root: Path, interpreter: Interpreter) -> None:
    links = root / "bin"
    links.mkdir(parents=True, exist_ok=True)
    target = Path("..") / interpreter.name / "bin" / interpreter.executable
    name = links / interpreter.executable
    if name.is_symlink() and Path(os.readlink(name)) == target:
        return
    name.unlink(missing_ok=True)
    name.symlink_to(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names", nargs="*", metavar="VERSION", help=f"among {', '.join(BY_NAME)} (default: all)"
    )
    parser.add_argument("--list", action="store_true", help="say what is built, build nothing")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown interpreter {', '.join(unknown)}: choose among {', '.join(BY_NAME)}")
    wanted = [BY_NAME[name] for name in args.names] or list(INTERPRETERS)
    root = cache_root()
    if args.list:
        for interpreter in wanted:
            state = "built" if is_built(root, interpreter) else "missing"
            print(f"{interpreter.name}\t{state}\t{root / interpreter.name}")
        return 0
    root.mkdir(parents=True, exist_ok=True)
    dependencies_checked = False
    for interpreter in wanted:
        source = interpreter.tarball.file_name
        if is_built(root, interpreter):
            say(f"{interpreter.name} is built (from {source}): reused")
        else:
            if not dependencies_checked:
                install_build_dependencies()
                dependencies_checked = True
            build(root, interpreter)
        link(root, interpreter)
    say(f"interpreters in {root / 'bin'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
