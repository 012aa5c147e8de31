"""The package's layering stays true: no module imports from a higher layer or a sibling package of
its own layer, and no two modules import each other, directly or round a cycle.

Layers, bottom to top (docs and DESIGN.md show the same picture). Imports inside `if TYPE_CHECKING:`
and inside functions count: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "safecity"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("config",),
    ("types",),
    ("analytics", "sources"),
    ("store",),
    ("registry", "sim"),
    ("governance",),
    ("watch",),
    ("eval", "pipeline", "search", "video"),
    ("cluster",),
    ("runtime",),
    ("server",),
    ("demo",),
    ("cli",),
)
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported(path: Path, name: str, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """Every safecity module `path` imports (a `from pkg import submodule` counts as the submodule)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("safecity."):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if not base.startswith("safecity"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in known else base), node.lineno


def top_package(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def wrong_imports(path: Path, name: str, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The imports of module `name` (at `path`) that reach a higher layer or a sibling package."""
    source = top_package(name)
    for target, line in imported(path, name, known):
        into = top_package(target)
        if into != source and into in RANK and source in RANK and RANK[into] >= RANK[source]:
            yield target, line


def upward_imports() -> list[str]:
    known = modules()
    return [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
        for name, path in sorted(known.items())
        for target, line in wrong_imports(path, name, known)
    ]


def import_cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    known = modules()
    graph = {
        n: sorted({t for t, _ in imported(p, n, known) if t in known and t != n}) for n, p in known.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_every_package_has_a_layer() -> None:
    tops = {top_package(n) for n in modules()} - {""}
    assert tops <= set(RANK), f"packages without a layer: {sorted(tops - set(RANK))}"


def test_no_module_imports_from_a_higher_layer_or_a_sibling() -> None:
    problems = upward_imports()
    assert not problems, "upward or sideways imports:\n" + "\n".join(problems)


def test_no_import_cycles() -> None:
    cycles = import_cycles()
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("source", "line", "expected"),
    [
        ("safecity/store/x.py", "from safecity.watch.faces import FaceMatch", 1),
        ("safecity/watch/x.py", "from safecity.store.database import Database", 0),
        ("safecity/registry/x.py", "from safecity.sim import city", 1),
        ("safecity/store/x.py", "import safecity.cli.app", 1),
    ],
)
def test_the_check_sees_a_wrong_import(tmp_path: Path, source: str, line: str, expected: int) -> None:
    """The checker itself, on a throwaway module placed in the tree's layout."""
    name = module_name(PACKAGE.parent / source)
    fake = tmp_path / "x.py"
    fake.write_text(line + "\n")
    assert len(list(wrong_imports(fake, name, modules()))) == expected
