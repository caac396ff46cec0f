"""The learning-rate finder's dialog ("Find α") and its picture for `nnviz lr-find --png`.

``LrFinderDialog`` runs ``core.lr_find.find_learning_rate`` in a thread of its own (stoppable after every
step: Cancel and closing act within a few ms), shows its progress, then plots the cost against α on a log
axis with the edge of divergence and the suggestion marked and explained, and offers to apply the
suggestion to the run it was opened for (``apply_requested(α)``: the window applies it through the controller).
``render_lr_find`` draws the same plot with QPainter on a QImage (any thread, no widget).
"""

from __future__ import annotations

import html
import math
import threading
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from nnviz.core.lr_find import EDGE_FACTOR, LrFind, Stopped, find_learning_rate
from nnviz.core.text import shorten

RAW_COLOUR = "#b0b0b0"  # the cost after each step
SMOOTHED_COLOUR = "#1f77b4"  # its moving average
SUGGESTION_COLOUR = "#2ca02c"
EDGE_COLOUR = "#d62728"
PROGRESS_INTERVAL = 0.05  # seconds between two progress signals from the finder's thread


def edge_text(result: LrFind) -> str:
    """One line on the edge of divergence."""
    if result.edge is None:
        return f"No edge of divergence up to α = {result.rates[-1]:.3g}: the cost never rose above " \
               f"{EDGE_FACTOR:g} × its minimum."
    return f"Edge of divergence: α = {result.edge:.3g}, where the smoothed cost rose above {EDGE_FACTOR:g} × " \
           "its minimum (the pass stopped there)."


def applied_rate(suggestion: float) -> float:
    """The α the apply button gives a run: the suggestion to the 3 significant digits it shows (0.0595, not
    0.05953530817: a finder's α is no more precise than that, and the run's field and name show it whole)."""
    return float(f"{suggestion:.3g}")


def apply_text(suggestion: float | None, run_name: str) -> str:
    """The apply button's text, e.g. Apply α = 0.0123 to run “momentum”."""
    shown = "…" if suggestion is None else f"{applied_rate(suggestion):g}"
    return f"Apply α = {shown} to run “{shorten(run_name, 40)}”"


# ---- the picture (QPainter, for the command line) ----------------------------------------------------------

def _finite_range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    pad = 0.05 * (high - low)
    return low - pad, high + pad


def render_lr_find(result: LrFind, width: int = 900, height: int = 540) -> QImage:
    """Cost (raw and smoothed) against α on a log axis, with the suggestion and the edge as labelled lines."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    metrics = QFontMetricsF(painter.font())
    line = metrics.height()
    top, bottom = 3.5 * line + 10, 4 * line  # room for the title and the rule, for the ticks, axis title and edge
    plot = QRectF(70, top, width - 100, height - top - bottom)
    x_low, x_high = math.log10(result.low), math.log10(result.high)
    y_low, y_high = _finite_range(np.concatenate([result.costs, result.smoothed]))
    y_high = min(y_high, y_low + 3 * (_finite_range(result.smoothed)[1] - y_low))  # a wild raw cost stays on top

    def point(rate: float, cost: float) -> QPointF:
        x = plot.left() + (math.log10(rate) - x_low) / (x_high - x_low) * plot.width()
        y = plot.bottom() - (min(max(cost, y_low), y_high) - y_low) / (y_high - y_low) * plot.height()
        return QPointF(x, y)

    painter.setPen(QPen(QColor("black"), 1))
    painter.drawRect(plot)
    for decade in range(math.ceil(x_low), math.floor(x_high) + 1):  # x ticks at each power of ten
        p = point(10.0 ** decade, y_low)
        painter.drawLine(p, p + QPointF(0, 5))
        label = f"1e{decade}" if decade not in (-1, 0, 1) else f"{10.0 ** decade:g}"
        painter.drawText(QRectF(p.x() - 40, p.y() + 6, 80, line), Qt.AlignmentFlag.AlignHCenter, label)
    for value in np.linspace(y_low, y_high, 5):
        p = point(result.low, value)
        painter.drawLine(p, p - QPointF(5, 0))
        painter.drawText(QRectF(0, p.y() - line / 2, plot.left() - 8, line), Qt.AlignmentFlag.AlignRight,
                         f"{value:.3g}")
    painter.drawText(QRectF(plot.left(), plot.bottom() + line + 8, plot.width(), line),
                     Qt.AlignmentFlag.AlignHCenter, "learning rate α (log scale)")

    painter.setClipRect(plot)
    for values, colour, pen_width in ((result.costs, RAW_COLOUR, 1), (result.smoothed, SMOOTHED_COLOUR, 2)):
        path = QPainterPath()
        drawing = False
        for rate, cost in zip(result.rates, values, strict=True):
            if not math.isfinite(cost):
                drawing = False
                continue
            path.lineTo(point(rate, cost)) if drawing else path.moveTo(point(rate, cost))
            drawing = True
        painter.setPen(QPen(QColor(colour), pen_width))
        painter.drawPath(path)
    marks = [(result.suggestion, SUGGESTION_COLOUR, f"suggestion α = {result.suggestion:.3g}")]
    if result.edge is not None:
        marks.append((result.edge, EDGE_COLOUR, f"edge α = {result.edge:.3g}"))
    for rate, colour, label in marks:
        top, bottom = point(rate, y_high), point(rate, y_low)
        painter.setPen(QPen(QColor(colour), 2, Qt.PenStyle.DashLine))
        painter.drawLine(top, bottom)
        right = top.x() + 4 + metrics.horizontalAdvance(label) < plot.right()
        box = QRectF(top.x() + 4, top.y() + 4, 300, line) if right else QRectF(top.x() - 304, top.y() + 4, 300, line)
        painter.drawText(box, Qt.AlignmentFlag.AlignRight if not right else Qt.AlignmentFlag.AlignLeft, label)
    painter.setClipping(False)

    painter.setPen(QPen(QColor("black")))
    painter.drawText(QRectF(10, 4, width - 20, line), Qt.AlignmentFlag.AlignLeft,
                     f"cost after each step (grey) and smoothed (blue), {len(result.rates)} of {result.steps} steps")
    painter.drawText(QRectF(10, 4 + line, width - 20, 2 * line), Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
                     f"suggestion: {result.rule}")
    painter.drawText(QRectF(10, height - line - 4, width - 20, line), Qt.AlignmentFlag.AlignLeft,
                     metrics.elidedText(edge_text(result), Qt.TextElideMode.ElideRight, width - 20))
    painter.end()
    return image


_app = None  # the offscreen application lr_find_png made, kept for the process's life


def lr_find_png(result: LrFind, width: int = 900, height: int = 540) -> bytes:
    """The picture as PNG bytes; makes an offscreen QApplication first when none runs (the command line: a
    QApplication, not a QGuiApplication, so that widgets made later in the same process still work)."""
    from PySide6.QtWidgets import QApplication

    global _app
    if QApplication.instance() is None:
        _app = QApplication(["nnviz", "-platform", "offscreen"])
    data = QByteArray()
    buffer = QBuffer(data)
    if not buffer.open(QIODevice.OpenModeFlag.WriteOnly) or not render_lr_find(result, width, height).save(buffer,
                                                                                                          "PNG"):
        raise ValueError("the picture could not be encoded as PNG")
    buffer.close()
    return bytes(data.data())


# ---- the dialog -----------------------------------------------------------------------------------------------

class _Bridge(QObject):
    """Carries the finder thread's news to the GUI thread (queued signals)."""

    progressed = Signal(int, int)  # (steps done, steps)
    done = Signal(object)  # LrFind
    stopped = Signal()
    errored = Signal(str)


class LrFinderDialog(QDialog):
    """Finds a learning rate for one run and offers to apply it (non-modal).

    Signals: ``found(LrFind)`` once the pass is done, ``cancelled()`` when it was stopped, ``failed(str)``
    when it raised, ``apply_requested(float)`` with the suggestion as the button shows it (``applied_rate``) when
    the apply button is pressed.
    """

    found = Signal(object)
    cancelled = Signal()
    failed = Signal(str)
    apply_requested = Signal(float)

    def __init__(self, config, start, engine, run_name: str, parent=None, low: float | None = None,
                 high: float | None = None):
        super().__init__(parent)
        self.config, self.start, self.engine, self.run_name = config, start, engine, run_name
        self.range = {k: v for k, v in (("low", low), ("high", high)) if v is not None}
        self.outcome: LrFind | None = None  # the last pass's result, once done (QDialog.result() is the exit code)
        self.setModal(False)
        self.setWindowTitle(f"Find α for run “{shorten(run_name, 40)}”")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bridge = _Bridge(self)
        self._bridge.progressed.connect(self._on_progress)
        self._bridge.done.connect(self._on_done)
        self._bridge.stopped.connect(self._on_stopped)
        self._bridge.errored.connect(self._on_error)
        self._build()
        self.resize(720, 520)
        self.run()

    def _build(self) -> None:
        self.intro = QLabel(
            f"One pass of steps from the shared start (no run's weights change), α rising exponentially, "
            f"with the run's batch size ({self.config.batch_size}), optimiser and L2; the cost after each step "
            "is measured on the training set and smoothed.")
        self.intro.setWordWrap(True)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "learning rate α (log scale)")
        self.plot.setLabel("left", "cost")
        self.plot.addLegend(offset=(10, 10))  # top left: the cost is flat and low there
        self.raw_curve = self.plot.plot([], [], pen=pg.mkPen(RAW_COLOUR, width=1), name="cost after each step")
        self.smoothed_curve = self.plot.plot([], [], pen=pg.mkPen(SMOOTHED_COLOUR, width=2), name="smoothed")
        self.suggestion_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(SUGGESTION_COLOUR, width=2,
                                                                      style=Qt.PenStyle.DashLine),
                                               label="suggestion", labelOpts={"position": 0.9,
                                                                              "color": SUGGESTION_COLOUR})
        self.edge_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(EDGE_COLOUR, width=2, style=Qt.PenStyle.DashLine),
                                         label="edge", labelOpts={"position": 0.8, "color": EDGE_COLOUR})
        for item in (self.suggestion_line, self.edge_line):
            item.setVisible(False)
            self.plot.addItem(item)
        self.explanation = QLabel("")
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.RichText)
        self.progress_bar = QProgressBar()
        self.status = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.again_button = QPushButton("Run again")
        self.again_button.clicked.connect(self.run)
        self.apply_button = QPushButton(apply_text(None, self.run_name))
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self._apply)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for widget in (self.cancel_button, self.again_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.close_button)
        row = QHBoxLayout()
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.explanation)
        layout.addLayout(row)
        layout.addLayout(buttons)

    # ---- the pass, in its thread ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> None:
        """Start a pass (after stopping one under way)."""
        self.stop()
        self.outcome = None
        self._stop = threading.Event()
        stop, bridge = self._stop, self._bridge
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.status.setText("finding α…")
        self.apply_button.setEnabled(False)
        self.apply_button.setText(apply_text(None, self.run_name))
        self.cancel_button.setEnabled(True)
        self.again_button.setEnabled(False)
        last = [0.0]

        def send(signal, *args) -> None:
            try:
                signal.emit(*args)
            except RuntimeError:  # the dialog was deleted meanwhile: nobody to tell
                stop.set()

        def progress(done: int, steps: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= PROGRESS_INTERVAL or done == steps:
                last[0] = now
                send(bridge.progressed, done, steps)

        config, start, engine, limits = self.config, self.start, self.engine, self.range

        def work() -> None:
            try:
                result = find_learning_rate(config, start, engine, should_stop=stop.is_set, progress=progress,
                                            **limits)
            except Stopped:
                send(bridge.stopped)
            except Exception as exc:  # a failure becomes a message, never a silent dead thread
                send(bridge.errored, f"{type(exc).__name__}: {shorten(str(exc), 200)}")
            else:
                send(bridge.done, result)

        self._thread = threading.Thread(target=work, name="nnviz-lr-find", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the pass to stop and wait for its thread (it stops after the step under way)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def cancel(self) -> None:
        """Stop the pass under way; the dialog stays open."""
        if self.running:
            self._stop.set()
            self.status.setText("stopping…")

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.stop()
        super().closeEvent(event)

    def done(self, code: int) -> None:  # Escape and reject() end here too: the thread must stop
        self.stop()
        super().done(code)

    # ---- news from the thread ---------------------------------------------------------------------------

    def _on_progress(self, done: int, steps: int) -> None:
        if self._stop.is_set():
            return
        self.progress_bar.setRange(0, steps)
        self.progress_bar.setValue(done)
        self.status.setText(f"step {done:,} of {steps:,}")

    def _on_done(self, result: LrFind) -> None:
        if self._stop.is_set():  # a pass stopped too late: its result is not wanted
            return
        self.outcome = result
        self.progress_bar.setRange(0, result.steps)
        self.progress_bar.setValue(result.steps)
        self.status.setText(f"done: {len(result.rates):,} steps" + (", stopped at the edge" if result.edge else ""))
        self.cancel_button.setEnabled(False)
        self.again_button.setEnabled(True)
        self._show(result)
        self.apply_button.setText(apply_text(result.suggestion, self.run_name))
        self.apply_button.setEnabled(True)
        self.found.emit(result)

    def _on_stopped(self) -> None:
        self.status.setText("cancelled")
        self.cancel_button.setEnabled(False)
        self.again_button.setEnabled(True)
        self.cancelled.emit()

    def _on_error(self, message: str) -> None:
        self.status.setText("failed")
        self.explanation.setText(html.escape(message))
        self.cancel_button.setEnabled(False)
        self.again_button.setEnabled(True)
        self.failed.emit(message)

    def _show(self, result: LrFind) -> None:
        finite = np.isfinite(result.costs)
        self.raw_curve.setData(result.rates[finite], result.costs[finite])
        finite = np.isfinite(result.smoothed)
        self.smoothed_curve.setData(result.rates[finite], result.smoothed[finite])
        # In log mode an InfiniteLine's position is in the axis's coordinates: log10(α).
        # Shown first: a hidden line's label ignores a new text.
        self.suggestion_line.setVisible(True)
        self.suggestion_line.setValue(math.log10(result.suggestion))
        self.suggestion_line.label.setFormat(f"suggestion {result.suggestion:.3g}")
        self.edge_line.setVisible(result.edge is not None)
        if result.edge is not None:
            self.edge_line.setValue(math.log10(result.edge))
            self.edge_line.label.setFormat(f"edge {result.edge:.3g}")
        self.plot.setXRange(math.log10(result.low), math.log10(result.high), padding=0.02)
        self.explanation.setText(
            f"<b style='color:{SUGGESTION_COLOUR}'>Suggested α = {result.suggestion:.3g}</b>: "
            f"{html.escape(result.rule)}.<br><span style='color:{EDGE_COLOUR}'>{html.escape(edge_text(result))}"
            "</span>")

    def _apply(self) -> None:
        if self.outcome is not None:
            self.apply_requested.emit(applied_rate(self.outcome.suggestion))
