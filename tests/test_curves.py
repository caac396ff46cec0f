"""CurvesView driven as the controller drives it: set_runs, set_history, refresh, reset_view (pytest-qt, offscreen)."""

import numpy as np
import pytest
from helpers import shown
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from nnviz.core.history import History
from nnviz.core.training import Trainer, preset_config
from nnviz.gui.curves import PLOTS, X_AXES, CurvesView

RUNS = [("1", "mini-batch", "#2ca02c", True), ("2", "decay", "#d62728", True)]


@pytest.fixture(scope="module")
def records():
    """Two runs' records with a test set: a constant and a decaying learning rate."""
    plain = list(Trainer(preset_config("mini-batch", epochs=30, test_fraction=0.2, engine="numpy")))
    decay = list(Trainer(preset_config("decay", epochs=30, test_fraction=0.2, engine="numpy")))
    return {"1": plain, "2": decay}


@pytest.fixture
def curves(qtbot):
    view = CurvesView()
    qtbot.addWidget(view)
    return view


def _histories(records, rows=None):
    return {key: History.from_records(values[:rows], has_test=True) for key, values in records.items()}


def _show(curves, histories, has_test=True):
    curves.set_runs(RUNS)
    for key, history in histories.items():
        curves.set_history(key, history)
    curves.set_has_test(has_test)
    curves.refresh()


def _drawn(curves, key, plot="cost", part="train"):
    x, y = curves.curve_items(key)[plot, part].getData()
    return (np.empty(0), np.empty(0)) if x is None else (x, y)


def _assert_fitted(curves, histories, x_fill):
    """Every visible curve lies inside the shown ranges and fills a fair part of them."""
    QApplication.processEvents()  # anything the view defers to the event loop happens first
    column = X_AXES[curves.x_axis][0]
    x0, x1 = curves.plots["cost"].vb.viewRange()[0]
    xs = np.concatenate([h.column(column) for h in histories.values()])
    assert x0 <= xs.min() and xs.max() <= x1, (curves.x_axis, (x0, x1), (xs.min(), xs.max()))
    assert (xs.max() - xs.min()) >= x_fill * (x1 - x0), (curves.x_axis, (x0, x1), xs.max())
    for name, (train, test, _, _) in PLOTS.items():
        y0, y1 = curves.plots[name].vb.viewRange()[1]
        ys = np.concatenate([h.column(c) for h in histories.values() for c in (train, test) if c])
        if name == "learning_rate" or (name == "cost" and curves.log_cost):
            ys = np.log10(ys)
        assert y0 <= ys.min() and ys.max() <= y1, (name, curves.x_axis, (y0, y1), (ys.min(), ys.max()))
        if ys.max() > ys.min():
            assert ys.max() - ys.min() >= 0.5 * (y1 - y0), (name, curves.x_axis, (y0, y1), (ys.min(), ys.max()))
        for key in histories:
            x, y = _drawn(curves, key, name)
            assert len(x) and x0 <= x.min() and x.max() <= x1 and y0 <= y.min() and y.max() <= y1


# ---- the controller's API ------------------------------------------------------------------------------


def test_set_runs_shows_exactly_those_runs_in_order(qtbot, curves, records):
    _show(curves, _histories(records))
    assert curves.run_ids() == ["1", "2"]
    assert [label.text for _, label in curves.legend.items] == ["mini-batch", "decay"]
    with qtbot.assertNotEmitted(curves.run_visibility_changed):
        curves.set_runs([("2", "decayed", "#9467bd", False), ("3", "new", "#1f77b4", True),
                         ("1", "mini", "#2ca02c", True)])
    assert curves.run_ids() == ["2", "3", "1"]
    assert [label.text for _, label in curves.legend.items] == ["decayed", "new", "mini"]
    assert not any(item.isVisible() for item in curves.curve_items("2").values())
    assert curves.curve_items("2")["accuracy", "test"].opts["pen"].color().name() == "#9467bd"
    curves.set_runs([("1", "mini", "#2ca02c", True)])
    assert curves.run_ids() == ["1"] and not curves.legend.isVisible()  # one run: nothing to tell apart
    with pytest.raises(KeyError, match="no such run"):
        curves.data("2")
    with pytest.raises(ValueError, match="duplicate keys"):
        curves.set_runs([RUNS[0], RUNS[0]])


def test_clicking_a_legend_entry_hides_the_run_and_says_so(qtbot, curves, records):
    _show(curves, _histories(records))
    sample = curves.legend.items[1][0]
    with qtbot.waitSignal(curves.run_visibility_changed) as signal:
        sample.item.setVisible(False)  # what a click on the legend's sample does
    assert signal.args == ["2", False]
    assert not any(item.isVisible() for item in curves.curve_items("2").values())
    assert "decay" not in curves.readout_at(10) and "mini-batch" in curves.readout_at(10)


def test_the_view_reads_the_models_history_without_a_copy(curves, records):
    histories = _histories(records, rows=5)
    _show(curves, histories)
    np.testing.assert_array_equal(_drawn(curves, "1")[1], [r.cost for r in records["1"][:5]])
    assert np.shares_memory(curves.data("1")["cost"], histories["1"].column("cost"))
    for record in records["1"][5:]:
        histories["1"].append(record)  # the model appends; the view only refreshes
    curves.refresh()
    x, cost = _drawn(curves, "1")
    np.testing.assert_array_equal(x, range(31))
    np.testing.assert_array_equal(cost, [r.cost for r in records["1"]])
    curves.set_history("1", None)
    curves.refresh()
    assert len(_drawn(curves, "1")[0]) == 0 and len(curves.data("1")["epoch"]) == 0


def test_refresh_sets_nothing_when_nothing_changed(curves, records):
    histories = _histories(records, rows=10)
    _show(curves, histories)
    changes = []
    for key, *_ in RUNS:
        for item in curves.curve_items(key).values():
            item.sigPlotChanged.connect(lambda *_: changes.append(1))
    curves.refresh()
    curves.refresh()
    assert changes == []
    histories["2"].append(records["2"][10])
    curves.refresh()
    assert len(changes) == len(curves.curve_items("2"))  # only the run that grew


def test_long_curves_are_drawn_decimated_with_every_peak(qtbot, records):
    curves = shown(qtbot, CurvesView(), 600, 400)
    n = 300_000
    rng = np.random.default_rng(0)
    cost = np.abs(rng.standard_normal(n).cumsum()) + 0.1
    cost[123_457] = 1e3  # one spike
    columns = {"epoch": np.arange(n), "cost": cost, "accuracy": rng.random(n), "learning_rate": np.full(n, 0.1),
               "updates": np.arange(n) * 3, "samples": np.arange(n) * 10, "elapsed_s": np.arange(n) * 1e-3}
    history = History(False)
    history.append_columns(columns)
    curves.set_runs(RUNS[:1])
    curves.set_history("1", history)
    curves.set_epoch_target(n - 1)
    curves.refresh()
    x, y = _drawn(curves, "1")
    pixels = curves.plots["cost"].vb.width() * curves.devicePixelRatioF()
    assert len(x) <= 2 * max(pixels, 200) + 1 < n
    assert y.max() == 1e3 and y.min() == cost.min() and x[0] == 0 and x[-1] == n - 1


def test_hidden_view_draws_when_shown_again(qtbot, records):
    curves = shown(qtbot, CurvesView(), 600, 400)
    histories = _histories(records, rows=5)
    _show(curves, histories)
    curves.hide()
    for record in records["1"][5:]:
        histories["1"].append(record)
    curves.refresh()
    assert len(_drawn(curves, "1")[0]) == 5  # nothing drawn while hidden
    curves.show()
    qtbot.waitExposed(curves)
    assert len(_drawn(curves, "1")[0]) == 31


# ---- bug 1: every x axis, live, after the run and after a reset, shows every curve fitted ---------------


@pytest.mark.parametrize("log_cost", [False, True])
@pytest.mark.parametrize("kind", list(X_AXES))
def test_every_x_axis_shows_every_curve_fitted(qtbot, records, kind, log_cost):
    curves = shown(qtbot, CurvesView(), 700, 500)
    histories = _histories(records, rows=1)
    curves.set_log_cost(log_cost)
    curves.set_x_axis(kind)
    curves.set_epoch_target(30)
    _show(curves, histories)
    for epoch in range(1, 31):  # live
        for key, history in histories.items():
            history.append(records[key][epoch])
        curves.refresh()
        if epoch > 2:
            _assert_fitted(curves, histories, x_fill=0 if kind == "epoch" else 0.7)
    _assert_fitted(curves, histories, x_fill=0.9 if kind == "epoch" else 0.75)  # after the run
    # A reset: new histories from epoch 0, the view fitted from scratch.
    histories = _histories(records, rows=8)
    curves.set_runs(RUNS)
    for key, history in histories.items():
        curves.set_history(key, history)
    curves.reset_view()
    _assert_fitted(curves, histories, x_fill=0 if kind == "epoch" else 0.7)


def test_switching_axes_with_log_cost_never_leaves_a_range_stuck(qtbot, records):
    curves = shown(qtbot, CurvesView(), 700, 500)
    histories = _histories(records)
    curves.set_epoch_target(30)
    _show(curves, histories)
    for log_cost, kind in [(True, "seconds"), (True, "updates"), (False, "updates"), (False, "seconds"),
                           (True, "epoch"), (False, "samples"), (False, "epoch")]:
        curves.set_log_cost(log_cost)
        _assert_fitted(curves, histories, x_fill=0.7)
        curves.set_x_axis(kind)
        _assert_fitted(curves, histories, x_fill=0.7)


def test_a_zoom_stops_following_and_a_double_click_resumes(qtbot, records):
    curves = shown(qtbot, CurvesView(), 700, 500)
    histories = _histories(records, rows=10)
    curves.set_epoch_target(30)
    _show(curves, histories)
    vb = curves.plots["cost"].vb
    vb.setXRange(2, 5, padding=0)
    vb.sigRangeChangedManually.emit([True, True])  # what a mouse zoom emits
    for record in records["1"][10:]:
        histories["1"].append(record)
    curves.refresh()
    assert vb.viewRange()[0] == pytest.approx([2, 5])
    x, _ = _drawn(curves, "1")
    assert x.min() >= 1 and x.max() <= 6  # drawn for the zoomed range
    curves.reset_view()
    _assert_fitted(curves, histories, x_fill=0)


def test_long_runs_grow_the_epoch_axis_in_steps(curves):
    history = History(False)
    curves.set_runs(RUNS[:1])
    curves.set_history("1", history)
    curves.set_epoch_target(1_000_000)
    upper = {}
    for n in (1000, 4000, 6000, 40_000, 1_000_001):
        epochs = np.arange(len(history), n)
        history.append_columns({"epoch": epochs, "cost": np.ones(len(epochs)), "accuracy": np.ones(len(epochs)),
                                "learning_rate": np.ones(len(epochs)), "updates": epochs, "samples": epochs,
                                "elapsed_s": epochs * 1.0})
        curves.refresh()
        upper[n] = curves.plots["cost"].vb.viewRange()[0][1]
    assert upper[1000] == pytest.approx(5000, rel=0.03) and upper[4000] == upper[1000]
    assert upper[6000] == pytest.approx(10_000, rel=0.03)
    assert upper[40_000] == pytest.approx(50_000, rel=0.03)
    assert upper[1_000_001] == pytest.approx(1_000_000, rel=0.03)


# ---- bug 2: no stale readout ----------------------------------------------------------------------------


def _hover_cost_plot(qtbot, curves, dx=0):
    centre = curves.graphics.mapFromScene(curves.plots["cost"].vb.sceneBoundingRect().center())
    qtbot.mouseMove(curves.graphics.viewport(), QPoint(centre.x() + dx, centre.y()))


def test_the_readout_forgets_removed_runs_and_a_reset(qtbot, records):
    curves = shown(qtbot, CurvesView(), 700, 500)
    curves.set_epoch_target(30)
    _show(curves, _histories(records))
    _hover_cost_plot(qtbot, curves)
    qtbot.waitUntil(lambda: "decay" in curves.readout.text() and "mini-batch" in curves.readout.text(), timeout=2000)
    curves.set_runs(RUNS[:1])  # "decay" removed
    assert "decay" not in curves.readout.text() and "mini-batch" in curves.readout.text()
    curves.set_history("1", History(True))  # a reset: the run starts again, empty
    assert "mini-batch" not in curves.readout.text()
    curves.set_history("1", _histories(records)["1"])
    _hover_cost_plot(qtbot, curves)
    curves.reset_view()
    assert curves.readout.text().strip() == ""
    _hover_cost_plot(qtbot, curves, dx=20)
    qtbot.waitUntil(lambda: "mini-batch" in curves.readout.text(), timeout=2000)
    curves.set_runs([])
    assert curves.readout.text().strip() == "" and curves.readout_at(5) == ""


def test_reset_view_clears_the_marker(curves, records):
    _show(curves, _histories(records))
    curves.set_marker(10)
    assert all(line.isVisible() for line in curves.markers().values())
    curves.reset_view()
    assert not any(line.isVisible() for line in curves.markers().values())


# ---- bug 3: the train/test key follows the comparison's test set ----------------------------------------


def test_the_train_test_key_follows_set_has_test(curves, records):
    _show(curves, _histories(records), has_test=True)
    key = curves.plots["accuracy"].legend
    assert key.isVisible() and len(_drawn(curves, "1", "accuracy", "test")[0]) == 31
    curves.set_has_test(False)  # the test fraction went back to 0
    assert not key.isVisible() and len(_drawn(curves, "1", "accuracy", "test")[0]) == 0
    curves.set_has_test(True)
    assert key.isVisible() and len(_drawn(curves, "1", "cost", "test")[0]) == 31


# ---- bug 4: axis labels never overlap their ticks; no SI rescaling --------------------------------------


def _tick_text_rects(axis):
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [rect for rect, _, text in specs[2] if text] if specs else []


@pytest.mark.parametrize("size", [(550, 250), (900, 600)])
def test_left_axis_labels_never_overlap_their_ticks(qtbot, records, size):
    curves = shown(qtbot, CurvesView(), *size)
    n = 2000
    epochs = np.arange(n)
    history = History(False)
    history.append_columns({"epoch": epochs, "cost": 0.69 * 0.999 ** epochs, "accuracy": np.linspace(0.4, 1, n),
                            "learning_rate": 0.3 * 0.995 ** epochs, "updates": epochs, "samples": epochs,
                            "elapsed_s": epochs * 1e-3})  # α from 0.3 to 1.4e-5: ticks like 0.0001
    curves.set_runs(RUNS[:1])
    curves.set_history("1", history)
    curves.set_epoch_target(n)
    curves.refresh()
    for _ in range(5):  # pyqtgraph sizes an axis to its tick text after painting it
        qtbot.wait(30)
    widths = set()
    for name, plot in curves.plots.items():
        axis = plot.getAxis("left")
        label = axis.label.mapRectToParent(axis.label.boundingRect())
        ticks = _tick_text_rects(axis)
        assert ticks, name
        for rect in ticks:
            assert not label.intersects(rect), (name, size, label, rect)
        assert label.top() >= -1 and label.bottom() <= axis.height() + 1, (name, size, label, axis.height())
        widths.add(axis.width())
    assert len(widths) == 1  # the three plots line up


def test_no_axis_rescales_its_numbers(curves):
    history = History(False)
    epochs = np.arange(100)
    history.append_columns({"epoch": epochs, "cost": 1e-4 + 1e-7 * epochs, "accuracy": np.full(100, 0.5),
                            "learning_rate": np.full(100, 1e-4), "updates": epochs * 10**6,
                            "samples": epochs * 10**7, "elapsed_s": epochs * 1e-3})
    curves.set_runs(RUNS[:1])
    curves.set_history("1", history)
    for kind in X_AXES:
        curves.set_x_axis(kind)
        for plot in curves.plots.values():
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                assert not axis.autoSIPrefix and "(x" not in axis.labelString()


def test_the_readout_goes_when_the_pointer_leaves_the_curves(qtbot, records):
    curves = shown(qtbot, CurvesView(), 700, 500)
    curves.set_epoch_target(30)
    _show(curves, _histories(records))
    _hover_cost_plot(qtbot, curves)
    qtbot.waitUntil(lambda: "mini-batch" in curves.readout.text(), timeout=2000)
    QApplication.sendEvent(curves, QEvent(QEvent.Type.Leave))
    assert curves.readout.text().strip() == ""


def test_a_runs_seed_band_follows_the_x_axis_and_a_diverged_edge_is_drawn_at_the_divergence_level(curves):
    from nnviz.core.seeds import SeedCurves

    config = preset_config("mini-batch", epochs=3, n_samples=100, engine="numpy")
    seeds = SeedCurves.from_values(config, [[0.7, 0.5, 0.4, 0.3], [0.7, 0.6, 0.5, 0.45], [0.7, 2.0]],
                                   [[0.5, 0.6, 0.7, 0.8], [0.5, 0.55, 0.6, 0.65], [0.5, 0.4]], [False, False, True])
    curves.set_runs(RUNS)
    curves.bands.set_run("1", seeds, "#2ca02c")
    items = curves.bands.items("1")
    assert set(items) == {(plot, part) for plot in ("cost", "accuracy") for part in ("low", "high", "median", "fill")}
    assert curves.bands.band("1").high[-1] == np.inf  # the model's band: a third of the seeds diverged
    assert items["cost", "high"].yData[-1] == 10 * curves.bands.band("1").median[0]  # drawn at 10 × the start
    assert np.isfinite(items["cost", "high"].yData).all()
    assert items["accuracy", "median"].yData.tolist() == [0.5, 0.55, 0.6, 0.65]
    curves.set_x_axis("updates")
    per_epoch = Trainer(config).step().updates  # as a real run counts them
    assert items["cost", "median"].xData.tolist() == [0, per_epoch, 2 * per_epoch, 3 * per_epoch]
    curves.set_x_axis("seconds")  # seeds trained apart have no clock: no band
    assert not any(item.isVisible() for item in items.values())
    curves.set_x_axis("epoch")
    assert all(item.isVisible() for item in items.values())
    curves.bands.set_run("1", None, "#2ca02c")
    assert curves.bands.keys() == []


def test_the_cost_range_stays_while_a_falling_cost_stays_inside_it(curves):
    """Issue 13: a y range that changed every frame repainted every curve and axis each frame; it now stays
    while the data stays inside and fills most of it, and follows the data when it leaves."""
    history = History(False)
    curves.set_runs(RUNS[:1])
    curves.set_history("1", history)
    curves.set_epoch_target(10_000)
    ranges = []
    for n in range(100, 3100, 100):
        epochs = np.arange(len(history), n)
        history.append_columns({"epoch": epochs, "cost": 1.0 / (1 + 1e-3 * epochs), "accuracy": np.ones(len(epochs)),
                                "learning_rate": np.ones(len(epochs)), "updates": epochs, "samples": epochs,
                                "elapsed_s": epochs * 1.0})
        curves.refresh()
        low, high = curves.plots["cost"].vb.viewRange()[1]
        cost = history.column("cost")
        assert low <= cost.min() and cost.max() <= high  # every value shown
        assert cost.max() - cost.min() >= 0.5 * (high - low)  # and filling the range
        ranges.append((low, high))
    assert len(set(ranges)) <= len(ranges) // 2  # not a new range for every new row


@pytest.mark.parametrize("newest", [1.001, 1.21, 1.51, 1.81, 2.01, 2.51, 3.01, 3.51, 4.01, 5.01, 6.01, 7.01, 8.01])
def test_an_x_range_rounded_past_the_newest_time_is_still_mostly_data(curves, newest):
    # The x range ends on a round step past the newest value; just past a step is the worst case (a test that read
    # the seconds a run took failed when they came out at 1.53: the range ran to 2, 73 % data).
    history = History(False)
    curves.set_runs(RUNS[:1])
    curves.set_history("1", history)
    curves.set_x_axis("seconds")
    epochs = np.arange(50)
    history.append_columns({"epoch": epochs, "cost": np.ones(50), "accuracy": np.ones(50),
                            "learning_rate": np.ones(50), "updates": epochs, "samples": epochs,
                            "elapsed_s": np.linspace(0.0, newest, 50)})
    curves.refresh()
    x0, x1 = curves.plots["cost"].vb.viewRange()[0]
    assert x0 <= 0.0 and newest <= x1
    assert newest >= 0.75 * (x1 - x0), (newest, (x0, x1))
