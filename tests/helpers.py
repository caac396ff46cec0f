"""Helpers shared by several test modules (imported as `helpers`: pytest puts tests/ on sys.path)."""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from nnviz.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(argv, capsys):
    """`nnviz ARGV` in this process: (exit code, stdout, stderr)."""
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def read_csv(text):
    """CSV text as a list of dicts, one per row."""
    return list(csv.DictReader(io.StringIO(text)))


def run_main(*args):
    """`python main.py ARGS` in a subprocess (app.exec() and exit in this process would end pytest-qt's loops)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, env=env,
                          timeout=120)


def shown(qtbot, widget, width, height):
    """The widget registered with qtbot, resized, shown and exposed."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def ready(window):
    """The window's comparison is prepared (its kernel loaded, its points built) and shown."""
    return len(window.model) > 0 and not window.controller.busy


def config_of(window, run_id=None):
    """The TrainConfig a run (default: the selected one) trains."""
    return window.model[window.selected_run_id if run_id is None else run_id].trainer.config


def curve(window, run_id=None):
    """The curves' data of a run (default: the window's selected run)."""
    from nnviz.gui.window_views import curve_key

    return window.curves.data(curve_key(window.selected_run_id if run_id is None else run_id))


def epochs(window, run_id=None):
    return curve(window, run_id)["epoch"].astype(int).tolist()


def run_to_end(qtbot, window, expected="finished", timeout=30000):
    with qtbot.waitSignal(window.run_ended, timeout=timeout) as blocker:
        window.start_action.trigger()
    assert blocker.args == [expected]
