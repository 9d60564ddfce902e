"""The shape of the package: no import cycle. (Layers: pyproject.toml's import-linter contracts;
the size of units: ruff's complexity, argument and statement rules; both in `make lint`.)"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "wesog_dash"


def module_name(path: Path) -> str:
    """wesog_dash/audit/chain.py -> wesog_dash.audit.chain (packages by their __init__)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of ours, by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_names(name: str, path: Path) -> set[str]:
    """The modules of ours that `name` imports anywhere in its body (function-local too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (a package import counts as its __init__)."""
    known = modules()
    return {
        name: {t for t in imported_names(name, path) if t in known and t != name}
        for name, path in known.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = 1, stack.append(node)
        for target in sorted(graph.get(node, ())):
            # A package's __init__ re-exporting its own submodules is not a cycle.
            if target.startswith(node + "."):
                continue
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node], _ = 2, stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_finder_sees_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_among_our_modules() -> None:
    graph = {
        name: {t for t in targets if not name.startswith(t + ".")}  # a module's own parents
        for name, targets in import_graph().items()
    }
    assert find_cycle(graph) is None


def test_each_operation_class_has_a_name_of_its_own() -> None:
    """`Operation` is the table row; the upstream snapshot, the public schema and the simulator's
    record have names of their own, and none is imported under another name."""
    defined: dict[str, list[str]] = {}
    renamed: list[str] = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and "Operation" in node.name:
                defined.setdefault(node.name, []).append(name)
            elif isinstance(node, ast.ImportFrom):
                renamed += [
                    f"{name}: {alias.name} as {alias.asname}"
                    for alias in node.names
                    if alias.asname and "Operation" in alias.name + alias.asname
                ]
    assert {cls: where for cls, where in defined.items() if len(where) > 1} == {}
    assert defined["Operation"] == ["wesog_dash.models.operations"]
    assert {"OperationSnapshot", "OperationOut", "SimulatedOperation"} <= set(defined)
    assert renamed == []
