"""`nnviz lr-find`: the learning-rate finder headless; prints the suggestion and the edge, writes CSV and PNG."""

from __future__ import annotations

import sys

from nnviz import interrupts
from nnviz.core.comparison import prepare
from nnviz.core.lr_find import HIGH, LOW, LrFind, find_learning_rate
from nnviz.core.specs import SharedSettings
from nnviz.options import (
    EXIT_FAILED,
    Parser,
    UsageError,
    add_training_options,
    check_output_path,
    config_from_args,
    positive_number,
    print_warnings,
    write_output,
)

PROG = "nnviz lr-find"
CSV_COLUMNS = ("step", "learning_rate", "cost", "smoothed")
PNG_SIZE = (900, 540)


def format_csv(result: LrFind) -> str:
    """One row per step (counting from 1), floats at full precision (repr; inf and nan as Python writes them)."""
    lines = [",".join(CSV_COLUMNS)]
    rows = zip(result.rates, result.costs, result.smoothed, strict=True)
    for i, (rate, cost, smoothed) in enumerate(rows, start=1):
        lines.append(f"{i},{float(rate)!r},{float(cost)!r},{float(smoothed)!r}")
    return "\n".join(lines) + "\n"


def summary(result: LrFind) -> list[str]:
    """The two lines printed: the suggestion with its rule, and the edge."""
    edge = (f"edge of divergence: α = {result.edge:.3g} (the smoothed cost rose above 4 × its minimum)"
            if result.edge is not None else
            f"edge of divergence: none up to α = {result.rates[-1]:.3g} ({len(result.rates)} steps)")
    return [f"suggested α = {result.suggestion:.3g} ({result.rule})", edge]

POSITIVE = positive_number("a finite number > 0")  # --low, --high


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="Find a learning rate: one pass of steps with α rising exponentially "
                                           "from the shared start; prints the suggestion and the edge.")
    add_training_options(parser)
    parser.add_argument("--low", type=POSITIVE, default=LOW, help=f"lowest α of the pass, > 0 (default {LOW:g})")
    parser.add_argument("--high", type=POSITIVE, default=HIGH, help=f"highest α, above --low (default {HIGH:g})")
    parser.add_argument("--csv", help="write step,learning_rate,cost,smoothed to PATH ('-' for stdout)")
    parser.add_argument("--png", help="write the cost against α (log axis) with the edge and the suggestion to PATH")
    return parser


def _check_range(low: float, high: float) -> None:
    if not low < high:
        raise UsageError(f"--low {low:g}, --high {high:g}: --low must be below --high")


def lr_find_command(argv: list[str]) -> int:
    """`nnviz lr-find ARGV`; returns the exit status, raises UsageError on bad options."""
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    _check_range(args.low, args.high)
    check_output_path("--csv", args.csv)
    check_output_path("--png", args.png)
    if args.png == "-":
        raise UsageError("--png -: give a file name (a picture is not written to stdout)")

    with interrupts.raising():  # Ctrl-C stops the pass at once; nothing is written
        start = prepare(SharedSettings.from_config(config))
        print_warnings(PROG, start.warnings())
        result = find_learning_rate(config, start, low=args.low, high=args.high)
    interrupts.check()

    out = sys.stderr if args.csv == "-" else sys.stdout  # the CSV alone on stdout when it goes there
    if args.csv and not write_output(args.csv, format_csv(result), PROG):
        return EXIT_FAILED
    if args.png and not _write_png(args.png, result):
        return EXIT_FAILED
    print("\n".join(summary(result)), file=out)
    return 0


def _write_png(path: str, result: LrFind) -> bool:
    from nnviz.gui.lr_finder import lr_find_png  # Qt is loaded for the picture only

    return write_output(path, lr_find_png(result, *PNG_SIZE), PROG, "--png")
