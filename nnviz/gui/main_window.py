"""The main window: parameter panel, run bar, decision map, curves and status; owns the worker's life."""

from __future__ import annotations

import json
import time
from collections import deque
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.training import FIELDS, LIVE_FIELDS, TrainConfig
from nnviz.gui.boundary_view import BoundaryView
from nnviz.gui.controls import ParameterPanel
from nnviz.gui.curves import CurvesView
from nnviz.gui.worker import Frame, TrainingWorker, start_worker, stop_worker

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ORGANIZATION = "nnviz"
APPLICATION = "nnviz"
FRAME_PAINTED = QEvent.Type(QEvent.registerEventType())  # posted after a frame: acknowledges it once painted
RUN_ID = "main"  # the single run of this window (issue 5 adds more)
RUN_COLOR = "#1f5fa8"
READY = "ready: press Start (Space) or Step (S)"
MESSAGE_STYLES = {"error": "color: #c0281e; font-weight: bold;", "done": "color: #1b7a36; font-weight: bold;"}
MINIMUM_SIZE = (1060, 660)
DEFAULT_SIZE = (1480, 900)
# Speed choices: label -> epochs per second (None: as fast as possible)
SPEEDS = {"as fast as possible": None, "1000 epochs/s": 1000, "300 epochs/s": 300, "100 epochs/s": 100,
          "30 epochs/s": 30, "10 epochs/s": 10, "3 epochs/s": 3, "1 epoch/s": 1}


LONG_RUN_EPOCHS = 5000  # targets above this: the epoch axis grows in 1-2-5 steps instead of showing the target


def _one_two_five():
    """1, 2, 5, 10, 20, 50, ..."""
    scale = 1
    while True:
        for mantissa in (1, 2, 5):
            yield mantissa * scale
        scale *= 10


def app_icon() -> QIcon:
    """The application icon from resources/ (SVG, with the PNG rendering as a fallback)."""
    icon = QIcon()
    for name in ("icon.svg", "icon.png"):
        path = RESOURCES / name
        if path.exists():
            icon.addFile(str(path))
    return icon


class MainWindow(QMainWindow):
    """One run, trained live: set the parameters, press Start, watch the map and the curves."""

    frame_drawn = Signal()  # a worker frame has been shown
    run_ended = Signal(str)  # "finished" or "diverged"
    errored = Signal(str)

    def __init__(self, config: TrainConfig | None = None, settings: QSettings | None = None,
                 restore_parameters: bool = True):
        super().__init__()
        self.settings = settings if settings is not None else QSettings(ORGANIZATION, APPLICATION)
        self.worker: TrainingWorker | None = None
        self.worker_thread = None
        self._session = 0  # id of the current worker: frames of a stopped one are dropped
        self._config: TrainConfig | None = None  # the config the current worker trains
        self._setup = None  # RunSetup of the current run (data, layout, activation)
        self._last = None  # last RunFrame shown
        self._playing = False
        self._rate = 0.0  # smoothed epochs per second
        self._save_settings = True
        self._invalid_shown = False  # the message shows a field's error
        self._action_state = None  # (playing, valid, ended) the run bar was last set for
        self._frame_started = 0.0  # perf_counter when the last frame arrived
        self._epoch_axis: int | None = None  # upper end of the curves' epoch axis, once set
        self.frame_costs: deque[float] = deque(maxlen=1000)  # seconds each recent frame kept the GUI busy

        self.setWindowTitle("nnviz — watch a neural network learn")
        self.setWindowIcon(app_icon())
        self.setMinimumSize(*MINIMUM_SIZE)
        self._build_actions()
        self._build_menus()
        self._build_run_bar()
        self._build_central()
        self._build_status_bar()

        self.panel.changed.connect(self._on_parameters_changed)
        self._restore(config, restore_parameters)
        # Start with the focus on the map, not in a field: Space, S, → and R then drive the run.
        self.boundary.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.curves.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.boundary.setFocus()

    # ---- construction ---------------------------------------------------------------------

    def _build_actions(self) -> None:
        style = self.style()
        self.start_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Start", self)
        self.start_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.start_action.setToolTip("Start or pause training (Space)")
        self.start_action.triggered.connect(self.toggle_play)
        self.step_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Step", self)
        self.step_action.setShortcuts([QKeySequence(Qt.Key.Key_S), QKeySequence(Qt.Key.Key_Right)])
        self.step_action.setToolTip("Train exactly one epoch (S or →)")
        self.step_action.triggered.connect(self.step)
        self.reset_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload), "Reset", self)
        self.reset_action.setShortcut(QKeySequence(Qt.Key.Key_R))
        self.reset_action.setToolTip("Back to epoch 0: the same data and initial weights (R)")
        self.reset_action.triggered.connect(self.reset)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.close)
        self.about_action = QAction("&About nnviz", self)
        self.about_action.triggered.connect(self._about)
        for action in (self.start_action, self.step_action, self.reset_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.quit_action)
        run_menu = self.menuBar().addMenu("&Run")
        for action in (self.start_action, self.step_action, self.reset_action):
            run_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_run_bar(self) -> None:
        bar = QToolBar("Run")
        bar.setObjectName("run_bar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.start_action, self.step_action, self.reset_action):
            bar.addAction(action)
        bar.addSeparator()
        bar.addWidget(QLabel(" speed "))
        self.speed = QComboBox()
        self.speed.setObjectName("speed")
        for label, value in SPEEDS.items():
            self.speed.addItem(label, value)
        self.speed.setToolTip("Epochs trained per second; 'as fast as possible' still redraws ~60 times a second")
        self.speed.currentIndexChanged.connect(self._on_speed)
        bar.addWidget(self.speed)
        bar.addSeparator()
        self.discretize = QCheckBox("discretize map")
        self.discretize.setToolTip("Show the hard decision (p > 0.5: class 1) instead of the probability")
        self.discretize.toggled.connect(lambda on: self.boundary.set_discretize(on))
        bar.addWidget(self.discretize)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.run_bar = bar

    def _build_central(self) -> None:
        self.panel = ParameterPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.panel.sizeHint().width() + 18)
        scroll.setMaximumWidth(self.panel.sizeHint().width() + 60)

        self.boundary = BoundaryView(resolution=200)
        self.boundary.setMinimumSize(300, 300)
        self.curves = CurvesView()
        self.curves.add_run(RUN_ID, "training", RUN_COLOR)
        self.curves.legend.setVisible(False)  # one run: nothing to tell apart
        self.curves.setMinimumWidth(300)

        map_box = QWidget()
        map_layout = QVBoxLayout(map_box)
        map_layout.setContentsMargins(0, 0, 0, 0)
        map_layout.addWidget(self.boundary)

        # The map above the curves: the notebook's data is about four times wider than high.
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("views")
        splitter.addWidget(map_box)
        splitter.addWidget(self.curves)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(scroll)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

    def _fit_label(self, label: QLabel, widest: str) -> None:
        label.setFixedWidth(self.fontMetrics().horizontalAdvance(widest) + 14)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.message = QLabel("")
        self.message.setObjectName("message")
        self.epoch_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.cost_label = QLabel()
        self.accuracy_label = QLabel()
        self.lr_label = QLabel()
        self.rate_label = QLabel()
        bar.addWidget(self.message, 1)
        # Fixed widths: new digits on every frame must not relayout (and repaint) the whole bar.
        for label, widest in ((self.epoch_label, "epoch 1,000,000 / 1,000,000"), (self.cost_label, "cost 0.000000"),
                              (self.accuracy_label, "accuracy 100.0 %"), (self.lr_label, "α 0.000123"),
                              (self.rate_label, "100,000 epochs/s")):
            self._fit_label(label, widest)
        self.progress.setFixedWidth(120)
        for widget in (self.epoch_label, self.progress, self.cost_label, self.accuracy_label, self.lr_label,
                       self.rate_label):
            bar.addPermanentWidget(widget)
        self.rate_timer = QTimer(self)  # the rate decays to 0 when frames stop coming
        self.rate_timer.setInterval(500)
        self.rate_timer.timeout.connect(self._decay_rate)
        self.rate_timer.start()

    # ---- settings -------------------------------------------------------------------------

    def _restore(self, config: TrainConfig | None, restore_parameters: bool) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        splitter = self.settings.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        speed = self.settings.value("run/speed")
        index = self.speed.findText(str(speed)) if speed is not None else -1
        self.speed.setCurrentIndex(max(index, 0))
        self.discretize.setChecked(self.settings.value("view/discretize", False, type=bool))
        self.curves.set_log_cost(self.settings.value("view/log_cost", False, type=bool))
        if config is None and restore_parameters:
            config = self._saved_config()
        if config is None:
            self.panel.load_preset("sgd")
        else:
            self.panel.set_config(config)

    def _saved_config(self) -> TrainConfig | None:
        text = self.settings.value("run/parameters")
        if not text:
            return None
        try:
            values = json.loads(text)
            return TrainConfig(**{k: v for k, v in values.items() if k in FIELDS})
        except (ValueError, TypeError):  # an old or damaged entry: fall back to the preset
            return None

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("run/speed", self.speed.currentText())
        self.settings.setValue("view/discretize", self.discretize.isChecked())
        self.settings.setValue("view/log_cost", self.curves.log_cost)
        config = self.panel.config()
        if config is not None:
            self.settings.setValue("run/parameters", json.dumps(config.to_dict()))
        self.settings.sync()

    def set_save_settings(self, on: bool) -> None:
        """Scripted runs (--screenshot) leave the user's settings alone."""
        self._save_settings = on

    # ---- the run --------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def epoch(self) -> int:
        """Epoch of the state on screen."""
        return self._last.epoch if self._last is not None else 0

    @property
    def status(self) -> str:
        """ready, running, finished or diverged (of the state on screen); 'invalid' without a valid config."""
        if self._config is None:
            return "invalid"
        return self._last.status if self._last is not None else "ready"

    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.start()

    def start(self) -> None:
        """Train continuously (from where the run is; a finished or diverged run starts again)."""
        if self.panel.config() is None:
            return
        if self.worker is None or self.status == "diverged" or (
                self.status == "finished" and self._last.epoch >= self.panel.config().epochs):
            self._launch()
        self._playing = True
        self.worker.play()
        self._set_message("training…")
        self._update_actions()

    def pause(self) -> None:
        if self.worker is not None:
            self.worker.pause()
        self._playing = False
        self._set_message(f"paused at epoch {self.epoch}")
        self._update_actions()

    def step(self) -> None:
        """Train exactly one more epoch, then stay paused."""
        if self.panel.config() is None or self.status in ("finished", "diverged"):
            return
        if self.worker is None:
            self._launch()
        self._playing = False
        self.worker.step(1)
        self._update_actions()

    def reset(self) -> None:
        """Back to epoch 0 with the current parameters: the same data and initial weights."""
        self._playing = False
        self._launch()
        self._update_actions()

    def _launch(self) -> None:
        """Stop any worker, then start one on the panel's config, paused at epoch 0."""
        self._stop_worker()
        self.curves.clear()
        self._epoch_axis = None
        self._last = None
        self._rate = 0.0
        config = self.panel.config()
        self._config = config
        if config is None:
            self._show_status()
            return
        self._session += 1
        self.worker = TrainingWorker([(RUN_ID, config)], playing=False,
                                     epochs_per_second=self.speed.currentData(), session=self._session)
        self.worker.frame.connect(self._on_frame)
        self.worker.errored.connect(self._on_error)
        self.worker_thread = start_worker(self.worker)
        self._set_message("preparing the training kernel…" if self._setup is None else READY)

    def _stop_worker(self) -> None:
        if self.worker is None and self.worker_thread is None:
            return
        stop_worker(self.worker, self.worker_thread)
        self.worker = None
        self.worker_thread = None

    # ---- parameters -----------------------------------------------------------------------

    def _on_parameters_changed(self) -> None:
        new = self.panel.config()
        old = self._config
        self._update_actions()
        if new is None:
            field, reason = next(iter(self.panel.errors().items()))
            self._set_message(f"{self.panel.label_of(field)}: {reason}", "error")
            self._invalid_shown = True
            return
        if self._invalid_shown:
            self._invalid_shown = False
            self._set_message("training…" if self._playing else READY)
        changes = {} if old is None else {n: getattr(new, n) for n in FIELDS if getattr(new, n) != getattr(old, n)}
        if old is not None and not changes:
            return
        if old is not None and self.worker is not None and set(changes) <= set(LIVE_FIELDS):
            self._config = new
            self.worker.update_config(RUN_ID, **changes)
            return
        self._playing = False
        self._launch()
        self._update_actions()

    def _on_speed(self, *_) -> None:
        if self.worker is not None:
            self.worker.set_speed(self.speed.currentData())

    # ---- frames from the worker -----------------------------------------------------------

    def _on_frame(self, frame: Frame) -> None:
        worker = self.worker
        if worker is None or frame.session != self._session:
            return  # a frame of a worker already replaced (still queued when it stopped)
        start = time.perf_counter()
        run = frame.runs[RUN_ID]
        if run.setup is not None:
            self._setup = run.setup
            self._fit_label(self.accuracy_label, "accuracy 100.0 % (test 100.0 %)" if len(run.setup.X_test)
                            else "accuracy 100.0 %")
            self.boundary.set_data(run.setup.X, run.setup.y, run.setup.X_test, run.setup.y_test)
        if run.records:
            self.curves.append(RUN_ID, run.records)
        self._fit_epoch_axis(run.epoch, run.epochs)
        if self._setup is not None and (run.records or run.setup is not None):
            self.boundary.set_model(run.params, self._setup.layout, self._setup.activation)
        self._last = run
        if frame.rounds_per_second > 0:
            rate = frame.rounds_per_second
            self._rate = rate if self._rate == 0 else 0.7 * self._rate + 0.3 * rate  # smoothed for reading
        if frame.ended:
            self._playing = False
            self._show_end(run)
        elif self.message.text().startswith("preparing"):
            self._set_message(READY)
        elif not self._playing and run.records and run.records[-1].epoch > 0:
            self._set_message(f"paused at epoch {run.epoch}")
        self._show_status()
        self._update_actions()
        # Acknowledge once painted: a low-priority event runs after the repaint this frame asked for.
        self._frame_started = start
        QCoreApplication.postEvent(self, QEvent(FRAME_PAINTED), Qt.EventPriority.LowEventPriority.value)
        self.frame_drawn.emit()
        if frame.ended:
            self.run_ended.emit(run.status)

    def event(self, event) -> bool:
        if event.type() == FRAME_PAINTED:
            cost = time.perf_counter() - self._frame_started
            self.frame_costs.append(cost)
            if self.worker is not None:
                self.worker.frame_consumed(cost)
            return True
        return super().event(event)

    def _fit_epoch_axis(self, epoch: int, target: int) -> None:
        """On the epoch axis, show 0 to the target (long runs: to the next 1-2-5 step past the epoch).

        An x range that follows every new epoch makes pyqtgraph regenerate the axes and re-downsample
        every curve on every frame: two thirds of a frame's cost. A range that changes a few times a
        decade costs nothing and shows how far the run has to go.
        """
        if self.curves.x_axis != "epoch":
            self._epoch_axis = None
            return
        upper = max(target, 1)
        if upper > LONG_RUN_EPOCHS:
            upper = min(upper, next(step for step in _one_two_five() if step >= max(1.1 * epoch, LONG_RUN_EPOCHS)))
        upper = max(upper, epoch)
        if upper == self._epoch_axis:
            return
        self._epoch_axis = upper
        plot = self.curves.plots["cost"]  # the other plots share its x axis
        plot.disableAutoRange(axis="x")
        plot.setXRange(0, upper, padding=0.02)

    def _show_end(self, run) -> None:
        if run.status == "diverged":
            self._set_message(f"diverged at epoch {run.diverged_epoch}: lower the learning rate "
                              f"({run.divergence_reason}); showing epoch {run.epoch}", "error")
            return
        last = self.curves.data(RUN_ID)
        cost = last["cost"][-1] if len(last["cost"]) else float("nan")
        accuracy = last["accuracy"][-1] if len(last["accuracy"]) else float("nan")
        self._set_message(f"finished: {run.epoch:,} epochs, cost {cost:.6f}, accuracy {100 * accuracy:.1f} %",
                          "done")

    def _on_error(self, message: str) -> None:
        self._playing = False
        self._stop_worker()
        self._set_message(message, "error")
        self._update_actions()
        self.errored.emit(message)

    # ---- display --------------------------------------------------------------------------

    def _show_status(self) -> None:
        run = self._last
        if run is None:
            texts = ("epoch —", "", "", "", "")
            self._set_progress(0, 1)
        else:
            self._set_progress(min(run.epoch, run.epochs) if run.epochs else 1, max(run.epochs, 1))
            data = self.curves.data(RUN_ID)
            cost = accuracy = ""
            if len(data["cost"]):
                cost = f"cost {data['cost'][-1]:.6f}"
                accuracy = f"accuracy {100 * data['accuracy'][-1]:.1f} %"
                test = data["test_accuracy"][-1]
                if test == test:  # not NaN: there is a test set
                    accuracy += f" (test {100 * test:.1f} %)"
            rate = f"{self._rate:,.0f} epochs/s" if self._playing and self._rate else ""
            texts = (f"epoch {run.epoch:,} / {run.epochs:,}", cost, accuracy, f"α {run.learning_rate:.4g}", rate)
        labels = (self.epoch_label, self.cost_label, self.accuracy_label, self.lr_label, self.rate_label)
        for label, text in zip(labels, texts, strict=True):
            if label.text() != text:
                label.setText(text)

    def _set_progress(self, value: int, maximum: int) -> None:
        if self.progress.maximum() != maximum:
            self.progress.setMaximum(maximum)
        if self.progress.value() != value:
            self.progress.setValue(value)

    def _decay_rate(self) -> None:
        if not self._playing:
            self._rate = 0.0
            self.rate_label.setText("")

    def _update_actions(self) -> None:
        """Enable the run bar's actions for the current state; touches them only when it changed
        (a new text or icon on every frame would relayout and repaint the tool bar 60 times a second)."""
        valid = self.panel.config() is not None
        state = (self._playing, valid, self.status in ("finished", "diverged"))
        if state == self._action_state:
            return
        self._action_state = state
        playing, _, ended = state
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.start_action.setText("Pause" if playing else "Start")
        self.start_action.setIcon(self.style().standardIcon(icon))
        self.start_action.setEnabled(playing or valid)
        self.step_action.setEnabled(valid and not ended)
        self.reset_action.setEnabled(valid)

    def _set_message(self, text: str, kind: str = "") -> None:
        """The status bar's message; kind 'error' (red) or 'done' (green) makes it stand out."""
        self.message.setText(text)
        self.message.setStyleSheet(MESSAGE_STYLES.get(kind, ""))

    def _about(self) -> None:
        QMessageBox.about(
            self, "About nnviz",
            "<b>nnviz</b><br>Watch a small numpy neural network learn a 2-D decision boundary, "
            "and compare training strategies (per-sample SGD, mini-batches, momentum, learning-rate decay) "
            "from the same data and initial weights.<br><br>"
            "Space: start/pause · S or →: one epoch · R: reset")

    # ---- closing --------------------------------------------------------------------------

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self._playing = False
        self._stop_worker()
        if self._save_settings:
            self.save_settings()
        super().closeEvent(event)
