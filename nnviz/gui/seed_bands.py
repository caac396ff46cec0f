"""The seeds of each run on the curves: the median (dotted) and the 10–90 % band (a translucent fill) in the
run's colour, on the cost and accuracy plots, behind the run's own curve (seed 1, the live run).

The band's data are the model's (``core.seeds.band``), drawn as they are, except a +inf edge (more than 10 %
of the seeds diverged): it is drawn at 10 × the run's epoch-0 median cost (training.DIVERGENCE_FACTOR: what
counts as diverged), above the fitted range, so the band runs off the top of the plot. The y ranges follow
the runs' own curves, not the bands. On the "training time" x axis no band is drawn (seeds trained apart
have no clock of their own); on updates and samples the epochs are converted (the same for every seed).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from nnviz.core.seeds import SeedBand, SeedCurves, band
from nnviz.core.training import DIVERGENCE_FACTOR

BAND_PLOTS = ("cost", "accuracy")  # the plots a run's seeds are drawn on
FILL_ALPHA = 50  # of 255: the band's fill
PARTS = ("low", "high", "median", "fill")


class SeedBands:
    """Median and band items per run key on the curves view's plots; ``set_run`` hands a run's seeds."""

    def __init__(self, view):
        self.view = view  # the CurvesView whose plots these are drawn on (its x axis is read at every draw)
        self._items: dict[str, dict[tuple[str, str], object]] = {}  # key -> (plot, part) -> item
        self._runs: dict[str, tuple[SeedCurves | None, object, bool]] = {}  # key -> (curves, colour, visible)
        self._bands: dict[str, dict[str, SeedBand]] = {}  # key -> plot -> the band drawn
        view.x_axis_combo.currentIndexChanged.connect(lambda *_: self.redraw())

    def set_run(self, key: str, curves: SeedCurves | None, colour, visible: bool = True) -> None:
        """The seeds of run ``key`` (None: no band), its colour and whether it is shown."""
        if curves is None:
            self.remove(key)
            return
        if key not in self._items:
            self._items[key] = self._add()
        self._runs[key] = (curves, pg.mkColor(colour), bool(visible))
        self._bands[key] = {plot: band(curves, plot) for plot in BAND_PLOTS}
        self._draw(key)

    def remove(self, key: str) -> None:
        items = self._items.pop(key, None)
        self._runs.pop(key, None)
        self._bands.pop(key, None)
        for (plot, _), item in (items or {}).items():
            self.view.plots[plot].removeItem(item)

    def keys(self) -> list[str]:
        """The runs with a band drawn."""
        return list(self._items)

    def items(self, key: str) -> dict[tuple[str, str], object]:
        """A run's items by (plot, part): part "median", "low", "high" (PlotDataItems) or "fill"."""
        return dict(self._items[key])

    def band(self, key: str, plot: str = "cost") -> SeedBand:
        """The band drawn for a run on ``plot`` (the model's numbers, before any clipping)."""
        return self._bands[key][plot]

    def redraw(self) -> None:
        for key in self._items:
            self._draw(key)

    def _add(self) -> dict:
        items = {}
        for plot in BAND_PLOTS:
            target = self.view.plots[plot]
            for part in ("low", "high", "median"):
                item = pg.PlotDataItem()
                item.setZValue(-5)
                target.addItem(item)
                items[plot, part] = item
            fill = pg.FillBetweenItem(items[plot, "low"], items[plot, "high"])
            fill.setZValue(-10)
            target.addItem(fill)
            items[plot, "fill"] = fill
        return items

    def _draw(self, key: str) -> None:
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
        fill = pg.mkColor(colour)
        fill.setAlpha(FILL_ALPHA)
        for plot in BAND_PLOTS:
            seeds = self._bands[key][plot]
            top = DIVERGENCE_FACTOR * seeds.median[0] if plot == "cost" else 1.0
            for part in ("low", "high", "median"):
                y = np.minimum(getattr(seeds, part), top) if plot == "cost" else getattr(seeds, part)
                item = items[plot, part]
                item.setData(x, y)
                pen = pg.mkPen(colour, width=1, style=Qt.DotLine) if part == "median" else pg.mkPen(edge, width=1)
                item.setPen(pen)
                item.setVisible(shown)
            items[plot, "fill"].setBrush(pg.mkBrush(fill))
            items[plot, "fill"].setVisible(shown)
