"""The package's import graph: layers that import only downwards, and no cycle anywhere.

The layers, bottom to top, are those of ``docs/contributing.md``. The graph is read from the
source (every ``import``, including those inside functions and ``TYPE_CHECKING`` blocks), so a
new module is checked the moment it exists.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

import stytch_totp

PACKAGE_DIR = Path(stytch_totp.__file__).parent
ROOT = "stytch_totp"

#: Bottom to top; a module may import its own layer and the ones below it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("_version", "_config", "_exceptions", "_publish", "_jsoncodec")),
    ("models", ("_models",)),
    ("pure core", ("_core",)),
    ("transport", ("_transport",)),
    ("bulk engine", ("_bulk",)),
    ("resources", ("_resources",)),
    ("clients", ("_client", "_sync")),
    ("public package", ("",)),
    ("tools", ("testing", "cli", "__main__")),
]

#: Layers that must stay pure: no event loop, no network, no threads, no files.
PURE_LAYERS = {"foundation", "models", "pure core"}
IO_MODULES = {"asyncio", "aiohttp", "socket", "ssl", "threading", "selectors", "sqlite3", "yarl"}

#: The emulated server stands on the models and the pure core only: it never uses the client.
EMULATOR_SERVER = "testing._server"
EMULATOR_SERVER_MAY_IMPORT = {"foundation", "models", "pure core"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@functools.cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def imports_of(name: str, path: Path) -> Iterator[str]:
    """Every module ``name`` imports: absolute names, relative imports resolved.

    ``from package import name`` counts as importing ``package.name`` when that is a module,
    else ``package`` itself.
    """
    known = modules()
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield submodule if submodule in known else target


@functools.cache
def internal_graph() -> dict[str, frozenset[str]]:
    known = modules()
    return {
        name: frozenset(target for target in imports_of(name, path) if target in known) - {name}
        for name, path in known.items()
    }


def layer_of(module: str) -> str:
    relative = module.removeprefix(ROOT).removeprefix(".")
    found = None
    for layer, prefixes in LAYERS:
        for prefix in prefixes:
            if relative == prefix or (prefix and relative.startswith(prefix + ".")):
                found = layer
    if found is None:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS and contributing.md")
    return found


def rank(layer: str) -> int:
    return [name for name, _ in LAYERS].index(layer)


def test_every_module_belongs_to_a_layer() -> None:
    for module in modules():
        layer_of(module)


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_run_downwards(module: str) -> None:
    graph = internal_graph()
    own = rank(layer_of(module))
    upward = {target for target in graph[module] if rank(layer_of(target)) > own}
    # A package's ``__init__`` importing its own submodules is the one allowed exception.
    upward = {target for target in upward if not target.startswith(module + ".")}
    assert not upward, f"{module} ({layer_of(module)}) imports higher layers: {sorted(upward)}"


def test_pure_layers_touch_no_io() -> None:
    for module, path in modules().items():
        if layer_of(module) not in PURE_LAYERS:
            continue
        used = {target.partition(".")[0] for target in imports_of(module, path)}
        assert not used & IO_MODULES, f"{module} imports {sorted(used & IO_MODULES)}"


def test_the_emulator_server_never_imports_the_client() -> None:
    graph = internal_graph()
    for module, targets in graph.items():
        if not module.startswith(f"{ROOT}.{EMULATOR_SERVER}"):
            continue
        for target in targets:
            if target.startswith(f"{ROOT}.{EMULATOR_SERVER}"):
                continue
            assert layer_of(target) in EMULATOR_SERVER_MAY_IMPORT, f"{module} imports {target}"


def test_no_import_cycle() -> None:
    graph = internal_graph()
    # Depth-first search for a back edge; reports the cycle it finds.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            # A package importing its own submodules (its __init__) is how packages work.
            if target.startswith(node + "."):
                continue
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_the_graph_reader_sees_relative_and_nested_imports() -> None:
    # The checks above are only as good as the reader: it must see what the client imports.
    graph = internal_graph()
    assert "stytch_totp._resources.totps" in graph["stytch_totp._client"]
    assert "stytch_totp._core.protocol" in graph["stytch_totp._client"]
    assert "stytch_totp._models.user" in graph["stytch_totp._models.totp"]
