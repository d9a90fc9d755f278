"""The layers of ``zoom_brevo``: who may import whom, and no import cycle.

``cli`` sits on top (it may import ``demo``, ``admin``, ``server``...); the use cases in
``usecases`` serve them all and import none of them. A cycle (``admin`` importing ``cli``,
``demo`` importing ``cli``) would tie the layers together again. Every ``import`` and
``from ... import`` counts, function-local ones included: they are still dependencies.

``LAYERS`` and ``MAY_IMPORT`` are the table of docs/architecture.md: the code must keep to
them, and the page must say the same as this file.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import zoom_brevo

PACKAGE = Path(zoom_brevo.__file__).parent
DOC = PACKAGE.parents[1] / "docs" / "architecture.md"
Graph = Mapping[str, Mapping[str, set[str]]]

# Bottom to top: layer -> its top-level modules. Keep in step with docs/architecture.md.
LAYERS: dict[str, frozenset[str]] = {
    "errors": frozenset({"errors"}),
    "core": frozenset(
        {
            "backoff",
            "crypto",
            "engagement",
            "logging",
            "observe",
            "pooled",
            "ratelimit",
            "retrying",
            "runtime",
        }
    ),
    "vendors": frozenset({"zoom", "brevo"}),
    "config": frozenset({"config"}),
    "store": frozenset({"store"}),
    "services": frozenset({"erasure", "oauth_tokens", "registration", "reports", "zoom_erasure"}),
    "pipeline": frozenset({"pipeline", "scheduler"}),
    "delivery": frozenset({"delivery"}),
    "wiring": frozenset({"wiring"}),
    "usecases": frozenset({"usecases"}),
    "handlers": frozenset({"handlers"}),
    "server": frozenset({"server"}),
    "sandbox": frozenset({"sandbox"}),
    "processes": frozenset({"worker", "admin"}),
    "demo": frozenset({"demo"}),
    "cli": frozenset({"cli"}),
}
_BASE = ("errors", "core")
_BELOW_SANDBOX = (*_BASE, "vendors", "config", "store", "services", "pipeline", "delivery",
                  "wiring", "usecases", "handlers", "server")  # fmt: skip
# Layer -> the layers its modules may import. A module never imports its own layer's
# other modules (``zoom`` and ``brevo`` know nothing of each other).
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "errors": (),
    "core": ("errors",),
    "vendors": _BASE,
    "config": (*_BASE, "vendors"),
    "store": _BASE,
    "services": (*_BASE, "vendors", "config", "store"),
    "pipeline": (*_BASE, "vendors", "config", "store", "services"),
    "delivery": (*_BASE, "vendors", "store", "pipeline"),
    "wiring": (*_BASE, "vendors", "config", "store"),
    "usecases": (*_BASE, "vendors", "config", "store", "pipeline", "delivery", "wiring"),
    "handlers": (*_BASE, "vendors", "store", "services", "pipeline", "usecases"),
    "server": (*_BASE, "vendors", "config", "store", "services"),
    # Known exception: the emulated Brevo account is prepared with the connector's own
    # attribute list (sandbox/combined.py: config, pipeline.mapping, registration.writeback).
    "sandbox": (*_BASE, "vendors", "config", "services", "pipeline"),
    "processes": _BELOW_SANDBOX,
    "demo": (*_BELOW_SANDBOX, "sandbox"),
    "cli": (*_BELOW_SANDBOX, "sandbox", "processes", "demo"),
}


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
                # ``from zoom_brevo import __version__`` is the package root, not a module.
                yield from (
                    "zoom_brevo" if alias.name.startswith("__") else f"zoom_brevo.{alias.name}"
                    for alias in node.names
                )
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


def modules(package: Path = PACKAGE) -> set[str]:
    """The top-level modules and packages of ``package`` (``cli``, ``wiring``...)."""
    return {_top(path, package) for path in package.rglob("*.py")} - {"__init__"}


def layer_of(module: str) -> str:
    """The layer ``module`` belongs to (``KeyError`` if it has none)."""
    return next(name for name, members in LAYERS.items() if module in members)


def violations(graph: Graph) -> list[str]:
    """Every import of a module the table does not allow, named with its files."""
    found = []
    for source, targets in sorted(graph.items()):
        allowed = MAY_IMPORT[layer_of(source)]
        for target, files in sorted(targets.items()):
            if layer_of(target) not in allowed:
                found.append(f"{source} -> {target} ({', '.join(sorted(files))})")
    return found


def doc_table(text: str) -> dict[str, tuple[frozenset[str], tuple[str, ...]]]:
    """The page's table rows: layer -> (its modules, the layers it may import).

    A row reads ``| layer | `module`, `module` | what lives there | layer, layer |``;
    "nothing" in the last column means no layer.
    """
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in LAYERS:
            members = frozenset(re.findall(r"`([a-z_]+)`", cells[1]))
            allowed = tuple(re.findall(r"[a-z_]+", cells[3].replace("nothing", "")))
            rows[cells[0]] = (members, allowed)
    return rows


def test_every_module_is_in_exactly_one_layer() -> None:
    placed = [module for members in LAYERS.values() for module in members]
    assert len(placed) == len(set(placed)), "a module is in two layers"
    assert set(placed) == modules(), "LAYERS must name every top-level module, and only those"


def test_layers_import_only_layers_below_them() -> None:
    order = list(LAYERS)
    assert MAY_IMPORT.keys() == LAYERS.keys()
    for layer, allowed in MAY_IMPORT.items():
        assert all(order.index(other) < order.index(layer) for other in allowed), layer


def test_every_import_keeps_to_the_layer_table() -> None:
    assert violations(import_graph()) == []


def test_the_architecture_page_shows_the_same_table() -> None:
    declared = {name: (LAYERS[name], MAY_IMPORT[name]) for name in LAYERS}
    assert doc_table(DOC.read_text("utf-8")) == declared


def test_a_forbidden_import_is_found_and_named(tmp_path: Path) -> None:
    """The check itself: Zoom code importing Brevo code, the store importing settings."""
    for package in ("zoom", "brevo", "store", "config"):
        (tmp_path / package).mkdir()
    (tmp_path / "zoom" / "client.py").write_text("from zoom_brevo.brevo import models\n")
    (tmp_path / "store" / "engine.py").write_text("def f():\n    import zoom_brevo.config\n")
    (tmp_path / "config" / "settings.py").write_text("from zoom_brevo.zoom import webhooks\n")
    assert violations(import_graph(tmp_path)) == [
        "store -> config (store/engine.py)",
        "zoom -> brevo (zoom/client.py)",
    ]


def test_the_page_table_is_read_row_by_row() -> None:
    text = (
        "| Layer | Modules | What | May import |\n|---|---|---|---|\n"
        "| core | `backoff`, `crypto` | pure helpers | errors |\n"
        "| errors | `errors` | the tree | nothing |\n"
    )
    assert doc_table(text) == {
        "core": (frozenset({"backoff", "crypto"}), ("errors",)),
        "errors": (frozenset({"errors"}), ()),
    }


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
