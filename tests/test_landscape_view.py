"""The landscape view: the cost over the runs' plane on a log colour scale, the paths, markers, readout (pytest-qt)."""

import math

import numpy as np
import pytest
from helpers import shown
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nnviz.core.landscape import Landscape, Path, Plane
from nnviz.gui.landscape_paths import MAX_DRAWN_POINTS
from nnviz.gui.landscape_view import LandscapeView

PLANE = Plane(np.zeros(3), np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))


def bowl(a, b):
    """A fake landscape: a quadratic bowl, minimum 0.015 at (3, 1), a few decades of cost over the grid."""
    return 0.015 + 0.35 * (0.6 * (a - 3) ** 2 + 2.5 * (b - 1) ** 2 + 0.8 * (a - 3) * (b - 1))


def path(name, colour, a, b, share=0.9, cost=None, epochs=None):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    epochs = np.arange(len(a)) * 10 if epochs is None else np.asarray(epochs)
    return Path(name, colour, epochs, a, b, bowl(a, b) if cost is None else np.asarray(cost), share)


def spiral(n=80, turns=2.0):
    t = np.linspace(0, 1, n)
    return 3 - 3 * np.exp(-3 * t) * np.cos(2 * np.pi * turns * t), 1 - np.exp(-3 * t) * np.cos(2 * np.pi * turns * t)


def three_paths():
    t = np.linspace(0, 1, 60)
    zig = 3 * (1 - np.exp(-3 * t)), (1 - np.exp(-3 * t)) + 0.4 * np.exp(-3 * t) * (-1) ** np.arange(60)
    return [path("momentum", "#1f77b4", *spiral(), share=0.97),
            path("sgd", "#ff7f0e", *zig, share=0.8123, cost=1.5 * bowl(*zig)),  # its own cost: above the plane's
            path("decay", "#2ca02c", 2.8 * t, 0.9 * t ** 2, share=0.999)]


def landscape(paths=None, resolution=61):
    a = np.linspace(-1.2, 5.2, resolution)
    b = np.linspace(-1.8, 3.4, resolution)
    A, B = np.meshgrid(a, b)  # cost[i, j] at (a[j], b[i])
    return Landscape(PLANE, a, b, bowl(A, B), three_paths() if paths is None else paths)


@pytest.fixture
def view(qtbot):
    return shown(qtbot, LandscapeView(), 760, 620)


def test_each_path_is_drawn_at_its_coordinates(view):
    land = landscape()
    view.show_landscape(land)
    drawn = view.path_items()
    assert list(drawn) == ["momentum", "sgd", "decay"]
    for p in land.paths:
        np.testing.assert_array_equal(drawn[p.name][0], p.a)
        np.testing.assert_array_equal(drawn[p.name][1], p.b)
    moved = path("momentum", "#1f77b4", [0.0, 1.0, 2.0], [0.0, -0.5, 0.25])
    view.set_paths([moved])  # a run gone, a run moved
    assert list(view.path_items()) == ["momentum"]
    np.testing.assert_array_equal(view.path_items()["momentum"][0], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(view.path_items()["momentum"][1], [0.0, -0.5, 0.25])


def test_a_long_path_draws_at_most_the_cap_of_its_own_points_first_and_last_included(view):
    n = 20_000
    t = np.linspace(0, 1, n)
    a = 3 * t + 0.3 * (-1) ** np.arange(n) * np.exp(-2 * t)  # a zig-zag of 20,000 points
    b = t
    view.show_landscape(landscape([path("long", "#d62728", a, b)]))
    x, y = view.path_items()["long"]
    assert 100 < len(x) <= MAX_DRAWN_POINTS + 1
    index = np.flatnonzero(np.isin(a, x))
    np.testing.assert_array_equal(a[index], x)  # real points, in epoch order
    np.testing.assert_array_equal(b[index], y)
    assert (x[0], y[0]) == (a[0], b[0]) and (x[-1], y[-1]) == (a[-1], b[-1])


def test_a_path_growing_frame_by_frame_draws_as_the_whole_path_at_once(qtbot, view):
    a, b = spiral(400, turns=3)
    whole = path("momentum", "#1f77b4", a, b, cost=1.3 * bowl(a, b))
    view.show_landscape(landscape([path("momentum", "#1f77b4", a[:5], b[:5], cost=whole.cost[:5])]))
    for k in range(6, 401, 7):
        view.set_paths([Path("momentum", "#1f77b4", whole.epochs[:k], a[:k], b[:k], whole.cost[:k], 0.9)])
    view.set_paths([whole])
    other = shown(qtbot, LandscapeView(), 760, 620)
    other.show_landscape(landscape([path("momentum", "#1f77b4", a[:5], b[:5], cost=whole.cost[:5])]))
    other.set_paths([whole])
    for mine, theirs in zip(view.path_items()["momentum"], other.path_items()["momentum"], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(view.path_items()["momentum"][0], a)  # (no point of it is dropped)
    for mine, theirs in zip(view.point_colours()["momentum"], other.point_colours()["momentum"], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert len(view.point_colours()["momentum"][1]) == 400


def test_markers_sit_at_the_newest_point_at_or_before_the_epoch(view):
    first = path("momentum", "#1f77b4", [0.0, 1.0, 2.0, 3.0], [0.0, 0.5, 0.7, 0.9], epochs=[0, 5, 10, 20])
    late = path("adam", "#9467bd", [0.0, -1.0, -2.0], [0.0, 1.0, 2.0], epochs=[4, 8, 12])
    view.show_landscape(landscape([first, late]))
    assert view.marker_positions() == {"momentum": (3.0, 0.9), "adam": (-2.0, 2.0)}  # None at first: the newest
    view.set_marker(12)
    assert view.marker_positions() == {"momentum": (2.0, 0.7), "adam": (-2.0, 2.0)}
    view.set_marker(9)
    assert view.marker_positions() == {"momentum": (1.0, 0.5), "adam": (-1.0, 1.0)}
    view.set_marker(3)
    assert view.marker_positions() == {"momentum": (0.0, 0.0)}  # adam has no point that early
    view.set_paths([path("momentum", "#1f77b4", [0.0, 4.0], [0.0, 4.0], epochs=[0, 2])])
    assert view.marker_positions() == {"momentum": (4.0, 4.0)}  # the marker follows new points
    view.set_marker(None)
    assert view.marker_positions() == {"momentum": (4.0, 4.0)}


def test_a_cells_colour_is_that_of_log_cost_between_the_bars_ends(view):
    land = landscape()
    view.show_landscape(land)
    low, high = view.colour_bar.levels()
    every_cost = np.concatenate([land.cost.ravel(), *(p.cost for p in land.paths)])
    assert low == pytest.approx(math.log10(every_cost.min())) and high == pytest.approx(math.log10(every_cost.max()))
    colormap = view.colour_bar.colorMap()
    cells = view.cell_colours()
    assert cells.shape == (61, 61, 4)
    rng = np.random.default_rng(0)
    for i, j in [(30, 30), (0, 0), (60, 60), (37, 45), *rng.integers(0, 61, (40, 2))]:
        expected = colormap.map((math.log10(land.cost[i, j]) - low) / (high - low), mode="byte")
        np.testing.assert_array_equal(cells[i, j], expected, err_msg=f"cell {(i, j)}, cost {land.cost[i, j]}")
    # On a log scale a cost 10 times another is as many bands up at the bottom as at the top of the range.
    assert len(np.unique(cells.reshape(-1, 4), axis=0)) == len(view.levels()) + 1
    levels = np.array(view.levels())
    assert np.all(np.diff(levels) > 0) and levels[0] > every_cost.min() and levels[-1] < every_cost.max()
    assert {float(f"{v:.1e}"[:3]) for v in levels} <= {1.0, 2.0, 5.0}  # round levels over 3 decades


def test_path_points_are_coloured_by_the_runs_own_cost_not_the_planes(view):
    land = landscape()
    view.show_landscape(land)
    low, high = view.colour_bar.levels()
    colormap = view.colour_bar.colorMap()
    sgd = land.paths[1]  # its own cost is 1.5 times the plane's under it
    index, colours = view.point_colours()["sgd"]
    own = colormap.map((np.log10(sgd.cost[index]) - low) / (high - low), mode="byte")
    plane = colormap.map((np.log10(bowl(sgd.a[index], sgd.b[index])) - low) / (high - low), mode="byte")
    np.testing.assert_array_equal(colours, own)
    assert (colours != plane).any(axis=1).sum() >= 10  # the eye sees where they differ


def test_the_legend_names_each_run_with_its_captured_share(view):
    view.show_landscape(landscape())
    assert view.legend_labels() == ["momentum — 97 % of its displacement in the plane",
                                    "sgd — 81 % of its displacement in the plane",
                                    "decay — 99.9 % of its displacement in the plane",
                                    "θ₀, the common start"]
    a, b = spiral()
    view.set_paths([path("momentum", "#1f77b4", a, b, share=0.5)])
    assert view.legend_labels() == ["momentum — 50 % of its displacement in the plane", "θ₀, the common start"]


def _move(qtbot, view, a, b):
    """Move the pointer over (a, b) of the plot; the ``hovered`` signal's (a, b, cost)."""
    position = view.canvas.mapFromScene(view.plot.vb.mapViewToScene(QPointF(a, b)))
    with qtbot.waitSignal(view.hovered, timeout=3000) as blocker:
        QTest.mouseMove(view.canvas.viewport(), position)
    return blocker.args


def _bilinear(land, a, b):
    j = min(int((a - land.a[0]) / (land.a[1] - land.a[0])), len(land.a) - 2)
    i = min(int((b - land.b[0]) / (land.b[1] - land.b[0])), len(land.b) - 2)
    u = (a - land.a[j]) / (land.a[j + 1] - land.a[j])
    v = (b - land.b[i]) / (land.b[i + 1] - land.b[i])
    c = land.cost
    return (1 - v) * ((1 - u) * c[i, j] + u * c[i, j + 1]) + v * ((1 - u) * c[i + 1, j] + u * c[i + 1, j + 1])


def test_the_readout_gives_the_planes_cost_under_the_pointer(qtbot, view):
    land = landscape([])
    view.show_landscape(land)
    assert view.readout_text() == ""
    assert view.plane_cost(land.a[40], land.b[12]) == land.cost[12, 40]
    a, b, cost = _move(qtbot, view, 4.1, -0.7)
    assert a == pytest.approx(4.1, abs=0.05) and b == pytest.approx(-0.7, abs=0.05)
    assert cost == pytest.approx(_bilinear(land, a, b), rel=1e-12)
    assert cost == pytest.approx(bowl(a, b), rel=0.02)  # the bowl itself, between grid points
    text = view.readout_text()
    assert text.startswith("a = 4.") and ", b = \u22120." in text
    assert text.endswith(f"the plane's cost {cost:.3g}")
    QApplication.sendEvent(view.canvas, QEvent(QEvent.Type.Leave))
    assert view.readout_text() == ""
    assert math.isnan(view.plane_cost(50.0, 0.0))


def test_over_a_path_point_the_readout_compares_its_own_cost_with_the_planes(qtbot, view):
    cost = [0.9, 0.5, 0.123, 0.08]
    run = path("sgd", "#ff7f0e", [0.0, 1.0, 2.0, 2.5], [0.0, 0.2, 0.6, 0.8], cost=cost, epochs=[0, 10, 20, 30])
    land = landscape([run])
    view.show_landscape(land)
    _move(qtbot, view, 2.0, 0.6)
    lines = view.readout_text().split("\n")
    assert lines[1] == f"“sgd”, epoch 20: its cost 0.123, the plane's {_bilinear(land, 2.0, 0.6):.3g}"
    _move(qtbot, view, 2.5 + 3 * view.plot.vb.viewPixelSize()[0], 0.8)  # 3 pixels off the point: still it
    assert view.readout_text().split("\n")[1].startswith("“sgd”, epoch 30: its cost 0.08,")
    _move(qtbot, view, 2.0, -1.2)  # far from every point
    assert len(view.readout_text().split("\n")) == 1


def test_refit_and_cancel_buttons_emit_and_the_progress_line_follows(qtbot, view):
    with qtbot.waitSignal(view.refit_requested, timeout=1000):
        qtbot.mouseClick(view.refit_button, Qt.MouseButton.LeftButton)
    assert not view.cancel_button.isVisible()
    view.set_progress(0.4)
    assert view.status_text() == "computing the landscape… 40 %"
    assert view.cancel_button.isVisible() and not view.refit_button.isEnabled()
    with qtbot.waitSignal(view.cancel_requested, timeout=1000):
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    view.set_progress(0.999)
    assert view.status_text() == "computing the landscape… 99 %"
    view.set_progress(None)
    assert not view.cancel_button.isVisible() and view.refit_button.isEnabled()
    assert "computing" not in view.status_text()
    with pytest.raises(ValueError, match=r"fraction=1\.5: must be from 0 to 1"):
        view.set_progress(1.5)
    view.show_landscape(landscape())
    assert view.status_text() == "plane fitted to the paths up to epoch 790"


def test_a_bad_landscape_is_refused_naming_the_field(view):
    land = landscape()
    bad = Landscape(PLANE, land.a, land.b, land.cost[:, :-1], [])
    with pytest.raises(ValueError, match=r"landscape\.cost: expected shape"):
        view.show_landscape(bad)


def test_a_diverged_cell_is_drawn_in_the_top_colour(view):
    land = landscape([])
    cost = land.cost.copy()
    cost[5, 7] = np.inf
    cost[6, 7] = np.nan
    view.show_landscape(Landscape(PLANE, land.a, land.b, cost, []))
    top = view.colour_bar.colorMap().map(1.0, mode="byte")
    np.testing.assert_array_equal(view.cell_colours()[5, 7], top)
    np.testing.assert_array_equal(view.cell_colours()[6, 7], top)
    assert math.isfinite(view.colour_bar.levels()[1])


def test_the_colour_bars_title_does_not_cover_its_tick_labels(qtbot, view):
    land = landscape([])
    # Costs within a few percent of one another (an untrained network): tick labels such as "0.694".
    view.show_landscape(Landscape(PLANE, land.a, land.b, 0.67 + 0.004 * land.cost, []))
    view.grab()  # paint: the axis learns its labels' width
    qtbot.wait(50)
    view.grab()
    axis = view.colour_bar.getAxis("right")
    labels = view.colour_bar_labels()
    assert len(labels) >= 3
    widest = max(QFontMetricsF(axis.style["tickFont"] or QFont()).horizontalAdvance(text) for text in labels)
    ticks_end = axis.sceneBoundingRect().left() + max(0, axis.style["tickLength"]) + axis.style["tickTextOffset"][0] \
        + widest
    title = axis.label.mapRectToScene(axis.label.boundingRect())
    assert title.left() >= ticks_end - 1, (title.left(), ticks_end)
    assert title.right() <= view.canvas.sceneRect().right() + 1  # and it is not pushed out of the picture


def test_a_run_still_at_the_start_is_not_said_to_lie_in_the_plane(view):
    moved = path("sgd", "#ff7f0e", [0.0, 1.0, 2.0], [0.0, 0.5, 0.7], share=0.93)
    still = Path("adam", "#9467bd", np.array([0]), np.zeros(1), np.zeros(1), np.array([0.7]), 1.0)
    view.show_landscape(landscape([moved, still]))
    assert view.legend_labels() == ["sgd — 93 % of its displacement in the plane",
                                    "adam — at θ₀, not trained yet", "θ₀, the common start"]


def test_the_status_names_the_epoch_the_plane_was_fitted_at_not_the_newest_grids(view):
    early = landscape([path("sgd", "#ff7f0e", [0.0, 1.0], [0.0, 0.5], epochs=[0, 1])])
    view.show_landscape(early)
    assert view.status_text() == "plane fitted to the paths up to epoch 1"
    later = landscape([path("sgd", "#ff7f0e", [0.0, 1.0, 2.0, 3.0], [0.0, 0.5, 0.7, 0.9], epochs=[0, 1, 80, 150])])
    view.show_landscape(later)  # the same plane, its grid computed again over the longer path
    assert view.status_text() == "plane fitted to the paths up to epoch 1"
    refitted = Plane(np.zeros(3), np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]))
    view.show_landscape(Landscape(refitted, later.a, later.b, later.cost, later.paths))
    assert view.status_text() == "plane fitted to the paths up to epoch 150"


@pytest.mark.parametrize("fill", [0.6931, np.inf])
def test_a_flat_or_wholly_diverged_grid_is_drawn(view, fill):
    land = landscape([])
    # A flat cost (every point the same) or a grid where training diverged everywhere: no band level between
    # the scale's ends; the bar still has ticks, nothing raises (found by the monkey test).
    view.show_landscape(Landscape(PLANE, land.a, land.b, np.full_like(land.cost, fill), []))
    view.grab()
    assert view.colour_bar_labels()


def test_a_narrow_range_of_costs_still_gets_its_levels_and_ticks(view):
    # An untrained network's costs all within 0.1 % (found by the monkey test: 0.69309 .. 0.69398, where levels
    # rounded to 3 digits all fell outside the range and the bar had no tick).
    land = landscape([])
    low, high = 0.6930887102826082, 0.6939777432428748
    cost = low + (high - low) * (land.cost - land.cost.min()) / np.ptp(land.cost)
    view.show_landscape(Landscape(PLANE, land.a, land.b, cost, []))
    levels = view.levels()
    assert len(levels) >= 3 and all(low < v < high for v in levels)
    assert len(view.colour_bar_labels()) >= 2
