"""The command line's modules import each other without a circle, and each can be imported first."""

import ast
import subprocess
import sys

import pytest
from helpers import ROOT

PACKAGE = ROOT / "nnviz"
ENTRY_MODULES = ["nnviz.cli", "nnviz.options", "nnviz.train_cli", "nnviz.compare_cli", "nnviz.gui.app",
                 "nnviz.gui.export", "nnviz.core.files", "nnviz.core.session", "nnviz.__main__"]


def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the nnviz modules it imports anywhere (at the top or inside a function)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                candidates = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            targets |= {c for c in candidates if c in modules and c != name}
        # A package's own __init__ is imported with any of its modules; it is not an edge of the code.
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    return graph


def cycles_through(graph, start) -> list[list[str]]:
    found, stack = [], [(start, [start])]
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                found.append(path + [start])
            elif nxt not in path:
                stack.append((nxt, path + [nxt]))
    return found


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_no_import_circle_through_the_command_line(module):
    graph = import_graph()
    assert module in graph
    assert cycles_through(graph, module) == []


def test_the_graph_sees_function_level_imports():
    graph = import_graph()
    assert "nnviz.gui.app" in graph["nnviz.cli"] and "nnviz.train_cli" in graph["nnviz.cli"]
    assert "nnviz.options" in graph["nnviz.compare_cli"]


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    others = [m for m in ENTRY_MODULES if m != module and m != "nnviz.__main__"]
    code = f"import {module}\n" + "".join(f"import {m}\n" for m in others)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_entry_point_loads_no_numpy_or_qt_before_it_runs():
    code = "import sys, nnviz.cli; print(sorted(m for m in ('numpy', 'PySide6', 'numba') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.strip() == "[]"
