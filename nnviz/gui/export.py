"""PNG and CSV export of the window, the plots and the decision maps: the one exporter of the package.

An image is encoded to PNG bytes in memory, then written by ``core.files.write_atomic``
(a temporary file in the target's folder, synced and renamed over the target), so a failure
(a full disk, an encoder error, Ctrl-C) leaves any existing file as it was and no temporary
file behind. Failures raise ExportError with one line naming the path and the real reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QWidget

from nnviz.core.files import WriteError, is_folder, write_atomic
from nnviz.core.history import History
from nnviz.core.session import comparison_csv
from nnviz.core.text import shorten

MIN_WIDTH = 16  # pixels, the narrowest PNG a plot is exported at


class ExportError(Exception):
    """A file could not be written; the message is one line naming the path and the reason."""


def _shown(path) -> str:
    return shorten(str(path), 160)


def png_bytes(image: QImage | QPixmap) -> bytes:
    """``image`` encoded as PNG, in memory; ExportError if it cannot be encoded."""
    if image is None or image.isNull():
        raise ExportError("the image is empty: nothing to encode as PNG")
    data = QByteArray()
    buffer = QBuffer(data)
    if not buffer.open(QIODevice.OpenModeFlag.WriteOnly):
        raise ExportError("no memory buffer for the PNG")
    ok = image.save(buffer, "PNG")
    buffer.close()
    if not ok or data.isEmpty():
        raise ExportError("the image could not be encoded as PNG")
    return bytes(data.data())


def _check_target(path, kind: str) -> Path:
    path = Path(path)
    if is_folder(path):
        raise ExportError(f"{_shown(path)}: is a folder; give a file name ending in .{kind}")
    return path


def _write(path: Path, data: str | bytes, what: str) -> None:
    try:
        write_atomic(path, data)
    except WriteError as exc:
        raise ExportError(f"{_shown(path)}: cannot write {what}: {exc.reason}") from None


def save_image_png(image: QImage | QPixmap, path: str | Path, what: str = "the image") -> None:
    """Write an image (e.g. one rendered in a worker thread) as a PNG, atomically."""
    path = _check_target(path, "png")
    try:
        data = png_bytes(image)
    except ExportError as exc:
        raise ExportError(f"{_shown(path)}: cannot write {what}: {exc}") from None
    _write(path, data, what)


def _checked_width(width) -> int | None:
    if width is None:
        return None
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < MIN_WIDTH:
        raise ValueError(f"width={shorten(repr(width))}: must be an integer of at least {MIN_WIDTH} pixels")
    return int(width)


def save_widget_png(widget: QWidget, path: str | Path) -> None:
    """Write what ``widget`` (e.g. the whole window) shows as a PNG, at its size on screen."""
    path = _check_target(path, "png")
    pixmap = widget.grab()
    if pixmap.isNull():
        raise ExportError(f"{_shown(path)}: cannot write the window image: the widget has no size to grab")
    save_image_png(pixmap, path, "the window image")


def _export_item(target) -> pg.GraphicsItem | pg.GraphicsScene:
    """What pyqtgraph's ImageExporter renders for a plot item or a plot widget."""
    if isinstance(target, pg.PlotWidget):
        return target.getPlotItem()
    if isinstance(target, pg.GraphicsLayoutWidget):
        return target.ci
    if isinstance(target, pg.GraphicsView):
        return target.scene()
    if isinstance(target, (pg.GraphicsItem, pg.GraphicsScene)):
        return target
    raise TypeError(f"plot: expected a pyqtgraph plot item or widget, got {type(target).__name__}")


def render_plot(target, width: int | None = None) -> QImage:
    """A pyqtgraph plot item or widget rendered to an image, ``width`` pixels wide (default: as shown)."""
    width = _checked_width(width)
    exporter = pyqtgraph.exporters.ImageExporter(_export_item(target))
    if width is not None:
        exporter.parameters()["width"] = width  # the height follows, keeping the aspect ratio
    image = exporter.export(toBytes=True)
    if image is None or image.isNull():
        raise ExportError("plot: nothing to render (the plot has no size yet)")
    return image


def save_plot_png(target, path: str | Path, width: int | None = None) -> None:
    """Write a pyqtgraph plot item or widget (e.g. the curves) as a PNG, ``width`` pixels wide if given."""
    image = render_plot(target, width)
    save_image_png(image, path, "the plot image")


def render_map_image(view, width: int | None = None) -> QImage:
    """A decision map (BoundaryView) as an image ``width`` pixels wide, drawn at that resolution if the view
    can say what it shows (``render_state``), else rendered as on screen and scaled."""
    width = _checked_width(width)
    if hasattr(view, "render_state"):
        from nnviz.gui.map_render import render_map

        width = width if width is not None else max(MIN_WIDTH, view.width())
        image = render_map(**view.render_state(), width=width, height=view.export_height(width))
        if image is None:
            raise ExportError("map: the rendering was cancelled")
        return image
    return render_plot(view.ci, width)


def save_map_png(view, path: str | Path, width: int | None = None) -> None:
    """Write a decision map as a PNG at any width, atomically."""
    _checked_width(width)
    path = _check_target(path, "png")
    save_image_png(render_map_image(view, width), path, "the decision map")


def save_csv(path: str | Path, histories: Mapping[str, History], has_test: bool) -> None:
    """Write histories as long-form CSV (``core.session.comparison_csv``) atomically."""
    path = _check_target(path, "csv")
    _write(path, comparison_csv(histories, has_test), "the CSV")
