"""Your own points and input features on the command line: --data-csv (--keep-order, --rescale) and --features in
`train`, `compare`, `sweep` and the scripted window; a session's points and features; one-line errors, exit 2."""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from helpers import ROOT, read_csv, run_cli, run_main

from nnviz.core.datasets import Points
from nnviz.core.points_csv import read_points
from nnviz.core.session import save_session
from nnviz.core.specs import RunSpec, SharedSettings
from nnviz.core.training import Trainer, preset_config
from nnviz.options import FractionProgress

FAST = ["--epochs", "3", "--engine", "numpy"]
ALLOWED = "x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2)"


def write_data(path, n=40, seed=3):
    """Two noisy blobs with text labels, in the file's order class by class (so that the order matters)."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal([-1, 0.5], 0.6, (n // 2, 2)), rng.normal([1, -0.5], 0.6, (n - n // 2, 2))])
    labels = ["no"] * (n // 2) + ["yes"] * (n - n // 2)
    rows = "".join(f"{a!r},{b!r},{c}\n" for (a, b), c in zip(X.tolist(), labels, strict=True))
    path.write_text("x1,x2,label\n" + rows)
    return path


@pytest.fixture
def data(tmp_path):
    return write_data(tmp_path / "points.csv")


def costs(text, column="cost"):
    return [float(row[column]) for row in read_csv(text)]


def trained(**fields):
    """The costs of training a TrainConfig (the sgd preset's, FAST) directly."""
    return [r.cost for r in Trainer(preset_config("sgd", epochs=3, engine="numpy", **fields))]


def without_elapsed(text):
    return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in read_csv(text)]


# Loading, order, rescaling

def test_train_on_the_files_points_in_their_order_equals_training_them_directly(data, capsys):
    code, out, err = run_cli(["train", "--data-csv", str(data), "--keep-order", *FAST, "--csv", "-"], capsys)
    assert code == 0, err
    assert costs(out) == trained(dataset="custom", points=read_points(data), keep_order=True)


@pytest.mark.parametrize("seed", [1337, 5])
def test_the_points_are_shuffled_once_with_the_data_seed_as_the_notebook_does(data, seed, capsys):
    code, out, _ = run_cli(["train", "--data-csv", str(data), "--data-seed", str(seed), *FAST, "--csv", "-"], capsys)
    points = read_points(data)
    order = np.random.RandomState(seed).permutation(len(points))
    by_hand = Points(points.X[order], points.y[order], points.classes)
    assert code == 0
    assert costs(out) == trained(dataset="custom", points=by_hand, keep_order=True, data_seed=seed)
    _, kept, _ = run_cli(["train", "--data-csv", str(data), "--data-seed", str(seed), "--keep-order", *FAST,
                          "--csv", "-"], capsys)
    assert costs(out) != costs(kept)


def test_rescale_centres_the_points_and_divides_them_by_their_variance(data, capsys):
    code, out, err = run_cli(["train", "--data-csv", str(data), "--rescale", "--keep-order", *FAST, "--csv", "-"],
                             capsys)
    points = read_points(data)
    X = (points.X - points.X.mean(axis=0)) / points.X.var(axis=0)
    assert code == 0, err
    assert costs(out) == pytest.approx(trained(dataset="custom", points=Points(X, points.y, points.classes),
                                               keep_order=True), rel=1e-12)
    _, plain, _ = run_cli(["train", "--data-csv", str(data), "--keep-order", *FAST, "--csv", "-"], capsys)
    assert costs(out) != costs(plain)


def test_compare_and_sweep_train_on_the_files_points(data, tmp_path, capsys):
    points = read_points(data)
    code, out, err = run_cli(["compare", "--presets", "sgd", "--data-csv", str(data), *FAST, "--csv", "-"], capsys)
    assert code == 0, err
    assert costs(out) == trained(dataset="custom", points=points)
    code, out, err = run_cli(["sweep", "--data-csv", str(data), "--keep-order", *FAST, "--x",
                              "learning_rate=0.01:0.1:lin:2", "--csv", "-"], capsys)
    assert code == 0, err
    assert costs(out, "final_cost") == [trained(dataset="custom", points=points, keep_order=True,
                                                learning_rate=rate)[-1] for rate in (0.01, 0.1)]


def test_the_settings_csv_names_the_file_and_counts_the_points_instead_of_writing_them(data, capsys):
    code, out, err = run_cli(["compare", "--data-csv", str(data), "--features", "x1,x2,x1*x2", *FAST,
                              "--settings-csv", "-"], capsys)
    rows = read_csv(out)
    assert code == 0, err
    assert {(r["dataset"], r["points"], r["n_samples"], r["features"]) for r in rows} == {
        ("custom", "points.csv (40 points)", "40", "x1,x2,x1*x2")}
    assert "Points(" not in out
    code, out, _ = run_cli(["compare", "--presets", "sgd", *FAST, "--settings-csv", "-"], capsys)
    assert code == 0 and read_csv(out)[0]["points"] == "" and read_csv(out)[0]["features"] == "x1,x2"


# Errors: one line, exit 2, no traceback

MALFORMED = [
    ("x1,x2,label\n1,2,0\n3,oops,1\n", "line 3, column x2: 'oops' is not a number"),
    ("x1,x2,label\n1,2,0\n3,inf,1\n", "line 3, column x2: inf is not a finite number"),
    ("x1,x2,label\n1,2,0\n3,4\n", "line 3: 2 columns, expected 3"),
    ("x1,x2,label\n1,2,a\n3,4,b\n5,6,c\n", "line 4, column label: 'c' is not one of the two classes a, b"),
    ("x1,x2,label\n1,2,0\n3,4,0\n", "column label: only one class"),
    ("", "empty file"),
]
COMMANDS = {
    "train": ["train", *FAST],
    "compare": ["compare", *FAST],
    "sweep": ["sweep", *FAST, "--x", "learning_rate=0.01:0.1:lin:2"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("content, message", MALFORMED)
def test_a_malformed_file_is_refused_in_one_line_naming_the_line_and_column(command, content, message, tmp_path,
                                                                           capsys):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    out_csv = tmp_path / "out.csv"
    code, out, err = run_cli([*COMMANDS[command], "--data-csv", str(path), "--csv", str(out_csv)], capsys)
    assert code == 2
    assert err == f"nnviz {command}: error: --data-csv {path}: {err.split(': ', 3)[-1]}"
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out_csv.exists()


def test_a_missing_file_is_refused(tmp_path, capsys):
    code, _, err = run_cli(["train", "--data-csv", str(tmp_path / "nope.csv")], capsys)
    assert code == 2 and err == f"nnviz train: error: --data-csv {tmp_path / 'nope.csv'}: no such file\n"


@pytest.mark.parametrize("argv, message", [
    (["--keep-order"], "--keep-order: only with your own points"),
    (["--rescale"], "--rescale: only with --data-csv PATH"),
    (["--dataset", "custom"], "--dataset custom: give your points with --data-csv PATH"),
    (["--dataset", "moons", "--data-csv", "DATA"], "--dataset moons: not with --data-csv"),
    (["--samples", "40", "--data-csv", "DATA"], "--samples: not with --data-csv"),
])
@pytest.mark.parametrize("command", ["train", "compare"])
def test_data_options_that_do_not_fit_are_refused(command, argv, message, data, capsys):
    code, _, err = run_cli([command, *[str(data) if a == "DATA" else a for a in argv]], capsys)
    assert code == 2 and message in err and err.count("\n") == 1


# Input features

def test_features_widen_the_first_layer_and_take_the_hidden_layers_from_shape(capsys):
    code, out, err = run_cli(["train", "--dataset", "moons", "--samples", "40", "--features", "x1,x2,x1*x2",
                              "--shape", "2,4,1", *FAST, "--csv", "-"], capsys)
    assert code == 0, err
    expected = trained(dataset="moons", n_samples=40, features=("x1", "x2", "x1*x2"), shape=(3, 4, 1))
    assert costs(out) == expected
    _, same, _ = run_cli(["train", "--dataset", "moons", "--samples", "40", "--features", "x1,x2,x1*x2",
                          "--shape", "3,4,1", *FAST, "--csv", "-"], capsys)
    assert costs(same) == expected
    _, plain, _ = run_cli(["train", "--dataset", "moons", "--samples", "40", "--shape", "2,4,1", *FAST, "--csv", "-"],
                          capsys)
    assert costs(plain) != expected


def test_compare_settings_show_the_features_and_the_first_layer(capsys):
    code, out, err = run_cli(["compare", "--presets", "sgd,momentum", "--features", "sin x2, x1², x1", "--shape",
                              "2,8,1", *FAST, "--settings-csv", "-"], capsys)
    assert code == 0, err
    assert {(r["features"], r["shape"]) for r in read_csv(out)} == {("x1,x1^2,sin(x2)", "3-8-1")}
    code, out, _ = run_cli(["compare", "--presets", "sgd", "--features", "x1^2,x2^2", *FAST, "--settings-csv", "-"],
                           capsys)
    assert code == 0 and read_csv(out)[0]["shape"] == "2-3-4-1" and read_csv(out)[0]["features"] == "x1^2,x2^2"


@pytest.mark.parametrize("command", ["train", "compare", "sweep", "window"])
def test_an_invalid_feature_is_refused_with_the_allowed_names(command, capsys):
    argv = {"window": [], "sweep": ["sweep", "--x", "l2=0:1:lin:2", "--csv", "-"]}.get(command, [command])
    code, _, err = run_cli([*argv, "--features", "x1,x3"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "--features: 'x3' is not an input feature" in err and ALLOWED in err


def test_a_shape_whose_inputs_are_neither_two_nor_the_features_is_refused(capsys):
    code, _, err = run_cli(["train", "--features", "x1,x2,x1*x2", "--shape", "5,8,1"], capsys)
    assert code == 2 and "--shape: '5,8,1'; allowed: comma-separated layer sizes starting with 2 or 3" in err
    code, _, err = run_cli(["train", "--shape", "3,8,1"], capsys)
    assert code == 2
    assert "--shape: '3,8,1'; allowed: comma-separated layer sizes starting with 2 and ending with 1" in err


# Sessions

@pytest.fixture
def custom_session(data, tmp_path):
    config = preset_config("sgd", dataset="custom", points=read_points(data), keep_order=True,
                           features=("x1", "x2", "x2^2"), shape=(3, 3, 1), epochs=3, engine="numpy")
    path = tmp_path / "own.nnviz.json"
    save_session(path, SharedSettings.from_config(config), [RunSpec.from_config(config, "own")])
    return path, config


def test_a_session_trains_on_its_own_points_and_features(custom_session, capsys):
    path, config = custom_session
    code, out, err = run_cli(["compare", "--session", str(path), "--csv", "-"], capsys)
    assert code == 0, err
    assert costs(out) == [r.cost for r in Trainer(config)]


def test_data_options_replace_a_sessions_points_and_features(custom_session, tmp_path, capsys):
    path, config = custom_session
    other = write_data(tmp_path / "other.csv", n=24, seed=9)
    code, out, err = run_cli(["compare", "--session", str(path), "--data-csv", str(other), "--features", "x1,x2",
                              "--csv", "-"], capsys)
    assert code == 0, err
    expected = config.replace(points=read_points(other), features=("x1", "x2"))
    assert expected.shape == (2, 3, 1)
    assert costs(out) == [r.cost for r in Trainer(expected)]
    code, out, err = run_cli(["compare", "--session", str(path), "--shape", "2,5,1", "--settings-csv", "-"], capsys)
    assert code == 0 and read_csv(out)[0]["shape"] == "3-5-1" and read_csv(out)[0]["points"] == "40 points"


# The scripted window (a subprocess each: app.exec() in this process would end pytest-qt's loops)

def test_the_window_trains_on_the_files_points_through_the_features(data, tmp_path):
    options = ["--data-csv", str(data), "--features", "x1,x2,x1*x2", "--shape", "2,4,1", *FAST]
    done = run_main(*options, "--run", "--export-csv", str(tmp_path / "window.csv"), "--screenshot",
                    str(tmp_path / "window.png"))
    assert done.returncode == 0, done.stderr
    compared = subprocess.run([sys.executable, str(ROOT / "main.py"), "compare", "--presets", "sgd", *options,
                               "--csv", "-"], capture_output=True, text=True, timeout=120)
    assert compared.returncode == 0, compared.stderr
    assert without_elapsed((tmp_path / "window.csv").read_text()) == without_elapsed(compared.stdout)
    assert (tmp_path / "window.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_window_replaces_a_sessions_points_and_refuses_a_malformed_file(custom_session, tmp_path):
    path, config = custom_session
    other = write_data(tmp_path / "other.csv", n=24, seed=9)
    done = run_main("--session", str(path), "--data-csv", str(other), "--features", "x1,sin(x2)", "--run",
                    "--export-csv", str(tmp_path / "window.csv"))
    assert done.returncode == 0, done.stderr
    expected = config.replace(points=read_points(other), features=("x1", "sin(x2)"))
    assert costs((tmp_path / "window.csv").read_text()) == [r.cost for r in Trainer(expected)]
    (tmp_path / "bad.csv").write_text("x1,x2,label\n1,2,0\n3,oops,1\n")
    refused = run_main("--data-csv", str(tmp_path / "bad.csv"), "--run", "--export-csv", str(tmp_path / "no.csv"))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr == f"nnviz: error: --data-csv {tmp_path / 'bad.csv'}: line 3, column x2: 'oops' is not a " \
                             "number\n"
    assert not (tmp_path / "no.csv").exists()


# Progress and Ctrl-C while reading

class Terminal:
    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_the_reading_bar_ends_at_100_percent_on_a_terminal_only():
    terminal = Terminal()
    bar = FractionProgress("reading points.csv", terminal)
    for fraction in (0.25, 0.5, 1.0):
        bar(fraction)
    bar.close()
    assert "reading points.csv 100%" in terminal.text and terminal.text.endswith("\n")

    class Pipe(Terminal):
        def isatty(self):
            return False

    pipe = Pipe()
    bar = FractionProgress("reading", pipe)
    bar(1.0)
    bar.close()
    assert pipe.text == ""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
def test_ctrl_c_stops_a_file_that_is_still_being_read(tmp_path):
    # A named pipe is a file whose reading lasts as long as its writer wants: Ctrl-C comes while it is read.
    fifo = tmp_path / "slow.csv"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", "--data-csv", str(fifo),
                                "--epochs", "0", "--csv", "out.csv"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip("\n") for line in process.stderr), daemon=True)
    reader.start()
    writer = None
    try:
        deadline = time.monotonic() + 90
        while writer is None:  # opening the writing end succeeds once the command has opened the file to read it
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, lines
                time.sleep(0.01)
        os.write(writer, b"x1,x2,label\n1,2,0\n")
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=30)
    finally:
        if writer is not None:
            os.close(writer)
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(10)
    assert status == 130 and lines == ["nnviz: interrupted"], lines
    assert sorted(os.listdir(tmp_path)) == ["slow.csv"]
