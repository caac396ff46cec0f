"""The decision map and the training curves, driven through their public methods (pytest-qt, offscreen)."""

import dataclasses

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage

from nnviz.core.datasets import make_hard
from nnviz.core.grid import GridEvaluator
from nnviz.core.network import Layout, init_params, predict
from nnviz.core.training import Trainer, preset_config
from nnviz.gui.boundary_view import CONTOUR_COLOR, MARGIN, BoundaryView
from nnviz.gui.curves import FIELDS, CurvesView

SHAPE = (2, 3, 4, 1)


@pytest.fixture
def notebook():
    """The notebook's data and initial weights: (X, y, theta, layout)."""
    X, y = make_hard(1000, seed=1337)
    return X, y, init_params(SHAPE, 1234), Layout(SHAPE)


@pytest.fixture
def boundary(qtbot, notebook):
    view = BoundaryView(resolution=60)
    qtbot.addWidget(view)
    X, y, theta, layout = notebook
    view.set_data(X, y)
    view.set_model(theta, layout, "relu")
    return view


def _grid_predictions(view, theta, layout):
    gx, gy = np.meshgrid(view.grid_xs, view.grid_ys)
    return predict(theta, layout, np.column_stack([gx.ravel(), gy.ravel()]), "relu").reshape(gx.shape)


# ---- BoundaryView --------------------------------------------------------------------------------------


def test_map_shows_the_network_probability_at_every_grid_point(boundary, notebook):
    X, y, theta, layout = notebook
    assert boundary.probabilities.shape == (60, 60)
    np.testing.assert_allclose(boundary.probabilities, _grid_predictions(boundary, theta, layout), atol=1e-5)
    # The image item shows that very grid with fixed levels.
    np.testing.assert_array_equal(boundary.image.image, boundary.probabilities)
    assert tuple(boundary.image.getLevels()) == (0.0, 1.0)


def test_map_covers_the_data_with_a_margin(boundary, notebook):
    X = notebook[0]
    x_min, x_max, y_min, y_max = boundary.extent
    span = X.max(axis=0) - X.min(axis=0)
    assert x_min <= X[:, 0].min() - MARGIN * span[0] + 1e-9 and x_max >= X[:, 0].max() + MARGIN * span[0] - 1e-9
    assert y_min <= X[:, 1].min() - MARGIN * span[1] + 1e-9 and y_max >= X[:, 1].max() + MARGIN * span[1] - 1e-9
    rect = boundary.image.mapRectToParent(boundary.image.boundingRect())
    assert (rect.left(), rect.right()) == pytest.approx((x_min, x_max))
    assert (rect.top(), rect.bottom()) == pytest.approx((y_min, y_max))


def test_map_follows_new_weights_and_new_data(boundary, notebook):
    X, y, theta, layout = notebook
    other = init_params(SHAPE, 7)
    boundary.set_model(other, layout, "relu")
    np.testing.assert_allclose(boundary.probabilities, _grid_predictions(boundary, other, layout), atol=1e-5)
    boundary.set_data(X * 2, y)  # wider data: the map is re-evaluated over the new extent at once
    assert boundary.extent[1] > X[:, 0].max() * 2
    np.testing.assert_allclose(boundary.probabilities, _grid_predictions(boundary, other, layout), atol=1e-5)


def test_contour_is_red_and_lies_where_the_probability_is_one_half(boundary, notebook):
    X, y, theta, layout = notebook
    segments = boundary.contour_segments()
    assert segments.ndim == 2 and segments.shape[1] == 2 and len(segments) > 0 and len(segments) % 2 == 0
    pen = boundary.contour.opts["pen"]
    assert pen.color() == QColor(CONTOUR_COLOR) and pen.color().red() > 200 and pen.color().green() < 60
    assert pen.widthF() == 2
    assert boundary.contour.opts["connect"] == "pairs"
    # Linear interpolation between grid points is close to the network on this smooth map.
    np.testing.assert_allclose(predict(theta, layout, segments, "relu")[:, 0], 0.5, atol=0.03)


def test_discretize_shows_the_hard_decision_only(boundary, notebook):
    X, y, theta, layout = notebook
    soft = boundary.probabilities
    segments = boundary.contour_segments()
    boundary.set_discretize(True)
    hard = boundary.probabilities
    assert set(np.unique(hard)) == {0.0, 1.0}
    np.testing.assert_array_equal(hard, (soft > 0.5).astype(hard.dtype))
    np.testing.assert_array_equal(boundary.contour_segments(), segments)  # the line stays where it was
    boundary.set_model(init_params(SHAPE, 7), layout, "relu")  # stays discrete across updates
    assert set(np.unique(boundary.probabilities)) <= {0.0, 1.0}
    boundary.set_model(theta, layout, "relu")
    boundary.set_discretize(False)
    np.testing.assert_allclose(boundary.probabilities, soft)


def test_a_grid_evaluated_elsewhere_is_shown_over_its_own_extent(boundary, notebook):
    X, y, theta, layout = notebook
    extent = (-3.0, 2.0, -1.5, 1.0)
    grid = GridEvaluator(layout, "relu", extent, 60)(theta).copy()
    boundary.set_probabilities(grid, extent)
    np.testing.assert_array_equal(boundary.probabilities, grid)
    rect = boundary.image.mapRectToParent(boundary.image.boundingRect())
    assert (rect.left(), rect.right(), rect.top(), rect.bottom()) == pytest.approx(extent)
    segments = boundary.contour_segments()
    assert len(segments) and segments[:, 0].min() >= -3.0 and segments[:, 0].max() <= 2.0
    np.testing.assert_allclose(predict(theta, layout, segments, "relu")[:, 0], 0.5, atol=0.03)
    boundary.resize(700, 300)  # a new plot aspect changes view.extent, not where this grid sits
    rect = boundary.image.mapRectToParent(boundary.image.boundingRect())
    assert (rect.left(), rect.right(), rect.top(), rect.bottom()) == pytest.approx(extent)
    with pytest.raises(ValueError, match="grid: expected shape"):
        boundary.set_probabilities(grid[:10], extent)
    with pytest.raises(ValueError, match="extent"):
        boundary.set_probabilities(grid, (1.0, 0.0, 0.0, 1.0))


def test_items_are_created_once(boundary, notebook):
    X, y, theta, layout = notebook
    items = list(boundary.plot.items)
    image, contour = boundary.image, boundary.contour
    for seed in range(3):
        boundary.set_model(init_params(SHAPE, seed), layout, "relu")
        boundary.set_data(X, y, X[:50], y[:50])
    assert boundary.plot.items == items and boundary.image is image and boundary.contour is contour


def test_a_map_without_crossing_has_an_empty_contour(qtbot, notebook):
    X, y, theta, layout = notebook
    view = BoundaryView(resolution=20, colorbar=False, compact=True)
    qtbot.addWidget(view)
    view.set_data(X, y)
    flat = np.zeros(layout.size)
    flat[-1] = -5.0  # output bias only: p = sigmoid(-5) everywhere
    view.set_model(flat, layout, "relu")
    assert view.contour_segments().shape == (0, 2)
    assert np.all(view.probabilities < 0.5)


def test_test_points_are_drawn_hollow(boundary, notebook):
    X, y, theta, layout = notebook
    boundary.set_data(X[:800], y[:800], X[800:], y[800:])
    train0, train1, test0, test1 = boundary.scatter_items()
    assert len(train0.data) + len(train1.data) == 800 and len(test0.data) + len(test1.data) == 200
    assert test0.opts["brush"].style() == Qt.NoBrush and train0.opts["brush"].style() != Qt.NoBrush


def test_bad_input_names_the_field(boundary, notebook):
    X, y, theta, layout = notebook
    with pytest.raises(ValueError, match="X: expected shape"):
        boundary.set_data(X[:, :1], y)
    with pytest.raises(ValueError, match="y: expected 1000 labels"):
        boundary.set_data(X, y[:10])
    with pytest.raises(ValueError, match="theta"):
        boundary.set_model(theta[:-1], layout, "relu")
    with pytest.raises(ValueError, match="X: no points"):
        boundary.set_data(X[:0], y[:0])
    with pytest.raises(ValueError, match="resolution"):
        BoundaryView(resolution=1)


def test_click_emits_clicked(qtbot, boundary):
    boundary.resize(400, 300)
    boundary.show()
    qtbot.waitExposed(boundary)
    centre = boundary.mapFromScene(boundary.plot.sceneBoundingRect().center())
    with qtbot.waitSignal(boundary.clicked, timeout=1000):
        qtbot.mouseClick(boundary.viewport(), Qt.LeftButton, pos=QPoint(centre.x(), centre.y()))


def test_map_saves_as_png_at_any_width(boundary, tmp_path):
    boundary.resize(500, 300)
    boundary.save_png(tmp_path / "map.png", width=1234)
    image = QImage(str(tmp_path / "map.png"))
    assert image.width() == 1234 and image.height() > 100
    with pytest.raises(ValueError, match="width"):
        boundary.save_png(tmp_path / "bad.png", width=0)


# ---- CurvesView ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def records():
    config = preset_config("mini-batch", epochs=30, test_fraction=0.2, engine="numpy")
    return list(Trainer(config))


@pytest.fixture
def curves(qtbot):
    view = CurvesView()
    qtbot.addWidget(view)
    view.add_run("a", "mini-batch", "#2ca02c")
    return view


def test_data_holds_every_record_field(curves, records):
    curves.append("a", records)
    data = curves.data("a")
    assert set(data) == set(FIELDS)
    assert list(data["epoch"]) == list(range(31))
    for name in ("cost", "accuracy", "test_cost", "test_accuracy", "learning_rate", "updates", "samples", "elapsed_s"):
        np.testing.assert_array_equal(data[name], [getattr(r, name) for r in records])
    # The plotted curves are that data.
    x, cost = curves.curve_items("a")["cost", "train"].getOriginalDataset()
    np.testing.assert_array_equal(x, data["epoch"])
    np.testing.assert_array_equal(cost, data["cost"])


def test_append_in_chunks_equals_one_chunk(qtbot, curves, records):
    curves.add_run("b", "chunks", "#d62728")
    curves.append("a", records)
    for start in range(0, len(records), 7):
        curves.append("b", records[start : start + 7])
    one, chunks = curves.data("a"), curves.data("b")
    for name in FIELDS:
        np.testing.assert_array_equal(one[name], chunks[name])


def test_buffers_grow_past_their_first_capacity(curves, records):
    many = [dataclasses.replace(records[-1], epoch=e) for e in range(3000)]
    for start in range(0, 3000, 500):
        curves.append("a", many[start : start + 500])
    assert list(curves.data("a")["epoch"]) == list(range(3000))


def test_an_epoch_already_held_restarts_the_history_there(curves, records):
    curves.append("a", records)
    curves.append("a", records[:5])  # e.g. after a reset without clear
    assert list(curves.data("a")["epoch"]) == [0, 1, 2, 3, 4]


def test_missing_test_values_are_nan_and_not_drawn(curves):
    records = list(Trainer(preset_config("mini-batch", epochs=3, engine="numpy")))
    curves.append("a", records)
    assert np.isnan(curves.data("a")["test_cost"]).all()
    x, _ = curves.curve_items("a")["cost", "test"].getData()
    assert x is None or len(x) == 0


def test_log_cost_toggle(curves, records):
    curves.append("a", records)
    item = curves.curve_items("a")["cost", "train"]
    assert not item.opts["logMode"][1]
    curves.set_log_cost(True)
    assert item.opts["logMode"][1] and curves.log_checkbox.isChecked()
    assert not curves.curve_items("a")["accuracy", "train"].opts["logMode"][1]
    curves.log_checkbox.setChecked(False)
    assert not curves.log_cost and not item.opts["logMode"][1]


@pytest.mark.parametrize(("kind", "column"), [("updates", "updates"), ("samples", "samples"), ("seconds", "elapsed_s")])
def test_x_axis_switch(curves, records, kind, column):
    curves.append("a", records)
    curves.set_x_axis(kind)
    assert curves.x_axis == kind and curves.x_axis_combo.currentData() == kind
    for item in curves.curve_items("a").values():
        x, _ = item.getOriginalDataset()
        np.testing.assert_array_equal(x, curves.data("a")[column])
    # Later appends follow the chosen axis.
    curves.append("a", [dataclasses.replace(records[-1], epoch=31, updates=10_000)])
    x, _ = curves.curve_items("a")["cost", "train"].getOriginalDataset()
    assert x[-1] == curves.data("a")[column][-1]
    curves.set_x_axis("epoch")
    x, _ = curves.curve_items("a")["cost", "train"].getOriginalDataset()
    assert list(x) == list(range(32))
    with pytest.raises(ValueError, match="allowed are epoch, updates, samples, seconds"):
        curves.set_x_axis("minutes")


def test_hide_run(qtbot, curves, records):
    curves.add_run("b", "other", "#d62728")
    curves.append("a", records)
    curves.append("b", records)
    with qtbot.waitSignal(curves.run_visibility_changed) as signal:
        curves.set_run_visible("b", False)
    assert signal.args == ["b", False]
    assert not any(item.isVisible() for item in curves.curve_items("b").values())
    assert all(item.isVisible() for item in curves.curve_items("a").values())
    assert "other" not in curves.readout_at(10) and "mini-batch" in curves.readout_at(10)
    curves.set_run_visible("b", True)
    assert all(item.isVisible() for item in curves.curve_items("b").values())
    assert "other" in curves.readout_at(10)


def test_runs_are_named_recoloured_cleared_and_removed(curves, records):
    curves.append("a", records)
    curves.set_run_style("a", name="renamed", color="#ff00ff")
    labels = [label.text for _, label in curves.legend.items]
    assert labels == ["renamed"]
    assert curves.curve_items("a")["accuracy", "test"].opts["pen"].color() == pg.mkColor("#ff00ff")
    curves.clear("a")
    assert len(curves.data("a")["epoch"]) == 0
    curves.remove_run("a")
    assert curves.run_ids() == [] and curves.legend.items == []
    with pytest.raises(KeyError, match="no such run"):
        curves.data("a")
    curves.add_run("x", "x", "r")
    with pytest.raises(ValueError, match="already exists"):
        curves.add_run("x", "x", "r")


def test_readout_names_epoch_and_value(curves, records):
    curves.append("a", records)
    text = curves.readout_at(12.3)
    assert "epoch 12" in text and f"{records[12].cost:.4g}" in text
    assert f"{records[30].accuracy:.4g}" in curves.readout_at(99, "accuracy")


def test_hovering_the_cost_plot_shows_epoch_and_value(qtbot, curves, records):
    curves.resize(600, 500)
    curves.show()
    qtbot.waitExposed(curves)
    curves.append("a", records)
    centre = curves.graphics.mapFromScene(curves.plots["cost"].vb.sceneBoundingRect().center())
    qtbot.mouseMove(curves.graphics.viewport(), QPoint(centre.x(), centre.y()))
    qtbot.waitUntil(lambda: "mini-batch" in curves.readout.text(), timeout=2000)
    epoch = int(curves.readout.text().split(",")[0].removeprefix("epoch "))
    assert 5 <= epoch <= 25 and f"{records[epoch].cost:.4g}" in curves.readout.text()


def test_marker_on_all_plots(curves, records):
    curves.append("a", records)
    curves.set_marker(10)
    for name, line in curves.markers().items():
        assert line.isVisible() and line.value() == 10
        x, y = curves._marker_dots[name].getData()
        assert list(x) == [10]
    curves.set_x_axis("updates")
    x, _ = curves._marker_dots["cost"].getData()
    assert list(x) == [records[10].updates]
    curves.set_marker(None)
    assert not any(line.isVisible() for line in curves.markers().values())


def test_curves_save_as_png(curves, records, tmp_path):
    curves.append("a", records)
    curves.resize(600, 500)
    curves.save_png(tmp_path / "curves.png", width=800)
    image = QImage(str(tmp_path / "curves.png"))
    assert image.width() == 800 and image.height() > 100


def test_append_columns_equals_append_of_the_records(qtbot, curves, records):
    curves.append("a", records)
    other = CurvesView()
    qtbot.addWidget(other)
    other.add_run("b", "mini-batch", "#2ca02c")
    data = curves.data("a")
    other.append_columns("b", {name: data[name] for name in FIELDS if not name.startswith("test_")})
    for name in FIELDS:
        if name.startswith("test_"):
            assert np.isnan(other.data("b")[name]).all()  # a missing test column is NaN
        else:
            np.testing.assert_array_equal(other.data("b")[name], data[name])


def test_a_hidden_run_catches_up_when_shown(curves, records):
    curves.append("a", records[:5])
    curves.set_run_visible("a", False)
    curves.append("a", records[5:])
    curves.set_run_visible("a", True)
    x, cost = curves.curve_items("a")["cost", "train"].getOriginalDataset()
    np.testing.assert_array_equal(x, [r.epoch for r in records])
    x, test_cost = curves.curve_items("a")["cost", "test"].getOriginalDataset()
    np.testing.assert_array_equal(test_cost, [r.test_cost for r in records])
