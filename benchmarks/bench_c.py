"""nnviz's Trainer against the same training written in plain C with the layer sizes fixed at compile time.

The "C, sizes fixed" column of issue 13: benchmarks/c_reference.c is nnviz's compiled kernel (kernels.py's
train_epoch_kernel and evaluate_kernel for sgd) as C loops, compiled per network with
``gcc -O3 -march=native -shared -fPIC -DNLAYERS=3 -DN0=2 -DN1=3 ...`` into a temporary directory and called
through ctypes on nnviz's data and initial weights (bench_peers.make_case). Each epoch runs all steps in order,
then cost and accuracy on the training set, as a Trainer does; the C loops over epochs itself (one call per
timed stretch), so its epochs/s is the hand-written limit, without any per-epoch Python. The C is compiled in a
few variants (VARIANTS: flags and defines), each timed in turn with nnviz, and the fastest counts, named in the
table. Before timing, every variant's cost after --epochs epochs must agree with nnviz's to a relative 1e-9
(libm's exp against nnviz's own, and gcc's fused multiply-adds, leave rounding only). Prints a markdown table;
asserts no time; run it on a quiet machine (`uptime`). Run from the repository root:

    .venv/bin/python benchmarks/bench_c.py                          # about a minute
    .venv/bin/python benchmarks/bench_c.py --budget 0.5 --repeat 1  # rougher numbers

Without gcc it prints a note and exits 0.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench_peers import CASES, Case, _positive_int, _seconds, make_case  # noqa: E402
from bench_training import CASES as TRAINING_CASES  # noqa: E402
from bench_training import epochs_per_second  # noqa: E402

from nnviz.core import kernels  # noqa: E402
from nnviz.core.network import Layout  # noqa: E402
from nnviz.core.training import TrainConfig, Trainer  # noqa: E402

SOURCE = HERE / "c_reference.c"
CFLAGS = ["-O3", "-march=native", "-shared", "-fPIC"]
# Compilations of c_reference.c that the timing tries, each on its own: flags and defines beyond CFLAGS. The C
# column is the fastest per case (each wins some cases, by a few per cent; see c_reference.c's header for the
# defines). Tried and never ahead: -ffp-contract=off, vecmath's exp with libm's log, the velocity kept at beta = 0.
VARIANTS: dict[str, tuple[str, ...]] = {
    "O3": (),
    "O3 vexp": ("-DVEXP=1",),  # vecmath's exp in the sigmoid: vectorised in blocks, a longer chain per sample
    "O3 unroll": ("-funroll-loops",),
    "O3 zmm": ("-mprefer-vector-width=512",),
}
DEFAULT_VARIANT = "O3"  # the one the cost checks and CRun use unless told
MAX_LAYERS = 5  # weight layers c_reference.c is written for
RTOL = 1e-9  # C's cost after the check's epochs agrees when |C − nnviz| ≤ RTOL · |nnviz|

_double_array = np.ctypeslib.ndpointer(dtype=np.float64, ndim=1, flags="C_CONTIGUOUS")
_libraries: dict[tuple[tuple[int, ...], str, str], ctypes.CDLL] = {}


def have_gcc() -> bool:
    """True when gcc is on the PATH."""
    return shutil.which("gcc") is not None


def unsupported(config: TrainConfig) -> str:
    """Why the C reference cannot train ``config`` ("" when it can): it does sgd (β ≥ 0) with a constant learning
    rate, no L2, the true update order, no test set, relu or tanh and 1 to 5 weight layers."""
    c = config
    if (c.optimizer, c.schedule, c.update_order) != ("sgd", "constant", "true"):
        return "C does sgd with a constant learning rate in the true update order only"
    if c.l2 != 0.0 or c.test_fraction != 0.0:
        return "C does no L2 and no test set"
    if not 1 <= len(c.shape) - 1 <= MAX_LAYERS:
        return f"C does 1 to {MAX_LAYERS} weight layers"
    return ""


def build(shape: tuple[int, ...], activation: str = "relu", variant: str = DEFAULT_VARIANT) -> ctypes.CDLL:
    """c_reference.c compiled for ``shape`` (inputs, hidden ..., 1) as ``variant`` (a key of VARIANTS) and loaded;
    one build per shape, activation and variant.

    Raises RuntimeError with gcc's message when the compilation fails, ValueError for an unknown variant."""
    if variant not in VARIANTS:
        raise ValueError(f"variant {variant!r}: must be one of {', '.join(repr(v) for v in VARIANTS)}")
    key = (tuple(shape), activation, variant)
    if key in _libraries:
        return _libraries[key]
    defines = [f"-DNLAYERS={len(shape) - 1}"] + [f"-DN{i}={n}" for i, n in enumerate(shape)]
    defines.append(f"-DTANH={int(activation == 'tanh')}")
    with tempfile.TemporaryDirectory(prefix="nnviz-c-") as tmp:
        target = Path(tmp) / "c_reference.so"
        done = subprocess.run(["gcc", *CFLAGS, *VARIANTS[variant], *defines, str(SOURCE), "-o", str(target), "-lm"],
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"gcc failed for shape {shape}: {done.stderr.strip()}")
        library = ctypes.CDLL(str(target))  # stays mapped after the directory is removed
    library.train.argtypes = [_double_array, _double_array, _double_array, _double_array, ctypes.c_long,
                              ctypes.c_long, ctypes.c_double, ctypes.c_double, ctypes.c_long, _double_array,
                              _double_array]
    library.train.restype = ctypes.c_int
    # The sizes it was built for must be network.Layout's, offsets included.
    built_shape = (ctypes.c_long * 6).in_dll(library, "C_SHAPE")[: len(shape)]
    built_offsets = (ctypes.c_long * 6).in_dll(library, "C_OFFSETS")[: len(shape)]
    if tuple(built_shape) != tuple(shape) or built_offsets != Layout(tuple(shape)).offsets.tolist():
        raise RuntimeError(f"C built for {built_shape} at offsets {built_offsets}, not network.Layout{shape}")
    _libraries[key] = library
    return library


class CRun:
    """One C run from a case's initial weights, compiled as ``variant``: train(epochs) goes on where the last call
    stopped. With β = 0 the C keeps no velocity (c_reference.c's PLAIN): ``velocity`` stays zero."""

    def __init__(self, case: Case, variant: str = DEFAULT_VARIANT):
        reason = unsupported(case.config)
        if reason:
            raise ValueError(f"{case.name}: {reason}")
        self.config = case.config
        self._library = build(case.config.shape, case.config.activation, variant)
        self.theta = np.array(case.theta, dtype=np.float64)  # nnviz's flat layout, trained in place
        self.velocity = np.zeros_like(self.theta)
        self._X = np.ascontiguousarray(case.X, dtype=np.float64)
        self._y = np.ascontiguousarray(case.y, dtype=np.float64).reshape(-1)
        if self._X.shape != (len(self._y), case.config.shape[0]):
            raise ValueError(f"{case.name}: X must be ({len(self._y)}, {case.config.shape[0]}), not {self._X.shape}")

    def train(self, epochs: int) -> tuple[np.ndarray, np.ndarray]:
        """Train ``epochs`` epochs; (costs, accuracies) of shape (epochs,), evaluated after each epoch."""
        costs, accuracies = np.empty(epochs), np.empty(epochs)
        c = self.config
        status = self._library.train(self.theta, self.velocity, self._X.reshape(-1), self._y, len(self._y),
                                     c.batch_size, c.learning_rate, c.momentum, epochs, costs, accuracies)
        if status:
            raise MemoryError("C reference: out of memory")
        return costs, accuracies


def nnviz_costs(case: Case, epochs: int) -> list[float]:
    """nnviz Trainer's cost after each of ``epochs`` epochs of ``case`` (the compiled engine)."""
    config = case.config.replace(epochs=epochs)
    return [record.cost for record in Trainer(config, engine=kernels.get_compiled_engine()) if record.epoch > 0]


def check_cost(case: Case, epochs: int, variant: str = DEFAULT_VARIANT) -> tuple[float, float]:
    """(nnviz's, C's) cost after ``epochs`` epochs; ValueError when they differ by more than RTOL relative."""
    reference = nnviz_costs(case, epochs)[-1]
    c_cost = float(CRun(case, variant).train(epochs)[0][-1])
    if not abs(c_cost - reference) <= RTOL * abs(reference):
        raise ValueError(f"{case.name}: C's cost after {epochs} epochs is {c_cost!r}, nnviz's {reference!r} "
                         f"(relative difference {abs(c_cost - reference) / abs(reference):.1e} > {RTOL:g})")
    return reference, c_cost


def _c_rate(case: Case, budget_s: float, min_epochs: int = 2, variant: str = DEFAULT_VARIANT) -> float:
    """Epochs/s of the C reference training on from the case's initial weights for about ``budget_s``."""
    run = CRun(case, variant)
    chunk, epochs, elapsed = 1, 0, 0.0
    while epochs < min_epochs or elapsed < budget_s:
        start = time.perf_counter()
        run.train(chunk)
        seconds = time.perf_counter() - start
        elapsed += seconds
        epochs += chunk
        # Calls of about 50 ms: the ctypes call is noise, and the budget is not overshot by much.
        chunk = max(1, min(int(chunk * 0.05 / max(seconds, 1e-9)), chunk * 8))
    return epochs / elapsed


def _config_named(name: str) -> TrainConfig:
    for cases in (CASES, TRAINING_CASES):
        for label, config in cases:
            if label == name:
                return config
    names = [label for label, _ in CASES] + [label for label, _ in TRAINING_CASES]
    raise ValueError(f"case {name!r}: must be one of {', '.join(repr(n) for n in names)}")


def c_epochs_per_second(case: str | TrainConfig, budget_s: float = 2.0, check_epochs: int = 2,
                        variants: tuple[str, ...] | None = None) -> float | None:
    """Epochs/s of the C reference (training + evaluation on the training set) for a case of bench_peers.CASES or
    bench_training.CASES (by name) or any config: the fastest of ``variants`` (keys of VARIANTS; all when None),
    each timed for ``budget_s`` after checking its cost after ``check_epochs`` epochs against nnviz's (see
    check_cost); None when gcc is absent or C cannot train the config (see unsupported). ValueError for an unknown
    name or variant, or a cost that differs."""
    config = _config_named(case) if isinstance(case, str) else case
    if not have_gcc() or unsupported(config):
        return None
    run = make_case(case if isinstance(case, str) else "config", config)
    rates = []
    for variant in VARIANTS if variants is None else variants:
        if check_epochs:
            check_cost(run, check_epochs, variant)
        rates.append(_c_rate(run, budget_s, variant=variant))
    return max(rates)


def _gcc_version() -> str:
    done = subprocess.run(["gcc", "--version"], capture_output=True, text=True)
    return (done.stdout.splitlines() or ["gcc"])[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--epochs", type=_positive_int, default=5,
                        help="epochs of the cost check, C against nnviz (default 5)")
    parser.add_argument("--budget", type=_seconds, default=1.0,
                        help="seconds each engine and C variant trains each case for each timing (default 1)")
    parser.add_argument("--repeat", type=_positive_int, default=2,
                        help="timings of each, in alternation, of which the best counts (default 2)")
    args = parser.parse_args(argv)
    if not have_gcc():
        print("gcc: not found on the PATH; the C reference is skipped (install gcc to measure it)")
        return
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}, {_gcc_version()} "
          f"{' '.join(CFLAGS)}, {os.cpu_count()} CPUs")
    variants = "; ".join(f"{name}: {' '.join(flags) or '-'}" for name, flags in VARIANTS.items())
    print(f"C variants (c_reference.c, CFLAGS plus): {variants}")
    print(f"\nSame cost: C's cost after {args.epochs} epochs within {RTOL:g} (relative) of nnviz's, every variant "
          f"(C cost: {DEFAULT_VARIANT}'s)\n")
    print("| case | nnviz cost | C cost | largest relative Δ |")
    print("|---|---:|---:|---:|")
    cases = [make_case(name, config) for name, config in CASES]
    for case in cases:
        checks = [check_cost(case, args.epochs, variant) for variant in VARIANTS]
        reference, c_cost = checks[0]
        worst = max(abs(c - reference) for _, c in checks) / abs(reference)
        print(f"| {case.name} | {reference:.12f} | {c_cost:.12f} | {worst:.1e} |", flush=True)
    print(f"\nepochs/s include the per-epoch evaluation of cost and accuracy on the training set; nnviz: "
          f"Trainer.step(), compiled engine; C: the fastest variant; best of {args.repeat} timings of each, in turn\n")
    print("| case | nnviz Trainer epochs/s | C epochs/s | C / nnviz | fastest C |")
    print("|---|---:|---:|---:|---|")
    engine = kernels.get_compiled_engine()
    for case in cases:
        nnviz_rate, c_rates = 0.0, dict.fromkeys(VARIANTS, 0.0)
        for _ in range(args.repeat):
            nnviz_rate = max(nnviz_rate, epochs_per_second(case.config, engine, args.budget))
            for variant in VARIANTS:
                c_rates[variant] = max(c_rates[variant], _c_rate(case, args.budget, variant=variant))
        fastest = max(c_rates, key=c_rates.get)
        print(f"| {case.name} | {nnviz_rate:,.0f} | {c_rates[fastest]:,.0f} | {c_rates[fastest] / nnviz_rate:.2f}× "
              f"| {fastest} |", flush=True)


if __name__ == "__main__":
    main()
