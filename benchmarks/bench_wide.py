"""Wide networks: nnviz's generic and specialised kernels against JAX, 10,000 spiral points.

The cases of bench_peers.py stop at 2-16-16-1; these go to 256 units a layer, where the specialised kernels keep
their arrays on the heap (specialised.MAX_STACK_BYTES) and JAX's matrix products, which fuse each multiply and
add, are at their best. Epochs/s as `Trainer.step()` delivers them (specialised: compiled or loaded first) and
JAX's jitted epoch (bench_peers.jax_runner, one thread, float64). Asserts nothing; prints a markdown table. Without
JAX (the `bench` extra) its column is skipped. Run from the repository root (about a minute):

    .venv/bin/python benchmarks/bench_wide.py [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import bench_peers  # noqa: E402
from bench_training import epochs_per_second  # noqa: E402

from nnviz.core import kernels  # noqa: E402
from nnviz.core.training import TrainConfig  # noqa: E402

DATA = {"dataset": "spiral", "n_samples": 10_000, "noise": 0.1}
SHAPES = [(2, 64, 64, 1), (2, 128, 128, 1), (2, 256, 256, 1)]


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--budget", type=bench_peers._seconds, default=2.0,
                        help="seconds each engine trains each case for (default 2)")
    args = parser.parse_args(argv)
    compiled = kernels.get_compiled_engine()
    jax = "JAX" in bench_peers.available_peers()[0]
    print("| network, batch | generic epochs/s | specialised epochs/s | JAX epochs/s | specialised / JAX |")
    print("|---|---:|---:|---:|---:|")
    for shape in SHAPES:
        for batch in (1, 64):
            config = TrainConfig(**DATA, shape=shape, batch_size=batch, learning_rate=0.01 if batch == 1 else 0.1)
            generic = epochs_per_second(config, compiled, args.budget, min_epochs=1, specialised=False)
            special = epochs_per_second(config, compiled, args.budget)
            jax_rate = None
            if jax:
                case = bench_peers.make_case(f"{shape} batch {batch}", config)
                jax_rate = bench_peers.measure(bench_peers.jax_runner, case, 3, args.budget)[0]
            jax_cols = f"{jax_rate:,.1f} | {special / jax_rate:.2f}×" if jax_rate else "– | –"
            name = "-".join(map(str, shape))
            print(f"| {name}, {batch} | {generic:,.1f} | {special:,.1f} | {jax_cols} |", flush=True)
    if not jax:
        print("JAX: skipped (not installed: pip install -e '.[bench]')")


if __name__ == "__main__":
    main()
