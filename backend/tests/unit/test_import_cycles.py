"""No import circle between canteen's top-level packages, and no reach into another
package's private modules (issue 15).

import-linter's `acyclic_siblings` contract (pyproject.toml) fails `lint-imports` on a
circle too; this test runs the same rule under pytest and names the whole circle, module
by module, so the fix is plain. Private modules (`_name.py`) are a rule no import-linter
wildcard can express, so they are checked here only.
"""

from __future__ import annotations

from collections import defaultdict

import grimp
import pytest


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("canteen")


def _top(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _package_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module in graph.modules:
        if module == "canteen":
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("canteen.") and _top(imported) != _top(module):
                edges[_top(module)].add(_top(imported))
    return edges


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _explain(graph: grimp.ImportGraph, group: list[str]) -> list[str]:
    """Every package-to-package import inside the circle, with one module-level example."""
    members = set(group)
    lines = []
    for module in sorted(graph.modules):
        if _top(module) not in members:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if _top(imported) in members and _top(imported) != _top(module):
                lines.append(f"{module} -> {imported}")
    return lines


def test_the_package_graph_is_read():
    edges = _package_edges(grimp.build_graph("canteen"))
    # The walk did see the imports (orders stands on core, the app on the domains).
    assert "canteen.core" in edges["canteen.orders"]
    assert "canteen.orders" in edges["canteen.app"]
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle_between_top_level_packages(graph):
    circles = _circles(_package_edges(graph))
    report = [f"{group}: " + "; ".join(_explain(graph, group)) for group in circles]
    assert not circles, (
        "import circle(s) between canteen's packages; move the shared piece down or "
        "use a port:\n" + "\n".join(report)
    )


def test_no_package_imports_another_packages_private_module(graph):
    reach = []
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            name = imported.rsplit(".", 1)[-1]
            private = name.startswith("_") and not name.startswith("__")
            if private and imported.startswith("canteen.") and _top(imported) != _top(module):
                reach.append(f"{module} -> {imported}")
    assert not reach, f"private modules are their package's own: {sorted(reach)}"
