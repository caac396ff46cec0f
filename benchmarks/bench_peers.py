"""nnviz against scikit-learn, PyTorch (CPU) and JAX on the same runs: same data, same initial weights, same steps.

Prints a markdown table; asserts nothing. Run from the repository root (the peers are the optional `bench` extra,
`pip install -e '.[bench]'`; a peer that is not installed is skipped with a note):

    .venv/bin/python benchmarks/bench_peers.py               # about a minute
    .venv/bin/python benchmarks/bench_peers.py --epochs 20   # longer runs, the same table

Every engine trains each case for --epochs epochs from nnviz's initial weights on nnviz's data, taking the same
mini-batches in the same order with the same update rule (nnviz's sgd: v <- beta v + (1 - beta) g,
theta <- theta - alpha v), in float64, and evaluates cost and accuracy on the whole training set after every
epoch, as a Trainer does; epochs/s count both. An engine faster than --min-seconds per run repeats the run
from the start until it has been timed that long. The final costs must agree with nnviz's to a relative 1e-6:
what is left between them is rounding (and scikit-learn's gradient leaving out the eps of the cost's logarithms).
Every engine runs on one thread, as nnviz's compiled engine does: the numbers are per core (on the 2 shared cores
here, torch's two threads made it 5-8 times slower than one).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

if __name__ == "__main__":  # one thread for every engine: set before numpy, torch or jax start their thread pools
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnviz.core import kernels  # noqa: E402
from nnviz.core.network import EPS, Layout, accuracy, cost  # noqa: E402
from nnviz.core.training import TrainConfig, Trainer, preset_config  # noqa: E402

BIG = {"dataset": "spiral", "n_samples": 10_000, "noise": 0.1, "shape": (2, 16, 16, 1)}  # as in bench_training.py
CASES = [
    ("hard 1000, 2-3-4-1, batch 1", preset_config("sgd")),
    ("hard 1000, 2-3-4-1, batch 32", preset_config("mini-batch")),
    ("hard 1000, 2-3-4-1, batch 1, β 0.9", preset_config("momentum")),
    ("spiral 10k, 2-16-16-1, batch 1", TrainConfig(**BIG, batch_size=1, learning_rate=0.01)),
    ("spiral 10k, 2-16-16-1, batch 64", TrainConfig(**BIG, batch_size=64, learning_rate=0.1)),
    ("spiral 10k, 2-16-16-1, tanh, batch 1", TrainConfig(**BIG, batch_size=1, learning_rate=0.01, activation="tanh")),
    ("spiral 10k, 2-16-16-1, tanh, batch 64", TrainConfig(**BIG, batch_size=64, learning_rate=0.1,
                                                          activation="tanh")),
]
RTOL = 1e-6  # final costs agree when |peer − nnviz| ≤ RTOL · max(1, nnviz)


@dataclass(frozen=True)
class Case:
    """One run as every engine gets it: nnviz's data, initial weights and settings."""

    name: str
    config: TrainConfig  # sgd with momentum β (0: plain), constant learning rate, no L2, no test set
    X: np.ndarray  # (n, 2) the training inputs, in the order the steps take them
    y: np.ndarray  # (n, 1) labels in {0, 1}
    theta: np.ndarray  # nnviz's initial flat parameter vector (network.Layout)

    @property
    def layout(self) -> Layout:
        return Layout(self.config.shape)


def make_case(name: str, config: TrainConfig) -> Case:
    """The data and initial weights a nnviz Trainer of ``config`` starts from."""
    c = config
    if (c.optimizer, c.schedule, c.l2, c.test_fraction, c.update_order) != ("sgd", "constant", 0.0, 0.0, "true"):
        raise ValueError(f"{name}: the peers reproduce sgd with a constant learning rate, no L2 and no test set only")
    trainer = Trainer(config, engine=kernels.get_compiled_engine())
    return Case(name, config, trainer.X, trainer.y, trainer.initial_record().params)


def _batches(n: int, batch_size: int) -> list[slice]:
    b = min(batch_size, n)
    return [slice(a, min(a + b, n)) for a in range(0, n, b)]


# Each engine: runner(case) does the set-up (conversions, compilation) and returns run(epochs) -> (final cost,
# seconds of training and per-epoch evaluation), every call starting again from the case's initial weights.


def nnviz_runner(case: Case):
    engine = kernels.get_compiled_engine()
    first = Trainer(case.config, engine=engine)
    first.specialise(wait=True)  # the kernels specialised for the shape, as a run gets them after its first moments

    def run(epochs: int) -> tuple[float, float]:
        trainer = Trainer(case.config.replace(epochs=epochs), engine=engine, like=first)
        start = time.perf_counter()
        for _ in range(epochs):
            record = trainer.step()
            if record is None:
                raise RuntimeError(f"nnviz: {trainer.divergence_reason}")
        return record.cost, time.perf_counter() - start

    return run


def torch_model(theta: np.ndarray, layout: Layout, activation: str = "relu"):
    """A float64 torch.nn.Sequential of Linear layers holding ``theta``: nnviz keeps W as (n_in, n_out), torch's
    Linear.weight is (out, in), so each W goes in transposed; a ReLU or Tanh between layers, no output sigmoid."""
    import torch

    hidden = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[activation]
    modules = []
    for w, b in layout.views(np.asarray(theta, dtype=np.float64)):
        linear = torch.nn.Linear(*w.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b.copy()))
        modules += [linear, hidden()]
    return torch.nn.Sequential(*modules[:-1])


def theta_of_torch(model, layout: Layout) -> np.ndarray:
    """The flat parameter vector (network.Layout) of a model made by torch_model."""
    theta = np.empty(layout.size)
    linears = [m for m in model if hasattr(m, "weight")]
    for (w, b), linear in zip(layout.views(theta), linears, strict=True):
        w[...] = linear.weight.detach().numpy().T
        b[...] = linear.bias.detach().numpy()
    return theta


def torch_cost(z, y):
    """nnviz's cost (mean cross-entropy with eps inside the logarithms) of output pre-activations z: its autograd
    gradient is the one nnviz steps with (network.output_delta)."""
    import torch

    p = torch.sigmoid(z)
    return -(y * torch.log(p + EPS) + (1.0 - y) * torch.log(1.0 - p + EPS)).mean()


def torch_runner(case: Case):
    import torch

    torch.set_num_threads(1)
    c = case.config
    X, y = torch.from_numpy(case.X.copy()), torch.from_numpy(case.y.copy())
    batches = [(X[s], y[s]) for s in _batches(len(X), c.batch_size)]

    def run(epochs: int) -> tuple[float, float]:
        model = torch_model(case.theta, case.layout, c.activation)
        # torch's SGD momentum is v <- mu v + g (its first step v = g), theta <- theta - lr v: with mu = beta and
        # lr = alpha (1 - beta), (1 - beta) v is nnviz's v <- beta v + (1 - beta) g from zero, step for step.
        beta = c.momentum
        optimizer = torch.optim.SGD(model.parameters(), lr=c.learning_rate * (1.0 - beta), momentum=beta)
        start = time.perf_counter()
        for _ in range(epochs):
            for xb, yb in batches:
                optimizer.zero_grad()
                torch_cost(model(xb), yb).backward()
                optimizer.step()
            with torch.no_grad():
                z = model(X)
                final = torch_cost(z, y).item()
                _accuracy = ((torch.sigmoid(z) > 0.5) == (y > 0.5)).double().mean().item()
        return final, time.perf_counter() - start

    return run


def jax_runner(case: Case):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    c = case.config
    hidden = {"relu": jax.nn.relu, "tanh": jnp.tanh}[c.activation]
    lr, beta = c.learning_rate, c.momentum
    n = len(case.X)
    size = min(c.batch_size, n)
    count = -(-n // size)
    # lax.scan wants equal batches: the last one is padded with zero points masked out of the batch mean.
    pad = count * size - n
    Xb = jnp.asarray(np.concatenate([case.X, np.zeros((pad, case.X.shape[1]))]).reshape(count, size, -1))
    yb = jnp.asarray(np.concatenate([case.y, np.zeros((pad, 1))]).reshape(count, size, 1))
    mb = jnp.asarray(np.concatenate([np.ones((n, 1)), np.zeros((pad, 1))]).reshape(count, size, 1))
    X, y = jnp.asarray(case.X), jnp.asarray(case.y)

    def logits(params, x):
        for w, b in params[:-1]:
            x = hidden(x @ w + b)
        w, b = params[-1]
        return x @ w + b

    def batch_cost(params, x, t, m):
        p = jax.nn.sigmoid(logits(params, x))
        losses = -(t * jnp.log(p + EPS) + (1.0 - t) * jnp.log(1.0 - p + EPS))
        return jnp.sum(losses * m) / jnp.sum(m)

    gradient = jax.grad(batch_cost)

    def step(carry, batch):
        params, velocity = carry
        g = gradient(params, *batch)
        velocity = jax.tree_util.tree_map(lambda v, g: beta * v + (1.0 - beta) * g, velocity, g)
        params = jax.tree_util.tree_map(lambda p, v: p - lr * v, params, velocity)
        return (params, velocity), None

    @jax.jit
    def epoch(params, velocity):
        (params, velocity), _ = jax.lax.scan(step, (params, velocity), (Xb, yb, mb))
        p = jax.nn.sigmoid(logits(params, X))
        cost_ = -jnp.mean(y * jnp.log(p + EPS) + (1.0 - y) * jnp.log(1.0 - p + EPS))
        return params, velocity, cost_, jnp.mean((p > 0.5) == (y > 0.5))

    start_params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in case.layout.views(case.theta.copy())]
    zeros = jax.tree_util.tree_map(jnp.zeros_like, start_params)
    jax.block_until_ready(epoch(start_params, zeros))  # compiles

    def run(epochs: int) -> tuple[float, float]:
        params, velocity = start_params, zeros
        start = time.perf_counter()
        for _ in range(epochs):
            params, velocity, cost_, _accuracy = epoch(params, velocity)
            final = float(cost_)  # waits for the epoch, as a caller reading the cost each epoch would
        return final, time.perf_counter() - start

    return run


def sklearn_runner(case: Case):
    from sklearn.neural_network import MLPClassifier

    class GivenStart(MLPClassifier):
        """MLPClassifier starting from given weights: its first fit asks _init_coef for each layer in turn
        (sklearn has no public way to give initial weights; its own draw is Glorot uniform)."""

        def _init_coef(self, fan_in, fan_out, dtype):
            w, b = next(self.start)
            return w.astype(dtype, copy=True), b.astype(dtype, copy=True)

    c = case.config
    X, labels = case.X, case.y.ravel()

    def run(epochs: int) -> tuple[float, float]:
        beta = c.momentum
        # sklearn's momentum is v <- mu v - lr g, theta <- theta + v: mu = beta and lr = alpha (1 - beta) is
        # nnviz's rule exactly (-v / alpha is nnviz's v).
        model = GivenStart(hidden_layer_sizes=c.shape[1:-1], activation=c.activation, solver="sgd", alpha=0.0,
                           batch_size=c.batch_size, learning_rate="constant",
                           learning_rate_init=c.learning_rate * (1.0 - beta), momentum=beta,
                           nesterovs_momentum=False, shuffle=False, early_stopping=False)
        model.start = iter(case.layout.views(case.theta))
        start = time.perf_counter()
        for _ in range(epochs):
            model.partial_fit(X, labels, classes=[0.0, 1.0])  # one epoch of steps, in order
            p = model.predict_proba(X)[:, 1:]
            final, _accuracy = cost(p, case.y), accuracy(p, case.y)
        return final, time.perf_counter() - start

    return run


PEERS = {"scikit-learn": ("sklearn", sklearn_runner), "PyTorch": ("torch", torch_runner), "JAX": ("jax", jax_runner)}


def available_peers() -> tuple[dict, list[str]]:
    """The installed peers' runners, and one note per peer that is not installed."""
    found, notes = {}, []
    for label, (module, runner) in PEERS.items():
        try:
            __import__(module)
        except ImportError as error:
            notes.append(f"{label}: skipped, not installed ({error}); pip install -e '.[bench]'")
            continue
        found[label] = runner
    return found, notes


def measure(runner, case: Case, epochs: int, min_seconds: float) -> tuple[float, float]:
    """(epochs/s, final cost) of ``epochs``-epoch runs repeated until timed at least ``min_seconds``."""
    run = runner(case)
    run(1)  # warm: first calls, caches
    total_s = 0.0
    runs = 0
    while runs == 0 or total_s < min_seconds:
        final, seconds = run(epochs)
        total_s += seconds
        runs += 1
    return runs * epochs / total_s, final


def _versions(peers) -> str:
    parts = [f"Python {sys.version.split()[0]}", f"numpy {np.__version__}"]
    for label in peers:
        module = __import__(PEERS[label][0])
        parts.append(f"{label} {module.__version__}")
    if "PyTorch" in peers:
        import torch

        torch.set_num_threads(1)
        parts.append(f"torch threads {torch.get_num_threads()}")
    return ", ".join(parts) + f", {os.cpu_count()} CPUs, every engine on 1 thread"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"{text!r}: must be an integer from 1 to 100000")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 600:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a number of seconds from 0 to 600")
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--epochs", type=_positive_int, default=5, help="epochs of every run (default 5)")
    parser.add_argument("--min-seconds", type=_seconds, default=0.5,
                        help="a faster run is repeated until timed this long (default 0.5)")
    args = parser.parse_args(argv)
    peers, notes = available_peers()
    print(_versions(peers))
    for note in notes:
        print(note)
    print(f"\n{args.epochs} epochs a run, from nnviz's initial weights; epochs/s include the per-epoch evaluation; "
          f"same cost: every peer's final cost within {RTOL:g} (relative) of nnviz's\n")
    header = "| case | nnviz epochs/s |" + "".join(f" {p} epochs/s | nnviz / {p} |" for p in peers)
    print(header + " nnviz cost | largest Δcost | same cost |")
    print("|---|---:|" + "---:|---:|" * len(peers) + "---:|---:|---|")
    warnings.filterwarnings("ignore", module="sklearn")
    for name, config in CASES:
        case = make_case(name, config)
        rate, reference = measure(nnviz_runner, case, args.epochs, args.min_seconds)
        cells, worst, differ = [], 0.0, []
        for label, runner in peers.items():
            peer_rate, peer_cost = measure(runner, case, args.epochs, args.min_seconds)
            delta = abs(peer_cost - reference)
            worst = max(worst, delta)
            if not delta <= RTOL * max(1.0, abs(reference)):
                differ.append(label)
            cells.append(f" {peer_rate:,.1f} | {rate / peer_rate:,.1f}× |")
        same = "yes" if not differ else "no: " + ", ".join(differ)
        print(f"| {name} | {rate:,.1f} |{''.join(cells)} {reference:.6f} | {worst:.1e} | {same} |", flush=True)


if __name__ == "__main__":
    main()
