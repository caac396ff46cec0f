"""`nnviz landscape`: train runs from the same start, then write the loss landscape they share as JSON (and PNG).

The JSON object (``core.landscape.landscape_json``):

- ``theta0``, ``d1``, ``d2``: the plane, as flat parameter vectors laid out layer by layer W₁ (n_in × n_out,
  row-major), b₁, W₂, b₂, ... (``network.Layout``). θ₀ is the runs' common start; d₁, d₂ are orthonormal: the
  first two right-singular vectors of every run's stored snapshots' displacements θ − θ₀ (pooled, not
  centred). The point (a, b) is θ₀ + a·d₁ + b·d₂.
- ``a``, ``b``: the grid's axes (``--resolution`` values each; 0 is on both).
- ``cost``: rows over b, columns over a: ``cost[i][j]`` is the training cost at (a[j], b[i]): the mean
  cross-entropy on the training set, plus (λ/2)·Σw² when ``l2`` > 0 (null where not finite).
- ``l2``: the λ in ``cost``: the one every run shares, 0 when the runs differ in λ.
- ``paths``: run name → list of [epoch, a, b, cost], one per stored snapshot, epoch 0 first (at (0, 0));
  cost is the run's own training cost at that epoch (the curves' cost, with its own λ).
- ``shares``: run name → the share of its displacement at its last epoch that the plane holds,
  ‖projection of θ − θ₀‖ / ‖θ − θ₀‖ (1: its path is drawn exactly; lower: the drawn path is a shadow).
- ``colours``: run name → its colour "#rrggbb".
"""

from __future__ import annotations

import json
import sys
import time

from nnviz import interrupts
from nnviz.compare_cli import add_comparison_options, comparison_from_args, train_all
from nnviz.core.comparison import Comparison
from nnviz.core.landscape import (
    DEFAULT_RESOLUTION,
    MAX_RESOLUTION,
    MIN_RESOLUTION,
    compute_landscape,
    landscape_json,
    share_text,
)
from nnviz.core.text import shorten
from nnviz.options import (
    EXIT_DIVERGED,
    EXIT_FAILED,
    Parser,
    TerminalBar,
    UsageError,
    check_output_path,
    integer_in,
    print_warnings,
    write_output,
)

PROG = "nnviz landscape"
PNG_WIDTH = 900  # pixels


def build_parser() -> Parser:
    parser = Parser(prog=PROG,
                    description="Train several runs from the same initial weights on the same data, then compute "
                                "the training cost over the plane their paths span (through the common start) and "
                                "write it with every run's path as JSON, optionally as a picture.")
    add_comparison_options(parser)
    parser.add_argument("--resolution", type=integer_in(MIN_RESOLUTION, MAX_RESOLUTION), default=DEFAULT_RESOLUTION,
                        help=f"grid points per axis, {MIN_RESOLUTION} to {MAX_RESOLUTION} "
                             f"(default {DEFAULT_RESOLUTION})")
    parser.add_argument("--json", required=True, metavar="OUT", help="write the landscape to OUT ('-' for stdout): "
                        "theta0, d1, d2, a, b, cost (rows over b), l2, paths (run -> [[epoch, a, b, cost], ...]), "
                        "shares, colours")
    parser.add_argument("--png", metavar="OUT", help="also draw it to OUT as a PNG: the cost as filled contours on "
                        "a log colour scale, each run's path in its colour, the share of it the plane holds")
    return parser


class GridProgress(TerminalBar):
    """The grid's progress (a fraction done)."""

    def __call__(self, fraction: float) -> None:
        if self.due(fraction >= 1):
            self.draw(fraction, f"landscape {100 * fraction:3.0f} %")


def landscape_command(argv: list[str]) -> int:
    """`nnviz landscape ARGV`; returns the exit status, raises UsageError on bad options or a bad session."""
    args = build_parser().parse_args(argv)
    shared, runs = comparison_from_args(args)
    check_output_path("--json", args.json)
    if args.png == "-":
        raise UsageError("--png: give a file name (a picture is not written to stdout)")
    check_output_path("--png", args.png)

    comparison = Comparison(shared, runs)
    print_warnings(PROG, comparison.start.warnings())
    trained = train_all(comparison)  # Ctrl-C stops at once: exit 130, no file written

    grid_progress = GridProgress()
    start = time.perf_counter()
    try:
        with interrupts.raising():
            landscape = compute_landscape(comparison, args.resolution, progress=grid_progress)
    finally:
        grid_progress.close()
    computed = time.perf_counter() - start
    interrupts.check()

    text = json.dumps(landscape_json(landscape), allow_nan=False, separators=(",", ":")) + "\n"
    if not write_output(args.json, text, PROG, "--json"):
        return EXIT_FAILED
    if args.png is not None:
        from nnviz.gui.landscape_render import landscape_png  # Qt is loaded for the picture only

        names = ", ".join(path.name for path in landscape.paths)
        data = landscape_png(landscape, PNG_WIDTH, title=shorten(f"Loss landscape: {names}", 100))
        interrupts.check()
        from nnviz.core.files import WriteError, write_atomic

        try:
            write_atomic(args.png, data)
        except WriteError as exc:
            print(f"{PROG}: error: --png {exc}", file=sys.stderr)
            return EXIT_FAILED

    width = max(len(path.name) for path in landscape.paths)
    for run, path in zip(comparison, landscape.paths, strict=True):
        state = f"diverged at epoch {run.trainer.diverged_epoch}, path kept to epoch {int(path.epochs[-1])}" \
            if run.status == "diverged" else f"{int(path.epochs[-1])} epoch{'' if path.epochs[-1] == 1 else 's'}"
        print(f"{path.name + ':':<{width + 1}} {state}, cost {path.cost[-1]:.6f}, "
              f"the plane holds {share_text(path.share)} of its displacement", file=sys.stderr)
    diverged = [run.spec.name for run in comparison if run.status == "diverged"]
    size = len(landscape.a)
    runs_text = f"{len(runs)} run" + ("s" if len(runs) != 1 else "")
    print(f"{runs_text} trained in {trained:.2f} s; landscape {size}×{size} in {computed:.2f} s "
          f"({comparison.engine.name} engine)" + (f"; diverged: {', '.join(diverged)}" if diverged else ""),
          file=sys.stderr)
    return EXIT_DIVERGED if diverged else 0
