"""Command line: `nnviz` opens the window, `nnviz train ...` trains headless and writes CSV."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from nnviz.core.comparison import TEST_COLUMNS, History
from nnviz.core.datasets import DATASETS
from nnviz.core.files import write_atomic
from nnviz.core.network import ACTIVATIONS
from nnviz.core.optimizers import SCHEDULES
from nnviz.core.training import ENGINES, TrainConfig, Trainer, load_presets

EXIT_USAGE = 2
EXIT_DIVERGED = 3


class UsageError(Exception):
    """Bad input on the command line: exit 2 with this one-line message."""


class Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line and exit status 2, never a usage dump."""

    def error(self, message):
        raise UsageError(message)


def _number(kind, allowed):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}; "
                                             f"allowed: {allowed}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not finite; allowed: {allowed}")
        return value
    return parse


def _shape(text):
    allowed = "comma-separated layer sizes starting with 2 and ending with 1, hidden sizes 1 to 256, e.g. 2,3,4,1"
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape; allowed: {allowed}") from None
    if len(shape) < 2 or shape[0] != 2 or shape[-1] != 1 or any(not 1 <= h <= 256 for h in shape[1:-1]):
        raise argparse.ArgumentTypeError(f"{text!r}; allowed: {allowed}")
    return shape


def _batch_size(text):
    if text.strip().lower() == "full":
        return 1_000_000
    return _number(int, "an integer ≥ 1, or 'full'")(text)


# option, TrainConfig field, parser, help (with the allowed range)
TRAINING_OPTIONS = [
    ("--dataset", "dataset", str, f"data set: {', '.join(DATASETS)}"),
    ("--samples", "n_samples", _number(int, "an integer from 4 to 1,000,000"),
     "number of points, 4 to 1,000,000 (a multiple of 4 for 'hard')"),
    ("--noise", "noise", _number(float, "0 to 1"), "noise in units of the data's spread, 0 to 1 (unused by 'hard')"),
    ("--test-fraction", "test_fraction", _number(float, "0 to 0.9"), "fraction held out as a test set, 0 to 0.9"),
    ("--shape", "shape", _shape, "layer sizes, e.g. 2,3,4,1 (input 2, output 1, hidden 1 to 256)"),
    ("--activation", "activation", str, f"hidden activation: {', '.join(ACTIVATIONS)}"),
    ("--alpha", "learning_rate", _number(float, "a finite number > 0"), "learning rate α > 0"),
    ("--batch-size", "batch_size", _batch_size, "mini-batch size ≥ 1 (1 = per-sample SGD, 'full' = full batch)"),
    ("--beta", "momentum", _number(float, "0 ≤ β < 1"), "momentum β: v ← βv + (1−β)g, 0 ≤ β < 1"),
    ("--gamma", "gamma", _number(float, "0 ≤ γ < 1"),
     "decay γ: α·(1−γ)^(e−1), 0 ≤ γ < 1 (implies --schedule exponential)"),
    ("--schedule", "schedule", str, f"learning-rate schedule: {', '.join(SCHEDULES)}"),
    ("--step-every", "step_every", _number(int, "an integer ≥ 1"), "step schedule: epochs between steps, ≥ 1"),
    ("--step-factor", "step_factor", _number(float, "0 < f ≤ 1"), "step schedule: factor per step, 0 < f ≤ 1"),
    ("--l2", "l2", _number(float, "a finite number ≥ 0"), "L2 penalty λ ≥ 0: (λ/2)·Σw² on weights"),
    ("--epochs", "epochs", _number(int, "an integer from 0 to 10,000,000"), "epochs to train, 0 to 10,000,000"),
    ("--data-seed", "data_seed", _number(int, "an integer from 0 to 2³²−1"), "seed of the data, 0 to 2³²−1"),
    ("--init-seed", "init_seed", _number(int, "an integer from 0 to 2³²−1"), "seed of the initial weights, 0 to 2³²−1"),
    ("--engine", "engine", str, f"training engine: {', '.join(ENGINES)} (default compiled)"),
]
OPTION_OF_FIELD = {field: option for option, field, _, _ in TRAINING_OPTIONS}


def usage_error(exc: ValueError) -> UsageError:
    """A settings error ("n_samples=3: ...") as a usage error naming the option ("--samples: n_samples=3: ...")."""
    field = str(exc).split("=", 1)[0]
    return UsageError(f"{OPTION_OF_FIELD.get(field, '--' + field.replace('_', '-'))}: {exc}")


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """The options that build a TrainConfig, shared by `train` and the window."""
    presets = load_presets()
    parser.add_argument("--preset", choices=list(presets), help="start from a preset of the notebook (default sgd)")
    for option, field, kind, text in TRAINING_OPTIONS:
        parser.add_argument(option, dest=field, type=kind, default=None, help=text)


def config_from_args(args: argparse.Namespace, default_preset: str = "sgd") -> TrainConfig:
    """TrainConfig from parsed options: the preset's values, overridden by explicit options.

    Raises UsageError naming the option, the value and the allowed range.
    """
    values = dict(load_presets()[args.preset or default_preset])
    explicit = {field: getattr(args, field) for _, field, _, _ in TRAINING_OPTIONS if getattr(args, field) is not None}
    values.update(explicit)
    if explicit.get("gamma", 0) > 0 and "schedule" not in explicit:
        values["schedule"] = "exponential"
    try:
        return TrainConfig(**values)
    except ValueError as exc:
        raise usage_error(exc) from None


CSV_COLUMNS = ("epoch", "cost", "accuracy", "learning_rate", "elapsed_s")  # plus TEST_COLUMNS with a test set


def format_csv(history: History) -> str:
    """A run's history as CSV text, one row per epoch, floats at full precision (repr)."""
    columns = CSV_COLUMNS + (TEST_COLUMNS if history.has_test else ())
    data = history.to_columns()
    lines = [",".join(columns)]
    lines += (",".join(map(repr, values)) for values in zip(*(data[c] for c in columns), strict=True))
    return "\n".join(lines) + "\n"


def check_output_path(option: str, path: str | None) -> None:
    """Refuse an output path that cannot be written, before any work is done."""
    if path is None or path == "-":
        return
    parent = Path(path).resolve().parent
    if Path(path).is_dir():
        raise UsageError(f"{option} {path}: is a folder; give a file name")
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{option} {path}: folder {parent} is not writable")


class Progress:
    """A one-line progress bar on stderr, redrawn at most 10 times a second, only on a terminal."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.stream = total, stream
        self.enabled = stream.isatty()
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, record) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.1 and record.epoch < self.total):
            return
        self.last = now
        width = 30
        done = int(width * record.epoch / max(self.total, 1))
        rate = record.epoch / max(now - self.start, 1e-9)
        self.stream.write(f"\r[{'#' * done}{'.' * (width - done)}] epoch {record.epoch}/{self.total} "
                          f"cost {record.cost:.6f} accuracy {record.accuracy:.4f} {rate:,.0f} epochs/s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def train_command(argv: list[str]) -> int:
    parser = Parser(prog="nnviz train", description="Train headless and write one CSV row per epoch.")
    add_training_options(parser)
    parser.add_argument("--csv", help="write the per-epoch records to PATH ('-' for stdout)")
    args = parser.parse_args(argv)
    config = config_from_args(args)
    check_output_path("--csv", args.csv)

    trainer = Trainer(config)
    progress = Progress(config.epochs)
    # The scalars only: a record also holds a copy of the parameters, too much to keep for 10⁷ epochs.
    history = History(trainer.has_test)
    start = time.perf_counter()
    for record in trainer:
        history.append(record)
        progress.update(record)
    seconds = time.perf_counter() - start
    progress.close()

    if args.csv:
        text = format_csv(history)
        if args.csv == "-":
            sys.stdout.write(text)
        else:
            write_atomic(args.csv, text)
    last = record
    trained = last.epoch
    rate = trained / seconds if seconds > 0 else float("inf")
    test = f", test cost {last.test_cost:.6f} accuracy {last.test_accuracy:.4f}" if trainer.has_test else ""
    summary = (f"{trained} epochs: cost {last.cost:.9f}, accuracy {last.accuracy:.4f}{test}, "
               f"{seconds:.2f} s, {rate:,.0f} epochs/s ({trainer.engine.name} engine)")
    if trainer.status == "diverged":
        print(f"diverged at epoch {trainer.diverged_epoch}: {trainer.divergence_reason}; "
              f"lower the learning rate (--alpha, now {config.learning_rate:g}). "
              f"Kept the {len(history)} finite rows (epochs 0 to {trained}).", file=sys.stderr)
        return EXIT_DIVERGED
    print(summary, file=sys.stderr)
    return 0


def gui_command(argv: list[str]) -> int:
    from nnviz.gui.app import run_gui

    return run_gui(argv)


COMMANDS = {"train": train_command}


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python main.py` and the `nnviz` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = COMMANDS.get(argv[0]) if argv else None
    try:
        if command is not None:
            return command(argv[1:])
        return gui_command(argv)
    except UsageError as exc:
        name = f"nnviz {argv[0]}" if command is not None else "nnviz"
        print(f"{name}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def compare_command(argv: list[str]) -> int:
    from nnviz.compare_cli import compare_command  # imported here: compare_cli imports this module

    return compare_command(argv)


COMMANDS["compare"] = compare_command
