"""nnviz.core is pure numpy: nothing under it imports Qt or pyqtgraph."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "nnviz" / "core"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph")


def test_no_core_module_imports_qt():
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
    assert len(list(CORE.glob("*.py"))) >= 5


def test_importing_and_training_with_core_loads_no_qt():
    code = ("import sys, importlib, pkgutil, nnviz.core as c\n"
            "[importlib.import_module('nnviz.core.' + m.name) for m in pkgutil.iter_modules(c.__path__)]\n"
            "from nnviz.core.training import Trainer, TrainConfig\n"
            "list(Trainer(TrainConfig(dataset='xor', n_samples=16, epochs=1, engine='numpy')))\n"
            f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
