"""benchmarks/bench_peers.py gives each peer nnviz's run: the same weights, and steps that reach the same cost.

Each peer's test is skipped when the peer is not installed (the optional `bench` extra)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from nnviz.core.network import predict
from nnviz.core.training import TrainConfig, Trainer

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_peers.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_peers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_peers"] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def small_case(bench, **changes):
    # 42 points in batches of 4: the last batch is partial (2 points), as in the benchmark's batch-32 case.
    config = TrainConfig(**{"dataset": "spiral", "n_samples": 42, "shape": (2, 5, 3, 1), "batch_size": 4,
                            "learning_rate": 0.05, "epochs": 3, "engine": "numpy", **changes})
    return bench.make_case("small", config)


def test_torch_model_holds_nnvizs_weights(bench):
    torch = pytest.importorskip("torch")
    case = small_case(bench)
    model = bench.torch_model(case.theta, case.layout)
    np.testing.assert_array_equal(bench.theta_of_torch(model, case.layout), case.theta)
    with torch.no_grad():
        p = torch.sigmoid(model(torch.from_numpy(case.X.copy()))).numpy()
    np.testing.assert_allclose(p, predict(case.theta, case.layout, case.X), rtol=1e-12)


@pytest.mark.parametrize("peer", ["torch", "jax", "sklearn"])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_peer_reaches_nnvizs_cost(bench, peer, momentum):
    pytest.importorskip(peer)
    case = small_case(bench, momentum=momentum)
    records = list(Trainer(case.config))
    runner = {"torch": bench.torch_runner, "jax": bench.jax_runner, "sklearn": bench.sklearn_runner}[peer]
    peer_cost, _ = runner(case)(case.config.epochs)
    # sklearn's gradient leaves out the cost's eps = 1e-8: a few 1e-9 apart after 3 epochs; torch and jax: rounding.
    assert peer_cost == pytest.approx(records[-1].cost, rel=1e-7)
    assert peer_cost != pytest.approx(records[0].cost, rel=1e-3)  # it did train
