"""The scripted window (`python main.py ... --run --export-csv F --screenshot P`), in a subprocess (offscreen)."""

import csv
import io
import os
import subprocess
import sys

from helpers import ROOT

NOTEBOOK = str(ROOT / "resources" / "notebook.nnviz.json")

# Makes the atomic writer's writes of a temporary file named after TARGET fail as on a full disk.
FULL_DISK = '''
import errno, os
_write = os.write
def write(fd, data):
    if os.environ["NNVIZ_FULL_TARGET"] in os.readlink(f"/proc/self/fd/{fd}"):
        raise OSError(errno.ENOSPC, "No space left on device")
    return _write(fd, data)
os.write = write
'''


def run_main(*args, cwd, full_disk_for=None):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if full_disk_for is not None:
        (cwd / "inject").mkdir(exist_ok=True)
        (cwd / "inject" / "sitecustomize.py").write_text(FULL_DISK)
        env["PYTHONPATH"] = str(cwd / "inject")
        env["NNVIZ_FULL_TARGET"] = f".{full_disk_for}."
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def rows(path, ignore=("elapsed_s",)):
    return [{k: v for k, v in row.items() if k not in ignore} for row in csv.DictReader(io.StringIO(path.read_text()))]


def test_the_window_exports_the_rows_compare_writes_for_the_same_session(tmp_path):
    window = run_main("--session", NOTEBOOK, "--run", "--export-csv", "window.csv", cwd=tmp_path)
    assert window.returncode == 0, window.stderr[-2000:]
    assert window.stderr.strip().splitlines()[-1] == "saved window.csv"
    compare = run_main("compare", "--session", NOTEBOOK, "--csv", "compare.csv", cwd=tmp_path)
    assert compare.returncode == 0, compare.stderr[-2000:]
    mine, theirs = rows(tmp_path / "window.csv"), rows(tmp_path / "compare.csv")
    assert len(theirs) == 150 + 2000 + 150 + 150 + 4
    assert list(csv.DictReader(io.StringIO((tmp_path / "window.csv").read_text())).fieldnames) == \
        list(csv.DictReader(io.StringIO((tmp_path / "compare.csv").read_text())).fieldnames)
    for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        assert a == b, (i, a, b)


def test_export_csv_and_screenshot_together(tmp_path):
    result = run_main("--preset", "sgd", "--epochs", "3", "--run", "--export-csv", "runs.csv", "--screenshot",
                      "window.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [int(r["epoch"]) for r in rows(tmp_path / "runs.csv")] == [0, 1, 2, 3]
    assert (tmp_path / "window.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.csv", "window.png"]


def test_a_screenshot_on_a_full_disk_says_so_and_keeps_the_old_file(tmp_path):
    (tmp_path / "window.png").write_bytes(b"old")
    result = run_main("--preset", "sgd", "--epochs", "2", "--run", "--screenshot", "window.png", cwd=tmp_path,
                      full_disk_for="window.png")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "nnviz: error: --screenshot window.png: cannot write the window image: no space left on the device"]
    assert (tmp_path / "window.png").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inject", "window.png"]


def test_an_export_csv_that_fails_exits_1_with_one_line_and_keeps_the_old_file(tmp_path):
    (tmp_path / "runs.csv").write_text("old\n")
    result = run_main("--preset", "sgd", "--epochs", "2", "--run", "--export-csv", "runs.csv", cwd=tmp_path,
                      full_disk_for="runs.csv")
    assert result.returncode == 1
    # (the offscreen platform may add a warning of its own about the window's message box)
    assert result.stderr.strip().splitlines()[-1] == "nnviz: error: --export-csv runs.csv: cannot write the CSV"
    assert "Traceback" not in result.stderr
    assert (tmp_path / "runs.csv").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inject", "runs.csv"]


def test_export_csv_into_a_missing_folder_is_refused_before_the_window_opens(tmp_path):
    result = run_main("--export-csv", "nope/runs.csv", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("nnviz: error: --export-csv nope/runs.csv: folder ")
