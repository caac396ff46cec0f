"""Drawing points on the decision map (pytest-qt, offscreen): the mode, clicks and drags on the map's viewport,
the data set becoming custom with every run restarted from the same start, undo, clear and the eraser."""

import numpy as np
import pytest
from helpers import ready
from PySide6.QtCore import QPoint, Qt

from nnviz.core.training import preset_config

LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
SHIFT = Qt.KeyboardModifier.ShiftModifier
NONE = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def window(make_window):
    """The sgd preset on 200 points of the notebook's data (160 training, 40 test), in drawing mode."""
    window = make_window(preset_config("sgd", n_samples=200, epochs=30, test_fraction=0.2))
    assert window.drawing.set_active(True)
    return window


def viewport(window):
    return window.drawing.tool.view.viewport()


def pixel(window) -> float:
    """Units of the plane per pixel on the map drawn on."""
    return max(window.drawing.tool.view.plot.vb.viewPixelSize())


def click(qtbot, window, x1, x2, button=LEFT, modifier=NONE):
    """A click on the map where it shows (x1, x2); waits until the edit it makes is applied."""
    qtbot.mouseClick(viewport(window), button, modifier, window.drawing.tool.viewport_position(x1, x2))
    qtbot.waitUntil(lambda: ready(window), timeout=20000)


def shown_points(window):
    """The comparison's points, training then test, and their labels (n,)."""
    data = window.model.data
    return np.concatenate([data.X, data.X_test]), np.concatenate([data.y, data.y_test]).reshape(-1)


def drawn(window):
    """The user's points in the settings (dataset custom): X (n, 2), y (n,)."""
    shared = window.controller.shared
    assert shared.dataset == "custom"
    return shared.points.X, shared.points.y


def as_rows(X, y):
    return sorted(map(tuple, np.column_stack([X, y]).round(12)))


def lone_point(window):
    """A point of the data with no other within 12 pixels, away from the map's edges (safe to click)."""
    X, _ = shown_points(window)
    x_min, x_max, y_min, y_max = window.drawing.tool.view.extent
    d = np.hypot(X[:, None, 0] - X[None, :, 0], X[:, None, 1] - X[None, :, 1])
    np.fill_diagonal(d, np.inf)
    inside = (X[:, 0] > x_min + 0.1 * (x_max - x_min)) & (X[:, 0] < x_max - 0.1 * (x_max - x_min)) \
        & (X[:, 1] > y_min + 0.1 * (y_max - y_min)) & (X[:, 1] < y_max - 0.1 * (y_max - y_min))
    index = np.flatnonzero(inside & (d.min(axis=1) > 12 * pixel(window)))
    assert len(index)
    return X[index[0]]


def test_the_draw_action_and_d_toggle_the_mode_and_esc_leaves_it(qtbot, window):
    drawing, view = window.drawing, window.drawing.tool.view
    assert drawing.active and window.drawing.draw_action.isChecked()
    assert window.maps.large_run_id == window.selected_run_id and view is window.maps.large
    assert viewport(window).cursor().shape() == Qt.CursorShape.CrossCursor
    assert drawing.bar.isVisible() and "right click: class 1" in drawing.hint.text()
    assert window.undo_action.text() == "&Undo stroke" and "stroke" in window.undo_action.toolTip()
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert not drawing.active and not drawing.bar.isVisible() and not drawing.draw_action.isChecked()
    assert viewport(window).cursor().shape() != Qt.CursorShape.CrossCursor
    assert window.undo_action.text() == "&Undo"
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert drawing.active
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not drawing.active
    drawing.draw_action.trigger()
    assert drawing.active
    drawing.draw_action.trigger()
    assert not drawing.active


def test_clicks_add_points_of_the_right_class_where_they_are_clicked(qtbot, window):
    before_X, before_y = shown_points(window)
    click(qtbot, window, 0.1, 0.2)
    X, y = drawn(window)
    assert len(X) == 201 and window.controller.shared.n_samples == 201
    np.testing.assert_array_equal(X[:200], before_X)  # the first stroke starts from the points shown
    np.testing.assert_array_equal(y[:200], before_y)
    assert np.hypot(*(X[-1] - (0.1, 0.2))) <= 1.5 * pixel(window) and y[-1] == 0
    click(qtbot, window, -0.3, 0.25, RIGHT)
    X, y = drawn(window)
    assert len(X) == 202 and np.hypot(*(X[-1] - (-0.3, 0.25))) <= 1.5 * pixel(window) and y[-1] == 1
    qtbot.keyClick(window, Qt.Key.Key_C)  # switch: a left click draws class 1, a right click class 0
    assert window.drawing.current_class == 1 and "left click: class 1" in window.drawing.hint.text()
    click(qtbot, window, 0.2, -0.2)
    click(qtbot, window, 0.3, -0.2, RIGHT)
    X, y = drawn(window)
    assert y[-2:].tolist() == [1.0, 0.0]
    # The comparison trains on them: its data (shuffled, then split) holds exactly these points.
    assert as_rows(*shown_points(window)) == as_rows(X, y)


def test_every_run_restarts_from_identical_weights_on_the_drawn_points(qtbot, window):
    c = window.controller
    spec = c.model[window.selected_run_id].spec
    for name in ("second", "third"):
        c.add_run(spec.replace(name=name, batch_size=8))
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 3, timeout=20000)
    for _ in range(3):
        window.step()
        qtbot.waitUntil(lambda: all(run.epoch > 0 for run in window.model) and not c.worker.active, timeout=20000)
    assert window.drawing.set_active(True)  # the grid of three maps replaced the lone run's large map: again
    click(qtbot, window, 0.15, 0.1, RIGHT)
    ids = window.model.ids()
    assert len(ids) == 3 and all(window.model[run_id].epoch == 0 for run_id in ids)
    starts = [window.model.params_at(run_id, 0) for run_id in ids]
    assert all(start[0] == 0 for start in starts)
    for start in starts[1:]:
        np.testing.assert_array_equal(start[1], starts[0][1])
    costs = [window.model[run_id].history.value("cost", 0) for run_id in ids]
    assert costs[0] == costs[1] == costs[2]
    for run_id in ids:
        assert window.model[run_id].trainer.config.points == c.shared.points  # each trains on the drawing


def test_shift_click_removes_the_nearest_point(qtbot, window):
    target = lone_point(window)
    click(qtbot, window, *target, LEFT, SHIFT)
    X, _ = drawn(window)
    assert len(X) == 199
    assert not (np.hypot(*(X - target).T) < 1e-12).any()
    window.drawing.set_eraser(True)  # the eraser: a plain click removes too
    target = lone_point(window)
    click(qtbot, window, *target)
    X, _ = drawn(window)
    assert len(X) == 198 and not (np.hypot(*(X - target).T) < 1e-12).any()


def test_a_drag_paints_points_along_the_way_and_makes_one_edit_at_the_release(qtbot, window):
    tool, port = window.drawing.tool, viewport(window)
    x_min, x_max, _, _ = tool.view.extent
    a, b = x_min + 0.2 * (x_max - x_min), x_max - 0.2 * (x_max - x_min)
    start, end = tool.viewport_position(a, 0.0), tool.viewport_position(b, 0.0)
    length = end.x() - start.x()
    assert length > 100
    qtbot.mousePress(port, LEFT, NONE, start)
    for i in range(1, 21):
        qtbot.mouseMove(port, QPoint(start.x() + round(i * length / 20), start.y()))
    assert window.controller.shared.dataset == "hard"  # nothing restarts while the mouse is down
    qtbot.mouseRelease(port, LEFT, NONE, end)
    qtbot.waitUntil(lambda: ready(window), timeout=20000)
    X, y = drawn(window)
    new = X[200:]
    assert abs(len(new) - (1 + length // 8)) <= 1 and (y[200:] == 0).all()
    assert np.abs(new[:, 1]).max() <= 3 * pixel(window)  # along the line, jittered by up to 2 pixels
    assert new[:, 0].min() < a + 3 * pixel(window) and new[:, 0].max() > b - 9 * pixel(window)
    window.undo_action.trigger()  # the whole drag is one stroke
    qtbot.waitUntil(lambda: ready(window), timeout=20000)
    assert window.controller.shared.dataset == "hard"


def test_an_eraser_drag_erases_the_points_along_its_path(qtbot, window):
    tool, port = window.drawing.tool, viewport(window)
    before_X, _ = shown_points(window)
    x_min, x_max, _, _ = tool.view.extent
    start = tool.viewport_position(x_min + 0.1 * (x_max - x_min), 0.0)
    end = tool.viewport_position(x_max - 0.1 * (x_max - x_min), 0.0)
    qtbot.mousePress(port, LEFT, SHIFT, start)
    qtbot.mouseMove(port, end)
    qtbot.mouseRelease(port, LEFT, SHIFT, end)
    qtbot.waitUntil(lambda: ready(window), timeout=20000)
    X, _ = drawn(window)
    a, b = tool.data_position(tool.view.mapToScene(start)), tool.data_position(tool.view.mapToScene(end))
    near = (np.abs(before_X[:, 1] - a[1]) < 9 * pixel(window)) & (before_X[:, 0] > a[0]) & (before_X[:, 0] < b[0])
    assert near.sum() > 0 and len(X) <= 200 - near.sum()
    assert not (np.abs(X[:, 1] - a[1]) < 9 * pixel(window))[(X[:, 0] > a[0]) & (X[:, 0] < b[0])].any()


def test_undo_restores_each_strokes_arrays_exactly_and_then_the_generated_set(qtbot, window):
    original = shown_points(window)
    click(qtbot, window, 0.1, 0.2)
    first = drawn(window)
    click(qtbot, window, -0.2, 0.1, RIGHT)
    second = drawn(window)
    click(qtbot, window, *lone_point(window), LEFT, SHIFT)
    assert len(drawn(window)[0]) == 201
    assert window.undo_action.isEnabled()
    for expected in (second, first):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: ready(window), timeout=20000)
        X, y = drawn(window)
        assert X.tobytes() == expected[0].tobytes() and y.tobytes() == expected[1].tobytes()
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: ready(window), timeout=20000)
    shared = window.controller.shared
    assert shared.dataset == "hard" and shared.n_samples == 200 and shared.points is None
    X, y = shown_points(window)
    assert X.tobytes() == original[0].tobytes() and y.tobytes() == original[1].tobytes()
    assert not window.drawing.can_undo


def test_clear_keeps_the_data_pauses_and_shows_an_empty_canvas_until_the_next_point(qtbot, window):
    c, tool = window.controller, window.drawing.tool
    data = window.model.data
    window.start()
    qtbot.waitUntil(lambda: c.playing, timeout=5000)
    window.drawing.clear_action.trigger()
    assert not c.playing and window.model.data is data and c.shared.dataset == "hard"
    assert tool.shows_empty and not any(item.isVisible() for item in tool.view.scatter_items())
    assert window.drawing.points()[0].shape == (0, 2)
    assert "left click class 0, right click class 1" in window.message.text()
    window.start()  # an empty drawing cannot train
    assert not c.playing
    click(qtbot, window, 0.3, 0.3, RIGHT)
    X, y = drawn(window)
    assert len(X) == 1 and y.tolist() == [1.0] and not tool.shows_empty
    assert all(item.isVisible() for item in tool.view.scatter_items())
    window.undo_action.trigger()  # back to the empty drawing: the data stays the one point
    assert tool.shows_empty and len(drawn(window)[0]) == 1
    window.undo_action.trigger()  # the cleared points come back
    qtbot.waitUntil(lambda: ready(window), timeout=20000)
    assert c.shared.dataset == "hard" and not tool.shows_empty


def test_the_map_holds_still_while_drawing_and_follows_the_data_after(qtbot, window):
    view = window.drawing.tool.view
    extent = view.extent
    window.drawing.clear_action.trigger()
    click(qtbot, window, 0.1, 0.1)  # one point: its own extent would be a tiny square around it
    assert view.extent == extent
    window.drawing.set_active(False)
    qtbot.waitUntil(lambda: view.extent != extent, timeout=5000)
    x_min, x_max, y_min, y_max = view.extent
    assert x_max - x_min < 1 and x_min < 0.1 < x_max and y_min < 0.1 < y_max


def test_drawing_needs_a_shown_run(qtbot, make_window):
    window = make_window(preset_config("sgd", n_samples=200, epochs=30))
    window.controller.edit_run(window.selected_run_id, visible=False)
    assert not window.drawing.set_active(True)
    assert not window.drawing.draw_action.isChecked() and "tick a run" in window.message.text()


def test_leaving_the_large_map_or_showing_the_network_in_its_place_leaves_drawing_mode(qtbot, window):
    c = window.controller
    c.add_run(c.model[window.selected_run_id].spec.replace(name="second"))
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 2, timeout=20000)
    assert window.drawing.set_active(True) and window.maps.back_button.isVisible()
    window.maps.back_button.click()
    assert not window.drawing.active and window.maps.large_run_id == -1
    assert window.drawing.set_active(True) and window.maps.large_run_id != -1
    window.view_network_action.trigger()
    assert not window.drawing.active
    assert window.drawing.set_active(True) and window.inside.mode == "maps"  # the maps come back to draw on
