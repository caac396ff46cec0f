"""The data drawn on the decision map: the scatter of the points, the legend and the note on a subset."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from nnviz.gui.map_shared import CLASS_COLORS, FOREGROUND, NOTE_COLOR, MapPoints


class MapScatter:
    """Per class, the training points filled and the test points hollow, over the map and under its contour.

    A large map has a legend in its top right corner (the classes, the test set when there is one, the
    ``contour``); every map has a note in its bottom left corner when only a subset of the points is drawn.
    """

    def __init__(self, plot: pg.PlotItem, contour: pg.PlotDataItem, compact: bool):
        self._contour = contour
        size = 4 if compact else 6
        self.items: tuple[pg.ScatterPlotItem, ...] = ()  # (class 0 train, class 1 train, class 0 test, class 1 test)
        for hollow in (False, True):
            for color in CLASS_COLORS:
                if hollow:
                    item = pg.ScatterPlotItem(size=size + 1, pen=pg.mkPen(color, width=1.4), brush=None)
                else:
                    item = pg.ScatterPlotItem(size=size, pen=pg.mkPen(255, 255, 255, 160, width=0.6), brush=color)
                item.setZValue(2)
                plot.addItem(item)
                self.items += (item,)

        self.legend: pg.LegendItem | None = None
        if not compact:
            self.legend = pg.LegendItem(offset=(-8, 8), brush=pg.mkBrush(255, 255, 255, 200),
                                        pen=pg.mkPen(200, 200, 200), labelTextColor=FOREGROUND)
            self.legend.setParentItem(plot.vb)
            self._update_legend(has_test=False)

        # Says when only a subset of the points is drawn (many points: see map_render.map_points).
        self._note = pg.LabelItem("", color=NOTE_COLOR, size="7pt" if compact else "8pt")
        self._note.setParentItem(plot.vb)
        self._note.anchor(itemPos=(0, 1), parentPos=(0, 1), offset=(2, -2))
        self._note.setVisible(False)

    def show(self, points: MapPoints) -> None:
        """Draw ``points`` as they are (limit them first), with the legend and the note that go with them."""
        for item, drawn in zip(self.items, (*points.train, *points.test), strict=True):
            item.setData(pos=drawn)
        if self.legend is not None:
            self._update_legend(points.n_test > 0)
        self._note.setText(points.note)
        self._note.setVisible(bool(points.note))

    def drawn_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The points drawn: (class 0 train, class 1 train, class 0 test, class 1 test), each of shape (k, 2)."""
        out = []
        for item in self.items:
            x, y = item.getData()
            out.append(np.empty((0, 2)) if x is None else np.column_stack([x, y]))
        return tuple(out)

    def legend_labels(self) -> list[str]:
        """The legend's entries, top to bottom ([] without a legend)."""
        return [] if self.legend is None else [label.text for _, label in self.legend.items]

    def _update_legend(self, has_test: bool) -> None:
        self.legend.clear()
        self.legend.addItem(self.items[0], "class 0")
        self.legend.addItem(self.items[1], "class 1")
        if has_test:
            self.legend.addItem(self.items[2], "test (hollow)")
        self.legend.addItem(self._contour, "p = 0.5")
