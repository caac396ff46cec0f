"""`nnviz sweep`: one run's settings trained over a grid of one or two hyper-parameters (× seeds), as CSV and PNG.

The CSV has one row per cell and seed, in grid order (the --x value slowest, the seed fastest): a column per
swept parameter (named as in TrainConfig), then ``seed,final_cost,best_cost,epochs_to_target,final_accuracy,
diverged``. Floats at full precision; ``epochs_to_target`` empty when the cost never reached --target (or no
--target was given); ``diverged`` true or false (a diverged cell's numbers are those of its last finite epoch).
"""

from __future__ import annotations

import os
import sys
import time

from nnviz import interrupts
from nnviz.core.cluster import EXTRA, check_scheduler
from nnviz.core.cluster import available as cluster_available
from nnviz.core.files import WriteError, write_atomic
from nnviz.core.sweep import MAX_SEEDS, SEED_KINDS, Axis, CellResult, cell_config, grid, parse_axis, sweep
from nnviz.core.text import shorten
from nnviz.options import (
    EXIT_FAILED,
    CountProgress,
    Parser,
    UsageError,
    add_data_options,
    add_training_options,
    check_output_path,
    config_from_args,
    integer_in,
    positive_number,
    usage_error,
    write_output,
)

PROG = "nnviz sweep"
RESULT_COLUMNS = ("seed", "final_cost", "best_cost", "epochs_to_target", "final_accuracy", "diverged")
PNG_SIZE = (900, 675)


def format_csv(axes: list[Axis], results: list[CellResult]) -> str:
    """One row per cell and seed: the swept values, then RESULT_COLUMNS."""
    lines = [",".join([axis.name for axis in axes] + list(RESULT_COLUMNS))]
    for r in results:
        values = [repr(r.values[axis.name]) for axis in axes]
        target = "" if r.epochs_to_target is None else str(r.epochs_to_target)
        lines.append(",".join([*values, str(r.seed + 1), repr(r.final_cost), repr(r.best_cost), target,
                               repr(r.final_accuracy), "true" if r.diverged else "false"]))
    return "\n".join(lines) + "\n"


POSITIVE_COST = positive_number("a finite cost > 0")  # --target


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="Train one run's settings over a grid of one or two of its "
                    "hyper-parameters (× seeds), every cell from the shared start, and write one CSV row per cell "
                    "and seed.")
    add_training_options(parser)
    add_data_options(parser)
    axis_help = ("NAME=LOW:HIGH:lin|log:COUNT, NAME one of learning_rate, momentum, rho, beta1, beta2, epsilon, "
                 "batch_size, gamma, l2, epochs; COUNT 1 to 64 (batch_size and epochs are rounded to integers, "
                 "duplicates dropped)")
    parser.add_argument("--x", required=True, metavar="AXIS", help="the first swept setting: " + axis_help)
    parser.add_argument("--y", metavar="AXIS", help="a second swept setting, as --x")
    parser.add_argument("--seeds", type=integer_in(1, MAX_SEEDS), default=1,
                        help=f"repeat every cell over K seeds, 1 to {MAX_SEEDS} (seed 1 is the run's own seeds, seed i "
                        "adds i − 1 to them, as in compare --seeds)")
    parser.add_argument("--seed-kind", choices=SEED_KINDS, default="init",
                        help="which seeds vary: init (initial weights, default), data, or both")
    parser.add_argument("--target", type=POSITIVE_COST, help="a cost to reach: epochs_to_target is the first epoch at "
                        "or below it")
    parser.add_argument("--workers", type=integer_in(1, 256), default=None,
                        help=f"threads training blocks of cells, 1 to 256 (default {os.cpu_count() or 1}: one a core)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="train on a Dask cluster: its scheduler's address, e.g. tcp://HOST:8786 (needs "
                        "pip install 'nnviz[cluster]' here and on the workers)")
    parser.add_argument("--csv", required=True, help="write one row per cell and seed to PATH ('-' for stdout): "
                        "the swept settings, then " + ",".join(RESULT_COLUMNS))
    parser.add_argument("--png", metavar="OUT", help="also draw the final cost to OUT: a heat map on a log colour "
                        "scale (two axes) or a line with a band over the seeds (one axis), diverged cells marked")
    return parser


def axes_from_args(args) -> list[Axis]:
    axes = []
    for option, text in (("--x", args.x), ("--y", args.y)):
        if text is None:
            continue
        try:
            axes.append(parse_axis(text))
        except ValueError as exc:
            raise UsageError(f"{option}: {shorten(str(exc), 200)}") from None
    if len(axes) == 2 and axes[0].name == axes[1].name:
        raise UsageError(f"--y: {axes[1].name} is already swept by --x; give another setting")
    return axes


def sweep_command(argv: list[str]) -> int:
    """`nnviz sweep ARGV`; returns the exit status, raises UsageError on bad options or a malformed axis."""
    args = build_parser().parse_args(argv)
    axes = axes_from_args(args)
    check_output_path("--csv", args.csv)
    if args.scheduler is not None:
        try:
            check_scheduler(args.scheduler)
        except ValueError as exc:
            raise UsageError(f"--scheduler: {exc}") from None
        if not cluster_available():
            raise UsageError(f"--scheduler: a cluster needs the optional 'distributed' package: {EXTRA}")
    if args.png == "-":
        raise UsageError("--png -: give a file name (a picture is not written to stdout)")
    check_output_path("--png", args.png)
    base = config_from_args(args)  # reads the points of --data-csv
    cells = grid(axes, args.seeds)
    for cell in cells[:: args.seeds]:  # a value this run's settings refuse: one line naming it, before any work
        try:
            cell_config(base, cell.values)
        except ValueError as exc:
            raise usage_error(exc, cell.values) from None

    progress = CountProgress(len(cells), "cells")
    start = time.perf_counter()
    try:
        with interrupts.raising():  # Ctrl-C stops the workers at once: exit 130, no file written
            results = sweep(base, axes, args.seeds, args.seed_kind, args.target, args.workers, on_result=progress,
                            scheduler=args.scheduler)
    except ValueError as exc:  # the scheduler could not be reached (every setting was checked above)
        print(f"{PROG}: error: --scheduler: {shorten(str(exc), 300)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    interrupts.check()

    if not write_output(args.csv, format_csv(axes, results), PROG):
        return EXIT_FAILED
    if args.png is not None:
        try:
            write_atomic(args.png, sweep_png(axes, results, base, *PNG_SIZE))
        except WriteError as exc:
            print(f"{PROG}: error: --png {exc}", file=sys.stderr)
            return EXIT_FAILED
    print(summary(axes, results, seconds, args.workers or os.cpu_count() or 1), file=sys.stderr)
    return 0


def summary(axes: list[Axis], results: list[CellResult], seconds: float, workers: int) -> str:
    """The line printed at the end: cells, time, the best cell, how many diverged."""
    shape = " × ".join(str(len(axis.values())) for axis in axes)
    seeds = len({r.seed for r in results})
    finite = [r for r in results if not r.diverged]
    text = (f"{len(results)} cells ({shape}{f' × {seeds} seeds' if seeds > 1 else ''}) in {seconds:.2f} s, "
            f"{len(results) / max(seconds, 1e-9):.1f} cells/s, {workers} worker{'s' if workers != 1 else ''}")
    if finite:
        best = min(finite, key=lambda r: r.final_cost)
        where = ", ".join(f"{name}={value:g}" for name, value in best.values.items())
        text += f"; least final cost {best.final_cost:.6f} at {where} (seed {best.seed + 1})"
    diverged = len(results) - len(finite)
    return text + (f"; diverged: {diverged} of {len(results)}" if diverged else "")


# ---- the picture (Qt loaded here only) -------------------------------------------------------------------------

_app = None  # the offscreen application sweep_png made, kept for the process's life


def sweep_png(axes: list[Axis], results: list[CellResult], base, width: int = 900, height: int = 675) -> bytes:
    """The picture as PNG bytes; makes an offscreen QApplication first when none runs (the command line: a
    QApplication, not a QGuiApplication, so that widgets made later in the same process still work)."""
    from PySide6.QtWidgets import QApplication

    global _app
    if QApplication.instance() is None:
        _app = QApplication(["nnviz", "-platform", "offscreen"])
    from nnviz.gui.landscape_render import png_bytes

    return png_bytes(render_sweep(axes, results, base, width, height))


def render_sweep(axes: list[Axis], results: list[CellResult], base, width: int = 900, height: int = 675):
    """The final cost over the sweep as a QImage, drawn by the window's sweep view: a heat map on a log colour
    scale with a colour bar (two axes; each cell the median over the seeds that did not diverge; grey with a
    cross where every seed diverged, a small cross where some did) or a line with a 10–90 % band over the seeds
    (one axis; diverged points crossed)."""
    from nnviz.core.sweep_study import SweepDefinition, SweepStudy
    from nnviz.gui.sweep_view import render_study

    seeds = max((r.seed for r in results), default=0) + 1
    study = SweepStudy(SweepDefinition(base, tuple(axes), seeds), results)
    return render_study(study, "final_cost", width, height)
