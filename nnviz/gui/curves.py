"""Training curves of one or several runs: cost, accuracy and learning rate, stacked with a shared x axis.

The view draws the model's Histories (``set_history`` hands it a reference; it never copies one) and redraws
on ``refresh()``, once a frame, only what changed. A long curve is drawn decimated to the pixels shown:
``History.decimated`` gives the min and max of each pixel column's rows from its summary pyramid, so a
frame costs the same at 1,000,000 epochs as at 1,000. The view fits its own ranges (pyqtgraph's auto-range
is off): x from 0 to the target epoch (long runs, and the other x axes: to a round step past the newest
value, so the range changes a few times a decade, not every frame), y to the data drawn. A pan or zoom with
the mouse stops the following; a double-click, ``reset_view()``, or another x axis or cost scale resumes it.

The parts live next door: what is plotted and one run's curves, readout and marker in ``curve_runs``; the
stacked axes and the range fitting in ``curve_ranges``; the runs' seeds (median and band) in ``seed_bands``.
Their public names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from nnviz.core.history import History
from nnviz.gui.boundary_view import BACKGROUND, FOREGROUND, save_png
from nnviz.gui.curve_ranges import LONG_RUN_EPOCHS, RangeFitter, stacked_plots
from nnviz.gui.curve_runs import (
    FIELDS,
    MARKER_COLOR,
    PLOTS,
    X_AXES,
    EpochMarker,
    HoverReadout,
    RunCurves,
    RunLegends,
    readout_text,
)
from nnviz.gui.seed_bands import SeedBands

__all__ = ["FIELDS", "LONG_RUN_EPOCHS", "MARKER_COLOR", "PLOTS", "X_AXES", "CurvesView"]


class CurvesView(QWidget):
    """Three stacked plots sharing x: cost (optionally log-y), accuracy (train solid, test dashed),
    learning rate; one colour per run, a legend, a hover readout and an optional epoch marker."""

    run_visibility_changed = Signal(str, bool)  # run key, visible (when toggled from the legend)

    def __init__(self, parent=None, show_controls: bool = True):
        super().__init__(parent)
        self._runs: dict[str, RunCurves] = {}
        self._x_kind = "epoch"
        self._marker_epoch: int | None = None
        self._log_cost = False
        self._has_test: bool | None = None  # None: shown when some run's history has test columns
        self._fit_y = True  # something changed that the y ranges may need to follow
        self._quiet = False  # visibility set by set_runs: no run_visibility_changed
        self._shown_once = False
        self._later = QTimer(self, singleShot=True, interval=0)  # one refresh after range or size changes
        self._later.timeout.connect(self.refresh)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        # Optional controls row: log-y and the x-axis choice (the methods work without them).
        self.log_checkbox = QCheckBox("log cost")
        self.log_checkbox.setToolTip("Logarithmic y axis for the cost")
        self.log_checkbox.toggled.connect(self.set_log_cost)
        self.x_axis_combo = QComboBox()
        for kind, (_, label) in X_AXES.items():
            self.x_axis_combo.addItem(label, kind)
        self.x_axis_combo.setToolTip("What the x axis counts: the honest comparison of strategies depends on it")
        self.x_axis_combo.currentIndexChanged.connect(lambda i: self.set_x_axis(self.x_axis_combo.itemData(i)))
        self._readout = HoverReadout()
        self.readout = self._readout.label  # the hover readout
        controls = QHBoxLayout()
        controls.setContentsMargins(6, 2, 6, 0)
        x_label = QLabel("x axis:")
        controls.addWidget(self.log_checkbox)
        controls.addSpacing(12)
        controls.addWidget(x_label)
        controls.addWidget(self.x_axis_combo)
        controls.addWidget(self.readout, 1)
        layout.addLayout(controls)
        for widget in (self.log_checkbox, x_label, self.x_axis_combo):
            widget.setVisible(show_controls)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        self.graphics.setToolTip("Drag or scroll to zoom; double-click to follow the runs again")
        self.graphics.ci.setContentsMargins(4, 4, 8, 4)
        self.graphics.ci.setSpacing(2)
        layout.addWidget(self.graphics, 1)

        self.plots = stacked_plots(self.graphics, self._on_manual_range, self._later.start)
        self._ranges = RangeFitter(self.plots)
        self._marker = EpochMarker(self.plots)
        self._markers = self._marker.lines
        self._marker_dots = self._marker.dots
        self.plots["cost"].vb.sigXRangeChanged.connect(self._later.start)  # new bins for the new range
        self._legends = RunLegends(self.plots)
        self.legend = self._legends.runs  # the runs by name and colour
        self.bands = SeedBands(self)  # each run's seeds: median and 10–90 % band (seed_bands.py)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.graphics.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.refresh()

    # ---- what the controller calls ---------------------------------------------------------

    def set_runs(self, runs: Sequence[tuple[str, str, str, bool]]) -> None:
        """Show exactly these runs, in this order: (key, name, colour "#rrggbb", visible); others go."""
        keys = [key for key, *_ in runs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"runs: duplicate keys in {keys}")
        for key in [key for key in self._runs if key not in keys]:
            self._remove(key)
        self._quiet = True
        try:
            for key, name, colour, visible in runs:
                if key not in self._runs:
                    self._add(key, name, colour)
                self._restyle(key, name, colour)
                self._runs[key].curves["cost", "train"].setVisible(bool(visible))  # the others follow
        finally:
            self._quiet = False
        if list(self._runs) != keys:
            self._runs = {key: self._runs[key] for key in keys}
        self._sync_legend()
        self._fit_y = True
        self.refresh()
        self._update_readout()

    def set_history(self, key: str, history: History | None) -> None:
        """The model's History of that run (a reference: the view reads it, never copies it); None: no data."""
        run = self._run(key)
        if run.history is history:
            return
        run.history, run.owned, run.drawn = history, False, None
        self._fit_y = True
        self._update_readout()
        self._later.start()

    def refresh(self) -> None:
        """Redraw what changed since the last call (new rows, ranges, sizes); cheap when nothing did."""
        if self._shown_once and not self.isVisible():
            return  # drawn when shown again (showEvent)
        self._ranges.fit_x(self._runs.values(), self._x_kind)
        x_range = tuple(self.plots["cost"].vb.viewRange()[0])
        bins = self._bins()
        test = self._test_shown()
        self._legends.show_style_key(test)
        state = (self._x_kind, x_range, bins, test)
        changed = False
        for run in self._runs.values():
            if run.visible:
                changed |= run.draw(state)
        if self.bands.take_changed() or changed or self._fit_y:  # the ranges hold the seeds' bands too
            self._fit_y = False
            self._ranges.fit_y(self._runs.values(), self._log_cost, self.bands.values)
            self._update_marker()

    def set_has_test(self, on: bool) -> None:
        """Whether the comparison has a test set: its curves and the train/test key are shown only then."""
        self._has_test = bool(on)
        self.refresh()

    def reset_view(self) -> None:
        """After a reset or a new comparison: ranges fitted from scratch, no readout, no marker."""
        self._ranges.resume()
        self._readout.clear()
        self._marker_epoch = None
        for run in self._runs.values():
            run.drawn = None
        self._fit_y = True
        self.refresh()
        self._update_marker()

    def set_epoch_target(self, epochs: int) -> None:
        """The largest target epoch of the runs: the epoch axis shows 0 to it (long runs: 1-2-5 steps)."""
        self._ranges.epoch_target = int(epochs)

    # ---- display options -------------------------------------------------------------------

    def set_log_cost(self, on: bool) -> None:
        self._log_cost = bool(on)
        self.plots["cost"].setLogMode(y=self._log_cost)
        if self.log_checkbox.isChecked() != self._log_cost:
            self.log_checkbox.setChecked(self._log_cost)
        self._resume_following()

    @property
    def log_cost(self) -> bool:
        return self._log_cost

    def set_x_axis(self, kind: str) -> None:
        """'epoch', 'updates', 'samples' or 'seconds'."""
        if kind not in X_AXES:
            raise ValueError(f"x axis {kind!r}: allowed are {', '.join(X_AXES)}")
        self._x_kind = kind
        self.plots["learning_rate"].setLabel("bottom", X_AXES[kind][1], color=FOREGROUND)
        index = self.x_axis_combo.findData(kind)
        if self.x_axis_combo.currentIndex() != index:
            self.x_axis_combo.setCurrentIndex(index)
        self._resume_following()

    @property
    def x_axis(self) -> str:
        return self._x_kind

    def set_marker(self, epoch: int | None) -> None:
        """Mark that epoch on all three plots (a dot per visible run; a line on the epoch axis), None hides."""
        self._marker_epoch = None if epoch is None else int(epoch)
        self._update_marker()

    def readout_at(self, x: float, plot: str = "cost") -> str:
        """Rich text of each visible run's value in ``plot`` at the epoch nearest to ``x`` (x-axis units)."""
        return readout_text(self._runs.values(), self._x_kind, x, plot)

    def curve_items(self, key: str) -> dict[tuple[str, str], pg.PlotDataItem]:
        """The plot items of a run by (plot, part), e.g. ("cost", "test"): what it draws, for exports and tests."""
        return dict(self._run(key).curves)

    def markers(self) -> dict[str, pg.InfiniteLine]:
        """The epoch marker line of each plot."""
        return dict(self._markers)

    def data(self, key: str) -> dict[str, np.ndarray]:
        """Read-only arrays of the run's columns (see FIELDS; test columns NaN without a test set)."""
        history = self._run(key).history
        if history is None:
            return {name: np.empty(0) for name in FIELDS}
        arrays = history.arrays()
        n = len(arrays["epoch"])
        return {name: arrays[name] if name in arrays else np.full(n, np.nan) for name in FIELDS}

    def run_ids(self) -> list[str]:
        return list(self._runs)

    def save_png(self, path, width: int | None = None) -> None:
        """Write the three plots as a PNG, ``width`` pixels wide (default: as shown)."""
        save_png(self.graphics.ci, path, width)

    # ---- the older calls: the view keeps its own History for a run ---------------------------

    def add_run(self, run_id: str, name: str, color) -> None:
        """A new, empty run drawn in ``color`` (anything pg.mkColor accepts) and named in the legend."""
        if run_id in self._runs:
            raise ValueError(f"run_id={run_id!r}: a run with this id already exists")
        self._add(run_id, name, color)
        self._sync_legend()

    def remove_run(self, run_id: str) -> None:
        self._run(run_id)
        self._remove(run_id)
        self._sync_legend()
        self._update_readout()
        self._update_marker()

    def set_run_visible(self, run_id: str, visible: bool) -> None:
        self._run(run_id).curves["cost", "train"].setVisible(bool(visible))  # the others follow

    def set_run_style(self, run_id: str, name: str | None = None, color=None) -> None:
        run = self._run(run_id)
        self._restyle(run_id, run.name if name is None else name, run.color if color is None else color)
        self._sync_legend()

    def append(self, run_id: str, records: Sequence) -> None:
        """Add EpochRecords (epoch order) to the view's own history of a run, and redraw.

        A record whose epoch is already held restarts the run's history from that epoch.
        """
        run = self._run(run_id)
        if not len(records):
            return
        history = self._own_history(run, records[0].epoch, records[0].test_cost is not None)
        for record in records:
            history.append(record)
        self.refresh()

    def append_columns(self, run_id: str, columns: Mapping[str, np.ndarray]) -> None:
        """Like ``append``, from whole columns named as FIELDS (without test columns: no test values)."""
        run = self._run(run_id)
        if not len(columns["epoch"]):
            return
        has_test = all(name in columns for name in ("test_cost", "test_accuracy"))
        history = self._own_history(run, int(columns["epoch"][0]), has_test)
        history.append_columns(columns)
        self.refresh()

    def clear(self, run_id: str | None = None) -> None:
        """Drop the data of one run, or of all runs."""
        for run in [self._run(run_id)] if run_id is not None else self._runs.values():
            run.history, run.owned, run.drawn = None, False, None
        self._fit_y = True
        self.refresh()
        self._update_readout()

    # ---- internals -------------------------------------------------------------------------

    def _run(self, key: str) -> RunCurves:
        try:
            return self._runs[key]
        except KeyError:
            raise KeyError(f"run key {key!r}: no such run (have {', '.join(self._runs) or 'none'})") from None

    def _add(self, key: str, name: str, color) -> None:
        run = RunCurves.added_to(self.plots, name, color)
        self._runs[key] = run
        run.curves["cost", "train"].visibleChanged.connect(lambda: self._on_visible_changed(key))

    def _remove(self, key: str) -> None:
        self._runs.pop(key).remove_from(self.plots)
        self._fit_y = True

    def _restyle(self, key: str, name: str, color) -> None:
        run = self._runs[key]
        color = pg.mkColor(color)
        if name != run.name:
            run.name = name
            self._legends.rename(run, name)
        if color != run.color:
            run.color = color
            run.style()
            self._update_marker()

    def _sync_legend(self) -> None:
        self._legends.sync(self._runs.values())

    def _own_history(self, run: RunCurves, first_epoch: int, has_test: bool) -> History:
        """The view's own History for a run, cut before ``first_epoch`` when it holds it already."""
        history, new = run.own_history(first_epoch, has_test)
        if new:
            self._fit_y = True
        return history

    def _test_shown(self) -> bool:
        if self._has_test is not None:
            return self._has_test
        return any(run.history is not None and run.history.has_test for run in self._runs.values())

    def _bins(self) -> int:
        """Bins of a decimated curve: one per device pixel column of the plot (two points each)."""
        return max(int(self.plots["cost"].vb.width() * self.graphics.devicePixelRatioF()), 200)

    def _resume_following(self) -> None:
        self._ranges.resume()
        self._fit_y = True
        self.refresh()
        self._update_marker()

    def _on_manual_range(self, *_) -> None:
        self._ranges.stop()  # the user pans or zooms: the view stops following until a double-click

    def _on_mouse_clicked(self, event) -> None:
        if event.double():
            self._resume_following()

    def _on_visible_changed(self, key: str) -> None:
        run = self._runs.get(key)
        if run is None:
            return
        visible = run.curves["cost", "train"].isVisible()
        if visible == run.visible:
            return
        run.visible = visible
        for item in run.curves.values():
            item.setVisible(visible)
        self._fit_y = True
        if not self._quiet:
            self.refresh()  # a run shown again catches up
            self._update_readout()
            self.run_visibility_changed.emit(key, visible)

    def _update_readout(self) -> None:
        self._readout.update(self._runs.values(), self._x_kind)

    def _update_marker(self) -> None:
        self._marker.show(self._runs.values(), self._marker_epoch, self._x_kind)

    def _on_mouse_moved(self, position) -> None:
        if self._readout.moved(self.plots, position):
            self._update_readout()

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        self._readout.clear()  # the pointer has gone: a value that stayed on would look like the newest

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._shown_once = True
        self.refresh()
