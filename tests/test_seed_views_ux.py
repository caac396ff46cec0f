"""The seeds in the window as a new user found them: a band trained before its run is started is inside the
plots' ranges, and the status bar says what its count counts."""

import numpy as np

from nnviz.core.seeds import SeedSettings
from nnviz.core.training import preset_config

CONFIG = preset_config("sgd", n_samples=200, epochs=20)


def test_bands_of_untrained_runs_are_inside_the_fitted_ranges(qtbot, make_window):
    window = make_window(CONFIG)
    window.controller.seeds.workers = 1
    window.controller.seeds.set_settings(SeedSettings(4))
    key = None

    def drawn():
        nonlocal key
        keys = window.curves.bands.keys()
        key = keys[0] if keys else None
        return key is not None

    qtbot.waitUntil(drawn, timeout=30000)
    assert window.epoch == 0  # nothing trained but the seeds
    qtbot.waitUntil(lambda: window.curves.plots["cost"].vb.viewRange()[1][0] <=
                    np.nanmin(window.curves.bands.band(key).median), timeout=5000)
    low, high = window.curves.plots["cost"].vb.viewRange()[1]
    median = window.curves.bands.band(key).median
    assert low <= np.nanmin(median) and np.nanmax(median) <= high
    accuracy = window.curves.bands.band(key, "accuracy").median
    a_low, a_high = window.curves.plots["accuracy"].vb.viewRange()[1]
    assert a_low <= accuracy.min() and accuracy.max() <= a_high


def test_the_seed_progress_says_what_it_counts(qtbot, make_window):
    window = make_window(CONFIG.replace(epochs=2000))
    window.controller.seeds.workers = 1
    window.controller.seeds.set_settings(SeedSettings(3))
    label = window.seed_views.label
    qtbot.waitUntil(label.isVisible, timeout=10000)
    assert "runs × seeds" in label.text()
    window.seed_views.cancel_button.click()
    qtbot.waitUntil(lambda: not label.isVisible(), timeout=10000)


def test_a_window_opened_with_seeds_trains_them_and_the_summary_fits_its_table(qtbot, make_window):
    window = make_window(CONFIG, seeds=SeedSettings(3, "data"))
    qtbot.waitUntil(lambda: window.controller.seed_settings == SeedSettings(3, "data"), timeout=10000)
    qtbot.waitUntil(lambda: bool(window.curves.bands.keys()), timeout=30000)
    window.seed_views.show_summary()
    table = window.seed_views.summary.table
    assert table.rowCount() == len(window.model)
    assert table.minimumWidth() >= table.horizontalHeader().length()  # every column in view, no scrolling


def test_the_windows_seed_options_are_checked():
    import pytest

    from nnviz.gui.app import build_parser
    from nnviz.options import UsageError

    parser = build_parser()
    assert parser.parse_args(["--seeds", "10", "--seed-kind", "both"]).seeds == 10
    for bad in (["--seeds", "0"], ["--seeds", "101"], ["--seed-kind", "weights"]):
        with pytest.raises((SystemExit, UsageError)):
            parser.parse_args(bad)


def test_seed_kind_without_seeds_is_refused_and_a_sessions_seed_settings_stay(tmp_path, capsys):
    from helpers import run_cli

    from nnviz.core.session import load_session, session_text
    from nnviz.core.specs import RunSpec, SharedSettings

    code, _, err = run_cli(["--seed-kind", "data", "--screenshot", str(tmp_path / "x.png")], capsys)
    assert code == 2 and "--seed-kind: give --seeds K too" in err
    path = tmp_path / "s.nnviz.json"
    path.write_text(session_text(SharedSettings(n_samples=100), [RunSpec(epochs=2)],
                                 seeds=SeedSettings(4, "init", target=0.3, shown=3)))
    from nnviz.gui.app import build_parser, seeds_from_args

    session = load_session(path)
    args = build_parser().parse_args(["--session", str(path), "--seeds", "2", "--seed-kind", "both"])
    assert seeds_from_args(args, session) == SeedSettings(2, "both", target=0.3, shown=2)
    args = build_parser().parse_args(["--seeds", "5"])
    assert seeds_from_args(args) == SeedSettings(5) and seeds_from_args(build_parser().parse_args([])) is None
