"""The decision map's axes, exports drawn at the export's resolution, large scatters, legend, titles, the
maps at the window's minimum size and the readout under the cursor (pytest-qt, offscreen)."""

import math
import re
import threading

import numpy as np
import pytest
from helpers import shown
from PySide6.QtCore import QEvent, QPointF
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nnviz.core.datasets import make_hard, make_moons, split_train_test
from nnviz.core.network import Layout, init_params, predict
from nnviz.gui.boundary_view import BoundaryView, format_coordinate, format_probability
from nnviz.gui.map_render import COMPACT_DRAWN_POINTS, MAX_DRAWN_POINTS, map_points, probability_lut, render_map
from nnviz.gui.maps_panel import MapsPanel

SHAPE = (2, 3, 4, 1)
LAYOUT = Layout(SHAPE)
THETA = init_params(SHAPE, 1234) * 3


def _pixels(image: QImage) -> np.ndarray:
    """The image as an (height, width, 3) uint8 array of RGB."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : 3 * image.width()].reshape(image.height(), image.width(), 3).copy()


def _axes(view):
    axes = [view.plot.getAxis(side) for side in ("left", "bottom", "right", "top")]
    if view.colorbar is not None:
        axes.append(view.colorbar.getAxis("right"))
    return axes


# ---- 1. data axes are never SI-rescaled ------------------------------------------------------------------


@pytest.mark.parametrize("spread", [1e-3, 1e3, 5e5])
def test_data_axes_are_never_si_rescaled(qtbot, spread):
    X, y = make_moons(300, seed=0)
    X = X * spread
    panel = shown(qtbot, MapsPanel(compact_resolution=20, large_resolution=20), 700, 500)
    panel.set_runs([(1, "a", "#1f77b4"), (2, "b", "#ff7f0e")])
    panel.set_data(X, y)
    panel.show_large(1)
    views = [panel.large, panel.map_view(1), panel.map_view(2)]
    standalone = shown(qtbot, BoundaryView(resolution=20), 500, 400)
    standalone.set_data(X, y)
    views.append(standalone)
    for view in views:
        for zoom in (None, 1e-3, 10.0):
            if zoom is not None:  # zoom in and out around the data, as the mouse wheel does
                x_min, x_max, y_min, y_max = view.extent
                cx, cy, half = (x_min + x_max) / 2, (y_min + y_max) / 2, zoom * (x_max - x_min) / 2
                view.plot.setRange(xRange=(cx - half, cx + half), yRange=(cy - half, cy + half), padding=0)
            for axis in _axes(view):
                assert axis.autoSIPrefixScale == 1.0
                label = axis.labelString()
                assert "(x" not in label and "×" not in label and "x0.001" not in label


# ---- 2. an export is drawn at the export's resolution ------------------------------------------------------


@pytest.fixture
def export_view(qtbot):
    """A large map 600 px wide on screen with a coarse 60 × 60 grid, the notebook's data and a test set."""
    X, y = make_hard(1000, seed=1337)
    X_train, y_train, X_test, y_test = split_train_test(X, y, 0.2, 0)
    view = shown(qtbot, BoundaryView(resolution=60), 600, 400)
    view.set_data(X_train, y_train, X_test, y_test)
    view.set_model(THETA, LAYOUT, "relu")
    view.set_title("sgd — epoch 3 — cost 0.5")
    return view


def _contour_mask(pixels):
    r, g, b = (pixels[..., c].astype(int) for c in range(3))
    return (r > 190) & (g < 50) & (b < 60)  # CONTOUR_COLOR #e3000f; class 1's orange has g = 82


def test_an_export_draws_the_contour_with_a_width_scaled_to_it(export_view, tmp_path):
    export_view.save_png(tmp_path / "map.png", width=2400)
    pixels = _pixels(QImage(str(tmp_path / "map.png")))
    assert pixels.shape[1] == 2400
    red = _contour_mask(pixels)
    # The thickness of the line: the shortest run of red pixels across it, along rows and along columns.
    runs = []
    for mask in (red, red.T):
        for line in mask[::7]:
            edges = np.flatnonzero(np.diff(np.concatenate([[0], line.astype(np.int8), [0]])))
            runs.extend(edges[1::2] - edges[::2])
    assert len(runs) > 50
    assert np.median(runs) >= 5  # 2 px on screen, × 2400 / 600: about 8 px


def test_an_export_evaluates_the_grid_at_the_export_resolution(qtbot, tmp_path):
    # A map whose probability rises smoothly from left to right, data only in two corners: a row through
    # the middle shows the heat map alone. A 60-cell grid stretched to 4000 px has at most ~60 colours there.
    view = shown(qtbot, BoundaryView(resolution=60, colorbar=False), 600, 200)
    view.set_data(np.array([[-1.0, -1.0], [1.0, 1.0]]), np.array([0, 1]))
    layout = Layout((2, 1))
    view.set_model(np.array([2.5, 0.0, 0.0]), layout, "relu")
    view.save_png(tmp_path / "map.png", width=4000)
    pixels = _pixels(QImage(str(tmp_path / "map.png")))
    row = pixels[pixels.shape[0] // 2, 300:3500]
    colours = {tuple(p) for p in row}
    assert len(colours) > 150
    # Every colour is the colour map's (or between two neighbours of it): the map is not washed out.
    lut = probability_lut().astype(int)
    distance = np.abs(np.array(sorted(colours))[:, None, :] - lut[None, :, :]).max(axis=2).min(axis=1)
    assert np.percentile(distance, 90) <= 3


def _dark_rows(pixels, columns=slice(None)):
    """Indices of the rows holding text-dark pixels (FOREGROUND #3c3c3c) in the given columns."""
    return np.flatnonzero((pixels[:, columns].max(axis=2) < 110).any(axis=1))


def _first_band(rows):
    """Length of the first run of consecutive row indices."""
    breaks = np.flatnonzero(np.diff(rows) > 1)
    return (breaks[0] + 1) if len(breaks) else len(rows)


def test_title_and_legend_text_scale_with_the_export_width(export_view, tmp_path):
    heights = {}
    for width in (800, 2400):
        export_view.save_png(tmp_path / f"map{width}.png", width=width)
        pixels = _pixels(QImage(str(tmp_path / f"map{width}.png")))
        dark = _dark_rows(pixels, slice(7 * width // 20, 3 * width // 5))  # the middle: no axis there
        title = _first_band(dark)  # the title is the first dark text from the top
        # The legend's lines of text, in the upper right of the plot (left of the colour bar's labels): the
        # first group of dark rows under the title without a gap over 5 % of the height.
        rows = _dark_rows(pixels, slice(width // 2, 4 * width // 5))
        rows = rows[rows > dark[title - 1]]
        rows = rows[: np.argmax(np.diff(rows) > 0.05 * len(pixels)) + 1]
        heights[width] = (title, rows.max() - rows.min())
    for small, large in zip(heights[800], heights[2400], strict=True):
        assert small > 3 and 2.4 <= large / small <= 3.6


def test_an_export_keeps_the_legend_of_the_data_shown(export_view, tmp_path):
    assert "test (hollow)" in export_view.legend_labels()
    X, y = make_hard(300, seed=2)
    export_view.set_data(X, y)
    assert "test (hollow)" not in export_view.legend_labels()
    export_view.save_png(tmp_path / "map.png", width=800)
    assert QImage(str(tmp_path / "map.png")).width() == 800


def test_render_state_renders_what_the_view_shows(export_view):
    state = export_view.render_state()
    np.testing.assert_array_equal(state["theta"], THETA)
    assert state["layout"] == LAYOUT and state["title"] == export_view.title and not state["discretize"]
    assert state["extent"] == pytest.approx(export_view.extent)
    image = render_map(**state, width=900)
    assert image.width() == 900 and image.height() > 100
    export_view.set_discretize(True)
    assert export_view.render_state()["discretize"]


def _render(**options):
    X, y = make_hard(500, seed=3)
    return render_map(THETA, LAYOUT, "relu", X, y, title="threaded", **options)


def test_render_map_works_from_a_python_thread():
    here = _render(width=700)
    result = {}
    thread = threading.Thread(target=lambda: result.update(image=_render(width=700)))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    there = result["image"]
    assert there.size() == here.size()
    difference = np.abs(_pixels(there).astype(int) - _pixels(here).astype(int))
    assert difference.max() <= 1  # the same picture


def test_render_map_reports_progress_and_stops_when_cancelled():
    layout = Layout((2, 64, 64, 1))  # enough arithmetic for many row blocks
    theta = init_params(layout.shape, 0)
    X, y = make_hard(200, seed=3)
    fractions = []
    image = render_map(theta, layout, "relu", X, y, width=2000, progress=fractions.append)
    assert image is not None and image.width() == 2000
    assert len(fractions) > 5 and fractions == sorted(fractions) and fractions[-1] == 1.0
    fractions.clear()
    image = render_map(theta, layout, "relu", X, y, width=2000, progress=fractions.append,
                       cancelled=lambda: len(fractions) >= 2)
    assert image is None and len(fractions) == 2 and fractions[-1] < 0.5


def test_render_map_refuses_bad_sizes():
    X, y = make_hard(52, seed=3)
    with pytest.raises(ValueError, match="width=8: must be an integer from 16 to 16384"):
        render_map(THETA, LAYOUT, "relu", X, y, width=8)
    with pytest.raises(ValueError, match="height"):
        render_map(THETA, LAYOUT, "relu", X, y, width=100, height=10**6)
    with pytest.raises(ValueError, match="theta"):
        render_map(THETA[:-1], LAYOUT, "relu", X, y, width=100)


# ---- 3. large scatters are drawn as a shared subset ----------------------------------------------------


def test_many_points_are_drawn_as_one_shared_subset_keeping_the_class_shares(qtbot):
    X, y = make_hard(200_000, seed=5)
    X_train, y_train, X_test, y_test = split_train_test(X, y.ravel(), 0.25, 0)
    panel = shown(qtbot, MapsPanel(compact_resolution=20, large_resolution=20), 700, 500)
    panel.set_runs([(k, f"r{k}", "#1f77b4") for k in range(4)])
    panel.set_data(X_train, y_train, X_test, y_test)
    large, small = panel.large.drawn_points(), panel.map_view(0).drawn_points()
    for drawn_points, cap in ((large, MAX_DRAWN_POINTS), (small, COMPACT_DRAWN_POINTS)):
        drawn = sum(len(p) for p in drawn_points)
        assert cap - 4 <= drawn <= cap + 4
        for points, labels, (class0, class1) in ((X_train, y_train, drawn_points[:2]),
                                                 (X_test, y_test, drawn_points[2:])):
            assert (len(class0) + len(class1)) / drawn == pytest.approx(len(points) / len(X), abs=0.002)
            assert len(class1) / (len(class0) + len(class1)) == pytest.approx(labels.mean(), abs=0.003)
            for chosen, label in ((class0, 0), (class1, 1)):  # real points of that class, no duplicates
                pool = {tuple(p) for p in points[labels == label]}
                assert {tuple(p) for p in chosen} <= pool and len({tuple(p) for p in chosen}) == len(chosen)
        note = f"{drawn:,} of 200,000 points drawn"
        view = panel.large if cap == MAX_DRAWN_POINTS else panel.map_view(0)
        assert view.points_note == note
    assert note in panel.map_view(0).toolTip()
    for a, b in zip(small, large, strict=True):  # a small map draws part of the large map's subset
        assert {tuple(p) for p in a} <= {tuple(p) for p in b}
    for k in range(1, 4):  # every small map the very same points
        for a, b in zip(panel.map_view(k).drawn_points(), small, strict=True):
            np.testing.assert_array_equal(a, b)
    # Few points: all drawn, nothing said.
    panel.set_data(X_train[:500], y_train[:500])
    assert sum(len(p) for p in panel.map_view(2).drawn_points()) == 500 and panel.map_view(2).points_note == ""
    assert "points drawn" not in panel.map_view(2).toolTip()


def test_map_points_is_deterministic_and_checks_its_input():
    X, y = make_hard(50_000, seed=5)
    a, b = map_points(X, y, cap=1000), map_points(X, y, cap=1000)
    for p, q in zip(a.train, b.train, strict=True):
        np.testing.assert_array_equal(p, q)
    assert a.drawn == 1000 and a.subsampled and a.n_test == 0
    with pytest.raises(ValueError, match="cap=0: must be an integer of at least 1"):
        map_points(X, y, cap=0)
    with pytest.raises(ValueError, match="y_test: expected 3 labels"):
        map_points(X, y, X[:3], y[:2])


# ---- 4. the legend follows the test set ----------------------------------------------------------------


def test_the_test_legend_entry_goes_when_the_test_set_is_empty(qtbot):
    X, y = make_hard(1000, seed=1)
    panel = shown(qtbot, MapsPanel(compact_resolution=20, large_resolution=20), 700, 500)
    panel.set_runs([(1, "a", "#1f77b4")])
    panel.show_large(1)
    panel.set_data(X[:800], y[:800], X[800:], y[800:])
    assert panel.large.legend_labels() == ["class 0", "class 1", "test (hollow)", "p = 0.5"]
    panel.set_data(X, y, X[:0], y[:0])  # the test fraction back to 0
    assert panel.large.legend_labels() == ["class 0", "class 1", "p = 0.5"]
    assert sum(len(p) for p in panel.large.drawn_points()[2:]) == 0
    panel.set_data(X[:800], y[:800], X[800:], y[800:])
    panel.set_data(X, y)
    assert "test (hollow)" not in panel.large.legend_labels()


# ---- 5. the title shows the cost and epoch passed --------------------------------------------------------


def test_the_title_shows_exactly_the_cost_and_epoch_passed(qtbot):
    X, y = make_hard(300, seed=1)
    panel = shown(qtbot, MapsPanel(compact_resolution=20, large_resolution=20), 700, 500)
    panel.set_runs([(1, "diverged", "#1f77b4"), (2, "fresh", "#ff7f0e")])
    panel.set_data(X, y)
    panel.show_state(1, THETA, LAYOUT, "relu", 9.21, 1)
    panel.show_state(2, THETA, LAYOUT, "relu", None, 0)
    assert panel.map_view(1).title.endswith("diverged — cost 9.21")
    assert panel.map_view(2).title.endswith("fresh") and "cost" not in panel.map_view(2).title
    panel.show_large(1)
    assert panel.large.title.endswith("diverged — epoch 1 — cost 9.21")
    panel.show_state(1, THETA, LAYOUT, "relu", 0.741, 7)
    assert panel.large.title.endswith("diverged — epoch 7 — cost 0.741")
    panel.show_state(1, THETA, LAYOUT, "relu", float("inf"), 8)
    assert panel.large.title.endswith("diverged — epoch 8 — diverged")
    panel.show_large(2)
    assert panel.large.title.endswith("fresh — epoch 0") and "cost" not in panel.large.title


# ---- 6. readable at the window's minimum size --------------------------------------------------------------


@pytest.mark.parametrize("data", ["hard", "moons"])
def test_four_maps_fit_a_500_by_300_pane_without_overlapping(qtbot, data):
    X, y = make_hard(500, seed=1) if data == "hard" else make_moons(500, seed=1)
    panel = shown(qtbot, MapsPanel(compact_resolution=20, large_resolution=20), 500, 300)
    panel.set_runs([(k, f"run {k}", "#1f77b4") for k in range(4)])
    panel.set_data(X, y)
    for k in range(4):
        panel.show_state(k, THETA, LAYOUT, "relu", 0.5, 3)
    qtbot.wait(10)
    rects = [panel.map_view(k).geometry() for k in range(4)]
    area = panel.rect()
    for k, rect in enumerate(rects):
        view = panel.map_view(k)
        assert view.isVisible() and rect.height() >= 100 and rect.width() >= 100
        top_left = view.mapTo(panel, rect.topLeft() - rect.topLeft())
        assert area.contains(top_left) and area.contains(top_left + rect.bottomRight() - rect.topLeft())
        assert view.plot.vb.height() >= 60  # the map itself, under its title
        for other in rects[k + 1:]:
            assert not rect.intersects(other)
    panel.show_large(2)
    qtbot.wait(10)
    assert panel.large.plot.vb.height() >= 100 and panel.large.height() <= 300


def test_save_png_writes_atomically_and_leaves_an_old_file_on_failure(export_view, tmp_path, monkeypatch):
    path = tmp_path / "map.png"
    path.write_bytes(b"old")
    monkeypatch.setattr("nnviz.core.files.os.replace", lambda *args: (_ for _ in ()).throw(OSError(28, "full")))
    with pytest.raises(OSError, match="map.png"):
        export_view.save_png(path, width=300)
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]
    monkeypatch.undo()
    export_view.save_png(path, width=300)
    assert QImage(str(path)).width() == 300


# ---- 7. the readout under the cursor ------------------------------------------------------------------------


def _hover(qtbot, view, x1, x2):
    """Move the mouse over the data point (x1, x2) of the view; the ``hovered`` signal's (x1, x2, p)."""
    position = view.mapFromScene(view.plot.vb.mapViewToScene(QPointF(x1, x2)))
    with qtbot.waitSignal(view.hovered, timeout=3000) as blocker:
        QTest.mouseMove(view.viewport(), position)
    return blocker.args


def _number(text):
    """A number as the readout writes it ("−1.03", "1 − 2e-07") as a float."""
    text = text.replace("\u2212", "-")
    return 1 - float(text[4:]) if text.startswith("1 - ") else float(text)


def _readout(view):
    """(x1, x2, p) read from the readout's text."""
    match = re.fullmatch(r"x₁ = (\S+), x₂ = (\S+), P\(class 1\) = (.+)", view.readout_text())
    assert match, view.readout_text()
    return tuple(_number(part) for part in match.groups())


@pytest.fixture
def hover_view(qtbot):
    X, y = make_moons(300, seed=0)
    view = shown(qtbot, BoundaryView(resolution=40), 600, 450)
    view.set_data(X, y)
    view.set_model(THETA, LAYOUT, "relu")
    qtbot.wait(10)
    return view


def test_the_readout_shows_the_point_under_the_cursor_and_the_networks_probability_there(qtbot, hover_view):
    view = hover_view
    assert view.readout_text() == ""
    x_min, x_max, y_min, y_max = view.extent
    pixel_x, pixel_y = view.plot.vb.viewPixelSize()
    probabilities = set()
    for fx, fy in ((0.5, 0.5), (0.2, 0.8), (0.85, 0.15), (0.63, 0.41)):
        x1, x2 = x_min + fx * (x_max - x_min), y_min + fy * (y_max - y_min)
        h1, h2, p = _hover(qtbot, view, x1, x2)
        assert abs(h1 - x1) <= pixel_x and abs(h2 - x2) <= pixel_y  # the point under the cursor
        assert p == pytest.approx(predict(THETA, LAYOUT, np.array([[h1, h2]]), "relu")[0, 0], abs=1e-6)
        r1, r2, rp = _readout(view)
        assert r1 == pytest.approx(h1, abs=pixel_x) and r2 == pytest.approx(h2, abs=pixel_y)
        assert rp == pytest.approx(p, abs=5e-4, rel=0.05)
        assert f"P(class 1) = {format_probability(p)}" in view.readout_text()
        probabilities.add(round(p, 3))
    assert len(probabilities) > 1  # the points differ: a constant would not pass


def test_the_readout_hides_when_the_mouse_leaves_the_plot(qtbot, hover_view):
    view = hover_view
    x_min, x_max, y_min, y_max = view.extent
    _hover(qtbot, view, (x_min + x_max) / 2, (y_min + y_max) / 2)
    assert view.readout_text().startswith("x₁ = ")
    rect = view.plot.vb.sceneBoundingRect()  # onto the x₂ axis, left of the plot
    QTest.mouseMove(view.viewport(), view.mapFromScene(QPointF(rect.left() - 20, rect.center().y())))
    qtbot.waitUntil(lambda: view.readout_text() == "", timeout=3000)
    _hover(qtbot, view, x_min + 0.3 * (x_max - x_min), (y_min + y_max) / 2)
    assert view.readout_text() != ""
    QApplication.sendEvent(view, QEvent(QEvent.Type.Leave))  # out of the window
    assert view.readout_text() == ""


def test_the_readout_follows_a_new_map_under_a_resting_cursor(qtbot, hover_view):
    view = hover_view
    x1, x2, p = _hover(qtbot, view, *view.extent[::2])  # near the lower left corner
    x_min, x_max, y_min, y_max = view.extent
    h1, h2, _ = _hover(qtbot, view, x_min + 0.3 * (x_max - x_min), y_min + 0.6 * (y_max - y_min))
    other = -THETA
    with qtbot.waitSignal(view.hovered, timeout=3000) as blocker:
        view.set_model(other, LAYOUT, "relu")
    assert blocker.args[2] == pytest.approx(predict(other, LAYOUT, np.array([[h1, h2]]), "relu")[0, 0], abs=1e-6)
    assert f"P(class 1) = {format_probability(blocker.args[2])}" in view.readout_text()


def test_the_readout_shows_the_grid_value_after_set_probabilities(qtbot):
    view = shown(qtbot, BoundaryView(resolution=20), 600, 450)
    view.set_data(np.array([[-1.0, -1.0], [1.0, 1.0]]), np.array([0, 1]))
    x1, x2, p = _hover(qtbot, view, 0.1, 0.2)
    assert math.isnan(p) and "P(class 1)" not in view.readout_text()  # no map yet: the coordinates only
    grid = (np.arange(400) / 400).astype(np.float32).reshape(20, 20)  # a different value in every cell
    view.set_probabilities(grid, view.extent)
    xs, ys = view.grid_xs, view.grid_ys
    for row, column in ((3, 7), (12, 15), (18, 2)):  # at cell centres: a pixel off stays in the cell
        x1, x2, p = _hover(qtbot, view, xs[column], ys[row])
        assert p == grid[row, column]
        assert view.readout_text().endswith(f"P(class 1) = {format_probability(grid[row, column])}")


def test_a_compact_map_shows_only_the_probability(qtbot):
    view = shown(qtbot, BoundaryView(resolution=20, compact=True), 250, 200)
    view.set_data(*make_moons(100, seed=0))
    view.set_model(THETA, LAYOUT, "relu")
    x_min, x_max, y_min, y_max = view.extent
    x1, x2, p = _hover(qtbot, view, (x_min + x_max) / 2, (y_min + y_max) / 2)
    assert p == pytest.approx(predict(THETA, LAYOUT, np.array([[x1, x2]]), "relu")[0, 0], abs=1e-6)
    assert view.readout_text() == f"P(class 1) = {format_probability(p)}"


def test_format_probability_never_rounds_a_saturated_output_to_0_or_1():
    assert format_probability(0.8734) == "0.873" and format_probability(0.001) == "0.001"
    assert format_probability(3.4e-7) == "3.4e-07" and format_probability(0.0) == "0"
    assert format_probability(1 - 2e-9).startswith("1 \u2212 2") and format_probability(1.0) == "1"
    assert format_probability(float("nan")) == "–"


def test_format_coordinate_shows_the_digits_one_pixel_resolves():
    assert format_coordinate(0.41234, 0.005) == "0.412" and format_coordinate(-1.0312, 0.02) == "\u22121.03"
    assert format_coordinate(-1.0312, 0.005) == "\u22121.031"  # a pixel of 0.005 resolves the third decimal
    assert format_coordinate(123456.7, 5000.0) == "1.23e+05"  # a pixel wider than the third digit: 3 digits
    assert format_coordinate(1.234567, 1e-5) == "1.23457"  # zoomed in: down to the pixel
