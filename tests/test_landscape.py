"""The loss landscape: the plane of the runs' displacements, the paths on it and the cost over it."""

import json
import threading

import numpy as np
import pytest

from nnviz.core import network
from nnviz.core.comparison import Comparison, RunSpec, SharedSettings, notebook_runs, preset_shared
from nnviz.core.landscape import (
    Landscape,
    Path,
    Plane,
    captured_share,
    compute_landscape,
    fit_plane,
    grid_axes,
    grid_cost,
    landscape_json,
    paths_of,
    plane_of,
    project,
)
from nnviz.core.training import Stopped

SMALL = SharedSettings(dataset="moons", n_samples=60, noise=0.2, shape=(2, 4, 3, 1), engine="numpy")


def assert_orthonormal(plane):
    assert np.linalg.norm(plane.d1) == pytest.approx(1, abs=1e-12)
    assert np.linalg.norm(plane.d2) == pytest.approx(1, abs=1e-12)
    assert abs(plane.d1 @ plane.d2) < 1e-12


def projector(u, v):
    """The orthogonal projector onto span(u, v), from an independent orthonormalisation (QR)."""
    q, _ = np.linalg.qr(np.column_stack([u, v]))
    return q @ q.T


@pytest.fixture(scope="module")
def trained():
    """Three runs of a small network trained a few epochs from one start."""
    runs = [RunSpec("slow", learning_rate=0.05, batch_size=8, epochs=6),
            RunSpec("fast", learning_rate=0.3, batch_size=4, momentum=0.5, epochs=5, colour="#ff7f0e"),
            RunSpec("still", learning_rate=0.1, epochs=0, colour="#2ca02c")]
    comparison = Comparison(SMALL, runs)
    comparison.run_to_end()
    return comparison


# ---- the plane -----------------------------------------------------------------------------------


def test_fit_plane_is_orthonormal_and_spans_the_top_two_singular_directions():
    rng = np.random.default_rng(0)
    theta0 = rng.normal(size=12)
    rows = rng.normal(size=(30, 12)) * np.linspace(5, 0.1, 12)  # a clear order of directions
    plane = fit_plane(theta0, rows)
    assert_orthonormal(plane)
    assert np.array_equal(plane.theta0, theta0)
    # Independent reference: the two eigenvectors of DᵀD with the largest eigenvalues.
    values, vectors = np.linalg.eigh(rows.T @ rows)
    top = vectors[:, np.argsort(values)[-2:]]
    np.testing.assert_allclose(projector(plane.d1, plane.d2), top @ top.T, atol=1e-10)
    # d1 is the direction of most displacement: more of it lies along d1 than along d2.
    assert np.sum((rows @ plane.d1) ** 2) > np.sum((rows @ plane.d2) ** 2)
    for array in (plane.theta0, plane.d1, plane.d2):
        assert not array.flags.writeable


@pytest.mark.parametrize("k, size", [(450, 500), (520, 410), (8000, 30)])
def test_large_snapshot_sets_give_the_same_plane(k, size):
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(k, size)) * (1.0 / np.arange(1, size + 1))  # decaying, like a path's spectrum
    plane = fit_plane(np.zeros(size), rows)
    assert_orthonormal(plane)
    _, _, vt = np.linalg.svd(rows, full_matrices=False)  # independent reference
    np.testing.assert_allclose(projector(plane.d1, plane.d2), projector(vt[0], vt[1]), atol=1e-9)


def test_the_reference_point_has_non_negative_coordinates():
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(10, 6))
    for reference in (rows[0], -rows[0], rows[3]):
        plane = fit_plane(np.zeros(6), rows, reference)
        a, b = project(plane, reference)
        assert a >= 0 and b >= 0
    a, b = project(fit_plane(np.zeros(6), rows), rows[-1])  # default: the last row
    assert a >= 0 and b >= 0


def test_a_plane_built_by_hand_is_found_and_captures_its_paths_whole():
    rng = np.random.default_rng(2)
    size = 20
    u, v = np.linalg.qr(rng.normal(size=(size, 2)))[0].T
    theta0 = rng.normal(size=size)
    coefficients = rng.normal(size=(15, 2)) * [3.0, 1.0]
    rows = coefficients @ np.vstack([u, v])
    plane = fit_plane(theta0, rows)
    assert_orthonormal(plane)
    np.testing.assert_allclose(projector(plane.d1, plane.d2), projector(u, v), atol=1e-10)
    for row in rows:
        assert captured_share(plane, theta0 + row) == pytest.approx(1.0, abs=1e-12)
    # Coordinates reproduce the points: θ0 + a·d1 + b·d2 is the snapshot itself.
    a, b = project(plane, theta0 + rows)
    np.testing.assert_allclose(theta0 + np.outer(a, plane.d1) + np.outer(b, plane.d2), theta0 + rows, atol=1e-12)
    # A point off the plane: the share is |in-plane part| / |displacement|, written out.
    w = rng.normal(size=size)
    w -= projector(u, v) @ w
    point = theta0 + 3 * u + 4 * v + w
    assert captured_share(plane, point) == pytest.approx(5 / np.sqrt(25 + w @ w), rel=1e-12)
    assert captured_share(plane, theta0) == 1.0


@pytest.mark.parametrize("rows", [np.empty((0, 5)), np.zeros((4, 5)), np.outer([1.0, 2.0, -0.5], [0, 3, 0, 4, 0])])
def test_degenerate_displacements_still_give_an_orthonormal_plane(rows):
    theta0 = np.arange(5.0)
    plane = fit_plane(theta0, rows)
    assert_orthonormal(plane)
    again = fit_plane(theta0, rows)  # deterministic
    assert np.array_equal(plane.d1, again.d1) and np.array_equal(plane.d2, again.d2)
    if np.any(rows):  # one line: d1 along it, pointing to the last row
        np.testing.assert_allclose(abs(plane.d1 @ [0, 0.6, 0, 0.8, 0]), 1.0, atol=1e-12)
        assert project(plane, theta0 + rows[-1])[0] >= 0
        assert captured_share(plane, theta0 + rows[0]) == pytest.approx(1.0)


def test_fit_plane_refuses_bad_input():
    with pytest.raises(ValueError, match="theta0"):
        fit_plane(np.zeros(1), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="finite"):
        fit_plane(np.zeros(3), [[np.nan, 0, 0]])


# ---- a comparison's plane and paths --------------------------------------------------------------


def snapshots(comparison, run):
    epochs = run.snapshots.epochs
    return epochs, np.array([comparison.params_at(run.id, e)[1] for e in epochs])


def test_plane_of_pools_every_runs_snapshots(trained):
    plane = plane_of(trained)
    assert_orthonormal(plane)
    assert np.array_equal(plane.theta0, trained.initial_params)
    theta0 = trained.initial_params
    rows = np.concatenate([snapshots(trained, run)[1] - theta0 for run in trained])
    values, vectors = np.linalg.eigh(rows.T @ rows)
    top = vectors[:, np.argsort(values)[-2:]]
    np.testing.assert_allclose(projector(plane.d1, plane.d2), top @ top.T, atol=1e-9)
    first = trained.by_name("slow")
    a, b = project(plane, snapshots(trained, first)[1][-1])
    assert a >= 0 and b >= 0  # the first run ends in the first quadrant


def test_paths_are_the_snapshots_projections_with_the_runs_own_costs(trained):
    plane = plane_of(trained)
    paths = paths_of(trained, plane)
    assert [p.name for p in paths] == ["slow", "fast", "still"]
    assert [p.colour for p in paths] == [run.spec.colour for run in trained]
    for path, run in zip(paths, trained, strict=True):
        epochs, params = snapshots(trained, run)
        assert path.epochs.tolist() == epochs == list(range(run.epoch + 1))
        delta = params - trained.initial_params
        np.testing.assert_allclose(path.a, delta @ plane.d1, rtol=0, atol=1e-12)
        np.testing.assert_allclose(path.b, delta @ plane.d2, rtol=0, atol=1e-12)
        assert path.a[0] == path.b[0] == 0.0  # every path starts at the origin
        assert path.cost.tolist() == run.history.column("cost").tolist()
        last = delta[-1]
        expected = 1.0 if not last.any() else np.hypot(last @ plane.d1, last @ plane.d2) / np.linalg.norm(last)
        assert path.share == pytest.approx(expected, rel=1e-12)
    assert paths[2].share == 1.0 and 0 < paths[1].share <= 1


# ---- the grid ------------------------------------------------------------------------------------


def test_grid_axes_cover_every_path_and_hold_zero():
    path = Path("p", "#000000", np.arange(3), np.array([0.0, 2.0, 5.0]), np.array([0.0, -0.3, 0.1]),
                np.ones(3), 1.0)
    other = Path("q", "#000000", np.arange(2), np.array([0.0, -1.0]), np.array([0.0, 0.05]), np.ones(2), 1.0)
    for resolution in (5, 6, 61, 401):
        a, b = grid_axes([path, other], resolution)
        assert len(a) == len(b) == resolution
        assert 0.0 in a.tolist() and 0.0 in b.tolist()
        assert a[0] < -1.0 and a[-1] > 5.0 and b[0] < -0.3 and b[-1] > 0.1
        assert np.allclose(np.diff(a), a[1] - a[0]) and np.allclose(np.diff(b), b[1] - b[0])
    a, b = grid_axes([], 7)
    assert a[0] < 0 < a[-1] and b[0] < 0 < b[-1]
    for bad in (4, 402, 61.0, True):
        with pytest.raises(ValueError, match="resolution=.*5 to 401"):
            grid_axes([path], bad)


def test_grid_cost_at_the_origin_is_the_epoch_0_cost(trained):
    landscape = compute_landscape(trained, resolution=9)
    i, j = landscape.b.tolist().index(0.0), landscape.a.tolist().index(0.0)
    for run in trained:
        assert landscape.cost[i, j] == run.history.value("cost", 0)
    assert landscape.cost.shape == (9, 9) and not landscape.cost.flags.writeable


def test_grid_cost_is_the_cost_evaluated_directly(trained):
    landscape = compute_landscape(trained, resolution=7)
    plane, data, layout = landscape.plane, trained.data, trained.layout
    for i, j in [(0, 0), (6, 2), (3, 5), (1, 6)]:
        theta = plane.theta0 + landscape.a[j] * plane.d1 + landscape.b[i] * plane.d2
        p = network.predict(theta, layout, data.X, SMALL.activation)
        assert landscape.cost[i, j] == pytest.approx(network.cost(p, data.y), rel=1e-12)


def test_the_l2_term_is_the_runs_shared_one_or_none():
    runs = [RunSpec("a", learning_rate=0.1, l2=0.01, epochs=2), RunSpec("b", learning_rate=0.2, l2=0.01, epochs=2)]
    comparison = Comparison(SMALL, runs)
    comparison.run_to_end()
    landscape = compute_landscape(comparison, resolution=5)
    assert landscape.l2 == 0.01
    plane, layout, data = landscape.plane, comparison.layout, comparison.data
    theta = plane.theta0 + landscape.a[4] * plane.d1 + landscape.b[1] * plane.d2
    expected = network.cost(network.predict(theta, layout, data.X), data.y) + network.l2_penalty(theta, layout, 0.01)
    assert landscape.cost[1, 4] == pytest.approx(expected, rel=1e-12)
    i, j = landscape.b.tolist().index(0.0), landscape.a.tolist().index(0.0)
    assert landscape.cost[i, j] == pytest.approx(comparison.by_name("a").history.value("cost", 0), rel=1e-12)
    comparison.edit(comparison.by_name("b").id, comparison.by_name("b").spec.replace(l2=0.0))
    differing = compute_landscape(comparison, resolution=5)
    assert differing.l2 == 0.0
    assert differing.cost[i, j] == pytest.approx(comparison.start.evaluation.cost, rel=1e-12)
    assert compute_landscape(comparison, resolution=5, l2=0.5).l2 == 0.5


def test_grid_cost_stops_when_asked_and_reports_progress(trained):
    plane = plane_of(trained)
    axis = np.linspace(-1, 1, 6)
    args = (plane, axis, axis, trained.layout, SMALL.activation, trained.data.X, trained.data.y, trained.engine)
    asked = []

    def stop_after_four():
        asked.append(1)
        return len(asked) > 4

    with pytest.raises(Stopped):
        grid_cost(*args, should_stop=stop_after_four)
    assert len(asked) == 5  # asked before each point: the fifth point was never evaluated
    fractions = []
    cost = grid_cost(*args, should_stop=lambda: False, progress=fractions.append)
    assert fractions == pytest.approx([(i + 1) / 6 for i in range(6)])
    assert cost.shape == (6, 6) and np.isfinite(cost).all()
    with pytest.raises(Stopped):
        compute_landscape(trained, resolution=5, should_stop=lambda: True)


def test_grid_cost_stops_between_chunks_of_a_big_data_set():
    shared = SharedSettings(dataset="moons", n_samples=40000, shape=(2, 64, 64, 1), engine="numpy")
    comparison = Comparison(shared, [RunSpec("r", epochs=0)])
    asked = []

    def stop_on_second():
        asked.append(1)
        return len(asked) >= 2

    with pytest.raises(Stopped):
        grid_cost(plane_of(comparison), [0.0], [0.0], comparison.layout, "relu", comparison.data.X,
                  comparison.data.y, comparison.engine, should_stop=stop_on_second)
    assert len(asked) == 2  # the one grid point is not evaluated whole before the second question


def test_a_given_plane_is_kept_while_the_runs_train_on():
    comparison = Comparison(SMALL, [RunSpec("r", learning_rate=0.2, batch_size=4, epochs=6)])
    comparison.step()
    comparison.step()
    plane = plane_of(comparison)
    comparison.run_to_end()
    kept = compute_landscape(comparison, resolution=5, plane=plane)
    assert kept.plane is plane and kept.paths[0].epochs.tolist() == list(range(7))
    refitted = compute_landscape(comparison, resolution=5)
    assert not np.array_equal(refitted.plane.d1, plane.d1)  # the new snapshots move the fitted plane
    other = Comparison(SMALL.replace(init_seed=7), [RunSpec("r", epochs=1)])
    with pytest.raises(ValueError, match="plane: made for another start"):
        compute_landscape(other, resolution=5, plane=plane)


def test_computed_while_a_worker_trains():
    comparison = Comparison(SMALL, [RunSpec("a", learning_rate=0.1, epochs=300),
                                    RunSpec("b", learning_rate=0.3, batch_size=8, epochs=300)])
    worker = threading.Thread(target=comparison.run_to_end)
    worker.start()
    try:
        seen = [compute_landscape(comparison, resolution=5) for _ in range(5)]
    finally:
        worker.join()
    for landscape in seen:
        for path in landscape.paths:
            assert len(path.epochs) == len(path.a) == len(path.cost) and np.isfinite(path.cost).all()


# ---- JSON ----------------------------------------------------------------------------------------


def test_landscape_json_keys_and_shapes(trained):
    landscape = compute_landscape(trained, resolution=6)
    doc = json.loads(json.dumps(landscape_json(landscape), allow_nan=False))
    size = trained.layout.size
    assert set(doc) >= {"theta0", "d1", "d2", "a", "b", "cost", "paths", "shares"}
    assert len(doc["theta0"]) == len(doc["d1"]) == len(doc["d2"]) == size
    assert doc["theta0"] == trained.initial_params.tolist()
    assert len(doc["a"]) == len(doc["b"]) == 6 and len(doc["cost"]) == 6 and all(len(r) == 6 for r in doc["cost"])
    assert doc["cost"][2][4] == landscape.cost[2, 4]  # rows over b, columns over a
    assert list(doc["paths"]) == list(doc["shares"]) == ["slow", "fast", "still"]
    for path in landscape.paths:
        rows = doc["paths"][path.name]
        assert [r[0] for r in rows] == path.epochs.tolist()
        assert rows[-1] == [int(path.epochs[-1]), path.a[-1], path.b[-1], path.cost[-1]]
        assert doc["shares"][path.name] == path.share


def test_landscape_json_writes_non_finite_costs_as_null():
    plane = fit_plane(np.zeros(3), np.eye(3)[:2])
    landscape = Landscape(plane, np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([[1.0, np.inf], [np.nan, 2.0]]))
    doc = landscape_json(landscape)
    assert doc["cost"] == [[1.0, None], [None, 2.0]] and doc["paths"] == {}
    json.dumps(doc, allow_nan=False)


def test_the_notebook_runs_share_one_plane_through_their_start():
    comparison = Comparison(preset_shared(), [run.replace(epochs=3) for run in notebook_runs()])
    comparison.run_to_end()
    landscape = compute_landscape(comparison, resolution=5)
    assert isinstance(landscape.plane, Plane)
    assert [p.name for p in landscape.paths] == ["sgd", "mini-batch", "momentum", "decay"]
    for path in landscape.paths:
        assert 0 < path.share <= 1 and path.epochs.tolist() == [0, 1, 2, 3]
        assert landscape.a[0] < path.a.min() and path.a.max() < landscape.a[-1]
        assert landscape.b[0] < path.b.min() and path.b.max() < landscape.b[-1]


def test_paths_with_a_cache_equal_paths_without_as_the_runs_train_on():
    from nnviz.core.comparison import Comparison, RunSpec, SharedSettings
    from nnviz.core.landscape import paths_of, plane_of

    comparison = Comparison(SharedSettings(n_samples=200), [RunSpec(name="a", epochs=30),
                                                            RunSpec(name="b", epochs=30, momentum=0.9)])
    for _ in range(10):
        comparison.step()
    plane = plane_of(comparison)
    cache = {}
    for _ in range(3):
        cached, fresh = paths_of(comparison, plane, cache), paths_of(comparison, plane)
        for c, f in zip(cached, fresh, strict=True):
            assert list(c.epochs) == list(f.epochs)
            np.testing.assert_allclose(c.a, f.a, rtol=0, atol=1e-12)
            np.testing.assert_allclose(c.b, f.b, rtol=0, atol=1e-12)
        for _ in range(7):
            comparison.step()
    comparison.restart(comparison.by_name("a").id)  # a restarted run starts its cache afresh
    cached, fresh = paths_of(comparison, plane, cache), paths_of(comparison, plane)
    assert list(cached[0].epochs) == [0] and cached[0].a[0] == pytest.approx(fresh[0].a[0])
