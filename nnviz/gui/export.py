"""PNG export of widgets, plots and decision maps, written atomically.

Every function writes a temporary file in the target's folder and renames it over the
target, so a failure leaves any existing file as it was; failures raise ExportError with
one line naming the path. CSV export of histories is ``nnviz.core.session.comparison_csv``
(written with ``nnviz.core.files.write_atomic``: see ``save_csv``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from nnviz.core.comparison import History
from nnviz.core.files import write_atomic
from nnviz.core.session import comparison_csv
from nnviz.gui.boundary_view import BoundaryView

MIN_WIDTH = 16  # pixels, the narrowest PNG a plot is exported at


class ExportError(Exception):
    """A file could not be written; the message is one line naming the path and the reason."""


def _write_atomically(path: str | Path, write: Callable[[str], bool | None], what: str) -> None:
    """Call ``write(temporary_path)`` and rename the result to ``path``; ExportError on any failure.

    ``write`` returns False (or leaves the file empty) when it fails without an exception, as
    QImage.save does.
    """
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file name ending in .png")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write {what}: {exc.strerror or exc}") from None
    os.close(fd)
    try:
        ok = write(tmp)
        if ok is False or os.path.getsize(tmp) == 0:
            raise ExportError(f"{path}: cannot write {what}: the image could not be encoded as PNG")
        os.replace(tmp, path)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write {what}: {exc.strerror or exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def _checked_width(width) -> int | None:
    if width is None:
        return None
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < MIN_WIDTH:
        raise ValueError(f"width={width!r}: must be an integer of at least {MIN_WIDTH} pixels")
    return int(width)


def save_widget_png(widget: QWidget, path: str | Path) -> None:
    """Write what ``widget`` (e.g. the whole window) shows as a PNG, at its size on screen."""
    pixmap = widget.grab()
    if pixmap.isNull():
        raise ExportError(f"{path}: cannot write the window image: the widget has no size to grab")
    _write_atomically(path, lambda tmp: pixmap.save(tmp, "PNG"), "the window image")


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
    _write_atomically(path, lambda tmp: image.save(tmp, "PNG"), "the plot image")


def save_map_png(view: BoundaryView, path: str | Path, width: int | None = None) -> None:
    """Write a decision map as a PNG at any width, through BoundaryView.save_png, atomically."""
    _checked_width(width)
    _write_atomically(path, lambda tmp: view.save_png(tmp, width), "the decision map")


def save_csv(path: str | Path, histories: Mapping[str, History], has_test: bool) -> None:
    """Write histories as long-form CSV (``core.session.comparison_csv``) atomically."""
    text = comparison_csv(histories, has_test)
    if Path(path).is_dir():
        raise ExportError(f"{path}: is a folder; give a file name ending in .csv")
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write the CSV: {exc.strerror or exc}") from None
