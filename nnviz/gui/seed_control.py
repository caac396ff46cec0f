"""The "Seeds" control of the parameter panel: how many seeds every run is repeated over, which seeds vary, and
which seed the runs themselves train from (the maps show it)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QSpinBox, QWidget

from nnviz.core.comparison import SharedSettings
from nnviz.core.seeds import SeedSettings, shown_note
from nnviz.core.sweep import MAX_SEEDS, SEED_KINDS

COUNT_TIP = (f"Repeat every run over K seeds (1 to {MAX_SEEDS}), trained in the background: the curves then show "
             "each run's median and its 10–90 % band over the seeds, and View ▸ Seeds summary the final cost, "
             "accuracy and the share of seeds that diverged. Seed 1 is the run itself (the maps show it, unless "
             "Maps show seed says another); seed i adds i − 1 to the seeds, the same for every run, so the runs "
             "stay paired. 1: the runs alone.")
KIND_TIP = ("Which seeds vary from one seed to the next: init (the initial weights), data (the points drawn), "
            "or both. Changing it trains the seeds again; the runs themselves go on.")
SHOWN_TIP = ("Which seed the runs themselves train from: the maps, the runs' own curves, the timeline, the "
             "network view and the landscape show it. Seed i adds i − 1 to the seeds that vary; the panel keeps "
             "your own seeds (seed 1's). Changing it restarts the runs from that seed's start (Ctrl+Z: undo); the "
             "seeds' band and summary stay as they are.")
KIND_LABELS = {"init": "initial weights", "data": "data", "both": "weights and data"}


class SeedControl(QWidget):
    """A spin box for the count, a choice of the seeds that vary and a spin box for the seed the maps show
    (1 to the count); ``changed(count, kind, shown)`` on a user edit (a count below the shown seed shows the
    last seed)."""

    changed = Signal(int, str, int)

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
        self.shown = QSpinBox()
        self.shown.setObjectName("seed_shown")
        self.shown.setRange(1, 1)
        self.shown.setKeyboardTracking(False)
        self.shown.setToolTip(SHOWN_TIP)
        self.note = QLabel("")  # the seeds the maps' seed has, when it is not seed 1
        self.note.setObjectName("seed_shown_note")
        self.note.setToolTip(SHOWN_TIP)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel("vary")
        label.setToolTip(KIND_TIP)
        shown_label = QLabel("maps show seed")
        shown_label.setToolTip(SHOWN_TIP)
        layout.addWidget(self.count, 0, 0)
        layout.addWidget(label, 0, 1)
        layout.addWidget(self.kind, 0, 2)
        layout.addWidget(shown_label, 1, 0, 1, 2)
        layout.addWidget(self.shown, 1, 2)
        layout.addWidget(self.note, 2, 0, 1, 3)
        layout.setColumnStretch(2, 1)
        self._showing = False
        self.count.valueChanged.connect(self._emit)
        self.kind.currentIndexChanged.connect(self._emit)
        self.shown.valueChanged.connect(self._emit)

    def show_settings(self, settings: SeedSettings, shared: SharedSettings | None = None) -> None:
        """Show the comparison's settings (no ``changed``); ``shared``: the user's shared settings, for the note
        of the seeds the shown seed has."""
        self._showing = True
        try:
            self.count.setValue(settings.count)
            self.kind.setCurrentIndex(self.kind.findData(settings.kind))
            self.shown.setMaximum(settings.count)
            self.shown.setValue(settings.shown)
            self.shown.setEnabled(settings.count > 1)
        finally:
            self._showing = False
        note = "" if shared is None else shown_note(shared, settings)
        self.note.setText(note)
        self.note.setVisible(bool(note))

    def _emit(self, *_) -> None:
        if not self._showing:
            count = self.count.value()
            self.changed.emit(count, self.kind.currentData(), min(self.shown.value(), count))
