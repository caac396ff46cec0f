"""`nnviz sweep`: one run's settings trained over a grid of one or two hyper-parameters (× seeds), as CSV and PNG.

The CSV has one row per cell and seed, in grid order (the --x value slowest, the seed fastest): a column per
swept parameter (named as in TrainConfig), then ``seed,final_cost,best_cost,epochs_to_target,final_accuracy,
diverged``. Floats at full precision; ``epochs_to_target`` empty when the cost never reached --target (or no
--target was given); ``diverged`` true or false (a diverged cell's numbers are those of its last finite epoch).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

from nnviz import interrupts
from nnviz.core.files import WriteError, write_atomic
from nnviz.core.sweep import MAX_SEEDS, SEED_KINDS, Axis, CellResult, cell_config, grid, parse_axis, sweep
from nnviz.core.text import quoted, shorten
from nnviz.options import (
    EXIT_FAILED,
    Parser,
    TerminalBar,
    UsageError,
    add_training_options,
    check_output_path,
    config_from_args,
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
        lines.append(",".join([*values, str(r.seed), repr(r.final_cost), repr(r.best_cost), target,
                               repr(r.final_accuracy), "true" if r.diverged else "false"]))
    return "\n".join(lines) + "\n"


def _count(name: str, low: int, high: int):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{quoted(text)} is not an integer; allowed: {low} to {high}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed: {low} to {high}")
        return value
    return parse

POSITIVE_COST = positive_number("a finite cost > 0")  # --target


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="Train one run's settings over a grid of one or two of its "
                    "hyper-parameters (× seeds), every cell from the shared start, and write one CSV row per cell "
                    "and seed.")
    add_training_options(parser)
    axis_help = ("NAME=LOW:HIGH:lin|log:COUNT, NAME one of learning_rate, momentum, rho, beta1, beta2, epsilon, "
                 "batch_size, gamma, l2, epochs; COUNT 1 to 64 (batch_size and epochs are rounded to integers, "
                 "duplicates dropped)")
    parser.add_argument("--x", required=True, metavar="AXIS", help="the first swept setting: " + axis_help)
    parser.add_argument("--y", metavar="AXIS", help="a second swept setting, as --x")
    parser.add_argument("--seeds", type=_count("seeds", 1, MAX_SEEDS), default=1,
                        help=f"repeat every cell over K seeds, 1 to {MAX_SEEDS} (seed i adds i to the seeds)")
    parser.add_argument("--seed-kind", choices=SEED_KINDS, default="init",
                        help="which seeds vary: init (initial weights, default), data, or both")
    parser.add_argument("--target", type=POSITIVE_COST, help="a cost to reach: epochs_to_target is the first epoch at "
                        "or below it")
    parser.add_argument("--workers", type=_count("workers", 1, 256), default=None,
                        help=f"processes training cells, 1 to 256 (default {os.cpu_count() or 1}: one per core)")
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


class SweepProgress(TerminalBar):
    """Cells done of the total, and the time left."""

    def __init__(self, total: int, stream=None):
        super().__init__(stream)
        self.total, self.done = total, 0

    def __call__(self, result: CellResult) -> None:
        self.done += 1
        if self.due(self.done >= self.total):
            left = (time.perf_counter() - self.start) / self.done * (self.total - self.done)
            self.draw(self.done / max(self.total, 1), f"cells {self.done}/{self.total}, {left:.0f} s left ")


def sweep_command(argv: list[str]) -> int:
    """`nnviz sweep ARGV`; returns the exit status, raises UsageError on bad options or a malformed axis."""
    args = build_parser().parse_args(argv)
    base = config_from_args(args)
    axes = axes_from_args(args)
    check_output_path("--csv", args.csv)
    if args.png == "-":
        raise UsageError("--png -: give a file name (a picture is not written to stdout)")
    check_output_path("--png", args.png)
    cells = grid(axes, args.seeds)
    for cell in cells[:: args.seeds]:  # a value this run's settings refuse: one line naming it, before any work
        try:
            cell_config(base, cell.values)
        except ValueError as exc:
            raise usage_error(exc, cell.values) from None

    progress = SweepProgress(len(cells))
    start = time.perf_counter()
    try:
        with interrupts.raising():  # Ctrl-C stops the workers at once: exit 130, no file written
            results = sweep(base, axes, args.seeds, args.seed_kind, args.target, args.workers, on_result=progress)
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
        text += f"; least final cost {best.final_cost:.6f} at {where} (seed {best.seed})"
    diverged = len(results) - len(finite)
    return text + (f"; diverged: {diverged} of {len(results)}" if diverged else "")


# ---- the picture (Qt loaded here only) -------------------------------------------------------------------------

_app = None  # the offscreen application sweep_png made, kept for the process's life


def _cells(axes: list[Axis], results: list[CellResult]):
    """Per grid point (in --x, --y order): the final costs of its seeds that did not diverge, and how many did."""
    import numpy as np

    xs = axes[0].values()
    ys = axes[1].values() if len(axes) == 2 else [None]
    costs = {(i, j): [] for i in range(len(xs)) for j in range(len(ys))}
    diverged = dict.fromkeys(costs, 0)
    seeds = dict.fromkeys(costs, 0)
    position = {(x, y): (i, j) for i, x in enumerate(xs) for j, y in enumerate(ys)}
    for r in results:
        key = position[(r.values[axes[0].name], r.values[axes[1].name] if len(axes) == 2 else None)]
        seeds[key] += 1
        if r.diverged:
            diverged[key] += 1
        else:
            costs[key].append(r.final_cost)
    return xs, ys, {k: np.array(v) for k, v in costs.items()}, diverged, seeds


def sweep_png(axes: list[Axis], results: list[CellResult], base, width: int = 900, height: int = 675) -> bytes:
    """The picture as PNG bytes; makes an offscreen QApplication first when none runs (the command line: a
    QApplication, not a QGuiApplication, so that widgets made later in the same process still work)."""
    from PySide6.QtWidgets import QApplication

    global _app
    if QApplication.instance() is None:
        _app = QApplication(["nnviz", "-platform", "offscreen"])
    from nnviz.gui.landscape_render import png_bytes

    return png_bytes(render_sweep(axes, results, base, width, height))


def _label(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def render_sweep(axes: list[Axis], results: list[CellResult], base, width: int = 900, height: int = 675):
    """The final cost over the sweep as a QImage: a heat map on a log colour scale with a colour bar (two axes;
    each cell the median over the seeds that did not diverge; grey with a cross where every seed diverged, a small
    cross where some did) or a line with a 10–90 % band over the seeds (one axis; diverged seeds as red crosses)."""
    import numpy as np
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

    from nnviz.gui.landscape_render import MISSING_COLOR, cost_lut
    from nnviz.gui.map_drawing import draw_vertical, pixel_font
    from nnviz.gui.map_shared import BACKGROUND, FOREGROUND

    xs, ys, costs, diverged, seeds = _cells(axes, results)
    finite = np.concatenate([c for c in costs.values() if len(c)] or [np.array([1.0])])
    finite = finite[np.isfinite(finite) & (finite > 0)] if finite.size else np.array([1.0])
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (1.0, 1.0)
    if high <= low:
        low, high = low / 1.5, high * 1.5
    log_low, log_high = math.log10(low), math.log10(high)
    lut = cost_lut(256)
    s = width / 900
    tick_font, label_font, title_font = pixel_font(12 * s), pixel_font(14 * s), pixel_font(15 * s, bold=True)
    metrics = QFontMetricsF(tick_font)
    margin = 12 * s
    two = len(axes) == 2
    title = (f"Final cost over {axes[0].name}{' × ' + axes[1].name if two else ''} "
             f"({base.optimizer}, batch {base.batch_size}, {base.epochs} epochs"
             f"{f', median of {max(seeds.values())} seeds' if max(seeds.values()) > 1 else ''})")
    top = margin + QFontMetricsF(title_font).height() + 8 * s
    left = margin + QFontMetricsF(label_font).height() + 8 * s + metrics.horizontalAdvance("0.000e-00") + 6 * s
    right = margin + (90 * s if two else 10 * s)
    bottom = margin + QFontMetricsF(label_font).height() + metrics.height() + 16 * s
    plot = QRectF(left, top, width - left - right, height - top - bottom)

    def colour(cost: float) -> QColor:
        t = (math.log10(cost) - log_low) / (log_high - log_low)
        r, g, b = lut[int(round(min(max(t, 0.0), 1.0) * 255))]
        return QColor(int(r), int(g), int(b))

    def ticks(n: int) -> list[int]:
        step = max(1, math.ceil(n / 8))
        return list(range(0, n, step))

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(BACKGROUND))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setPen(QColor(FOREGROUND))
        painter.setFont(title_font)
        painter.drawText(QRectF(0, margin, width, top - margin), Qt.AlignmentFlag.AlignHCenter, shorten(title, 110))
        nx = len(xs)
        cell_w = plot.width() / nx
        painter.setFont(tick_font)
        for i in ticks(nx):  # x ticks at cell centres
            x = plot.left() + (i + 0.5) * cell_w
            painter.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 4 * s))
            painter.drawText(QRectF(x - 40 * s, plot.bottom() + 5 * s, 80 * s, metrics.height()),
                             Qt.AlignmentFlag.AlignHCenter, _label(xs[i]))
        painter.setFont(label_font)
        painter.drawText(QRectF(plot.left(), height - margin - QFontMetricsF(label_font).height(), plot.width(),
                                QFontMetricsF(label_font).height()), Qt.AlignmentFlag.AlignHCenter,
                         f"{axes[0].name} ({axes[0].scale})")
        cross = QPen(QColor(200, 30, 30), 1.6 * s)
        if two:
            ny = len(ys)
            cell_h = plot.height() / ny
            for (i, j), values in costs.items():
                rect = QRectF(plot.left() + i * cell_w, plot.bottom() - (j + 1) * cell_h, cell_w, cell_h)
                if len(values):
                    painter.fillRect(rect, colour(float(np.median(values))))
                else:
                    painter.fillRect(rect, QColor(*MISSING_COLOR))
                if diverged[(i, j)]:
                    inset = 0.15 if not len(values) else 0.35  # every seed diverged: a large cross
                    painter.setPen(cross)
                    r = rect.adjusted(inset * cell_w, inset * cell_h, -inset * cell_w, -inset * cell_h)
                    painter.drawLine(r.topLeft(), r.bottomRight())
                    painter.drawLine(r.topRight(), r.bottomLeft())
            painter.setPen(QColor(FOREGROUND))
            painter.setFont(tick_font)
            for j in ticks(ny):
                y = plot.bottom() - (j + 0.5) * cell_h
                painter.drawLine(QPointF(plot.left() - 4 * s, y), QPointF(plot.left(), y))
                painter.drawText(QRectF(margin, y - metrics.height() / 2, plot.left() - margin - 6 * s,
                                        metrics.height()), Qt.AlignmentFlag.AlignRight, _label(ys[j]))
            painter.setFont(label_font)
            label_metrics = QFontMetricsF(label_font)
            draw_vertical(painter, f"{axes[1].name} ({axes[1].scale})", margin + label_metrics.ascent(),
                          plot.center().y(), label_metrics)
            # The colour bar: log scale from the least to the greatest final cost.
            bar = QRectF(plot.right() + 14 * s, plot.top(), 14 * s, plot.height())
            steps = 128
            for k in range(steps):
                cost = 10 ** (log_low + (k + 0.5) / steps * (log_high - log_low))
                painter.fillRect(QRectF(bar.left(), bar.bottom() - (k + 1) * bar.height() / steps, bar.width(),
                                        bar.height() / steps + 0.5), colour(cost))
            painter.setPen(QColor(FOREGROUND))
            painter.setFont(tick_font)
            for k in range(5):
                cost = 10 ** (log_low + k / 4 * (log_high - log_low))
                y = bar.bottom() - k / 4 * bar.height()
                painter.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 4 * s, y))
                painter.drawText(QPointF(bar.right() + 6 * s, y + metrics.ascent() / 2), f"{cost:.3g}")
        else:
            def y_of(cost: float) -> float:
                t = (math.log10(cost) - log_low) / (log_high - log_low)
                return plot.bottom() - (0.05 + 0.9 * t) * plot.height()

            painter.setPen(QPen(QColor(FOREGROUND), 1))
            painter.drawRect(plot)
            painter.setFont(tick_font)
            for k in range(5):
                cost = 10 ** (log_low + k / 4 * (log_high - log_low))
                y = y_of(cost)
                painter.drawLine(QPointF(plot.left() - 4 * s, y), QPointF(plot.left(), y))
                painter.drawText(QRectF(margin, y - metrics.height() / 2, plot.left() - margin - 6 * s,
                                        metrics.height()), Qt.AlignmentFlag.AlignRight, f"{cost:.3g}")
            painter.setFont(label_font)
            label_metrics = QFontMetricsF(label_font)
            draw_vertical(painter, "final cost (log)", margin + label_metrics.ascent(), plot.center().y(),
                          label_metrics)
            band_low, band_high, middle = [], [], []
            for i in range(nx):
                values = costs[(i, 0)]
                x = plot.left() + (i + 0.5) * cell_w
                if len(values):
                    lo, mid, hi = np.percentile(values, [10, 50, 90])
                    band_low.append(QPointF(x, y_of(lo)))
                    band_high.append(QPointF(x, y_of(hi)))
                    middle.append(QPointF(x, y_of(mid)))
                if diverged[(i, 0)]:
                    painter.setPen(cross)
                    c, r = QPointF(x, plot.top() + 10 * s), 5 * s
                    painter.drawLine(c + QPointF(-r, -r), c + QPointF(r, r))
                    painter.drawLine(c + QPointF(-r, r), c + QPointF(r, -r))
            line = QColor(31, 119, 180)
            if len(middle) > 1:
                band = QPainterPath(band_low[0])
                for p in band_low[1:] + band_high[::-1]:
                    band.lineTo(p)
                band.closeSubpath()
                fill = QColor(line)
                fill.setAlpha(60)
                painter.fillPath(band, fill)
            painter.setPen(QPen(line, 2 * s))
            for a, b in zip(middle[:-1], middle[1:], strict=True):
                painter.drawLine(a, b)
            for p in middle:
                painter.drawEllipse(p, 2.5 * s, 2.5 * s)
    finally:
        painter.end()
    return image
