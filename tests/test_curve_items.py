"""AppendingCurve draws what a plain PlotDataItem draws, however its data grows or changes."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

from nnviz.gui.curve_items import FOLD_POINTS, AppendingCurve


def _render(qtbot, item: pg.PlotDataItem, x_range, y_range) -> QImage:
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)  # kept (with the item) until the test ends
    widget.resize(400, 240)
    widget.setBackground("w")
    widget.plotItem.vb.disableAutoRange()
    widget.setXRange(*x_range, padding=0)
    widget.setYRange(*y_range, padding=0)
    widget.addItem(item)
    widget.plotItem.vb.resize(400, 240)
    image = QImage(400, 240, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    widget.scene().render(painter, image.rect(), widget.plotItem.vb.sceneBoundingRect())
    painter.end()
    return image


def _pixels(image: QImage) -> np.ndarray:
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4).copy()


def _steps(rng):
    """Data as a live run gives it: growing by a few points, then once restarted (different values)."""
    x = np.arange(3000, dtype=float)
    y = np.cumsum(rng.normal(size=3000))
    sizes = [1, 5, 9, 40, 41, 300, 301, 302, 900, 900 + FOLD_POINTS + 20, 900 + FOLD_POINTS + 200, 2000]
    steps = [(x[:n], y[:n]) for n in sizes]
    steps.append((x[:50], -y[:50]))  # restarted: a shorter, different curve
    steps.append((x[:60], -y[:60]))
    return steps


@pytest.mark.parametrize("width", [1, 2])
def test_appending_curve_draws_what_a_plot_data_item_draws(qtbot, width):
    pen = pg.mkPen("#1f77b4", width=width)
    for n, (x, y) in enumerate(_steps(np.random.default_rng(3))):
        appending = AppendingCurve(pen=pen)
        plain = pg.PlotDataItem(pen=pen)
        for earlier in _steps(np.random.default_rng(3))[: n + 1]:
            appending.setData(*earlier)  # the same history of calls up to this step
        plain.setData(x, y)
        x_range, y_range = (0, 3000), (float(y.min()) - 1, float(y.max()) + 1)
        np.testing.assert_array_equal(appending.getData()[0], x)
        np.testing.assert_array_equal(appending.getData()[1], y)
        assert np.array_equal(_pixels(_render(qtbot, appending, x_range, y_range)),
                              _pixels(_render(qtbot, plain, x_range, y_range))), f"step {n}: {len(x)} points"


def test_appending_curve_restyled_and_cleared(qtbot):
    x, y = np.arange(100.0), np.sin(np.arange(100.0) / 7)
    curve = AppendingCurve(pen=pg.mkPen("r", width=2))
    curve.setData(x[:50], y[:50])
    curve.setData(x, y)
    curve.setPen(pg.mkPen("#2ca02c", width=2))
    plain = pg.PlotDataItem(x, y, pen=pg.mkPen("#2ca02c", width=2))
    shown = _pixels(_render(qtbot, curve, (0, 100), (-1.2, 1.2)))
    assert np.array_equal(shown, _pixels(_render(qtbot, plain, (0, 100), (-1.2, 1.2))))
    cleared = AppendingCurve(pen=pg.mkPen("r", width=2))
    cleared.setData(x, y)
    cleared.setData([], [])
    empty = pg.PlotDataItem(pen=pg.mkPen("r", width=2))
    assert np.array_equal(_pixels(_render(qtbot, cleared, (0, 100), (-1.2, 1.2))),
                          _pixels(_render(qtbot, empty, (0, 100), (-1.2, 1.2))))


def test_an_export_draws_the_curve_as_a_plot_data_item_does(qtbot, tmp_path):
    """The frozen part is cached as drawn on screen; an export (antialiased) must not reuse that pixmap."""
    images = []
    for kind in (AppendingCurve, pg.PlotDataItem):
        widget = pg.PlotWidget()
        qtbot.addWidget(widget)
        widget.resize(400, 240)
        widget.show()
        curve = kind(pen=pg.mkPen("#d62728", width=2))
        widget.addItem(curve)
        x = np.arange(600.0)
        for n in (300, 310, 600):
            curve.setData(x[:n], np.sin(x[:n] / 40))
            widget.grab()  # drawn on screen (and cached) before the export
        path = tmp_path / f"{kind.__name__}.png"
        pg.exporters.ImageExporter(widget.plotItem).export(str(path))
        images.append(_pixels(QImage(str(path)).convertToFormat(QImage.Format.Format_ARGB32)))
    assert np.array_equal(images[0], images[1])


def test_appending_curve_gives_its_line_what_a_plot_data_item_gives_it(qtbot):
    """Each setData, whatever the data and options: the same shown data, data range and line arguments."""
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    appending, plain = AppendingCurve(pen="r"), pg.PlotDataItem(pen="r")
    for item in (appending, plain):
        widget.addItem(item)
    x = np.arange(400, dtype=float)
    y = np.abs(np.cumsum(np.random.default_rng(5).normal(size=400))) + 0.1
    with_nan = y.copy()
    with_nan[30] = np.nan
    calls = [(x[:n], y[:n]) for n in (1, 20, 21, 60)]
    calls += [(x[:61], with_nan[:61]), (x[:80], y[:80]), (np.arange(90), np.arange(90) % 7), ([], [])]
    with_zero = y.copy()
    with_zero[5] = 0.0  # -inf on a log axis: PlotDataItem shows NaN there
    calls += [(x[:100], y[:100]), (x[:120], (y[:120] - 1) * 1e9), (x[:130], with_zero[:130]), (x[:140], y[:140])]
    widget.plotItem.vb.disableAutoRange()
    widget.setXRange(0, 400)
    for log in (False, True):
        widget.plotItem.setLogMode(y=log)
        widget.setYRange(0, 1, padding=0)  # (y - 1) * 1e9 spans > 10^6 views: PlotDataItem clips it
        for args in calls:
            for item in (appending, plain):
                item.setData(*args)
            for got, want in zip(appending.getData(), plain.getData(), strict=True):
                np.testing.assert_array_equal(got, want)
            assert appending.dataRect() == plain.dataRect()
            for key in ("connect", "skipFiniteCheck", "pen"):
                assert appending.curve.opts[key] == plain.curve.opts[key], (key, len(args[0]), log)
            line = appending.curve  # its frozen points, then the tail's (the first is the frozen part's last)
            for axis in ("xData", "yData"):
                frozen, tail = getattr(line, axis), getattr(line.tail, axis)
                drawn = np.concatenate([frozen, tail[1:]]) if tail is not None and len(tail) else frozen
                np.testing.assert_array_equal(drawn, getattr(plain.curve, axis))
            assert appending.curve.isVisible() == plain.curve.isVisible()
