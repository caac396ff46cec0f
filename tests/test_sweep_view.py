"""The sweep window: a small sweep fills the map, diverged cells are marked, hover and click, Cancel keeps the
cells that finished, a malformed field is refused, one axis draws the median with its band, sessions."""

import json

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from nnviz.core.sweep import parse_axis, run_cell, sweep
from nnviz.core.training import preset_config
from nnviz.gui.fields import ERROR_STYLE
from nnviz.gui.sweep_dialog import SweepTools

CONFIG = preset_config("sgd", n_samples=200, epochs=3)
X = parse_axis("learning_rate=0.01:20:log:3")  # 20 diverges
Y = parse_axis("momentum=0:0.5:lin:3")


def open_sweep(qtbot, make_window, config=CONFIG):
    window = make_window(config)
    tools = SweepTools(window, workers=1)
    sw = tools.open_sweep()
    qtbot.waitExposed(sw)
    return window, tools, sw


def fill(sw, x=X, y=None, seeds=1):
    sw.form.x.fill(x.name, x.low, x.high, x.scale, x.count)
    sw.form.y.fill(None) if y is None else sw.form.y.fill(y.name, y.low, y.high, y.scale, y.count)
    sw.form.seeds.setText(str(seeds))


def run_to_end(qtbot, sw, timeout=60000):
    with qtbot.waitSignal(sw.sweep_finished, timeout=timeout) as finished:
        sw.run_button.click()
    assert finished.args == ["finished"]


def centre(sw, i, j=0):
    point = sw.view.mapFromScene(sw.view.cell_centre(i, j))
    return QPoint(point.x(), point.y())


def mouse(sw, kind, i, j=0):
    """A mouse event at grid point (i, j) of the sweep view, sent to it (QTest's moves reach only the active
    top-level window on the offscreen platform; the sweep window is a second one)."""
    position = QPointF(centre(sw, i, j))
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    buttons = Qt.MouseButton.LeftButton if kind == QEvent.Type.MouseButtonPress else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, position, sw.view.viewport().mapToGlobal(position), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(sw.view.viewport(), event)


@pytest.fixture
def swept(qtbot, make_window):
    window, tools, sw = open_sweep(qtbot, make_window)
    fill(sw, X, Y)
    run_to_end(qtbot, sw)
    return window, tools, sw


def test_a_small_sweep_fills_the_map_and_marks_the_diverged_cells(swept):
    window, tools, sw = swept
    assert not sw.isModal() and sw.isVisible()
    expected = sweep(CONFIG, [X, Y], workers=1)  # the same cells trained here
    reference = np.full((3, 3), np.nan)
    diverged = np.zeros((3, 3), dtype=bool)
    for r in expected:
        i, j = X.values().index(r.values[X.name]), Y.values().index(r.values[Y.name])
        diverged[j, i] = r.diverged
        if not r.diverged:
            reference[j, i] = r.final_cost
    assert diverged[:, 2].all() and not diverged[:, :2].any()  # α = 20 diverges, the others do not
    image = sw.view.image.image
    assert np.array_equal(image, np.log10(reference), equal_nan=True)  # log colour scale of the final cost
    assert np.array_equal(image, np.log10(sw.study.metric("final_cost")), equal_nan=True)
    grey = sw.view.diverged_image.image[..., 3] > 0
    assert np.array_equal(grey, diverged)
    crosses = sorted(zip(*sw.view.crosses.getData(), strict=True))
    assert crosses == [(2.5, j + 0.5) for j in range(3)]
    assert "every seed diverged" in sw.view.legend.text
    assert sw.status.text().startswith("done: 9 cells") and not sw.progress.isVisible()
    # The window's own run is marked where its settings sit on the grid (nowhere when off it).
    cell = sw.study.nearest_cell(CONFIG)
    marks = sorted(zip(*sw.view.markers.getData(), strict=True))
    assert marks == ([] if cell is None else [(cell[0] + 0.5, cell[1] + 0.5)])


def test_hover_shows_the_cell_settings_and_click_adds_its_run(qtbot, swept):
    window, tools, sw = swept
    with qtbot.waitSignal(sw.view.hovered, timeout=3000) as hovered:
        mouse(sw, QEvent.Type.MouseMove, 1, 2)
    x, y = X.values()[1], Y.values()[2]
    value = sw.study.metric("final_cost")[2, 1]
    assert hovered.args == [f"learning_rate={x:.3g}, momentum={y:.3g}: final cost {value:.4g}"]
    assert sw.readout.text() == hovered.args[0]
    with qtbot.waitSignal(sw.view.hovered, timeout=3000) as hovered:
        mouse(sw, QEvent.Type.MouseMove, 2, 0)
    assert hovered.args[0].endswith("diverged: every seed")
    before = len(window.model)
    with qtbot.waitSignal(sw.run_added, timeout=3000) as added:
        mouse(sw, QEvent.Type.MouseButtonPress, 1, 2)
        mouse(sw, QEvent.Type.MouseButtonRelease, 1, 2)
    assert len(window.model) == before + 1
    run = window.model[added.args[0]]
    assert run.spec.name == f"α={x:.3g} β={y:.3g}"
    assert run.trainer.config == CONFIG.replace(learning_rate=x, momentum=y)
    assert (1.5, 2.5) in list(zip(*sw.view.markers.getData(), strict=True))  # the new run is marked


def test_cancel_keeps_exactly_the_cells_that_finished(qtbot, make_window):
    window, tools, sw = open_sweep(qtbot, make_window, CONFIG.replace(epochs=400))
    fill(sw, parse_axis("learning_rate=0.01:0.1:log:40"))
    with qtbot.waitSignal(sw.cells_arrived, timeout=60000):
        sw.run_button.click()
    assert sw.running and sw.progress.isVisible() and "s left" in sw.status.text()
    with qtbot.waitSignal(sw.runner.finished, timeout=10000) as finished, \
            qtbot.waitSignal(sw.sweep_finished, timeout=10000) as ended:
        sw.cancel_button.click()
    assert ended.args == ["cancelled"]
    kept = finished.args[0]
    assert 0 < len(kept) < 40
    assert sw.study.results() == kept  # every cell that finished, none other
    assert np.isfinite(sw.view.line.getData()[1]).sum() == len(kept)
    last = kept[-1]
    assert last.final_cost == pytest.approx(run_cell(CONFIG.replace(epochs=400), last.values).final_cost, abs=1e-12)
    assert sw.status.text().startswith(f"cancelled: {len(kept)} of 40 cells kept")
    assert sw.run_button.isEnabled() and not sw.cancel_button.isEnabled()


@pytest.mark.parametrize("field, text, message", [
    ("x_low", "abc", "x low: must be a number (learning_rate: > 0), not 'abc'"),
    ("x_low", "-1", "x axis (learning_rate): low -1 is out of range; allowed: > 0"),
    ("x_count", "100", "x axis (learning_rate): count 100 must be an integer from 1 to 64"),
    ("x_count", "many", "x count: must be an integer from 1 to 64, not 'many'"),
    ("y_high", "1", "y axis (momentum): high 1 is out of range; allowed: 0 ≤ momentum < 1"),
    ("seeds", "0", "seeds: must be an integer from 1 to 100, not '0'"),
    ("target", "-1", "target cost: must be a finite number > 0, or empty for none, not '-1'"),
    ("scheduler", "my cluster", "scheduler: must be a Dask scheduler's address such as tcp://host:8786"),
])
def test_a_malformed_field_is_refused_with_its_message(qtbot, make_window, field, text, message):
    window, tools, sw = open_sweep(qtbot, make_window)
    fill(sw, X, Y)
    edit = sw.findChild(type(sw.form.seeds), field)
    edit.setText(text)
    assert not sw.run()
    assert sw.form.message.text().startswith(message), sw.form.message.text()
    assert edit.styleSheet() == ERROR_STYLE and edit.text() == text  # marked, and nothing lost
    assert not sw.running and sw.study is None
    assert sw.form.x.high.text() == "20" and sw.form.y.count.text() == "3"


def test_the_same_setting_on_both_axes_is_refused(qtbot, make_window):
    window, tools, sw = open_sweep(qtbot, make_window)
    fill(sw, X, X)
    assert not sw.run()
    assert sw.form.message.text().startswith("y axis: learning_rate is already the x axis")


def test_one_axis_draws_the_median_and_the_band_over_seeds(qtbot, make_window):
    window, tools, sw = open_sweep(qtbot, make_window)
    x = parse_axis("learning_rate=0.01:1:log:4")
    fill(sw, x, seeds=3)
    run_to_end(qtbot, sw)
    results = sweep(CONFIG, [x], seeds=3, workers=1)
    costs = np.array([[r.final_cost for r in results if r.values[x.name] == v and not r.diverged]
                      for v in x.values()])
    xs, ys = sw.view.line.getData()
    assert np.allclose(xs, np.arange(4) + 0.5)
    assert np.allclose(10 ** ys, np.median(costs, axis=1), rtol=1e-12)
    assert np.allclose(10 ** sw.view.band_low.getData()[1], np.percentile(costs, 10, axis=1), rtol=1e-12)
    assert np.allclose(10 ** sw.view.band_high.getData()[1], np.percentile(costs, 90, axis=1), rtol=1e-12)
    sw.form.metric.setCurrentIndex(sw.form.metric.findData("final_accuracy"))  # a linear metric
    accuracy = [np.median([r.final_accuracy for r in results if r.values[x.name] == v]) for v in x.values()]
    assert np.allclose(sw.view.line.getData()[1], accuracy)


def test_session_doc_brings_the_sweep_back_and_export_writes_a_png(qtbot, swept, tmp_path):
    window, tools, sw = swept
    doc = json.loads(json.dumps(tools.to_doc()))
    image = sw.view.image.image.copy()
    sw.close()
    sw.deleteLater()
    qtbot.waitUntil(lambda: tools.sweep_window() is None, timeout=3000)
    again = tools.restore(doc)
    assert again.study.results() == sw.study.results()
    assert np.array_equal(again.view.image.image, image, equal_nan=True)
    assert again.form.y.name() == "momentum" and again.form.x.count.text() == "3"
    assert again.export_png_to(tmp_path / "sweep.png", 600, 450)
    from PySide6.QtGui import QImage

    picture = QImage(str(tmp_path / "sweep.png"))
    assert (picture.width(), picture.height()) == (600, 450)
    with pytest.raises(ValueError, match=r"^sweep\.seeds: missing$"):
        tools.restore({k: v for k, v in doc.items() if k != "seeds"})
