"""How the window follows the runs' seeds: the panel's Seeds control, the bands on the curves, the progress and
Cancel in the status bar, and the summary dock. Everything is read from the controller's SeedRunner and the
model; nothing here keeps a copy."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from nnviz.gui.seed_summary import SeedSummaryDock


class SeedViews:
    """Wires a MainWindow's seed views to ``window.controller.seeds``."""

    def __init__(self, window):
        self.w = window
        self.runner = runner = window.controller.seeds
        self.label = QLabel("")
        self.label.setObjectName("seeds_progress")
        self.label.setToolTip("Seeds of the runs trained so far, in the background (the runs go on meanwhile)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("seeds_cancel")
        self.cancel_button.setToolTip("Stop training the seeds; runs whose seeds finished keep their band")
        self.cancel_button.clicked.connect(runner.cancel)
        bar = window.statusline.bar
        bar.addPermanentWidget(self.label)
        bar.addPermanentWidget(self.cancel_button)
        self.label.setVisible(False)
        self.cancel_button.setVisible(False)
        self.summary = SeedSummaryDock(window.controller, window)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.summary)  # a short table under all
        self.summary.setVisible(False)
        window.panel.seeds.changed.connect(self._on_control)
        runner.changed.connect(self.refresh)
        runner.progress.connect(self._on_progress)
        window.controller.runs_changed.connect(self.refresh)
        self.refresh()

    def show_summary(self, on: bool = True) -> None:
        """Show (or hide) the seeds summary."""
        self.summary.setVisible(on)
        if on:
            self.summary.raise_()
            # As tall as its table, no taller: the curves and maps keep the rest.
            table = self.summary.table
            count = max(len(self.w.controller.model), table.rowCount(), 4)
            rows = table.horizontalHeader().sizeHint().height() + count * table.verticalHeader().defaultSectionSize()
            self.w.resizeDocks([self.summary], [rows + 50], Qt.Orientation.Vertical)  # + the note, the margins

    def refresh(self) -> None:
        """The control shows the model's settings; each run's band is its current seeds' (none: no band)."""
        controller = self.w.controller
        self.w.panel.seeds.show_settings(controller.seed_settings, controller.shared)
        self.w.maps.set_seed(controller.model.seeds.settings.shown)
        bands = self.w.curves.bands
        runs = list(self.w.controller.model)
        keys = {str(run.id) for run in runs}
        for key in [k for k in bands.keys() if k not in keys]:
            bands.remove(key)
        for run in runs:
            bands.set_run(str(run.id), self.runner.curves(run.id), run.spec.colour, run.spec.visible)
        self.w.curves.refresh()  # the ranges take the bands in, also while nothing trains

    def _on_control(self, count: int, kind: str, shown: int) -> None:
        self.runner.set_settings(self.w.controller.seed_settings.replace(count=count, kind=kind, shown=shown))

    def _on_progress(self, done: int, total: int) -> None:
        busy = total > 0
        self.label.setText(f"seeds trained: {done:,} of {total:,} (runs × seeds)" if busy else "")
        self.label.setVisible(busy)
        self.cancel_button.setVisible(busy)
