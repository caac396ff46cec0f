"""One run's path on the landscape: a line in the run's colour through its points, each point filled with the
colour of the run's own cost. Drawn again only when its points change; a path that grew (training) has only its
new points sent, so a frame stays cheap however long the path."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from nnviz.gui.landscape_scale import LogScale, moved_points

MAX_DRAWN_POINTS = 1500  # points of a path drawn at most: a longer path draws a point when it leaves the square
#                          of the one before (the grid's span / ~1500), a square that grows as needed
COARSEST = 32  # ... up to this many times the finest square; then every n-th point
TAIL = 48  # a growing path's newest dots sit in a small item of their own, moved to the main one this many at a
#            time (ScatterPlotItem.addPoints copies all its points: ~1 ms at 1,500, every frame otherwise)
NO_SCALE_BRUSH = pg.mkBrush("w")  # the dots' fill before a landscape gives the colour scale


class PathDrawing:
    """The plot items of one run's path and what they were last given."""

    def __init__(self, plot: pg.PlotItem):
        self.path = None  # the Path last drawn (the caller's immutable record)
        self.index = np.empty(0, dtype=np.int64)  # indices of the drawn points (the line and the dots)
        self._dots = np.empty(0, dtype=np.int64)  # of them, those with a dot in `points`
        self._tail = np.empty(0, dtype=np.int64)  # ... and the newest ones, with a dot in `tail`
        self._scale: LogScale | None = None
        self._quantum = 0.0
        self._pen = pg.mkPen("k")
        # Width 1: an antialiased wider line through 1,500 zig-zagging points costs ~5 ms a paint, this 0.5 ms.
        self.line = pg.PlotCurveItem(antialias=True)
        self.points = pg.ScatterPlotItem(size=6, antialias=True)
        self.tail = pg.ScatterPlotItem(size=6, antialias=True)
        self.line.setZValue(3)
        self.points.setZValue(4)
        self.tail.setZValue(4)
        self._plot = plot
        for item in (self.line, self.points, self.tail):
            plot.addItem(item)

    def remove(self) -> None:
        for item in (self.line, self.points, self.tail):
            self._plot.removeItem(item)

    def draw(self, path, scale: LogScale | None, brushes: np.ndarray, quantum: float) -> None:
        """Draw ``path`` (nothing to do when it draws as the last one did). ``brushes``: one per band of ``scale``;
        ``quantum``: the finest square a point must leave to be drawn (the grid's span / ~1500)."""
        old = self.path
        if old is path or (scale is self._scale and _same(old, path)):
            self.path = path
            return
        a, b = np.asarray(path.a, dtype=np.float64), np.asarray(path.b, dtype=np.float64)
        cost = np.asarray(path.cost, dtype=np.float64)
        self.path = path
        if scale is self._scale and _extends(old, path) and len(self._dots):
            k = len(old.a)
            new = moved_points(a[k:], b[k:], self._quantum, before=(a[k - 1], b[k - 1])) + k
            if len(self._dots) + len(self._tail) + len(new) <= MAX_DRAWN_POINTS:
                if len(new):
                    tail = np.concatenate([self._tail, new])
                    brush = list(self._brushes(scale, brushes, cost[tail]))
                    if len(tail) > TAIL:
                        self.points.addPoints(x=a[tail], y=b[tail], brush=brush)
                        self._dots, tail = np.concatenate([self._dots, tail]), tail[:0]
                        brush = []
                    self._tail = tail
                    self.tail.setData(x=a[tail], y=b[tail], brush=brush, pen=self._pen)
                self._draw_line(a, b)
                return
        self._scale = scale
        self._quantum = 0.0 if len(a) <= MAX_DRAWN_POINTS else quantum  # a short path: every point
        dots = moved_points(a, b, self._quantum)
        while len(dots) > MAX_DRAWN_POINTS and self._quantum < COARSEST * quantum:
            self._quantum *= 2
            dots = moved_points(a, b, self._quantum)
        if len(dots) > MAX_DRAWN_POINTS:
            dots = dots[:: math.ceil(len(dots) / MAX_DRAWN_POINTS)]
        self._dots, self._tail = dots, dots[:0]
        self.tail.setData(x=[], y=[])
        self._pen = pg.mkPen(path.colour, width=1)  # one pen for good: the dots' symbols are cached by pen
        self.points.setData(x=a[dots], y=b[dots], brush=list(self._brushes(scale, brushes, cost[dots])),
                            pen=self._pen)
        self.line.setPen(self._pen)
        self._draw_line(a, b)

    def _draw_line(self, a: np.ndarray, b: np.ndarray) -> None:
        """The line through the dots and, if it has none, the path's newest point."""
        index = np.concatenate([self._dots, self._tail])
        if len(a) and (not len(index) or index[-1] != len(a) - 1):
            index = np.append(index, len(a) - 1)
        self.index = index
        self.line.setData(a[index], b[index])

    @staticmethod
    def _brushes(scale: LogScale | None, brushes: np.ndarray, cost: np.ndarray) -> np.ndarray:
        if scale is None:
            return np.full(len(cost), NO_SCALE_BRUSH, dtype=object)
        return brushes[scale.bands(cost)]

    def drawn(self) -> tuple[np.ndarray, np.ndarray]:
        """The line's points: (a, b)."""
        x, y = self.line.getData()
        return (np.empty(0) if x is None else np.asarray(x), np.empty(0) if y is None else np.asarray(y))

    def dot_colours(self) -> np.ndarray:
        """The fill of each dot drawn, RGBA uint8 of shape (k, 4), in path order."""
        brushes = [brush for item in (self.points, self.tail) for brush in item.data["brush"]]
        return np.array([brush.color().getRgb() for brush in brushes], dtype=np.uint8).reshape(-1, 4)

    def dotted(self) -> np.ndarray:
        """Indices into the path of the points that have a dot."""
        return np.concatenate([self._dots, self._tail])


def _same(old, new) -> bool:
    """Whether ``new`` draws exactly as ``old`` did (same colour, epochs, coordinates and costs)."""
    if old is None or old.colour != new.colour or len(old.epochs) != len(new.epochs):
        return False
    return np.array_equal(old.epochs, new.epochs) and all(
        np.array_equal(getattr(old, name), getattr(new, name), equal_nan=True) for name in ("a", "b", "cost"))


def _extends(old, new) -> bool:
    """Whether ``new`` is ``old`` with points added at the end (same colour)."""
    if old is None or old.colour != new.colour or len(new.epochs) <= len(old.epochs):
        return False
    k = len(old.epochs)
    return np.array_equal(old.epochs, new.epochs[:k]) and all(
        np.array_equal(getattr(old, name), np.asarray(getattr(new, name))[:k], equal_nan=True)
        for name in ("a", "b", "cost"))
