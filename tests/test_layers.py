"""No import cycle between the top-level modules of ``zoom_brevo``.

``cli`` sits on top (it may import ``demo``, ``admin``, ``server``...); the use cases in
``usecases`` serve them all and import none of them. A cycle (``admin`` importing ``cli``,
``demo`` importing ``cli``) would tie the layers together again. Every ``import`` and
``from ... import`` counts, function-local ones included: they are still dependencies.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import zoom_brevo

PACKAGE = Path(zoom_brevo.__file__).parent
Graph = Mapping[str, Mapping[str, set[str]]]


def _top(path: Path, package: Path) -> str:
    """The top-level module a source file belongs to (``cli``, ``demo``, ``wiring``...)."""
    return path.relative_to(package).parts[0].removesuffix(".py")


def _imported(tree: ast.AST) -> Iterator[str]:
    """Every absolute module name ``tree`` imports (``from zoom_brevo import x``: ``x``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == "zoom_brevo":
                yield from (f"zoom_brevo.{alias.name}" for alias in node.names)
            else:
                yield node.module


def import_graph(package: Path = PACKAGE) -> dict[str, dict[str, set[str]]]:
    """Top-level module -> the top-level modules it imports -> the files that do."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(package.rglob("*.py")):
        source = _top(path, package)
        if source == "__init__":
            continue
        for name in _imported(ast.parse(path.read_text("utf-8"))):
            parts = name.split(".")
            if parts[0] == "zoom_brevo" and len(parts) > 1 and parts[1] != source:
                target = graph.setdefault(source, {}).setdefault(parts[1], set())
                target.add(str(path.relative_to(package)))
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _explain(graph: Graph, component: list[str]) -> list[str]:
    return [
        f"{a} -> {b} ({', '.join(sorted(graph[a][b]))})"
        for a in component
        for b in component
        if b in graph.get(a, {})
    ]


def test_the_top_level_modules_import_each_other_without_cycles() -> None:
    graph = import_graph()
    assert {"cli", "admin", "demo", "server", "usecases"} <= graph.keys()  # the scan works
    found = cycles(graph)
    assert found == [], [_explain(graph, component) for component in found]


def test_the_use_cases_import_none_of_their_callers() -> None:
    callers = {"cli", "admin", "demo", "server", "handlers", "worker"}
    assert callers.isdisjoint(import_graph().get("usecases", {}))


def test_a_cycle_is_found_and_named(tmp_path: Path) -> None:
    """The check itself: two modules importing each other, one of them inside a function."""
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "sync_cmd.py").write_text("from zoom_brevo.demo import run\n")
    (tmp_path / "demo.py").write_text("def f():\n    import zoom_brevo.cli.sync_cmd\n")
    (tmp_path / "admin.py").write_text("from zoom_brevo import demo\n")
    graph = import_graph(tmp_path)
    assert cycles(graph) == [["cli", "demo"]]
    assert _explain(graph, ["cli", "demo"]) == [
        "cli -> demo (cli/sync_cmd.py)",
        "demo -> cli (demo.py)",
    ]
