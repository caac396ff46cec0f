"""What Trainer.step() adds to the compiled kernels per epoch, and where it goes.

Prints, per case, the time of Trainer.step() per epoch, the time of the raw kernel calls
(train_epoch_kernel + evaluate_kernel called directly on pre-bound arrays of the same size),
and their difference, the overhead, in µs (each the minimum over several repeats, the two
measured in alternation). Then the cost of each piece of per-epoch work the Trainer did
before the overhead was cut (np.all(isfinite), the record, np.errstate, the engine wrappers,
the chunking generator, ...), each timed on its own. Asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/bench_trainer_overhead.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnviz.core import kernels  # noqa: E402
from nnviz.core.training import EpochRecord, Evaluation, TrainConfig, Trainer, preset_config  # noqa: E402

CASES = [
    ("notebook net, sgd, 1000 points, batch 1", preset_config("sgd")),
    ("notebook net, sgd, 1000 points, batch 32", preset_config("sgd", batch_size=32)),
    ("tiny: 4 points, 2-3-4-1, batch 1", preset_config("sgd", n_samples=4)),
]
REPEATS = 15


def best_per_call(fn, calls: int, repeats: int = REPEATS) -> float:
    """Minimum over ``repeats`` of the mean seconds of one ``fn()`` over ``calls`` calls."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - started) / calls)
    return best


def raw_calls(trainer: Trainer):
    """The kernel calls the Trainer's bound run makes for an epoch (its compiled entry points, specialised when
    ready, on the trainer's own arrays), made back to back with nothing around them; and the generic kernels'
    numba dispatchers on empty data (the cost of a call through the dispatcher, which the bound run avoids)."""
    run = trainer._bound_run()  # a benchmark may look inside: it measures what is around these calls
    train, args, _ = run._call
    evaluations = run._evaluate or []

    def epoch():
        train(*args)
        for evaluate, eval_args, _ in evaluations:
            evaluate(*eval_args)

    c = trainer.config
    rule = c.update_rule()
    theta, first, second = trainer.theta, trainer.state.velocity, trainer.state.square
    offsets, shape = trainer.engine._arrays(trainer.layout)
    empty = np.empty((0, trainer.X.shape[1]))
    empty_train = (theta, first, second, offsets, shape, empty, empty[:, 0], c.batch_size, c.learning_rate,
                   kernels.OPTIMIZER_CODES[rule.optimizer], rule.momentum, rule.rho, rule.epsilon, rule.beta1,
                   rule.beta2, 0, c.l2, kernels.ACTIVATION_CODES[c.activation], rule.update_order == "notebook")
    empty_eval = (theta[:0], offsets, shape, empty, empty[:, 0], kernels.ACTIVATION_CODES[c.activation])

    def dispatch_only():  # the numba dispatchers on empty data: call overhead, no work
        kernels.train_epoch_kernel(*empty_train)
        kernels.evaluate_kernel(*empty_eval)

    return epoch, dispatch_only


def overhead(config: TrainConfig) -> tuple[float, float, float]:
    """(step, raw, numba dispatch) seconds per epoch; the step's overhead is step − raw."""
    trainer = Trainer(config.replace(epochs=10_000_000))
    trainer.specialise(wait=True)
    for _ in range(20):
        trainer.step()
    epoch, dispatch_only = raw_calls(trainer)
    per_epoch = best_per_call(epoch, 3, 3)
    calls = max(20, int(0.02 / per_epoch))
    step = raw = float("inf")
    for _ in range(REPEATS):  # alternated, so a slow spell of the machine hits both
        raw = min(raw, best_per_call(epoch, calls, 1))
        step = min(step, best_per_call(trainer.step, calls, 1))
    return step, raw, best_per_call(dispatch_only, 2000)


def pieces(config: TrainConfig) -> list[tuple[str, float]]:
    """Seconds of each piece of per-epoch work of the Trainer as it was before the overhead was cut."""
    trainer = Trainer(config.replace(epochs=10_000_000))
    trainer.step()
    theta, c, engine, layout = trainer.theta, trainer.config, trainer.engine, trainer.layout
    X = trainer.X
    evaluation = Evaluation(0.5, 0.5)

    def record():
        params = theta.copy()
        params.flags.writeable = False
        return EpochRecord(epoch=1, cost=0.5, accuracy=0.5, learning_rate=0.01, elapsed_s=0.0, params=params,
                           test_cost=None, test_accuracy=None, updates=1, samples=1)

    def errstate():
        with np.errstate(all="ignore"):
            pass

    def generator():
        def job():
            return evaluation
            yield

        try:
            next(job())
        except StopIteration as end:
            return end.value

    offsets = np.array(layout.offsets, dtype=np.int64)
    shape = np.array(layout.shape, dtype=np.int64)
    empty = np.empty((0, X.shape[1]))
    state = engine.new_state(layout.size)
    rule = c.update_rule()
    code = kernels.ACTIVATION_CODES[c.activation]

    def wrapped():  # the engine's methods on empty data...
        engine.train_epoch(theta, state, layout, empty, empty[:, 0], c.batch_size, c.learning_rate, rule, c.l2,
                           c.activation)
        engine.evaluate(theta[:0], layout, empty, empty[:, 0], c.activation)

    def bare():  # ...and the kernels they call, on the same empty data
        kernels.train_epoch_kernel(theta, state.velocity, state.square, offsets, shape, empty, empty[:, 0],
                                   c.batch_size, c.learning_rate, 0, 0.0, 0.9, 1e-8, 0.9, 0.999, 0, 0.0, code, False)
        kernels.evaluate_kernel(theta[:0], offsets, shape, empty, empty[:, 0], code)

    n = 3000
    return [
        ("np.all(np.isfinite(params))", best_per_call(lambda: np.all(np.isfinite(theta)), n)),
        ("the record (params copy, read-only, EpochRecord)", best_per_call(record, n)),
        ("Evaluation(...)", best_per_call(lambda: Evaluation(0.5, 0.5), n)),
        ("np.errstate(all='ignore')", best_per_call(errstate, n)),
        ("engine wrappers over the kernels", best_per_call(wrapped, n) - best_per_call(bare, n)),
        ("config.update_rule()", best_per_call(c.update_rule, n)),
        ("chunking generator (make, next, StopIteration)", best_per_call(generator, n)),
        ("learning_rate_for(epoch)", best_per_call(lambda: trainer.learning_rate_for(7), n)),
        ("4 × time.perf_counter()", 4 * best_per_call(time.perf_counter, n)),
    ]


def main() -> None:
    kernels.get_compiled_engine()
    print("| case | Trainer.step() µs/epoch | raw kernels µs/epoch | overhead µs/epoch | numba dispatch µs |")
    print("|---|---:|---:|---:|---:|")
    for name, config in CASES:
        step, raw, dispatch = overhead(config)
        print(f"| {name} | {step * 1e6:.2f} | {raw * 1e6:.2f} | {(step - raw) * 1e6:.2f} | {dispatch * 1e6:.2f} |")
    print()
    print("Pieces of the per-epoch work before the overhead was cut (notebook net), each timed alone:")
    print()
    print("| piece | µs |")
    print("|---|---:|")
    total = 0.0
    for name, seconds in pieces(CASES[0][1]):
        total += seconds
        print(f"| {name} | {seconds * 1e6:.2f} |")
    print(f"| sum | {total * 1e6:.2f} |")


if __name__ == "__main__":
    main()
