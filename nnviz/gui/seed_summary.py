"""The seeds summary: per run, the final cost median and its 10–90 % spread, the final accuracy and the shares of
seeds that diverged or did not reach a target cost (a dock, View ▸ Seeds summary)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.seeds import SUMMARY_HEADERS, shown_note, summary_row

TARGET_TIP = ("A cost to reach: the last column gives the share of each run's seeds whose cost never got to it "
              "(empty: no target). Changing it trains nothing again.")


MAX_TABLE_WIDTH = 760  # pixels: wider tables scroll


class SeedSummaryDock(QDockWidget):
    """A table of the runs' seed summaries, read from the controller's SeedRunner whenever it changes."""

    def __init__(self, controller, parent=None):
        super().__init__("Seeds summary", parent)
        self.setObjectName("seeds_summary")
        self.runner = controller.seeds
        self.model = lambda: controller.model
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.target = QLineEdit()
        self.target.setObjectName("seed_target")
        self.target.setPlaceholderText("none")
        self.target.setToolTip(TARGET_TIP)
        self.target.setMaximumWidth(90)
        self.target.editingFinished.connect(self._on_target)
        self.train = QPushButton("Train seeds")
        self.train.setToolTip("Train the seeds not trained yet (after a Cancel)")
        self.train.clicked.connect(self.runner.train)
        target_label = QLabel("target cost")
        target_label.setToolTip(TARGET_TIP)
        for widget, stretch in ((self.note, 1), (target_label, 0), (self.target, 0), (self.train, 0)):
            row.addWidget(widget, stretch)
        layout.addLayout(row)
        self.table = QTableWidget(0, len(SUMMARY_HEADERS))
        self.table.setHorizontalHeaderLabels(list(SUMMARY_HEADERS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Over each run's seeds: a seed that diverged counts as cost inf and accuracy 0")
        layout.addWidget(self.table, 1)
        self.setWidget(body)
        self.runner.changed.connect(self.refresh)
        controller.runs_changed.connect(self.refresh)
        self.refresh()

    def rows(self) -> list[list[str]]:
        """The table's cells, row by row, as shown."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    def refresh(self) -> None:
        settings = self.runner.settings
        if not self.target.hasFocus():
            self.target.setText("" if settings.target is None else f"{settings.target:g}")
        summaries = self.runner.summaries()
        runs = {run.id: run.spec for run in self.model()}
        self.table.setRowCount(len(summaries))
        for r, (run_id, summary) in enumerate(summaries.items()):
            spec = runs[run_id]
            cells = summary_row(spec.name, summary, 4) if summary is not None else \
                (spec.name, "training…" if self.runner.busy else "—", *[""] * (len(SUMMARY_HEADERS) - 2))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setForeground(QColor(spec.colour))
                else:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        # Wide enough for every column (a narrow dock hid the spread, accuracy and shares behind a scroll bar).
        self.table.resizeColumnsToContents()
        self.table.setMinimumWidth(min(self.table.horizontalHeader().length() + 2 * self.table.frameWidth() + 4,
                                       MAX_TABLE_WIDTH))
        shown = shown_note(self.model().shared, settings)
        self.note.setText("one seed per run: set Seeds above 1 in the panel" if settings.count == 1
                          else f"{settings.count} seeds per run" + (f"; {shown}" if shown else ""))

    def _on_target(self) -> None:
        text = self.target.text().strip()
        settings = self.runner.settings
        try:
            target = None if not text else float(text)
            new = settings.replace(target=target)
        except ValueError:
            self.runner.controller.message.emit(f"target cost: must be a finite cost > 0, or empty, not {text!r}",
                                                "error")
            self.target.setText("" if settings.target is None else f"{settings.target:g}")
            return
        self.runner.set_settings(new)
