"""Training speed of the compiled and numpy engines, start-up, grid evaluation and the CLI end to end.

Prints markdown tables; asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/bench_training.py          # about a minute
    .venv/bin/python benchmarks/bench_training.py --quick  # shorter budgets, rougher numbers

Epochs/s count everything a Trainer does per epoch: the steps, the evaluation of cost and
accuracy on the whole training set, and the record.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnviz.core import kernels  # noqa: E402
from nnviz.core.grid import GridEvaluator  # noqa: E402
from nnviz.core.network import Layout, init_params  # noqa: E402
from nnviz.core.specialised import ENV_SWITCH  # noqa: E402
from nnviz.core.training import NumpyEngine, TrainConfig, Trainer, preset_config  # noqa: E402

# The notebook's own trainer (its train_dec, every delta before the step), epochs/s
# including its per-epoch evaluation, measured once by hand on the machine of the
# README's table (2-core Xeon, Python 3.11, numpy 2.4). Only the ratios use these.
NOTEBOOK_EPOCHS_PER_S = {"sgd": 16.3, "mini-batch": 437.0, "momentum": 16.6, "decay": 16.0}

BIG = {"dataset": "spiral", "n_samples": 10_000, "noise": 0.1, "shape": (2, 16, 16, 1)}
CASES = [
    ("sgd", preset_config("sgd")),
    ("mini-batch", preset_config("mini-batch")),
    ("momentum", preset_config("momentum")),
    ("decay", preset_config("decay")),
    ("sgd, notebook's update order", preset_config("sgd", update_order="notebook")),
    ("nesterov (batch 1)", preset_config("nesterov")),
    ("adam (batch 32)", preset_config("adam")),
    ("rmsprop, batch 1", preset_config("sgd", optimizer="rmsprop", learning_rate=0.001)),
    ("spiral 10k, 2-16-16-1, batch 1", TrainConfig(**BIG, batch_size=1, learning_rate=0.01)),
    ("spiral 10k, 2-16-16-1, batch 64", TrainConfig(**BIG, batch_size=64, learning_rate=0.1)),
]

SPECIALISE = (
    "import time; from nnviz.core import kernels; kernels.get_compiled_engine(); "
    "from nnviz.core.training import Trainer, preset_config; trainer = Trainer(preset_config('sgd')); "
    "t = time.perf_counter(); trainer.specialise(wait=True); print(time.perf_counter() - t)"
)
STARTUP = (
    "import time; t = time.perf_counter(); from nnviz.core import kernels; kernels.get_compiled_engine(); "
    "print(time.perf_counter() - t)"
)


def epochs_per_second(config: TrainConfig, engine, budget_s: float, min_epochs: int = 2,
                      specialised: bool = True) -> float:
    """Epochs/s of Trainer.step() over at least min_epochs and about budget_s seconds; ``specialised``: with the
    kernels specialised for the shape (compiled or loaded first, as a run gets them after its first moments),
    else with the generic kernels throughout."""
    switch = os.environ.get(ENV_SWITCH)
    os.environ[ENV_SWITCH] = "1" if specialised else "0"  # read when a run binds its kernels
    try:
        trainer = Trainer(config.replace(epochs=10_000_000), engine=engine)
        if specialised:
            trainer.specialise(wait=True)
    finally:
        if switch is None:
            del os.environ[ENV_SWITCH]
        else:
            os.environ[ENV_SWITCH] = switch
    epochs, start = 0, time.perf_counter()
    while epochs < min_epochs or time.perf_counter() - start < budget_s:
        if trainer.step() is None:
            break
        epochs += 1
    return epochs / (time.perf_counter() - start)


def bench_engines(budget_s: float) -> dict[str, float]:
    """Prints the engines' table; returns the compiled engine's epochs/s by case name."""
    compiled, numpy_engine = kernels.get_compiled_engine(), NumpyEngine()
    rates = {}
    print("| run | numpy epochs/s | compiled epochs/s | compiled / numpy | notebook epochs/s | compiled / notebook |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, config in CASES:
        fast = epochs_per_second(config, compiled, budget_s)
        slow = epochs_per_second(config, numpy_engine, budget_s)
        notebook = NOTEBOOK_EPOCHS_PER_S.get(name)
        nb_cols = f"{notebook:,.0f} | {fast / notebook:,.0f}×" if notebook else "– | –"
        print(f"| {name} | {slow:,.1f} | {fast:,.0f} | {fast / slow:,.0f}× | {nb_cols} |", flush=True)
        rates[name] = fast
    return rates


def bench_issue_table(budget_s: float) -> None:
    """Issue 13's table: the compiled Trainer with its generic kernels and with the kernels specialised for the
    shape, against the same training in C with the layer sizes fixed (bench_c.py, its cost checked against nnviz's
    first) and JAX (bench_peers.py, one thread), each case measured back to back so a slow spell of the shared
    machine hits them alike. C is skipped without gcc, JAX when it is not installed (the `bench` extra)."""
    import bench_peers
    from bench_c import c_epochs_per_second, have_gcc

    compiled = kernels.get_compiled_engine()
    jax = "JAX" in bench_peers.available_peers()[0]
    notes = [] if have_gcc() else ["C: skipped (gcc not found)"]
    notes += [] if jax else ["JAX: skipped (not installed: pip install -e '.[bench]')"]
    print("\n| case (epochs/s incl. the per-epoch evaluation) | nnviz `Trainer`, generic kernels | nnviz `Trainer`, "
          "specialised | C, sizes fixed | C / nnviz | JAX (jit, 1 thread) | nnviz / JAX |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, config in bench_peers.CASES:
        generic = epochs_per_second(config, compiled, budget_s, specialised=False)
        special = epochs_per_second(config, compiled, budget_s)
        c_rate = c_epochs_per_second(config, budget_s) if have_gcc() else None
        jax_rate = None
        if jax:
            case = bench_peers.make_case(name, config)
            jax_rate = bench_peers.measure(bench_peers.jax_runner, case, 20, budget_s)[0]
        c_cols = f"{c_rate:,.0f} | {c_rate / special:.2f}×" if c_rate else "– | –"
        jax_cols = f"{jax_rate:,.0f} | {special / jax_rate:.2f}×" if jax_rate else "– | –"
        print(f"| {name} | {generic:,.0f} | {special:,.0f} | {c_cols} | {jax_cols} |", flush=True)
    for note in notes:
        print(note)


def _best_of(f, repeat: int) -> float:
    f()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_evaluation() -> None:
    """The per-epoch evaluation, compiled kernel vs vectorised numpy (the engine keeps the faster)."""
    compiled, numpy_engine = kernels.get_compiled_engine(), NumpyEngine()
    print("\n| evaluation of cost and accuracy | compiled kernel µs | vectorised numpy µs |")
    print("|---|---:|---:|")
    for label, config in [("hard 1000, 2-3-4-1", preset_config("sgd")), ("spiral 10k, 2-16-16-1", TrainConfig(**BIG))]:
        for activation in ("relu", "tanh"):
            trainer = Trainer(config.replace(activation=activation), engine=numpy_engine)
            offsets, shape = compiled._arrays(trainer.layout)
            theta, X, y = trainer.theta, trainer.X, trainer.y.ravel()
            code = kernels.ACTIVATION_CODES[activation]
            t_kernel = _best_of(lambda: kernels.evaluate_kernel(theta, offsets, shape, X, y, code), 50)  # noqa: B023
            t_numpy = _best_of(lambda: numpy_engine.evaluate(theta, trainer.layout, X, trainer.y, activation), 50)  # noqa: B023
            print(f"| {label}, {activation} | {t_kernel * 1e6:,.0f} | {t_numpy * 1e6:,.0f} |")


def bench_grid() -> None:
    print("\n| grid evaluation, 200×200 | ms (median of 200) |")
    print("|---|---:|")
    for shape in [(2, 3, 4, 1), (2, 16, 16, 1)]:
        for activation in ("relu", "tanh"):
            layout = Layout(shape)
            theta = init_params(shape, 1234)
            evaluator = GridEvaluator(layout, activation, (-2.0, 2.0, -2.0, 2.0), n=200)
            evaluator(theta)
            times = []
            for _ in range(200):
                start = time.perf_counter()
                evaluator(theta)
                times.append(time.perf_counter() - start)
            label = "-".join(map(str, shape))
            print(f"| {label}, {activation} | {statistics.median(times) * 1e3:.2f} |")


def _run(cmd: list[str], env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, done


def bench_startup() -> None:
    """Import + get_compiled_engine() in a fresh interpreter: with an empty numba cache, then cached; then the
    kernels specialised for the notebook's network (compiled in the background while the generic ones train)."""
    print("\n| compiled engine start-up (fresh process) | import + compile/load s | process wall s |")
    print("|---|---:|---:|")
    with tempfile.TemporaryDirectory() as cache_dir:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "NNVIZ_KERNEL_DIR": cache_dir}
        for label in ("first call (empty cache: compiles)", "later starts (cached)"):
            wall, done = _run([sys.executable, "-c", STARTUP], env)
            if done.returncode:
                print(f"| {label} | failed: {done.stderr.strip().splitlines()[-1]} | |")
                return
            print(f"| {label} | {float(done.stdout.strip().splitlines()[-1]):.2f} | {wall:.2f} |", flush=True)
        for label in ("specialised kernels, 2-3-4-1 batch 1, first time (in the background)",
                      "specialised kernels, later starts (cached, in the background)"):
            wall, done = _run([sys.executable, "-c", SPECIALISE], env)
            if done.returncode:
                print(f"| {label} | failed: {done.stderr.strip().splitlines()[-1]} | |")
                return
            print(f"| {label} | {float(done.stdout.strip().splitlines()[-1]):.2f} | {wall:.2f} |", flush=True)


def bench_cli(repeat: int = 3) -> None:
    cmd = [sys.executable, "main.py", "train", "--preset", "sgd", "--epochs", "1500"]
    print(f"\n`{' '.join(['python'] + cmd[1:])}` end to end, warm cache:", end=" ")
    wall, done = _run(cmd)  # also warms the cache
    if done.returncode:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"skipped ({reason})")
        return
    walls = [_run(cmd)[0] for _ in range(repeat)]
    print(f"{statistics.median(walls):.2f} s wall (median of {repeat})")


def main() -> None:
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter time budgets, rougher numbers")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs\n")
    budget_s = 0.5 if args.quick else 2.0
    bench_engines(budget_s)
    bench_issue_table(budget_s)
    bench_evaluation()
    bench_grid()
    bench_startup()
    bench_cli()


if __name__ == "__main__":
    main()
