"""File ▸ Open data… and File ▸ Export data as CSV…: a user's own points read from and written to CSV, off the GUI
thread with progress and Cancel (documents.run_in_background).

Opening asks for the file and two choices: rescale the points as the notebook rescales its data (off by default),
and keep the file's order (off: shuffled once with the data seed). A file that cannot be read changes nothing; its
one-line message names the line and the column. Once read, the data set becomes "custom" and every run restarts
from the same start (controller.set_shared). Exporting writes the training and test points with their labels
(a ``set`` column tells them apart), atomically; a file opened again gives the same points.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.comparison import RESTART_ALL
from nnviz.core.datasets import CUSTOM, MAX_POINTS
from nnviz.core.files import write_atomic
from nnviz.core.points_csv import Points, points_text, read_points, rescaled
from nnviz.core.points_process import read_points_apart
from nnviz.core.text import shorten
from nnviz.core.training import Stopped
from nnviz.gui.documents import Cancelled, Documents

APART_BYTES = 2 * 2**20  # files larger than this are read in a process of their own (core/points_process.py)
CSV_FILTER = "CSV files (*.csv *.tsv *.txt);;All files (*)"
RESCALE_TIP = ("Centre each feature on its mean, then divide it by its variance, as the notebook rescales its\n"
               "generated data (the variance, not the standard deviation). Off: the points are used as they are.")
FORMAT_NOTE = (f"Two feature columns and a label column (the last, or one named label, class, target or y), with\n"
               f"or without a header; comma, semicolon or tab separated. Labels 0/1, or any two values (mapped\n"
               f"to 0 and 1 in sorted order). Up to {MAX_POINTS:,} points.")


class OpenDataDialog(QDialog):
    """The file to open and how to take its points: rescaled or not, in the file's order or shuffled."""

    def __init__(self, parent: QWidget | None = None, path: str = "", rescale: bool = False, keep_order: bool = False):
        super().__init__(parent)
        self.setWindowTitle("Open data")
        self.path = QLineEdit(path)
        self.path.setObjectName("data_path")
        self.path.setPlaceholderText("points.csv")
        self.path.setToolTip(FORMAT_NOTE)
        browse = QPushButton("Browse…")
        browse.setToolTip("Choose a CSV file")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.rescale = QCheckBox("Rescale as the notebook does (centre, divide by the variance)")
        self.rescale.setObjectName("rescale")
        self.rescale.setChecked(rescale)
        self.rescale.setToolTip(RESCALE_TIP)
        self.keep_order = QCheckBox("Keep the file's order (else shuffled once with the data seed)")
        self.keep_order.setObjectName("keep_order")
        self.keep_order.setChecked(keep_order)
        self.keep_order.setToolTip("Off: the points are shuffled once with the data seed, as the notebook shuffles "
                                   "its data,\nso that mini-batches mix the classes. On: the runs see them in the "
                                   "file's order.")
        note = QLabel(FORMAT_NOTE + "\nEvery run restarts from the same initial weights on the new points.")
        note.setStyleSheet("color: #6b6b6b;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.message = QLabel("")
        self.message.setStyleSheet("color: #d0342c;")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("CSV file of points:"))
        layout.addLayout(row)
        layout.addWidget(self.rescale)
        layout.addWidget(self.keep_order)
        layout.addWidget(note)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.path.textChanged.connect(lambda _text: self.message.setText(""))

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open data", self.path.text(), CSV_FILTER)
        if path:
            self.path.setText(path)

    def _accept(self) -> None:
        text = self.path.text().strip()
        if not text:
            self.message.setText("file: choose a CSV file of points")
            return
        if not Path(text).is_file():
            self.message.setText(f"{shorten(text, 120)}: no such file")
            return
        self.accept()


class DataFiles:
    """Open data / Export data as CSV for a window's Documents (its controller, alerts and background work)."""

    def __init__(self, documents: Documents):
        self.documents = documents
        self.controller = documents.controller
        self.dialog: OpenDataDialog | None = None  # the Open data dialog while it is open

    # ---- open ------------------------------------------------------------------------------

    def open_dialog(self) -> None:
        settings = self.documents.settings
        shared = self.controller.shared
        dialog = self.dialog = OpenDataDialog(self.documents.window, str(settings.value("last_data", "")),
                                              settings.value("rescale_data", False, type=bool),
                                              shared.keep_order if shared.dataset == CUSTOM else False)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

        def accepted():
            settings.setValue("last_data", dialog.path.text().strip())
            settings.setValue("rescale_data", dialog.rescale.isChecked())
            self.open_from(dialog.path.text().strip(), dialog.rescale.isChecked(), dialog.keep_order.isChecked())

        dialog.accepted.connect(accepted)
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        dialog.open()

    def open_from(self, path: str | Path, rescale: bool = False, keep_order: bool = False) -> None:
        """Read the points of ``path`` in the background (progress, Cancel); then every run trains on them."""
        name = Path(path).name

        def work(progress, cancelled):
            try:
                big = Path(path).stat().st_size > APART_BYTES
            except OSError:
                big = False  # read_points says what is wrong with the path
            try:
                # a big file in a process of its own: parsing in a thread would hold the GIL the window needs
                points = (read_points_apart if big else read_points)(path, cancelled, progress)
            except Stopped:
                raise Cancelled from None
            return rescaled(points) if rescale else points

        def done(points: Points):
            shared = self.controller.shared.replace(dataset=CUSTOM, points=points, keep_order=keep_order)
            classes = points.classes
            said = (f"{name}: {len(points):,} points ({classes[0]} → class 0, {classes[1]} → class 1"
                    f"{', rescaled' if rescale else ''}); every run restarts on them")
            if self.controller.set_shared(shared, done_message=said) != RESTART_ALL:
                self.controller.message.emit(said, "done")  # nothing to prepare: the same points again

        self.documents.run_in_background(f"Reading {shorten(name, 60)}", work, done, "nothing changed")

    # ---- export ----------------------------------------------------------------------------

    def export_dialog(self) -> None:
        path = self.documents.ask_file("Export data as CSV", "points.csv", CSV_FILTER)
        if path:
            self.export_to(path)

    def export_to(self, path: str | Path) -> None:
        """Write the training and test points with their labels (and a set column when there are test points)."""
        data = self.controller.model.data
        shared = self.controller.model.shared
        classes = shared.points.classes if shared.dataset == CUSTOM else ("0", "1")

        def work(progress, cancelled):
            text = points_text(data.X, data.y, classes, data.X_test, data.y_test)
            if cancelled():
                raise Cancelled
            write_atomic(path, text)
            return len(data)

        self.documents.run_in_background(f"Writing {shorten(Path(path).name, 60)}", work,
                                         lambda n: self.controller.message.emit(f"saved {n:,} points to {path}",
                                                                                "done"))
