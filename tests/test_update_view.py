"""The update-size view: one line per weight layer of ‖W_e − W_{e−1}‖ / ‖W_{e−1}‖, from a real run (pytest-qt)."""

import numpy as np
import pytest
from helpers import shown
from PySide6.QtCore import QPointF

from nnviz.core.health import UpdateSizes
from nnviz.core.network import Layout, init_params
from nnviz.core.training import TrainConfig, Trainer
from nnviz.gui.update_view import HINT, MAX_DRAWN_POINTS, UpdateSizesView, envelope, layer_names


def _trained(shape=(2, 3, 4, 1), epochs=30, **options):
    """(UpdateSizes filled from a real run, the records' params by epoch)."""
    trainer = Trainer(TrainConfig(shape=shape, epochs=epochs, n_samples=200, **options))
    records = list(trainer)
    sizes = UpdateSizes(Layout(shape), records[0].params)
    for record in records[1:]:
        sizes.add(record.epoch, record.params)
    return sizes, [record.params for record in records]


def _by_hand(params, layout):
    """Per layer: the update size of every epoch ≥ 1, from consecutive parameter vectors."""
    out = []
    for layer in range(layout.n_layers):
        weights = [layout.views(p)[layer][0] for p in params]
        pairs = zip(weights[:-1], weights[1:], strict=True)
        out.append(np.array([np.linalg.norm(w - v) / np.linalg.norm(v) for v, w in pairs]))
    return out


@pytest.fixture
def view(qtbot):
    return shown(qtbot, UpdateSizesView(), 500, 300)


def test_each_line_is_the_layers_update_size_computed_by_hand(view):
    shape = (2, 3, 4, 1)
    sizes, params = _trained(shape)
    view.show_run(sizes, "momentum", "#1f77b4", shape)
    lines = view.lines()
    assert list(lines) == ["layer 1: 2→3", "layer 2: 3→4", "output: 4→1"]
    for (epochs, drawn), expected in zip(lines.values(), _by_hand(params, Layout(shape)), strict=True):
        np.testing.assert_array_equal(epochs, np.arange(1, 31))
        np.testing.assert_allclose(drawn, expected, rtol=1e-9)
        assert drawn.std() > 0  # a real curve, not a constant
    assert view.title == "update size — “momentum”"
    assert "1e-3" in view.toolTip() and view.toolTip() == HINT


@pytest.mark.parametrize("shape", [(2, 1), (2, 8, 1), (2, 5, 6, 7, 1), (2, 4, 4, 4, 4, 4, 1)])
def test_one_line_per_weight_layer_in_distinct_colours(view, shape):
    sizes, _ = _trained(shape, epochs=3)
    view.show_run(sizes, "a", "#ff7f0e", shape)
    lines = view.lines()
    assert list(lines) == layer_names(shape) and len(lines) == len(shape) - 1
    assert list(lines)[-1] == f"output: {shape[-2]}→1"
    assert all(len(x) == 3 for x, _ in lines.values())
    colours = {item.opts["pen"].color().name() for item in view.plot.listDataItems()}
    assert len(colours) == len(shape) - 1
    labels = [label.text for _, label in view.legend.items]
    assert labels == layer_names(shape)


def test_refresh_draws_the_epochs_added_since(view):
    shape = (2, 3, 1)
    layout = Layout(shape)
    trainer = Trainer(TrainConfig(shape=shape, epochs=20, n_samples=200))
    records = iter(trainer)
    first = next(records)
    sizes = UpdateSizes(layout, first.params)
    params = [first.params]
    view.show_run(sizes, "sgd", "#1f77b4", shape)
    assert all(len(x) == 0 for x, _ in view.lines().values())
    for done in (5, 20):
        while len(params) <= done:
            record = next(records)
            sizes.add(record.epoch, record.params)
            params.append(record.params)
        view.refresh()
        for (epochs, drawn), expected in zip(view.lines().values(), _by_hand(params, layout), strict=True):
            np.testing.assert_array_equal(epochs, np.arange(1, done + 1))
            np.testing.assert_allclose(drawn, expected, rtol=1e-9)


def test_another_run_replaces_the_lines_and_none_clears_them(view):
    a, _ = _trained((2, 3, 1), epochs=4)
    b, params = _trained((2, 3, 1), epochs=6, learning_rate=0.1)
    view.show_run(a, "a", "#1f77b4", (2, 3, 1))
    view.show_run(b, "b", "#ff7f0e", (2, 3, 1))
    assert view.title == "update size — “b”"
    for (epochs, drawn), expected in zip(view.lines().values(), _by_hand(params, Layout((2, 3, 1))), strict=True):
        np.testing.assert_array_equal(epochs, np.arange(1, 7))
        np.testing.assert_allclose(drawn, expected, rtol=1e-9)
    view.show_run(None, "", "#000000", (2, 3, 1))
    assert view.lines() == {} and view.title == "update size"
    view.refresh()  # nothing to draw: no error


def test_the_marker_follows_set_marker(view):
    sizes, _ = _trained(epochs=5)
    view.show_run(sizes, "a", "#1f77b4", (2, 3, 4, 1))
    assert view.marker_epoch is None
    view.set_marker(3)
    assert view.marker_epoch == 3
    view.set_marker(0)
    assert view.marker_epoch == 0
    view.set_marker(None)
    assert view.marker_epoch is None


def test_zero_and_non_finite_sizes_are_skipped_on_the_log_axis(view):
    layout = Layout((2, 2, 1))
    params = init_params(layout.shape, 0)
    sizes = UpdateSizes(layout, params)
    sizes.add(1, params.copy())  # no change: 0 on every layer
    changed = params * 1.5
    sizes.add(2, changed)
    diverged = changed.copy()
    diverged[0] = np.inf
    with np.errstate(invalid="ignore"):
        sizes.add(3, diverged)  # layer 1 inf, output still finite
        sizes.add(4, diverged * 1.0)  # layer 1: inf - inf = nan
    view.show_run(sizes, "odd", "#1f77b4", layout.shape)
    lines = view.lines()
    x1, y1 = lines["layer 1: 2→2"]
    np.testing.assert_array_equal(x1, [2])
    np.testing.assert_allclose(y1, [0.5])
    x2, y2 = lines["output: 2→1"]
    np.testing.assert_array_equal(x2, [2])  # epochs 3 and 4: the output's weights did not change (0)
    view.grab()  # draws without error
    assert view.note == ""  # something is drawn


def test_a_run_whose_weights_never_change_says_so(view):
    layout = Layout((2, 2, 1))
    params = init_params(layout.shape, 0)
    sizes = UpdateSizes(layout, params)
    view.show_run(sizes, "stuck", "#1f77b4", layout.shape)
    assert view.note == ""  # no epoch yet: nothing to say
    for epoch in (1, 2, 3):
        sizes.add(epoch, params.copy())
    view.refresh()
    assert view.note.startswith("no update so far: every ‖ΔW‖ is 0")
    sizes.add(4, params * 1.1)
    view.refresh()
    assert view.note == ""


def test_a_long_run_is_drawn_as_at_most_max_points_real_points_per_line(view):
    layout = Layout((2, 3, 1))
    rng = np.random.default_rng(0)
    params = init_params(layout.shape, 0)
    sizes = UpdateSizes(layout, params, capacity=8192)
    for epoch in range(1, 10001):  # past the capacity: thinned to every 2nd epoch
        params = params + rng.normal(0, 1e-3, params.shape) * (10 if epoch == 7778 else 1)  # one spike
        sizes.add(epoch, params)
    view.show_run(sizes, "long", "#1f77b4", layout.shape)
    epochs, ratios = sizes.arrays()
    assert sizes.stride == 2
    for column, (x, y) in enumerate(view.lines().values()):
        assert 100 < len(x) <= MAX_DRAWN_POINTS and np.all(np.diff(x) > 0)
        row = np.searchsorted(epochs, x)
        np.testing.assert_array_equal(epochs[row], x)  # every point drawn is a real one
        np.testing.assert_array_equal(ratios[row, column], y)
        assert y.max() == ratios[:, column].max() and y.min() == ratios[:, column].min()  # the band is kept


def test_envelope_keeps_each_chunks_lowest_and_highest_point():
    x = np.arange(10.0)
    y = np.array([5, 1, 9, 3, 3, 7, 2, 8, 6, 4], dtype=float)
    ex, ey = envelope(x, y, max_points=6)  # 3 chunks of 4, 4, 2
    np.testing.assert_array_equal(ex, [1, 2, 6, 7, 8, 9])
    np.testing.assert_array_equal(ey, [1, 9, 2, 8, 6, 4])
    same = envelope(x, y, max_points=10)
    np.testing.assert_array_equal(same[1], y)


def test_a_shape_that_does_not_match_the_run_is_refused(view):
    sizes, _ = _trained((2, 3, 1), epochs=2)
    with pytest.raises(ValueError, match=r"update_sizes: has 2 weight layers, shape \(2, 3, 4, 1\) has 3"):
        view.show_run(sizes, "a", "#1f77b4", (2, 3, 4, 1))


@pytest.mark.parametrize("n", [2001, 4999, 12345])
def test_envelope_matches_the_lowest_and_highest_point_of_every_chunk(n):
    rng = np.random.default_rng(n)
    x, y = np.arange(n) * 3.0, rng.lognormal(-7, 1, n)
    ex, ey = envelope(x, y, max_points=1000)
    assert len(ex) <= 1000 and np.all(np.diff(ex) > 0)
    per = -(-n // 500)
    expected = set()
    for start in range(0, n, per):
        chunk = slice(start, start + per)
        expected |= {x[chunk][y[chunk].argmin()], x[chunk][y[chunk].argmax()]}
    assert set(ex) == expected
    np.testing.assert_array_equal(ey, y[(ex / 3).astype(int)])


def test_the_legend_covers_no_line(qtbot):
    view = shown(qtbot, UpdateSizesView(), 420, 260)
    shape = (2, 8, 8, 8, 1)
    layout = Layout(shape)
    params = init_params(shape, 3)
    sizes = UpdateSizes(layout, params)
    for epoch in range(1, 41):  # layer k's weights grow by 10^-(k+1) an epoch: flat lines from 0.1 to 1e-4
        params = params.copy()
        for k, (w, _) in enumerate(layout.views(params)):
            w *= 1 + 10.0 ** -(k + 1)
        sizes.add(epoch, params)
    view.show_run(sizes, "flat", "#1f77b4", shape)
    qtbot.wait(10)
    legend = view.legend.mapRectToScene(view.legend.boundingRect())
    vb = view.plot.vb
    for epochs, drawn in view.lines().values():
        np.testing.assert_allclose(drawn, drawn[0], rtol=1e-6)
        for x, y in zip(epochs, drawn, strict=True):
            point = vb.mapViewToScene(QPointF(x, np.log10(y)))
            assert vb.sceneBoundingRect().contains(point) and not legend.contains(point), (x, y)
