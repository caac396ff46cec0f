"""A curve item that sends only its newest points to the screen while its data grows.

A live run's curve gets new points every frame, but the points before them stay what they were (the
decimated columns of past epochs do not change). ``AppendingCurve`` is a PlotDataItem whose line is drawn by
two items: the points that stayed the same (frozen: their geometry untouched) and a short tail with the newest
points. Qt then repaints only where the tails changed, not every curve of the plot every frame. When the data
changes otherwise (a new range, a restart, another style) or the tail grows long, everything is frozen again.
getData(), the legend, log mode and exports are PlotDataItem's, unchanged.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPen

TAIL_MARGIN = 8  # points left in the tail when everything is frozen again (the newest bins may still change)
FOLD_POINTS = 192  # the tail joins the frozen part when it grows beyond this many points (up to 168 more)


_fold_turn = 0  # each new curve folds at another length, so the curves of runs trained together fold apart


def _bits(values) -> bytes:
    return np.ascontiguousarray(values, dtype=np.float64).tobytes()


class _Tail(pg.PlotCurveItem):
    """The newest points of a curve. A dashed line goes on with the frozen part's dash pattern from its length on
    screen: close to, not exactly, where one line would have it (Qt's 1 px stroker counts pixel steps); solid lines
    are the same pixels as one line (tests/test_curve_items.py)."""

    def __init__(self, frozen: pg.PlotCurveItem):
        super().__init__()
        self._frozen = frozen
        self.setParentItem(frozen)

    def paint(self, p, opt, widget):
        pen = self.opts["pen"]
        x, y = self._frozen.xData, self._frozen.yData
        if pen is None or pen.style() == Qt.PenStyle.SolidLine or x is None or len(x) < 2:
            super().paint(p, opt, widget)
            return
        # The frozen part's length on screen, so that the dashes go on where it ended.
        t = p.transform()
        px, py = t.m11() * x + t.m21() * y + t.dx(), t.m12() * x + t.m22() * y + t.dy()
        dashed = QPen(pen)
        dashed.setDashOffset(float(np.nansum(np.hypot(np.diff(px), np.diff(py)))) / max(pen.widthF(), 1.0))
        self.opts["pen"] = dashed
        try:
            super().paint(p, opt, widget)
        finally:
            self.opts["pen"] = pen


class _SplitCurve(pg.PlotCurveItem):
    """PlotDataItem's line: draws the frozen points itself and the newest in its child ``tail``."""

    def __init__(self):
        super().__init__()
        self.tail = _Tail(self)
        self._style: dict | None = None  # the keyword arguments (pen, connect, ...) of the last setData
        self._points: tuple | None = None  # the (x, y) of the last setData
        global _fold_turn
        self._fold = FOLD_POINTS + 24 * (_fold_turn % 8)  # the tail's length at which it is frozen
        _fold_turn += 1
        # Drawn once into a pixmap: a repaint where a tail changed copies those pixels instead of drawing every
        # segment of the frozen line again (clipped, but still all of them).
        self.setCacheMode(self.CacheMode.DeviceCoordinateCache)

    def setExportMode(self, export, opts=None):
        # An export draws with its own options (antialiased): never from the pixmap drawn for the screen, and as
        # one line, as a PlotDataItem draws it (an antialiased join of two lines would blend twice).
        super().setExportMode(export, opts)
        self.setCacheMode(self.CacheMode.NoCache if export else self.CacheMode.DeviceCoordinateCache)
        if self._style is None or self._points is None:
            return
        (x, y), style = self._points, self._style
        if export:
            pg.PlotCurveItem.setData(self, x=x, y=y, **style)
            self.tail.setData(x=np.empty(0), y=np.empty(0), **style)
        else:
            self._style = None  # split again
            self.setData(x=x, y=y, **style)

    def setData(self, *args, **kwargs):
        x, y = kwargs.get("x"), kwargs.get("y")
        style = {key: value for key, value in kwargs.items() if key not in ("x", "y")}
        if getattr(self, "tail", None) is None:  # PlotCurveItem.__init__
            super().setData(*args, **kwargs)
            return
        self._points = None if args or x is None or y is None else (x, y)
        if not args and x is not None and y is not None and self._extends(x, y, style):
            start = len(self.xData) - 1
            self.tail.setData(x=x[start:], y=y[start:], **style)
            return
        self._style = style
        if args or x is None or y is None or len(x) <= TAIL_MARGIN:
            super().setData(*args, **kwargs)
            self.tail.setData(x=np.empty(0), y=np.empty(0), **style)
            return
        frozen = len(x) - TAIL_MARGIN
        super().setData(x=x[:frozen], y=y[:frozen], **style)
        self.tail.setData(x=x[frozen - 1:], y=y[frozen - 1:], **style)

    def _extends(self, x, y, style: dict) -> bool:
        """The new data keeps the frozen points as they are, in the same style, with a short enough tail."""
        fx, fy = self.xData, self.yData
        if fx is None or len(fx) < 2 or style != self._style or not len(fx) <= len(x) <= len(fx) + self._fold:
            return False
        n = len(fx)
        # Compared bit for bit (a NaN equals itself): cheaper than np.array_equal, called for every curve each frame.
        return _bits(x[:n]) == _bits(fx) and _bits(y[:n]) == _bits(fy)

    # PlotCurveItem.__init__ calls these before the tail exists.
    def setPen(self, *args, **kwargs):
        super().setPen(*args, **kwargs)
        if getattr(self, "tail", None) is not None:
            self.tail.setPen(*args, **kwargs)

    def clear(self):
        super().clear()
        if getattr(self, "tail", None) is not None:
            self.tail.clear()
        self._style = None

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        parts = (self, self.tail) if getattr(self, "tail", None) is not None else (self,)
        bounds = [b for b in (pg.PlotCurveItem.dataBounds(part, ax, frac, orthoRange) for part in parts)
                  if b is not None and b[0] is not None and b[1] is not None]
        if not bounds:
            return (None, None)
        return (min(b[0] for b in bounds), max(b[1] for b in bounds))

    def pixelPadding(self):
        tail = getattr(self, "tail", None)
        return max(super().pixelPadding(), tail.pixelPadding() if tail is not None else 0)


# PlotDataItem options under which the line shows the data as given, or y's log (no fft, downsampling, clipping...).
_AS_GIVEN = {"fftMode": False, "derivativeMode": False, "phasemapMode": False,
             "subtractMeanMode": False, "autoDownsample": False, "clipToView": False, "symbol": None,
             "stepMode": None, "connect": "auto"}
_CURVE_OPTS = (("pen", "pen"), ("shadowPen", "shadowPen"), ("fillLevel", "fillLevel"), ("fillOutline", "fillOutline"),
               ("fillBrush", "brush"), ("antialias", "antialias"), ("connect", "connect"), ("stepMode", "stepMode"),
               ("skipFiniteCheck", "skipFiniteCheck"))


class AppendingCurve(pg.PlotDataItem):
    """A PlotDataItem whose line, while its data only grows, repaints just its newest points (see the module)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        old = self.curve
        old.setParentItem(None)
        self.curve = _SplitCurve()
        self.curve.setParentItem(self)
        self.curve.sigClicked.connect(self.curveClicked)
        self.updateItems(styleUpdate=True)

    def setData(self, *args, **kwargs):
        """PlotDataItem.setData. setData(x, y) of finite float arrays shown as given or on a log y axis (the
        curves' every frame) skips PlotDataItem's display pass, which copies the options and scans all the data
        for its range (~40 % of a call): the line gets the same arguments, getData() computes the same arrays."""
        shown = None if kwargs or len(args) != 2 else self._shown(*args)
        if shown is None:
            super().setData(*args, **kwargs)
            return
        x, y = args
        self._dataset = pg.graphicsItems.PlotDataItem.PlotDataset(x, y)
        self._datasetMapped = self._datasetDisplay = None  # computed by getData() when asked, as after setData
        self._adsLastValue = 1
        self.setProperty("styleWasChanged", False)
        opts = self.opts
        curve_args = {name: opts[key] for key, name in _CURVE_OPTS if key in opts}
        # What updateItems passes for connect 'auto': the display data's finiteness is not known at that point.
        curve_args["connect"], curve_args["skipFiniteCheck"] = "finite", False
        if opts["pen"] is not None or (opts["fillBrush"] is not None and opts["fillLevel"] is not None):
            self.curve.setData(x=x, y=shown, **curve_args)
            self.curve.show()
        else:
            self.curve.hide()
        self.scatter.hide()
        self.informViewBoundsChanged()
        self.sigPlotChanged.emit(self)

    def _shown(self, x, y) -> np.ndarray | None:
        """The y that PlotDataItem would draw against x (y, or its log10 on a log y axis) when it changes
        nothing else: float data, finite (positive on a log axis), no option that maps, reduces or clips it;
        None otherwise."""
        if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.dtype == np.float64
                and y.dtype == np.float64 and x.ndim == y.ndim == 1 and len(x) == len(y) > 0):
            return None
        opts = self.opts
        if any(opts.get(key) != value for key, value in _AS_GIVEN.items()):
            return None
        log = list(opts["logMode"])
        if log not in ([False, False], [False, True]) or isinstance(opts["downsample"], int) and \
                opts["downsample"] != 1:
            return None
        y_min, y_max = float(y.min()), float(y.max())
        if not (np.isfinite(y_min) and np.isfinite(y_max) and np.isfinite(x.min()) and np.isfinite(x.max())):
            return None  # NaN or inf: PlotDataItem's own path
        shown = y
        if log[1]:
            if y_min <= 0:
                return None  # NaN on the log axis
            shown = np.log10(y)
            y_min, y_max = float(shown.min()), float(shown.max())
        if opts["dynamicRangeLimit"] is not None:
            # PlotDataItem clips data spanning more than limit x the view's height: its own path then.
            view = self.getViewBox()
            view_range = view.viewRect() if view is not None else self.viewRect()
            if view_range is not None and view_range.height() > 0 and \
                    y_max - y_min > 2 * opts["dynamicRangeHyst"] * opts["dynamicRangeLimit"] * view_range.height():
                return None
        return shown
