"""The seeds of each run on the curves: the median (dotted) and the 10–90 % band (a translucent fill) in the
run's colour, on the cost and accuracy plots, behind the run's own curve (the live run). When the data has a
test set, the dashed test curves get theirs too (median dash-dotted, a lighter fill), by the same rules.

The band's data are the model's (``core.seeds.band``), drawn as they are, except a +inf edge (more than 10 %
of the seeds diverged): it is drawn at 10 × the run's epoch-0 median cost (training.DIVERGENCE_FACTOR: what
counts as diverged), above the fitted range, so the band runs off the top of the plot. The y ranges follow
the runs' own curves and the bands' finite values as drawn (so a band trained before its run is seen at
once). On the "training time" x axis no band is drawn (seeds trained apart
have no clock of their own); on updates and samples the epochs are converted (the same for every seed).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from nnviz.core.seeds import SeedBand, SeedCurves, band
from nnviz.core.training import DIVERGENCE_FACTOR

BAND_PLOTS = ("cost", "accuracy")  # the plots a run's seeds are drawn on
FILL_ALPHA = 50  # of 255: the band's fill (the test band's: half of it)
PARTS = ("low", "high", "median", "fill")  # a training band's items; a test band's are "test_" + these
COLUMNS = {("cost", False): "cost", ("accuracy", False): "accuracy", ("cost", True): "test_cost",
           ("accuracy", True): "test_accuracy"}  # (plot, test) -> the seeds' column drawn


class SeedBands:
    """Median and band items per run key on the curves view's plots; ``set_run`` hands a run's seeds."""

    def __init__(self, view):
        self.view = view  # the CurvesView whose plots these are drawn on (its x axis is read at every draw)
        self._items: dict[str, dict[tuple[str, str], object]] = {}  # key -> (plot, part) -> item
        self._runs: dict[str, tuple[SeedCurves | None, object, bool]] = {}  # key -> (curves, colour, visible)
        self._bands: dict[str, dict[tuple[str, bool], SeedBand]] = {}  # key -> (plot, test) -> the band drawn
        self._ranges: dict[str, dict[str, list[np.ndarray]]] = {}  # key -> plot -> its finite values as drawn
        self._changed = False  # a band was drawn, moved or hidden since the view last fitted its ranges
        view.x_axis_combo.currentIndexChanged.connect(lambda *_: self.redraw())

    def set_run(self, key: str, curves: SeedCurves | None, colour, visible: bool = True) -> None:
        """The seeds of run ``key`` (None: no band), its colour and whether it is shown."""
        if curves is None:
            self.remove(key)
            return
        if key not in self._items:
            self._items[key] = self._add("")
        has_test = (BAND_PLOTS[0], "test_fill") in self._items[key]
        if curves.has_test and not has_test:
            self._items[key].update(self._add("test_"))
        elif has_test and not curves.has_test:
            self._drop({k: v for k, v in self._items[key].items() if k[1].startswith("test_")}, key)
        previous = self._runs.get(key)
        if previous is not None and previous[0] is curves:  # the same seeds: only the colour or visibility
            self._runs[key] = (curves, pg.mkColor(colour), bool(visible))
            if previous[1] != self._runs[key][1] or previous[2] != bool(visible):
                self._draw(key)
            return
        self._runs[key] = (curves, pg.mkColor(colour), bool(visible))
        self._bands[key] = {(plot, test): band(curves, column) for (plot, test), column in COLUMNS.items()
                            if curves.has_test or not test}
        self._ranges[key] = _range_values(self._bands[key])
        self._draw(key)

    def remove(self, key: str) -> None:
        self._changed = self._changed or key in self._items
        items = self._items.pop(key, None)
        self._runs.pop(key, None)
        self._bands.pop(key, None)
        self._ranges.pop(key, None)
        self._drop(items or {})

    def _drop(self, items: dict, key: str | None = None) -> None:
        """Take ``items`` off their plots (and out of run ``key``'s items)."""
        for (plot, part), item in items.items():
            self.view.plots[plot].removeItem(item)
            if key is not None:
                del self._items[key][plot, part]

    def keys(self) -> list[str]:
        """The runs with a band drawn."""
        return list(self._items)

    def items(self, key: str) -> dict[tuple[str, str], object]:
        """A run's items by (plot, part): part "median", "low", "high" (PlotDataItems) or "fill", and with a
        test set the test band's "test_median", "test_low", "test_high", "test_fill"."""
        return dict(self._items[key])

    def band(self, key: str, plot: str = "cost", test: bool = False) -> SeedBand:
        """The band drawn for a run on ``plot``, of its training or ``test`` values (the model's numbers,
        before any clipping); KeyError for a test band without a test set."""
        return self._bands[key][plot, test]

    def redraw(self) -> None:
        for key in self._items:
            self._draw(key)

    def take_changed(self) -> bool:
        """Whether a band changed since the last call (the view then fits its ranges again)."""
        changed, self._changed = self._changed, False
        return changed

    def values(self, plot: str) -> list[np.ndarray]:
        """The finite values of the bands shown on ``plot`` (median, low, high), for the view's ranges (made once
        per band in set_run: the view asks at every frame it refits)."""
        if self.view.x_axis == "seconds":
            return []
        return [v for key, (_, _, visible) in self._runs.items() if visible for v in self._ranges[key].get(plot, [])]

    def _add(self, prefix: str) -> dict:
        """A band's items on every plot: the training band's (``prefix`` "") or the test band's ("test_")."""
        items = {}
        for plot in BAND_PLOTS:
            target = self.view.plots[plot]
            for part in ("low", "high", "median"):
                item = pg.PlotDataItem()
                item.setZValue(-5)
                target.addItem(item)
                items[plot, prefix + part] = item
            fill = pg.FillBetweenItem(items[plot, prefix + "low"], items[plot, prefix + "high"])
            fill.setZValue(-10)
            target.addItem(fill)
            items[plot, prefix + "fill"] = fill
        return items

    def _draw(self, key: str) -> None:
        self._changed = True
        curves, colour, visible = self._runs[key]
        x_kind = self.view.x_axis
        shown = visible and x_kind != "seconds"
        x = curves.epochs.astype(np.float64)
        if x_kind == "updates":
            x = x * curves.updates_per_epoch
        elif x_kind == "samples":
            x = x * curves.samples_per_epoch
        items = self._items[key]
        edge = pg.mkColor(colour)
        edge.setAlpha(90)
        for (plot, test), seeds in self._bands[key].items():
            prefix = "test_" if test else ""
            top = DIVERGENCE_FACTOR * seeds.median[0] if plot == "cost" else 1.0
            for part in ("low", "high", "median"):
                y = np.minimum(getattr(seeds, part), top) if plot == "cost" else getattr(seeds, part)
                item = items[plot, prefix + part]
                item.setData(x, y)
                style = Qt.DashDotLine if test else Qt.DotLine
                pen = pg.mkPen(colour, width=1, style=style) if part == "median" else pg.mkPen(edge, width=1)
                item.setPen(pen)
                item.setVisible(shown)
            fill = pg.mkColor(colour)
            fill.setAlpha(FILL_ALPHA // 2 if test else FILL_ALPHA)
            items[plot, prefix + "fill"].setBrush(pg.mkBrush(fill))
            items[plot, prefix + "fill"].setVisible(shown)


def _range_values(bands: dict[tuple[str, bool], SeedBand]) -> dict[str, list[np.ndarray]]:
    """Per plot, the finite values of a run's bands as drawn (a cost above 10 × the epoch-0 median runs off the
    top and is left out), for the view's ranges."""
    out: dict[str, list[np.ndarray]] = {}
    for (plot, _), seeds in bands.items():
        top = DIVERGENCE_FACTOR * seeds.median[0] if plot == "cost" else np.inf
        for v in (seeds.median, seeds.low, seeds.high):
            v = v[np.isfinite(v)]
            out.setdefault(plot, []).append(v[v <= top])
    return out
