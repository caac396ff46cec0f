"""`nnviz train`: train one run headless and write one CSV row per epoch."""

from __future__ import annotations

import sys
import time

from nnviz import interrupts
from nnviz.core.comparison import Comparison, RunSpec, SharedSettings
from nnviz.core.files import history_csv
from nnviz.core.history import TEST_COLUMNS, History
from nnviz.options import (
    EXIT_DIVERGED,
    EXIT_FAILED,
    Parser,
    Progress,
    add_data_options,
    add_training_options,
    check_output_path,
    config_from_args,
    final_warnings,
    print_warnings,
    write_output,
)

PROG = "nnviz train"

CSV_COLUMNS = ("epoch", "cost", "accuracy", "learning_rate", "elapsed_s")  # plus TEST_COLUMNS with a test set


def format_csv(history: History) -> str:
    """A run's history as CSV text, one row per epoch, floats at full precision (repr)."""
    return history_csv(history, CSV_COLUMNS + (TEST_COLUMNS if history.has_test else ()))


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="Train headless and write one CSV row per epoch.")
    add_training_options(parser)
    add_data_options(parser)
    parser.add_argument("--csv", help="write the per-epoch records to PATH ('-' for stdout)")
    return parser


def train_command(argv: list[str]) -> int:
    """`nnviz train ARGV`; returns the exit status, raises UsageError on bad options."""
    args = build_parser().parse_args(argv)
    check_output_path("--csv", args.csv)
    config = config_from_args(args)  # reads the points of --data-csv

    # One run of the comparison model, as the window and `compare` train it (data, weights, history, snapshots).
    # Two snapshots are enough: the command line has no timeline.
    comparison = Comparison(SharedSettings.from_config(config), [RunSpec.from_config(config, "run")],
                            snapshot_capacity=2)
    run = next(iter(comparison))
    trainer, history = run.trainer, run.history
    print_warnings(PROG, comparison.start.warnings())  # a network that cannot learn from this start says why
    progress = Progress(config.epochs)
    start = time.perf_counter()
    try:
        with interrupts.raising():  # Ctrl-C stops the loop at once
            while not comparison.done:
                for record in comparison.step().values():
                    progress.update(record)
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    interrupts.check()
    last = history.row(len(history) - 1)

    print_warnings(PROG, final_warnings(comparison, run))
    if args.csv and not write_output(args.csv, format_csv(history), PROG):
        return EXIT_FAILED
    trained = last["epoch"]
    rate = trained / seconds if seconds > 0 else float("inf")
    test = f", test cost {last['test_cost']:.6f} accuracy {last['test_accuracy']:.4f}" if trainer.has_test else ""
    summary = (f"{trained} epochs: cost {last['cost']:.9f}, accuracy {last['accuracy']:.4f}{test}, "
               f"{seconds:.2f} s, {rate:,.0f} epochs/s ({trainer.engine.name} engine)")
    if trainer.status == "diverged":
        print(f"diverged at epoch {trainer.diverged_epoch}: {trainer.divergence_reason}; "
              f"lower the learning rate (--alpha, now {config.learning_rate:g}). "
              f"Kept the {len(history)} finite rows (epochs 0 to {trained}).", file=sys.stderr)
        return EXIT_DIVERGED
    print(summary, file=sys.stderr)
    return 0
