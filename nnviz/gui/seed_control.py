"""The "Seeds" control of the parameter panel: how many seeds every run is repeated over, and which seeds vary."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from nnviz.core.seeds import SeedSettings
from nnviz.core.sweep import MAX_SEEDS, SEED_KINDS

COUNT_TIP = (f"Repeat every run over K seeds (1 to {MAX_SEEDS}), trained in the background: the curves then show "
             "each run's median and its 10–90 % band over the seeds, and View ▸ Seeds summary the final cost, "
             "accuracy and the share of seeds that diverged. Seed 1 is the run itself (the maps show it); seed i "
             "adds i − 1 to the seeds, the same for every run, so the runs stay paired. 1: the runs alone.")
KIND_TIP = ("Which seeds vary from one seed to the next: init (the initial weights), data (the points drawn), "
            "or both. Changing it trains the seeds again; the runs themselves go on.")
KIND_LABELS = {"init": "initial weights", "data": "data", "both": "weights and data"}


class SeedControl(QWidget):
    """A spin box for the count and a choice of the seeds that vary; ``changed(count, kind)`` on a user edit."""

    changed = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.count = QSpinBox()
        self.count.setObjectName("seed_count")
        self.count.setRange(1, MAX_SEEDS)
        self.count.setKeyboardTracking(False)  # typing "10" trains 10 seeds, not 1 and then 10
        self.count.setToolTip(COUNT_TIP)
        self.kind = QComboBox()
        self.kind.setObjectName("seed_kind")
        for kind in SEED_KINDS:
            self.kind.addItem(KIND_LABELS[kind], kind)
        self.kind.setToolTip(KIND_TIP)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel("vary")
        label.setToolTip(KIND_TIP)
        for widget, stretch in ((self.count, 0), (label, 0), (self.kind, 1)):
            layout.addWidget(widget, stretch)
        self._showing = False
        self.count.valueChanged.connect(self._emit)
        self.kind.currentIndexChanged.connect(self._emit)

    def show_settings(self, settings: SeedSettings) -> None:
        """Show the model's settings (no ``changed``)."""
        self._showing = True
        try:
            self.count.setValue(settings.count)
            self.kind.setCurrentIndex(self.kind.findData(settings.kind))
        finally:
            self._showing = False

    def _emit(self, *_) -> None:
        if not self._showing:
            self.changed.emit(self.count.value(), self.kind.currentData())
