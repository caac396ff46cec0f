"""Initial-weight schemes, training health (dead units, saturation, gradients, update sizes) and the unit maps."""

import numpy as np
import pytest

from nnviz.core.comparison import Comparison, RunSpec, SharedSettings, prepare
from nnviz.core.grid import GridEvaluator
from nnviz.core.health import MEASURE_CHUNK, UpdateSizes, measure, new_warnings, percent, warnings
from nnviz.core.network import INITS, Layout, backward, forward, init_params
from nnviz.core.training import TrainConfig, Trainer

# ---- initial weights ---------------------------------------------------------------------------


def test_notebook_init_is_the_notebooks_draw_bit_for_bit():
    # The notebook draws w1, b1, w2, b2, ... from one RandomState, each N(0, 0.5), b as a column.
    shape = (2, 3, 4, 1)
    rng = np.random.RandomState(1234)
    expected = []
    for n_in, n_out in zip(shape[:-1], shape[1:], strict=True):
        expected.append(rng.normal(0, 0.5, size=(n_in, n_out)).ravel())
        expected.append(rng.normal(0, 0.5, size=(n_out, 1)).ravel())
    assert np.array_equal(init_params(shape, 1234), np.concatenate(expected))
    assert np.array_equal(init_params(shape, 1234, "notebook"), init_params(shape, 1234))
    assert TrainConfig().init == "notebook"


@pytest.mark.parametrize("init", ["glorot", "he"])
def test_each_init_has_its_formulas_mean_and_variance_per_layer(init):
    shape = (2, 256, 256, 128, 1)
    theta = init_params(shape, 7, init)
    for w, b in Layout(shape).views(theta):
        fan_in, fan_out = w.shape
        variance = 2 / (fan_in + fan_out) if init == "glorot" else 2 / fan_in
        assert np.all(b == 0)
        if w.size >= 10_000:  # large layers: the sample's moments are within a few standard errors
            se = np.sqrt(2 / w.size) * variance  # standard error of the sample variance of a normal
            assert abs(w.mean()) < 5 * np.sqrt(variance / w.size)
            assert abs(w.var() - variance) < 5 * se


def test_inits_draw_from_the_seed_in_layer_order_and_differ():
    shape = (2, 8, 8, 1)
    for init in INITS:
        assert np.array_equal(init_params(shape, 3, init), init_params(shape, 3, init))
        assert not np.array_equal(init_params(shape, 3, init), init_params(shape, 4, init))
    # he and glorot scale the same standard normal draws: weights in the same order, only the scale differs.
    he, glorot = Layout(shape).views(init_params(shape, 3, "he")), Layout(shape).views(init_params(shape, 3, "glorot"))
    for (w_he, _), (w_gl, _) in zip(he, glorot, strict=True):
        fan_in, fan_out = w_he.shape
        np.testing.assert_allclose(w_he / np.sqrt(2 / fan_in), w_gl / np.sqrt(2 / (fan_in + fan_out)), rtol=1e-12)


def test_an_unknown_init_is_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match="init='lecun': allowed are notebook, glorot, he"):
        TrainConfig(init="lecun")
    with pytest.raises(ValueError, match="init="):
        init_params((2, 3, 1), 0, "lecun")


def test_init_is_a_network_setting_of_the_comparison():
    comparison = Comparison(SharedSettings(), [RunSpec(name="a", epochs=2)])
    before = comparison.initial_params.copy()
    comparison.set_shared(comparison.shared.replace(init="he"))
    assert not np.array_equal(comparison.initial_params, before)
    assert np.array_equal(comparison.initial_params, init_params((2, 3, 4, 1), 1234, "he"))


# ---- health -------------------------------------------------------------------------------------


def _params(layout: Layout, layers) -> np.ndarray:
    theta = np.zeros(layout.size)
    for (w, b), (w_value, b_value) in zip(layout.views(theta), layers, strict=True):
        w[...] = w_value
        b[...] = b_value
    return theta


def test_dead_relu_units_and_saturated_outputs_of_a_hand_built_network():
    # 2-3-1: unit 0 = relu(x1) is active where x1 > 0; unit 1 has a bias of -100: dead on every point;
    # unit 2 = relu(x2 + 10) always active. The output weight 100 on unit 2 saturates p where x2 > -9.9.
    layout = Layout((2, 3, 1))
    theta = _params(layout, [(np.array([[1, 0, 0], [0, 0, 1.0]]), np.array([0, -100, 10.0])),
                             (np.array([[0.0], [0], [100]]), np.array([-1000.0]))])
    X = np.array([[-1, 0], [1, 0], [2, 0], [3, 0.0]])
    y = np.array([0, 1, 1, 1])
    health = measure(theta, layout, "relu", X, y)
    np.testing.assert_array_equal(health.active[0], [0.75, 0.0, 1.0])
    assert health.dead(0) == 1
    # z = 100 * 10 - 1000 = 0 at x2 = 0: p = 0.5 everywhere, nothing saturated.
    assert health.output_saturated == 0
    theta2 = _params(layout, [(np.array([[1, 0, 0], [0, 0, 1.0]]), np.array([0, -100, 10.0])),
                              (np.array([[0.0], [0], [100]]), np.array([0.0]))])
    assert measure(theta2, layout, "relu", X, y).output_saturated == 1.0  # z = 1000: p = 1 to float precision
    X3 = np.array([[0, -10.0], [0, 0], [0, -9.999], [0, -20]])  # z = 0, 1000, 0.1, 0 (relu clips): one saturated
    assert measure(theta2, layout, "relu", X3, y).output_saturated == 0.25


def test_saturated_tanh_units_and_the_gradient_norms():
    layout = Layout((2, 2, 1))
    theta = _params(layout, [(np.array([[50.0, 0.1], [0, 0]]), np.array([0, 0.0])),
                             (np.array([[1.0], [1.0]]), np.array([0.0]))])
    X = np.array([[-1, 0], [1, 0], [0.5, 3], [-2, 1.0]])
    y = np.array([0, 1, 1, 0])
    health = measure(theta, layout, "tanh", X, y)
    np.testing.assert_array_equal(health.active[0], [1.0, 0.0])  # |tanh(50 x1)| > 0.99 on every point
    assert health.dead(0) == 1
    grad = backward(theta, layout, X, y.reshape(-1, 1).astype(float), "tanh")
    expected = [np.linalg.norm(w) for w, _ in layout.views(grad)]
    np.testing.assert_allclose(health.gradient, expected)


def test_measure_uses_every_kth_point_when_capped():
    layout = Layout((2, 1, 1))
    theta = _params(layout, [(np.array([[1.0], [0]]), np.array([0.0])), (np.array([[1.0]]), np.array([0.0]))])
    X = np.column_stack([np.arange(10) - 4.5, np.zeros(10)])  # x1 = -4.5 .. 4.5: half positive
    y = np.zeros(10)
    assert measure(theta, layout, "relu", X, y).active[0][0] == 0.5
    capped = measure(theta, layout, "relu", X, y, max_points=4)  # every 3rd: -4.5, -1.5, 1.5, 4.5
    assert capped.points == 4 and capped.active[0][0] == 0.5


def test_the_wide_notebook_network_starts_saturated_and_he_does_not():
    shared = SharedSettings(shape=(2, 256, 256, 256, 1))
    start = prepare(shared)
    assert start.health.output_saturated > 0.9
    text = start.warnings()
    assert len(text) >= 1
    assert text[0].startswith(f"the output is saturated on {100 * start.health.output_saturated:.0f} % of the points")
    assert "256 units a layer" in text[0] and "try init 'he'" in text[0]
    assert prepare(shared.replace(init="he")).warnings() == []
    assert prepare(SharedSettings()).warnings() == []  # the notebook's own network is fine


def test_warnings_name_dead_layers_and_the_remedy_fits_the_state():
    layout = Layout((2, 4, 1))
    dead = _params(layout, [(np.zeros((2, 4)), np.array([-1.0, -1, -1, 1])), (np.ones((4, 1)), np.zeros(1))])
    X, y = np.random.RandomState(0).normal(size=(20, 2)), np.zeros(20)
    health = measure(dead, layout, "relu", X, y)
    assert health.dead(0) == 3
    assert warnings(health, "notebook") == [
        "3 of 4 units of hidden layer 1 are dead (zero on every point): they pass on no signal and get no gradient; "
        "try init 'he'"]
    assert warnings(health, "he")[0].endswith("try another init seed")
    assert warnings(health, "he", epoch=40)[0].endswith("lower the learning rate (or add L2) and restart")


# ---- update sizes ---------------------------------------------------------------------------------


def test_update_sizes_equal_hand_arithmetic_per_layer_and_epoch():
    trainer = Trainer(TrainConfig(epochs=12, learning_rate=0.05, momentum=0.5))
    layout = trainer.layout
    records = list(trainer)
    sizes = UpdateSizes(layout, records[0].params)
    for record in records[1:]:
        sizes.add(record.epoch, record.params)
    epochs, ratios = sizes.arrays()
    assert list(epochs) == list(range(1, 13))
    for row, (before, after) in enumerate(zip(records, records[1:], strict=False)):
        for layer, ((w0, _), (w1, _)) in enumerate(zip(layout.views(before.params), layout.views(after.params),
                                                        strict=True)):
            assert ratios[row, layer] == pytest.approx(np.linalg.norm(w1 - w0) / np.linalg.norm(w0), rel=1e-12)


def test_update_sizes_thin_out_when_full_and_keep_their_stride():
    layout = Layout((2, 1, 1))
    rng = np.random.RandomState(1)
    sizes = UpdateSizes(layout, rng.normal(size=layout.size), capacity=8)
    for epoch in range(1, 40):
        sizes.add(epoch, rng.normal(size=layout.size))
    epochs, ratios = sizes.arrays()
    assert len(epochs) <= 8 and ratios.shape == (len(epochs), 2)
    # 1..8 fill it; at 9 it keeps 2,4,6,8 (stride 2), at 18 4,8,12,16 (stride 4), at 36 8,16,24,32 (stride 8)
    assert sizes.stride == 8 and list(epochs) == [8, 16, 24, 32]


def test_a_comparison_keeps_each_runs_update_sizes():
    comparison = Comparison(SharedSettings(), [RunSpec(name="a", epochs=5), RunSpec(name="b", epochs=3)])
    comparison.run_to_end()
    for run in comparison:
        epochs, ratios = run.update_sizes.arrays()
        assert list(epochs) == list(range(1, run.spec.epochs + 1))
        assert np.all(ratios > 0)
    first = comparison.by_name("a")
    assert comparison.health(first.id).points == len(comparison.data.X)
    at_start = comparison.health(first.id, 0)
    np.testing.assert_array_equal(at_start.active[0], comparison.start.health.active[0])
    assert at_start.gradient == comparison.start.health.gradient


# ---- unit maps --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, activation", [((2, 3, 4, 1), "relu"), ((2, 5, 1), "tanh"), ((2, 1), "relu")])
def test_unit_maps_equal_the_forward_pass_of_each_unit(shape, activation):
    layout = Layout(shape)
    theta = init_params(shape, 5, "glorot") + 0.1
    ev = GridEvaluator(layout, activation, (-2.0, 3.0, -1.0, 1.5), 30)
    probabilities = ev(theta)
    outputs = ev.layer_outputs()
    assert [o.shape for o in outputs] == [(units, 30, 30) for units in shape[1:]]
    assert np.shares_memory(outputs[-1], probabilities)
    rng = np.random.RandomState(0)
    rows, cols = rng.randint(0, 30, size=20), rng.randint(0, 30, size=20)
    points = np.column_stack([ev.xs[cols], ev.ys[rows]])
    _, acts = forward(theta, layout, points, activation)
    for layer, output in enumerate(outputs):
        np.testing.assert_allclose(output[:, rows, cols].T, acts[layer + 1], rtol=1e-4, atol=1e-5)


def test_a_problem_present_from_the_start_is_blamed_on_the_initial_weights_later_too():
    start = prepare(SharedSettings(shape=(2, 256, 256, 256, 1))).health
    later = warnings(start, "notebook", epoch=30, start=start)
    assert later == warnings(start, "notebook", epoch=0)  # still saturated at epoch 30: the init's fault
    healthy = prepare(SharedSettings(shape=(2, 256, 256, 256, 1), init="he")).health
    grown = warnings(start, "he", epoch=30, start=healthy)  # saturated later although it started well
    assert grown[0].endswith("the weights have grown too large; lower the learning rate (or add L2) and restart")


def test_measure_in_chunks_equals_one_pass_and_stops_when_asked():
    from nnviz.core.training import Stopped

    start = prepare(SharedSettings(shape=(2, 8, 8, 1), n_samples=1000))
    layout, X, y = start.layout, start.data.X, start.data.y
    assert len(X) > 2 * MEASURE_CHUNK
    health = measure(start.initial_params, layout, "relu", X, y)
    _, acts = forward(start.initial_params, layout, X, "relu")
    for share, a in zip(health.active, acts[1:-1], strict=True):
        np.testing.assert_allclose(share, np.mean(a > 0, axis=0))
    whole = backward(start.initial_params, layout, X, y.reshape(-1, 1).astype(float), "relu")
    np.testing.assert_allclose(health.gradient, [np.linalg.norm(w) for w, _ in layout.views(whole)], rtol=1e-10)
    asked = []
    with pytest.raises(Stopped):
        measure(start.initial_params, layout, "relu", X, y, should_stop=lambda: asked.append(1) or len(asked) > 2)
    assert len(asked) == 3  # asked before each chunk, stopped at the third


def test_percentages_never_round_to_all_or_nothing():
    assert [percent(v) for v in (0, 1, 0.5, 0.996, 0.9999, 0.004, 0.0149)] == \
        ["0 %", "100 %", "50 %", "99.6 %", "99.9 %", "0.4 %", "1 %"]


def test_new_warnings_leave_out_what_the_start_already_had():
    stuck = prepare(SharedSettings(shape=(2, 256, 256, 256, 1))).health
    assert new_warnings(stuck, "notebook", 20, stuck) == []
    healthy = prepare(SharedSettings(shape=(2, 256, 256, 256, 1), init="he")).health
    assert len(new_warnings(stuck, "he", 20, healthy)) == 1
