"""The readout under the cursor of a map (the decision map, the loss landscape): a text in the plot's top left
corner that follows the pointer, and the number formats it uses."""

from __future__ import annotations

import math
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import SignalInstance
from PySide6.QtGui import QFont

from nnviz.gui.map_shared import FOREGROUND

READOUT_FILL = (255, 255, 255, 215)  # behind the cursor readout: readable over the light map and the points


def format_coordinate(value: float, pixel: float = 0.0) -> str:
    """``value`` with 3 significant digits, or down to the decimal place of one ``pixel`` (in data units) when
    that needs more (zoomed in); a real minus sign."""
    digits = 3
    if pixel > 0 and value != 0 and math.isfinite(value) and math.isfinite(pixel):
        digits = max(3, min(12, math.floor(math.log10(abs(value))) - math.floor(math.log10(pixel)) + 1))
    return f"{value:.{digits}g}".replace("-", "\u2212")


def format_probability(p: float) -> str:
    """A probability to 3 decimals; within 0.001 of 0 or 1 as "2.1e-07" or "1 − 2.1e-07" (never a bare 0 or 1
    that hides a saturated output)."""
    if not math.isfinite(p):
        return "–"
    if 0.001 <= p <= 0.999:
        return f"{p:.3f}"
    if p < 0.001:
        return f"{p:.2g}"
    return f"1 \u2212 {1 - p:.2g}" if p < 1 else "1"


class MapReadout:
    """The text under the cursor, in the top left corner of the view box ``vb``.

    The owner passes every pointer move (``move``, a scene position; None when the pointer leaves) and calls
    ``update`` when what lies under a resting pointer changes (a zoom or pan does so by itself).
    ``describe(x, y, pixel_x, pixel_y)`` gets the point under the pointer in view coordinates and one pixel's
    size there, and returns the text to show ("" hides it) and the value there; once the text is shown,
    ``hovered(x, y, value)`` is emitted. Neither happens while the pointer is off the plot.
    """

    def __init__(self, vb: pg.ViewBox, describe: Callable[[float, float, float, float], tuple[str, float]],
                 hovered: SignalInstance, point_size: float = 9.0):
        self._vb = vb
        self._describe = describe
        self._hovered = hovered
        self._hover = None  # scene position of the pointer while it is over the plot, else None
        self.item = pg.TextItem("", color=FOREGROUND, fill=pg.mkBrush(*READOUT_FILL), anchor=(0, 0))
        font = QFont()
        font.setPointSizeF(point_size)
        self.item.setFont(font)
        self.item.setParentItem(vb)
        self.item.setPos(3, 3)
        self.item.setZValue(10)
        self.item.setVisible(False)
        vb.sigRangeChanged.connect(self.update)  # zoomed or panned under a resting pointer

    def move(self, position) -> None:
        """The pointer is at scene ``position`` (None: it has left the view): follow it while over the plot."""
        inside = position is not None and self._vb.sceneBoundingRect().contains(position)
        self._hover = position if inside else None
        self.update()

    def update(self, *_) -> None:
        """Show the text for the point under the pointer, or hide it when the pointer is off the plot."""
        if self._hover is None:
            self.item.setVisible(False)
            return
        point = self._vb.mapSceneToView(self._hover)
        pixel_x, pixel_y = self._vb.viewPixelSize()
        x, y = point.x(), point.y()
        text, value = self._describe(x, y, pixel_x, pixel_y)
        if text != self.item.textItem.toPlainText():
            self.item.setText(text)
        self.item.setVisible(bool(text))
        self._hovered.emit(x, y, value)

    def text(self) -> str:
        """The text shown ("" when hidden)."""
        return self.item.textItem.toPlainText() if self.item.isVisible() else ""
