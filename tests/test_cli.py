"""The `train` command: options, exit codes, one-line messages, atomic CSV, divergence."""

import io
import os
import subprocess
import sys

import pytest
from helpers import ROOT, read_csv, run_cli

from nnviz.cli import main
from nnviz.core.training import Trainer, preset_config

SMALL = ["--dataset", "moons", "--samples", "40", "--shape", "2,3,1", "--epochs", "3", "--engine", "numpy"]


def test_csv_has_one_row_per_epoch_at_full_precision(tmp_path, capsys):
    path = tmp_path / "run.csv"
    code, out, err = run_cli(["train", "--preset", "sgd", "--epochs", "4", "--csv", str(path)], capsys)
    assert code == 0
    rows = read_csv(path.read_text())
    assert list(rows[0]) == ["epoch", "cost", "accuracy", "learning_rate", "elapsed_s"]
    expected = list(Trainer(preset_config("sgd", epochs=4)))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3, 4]
    assert [float(r["cost"]) for r in rows] == [r.cost for r in expected]
    assert "4 epochs: cost" in err and "epochs/s" in err


def test_csv_to_stdout_with_test_columns(capsys):
    code, out, err = run_cli(["train", *SMALL, "--test-fraction", "0.25", "--csv", "-"], capsys)
    assert code == 0
    rows = read_csv(out)
    assert list(rows[0])[-2:] == ["test_cost", "test_accuracy"] and len(rows) == 4
    assert "test cost" in err


def test_explicit_options_override_the_preset(capsys):
    code, out, _ = run_cli(["train", "--preset", "decay", "--alpha", "0.05", "--epochs", "2", "--csv", "-"], capsys)
    rows = read_csv(out)
    assert code == 0 and float(rows[1]["learning_rate"]) == 0.05
    assert float(rows[2]["learning_rate"]) == pytest.approx(0.05 * (1 - 0.015))


def test_gamma_alone_means_the_exponential_schedule(capsys):
    code, out, _ = run_cli(["train", *SMALL, "--gamma", "0.5", "--alpha", "0.1", "--csv", "-"], capsys)
    assert [float(r["learning_rate"]) for r in read_csv(out)[1:]] == [0.1, 0.05, 0.025]


def test_step_schedule_and_full_batch(capsys):
    code, out, _ = run_cli(["train", *SMALL, "--schedule", "step", "--step-every", "2", "--step-factor", "0.1",
                        "--batch-size", "full", "--alpha", "1", "--csv", "-"], capsys)
    assert code == 0
    assert [float(r["learning_rate"]) for r in read_csv(out)[1:]] == [1.0, 1.0, 0.1]


@pytest.mark.parametrize("argv, message", [
    (["--alpha", "-1"], "--alpha: learning_rate=-1.0: must be finite and > 0"),
    (["--alpha", "abc"], "--alpha: 'abc' is not a number; allowed: a finite number > 0"),
    (["--alpha", "nan"], "--alpha: 'nan' is not finite"),
    (["--shape", "3,4,1"], "--shape: '3,4,1'; allowed: comma-separated layer sizes starting with 2 and ending with 1"),
    (["--shape", "2,x,1"], "--shape: '2,x,1' is not a shape"),
    (["--shape", "2,300,1"], "--shape: '2,300,1'"),
    (["--batch-size", "0"], "--batch-size: batch_size=0: must be an integer from 1"),
    (["--batch-size", "2.5"], "--batch-size: '2.5' is not an integer"),
    (["--beta", "1"], "--beta: momentum=1.0: must be from 0 to below 1"),
    (["--gamma", "1.2"], "--gamma: gamma=1.2: must be from 0 to below 1"),
    (["--schedule", "cosine"], "--schedule: schedule='cosine': allowed are constant, exponential, step"),
    (["--step-every", "0"], "--step-every: step_every=0"),
    (["--step-factor", "2"], "--step-factor: step_factor=2.0: must be above 0 and at most 1"),
    (["--l2", "-1"], "--l2: l2=-1.0: must be finite and ≥ 0"),
    (["--epochs", "-5"], "--epochs: epochs=-5: must be an integer from 0 to 10000000"),
    (["--samples", "3"], "--samples: n_samples=3: must be an integer from 4 to 1000000"),
    (["--samples", "1001"], "--samples: n_samples=1001: the 'hard' data set needs a multiple of 4"),
    (["--noise", "2"], "--noise: noise=2.0: must be from 0 to 1"),
    (["--test-fraction", "0.95"], "--test-fraction: test_fraction=0.95: must be from 0 to 0.9"),
    (["--data-seed", "-1"], "--data-seed: data_seed=-1: must be an integer from 0 to 4294967295"),
    (["--init-seed", "4294967296"], "--init-seed: init_seed=4294967296"),
    (["--dataset", "blobs"], "--dataset: dataset='blobs': allowed are hard, circle"),
    (["--activation", "gelu"], "--activation: activation='gelu': allowed are relu, tanh"),
    (["--init", "xavier"], "--init: init='xavier': allowed are notebook, glorot, he"),
    (["--engine", "gpu"], "--engine: engine='gpu': allowed are compiled, numpy"),
    (["--preset", "lion"], "argument --preset: invalid choice: 'lion'"),
    (["--optimizer", "lion"], "--optimizer: optimizer='lion': allowed are sgd, heavy-ball, nesterov, rmsprop, adam"),
    (["--rho", "1"], "--rho: rho=1.0: must be from 0 to below 1"),
    (["--beta1", "-0.1"], "--beta1: beta1=-0.1: must be from 0 to below 1"),
    (["--beta2", "1.5"], "--beta2: beta2=1.5: must be from 0 to below 1"),
    (["--epsilon", "0"], "--epsilon: epsilon=0.0: must be finite and > 0"),
    (["--update-order", "backwards"], "--update-order: update_order='backwards': allowed are true, notebook"),
    (["--optimizer", "adam", "--update-order", "notebook"], "--update-order: update_order='notebook': defined for "
                                                             "optimizer sgd only"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    code, out, err = run_cli(["train", *argv], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("nnviz train: error: ")
    assert message in err
    assert "Traceback" not in err and out == ""


def test_refused_run_leaves_an_existing_csv_untouched(tmp_path, capsys):
    path = tmp_path / "keep.csv"
    path.write_text("precious\n")
    code, _, _ = run_cli(["train", "--alpha", "-1", "--csv", str(path)], capsys)
    assert code == 2 and path.read_text() == "precious\n"


def test_csv_into_a_missing_folder_is_refused_before_training(tmp_path, capsys):
    code, _, err = run_cli(["train", *SMALL, "--csv", str(tmp_path / "nope" / "x.csv")], capsys)
    assert code == 2 and "--csv" in err and "does not exist" in err


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, capsys):
    path = tmp_path / "keep.csv"
    path.write_text("precious\n")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    code, _, err = run_cli(["train", *SMALL, "--csv", str(path)], capsys)
    assert code == 1 and err == f"nnviz train: error: --csv {path}: cannot write: disk full\n"
    assert path.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


def test_divergence_exits_3_and_keeps_the_finite_rows(tmp_path, capsys):
    path = tmp_path / "div.csv"
    code, _, err = run_cli(["train", "--alpha", "1e6", "--epochs", "20", "--csv", str(path)], capsys)
    assert code == 3
    assert "diverged at epoch 1:" in err and "lower the learning rate" in err
    rows = read_csv(path.read_text())
    assert [r["epoch"] for r in rows] == ["0"]


def test_main_py_runs_train_in_a_subprocess(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", *SMALL, "--csv", "-"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0
    assert len(read_csv(out.stdout)) == 4
    bad = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--beta", "7"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "nnviz train: error: --beta: momentum=7.0: must be from 0 to below 1"]


# ---- initial weights and training health (issue 9) ----------

WIDE = ["--shape", "2,256,256,256,1", "--batch-size", "32", "--engine", "numpy"]  # relu, the hard data
SATURATED = ("nnviz train: warning: the output is saturated on 100 % of the points: the initial weights are too "
             "large for 256 units a layer; try init 'he'")


def warnings_in(err):
    return [line for line in err.splitlines() if line.startswith("nnviz train: warning: ")]


def test_a_wide_network_with_the_notebooks_weights_is_warned_about_once(capsys):
    code, _, err = run_cli(["train", *WIDE, "--epochs", "0"], capsys)
    assert code == 0 and warnings_in(err) == [SATURATED]
    code, _, err = run_cli(["train", *WIDE, "--epochs", "2"], capsys)
    assert code == 0 and warnings_in(err) == [SATURATED]  # still saturated after training: not said twice


@pytest.mark.parametrize("argv", [
    [*WIDE, "--init", "he", "--epochs", "0"],
    ["--preset", "sgd", "--epochs", "2", "--engine", "numpy"],  # the notebook's own network
])
def test_a_healthy_start_gives_no_warning(argv, capsys):
    code, _, err = run_cli(["train", *argv], capsys)
    assert code == 0 and "warning" not in err


def test_he_weights_let_the_wide_relu_network_learn(capsys):
    code, out, err = run_cli(["train", *WIDE, "--init", "he", "--epochs", "20", "--csv", "-"], capsys)
    rows = read_csv(out)
    assert code == 0 and "warning" not in err and [r["epoch"] for r in rows] == [str(e) for e in range(21)]
    assert float(rows[20]["cost"]) < 0.5 * float(rows[0]["cost"])
    code, out, _ = run_cli(["train", *WIDE, "--init", "notebook", "--epochs", "1", "--csv", "-"], capsys)
    assert float(read_csv(out)[1]["cost"]) > 9  # the notebook's weights: stuck at its epoch-0 cost


def test_the_init_option_changes_the_start(capsys):
    costs = {}
    for init in ("notebook", "glorot", "he"):
        code, out, _ = run_cli(["train", *SMALL, "--init", init, "--csv", "-"], capsys)
        costs[init] = read_csv(out)[0]["cost"]
    _, out, _ = run_cli(["train", *SMALL, "--csv", "-"], capsys)
    assert read_csv(out)[0]["cost"] == costs["notebook"]  # the default
    assert len(set(costs.values())) == 3


def test_a_problem_that_appears_while_training_is_warned_about_at_the_end(capsys):
    code, _, err = run_cli(["train", "--preset", "sgd", "--alpha", "0.3", "--epochs", "6", "--engine", "numpy"],
                           capsys)
    lines = warnings_in(err)
    assert code == 0 and len(lines) == 1
    assert "units of hidden layer 2 are dead (zero on every point)" in lines[0]
    assert lines[0].endswith("lower the learning rate (or add L2) and restart")
    assert err.index(lines[0]) < err.index("6 epochs: cost")  # before the summary, on a line of its own


def test_the_init_option_is_documented_with_its_formulas(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for formula in ("notebook N(0, 0.5)", "glorot N(0, 2/(fan_in+fan_out))", "he N(0, 2/fan_in)"):
        assert formula in text


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal():
    from nnviz.options import Progress

    records = list(Trainer(preset_config("sgd", epochs=2, engine="numpy", dataset="xor", n_samples=8)))
    terminal = FakeTerminal()
    bar = Progress(2, terminal)
    for r in records:
        bar.update(r)
    bar.close()
    text = terminal.getvalue()
    assert "epoch 2/2" in text and "cost" in text and "accuracy" in text and "epochs/s" in text
    assert text.endswith("\n")
    pipe = io.StringIO()
    quiet = Progress(2, pipe)
    for r in records:
        quiet.update(r)
    quiet.close()
    assert pipe.getvalue() == ""


# ---- the entry point: abbreviations, --version, python -m nnviz, long values, a full disk ----------

@pytest.mark.parametrize("argv, unknown", [
    (["train", "--init-s", "5"], "--init-s 5"),  # was taken as --init-seed
    (["train", "--alp", "0.1"], "--alp 0.1"),
    (["compare", "--pre", "sgd"], "--pre sgd"),
    (["compare", "--epoch", "3"], "--epoch 3"),
    (["--x", "epoch"], "--x epoch"),  # the window: was taken as --x-axis
    (["--screen", "x.png"], "--screen x.png"),
])
def test_abbreviated_options_are_unknown_not_guessed(argv, unknown, capsys):
    code, out, err = run_cli(argv, capsys)
    name = f"nnviz {argv[0]}" if argv[0] in ("train", "compare") else "nnviz"
    assert code == 2 and out == ""
    assert err == f"{name}: error: unrecognized arguments: {unknown}\n"


def test_version(capsys):
    from nnviz import __version__, version

    code, out, err = run_cli(["--version"], capsys)
    assert code == 0 and out == f"nnviz {version()}\n" and err == ""
    assert version() == __version__  # the source tree and the installed metadata agree


def test_python_m_nnviz_works_like_main_py(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    by_module = subprocess.run([sys.executable, "-m", "nnviz", "train", *SMALL, "--csv", "-"], capture_output=True,
                               text=True, cwd=ROOT, env=env)
    by_script = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", *SMALL, "--csv", "-"],
                               capture_output=True, text=True, cwd=tmp_path, env=env)
    assert by_module.returncode == by_script.returncode == 0
    strip = [{k: v for k, v in row.items() if k != "elapsed_s"} for row in read_csv(by_module.stdout)]
    assert strip == [{k: v for k, v in row.items() if k != "elapsed_s"} for row in read_csv(by_script.stdout)]
    version = subprocess.run([sys.executable, "-m", "nnviz", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert version.returncode == 0 and version.stdout.startswith("nnviz ") and version.stderr == ""
    bad = subprocess.run([sys.executable, "-m", "nnviz", "train", "--init-s", "5"], capture_output=True, text=True,
                         cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr == "nnviz train: error: unrecognized arguments: --init-s 5\n"


HUGE = "7" * 10_000_000


@pytest.mark.parametrize("argv", [
    ["train", "--alpha", HUGE + "x"],
    ["train", "--samples", HUGE],
    ["train", "--dataset", HUGE],
    ["train", "--shape", HUGE],
    ["train", "--preset", HUGE],
    ["train", HUGE],
    ["train", "--csv", "/" + HUGE],
    ["compare", "--presets", HUGE],
    ["compare", "--session", HUGE],
    ["compare", "--epochs", HUGE],
    ["--session", HUGE],
    ["--x-axis", HUGE],
])
def test_a_huge_bad_value_gives_a_short_message(argv, capsys):
    code, out, err = run_cli(argv, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and len(err) < 300 and "error: " in err, err[:400]
    assert "7777777" in err  # the value is still quoted, cut


@pytest.mark.parametrize("step", ["write", "fsync"])
def test_a_full_disk_ends_train_with_one_line_and_the_old_file(step, tmp_path, monkeypatch, capsys):
    import errno

    from nnviz.core import files

    path = tmp_path / "keep.csv"
    path.write_text("precious\n")

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, step, full)
    code, out, err = run_cli(["train", *SMALL, "--csv", str(path)], capsys)
    monkeypatch.undo()
    assert code == 1 and out == ""
    assert err == f"nnviz train: error: --csv {path}: cannot write: no space left on the device\n"
    assert path.read_text() == "precious\n" and [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


def test_a_full_disk_ends_compare_with_one_line_and_the_old_file(tmp_path, monkeypatch, capsys):
    import errno

    from nnviz.core import files

    path = tmp_path / "keep.csv"
    path.write_text("precious\n")

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "write", full)
    code, out, err = run_cli(["compare", "--presets", "sgd", "--epochs", "2", "--engine", "numpy",
                              "--csv", str(path)], capsys)
    monkeypatch.undo()
    assert code == 1
    assert err == f"nnviz compare: error: --csv {path}: cannot write: no space left on the device\n"
    assert path.read_text() == "precious\n" and [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_the_csv_gets_the_users_umask(mask, mode, tmp_path, capsys):
    import stat

    previous = os.umask(mask)
    try:
        code, _, _ = run_cli(["train", *SMALL, "--csv", str(tmp_path / "run.csv")], capsys)
    finally:
        os.umask(previous)
    assert code == 0 and stat.S_IMODE((tmp_path / "run.csv").stat().st_mode) == mode
