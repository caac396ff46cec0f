"""The sweep window ("Sweep…"): one run's settings trained over a grid of one or two hyper-parameters.

Non-modal, opened for the main window's selected run (``SweepTools.open_sweep``). The form on the left says
what to sweep; Run trains it off the GUI thread (gui/sweep_runner.py) and the view fills in as cells finish,
with progress and the time left in the status bar; Cancel stops within 100 ms and keeps what finished.
Clicking a cell adds that run to the comparison through the controller; circles mark the comparison's runs.
``to_doc``/``restore`` store the sweep in a session (``SweepStudy.to_doc``).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.comparison import RunSpec, SharedSettings
from nnviz.core.sweep_study import SweepStudy, cell_name
from nnviz.core.text import shorten
from nnviz.core.training import TrainConfig
from nnviz.gui.export import ExportError, save_image_png
from nnviz.gui.sweep_form import SweepForm
from nnviz.gui.sweep_runner import SweepRunner
from nnviz.gui.sweep_view import SweepView, render_study


class SweepWindow(QMainWindow):
    """The form, the view, Run / Cancel / Export, and the status bar of one sweep at a time.

    Signals: ``cells_arrived(int)`` with the cells done after each batch, ``sweep_finished(str)`` with
    "finished", "cancelled" or "failed", ``run_added(int)`` with the id of a run added from a cell.
    """

    cells_arrived = Signal(int)
    sweep_finished = Signal(str)
    run_added = Signal(int)

    def __init__(self, controller, base: TrainConfig, run_name: str, parent: QWidget | None = None,
                 workers: int | None = None):
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)
        self.controller = controller
        self.workers = workers  # None: sweep() decides (the cores of this machine)
        self.study: SweepStudy | None = None
        self._started = 0.0
        self._state = "idle"  # idle, running, cancelling
        self.runner = SweepRunner(self)
        self.runner.results.connect(self._on_results)
        self.runner.finished.connect(self._on_finished)
        self.runner.errored.connect(self._on_error)
        self._previous: SweepStudy | None = None  # the study shown before a Run (back on a failure with no cell)
        self._build()
        self.set_base(base, run_name)
        controller.runs_changed.connect(self.update_marks)
        controller.runs_changed.connect(self.follow_selected_run)
        controller.selection_changed.connect(self.follow_selected_run)
        self.resize(1100, 640)

    def _build(self) -> None:
        self.form = SweepForm()
        self.form.metric_changed.connect(self._metric_changed)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("sweep_run")
        self.run_button.setToolTip("Train every cell of the grid (× seeds) from the shared start (Ctrl+Enter)")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("sweep_cancel")
        self.cancel_button.setToolTip("Stop the sweep; the cells that finished stay (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("Save the view as a PNG picture")
        self.export_button.clicked.connect(self.export_dialog)
        self.intro = QLabel("")
        self.intro.setWordWrap(True)
        self.readout = QLabel("")
        self.readout.setObjectName("sweep_readout")
        self.readout.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.cancel_button, self.export_button):
            buttons.addWidget(button)
        left = QVBoxLayout()
        left.addWidget(self.intro)
        left.addWidget(self.form)
        left.addLayout(buttons)
        hint = QLabel("<i>Hover a cell for its numbers; click it to add that run to the comparison.</i>")
        hint.setWordWrap(True)
        left.addWidget(hint)
        left.addWidget(self.readout)
        left.addStretch(1)
        panel = QWidget()
        panel.setLayout(left)
        panel.setFixedWidth(430)
        self.view = SweepView()
        self.view.hovered.connect(self.readout.setText)
        self.view.cell_clicked.connect(self.add_cell_run)
        # Before the first sweep: a word on what to do instead of empty axes.
        self.placeholder = QLabel("No sweep yet: choose one or two settings on the left and press Run "
                                  "(Ctrl+Enter).")
        self.placeholder.setObjectName("sweep_placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(self.view)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(panel)
        layout.addWidget(self.pages, 1)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.run)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self.run)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.cancel)
        self.setCentralWidget(central)
        self.status = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setVisible(False)
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self._update_buttons()

    # ---- what is swept -------------------------------------------------------------------------------------

    def set_base(self, base: TrainConfig, run_name: str) -> None:
        """Sweep from this run's settings (the form keeps its axes)."""
        self.form.set_base(base, run_name)
        self.setWindowTitle(f"Sweep — run “{shorten(run_name, 40)}”")
        self.intro.setText(f"Every cell trains run “{shorten(run_name, 40)}” ({base.optimizer}, batch "
                           f"{base.batch_size}, {base.epochs} epochs) with the swept settings, from the "
                           "comparison's data and initial weights.")

    def follow_selected_run(self, *_) -> None:
        """While no sweep runs, the next one trains the selected run as its settings are now."""
        if self.running:
            return
        model = self.controller.model
        run = model.runs.get(self.controller.selected_run_id)
        if run is not None:
            self.set_base(run.spec.config(model.shown_shared), run.spec.name)  # the runs' start (seed shown)

    @property
    def running(self) -> bool:
        return self._state != "idle"

    def run(self) -> bool:
        """Start the sweep the form says; False (the field marked and named) when the form is wrong."""
        if self.running:
            return False
        self.follow_selected_run()
        definition = self.form.definition()
        if definition is None:
            return False
        self._previous, self.study = self.study, SweepStudy(definition)
        self.view.show_study(self.study, definition.metric)
        self.update_marks()
        self._state = "running"
        self._started = time.perf_counter()
        self.progress.setRange(0, definition.total)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setText(f"0 of {definition.total:,} cells…")
        self._update_buttons()
        self.runner.start(definition, self.workers, self.form.scheduler_address() or "")
        return True

    def cancel(self) -> None:
        """Stop the sweep within 100 ms; the cells that finished stay on the map."""
        if self._state == "running":
            self._state = "cancelling"
            self.runner.cancel()
            self.status.setText("cancelling…")
            self._update_buttons()

    def stop(self) -> None:
        """Stop and wait for the sweep's thread (closing, or a session's sweep restored); the cells that
        finished stay."""
        if not self.running:
            return
        finished = self.runner.stop()
        if self.study is not None:  # the last cells, whose batch had not reached the window yet
            shown = {r.index for r in self.study.results()}
            late = [r for r in finished if r.index not in shown]
            if late:
                self.study.add(late)
                self.view.show_study(self.study)
        self._state = "idle"
        self.progress.setVisible(False)
        if self.study is not None:
            self.status.setText(f"stopped: {self.study.done:,} of {self.study.definition.total:,} cells kept")
        self._update_buttons()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.stop()
        super().closeEvent(event)

    def _update_buttons(self) -> None:
        self.pages.setCurrentWidget(self.view if self.study is not None else self.placeholder)
        self.run_button.setEnabled(not self.running)
        self.cancel_button.setEnabled(self._state == "running")
        self.export_button.setEnabled(self.study is not None)

    # ---- news from the sweep -------------------------------------------------------------------------------

    def _on_results(self, batch: list) -> None:
        if self.study is None:
            return
        self.study.add(batch)
        self.view.show_study(self.study)
        self._draw_marks()
        done, total = self.study.done, self.study.definition.total
        self.progress.setValue(done)
        if self._state == "running":
            elapsed = time.perf_counter() - self._started
            left = elapsed / done * (total - done) if done else 0.0
            self.status.setText(f"{done:,} of {total:,} cells · {left:.0f} s left")
        self.cells_arrived.emit(done)

    def _on_finished(self, returned) -> None:
        state, self._state = self._state, "idle"
        self.progress.setVisible(False)
        self._update_buttons()
        if returned is None:
            if self.study is not None and self.study.done == 0 and self._previous is not None:
                self.study = self._previous  # nothing trained: the map shown before stays
                self.view.show_study(self.study)
                self._draw_marks()
                self._update_buttons()
            self.sweep_finished.emit("failed")
            return
        done, total = self.study.done, self.study.definition.total
        seconds = time.perf_counter() - self._started
        if state == "cancelling" and done < total:
            self.status.setText(f"cancelled: {done:,} of {total:,} cells kept ({seconds:.1f} s)")
            self.sweep_finished.emit("cancelled")
        else:
            self.status.setText(f"done: {total:,} cells in {seconds:.1f} s")
            self.sweep_finished.emit("finished")

    def _on_error(self, message: str) -> None:
        self.status.setText(f"the sweep failed: {message}")
        if "scheduler" in message:
            self.form.refuse(self.form.scheduler, message)

    def _metric_changed(self, metric: str) -> None:
        if self.study is not None:
            self.view.show_study(self.study, metric)
            self._draw_marks()

    # ---- the comparison ------------------------------------------------------------------------------------

    def marks(self) -> list[tuple[int, int, str, str]]:
        """(i, j, colour, name) of each of the comparison's runs that sits on the sweep's grid."""
        if self.study is None:
            return []
        model = self.controller.model
        marks = []
        for run_id in model.ids():
            spec = model[run_id].spec
            cell = self.study.nearest_cell(spec.config(model.shown_shared))
            if cell is not None:
                marks.append((*cell, spec.colour, spec.name))
        return marks

    def update_marks(self) -> None:
        self._draw_marks()

    def _draw_marks(self) -> None:
        self.view.set_marks(self.marks())

    def add_cell_run(self, i: int, j: int = 0) -> int | None:
        """Add the run of grid point (i, j) (the base with those settings, named e.g. “α=0.03 β=0.9”) to the
        comparison; None (said in the status bar) when the comparison's data or network changed meanwhile."""
        if self.study is None:
            return None
        d = self.study.definition
        config = d.cell_config(i, j)
        if SharedSettings.from_config(config) != self.controller.shared:
            self.status.setText("the comparison's data or network changed since this sweep: run it again to add "
                                "its cells")
            return None
        run_id = self.controller.add_run(RunSpec.from_config(config, cell_name(d.cell_values(i, j))), select=False)
        self.status.setText(f"“{self.controller.model[run_id].spec.name}” added to the comparison at epoch 0")
        self.run_added.emit(run_id)
        return run_id

    # ---- export and sessions -------------------------------------------------------------------------------

    def export_png_to(self, path, width: int | None = None, height: int | None = None) -> bool:
        """Write the view as a PNG (default: at its size on screen); False (said) when it cannot be written."""
        if self.study is None:
            return False
        width, height = width or max(self.view.width(), 300), height or max(self.view.height(), 200)
        try:
            save_image_png(render_study(self.study, self.view.metric, width, height, self.marks()), path,
                           "the sweep view")
        except ExportError as exc:
            self.status.setText(str(exc))
            return False
        self.status.setText(f"saved {path}")
        return True

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the sweep view", "sweep.png", "PNG pictures (*.png)")
        if path:
            self.export_png_to(path)

    def to_doc(self) -> dict | None:
        """The sweep for a session (its definition, the metric shown, the finished cells), or None."""
        if self.study is None:
            return None
        doc = self.study.to_doc()
        doc["metric"] = self.view.metric
        return doc

    def clear(self) -> None:
        """No sweep (another comparison was opened without one): the sweep under way stops, the map goes."""
        self.stop()
        self._previous = self.study = None
        self.status.setText("")
        self.readout.setText("")
        self._update_buttons()

    def restore(self, doc, points=None) -> None:
        """Show a session's sweep (ValueError, one line naming the field, for a malformed one); ``points``: the
        session's own points, which a sweep over them was saved without."""
        study = SweepStudy.from_doc(doc, points)
        self.stop()
        self._state = "idle"
        self.study = study
        self.form.fill(study.definition)
        self.set_base(study.definition.base, study.definition.run)
        self.view.show_study(study, study.definition.metric)
        self._draw_marks()
        d = study.definition
        self.status.setText(f"{study.done:,} of {d.total:,} cells from the session")
        self._update_buttons()


class SweepTools:
    """The main window's sweep: opens (or raises) the sweep window for the selected run, one at a time."""

    def __init__(self, window, workers: int | None = None):
        self.w = window
        self.c = window.controller
        self.workers = workers

    def sweep_window(self) -> SweepWindow | None:
        return next(iter(self.w.findChildren(SweepWindow)), None)

    def open_sweep(self) -> SweepWindow | None:
        """The sweep window for the selected run: raised when open (its base follows the selected run unless
        a sweep is under way), else made."""
        model = self.c.model
        run = model.runs.get(self.c.selected_run_id)
        if run is None or self.c.busy:
            self.w.statusline.set_message("Sweep: wait until the data and network are ready" if run is not None
                                          else "Sweep: select a run first", "error")
            return None
        config = run.spec.config(model.shown_shared)
        window = self.sweep_window()
        if window is None:
            window = SweepWindow(self.c, config, run.spec.name, self.w, self.workers)
        elif not window.running:
            window.set_base(config, run.spec.name)
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def close_sweep(self) -> None:
        """Close the sweep window (its sweep stops): the main window's closeEvent."""
        window = self.sweep_window()
        if window is not None:
            window.close()

    def to_doc(self) -> dict | None:
        """The sweep for the session file's optional "sweep" key, or None."""
        window = self.sweep_window()
        return None if window is None else window.to_doc()

    def clear(self) -> None:
        """Another comparison without a sweep: the sweep window, if open, shows none (nor saves one)."""
        window = self.sweep_window()
        if window is not None:
            window.clear()

    def restore(self, doc, points=None) -> SweepWindow:
        """Open the sweep window on a session's sweep (ValueError naming the field when malformed); ``points``: the
        session's own points (the comparison may still be being replaced by the session's)."""
        study = SweepStudy.from_doc(doc, points)  # checked before any window changes
        window = self.sweep_window()
        if window is None:
            window = SweepWindow(self.c, study.definition.base, study.definition.run, self.w, self.workers)
        window.restore(doc, points)
        window.show()
        return window
