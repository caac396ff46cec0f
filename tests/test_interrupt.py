"""Ctrl-C (SIGINT) at any moment: exit 130, the one line "nnviz: interrupted", no traceback, no partial file.

Each case runs `python -X importtime main.py ...` and times the signal from the moment nnviz's entry
point is imported (the interpreter's own start-up before it is Python's, not nnviz's): right away
(numpy loading), during numba's cache load and Qt's import, and mid-training.
"""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from helpers import ROOT

MARKER = "| nnviz.__main__"  # -X importtime: the entry point is imported (main() runs next)


def interrupted(args, delay, cwd, timeout=90):
    """Run main.py ARGS, send SIGINT ``delay`` s after the entry point is imported: (status, stderr lines)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONFAULTHANDLER": "1"}
    process = subprocess.Popen([sys.executable, "-X", "importtime", str(ROOT / "main.py"), *args], cwd=cwd, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines, started = [], threading.Event()

    def drain():  # keeps the pipe empty, so that the child never waits on it
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            if line.rstrip().endswith(MARKER):
                started.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert started.wait(timeout), "the entry point was never imported"
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=timeout)
    except BaseException:
        process.kill()
        process.wait()
        raise
    reader.join(timeout)
    # -X importtime writes from every thread: an import in a background thread (numba compiling the specialised
    # kernels) can land in the middle of nnviz's own line. Keep what is not importtime's.
    kept = [line.split("import time:")[0] if not line.startswith("import time:") else "" for line in lines]
    return status, [line for line in kept if line]


def assert_clean_interrupt(status, lines, folder):
    assert not any("Traceback" in line or "Fatal" in line for line in lines), "\n".join(lines[-40:])
    assert status == 130, (status, lines[-40:])
    assert lines[-1:] == ["nnviz: interrupted"] and len(lines) == 1, lines[-40:]
    assert sorted(os.listdir(folder)) == [], "a partial or temporary file was left"


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3, 1.0, 4.0])
def test_train_interrupted_at_any_moment(delay, tmp_path):
    status, lines = interrupted(["train", "--epochs", "10000000", "--csv", "out.csv"], delay, tmp_path)
    assert_clean_interrupt(status, lines, tmp_path)


@pytest.mark.parametrize("delay", [0.05, 1.0, 4.0])
def test_compare_interrupted_at_any_moment(delay, tmp_path):
    status, lines = interrupted(["compare", "--epochs", "10000000", "--csv", "out.csv"], delay, tmp_path)
    assert_clean_interrupt(status, lines, tmp_path)


@pytest.mark.parametrize("delay", [0.3, 1.0])
def test_the_window_interrupted_while_it_starts(delay, tmp_path):
    status, lines = interrupted(["--preset", "sgd", "--epochs", "100000", "--run"], delay, tmp_path)
    assert_clean_interrupt(status, lines, tmp_path)


@pytest.mark.parametrize("attempt", range(5))
def test_the_window_interrupted_while_it_trains_closes_cleanly(attempt, tmp_path):
    status, lines = interrupted(["--preset", "sgd", "--epochs", "100000", "--run"], 3.0, tmp_path)
    assert_clean_interrupt(status, lines, tmp_path)
