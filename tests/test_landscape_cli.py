"""The `landscape` command: the notebook's runs on their shared plane as JSON and PNG, and its one-line errors."""

import json

import numpy as np
import pytest
from helpers import read_csv, run_cli

from nnviz.core import network
from nnviz.core.comparison import RunSpec, SharedSettings
from nnviz.core.session import save_session

PRESETS = ["sgd", "mini-batch", "momentum", "decay"]
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]


@pytest.fixture(scope="module")
def notebook(tmp_path_factory, qapp):
    """`nnviz landscape` on the notebook's four presets, 3 epochs, a 9 × 9 grid, JSON and PNG."""
    folder = tmp_path_factory.mktemp("landscape")
    from nnviz.cli import main

    out, png = folder / "l.json", folder / "l.png"
    code = main(["landscape", "--epochs", "3", "--resolution", "9", "--json", str(out), "--png", str(png)])
    return code, json.loads(out.read_text()), png


def test_json_of_the_notebook_runs(notebook, capsys):
    code, doc, _ = notebook
    assert code == 0
    assert set(doc) == {"theta0", "d1", "d2", "a", "b", "cost", "l2", "paths", "shares", "colours"}
    size = network.Layout((2, 3, 4, 1)).size
    theta0, d1, d2 = (np.array(doc[k]) for k in ("theta0", "d1", "d2"))
    assert theta0.shape == d1.shape == d2.shape == (size,)
    assert d1 @ d1 == pytest.approx(1) and d2 @ d2 == pytest.approx(1) and abs(d1 @ d2) < 1e-12
    assert len(doc["a"]) == len(doc["b"]) == 9 and np.array(doc["cost"]).shape == (9, 9)
    assert list(doc["paths"]) == list(doc["shares"]) == PRESETS and list(doc["colours"].values()) == COLOURS
    # The same epochs and costs as `compare` writes for the same runs.
    code, out, _ = run_cli(["compare", "--epochs", "3", "--csv", "-"], capsys)
    rows = read_csv(out)
    for name in PRESETS:
        path = doc["paths"][name]
        assert [row[0] for row in path] == [0, 1, 2, 3]
        assert [row[3] for row in path] == [float(r["cost"]) for r in rows if r["run"] == name]
        assert path[0][1:3] == [0.0, 0.0] and 0 < doc["shares"][name] <= 1
        for _, a, b, _ in path:  # inside the grid
            assert doc["a"][0] < a < doc["a"][-1] and doc["b"][0] < b < doc["b"][-1]
    # The grid's cost at the origin is the start's cost, and at any node the cost of θ0 + a·d1 + b·d2.
    i, j = doc["b"].index(0.0), doc["a"].index(0.0)
    assert doc["cost"][i][j] == doc["paths"]["sgd"][0][3]
    from nnviz.core.datasets import Dataset

    data = Dataset.generate("hard", 1000, 0.1, 1337, 0.0)
    theta = theta0 + doc["a"][7] * d1 + doc["b"][2] * d2
    expected = network.cost(network.predict(theta, network.Layout((2, 3, 4, 1)), data.X), data.y)
    assert doc["cost"][2][7] == pytest.approx(expected, rel=1e-12)


def test_png_shows_every_run_in_its_colour(notebook):
    from PySide6.QtGui import QImage

    _, _, png = notebook
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(png))
    assert image.width() == 900 and image.height() == 675
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32, count=900 * 675) & 0xFFFFFF
    for colour in COLOURS:  # its path and end dot (the legend's line alone is about 20 pixels)
        assert np.count_nonzero(pixels == int(colour[1:], 16)) > 100, colour


def test_json_to_stdout_and_summary(capsys):
    code, out, err = run_cli(["landscape", "--presets", "sgd,momentum", "--epochs", "2", "--resolution", "5",
                              "--json", "-"], capsys)
    doc = json.loads(out)
    assert code == 0 and list(doc["paths"]) == ["sgd", "momentum"] and len(doc["cost"]) == 5
    assert "sgd:" in err and "the plane holds" in err and "landscape 5×5" in err


def test_runs_from_a_session_and_a_diverged_run(tmp_path, capsys):
    shared = SharedSettings(dataset="moons", n_samples=40, noise=0.2, shape=(2, 4, 1), engine="numpy")
    session = tmp_path / "s.nnviz.json"
    save_session(session, shared, [RunSpec("calm", learning_rate=0.1, epochs=4),
                                   RunSpec("wild", learning_rate=1e6, colour="#d62728", epochs=4)])
    out = tmp_path / "l.json"
    code, _, err = run_cli(["landscape", "--session", str(session), "--resolution", "5", "--json", str(out)], capsys)
    doc = json.loads(out.read_text())
    assert code == 3 and "wild" in err and "diverged" in err
    assert [row[0] for row in doc["paths"]["calm"]] == [0, 1, 2, 3, 4]
    assert doc["paths"]["wild"][0][0] == 0 and np.isfinite(np.array(doc["cost"], dtype=float)).all()


@pytest.mark.parametrize("argv, message", [
    (["--resolution", "4"], "--resolution: 4 is out of range; allowed: an integer from 5 to 401"),
    (["--resolution", "402"], "allowed: an integer from 5 to 401"),
    (["--resolution", "x"], "'x' is not an integer; allowed: an integer from 5 to 401"),
    (["--presets", "sgd,nope"], "--presets: 'nope' is not a preset"),
    (["--epochs", "-1"], "--epochs"),
    (["--png", "-"], "--png: give a file name"),
    (["--samples", "3"], "--samples: n_samples=3"),
])
def test_bad_options_are_one_line_errors(argv, message, tmp_path, capsys):
    out = tmp_path / "l.json"
    code, stdout, err = run_cli(["landscape", "--epochs", "1", "--resolution", "5", "--json", str(out), *argv],
                                capsys)
    assert code == 2 and stdout == "" and not out.exists()
    assert err.startswith("nnviz landscape: error: ") and err.count("\n") == 1
    assert message in err


def test_json_is_required_and_its_folder_must_exist(tmp_path, capsys):
    code, _, err = run_cli(["landscape", "--epochs", "1"], capsys)
    assert code == 2 and "--json" in err and err.count("\n") == 1
    code, _, err = run_cli(["landscape", "--epochs", "1", "--json", str(tmp_path / "no" / "l.json")], capsys)
    assert code == 2 and "does not exist" in err and err.count("\n") == 1
    code, _, err = run_cli(["landscape", "--epochs", "1", "--json", str(tmp_path / "l.json"),
                            "--session", str(tmp_path / "missing.nnviz.json")], capsys)
    assert code == 2 and err.startswith("nnviz landscape: error: ") and err.count("\n") == 1
    assert not (tmp_path / "l.json").exists()


@pytest.mark.parametrize("args, delay", [
    (["--epochs", "10000000"], 1.0),  # while training
    (["--epochs", "1", "--shape", "2,64,64,1", "--resolution", "401"], 4.0),  # while computing the grid
])
def test_ctrl_c_exits_130_without_a_file(args, delay, tmp_path):
    from test_interrupt import assert_clean_interrupt, interrupted

    status, lines = interrupted(["landscape", *args, "--json", "out.json", "--png", "out.png"], delay, tmp_path)
    assert_clean_interrupt(status, lines, tmp_path)
