"""The status bar: a message, and the selected run at the epoch shown (epoch, progress, cost, accuracy, α, rate)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from nnviz.core.comparison import Comparison

MESSAGE_STYLES = {"error": "color: #c0281e; font-weight: bold;", "done": "color: #1b7a36; font-weight: bold;"}
READY = "ready: press Start (Space) or Step (S)"


class StatusBar:
    """Fills a QStatusBar; ``show_run`` reads the model for the run and epoch it is given (no copy kept)."""

    def __init__(self, bar: QStatusBar):
        self.bar = bar
        self.message = QLabel("")
        self.message.setObjectName("message")
        self.message.setMinimumWidth(80)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.epoch_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(90)
        self.cost_label = QLabel()
        self.accuracy_label = QLabel()
        self.lr_label = QLabel()
        self.rate_label = QLabel()
        self.kind = ""  # the kind of the message shown: "", "error" or "done"
        self._fitted_test: bool | None = None  # whether the accuracy label is sized for a test accuracy
        bar.addWidget(self.message, 1)
        # Fixed widths: new digits on every frame must not relayout (and repaint) the whole bar.
        for label, widest in ((self.epoch_label, "epoch 1,000,000 +99 % / 1,000,000"),
                              (self.cost_label, "cost 0.000000"), (self.accuracy_label, "accuracy 100.0 %"),
                              (self.lr_label, "α 0.000123"),
                              (self.rate_label, "100,000 epochs/s")):
            self.fit(label, widest)
        for widget in (self.epoch_label, self.progress, self.cost_label, self.accuracy_label, self.lr_label,
                       self.rate_label):
            bar.addPermanentWidget(widget)

    def fit(self, label: QLabel, widest: str) -> None:
        # Fixed both ways: Qt relayouts the window for a new text unless a label's size is fixed in width and height.
        label.setFixedSize(label.fontMetrics().horizontalAdvance(widest) + 14, label.sizeHint().height())
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def set_message(self, text: str, kind: str = "") -> None:
        """The message; kind 'error' (red) or 'done' (green) makes it stand out. The whole text is in the
        tooltip, so a long one cut at the bar's edge can still be read."""
        self.message.setText(text)
        self.message.setToolTip(text)
        self.message.setStyleSheet(MESSAGE_STYLES.get(kind, ""))
        self.kind = kind

    def show_run(self, model: Comparison, run_id: int, epoch: int | None, rate: float) -> None:
        """The run ``run_id`` at ``epoch`` (None: its newest); ``rate`` epochs/s (0: not shown)."""
        run = model.runs.get(run_id)
        if run is None:
            self._set_texts(("epoch —", "", "", "", ""))
            self._set_progress(0, 1)
            return
        history = run.history
        # O(log n) look-ups: a column of a long history is not copied on every frame.
        i = len(history) - 1 if epoch is None else max(history.searchsorted("epoch", epoch, "right") - 1, 0)
        shown = int(history.value("epoch", i))
        target = run.trainer.config.epochs
        # A slow epoch (a big network or data set) shows how far it has got; fast ones change too quickly to read.
        slow = rate < 2 and run.trainer.in_epoch and run.trainer.progress > 0
        done = f" +{100 * run.trainer.progress:.0f} %" if epoch is None and slow else ""
        self._set_progress(min(shown, target) if target else 1, max(target, 1))
        cost = f"cost {history.value('cost', i):.6f}"
        accuracy = f"accuracy {100 * history.value('accuracy', i):.1f} %"
        if history.has_test:
            accuracy += f" (test {100 * history.value('test_accuracy', i):.1f} %)"
        learning_rate = run.trainer.learning_rate_for(run.epoch + 1) if epoch is None \
            else history.value("learning_rate", i)
        if history.has_test != self._fitted_test:
            self._fitted_test = history.has_test
            self.fit(self.accuracy_label, "accuracy 100.0 % (test 100.0 %)" if history.has_test else "accuracy 100.0 %")
        self._set_texts((f"epoch {shown:,}{done} / {target:,}", cost, accuracy, f"α {learning_rate:.4g}",
                         f"{rate:,.0f} epochs/s" if rate else ""))

    def _set_texts(self, texts) -> None:
        labels = (self.epoch_label, self.cost_label, self.accuracy_label, self.lr_label, self.rate_label)
        for label, text in zip(labels, texts, strict=True):
            if label.text() != text:
                label.setText(text)

    def _set_progress(self, value: int, maximum: int) -> None:
        if self.progress.maximum() != maximum:
            self.progress.setMaximum(maximum)
        if self.progress.value() != value:
            self.progress.setValue(value)
