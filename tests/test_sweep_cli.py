"""The `sweep` command: its CSV (columns, rows, the numbers of single runs), its picture, its one-line errors
and Ctrl-C."""

import pytest
from helpers import read_csv, run_cli
from test_interrupt import assert_clean_interrupt, interrupted

from nnviz.core.sweep import parse_axis, run_cell
from nnviz.core.training import preset_config

RESULT_COLUMNS = ["seed", "final_cost", "best_cost", "epochs_to_target", "final_accuracy", "diverged"]


def test_two_axes_one_row_per_cell_in_grid_order(capsys):
    code, out, err = run_cli(["sweep", "--epochs", "3", "--x", "learning_rate=0.01:1:log:3",
                              "--y", "momentum=0:0.5:lin:2", "--workers", "2", "--target", "0.3", "--csv", "-"],
                             capsys)
    assert code == 0, err
    assert out.splitlines()[0].split(",") == ["learning_rate", "momentum", *RESULT_COLUMNS]
    rows = read_csv(out)
    x, y = parse_axis("learning_rate=0.01:1:log:3").values(), parse_axis("momentum=0:0.5:lin:2").values()
    assert [(float(r["learning_rate"]), float(r["momentum"])) for r in rows] == [(a, b) for a in x for b in y]
    base = preset_config("sgd", epochs=3)
    for row in rows:  # every row holds the numbers of a single run of its settings
        cell = run_cell(base, {"learning_rate": float(row["learning_rate"]), "momentum": float(row["momentum"])},
                        target=0.3)
        # (the same training and evaluation bit for bit; the CSV writes each float's shortest exact text)
        assert float(row["final_cost"]) == cell.final_cost
        assert float(row["best_cost"]) == cell.best_cost
        assert float(row["final_accuracy"]) == cell.final_accuracy and row["seed"] == "1"  # 1-based, as compare --seeds
        assert row["epochs_to_target"] == ("" if cell.epochs_to_target is None else str(cell.epochs_to_target))
        assert row["diverged"] == ("true" if cell.diverged else "false")
    assert "6 cells (3 × 2)" in err.splitlines()[-1]


def test_one_axis_with_seeds_and_integer_values(capsys, tmp_path):
    out_file = tmp_path / "sweep.csv"
    code, _, err = run_cli(["sweep", "--preset", "mini-batch", "--epochs", "2", "--x", "batch_size=8:64:log:4",
                            "--seeds", "2", "--seed-kind", "data", "--workers", "1", "--csv", str(out_file)], capsys)
    assert code == 0, err
    text = out_file.read_text()
    assert text.splitlines()[0] == "batch_size," + ",".join(RESULT_COLUMNS)
    rows = read_csv(text)
    assert [(r["batch_size"], r["seed"]) for r in rows] == [(b, s) for b in ("8", "16", "32", "64") for s in "12"]
    assert all(r["epochs_to_target"] == "" for r in rows)  # no --target
    seeded = run_cell(preset_config("mini-batch", epochs=2), {"batch_size": 16}, seed=1, seed_kind="data")
    assert float(rows[3]["final_cost"]) == seeded.final_cost


def _red_pixels(path):
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull() and (image.width(), image.height()) == (900, 675)
    count = 0
    for x in range(0, image.width(), 3):
        for y in range(0, image.height(), 3):
            colour = image.pixelColor(x, y)
            count += colour.red() > 170 and colour.green() < 90 and colour.blue() < 90
    return count


@pytest.mark.parametrize("y_axis", [[], ["--y", "momentum=0:0.5:lin:2"]])
def test_png_marks_the_diverged_cells(capsys, tmp_path, qapp, y_axis):
    """Red crosses mark diverged cells (α = 10 diverges here), and nothing is red without them."""
    for high, diverges in (("20", True), ("0.1", False)):
        png = tmp_path / f"{high}.png"
        code, out, err = run_cli(["sweep", "--epochs", "2", "--x", f"learning_rate=0.01:{high}:log:3", *y_axis,
                                  "--workers", "1", "--csv", str(tmp_path / "s.csv"), "--png", str(png)], capsys)
        assert code == 0, err
        rows = read_csv((tmp_path / "s.csv").read_text())
        assert any(r["diverged"] == "true" for r in rows) == diverges
        assert (_red_pixels(png) > 0) == diverges


@pytest.mark.parametrize("argv, words", [
    (["--x", "learning_rate"], "--x: 'learning_rate': an axis is NAME=LOW:HIGH:lin|log:COUNT"),
    (["--x", "shape=1:2:lin:3"], "--x: axis 'shape': the name must be one of learning_rate"),
    (["--x", "momentum=0:0.9:lin:3", "--y", "l2=0:1:log:3"], "--y: axis 'l2': a log axis needs low > 0"),
    (["--x", "momentum=0:0.9:lin:100"], "count 100 must be an integer from 1 to 64"),
    (["--x", "momentum=0:0.9:lin:3", "--y", "momentum=0:0.5:lin:2"], "--y: momentum is already swept by --x"),
    (["--x", "momentum=0:0.9:lin:3", "--seeds", "0"], "--seeds: 0 is out of range; allowed: an integer from 1 to 100"),
    (["--x", "momentum=0:0.9:lin:3", "--workers", "0"], "--workers: 0 is out of range"),
    (["--x", "momentum=0:0.9:lin:3", "--seed-kind", "weights"], "--seed-kind"),
    (["--x", "momentum=0:0.9:lin:3", "--target", "-1"], "--target"),
    (["--x", "momentum=0:0.9:lin:3", "--png", "-"], "--png -: give a file name"),
    (["--x", "momentum=0:0.9:lin:3", "--csv", "/no/such/folder/x.csv"], "folder /no/such/folder does not exist"),
    (["--x", "momentum=0:0.9:lin:3", "--x-axis", "a"], "unrecognized arguments: --x-axis"),
    (["--y", "momentum=0:0.9:lin:3"], "the following arguments are required: --x"),
])
def test_errors_exit_2_with_one_line(capsys, tmp_path, argv, words):
    if "--csv" not in argv:
        argv = [*argv, "--csv", str(tmp_path / "s.csv")]
    code, out, err = run_cli(["sweep", *argv], capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("nnviz sweep: error: ") and words in err, err
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("delay", [0.05, 1.0, 3.0])
def test_sweep_interrupted_at_any_moment(delay, tmp_path):
    status, lines = interrupted(["sweep", "--epochs", "10000000", "--x", "learning_rate=0.01:0.1:log:4",
                                 "--workers", "2", "--csv", "out.csv", "--png", "out.png"], delay, tmp_path)
    assert_clean_interrupt(status, lines, tmp_path)
