"""The `compare` command: the same rows as separate `train` runs, sessions as input, exit codes and messages."""

import json

import pytest
from helpers import read_csv, run_cli

from nnviz.core.comparison import RunSpec, SharedSettings, notebook_runs, preset_shared
from nnviz.core.session import SessionError, load_session, save_session

PRESETS = ["sgd", "mini-batch", "momentum", "decay"]
SHARED = SharedSettings(dataset="moons", n_samples=40, noise=0.2, shape=(2, 4, 1), engine="numpy")


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_compare_matches_four_separate_train_runs_row_for_row(engine, tmp_path, capsys):
    path = tmp_path / "compare.csv"
    code, out, err = run_cli(["compare", "--presets", ",".join(PRESETS), "--epochs", "5", "--engine", engine,
                          "--csv", str(path)], capsys)
    assert code == 0 and out == ""
    rows = read_csv(path.read_text())
    assert list(rows[0]) == ["run", "epoch", "cost", "accuracy", "learning_rate", "updates", "samples", "elapsed_s"]
    assert [r["run"] for r in rows] == [name for name in PRESETS for _ in range(6)]
    for name in PRESETS:
        code, out, _ = run_cli(["train", "--preset", name, "--epochs", "5", "--engine", engine, "--csv", "-"], capsys)
        alone = read_csv(out)
        mine = [r for r in rows if r["run"] == name]
        assert code == 0 and len(alone) == len(mine) == 6
        for a, b in zip(alone, mine, strict=True):
            assert [a[c] for c in ("epoch", "cost", "accuracy", "learning_rate")] == \
                   [b[c] for c in ("epoch", "cost", "accuracy", "learning_rate")], name
    assert [line.split(":")[0].strip() for line in err.splitlines()[:4]] == PRESETS
    assert "5 epochs: cost" in err and "4 runs from the same start" in err


def test_shared_options_and_test_columns(capsys):
    code, out, err = run_cli(["compare", "--presets", "mini-batch,sgd", "--dataset", "xor", "--samples", "30",
                          "--test-fraction", "0.2", "--shape", "2,3,1", "--epochs", "2", "--engine", "numpy",
                          "--csv", "-"], capsys)
    rows = read_csv(out)
    assert code == 0 and list(rows[0])[-2:] == ["test_cost", "test_accuracy"]
    assert [r["run"] for r in rows] == ["mini-batch"] * 3 + ["sgd"] * 3
    assert rows[0]["cost"] == rows[3]["cost"] and rows[0]["test_cost"] == rows[3]["test_cost"]  # one start
    assert int(rows[5]["samples"]) == 2 * 24 and "test cost" in err


def test_runs_from_a_session_file(tmp_path, capsys):
    path = tmp_path / "s.nnviz.json"
    runs = [RunSpec("slow, \"quoted\"", learning_rate=0.01, epochs=2), RunSpec("fast", learning_rate=0.5, epochs=3)]
    save_session(path, SHARED, runs)
    doc = json.loads(path.read_text())
    doc["runs"][0]["note"] = "hand-written"
    path.write_text(json.dumps(doc))
    code, out, err = run_cli(["compare", "--session", str(path), "--samples", "20", "--csv", "-"], capsys)
    rows = read_csv(out)
    assert code == 0 and [r["run"] for r in rows] == ['slow, "quoted"'] * 3 + ["fast"] * 4
    assert rows[1]["samples"] == "20"  # the option overrides the session's shared settings
    assert f"nnviz compare: warning: {path}: runs[0].note: unknown key, ignored" in err


def test_a_diverging_run_exits_3_and_the_others_still_complete(tmp_path, capsys):
    path = tmp_path / "s.nnviz.json"
    save_session(path, SHARED, [RunSpec("ok", epochs=4), RunSpec("wild", learning_rate=1e6, batch_size=40, epochs=4)])
    code, out, err = run_cli(["compare", "--session", str(path), "--csv", "-"], capsys)
    rows = read_csv(out)
    assert code == 3
    assert [r["epoch"] for r in rows if r["run"] == "ok"] == ["0", "1", "2", "3", "4"]
    assert [r["epoch"] for r in rows if r["run"] == "wild"] == ["0"]
    assert "ok:   4 epochs: cost" in err
    assert "wild: diverged at epoch 1: " in err and "lower its learning rate (now 1e+06)" in err
    assert "; diverged: wild" in err


def _bad_session(tmp_path):
    path = tmp_path / "bad.nnviz.json"
    save_session(path, preset_shared(), notebook_runs())
    doc = json.loads(path.read_text())
    doc["runs"][2]["learning_rate"] = "fast"
    path.write_text(json.dumps(doc))
    return path


def test_a_malformed_session_exits_2_with_the_message_of_the_dialog(tmp_path, capsys):
    path = _bad_session(tmp_path)
    with pytest.raises(SessionError) as info:
        load_session(path)
    code, out, err = run_cli(["compare", "--session", str(path)], capsys)
    assert code == 2 and out == ""
    assert err == f"nnviz compare: error: {info.value}\n"
    assert 'runs[2].learning_rate: must be a number, got "fast"' in err


@pytest.mark.parametrize("argv, message", [
    (["--presets", "sgd,lion"], "--presets: 'lion' is not a preset; allowed: sgd, mini-batch, momentum, decay, "
                                "adam, nesterov"),
    (["--presets", "sgd,sgd"], "--presets: 'sgd' is given twice"),
    (["--presets", ""], "--presets: '' is not a preset"),
    (["--presets", "sgd", "--session", "x.nnviz.json"], "give either --presets or --session, not both"),
    (["--session", "missing.nnviz.json"], "missing.nnviz.json: no such file"),
    (["--samples", "1001"], "--samples: n_samples=1001: the 'hard' data set needs a multiple of 4"),
    (["--samples", "many"], "--samples: 'many' is not an integer"),
    (["--test-fraction", "0.95"], "--test-fraction: test_fraction=0.95: must be from 0 to 0.9"),
    (["--shape", "3,1"], "--shape: '3,1'; allowed: comma-separated layer sizes"),
    (["--engine", "gpu"], "--engine: engine='gpu': allowed are compiled, numpy"),
    (["--init", "xavier"], "--init: init='xavier': allowed are notebook, glorot, he"),
    (["--epochs", "-1"], "--epochs: epochs=-1: must be an integer from 0 to 10000000"),
    (["--alpha", "0"], "--alpha: learning_rate=0.0: must be finite and > 0"),  # training options: every run
])
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    code, out, err = run_cli(["compare", *argv], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("nnviz compare: error: ") and message in err


def test_a_start_that_cannot_learn_is_warned_about_once_for_all_runs(capsys):
    wide = ["compare", "--presets", "sgd,mini-batch", "--shape", "2,256,256,256,1", "--engine", "numpy"]
    code, out, err = run_cli([*wide, "--epochs", "0", "--csv", "-"], capsys)
    assert code == 0 and [line for line in err.splitlines() if "warning" in line] == [
        "nnviz compare: warning: the output is saturated on 100 % of the points: the initial weights are too large "
        "for 256 units a layer; try init 'he'"]
    code, out, err = run_cli([*wide, "--init", "he", "--epochs", "0", "--csv", "-"], capsys)
    rows = read_csv(out)
    assert code == 0 and "warning" not in err and rows[0]["cost"] == rows[1]["cost"]  # one start, he's


def test_a_run_that_breaks_while_training_is_named_in_its_warning(tmp_path, capsys):
    path = tmp_path / "s.nnviz.json"
    save_session(path, preset_shared().replace(engine="numpy"),
                 [RunSpec("calm", epochs=6), RunSpec("wild", learning_rate=0.3, epochs=6)])
    code, _, err = run_cli(["compare", "--session", str(path)], capsys)
    lines = [line for line in err.splitlines() if "warning" in line]
    assert code == 0 and len(lines) == 1
    assert lines[0].startswith("nnviz compare: warning: run 'wild': ") and "are dead (zero on every point)" in lines[0]


def test_a_session_without_runs_is_refused(tmp_path, capsys):
    path = tmp_path / "empty.nnviz.json"
    save_session(path, SHARED, [])
    code, _, err = run_cli(["compare", "--session", str(path)], capsys)
    assert code == 2 and "the session has no runs" in err


def test_refused_input_leaves_an_existing_csv_untouched(tmp_path, capsys):
    path = tmp_path / "keep.csv"
    path.write_text("precious\n")
    code, _, _ = run_cli(["compare", "--session", str(_bad_session(tmp_path)), "--csv", str(path)], capsys)
    assert code == 2 and path.read_text() == "precious\n"
    code, _, err = run_cli(["compare", "--epochs", "1", "--csv", str(tmp_path / "nope" / "x.csv")], capsys)
    assert code == 2 and "--csv" in err and "does not exist" in err


def test_settings_csv_has_a_row_per_run_with_its_optimizer_and_the_shared_settings(tmp_path, capsys):
    path = tmp_path / "settings.csv"
    code, _, _ = run_cli(["compare", "--presets", "sgd,adam,nesterov", "--epochs", "1", "--init", "he",
                          "--settings-csv", str(path)], capsys)
    assert code == 0
    rows = read_csv(path.read_text())
    assert [row["name"] for row in rows] == ["sgd", "adam", "nesterov"]
    assert [row["optimizer"] for row in rows] == ["sgd", "adam", "nesterov"]
    assert [float(row["learning_rate"]) for row in rows] == [0.01, 0.01, 0.03]
    assert {row["init"] for row in rows} == {"he"} and {row["shape"] for row in rows} == {"2-3-4-1"}
    assert rows[1]["beta2"] == "0.999" and rows[0]["visible"] == "true"


def test_training_options_apply_to_every_run_or_make_one_run(tmp_path, capsys):
    path = tmp_path / "s.csv"
    code, _, err = run_cli(["compare", "--presets", "sgd,momentum", "--optimizer", "nesterov", "--epochs", "2",
                            "--settings-csv", str(path)], capsys)
    assert code == 0
    rows = read_csv(path.read_text())
    assert [(r["name"], r["optimizer"], r["momentum"]) for r in rows] == [("sgd", "nesterov", "0.0"),
                                                                        ("momentum", "nesterov", "0.9")]
    code, _, err = run_cli(["compare", "--optimizer", "adam", "--alpha", "0.02", "--epochs", "2",
                            "--settings-csv", str(path)], capsys)
    assert code == 0 and "1 run from the same start" in err
    (row,) = read_csv(path.read_text())
    assert (row["name"], row["optimizer"], row["learning_rate"]) == ("run", "adam", "0.02")
    code, _, err = run_cli(["compare", "--presets", "sgd", "--rho", "2"], capsys)
    assert code == 2 and "--rho: rho=2.0: must be from 0 to below 1" in err


def test_seeds_add_a_seed_column_with_every_seeds_rows_and_print_a_summary(tmp_path, capsys):
    path = tmp_path / "seeds.csv"
    code, out, err = run_cli(["compare", "--presets", "sgd,mini-batch", "--samples", "200", "--epochs", "4",
                              "--seeds", "3", "--seed-kind", "both", "--target", "0.6", "--workers", "1",
                              "--csv", str(path)], capsys)
    assert code == 0, err
    rows = read_csv(path.read_text())
    assert list(rows[0])[:3] == ["run", "seed", "epoch"]
    assert [(r["run"], r["seed"], r["epoch"]) for r in rows] == \
        [(run, str(seed), str(epoch)) for run in ("sgd", "mini-batch") for seed in (1, 2, 3) for epoch in range(5)]
    # Seed 1 is the run itself: the rows `compare` writes without --seeds.
    code, plain, _ = run_cli(["compare", "--presets", "sgd,mini-batch", "--samples", "200", "--epochs", "4",
                              "--csv", "-"], capsys)
    alone = read_csv(plain)
    assert [[r[c] for c in ("run", "epoch", "cost", "accuracy")] for r in alone] == \
        [[r[c] for c in ("run", "epoch", "cost", "accuracy")] for r in rows if r["seed"] == "1"]
    seed2 = [r for r in rows if r["seed"] == "2"]
    assert seed2[0]["cost"] != rows[0]["cost"] and seed2[0]["elapsed_s"] == ""  # another start, no clock
    assert [r["updates"] for r in seed2[:5]] == [r["updates"] for r in rows[:5]]
    lines = out.splitlines()  # the summary on stdout (the CSV went to a file)
    assert lines[0].startswith("3 seeds per run (initial weights and data vary") and "target cost 0.6" in lines[0]
    assert lines[1].split()[:2] == ["run", "seeds"] and lines[2].split()[:2] == ["sgd", "3"]
    assert lines[3].split()[:2] == ["mini-batch", "3"]
    finals = sorted(float(r["cost"]) for r in rows if r["run"] == "sgd" and r["epoch"] == "4")
    assert lines[2].split()[2] == f"{finals[1]:.6g}"  # the median of the three seeds' final costs


def test_seeds_with_the_csv_on_stdout_print_the_summary_on_stderr(capsys):
    code, out, err = run_cli(["compare", "--presets", "sgd", "--samples", "200", "--epochs", "2", "--seeds", "2",
                              "--workers", "1", "--csv", "-"], capsys)
    assert code == 0 and out.startswith("run,seed,epoch,") and len(read_csv(out)) == 2 * 3
    assert "2 seeds per run (initial weights vary" in err


def test_one_seed_keeps_the_rows_and_adds_the_column(capsys):
    code, out, _ = run_cli(["compare", "--presets", "sgd", "--samples", "200", "--epochs", "2", "--seeds", "1",
                            "--csv", "-"], capsys)
    rows = read_csv(out)
    assert code == 0 and [r["seed"] for r in rows] == ["1"] * 3


@pytest.mark.parametrize(("argv", "message"), [
    (["--seeds", "0"], "argument --seeds: 0 is out of range; allowed: an integer from 1 to 100"),
    (["--seeds", "101"], "argument --seeds: 101 is out of range; allowed: an integer from 1 to 100"),
    (["--seeds", "two"], "argument --seeds: 'two' is not an integer; allowed: an integer from 1 to 100"),
    (["--seeds", "2", "--seed-kind", "weights"], "argument --seed-kind: 'weights': allowed: init, data, both"),
    (["--seeds", "2", "--target", "-1"], "argument --target: '-1': allowed: a finite cost > 0"),
    (["--seed-kind", "data"], "--seed-kind: only with --seeds K (K from 1 to 100)"),
    (["--target", "0.1"], "--target: only with --seeds K (K from 1 to 100)"),
])
def test_bad_seed_options_exit_2_with_one_line_naming_the_option(argv, message, capsys):
    code, out, err = run_cli(["compare", "--presets", "sgd", "--epochs", "1", *argv], capsys)
    assert code == 2 and out == ""
    assert err.strip() == f"nnviz compare: error: {message}"
