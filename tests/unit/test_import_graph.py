"""The import graph of ``simulator/``, read with ``ast`` (nothing is imported): no cycles between our
modules, and the one-way dependencies docs/architecture.md states.

Every import counts: at module level, inside functions, and under ``if TYPE_CHECKING:``. An import of
``pkg.mod`` or ``from pkg import mod`` is an edge to that module; ``from pkg.mod import name`` is an
edge to ``pkg.mod`` (or to ``pkg.mod.name`` when that is a module).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "simulator"


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _owner(name: str, modules: dict[str, tuple[Path, bool]]) -> str | None:
    """The module ``name`` is, or the innermost of ours that contains it."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path, is_package: bool, modules: dict[str, tuple[Path, bool]]) -> set[str]:
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                     for alias in node.names]
        else:
            continue
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                owner = _owner(name, modules)
                if owner and owner != module:
                    found.add(owner)
    return found


def graph_of(root: Path) -> dict[str, frozenset[str]]:
    modules = _modules(root)
    return {name: frozenset(_imports(name, path, is_pkg, modules)) for name, (path, is_pkg) in modules.items()}


@cache
def graph() -> dict[str, frozenset[str]]:
    return graph_of(ROOT)


def cycles(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _area(module: str) -> str:
    return ".".join(module.split(".")[:2])


def imports_between(source: str, target: str) -> list[str]:
    """``a -> b`` for every module of area ``source`` (e.g. ``simulator.targets``) importing one of ``target``."""
    return sorted(f"{m} -> {d}" for m, deps in graph().items() if _area(m) == source
                  for d in deps if _area(d) == target)


def test_the_graph_is_read_whole() -> None:
    edges = graph()
    assert len(edges) > 150
    assert "simulator.journal" in edges["simulator.run.runner"]
    assert "simulator.scenario.clock" in edges["simulator.scenario"]  # a package's __init__ is a module too


def test_hidden_imports_count(tmp_path: Path) -> None:
    """A cycle made of a function-level import and a TYPE_CHECKING one is still a cycle."""
    (tmp_path / PACKAGE / "sub").mkdir(parents=True)
    (tmp_path / PACKAGE / "__init__.py").write_text("")
    (tmp_path / PACKAGE / "sub" / "__init__.py").write_text("")
    (tmp_path / PACKAGE / "sub" / "a.py").write_text("def f():\n    from simulator.sub.b import g\n")
    (tmp_path / PACKAGE / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n")
    (tmp_path / PACKAGE / "c.py").write_text("import simulator.sub.a\nfrom simulator.sub import b\n")
    edges = graph_of(tmp_path)
    assert edges["simulator.sub.a"] == {"simulator.sub.b"}
    assert edges["simulator.sub.b"] == {"simulator.sub.a"}
    assert edges["simulator.c"] == {"simulator.sub.a", "simulator.sub.b"}
    assert cycles(edges) == [["simulator.sub.a", "simulator.sub.b"]]


def test_cycles_are_found() -> None:
    assert cycles({"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}) \
        == [["a", "b", "c"]]


def test_no_import_cycles_between_our_modules() -> None:
    assert cycles(graph()) == []


def test_targets_never_import_faults() -> None:
    """Faults act on targets (``targets.view``, ``targets.backends.docker``); targets know nothing of faults."""
    assert imports_between("simulator.targets", "simulator.faults") == []
    assert imports_between("simulator.faults", "simulator.targets")  # the one way it goes


@pytest.mark.parametrize("ground", ["simulator.errors", "simulator.procs", "simulator.http", "simulator.proxy"])
def test_infrastructure_imports_no_feature_package(ground: str) -> None:
    """The shared helpers (errors, child processes, loopback HTTP, the fault proxy) sit below every package."""
    features = {"simulator.targets", "simulator.faults", "simulator.tracker", "simulator.load", "simulator.monitor",
                "simulator.run", "simulator.drills", "simulator.scoring", "simulator.report", "simulator.cli"}
    assert any(_area(m) == ground for m in graph())
    assert [f"{m} -> {d}" for m, deps in graph().items() if _area(m) == ground
            for d in deps if _area(d) in features] == []
