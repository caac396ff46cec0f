"""A user's own points in the settings (dataset "custom") and the input features: what the runs train on, the
network's first layer, gradients, both engines, the sweep engine, the maps and sessions (format version 2)."""

import json
import pickle

import numpy as np
import pytest

from nnviz.core.comparison import Comparison
from nnviz.core.datasets import (
    DEFAULT_FEATURES,
    FEATURES,
    Dataset,
    Points,
    expand,
    parse_features,
    split_train_test,
)
from nnviz.core.grid import GridEvaluator
from nnviz.core.network import Layout, backward, cost, init_params, predict
from nnviz.core.points_csv import read_points, write_points
from nnviz.core.session import SessionError, load_session, parse_session, save_session, session_text
from nnviz.core.specs import RunSpec, SharedSettings, notebook_runs, preset_shared
from nnviz.core.sweep import run_config, train_configs
from nnviz.core.training import TrainConfig, Trainer

RNG = np.random.default_rng(5)
POINTS = Points(RNG.normal(size=(60, 2)), (RNG.random(60) > 0.5).astype(float), ("cat", "dog"))
ALL = tuple(FEATURES)


def custom(**changes) -> TrainConfig:
    return TrainConfig(**{"dataset": "custom", "points": POINTS, "epochs": 5, **changes})


def records(trainer: Trainer) -> list:
    out = [trainer.initial_record()]
    while not trainer.done:
        out.append(trainer.step())
    return out


def histories_equal(a: Trainer, b: Trainer) -> None:
    ra, rb = records(a), records(b)
    assert len(ra) == len(rb) > 1
    for x, y in zip(ra, rb, strict=True):
        assert x.cost == y.cost and x.accuracy == y.accuracy and np.array_equal(x.params, y.params)


# Points as a setting

def test_points_compare_hash_and_pickle_by_their_contents():
    same = Points(POINTS.X.copy(), POINTS.y.copy(), POINTS.classes)
    assert same == POINTS and hash(same) == hash(POINTS)
    moved = POINTS.X.copy()
    moved[3, 1] += 1e-12
    assert Points(moved, POINTS.y, POINTS.classes) != POINTS
    assert Points(POINTS.X, POINTS.y, ("a", "b")) != POINTS
    back = pickle.loads(pickle.dumps(POINTS))
    assert back == POINTS and not back.X.flags.writeable
    assert custom() == custom(points=same) and hash(custom()) == hash(custom(points=same))


def test_custom_data_needs_points_and_counts_them():
    assert custom().n_samples == len(POINTS) == 60
    assert custom(n_samples=4).n_samples == 60  # the points say how many there are
    with pytest.raises(ValueError, match="dataset=custom: needs points"):
        TrainConfig(dataset="custom")
    assert TrainConfig(dataset="circle", points=POINTS).points is None  # only custom data holds points
    shared = SharedSettings(dataset="custom", points=POINTS)
    assert shared.n_samples == 60 and shared.points == POINTS
    assert shared.replace(dataset="circle", n_samples=200).points is None


def test_custom_points_are_shuffled_with_the_data_seed_as_the_notebook_does_unless_kept_in_order():
    data = Dataset.of(custom(data_seed=42))
    order = np.random.RandomState(42).permutation(60)
    assert np.array_equal(data.X, POINTS.X[order]) and np.array_equal(data.y[:, 0], POINTS.y[order])
    kept = Dataset.of(custom(keep_order=True))
    assert np.array_equal(kept.X, POINTS.X) and np.array_equal(kept.y[:, 0], POINTS.y)


def test_a_test_fraction_is_held_out_as_for_the_generated_sets():
    data = Dataset.of(custom(test_fraction=0.25, keep_order=True, data_seed=9))
    X, y, X_test, y_test = split_train_test(POINTS.X, POINTS.y.reshape(-1, 1), 0.25, 9)
    assert len(data.X_test) == 15 and np.array_equal(data.X_test, X_test) and np.array_equal(data.X, X)
    assert np.array_equal(data.y_test, y_test)


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_training_on_loaded_points_equals_training_on_the_same_arrays_given_directly(tmp_path, engine):
    path = tmp_path / "mine.csv"
    write_points(path, POINTS.X, POINTS.y, POINTS.classes)
    loaded = read_points(path)
    config = custom(points=loaded, keep_order=True, batch_size=4, engine=engine)
    direct = Trainer(config, data=Dataset(POINTS.X, POINTS.y.reshape(-1, 1), POINTS.X[:0], POINTS.y[:0, None]))
    histories_equal(Trainer(config), direct)


def test_every_run_of_a_comparison_on_custom_points_starts_from_the_same_weights():
    shared = SharedSettings(dataset="custom", points=POINTS)
    comparison = Comparison(shared, notebook_runs())
    starts = [comparison.params_at(run_id, 0)[1] for run_id in comparison.ids()]
    assert len(starts) == 4
    assert all(np.array_equal(starts[0], s) for s in starts[1:])
    assert np.array_equal(starts[0], init_params(shared.shape, shared.init_seed, shared.init))
    assert np.array_equal(comparison.data.X, Dataset.of(shared).X)


# Input features

def test_features_are_the_functions_of_x1_and_x2_they_name():
    X = RNG.normal(size=(7, 2))
    out = expand(X, ALL)
    x1, x2 = X[:, 0], X[:, 1]
    for column, expected in zip(out.T, [x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)], strict=True):
        assert np.allclose(column, expected, rtol=0, atol=1e-15)
    assert np.array_equal(expand(X), X)


def test_feature_names_parse_with_aliases_and_bad_names_list_the_allowed_ones():
    assert parse_features("x1, x2,x1*x2") == ("x1", "x2", "x1*x2")
    assert parse_features("sin x2,x1²,x2**2,x1") == ("x1", "x1^2", "x2^2", "sin(x2)")  # the inputs' own order
    with pytest.raises(ValueError, match=r"'x3' is not an input feature: choose one or more of x1, x2, x1\^2"):
        parse_features("x1,x3")
    with pytest.raises(ValueError, match="listed twice"):
        parse_features("x1,x1")
    with pytest.raises(ValueError, match="features"):
        TrainConfig(features=())


@pytest.mark.parametrize("features", [("x1",), ("x1", "x2", "x1*x2"), ALL])
def test_the_first_layer_follows_the_features(features):
    config = TrainConfig().replace(features=features)
    assert config.shape == (len(features), 3, 4, 1)
    assert Layout(config.shape).size == len(features) * 3 + 3 + 3 * 4 + 4 + 4 + 1
    shared = preset_shared().replace(features=features)
    assert shared.shape[0] == len(features) and shared.shape[1:] == preset_shared().shape[1:]
    trainer = Trainer(config.replace(epochs=1, n_samples=40))
    assert trainer.X.shape == (40, len(features)) and np.array_equal(trainer.X, expand(trainer.data.X, features))
    with pytest.raises(ValueError, match=rf"shape=2,3,1: must be \({len(features)}, h1"):
        TrainConfig(features=features, shape=(2, 3, 1)) if len(features) != 2 else TrainConfig(shape=(3, 3, 1))


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gradients_match_finite_differences_with_features_on(activation):
    config = TrainConfig(features=ALL, shape=(7, 5, 3, 1), activation=activation, dataset="circle", n_samples=40)
    data = Dataset.of(config)
    layout = Layout(config.shape)
    theta = init_params(config.shape, 3, "glorot")
    X, y = data.inputs, data.y
    grad = backward(theta, layout, X, y, activation)
    h = 1e-6
    for i in range(layout.size):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        numeric = (cost(predict(up, layout, X, activation), y)
                   - cost(predict(down, layout, X, activation), y)) / (2 * h)
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("batch_size", [1, 8])
def test_the_compiled_engine_equals_the_numpy_reference_with_features(batch_size):
    config = TrainConfig(features=("x1", "x2", "x1*x2", "sin(x1)"), shape=(4, 6, 1), dataset="xor", n_samples=80,
                         batch_size=batch_size, epochs=6, momentum=0.5, test_fraction=0.2)
    compiled = records(Trainer(config))
    reference = records(Trainer(config.replace(engine="numpy")))
    for a, b in zip(compiled, reference, strict=True):
        assert a.cost == pytest.approx(b.cost, abs=1e-9) and a.test_cost == pytest.approx(b.test_cost, abs=1e-9)
        assert np.allclose(a.params, b.params, rtol=0, atol=1e-9)


@pytest.mark.parametrize("batch_size", [1, 8])
def test_the_sweep_engine_equals_single_runs_with_features_and_custom_points(batch_size):
    base = custom(batch_size=batch_size, epochs=4).replace(features=("x1", "x2^2", "x1*x2"))
    configs = [base.replace(learning_rate=rate) for rate in (0.003, 0.01, 0.03, 0.1)]
    results = train_configs(configs, workers=1)
    for config, result in zip(configs, results, strict=True):
        single = run_config(config)
        assert result.final_cost == pytest.approx(single.final_cost, abs=1e-9, rel=0)
        assert result.final_accuracy == single.final_accuracy


def test_the_map_evaluates_the_network_on_the_features_of_each_grid_point():
    features = ("x1", "x1^2", "sin(x2)")
    layout = Layout((3, 4, 1))
    theta = init_params((3, 4, 1), 1, "glorot")
    evaluator = GridEvaluator(layout, "tanh", (-2, 2, -1, 1), 9, features)
    gx, gy = np.meshgrid(evaluator.xs, evaluator.ys)
    plane = np.column_stack([gx.ravel(), gy.ravel()])
    expected = predict(theta, layout, expand(plane, features), "tanh").reshape(9, 9)
    assert np.allclose(evaluator(theta), expected, atol=1e-5)
    with pytest.raises(ValueError, match="takes 3 inputs"):
        GridEvaluator(layout, "tanh", (-2, 2, -1, 1), 9)


# Sessions, version 2

def test_a_session_stores_custom_points_and_features_and_reopens_exactly(tmp_path):
    shared = SharedSettings(dataset="custom", points=POINTS, keep_order=True, features=("x1", "x2", "x1*x2"),
                            shape=(3, 5, 1), test_fraction=0.2)
    path = tmp_path / "exercise.nnviz.json"
    save_session(path, shared, [RunSpec(name="mine")])
    doc = json.loads(path.read_text())
    assert doc["version"] == 2 and doc["points"]["classes"] == ["cat", "dog"] and len(doc["points"]["x1"]) == 60
    session = load_session(path)
    assert session.shared == shared and session.warnings == ()
    assert np.array_equal(session.shared.points.X, POINTS.X) and np.array_equal(session.shared.points.y, POINTS.y)
    assert np.array_equal(Dataset.of(session.shared).inputs, Dataset.of(shared).inputs)


def test_a_version_1_session_still_opens(tmp_path):
    text = session_text(preset_shared(), notebook_runs())
    doc = json.loads(text)
    doc["version"] = 1
    for key in ("keep_order", "features"):
        del doc["shared"][key]
    session = parse_session(json.dumps(doc))
    assert session.shared == preset_shared() and len(session.runs) == 4


@pytest.mark.parametrize("change, where", [
    (lambda d: d["points"]["x1"].__setitem__(7, "a"), "points.x1[7]: must be a finite number"),
    (lambda d: d["points"]["label"].__setitem__(2, 2), "points.label[2]: must be 0 or 1"),
    (lambda d: d["points"]["x2"].pop(), "points: x1, x2 and label must have the same length"),
    (lambda d: d["points"].pop("label"), "points: missing label"),
    (lambda d: d["points"].__setitem__("classes", ["a"]), "points.classes: must be a list of two"),
    (lambda d: d.pop("points"), "shared.dataset=custom: needs points"),
    (lambda d: d["shared"].__setitem__("features", ["x1", "x9"]), "'x9' is not an input feature"),
    (lambda d: d["shared"].__setitem__("keep_order", "yes"), "shared.keep_order: must be true or false"),
])
def test_malformed_custom_points_in_a_session_are_refused_by_place(change, where):
    shared = SharedSettings(dataset="custom", points=POINTS)
    doc = json.loads(session_text(shared, [RunSpec()]))
    change(doc)
    with pytest.raises(SessionError, match=where.replace("[", r"\[").replace("]", r"\]")):
        parse_session(json.dumps(doc))


def test_default_features_are_the_plane_itself():
    assert DEFAULT_FEATURES == ("x1", "x2") and Dataset.of(TrainConfig()).inputs is Dataset.of(TrainConfig()).X \
        or np.array_equal(Dataset.of(TrainConfig()).inputs, Dataset.of(TrainConfig()).X)


def test_a_sweep_over_custom_points_is_saved_without_a_second_copy_of_them_and_reopens():
    from nnviz.core.sweep import parse_axis
    from nnviz.core.sweep_study import SweepDefinition, SweepStudy

    shared = SharedSettings(dataset="custom", points=POINTS).replace(features=("x1", "x2", "x1*x2"))
    base = RunSpec(name="mine").config(shared)
    study = SweepStudy(SweepDefinition(base, (parse_axis("learning_rate=0.01:0.1:log:3"),), 1, run="mine"))
    doc = study.to_doc()
    assert "points" not in doc["base"] and doc["base"]["features"] == ["x1", "x2", "x1*x2"]
    text = session_text(shared, [RunSpec(name="mine")], sweep=doc)
    json.loads(text)  # plain JSON
    session = parse_session(text)
    assert SweepStudy.from_doc(session.sweep, session.shared.points).definition.base == base
    with pytest.raises(ValueError, match="sweep.base: dataset=custom: needs points"):
        SweepStudy.from_doc(doc)


@pytest.mark.parametrize("session_points", [None, Points(RNG.normal(size=(30, 2)), RNG.random(30) > 0.5)])
def test_a_sweep_over_other_points_than_the_sessions_is_saved_with_its_own_and_reopens_on_them(session_points):
    # A sweep run on the user's points, then the data changed (a generated set, or another file): the session
    # holds the sweep's points with it, so it reopens, and on the points the sweep trained on.
    from nnviz.core.sweep import parse_axis
    from nnviz.core.sweep_study import SweepDefinition, SweepStudy

    base = RunSpec(name="mine").config(SharedSettings(dataset="custom", points=POINTS))
    study = SweepStudy(SweepDefinition(base, (parse_axis("learning_rate=0.01:0.1:log:3"),), 1, run="mine"))
    shared = SharedSettings() if session_points is None else SharedSettings(dataset="custom", points=session_points)
    text = session_text(shared, [RunSpec(name="mine")], sweep=study.to_doc())
    session = parse_session(text)
    assert session.shared == shared
    assert SweepStudy.from_doc(session.sweep, session.shared.points).definition.base == base
    again = parse_session(session_text(session.shared, session.runs,
                                       sweep=SweepStudy.from_doc(session.sweep, session.shared.points).to_doc()))
    assert SweepStudy.from_doc(again.sweep, again.shared.points).definition.base == base


def test_a_sweeps_own_points_that_are_malformed_are_refused_by_place():
    from nnviz.core.sweep import parse_axis
    from nnviz.core.sweep_study import SweepDefinition, SweepStudy

    base = RunSpec(name="mine").config(SharedSettings(dataset="custom", points=POINTS))
    study = SweepStudy(SweepDefinition(base, (parse_axis("learning_rate=0.01:0.1:log:3"),), 1, run="mine"))
    doc = json.loads(session_text(SharedSettings(), [RunSpec(name="mine")], sweep=study.to_doc()))
    doc["sweep"]["points"]["label"][4] = 2
    with pytest.raises(SessionError, match=r"sweep\.points\.label\[4\]: must be 0 or 1"):
        parse_session(json.dumps(doc))


def test_many_points_written_a_block_at_a_time_read_back_exactly():
    # The columns are written and read in blocks (so the window's thread is not held up by one long call): the text
    # is what one json.dumps of each column writes, and the very same numbers come back.
    from nnviz.core.session import JSON_BLOCK

    rng = np.random.default_rng(9)
    n = 2 * JSON_BLOCK + 7
    X = rng.normal(size=(n, 2)) * 10.0 ** rng.integers(-300, 300, size=(n, 2))
    points = Points(X, rng.random(n) > 0.5)
    text = session_text(SharedSettings(dataset="custom", points=points), [RunSpec()])
    doc = json.loads(text)
    for name, column in (("x1", X[:, 0]), ("x2", X[:, 1]), ("label", points.y.astype(np.int64))):
        assert f'"{name}": {json.dumps(column.tolist())}' in text
        assert doc["points"][name] == column.tolist()
    assert parse_session(text).shared.points == points


def test_features_listed_in_any_order_are_the_inputs_in_their_own_order():
    config = TrainConfig(features=("x2", "x1"))
    assert config.features == ("x1", "x2") and config == TrainConfig()
    assert SharedSettings().replace(features=["sin(x1)", "x1"]).features == ("x1", "sin(x1)")
