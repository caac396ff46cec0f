"""The network view (issue 9): unit maps, which units are shown, hover read-outs, the large view, colours."""

import numpy as np
import pytest
from helpers import shown
from PySide6.QtCore import QEvent, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QMouseEvent
from PySide6.QtWidgets import QApplication, QLabel

from nnviz.core.datasets import make_hard
from nnviz.core.health import measure
from nnviz.core.network import Layout, forward, init_params
from nnviz.gui.network_paint import DIVERGING_COLORS, NEUTRAL
from nnviz.gui.network_view import TOP_K, NetworkView


@pytest.fixture(scope="module")
def data():
    return make_hard(200, seed=3)


@pytest.fixture
def view(qtbot, data):
    widget = shown(qtbot, NetworkView(), 900, 560)
    widget.set_data(*data)
    return widget


def _show(view, shape, activation="relu", seed=5, params=None, health=None, title=""):
    layout = Layout(shape)
    params = init_params(shape, seed) if params is None else params
    view.show_network(params, layout, activation, health=health, title=title)
    return params, layout


def _cell_centre(view, layer, unit, i, j):
    """The pixel position (view coordinates) of grid cell (row i, column j) in the unit's image (row 0 = y min)."""
    rect = view.unit_rect(layer, unit)
    n = view.resolution
    return QPointF(rect.left() + (j + 0.5) * rect.width() / n, rect.top() + (n - 1 - i + 0.5) * rect.height() / n)


@pytest.mark.parametrize(("shape", "activation"), [((2, 3, 4, 1), "relu"), ((2, 5, 3, 1), "tanh"),
                                                   ((2, 40, 1), "relu")])
def test_unit_maps_equal_the_forward_pass_at_grid_points(view, shape, activation):
    params, layout = _show(view, shape, activation)
    xs, ys = view.grid_xs, view.grid_ys
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(ys), 25), rng.integers(0, len(xs), 25)
    _, acts = forward(params, layout, np.column_stack([xs[j], ys[i]]), activation)
    for layer, units in enumerate(shape):
        for unit in range(units):
            got = view.unit_map(layer, unit)[i, j]
            np.testing.assert_allclose(got, acts[layer][:, unit], rtol=1e-4, atol=1e-5)


def test_shown_units_for_several_shapes(view):
    for shape, expected in [((2, 3, 4, 1), [2, 3, 4, 1]), ((2, 8, 8, 1), [2, 8, 8, 1]),
                            ((2, 256, 1), [2, TOP_K, 1]), ((2, 20, 30, 1), [2, TOP_K, TOP_K, 1])]:
        _show(view, shape)
        assert view.shown_units() == expected, shape
    assert view.column_note(1) == f"top {TOP_K} of 20 by outgoing |w|"
    view.set_show_all(True)
    assert view.show_all
    assert view.shown_units() == [2, 20, 30, 1]
    assert view.column_note(2) == "all 30, by outgoing |w|"
    _show(view, (2, 256, 1))
    assert view.shown_units() == [2, 256, 1]
    view.set_show_all(False)
    assert view.shown_units() == [2, TOP_K, 1]
    assert all(view.unit_rect(1, u).isEmpty() for u in range(256) if u not in view.shown_unit_indices(1))


def test_very_many_lines_draw_only_the_strongest_and_say_so(view):
    _show(view, (2, 256, 256, 1))
    assert view.lines_note == ""  # 12·12 + 2·12 + 12 lines
    view.set_show_all(True)
    assert view.lines_note == f"the strongest 3,000 of {2 * 256 + 256 * 256 + 256:,} lines drawn"


def test_top_k_units_are_those_of_largest_outgoing_weight_norm(view):
    shape = (2, 16, 3, 1)
    layout = Layout(shape)
    params = np.zeros(layout.size)
    (w1, _), (w2, _), (w3, _) = layout.views(params)
    w1[...] = 1.0  # incoming weights the same for every unit: they must not decide
    rng = np.random.default_rng(1)
    norms = rng.permutation(np.arange(1, 17, dtype=float))
    directions = rng.normal(size=(16, 3))
    w2[...] = directions / np.linalg.norm(directions, axis=1, keepdims=True) * norms[:, None]
    w3[...] = 1.0
    view.show_network(params, layout, "relu")
    expected = list(np.argsort(-norms)[:TOP_K])
    assert view.shown_unit_indices(1) == expected
    tops = [view.unit_rect(1, u).top() for u in expected]
    assert tops == sorted(tops)  # strongest at the top
    assert view.shown_unit_indices(2) == [0, 1, 2]  # a narrow layer keeps its order


def test_hover_over_a_unit_names_it_its_bias_activity_and_value(view, data):
    shape = (2, 3, 4, 1)
    layout = Layout(shape)
    params = init_params(shape, 5)
    health = measure(params, layout, "relu", *data)
    view.show_network(params, layout, "relu", health=health)
    unit, i, j = 1, 7, 30
    text = view.hover_text(_cell_centre(view, 2, unit, i, j))
    bias = layout.views(params)[1][1][unit]
    value = view.unit_map(2, unit)[i, j]
    assert text.startswith("hidden layer 2, unit 2 of 4")
    assert f"bias {bias:.4g}" in text
    assert f"active on {100 * health.active[1][unit]:.0f} % of the data" in text
    assert f"value {value:.4g} at x₁ = {view.grid_xs[j]:.3g}, x₂ = {view.grid_ys[i]:.3g}" in text
    view.show_network(params, layout, "relu")  # no health: no share
    assert "active on — of the data" in view.hover_text(_cell_centre(view, 2, unit, i, j))
    text = view.hover_text(_cell_centre(view, 3, 0, 3, 4))
    assert text.startswith("output") and f"P(class 1) {view.unit_map(3, 0)[3, 4]:.4g}" in text
    assert view.hover_text(QPointF(2, view.height() - 40)) == ""  # nothing there


def test_hover_over_a_tanh_unit_says_saturated(view, data):
    shape = (2, 3, 1)
    params = init_params(shape, 2)
    health = measure(params, Layout(shape), "tanh", *data)
    _show(view, shape, "tanh", params=params, health=health)
    text = view.hover_text(view.unit_rect(1, 0).center())
    assert f"saturated (|tanh| > 0.99) on {100 * health.active[0][0]:.0f} % of the data" in text


def test_hover_over_a_line_names_the_weight(view):
    params, layout = _show(view, (2, 3, 1))
    w2 = layout.views(params)[1][0]
    for unit in range(3):
        source, target = view.unit_rect(1, unit), view.unit_rect(2, 0)
        start = QPointF(source.right(), source.center().y())
        end = QPointF(target.left(), target.center().y())
        text = view.hover_text(start + 0.3 * (end - start))
        assert text == f"weight hidden layer 1, unit {unit + 1} of 3 → output: {w2[unit, 0]:.4g}"
    w1 = layout.views(params)[0][0]
    for unit in range(3):
        source, target = view.unit_rect(0, 1), view.unit_rect(1, unit)
        start = QPointF(source.right(), source.center().y())
        end = QPointF(target.left(), target.center().y())
        text = view.hover_text(start + 0.15 * (end - start))
        assert text == f"weight input x₂ → hidden layer 1, unit {unit + 1} of 3: {w1[1, unit]:.4g}"


def test_click_on_a_unit_opens_it_large_and_it_follows_new_frames(qtbot, view):
    shape = (2, 3, 4, 1)
    params, layout = _show(view, shape, title="epoch 7")
    with qtbot.waitSignal(view.unit_clicked, timeout=2000) as signal:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.unit_rect(2, 3).center().toPoint())
    assert signal.args == [2, 3]
    assert view.large_unit == (2, 3)
    assert view.large_title == "hidden layer 2, unit 4 of 4 — epoch 7"
    first = view.large_map()
    xs, ys = view.large_grid
    assert first.shape == (len(ys), len(xs)) and len(xs) > view.resolution
    i, j = np.array([0, 10, len(ys) - 1]), np.array([len(xs) - 1, 20, 0])
    _, acts = forward(params, layout, np.column_stack([xs[j], ys[i]]))
    np.testing.assert_allclose(first[i, j], acts[2][:, 3], rtol=1e-4, atol=1e-5)

    params, _ = _show(view, shape, seed=6, title="epoch 8")  # a later frame: the large view follows
    assert view.large_title == "hidden layer 2, unit 4 of 4 — epoch 8"
    assert not np.allclose(view.large_map(), first)
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert view.large_unit is None and view.large_map() is None
    xs, ys = view.grid_xs, view.grid_ys  # back to the network: it shows the last frame
    _, acts = forward(params, layout, np.column_stack([xs[[1, 5]], ys[[2, 9]]]))
    np.testing.assert_allclose(view.unit_map(2, 3)[[2, 9], [1, 5]], acts[2][:, 3], rtol=1e-4, atol=1e-5)


def _pixel(view, layer, unit) -> tuple[int, int, int]:
    image = view.grab().toImage()
    colour = QColor(image.pixel(view.unit_rect(layer, unit).center().toPoint()))
    return colour.red(), colour.green(), colour.blue()


def test_tanh_colour_scale_is_centred_on_zero(view):
    shape = (2, 3, 1)
    layout = Layout(shape)
    params = np.zeros(layout.size)
    b1 = layout.views(params)[0][1]
    b1[...] = (0.0, 20.0, -20.0)  # with zero weights: tanh 0, ~1 and ~−1 everywhere
    view.show_network(params, layout, "tanh")
    assert _pixel(view, 1, 0) == NEUTRAL
    assert _pixel(view, 1, 1) == DIVERGING_COLORS[-1]
    assert _pixel(view, 1, 2) == DIVERGING_COLORS[0]
    assert _pixel(view, 2, 0) == NEUTRAL  # the output: p = 0.5
    view.show_network(params, layout, "relu")  # relu 0..max: 0 is the same neutral colour
    assert _pixel(view, 1, 0) == NEUTRAL and _pixel(view, 1, 2) == NEUTRAL
    assert _pixel(view, 1, 1) == DIVERGING_COLORS[-1]  # the layer's max


def test_unit_images_have_x1_to_the_right_and_x2_up(view):
    shape = (2, 1, 1)
    layout = Layout(shape)
    params = np.zeros(layout.size)
    layout.views(params)[0][0][:, 0] = (0.0, 20.0)  # tanh(20 x₂): +1 above x₂ = 0, −1 below
    view.show_network(params, layout, "tanh")
    image = view.grab().toImage()

    def at(layer, fx, fy):
        rect = view.unit_rect(layer, 0)
        colour = QColor(image.pixel(QPointF(rect.left() + fx * rect.width(), rect.top() + fy * rect.height())
                                    .toPoint()))
        return colour.red(), colour.green(), colour.blue()

    top, bottom = view.grid_ys[-1], view.grid_ys[0]
    assert top > 0.5 and bottom < -0.5  # the hard data's plane
    assert at(1, 0.5, 0.1) == DIVERGING_COLORS[-1] and at(1, 0.5, 0.9) == DIVERGING_COLORS[0]
    assert at(0, 0.1, 0.5)[1] < at(0, 0.9, 0.5)[1]  # x₁: purple (low) at the left, green (high) at the right


def test_clear_and_bad_input(view):
    _show(view, (2, 3, 1))
    with pytest.raises(ValueError, match="params"):
        view.show_network(np.zeros(3), Layout((2, 3, 1)), "relu")
    with pytest.raises(ValueError, match="layer=5"):
        view.unit_map(5, 0)
    view.clear()
    assert view.shown_units() == [] and view.hover_text(QPointF(100, 100)) == ""


def _fits(label: QLabel) -> bool:
    """The whole of the label's text is visible (wrapped at its width, within its height)."""
    text = label.text()
    needed = label.fontMetrics().boundingRect(QRect(0, 0, label.width(), 10_000),
                                              Qt.TextFlag.TextWordWrap, text)
    return needed.width() <= label.width() and needed.height() <= label.height()


def test_a_narrow_view_shows_the_whole_readout_and_title(qtbot, data):
    view = shown(qtbot, NetworkView(), 420, 420)
    view.set_data(*data)
    shape = (2, 3, 4, 1)
    params = init_params(shape, 5)
    health = measure(params, Layout(shape), "relu", *data)
    title = "“a run with a rather long name” — epoch 150"
    view.show_network(params, Layout(shape), "relu", health=health, title=title)
    qtbot.wait(10)  # the layout settles (the title wraps)
    where = view.unit_rect(2, 1).center()
    pos = view.canvas.mapFrom(view, where)
    QApplication.sendEvent(view.canvas, QMouseEvent(QEvent.Type.MouseMove, pos, view.canvas.mapToGlobal(pos),
                                                    Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                                    Qt.KeyboardModifier.NoModifier))
    qtbot.wait(10)
    assert view.unit_rect(2, 1).center() == where  # the read-out's text did not move the units
    text = view.hover_text(where)
    assert text.startswith("hidden layer 2, unit 2 of 4")
    labels = {label.text(): label for label in view.findChildren(QLabel)}
    assert _fits(labels[text]) and _fits(labels[title])


def _inside(view, rect) -> bool:
    return 0 <= rect.left() and rect.right() <= view.width() and 0 <= rect.top() and not rect.isEmpty()


def test_show_all_in_a_narrow_view_keeps_every_column_in_sight(qtbot, data):
    view = shown(qtbot, NetworkView(), 480, 420)
    view.set_data(*data)
    _show(view, (2, 256, 256, 256, 1))
    view.set_show_all(True)
    assert _inside(view, view.unit_rect(4, 0))  # the output was drawn past the right edge
    assert all(_inside(view, view.unit_rect(layer, view.shown_unit_indices(layer)[0])) for layer in range(4))


def test_a_tall_column_in_a_short_view_wraps_and_the_units_stay_readable(qtbot, data):
    view = shown(qtbot, NetworkView(), 1100, 330)
    view.set_data(*data)
    _show(view, (2, 40, 1))
    rects = [view.unit_rect(layer, u) for layer in range(3) for u in view.shown_unit_indices(layer)]
    assert len(rects) == 2 + TOP_K + 1
    assert min(r.width() for r in rects) >= 24  # were 10 pixels: every unit shares the tall column's side
    assert all(_inside(view, r) and r.bottom() <= view.height() for r in rects)
    assert not any(a.intersects(b) for k, a in enumerate(rects) for b in rects[k + 1:])


def test_a_unit_shown_large_keeps_its_columns_colour_scale(qtbot, data):
    view = shown(qtbot, NetworkView(), 700, 420)
    view.set_data(*data)
    shape = (2, 4, 1)
    params = init_params(shape, 5)
    view.show_network(params, Layout(shape), "relu")
    small = view.column_scale_range(1)
    view.open_unit(1, 0)
    low, high = view.large_scale_range()
    assert low == small[0] and high == pytest.approx(small[1], rel=0.05)  # the same plane, a finer grid


def test_a_view_drawn_again_shows_what_a_new_view_shows(qtbot, data):
    """The view keeps the parts of its picture that rarely change (headers, colour strips, notes) between draws:
    after other networks (other scales), another size or another activation, it shows the same pixels as a new
    view given only the network shown."""
    shape = (2, 3, 4, 1)
    layout = Layout(shape)
    first = init_params(shape, 5)
    cases = [(first, "relu", (900, 560)), (3 * first, "relu", (900, 560)), (3 * first, "tanh", (900, 560)),
             (first, "relu", (700, 480))]
    reused = shown(qtbot, NetworkView(), 900, 560)
    reused.set_data(*data)
    before = None
    for params, activation, size in cases:
        reused.resize(*size)
        reused.show_network(params, layout, activation)
        new = shown(qtbot, NetworkView(), *size)
        new.set_data(*data)
        new.show_network(params, layout, activation)
        QApplication.processEvents()
        image = reused.grab().toImage()
        assert image == new.grab().toImage()
        assert image != before  # each case changes the picture (the scales' labels, the colours, the size)
        before = image
