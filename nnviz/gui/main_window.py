"""The main window: run list, parameter panel, run bar, decision maps, timeline, curves and status;
owns the worker's life.

Every run of the comparison shares the Data and Network settings of the panel (so all start from
the same weights on the same data); the panel's Training group edits the selected run. All runs
train together in one worker, round-robin by epoch.
"""

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
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
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

from nnviz.core.comparison import (
    PALETTE,
    TRAINING_FIELDS,
    History,
    RunSpec,
    SharedSettings,
    SnapshotStore,
    notebook_runs,
    preset_run,
)
from nnviz.core.session import SUFFIX, SessionError, load_session, save_session
from nnviz.core.training import FIELDS, LIVE_FIELDS, TrainConfig, load_presets
from nnviz.gui.boundary_view import BoundaryView
from nnviz.gui.controls import ParameterPanel
from nnviz.gui.curves import X_AXES, CurvesView
from nnviz.gui.export import ExportError, save_csv, save_map_png, save_plot_png, save_widget_png
from nnviz.gui.maps_panel import MapsPanel
from nnviz.gui.run_list import RunListPanel
from nnviz.gui.timeline import TimelineSlider
from nnviz.gui.worker import Frame, TrainingWorker, start_worker, stop_worker

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ORGANIZATION = "nnviz"
APPLICATION = "nnviz"
FRAME_PAINTED = QEvent.Type(QEvent.registerEventType())  # posted after a frame: acknowledges it once painted
READY = "ready: press Start (Space) or Step (S)"
MESSAGE_STYLES = {"error": "color: #c0281e; font-weight: bold;", "done": "color: #1b7a36; font-weight: bold;"}
MINIMUM_SIZE = (1060, 660)
DEFAULT_SIZE = (1480, 900)
MAPS_PER_SECOND = 12  # redraws of the small maps while several runs train (the curves follow every frame)
MAX_RECENT = 8  # entries of File → Recent sessions
MAP_WIDTHS = (400, 8000, 1600)  # decision-map PNG export: smallest, largest, default width in pixels
SESSION_FILTER = f"nnviz sessions (*{SUFFIX});;JSON (*.json);;All files (*)"
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


def curve_key(run_id: int) -> str:
    """The id of a run in the curves view (which names runs by text)."""
    return str(run_id)


def run_from_config(config: TrainConfig, colour: str = PALETTE[0]) -> RunSpec:
    """A RunSpec of a config's training settings, named after the preset it follows (whatever its
    epoch target; else "run")."""
    for name, values in load_presets().items():
        preset = TrainConfig(**values)
        if all(getattr(preset, f) == getattr(config, f) for f in TRAINING_FIELDS if f != "epochs"):
            return RunSpec.from_config(config, name, colour)
    return RunSpec.from_config(config, "run", colour)


class MainWindow(QMainWindow):
    """Runs trained live side by side: set the parameters, press Start, watch the maps and the curves."""

    frame_drawn = Signal()  # a worker frame has been shown
    run_ended = Signal(str)  # "finished", or "diverged" when any run diverged
    errored = Signal(str)

    def __init__(self, config: TrainConfig | None = None, settings: QSettings | None = None,
                 restore_parameters: bool = True):
        super().__init__()
        self.settings = settings if settings is not None else QSettings(ORGANIZATION, APPLICATION)
        self.worker: TrainingWorker | None = None
        self.worker_thread = None
        self._session = 0  # id of the current worker: frames of a stopped one are dropped
        self._shared: SharedSettings | None = None  # the shared settings the current worker trains
        self._trained: dict[int, RunSpec] = {}  # run id -> the spec the current worker trains
        self._setup = None  # RunSetup of the comparison (data, layout, activation), shared by all runs
        self._frames: dict = {}  # run id -> last RunFrame
        self._histories: dict[int, History] = {}  # run id -> every epoch's scalars (or a session's saved ones)
        self._snapshots: dict[int, SnapshotStore] = {}  # run id -> parameters by epoch, for the timeline
        self._loaded: set[int] = set()  # runs whose curves show a history opened from a session
        self._initial: dict = {}  # run id -> its epoch-0 record
        self._playing = False
        self._rate = 0.0  # smoothed epochs per second
        self._save_settings = True
        self._syncing = False  # the panel is being filled from code: its changes are not edits
        self._invalid_shown = False  # the message shows a field's error
        self._action_state = None  # (playing, valid, ended) the run bar was last set for
        self._frame_started = 0.0  # perf_counter when the last frame arrived
        self._maps_drawn_at = 0.0  # perf_counter when the maps last showed a frame
        self._epoch_axis: int | None = None  # upper end of the curves' epoch axis, once set
        self.session_path: Path | None = None  # the file the comparison was last opened from or saved to
        self.alert: QMessageBox | None = None  # the last message box shown (non-blocking)
        self.frame_costs: deque[float] = deque(maxlen=1000)  # seconds each recent frame kept the GUI busy

        self.setWindowIcon(app_icon())
        self.setMinimumSize(*MINIMUM_SIZE)
        self._build_actions()
        self._build_menus()
        self._build_run_bar()
        self._build_central()
        self._build_status_bar()
        self._update_title()

        self.panel.changed.connect(self._on_parameters_changed)
        self.runs.notebook_action.triggered.disconnect()
        self.runs.notebook_action.triggered.connect(self.add_notebook_runs)
        self.runs.runs_changed.connect(self._on_runs_changed)
        self.runs.run_edited.connect(self._on_run_edited)
        self.runs.selection_changed.connect(self._on_selection_changed)
        self.curves.run_visibility_changed.connect(self._on_legend_toggled)
        self.timeline.epoch_changed.connect(self._on_timeline)
        self._restore(config, restore_parameters)
        # Start with the focus on the maps, not in a field: Space, S, → and R then drive the run.
        self.curves.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.maps.setFocus()

    # ---- construction ---------------------------------------------------------------------

    def _build_actions(self) -> None:
        style = self.style()
        self.start_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Start", self)
        self.start_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.start_action.setToolTip("Start or pause training of every run (Space)")
        self.start_action.triggered.connect(self.toggle_play)
        self.step_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Step", self)
        self.step_action.setShortcuts([QKeySequence(Qt.Key.Key_S), QKeySequence(Qt.Key.Key_Right)])
        self.step_action.setToolTip("Train exactly one epoch of every run (S or →)")
        self.step_action.triggered.connect(self.step)
        self.reset_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload), "Reset", self)
        self.reset_action.setShortcut(QKeySequence(Qt.Key.Key_R))
        self.reset_action.setToolTip("Every run back to epoch 0: the same data and initial weights (R)")
        self.reset_action.triggered.connect(self.reset)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.close)
        self.about_action = QAction("&About nnviz", self)
        self.about_action.triggered.connect(self._about)
        for action in (self.start_action, self.step_action, self.reset_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)

        def action(text, slot, shortcut=None, tip=""):
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.setToolTip(tip or text)
            act.triggered.connect(slot)
            return act

        self.new_action = action("&New comparison", self.new_comparison, "Ctrl+N",
                                 "One run of the sgd preset, at epoch 0")
        self.open_action = action("&Open session…", self._open_dialog, QKeySequence.StandardKey.Open)
        self.save_action = action("&Save session", self._save, QKeySequence.StandardKey.Save)
        self.save_as_action = action("Save session &as…", self._save_as, "Ctrl+Shift+S")
        self.save_histories_action = action("Save session with &histories…", lambda: self._save_as(histories=True),
                                            tip="Also write every run's per-epoch history (the curves)")
        self.export_csv_action = action("Histories as &CSV…", self._export_csv)
        self.export_window_action = action("The &window as PNG…", self._export_window)
        self.export_curves_action = action("The c&urves as PNG…", self._export_curves)
        self.export_map_action = action("The decision &map as PNG…", self._export_map)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        for act in (self.new_action, self.open_action):
            file_menu.addAction(act)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        for act in (self.save_action, self.save_as_action, self.save_histories_action):
            file_menu.addAction(act)
        file_menu.addSeparator()
        self.export_menu = file_menu.addMenu("&Export")
        for act in (self.export_csv_action, self.export_window_action, self.export_curves_action,
                    self.export_map_action):
            self.export_menu.addAction(act)
        file_menu.addSeparator()
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
        self.discretize.toggled.connect(lambda on: self.maps.set_discretize(on))
        bar.addWidget(self.discretize)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.run_bar = bar

    def _build_central(self) -> None:
        self.panel = ParameterPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        width = self.panel.sizeHint().width() + 18
        scroll.setMinimumWidth(width)
        self._training_box = self.panel._forms["Training"].parentWidget()

        # The run list above the panel: the left column edits the comparison, the right one shows it.
        self.runs = RunListPanel()
        self.runs.setMinimumHeight(150)
        left = QSplitter(Qt.Orientation.Vertical)
        left.setObjectName("left")
        left.addWidget(self.runs)
        left.addWidget(scroll)
        left.setStretchFactor(0, 0)
        left.setStretchFactor(1, 1)
        left.setSizes([190, 700])
        left.setChildrenCollapsible(False)
        left.setMinimumWidth(width)
        left.setMaximumWidth(width + 140)
        self.left_splitter = left

        self.maps = MapsPanel()
        self.maps.setMinimumSize(300, 260)
        self.maps.back_button.setVisible(False)  # one run: nothing to go back to
        self.maps.large_changed.connect(self._on_large_changed)
        self.timeline = TimelineSlider()
        self.curves = CurvesView()
        self.curves.setMinimumWidth(300)

        map_box = QWidget()
        map_layout = QVBoxLayout(map_box)
        map_layout.setContentsMargins(0, 0, 0, 0)
        map_layout.setSpacing(2)
        map_layout.addWidget(self.maps, 1)
        map_layout.addWidget(self.timeline)

        # The maps above the curves: the notebook's data is about four times wider than high.
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
        layout.addWidget(left)
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
        x_axis = self.settings.value("view/x_axis", "epoch")
        self.curves.set_x_axis(x_axis if x_axis in X_AXES else "epoch")
        if config is None and restore_parameters:
            config = self._saved_config()
        if config is None:
            config = TrainConfig(**load_presets()["sgd"])
            self.panel.preset.setCurrentIndex(self.panel.preset.findData("sgd"))
        self._set_comparison(SharedSettings.from_config(config), [run_from_config(config)])

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
        self.settings.setValue("view/x_axis", self.curves.x_axis)
        config = self.panel.config()
        if config is not None:
            self.settings.setValue("run/parameters", json.dumps(config.to_dict()))
        self.settings.sync()

    def set_save_settings(self, on: bool) -> None:
        """Scripted runs (--screenshot) leave the user's settings alone."""
        self._save_settings = on

    # ---- the comparison -------------------------------------------------------------------

    @property
    def selected_run_id(self) -> int:
        return self.runs.selected_run_id()

    @property
    def boundary(self) -> BoundaryView:
        """The decision map in focus: the large one when shown, else the selected run's small map."""
        if self.maps.large_run_id != -1 or self.selected_run_id == -1:
            return self.maps.large
        return self.maps.map_view(self.selected_run_id)

    def shared(self) -> SharedSettings | None:
        """The shared settings of the panel (None while a field is invalid)."""
        config = self.panel.config()
        return None if config is None else SharedSettings.from_config(config)

    def _set_comparison(self, shared: SharedSettings, specs: list[RunSpec]) -> None:
        """Replace every run, then start them all at epoch 0 (paused)."""
        self._syncing = True
        try:
            self.runs.set_runs(specs)
        finally:
            self._syncing = False
        self._sync_views()
        self._show_selected(shared)
        self._launch()

    def _show_selected(self, shared: SharedSettings | None = None) -> None:
        """Fill the panel with the shared settings and the selected run's training settings."""
        run_id = self.selected_run_id
        shared = shared or self.shared() or self._shared
        if run_id == -1 or shared is None:
            return
        spec = self.runs.spec(run_id)
        self._syncing = True
        try:
            self.panel.set_config(spec.config(shared))
        finally:
            self._syncing = False
        preset = run_from_config(spec.config(shared)).name
        self.panel.preset.setCurrentIndex(max(self.panel.preset.findData(preset), 0))
        self._training_box.setTitle(f"Training — run “{spec.name}”")
        self._update_actions()

    def _sync_views(self) -> None:
        """Curves and maps hold exactly the runs of the list, in its order and styles."""
        runs = self.runs.runs()
        keys = {curve_key(run_id) for run_id, _ in runs}
        for key in self.curves.run_ids():
            if key not in keys:
                self.curves.remove_run(key)
        for run_id, spec in runs:
            key = curve_key(run_id)
            if key not in self.curves.run_ids():
                self.curves.add_run(key, spec.name, spec.colour)
            self.curves.set_run_style(key, spec.name, spec.colour)
            self.curves.set_run_visible(key, spec.visible)
        self.curves.legend.setVisible(len(runs) > 1)  # one run: nothing to tell apart
        self.maps.set_runs([(run_id, spec.name, spec.colour, spec.visible) for run_id, spec in runs])
        if len(runs) == 1:
            self.maps.show_large(runs[0][0])
        elif self.maps.large_run_id != -1 and not self.maps.back_button.isVisible():
            self.maps.show_all()  # the single run's large map gives way to the grid
        self.maps.back_button.setVisible(len(runs) > 1)
        for run_id in [r for r in self._histories if r not in dict(runs)]:
            self._drop_run_data(run_id)

    def _drop_run_data(self, run_id: int) -> None:
        for table in (self._histories, self._snapshots, self._frames, self._trained):
            table.pop(run_id, None)
        self._loaded.discard(run_id)

    def add_notebook_runs(self) -> list[int]:
        """The notebook's four strategies; they replace a lone, unchanged sgd run (the window's
        start), else they are added. All runs then start from epoch 0. Returns the new runs' ids."""
        specs = self.runs.specs()
        sgd = preset_run("sgd")
        if len(specs) == 1 and specs[0].replace(colour=sgd.colour) == sgd:
            self._set_comparison(self.shared() or self._shared, notebook_runs())
            ids = [run_id for run_id, _ in self.runs.runs()]
        else:
            ids = self.runs.add_notebook_runs()
        self._set_message(f"{len(self.runs.runs())} runs, all from the same initial weights on the same data: "
                          "press Start")
        return ids

    def _on_runs_changed(self) -> None:
        """Runs added or removed in the list: a removed run leaves the worker; added runs restart all
        runs from epoch 0 together, so that the comparison stays fair."""
        if self._syncing:
            return
        ids = [run_id for run_id, _ in self.runs.runs()]
        removed = [run_id for run_id in self._trained if run_id not in ids]
        added = [run_id for run_id in ids if run_id not in self._trained]
        self._sync_views()
        if not ids:
            self._restart()  # stops the worker: nothing to train
            self._set_message("no runs: add one (Add, or Notebook runs)")
        elif added or self.worker is None:
            self._restart(f"{len(added)} run(s) added: every run is back at epoch 0, "
                          "so all start from the same weights")
        else:
            for run_id in removed:
                self.worker.remove_run(run_id)
                self._drop_run_data(run_id)
            if removed:
                self._set_message(f"run removed; {len(ids)} run(s) continue from where they are")
        self._show_selected()
        self._show_status()
        self._update_actions()

    def _on_run_edited(self, run_id: int, spec: RunSpec) -> None:
        key = curve_key(run_id)
        self.curves.set_run_style(key, spec.name, spec.colour)
        self.curves.set_run_visible(key, spec.visible)
        self.maps.set_run_style(run_id, spec.name, spec.colour)
        self.maps.set_run_visible(run_id, spec.visible)
        if run_id in self._trained:
            self._trained[run_id] = self._trained[run_id].replace(name=spec.name, colour=spec.colour,
                                                                  visible=spec.visible)
        if run_id == self.selected_run_id:
            self._training_box.setTitle(f"Training — run “{spec.name}”")

    def _on_legend_toggled(self, key: str, visible: bool) -> None:
        run_id = int(key)
        if run_id in dict(self.runs.runs()) and self.runs.spec(run_id).visible != visible:
            self.runs.set_run_visible(run_id, visible)

    def _on_selection_changed(self, run_id: int) -> None:
        if self._syncing or run_id == -1:
            return
        self._show_selected()
        self._show_status(None if self.timeline.is_live() else self.timeline.current_epoch())

    def _on_large_changed(self, run_id: int) -> None:
        if run_id != -1 and run_id != self.selected_run_id and run_id in dict(self.runs.runs()):
            self.runs.select_run(run_id)

    # ---- the run --------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def _last(self):
        """The last RunFrame of the selected run (None before the first)."""
        return self._frames.get(self.selected_run_id)

    @property
    def _config(self) -> TrainConfig | None:
        """The TrainConfig the worker trains for the selected run (None without a worker)."""
        spec = self._trained.get(self.selected_run_id)
        return None if spec is None or self._shared is None else spec.config(self._shared)

    @property
    def epoch(self) -> int:
        """Epoch of the selected run's state on screen."""
        return self._last.epoch if self._last is not None else 0

    @property
    def status(self) -> str:
        """ready, running, finished or diverged (of the selected run); 'invalid' without a valid config."""
        if self._shared is None:
            return "invalid"
        return self._last.status if self._last is not None else "ready"

    def _all_ended(self) -> bool:
        frames = [self._frames.get(run_id) for run_id in self._trained]
        return bool(frames) and all(f is not None and f.status in ("finished", "diverged") for f in frames)

    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.start()

    def start(self) -> None:
        """Train every run continuously (from where they are; if all have ended, they start again)."""
        if self.panel.config() is None or not self.runs.runs():
            return
        if self.worker is None or self._all_ended():
            self._launch()
        self._playing = True
        self.worker.play()
        self.timeline.set_live(True)
        self._set_message("training…")
        self._update_actions()

    def pause(self) -> None:
        if self.worker is not None:
            self.worker.pause()
        self._playing = False
        self._set_message(f"paused at epoch {self.epoch}")
        self._update_actions()

    def step(self) -> None:
        """Train exactly one more epoch of every unfinished run, then stay paused."""
        if self.panel.config() is None or not self.runs.runs() or self._all_ended():
            return
        if self.worker is None:
            self._launch()
        self._playing = False
        self.timeline.set_live(True)
        self.worker.step(1)
        self._update_actions()

    def reset(self) -> None:
        """Every run back to epoch 0 with the current parameters: the same data and initial weights."""
        self._restart()

    def _restart(self, message: str = "") -> None:
        """Every run back to epoch 0, paused; ``message`` is shown if some run had trained (it lost epochs)."""
        trained = any(frame.epoch > 0 for frame in self._frames.values())
        self._playing = False
        self._launch()
        if trained and message:
            self._set_message(message)
        self._update_actions()

    def _launch(self) -> None:
        """Stop any worker, then start one on the list's runs and the panel's shared settings, paused at epoch 0."""
        self._stop_worker()
        self.curves.clear()
        self.curves.set_marker(None)
        self.timeline.reset()
        self.timeline.set_note("")
        self._epoch_axis = None
        self._frames = {}
        self._histories = {}
        self._snapshots = {}
        self._loaded = set()
        self._initial = {}
        self._rate = 0.0
        shared = self.shared()
        self._shared = shared
        self._trained = {}
        if shared is None or not self.runs.runs():
            self._show_status()
            return
        self._trained = dict(self.runs.runs())
        self._session += 1
        specs = [(run_id, spec.config(shared)) for run_id, spec in self._trained.items()]
        self.worker = TrainingWorker(specs, playing=False, epochs_per_second=self.speed.currentData(),
                                     session=self._session)
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
        if self._syncing:
            return
        new = self.panel.config()
        self._update_actions()
        if new is None:
            field, reason = next(iter(self.panel.errors().items()))
            self._set_message(f"{self.panel.label_of(field)}: {reason}", "error")
            self._invalid_shown = True
            return
        if self._invalid_shown:
            self._invalid_shown = False
            self._set_message("training…" if self._playing else READY)
        run_id = self.selected_run_id
        if run_id == -1:
            return
        shared = SharedSettings.from_config(new)
        spec = self.runs.spec(run_id).replace(**{name: getattr(new, name) for name in TRAINING_FIELDS})
        self.runs.set_run_spec(run_id, spec)
        old = self._trained.get(run_id)
        if shared != self._shared or old is None or self.worker is None:
            several = len(self.runs.runs()) > 1
            self._restart("data or network changed: every run is back at epoch 0" if several else "")
            return
        changes = {n: getattr(spec, n) for n in TRAINING_FIELDS if getattr(spec, n) != getattr(old, n)}
        if not changes:
            return
        if set(changes) <= set(LIVE_FIELDS):
            self._trained[run_id] = spec
            self.worker.update_config(run_id, **changes)
            return
        # The batch size changes what an epoch is: the run restarts, and with it all (a fair comparison).
        self._restart(f"batch size of “{spec.name}” changed: every run is back at epoch 0")

    def _on_speed(self, *_) -> None:
        if self.worker is not None:
            self.worker.set_speed(self.speed.currentData())

    # ---- frames from the worker -----------------------------------------------------------

    def _on_frame(self, frame: Frame) -> None:
        worker = self.worker
        if worker is None or frame.session != self._session:
            return  # a frame of a worker already replaced (still queued when it stopped)
        start = time.perf_counter()
        live = self.timeline.is_live()
        for run_id, run in frame.runs.items():
            if run_id not in self._trained:
                continue  # removed from the list, still in this frame
            # Every run of a worker shares the data: the first run's setup is the comparison's.
            if run.setup is not None and (self._setup is None or run_id == next(iter(self._trained))):
                self._setup = run.setup
                self._fit_label(self.accuracy_label, "accuracy 100.0 % (test 100.0 %)"
                                if len(run.setup.X_test) else "accuracy 100.0 %")
                self.maps.set_data(run.setup.X, run.setup.y, run.setup.X_test, run.setup.y_test)
            if run.records:
                self._add_records(run_id, run.records)
            self._frames[run_id] = run
        # Several maps cost more to paint than the curves: while training, they are redrawn at most
        # MAPS_PER_SECOND times a second (every frame when one run is shown large); always when it stops.
        draw_maps = live and self._setup is not None and (
            frame.ended or not frame.playing or len(self._trained) == 1 or self.maps.large_run_id != -1
            or start - self._maps_drawn_at >= 1 / MAPS_PER_SECOND)
        if draw_maps:
            self._maps_drawn_at = start
            for run_id, run in frame.runs.items():
                self._show_map(run_id, run.params, self._live_cost(run_id), run.epoch)
        newest = max((f.epoch for f in self._frames.values()), default=0)
        if self._last is not None:
            self._fit_epoch_axis(newest, max(f.epochs for f in self._frames.values()))
        self.timeline.set_max_epoch(newest)
        self._show_memory()
        if frame.rounds_per_second > 0:
            rate = frame.rounds_per_second
            self._rate = rate if self._rate == 0 else 0.7 * self._rate + 0.3 * rate  # smoothed for reading
        if frame.ended:
            self._playing = False
            self._show_end()
        elif self.message.text().startswith("preparing"):
            self._set_message(READY)
        elif not self._playing and self.epoch > 0 and frame.playing is False and any(
                r.records for r in frame.runs.values()):
            self._set_message(f"paused at epoch {self.epoch}")
        if live:
            self._show_status()
        self._update_actions()
        # Acknowledge once painted: a low-priority event runs after the repaint this frame asked for.
        self._frame_started = start
        QCoreApplication.postEvent(self, QEvent(FRAME_PAINTED), Qt.EventPriority.LowEventPriority.value)
        self.frame_drawn.emit()
        if frame.ended:
            diverged = any(f.status == "diverged" for f in self._frames.values())
            self.run_ended.emit("diverged" if diverged else "finished")

    def _add_records(self, run_id: int, records) -> None:
        """Keep a run's new records: scalars in its History and curves, parameters in its SnapshotStore."""
        key = curve_key(run_id)
        if records[0].epoch == 0 or run_id not in self._histories:
            # A (re)start at epoch 0; a run showing a session's history keeps it until it trains.
            self._snapshots[run_id] = SnapshotStore()
            if run_id not in self._loaded:
                self._histories[run_id] = History(records[0].test_cost is not None)
                self.curves.clear(key)
        if run_id in self._loaded and any(r.epoch > 0 for r in records):
            self._loaded.discard(run_id)  # retrained: the saved history gives way to the new one
            self._histories[run_id] = History(records[0].test_cost is not None)
            self.curves.clear(key)
            records = [self._initial[run_id], *records] if records[0].epoch == 1 else records
        if records[0].epoch == 0:
            self._initial[run_id] = records[0]
        store = self._snapshots[run_id]
        last_epoch = -1 if store.last_epoch is None else store.last_epoch  # O(1)
        for record in records:
            if record.epoch > last_epoch:
                store.add(record.epoch, record.params)
                last_epoch = record.epoch
        if run_id in self._loaded:
            return
        history = self._histories[run_id]
        for record in records:
            history.append(record)
        self.curves.append(key, records)

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

    def _show_end(self) -> None:
        frames = [(run_id, self.runs.spec(run_id), frame) for run_id, frame in self._frames.items()
                  if run_id in self._trained]
        diverged = [(spec, frame) for _, spec, frame in frames if frame.status == "diverged"]
        if diverged:
            spec, frame = diverged[0]
            who = "" if len(frames) == 1 else f"“{spec.name}” "
            self._set_message(f"{who}diverged at epoch {frame.diverged_epoch}: lower the learning rate "
                              f"({frame.divergence_reason}); showing epoch {frame.epoch}", "error")
            return
        results = []
        for run_id, spec, frame in frames:
            history = self._histories.get(run_id)
            if history is not None and len(history):
                results.append((history.column("cost")[-1], history.column("accuracy")[-1], spec.name, frame.epoch))
        if len(results) == 1:
            cost, accuracy, _, epoch = results[0]
            self._set_message(f"finished: {epoch:,} epochs, cost {cost:.6f}, accuracy {100 * accuracy:.1f} %",
                              "done")
        elif results:
            cost, accuracy, name, _ = min(results)
            self._set_message(f"finished: {len(results)} runs; lowest cost “{name}” {cost:.6f} "
                              f"(accuracy {100 * accuracy:.1f} %)", "done")

    def _on_error(self, message: str) -> None:
        self._playing = False
        self._stop_worker()
        self._set_message(message, "error")
        self._update_actions()
        self.errored.emit(message)

    # ---- the timeline ---------------------------------------------------------------------

    def _on_timeline(self, epoch: int) -> None:
        """Show every run at ``epoch`` (the nearest snapshot kept at or before it), or live again."""
        if self.timeline.is_live():
            self.curves.set_marker(None)
            for run_id, frame in self._frames.items():
                self._show_map(run_id, frame.params, self._live_cost(run_id), frame.epoch)
            self._show_status()
            return
        self.curves.set_marker(epoch)
        for run_id, store in self._snapshots.items():
            found = store.nearest(epoch)
            if found is None:
                continue
            shown, params = found
            self._show_map(run_id, params, self._value_at(run_id, "cost", shown), shown)
        self._show_status(epoch)

    def _show_map(self, run_id: int, params, cost, epoch) -> None:
        if self._setup is not None and run_id in self._trained:
            self.maps.show_state(run_id, params, self._setup.layout, self._setup.activation, cost, epoch)

    def _live_cost(self, run_id: int) -> float | None:
        """The cost of a run's newest epoch (None while its curves show a session's saved history)."""
        history = self._histories.get(run_id)
        if history is None or run_id in self._loaded or not len(history):
            return None
        return history.column("cost")[-1]

    def _value_at(self, run_id: int, column: str, epoch: int) -> float | None:
        history = self._histories.get(run_id)
        if history is None or run_id in self._loaded or not len(history):
            return None
        epochs = history.column("epoch")
        i = int(epochs.searchsorted(epoch))
        return float(history.column(column)[i]) if i < len(epochs) and epochs[i] == epoch else None

    def _show_memory(self) -> None:
        nbytes = sum(store.nbytes for store in self._snapshots.values())  # O(1) each
        if nbytes:
            strides = {store.stride for store in self._snapshots.values()}
            every = "every epoch" if strides == {1} else f"every {max(strides)}th epoch"
            self.timeline.set_note(f"snapshots: {nbytes / 2**20:.1f} MB ({every})" if nbytes >= 2**20
                                   else f"snapshots: {nbytes / 2**10:.0f} kB ({every})")

    # ---- display --------------------------------------------------------------------------

    def _show_status(self, epoch: int | None = None) -> None:
        """The selected run in the status bar: live, or at ``epoch`` of the timeline."""
        run = self._last
        run_id = self.selected_run_id
        if run is None:
            texts = ("epoch —", "", "", "", "")
            self._set_progress(0, 1)
        else:
            shown = run.epoch if epoch is None else min(epoch, run.epoch)
            self._set_progress(min(shown, run.epochs) if run.epochs else 1, max(run.epochs, 1))
            cost = accuracy = ""
            history = self._histories.get(run_id)
            learning_rate = run.learning_rate
            if history is not None and len(history) and run_id not in self._loaded:
                epochs = history.column("epoch")
                i = len(epochs) - 1 if epoch is None else min(int(epochs.searchsorted(shown)), len(epochs) - 1)
                cost = f"cost {history.column('cost')[i]:.6f}"
                accuracy = f"accuracy {100 * history.column('accuracy')[i]:.1f} %"
                if history.has_test:
                    accuracy += f" (test {100 * history.column('test_accuracy')[i]:.1f} %)"
                if epoch is not None:
                    learning_rate = history.column("learning_rate")[i]
            rate = f"{self._rate:,.0f} epochs/s" if self._playing and self._rate else ""
            if epoch is not None:
                self._set_message(f"showing epoch {shown:,} (End or ● Live: back to the newest)")
            texts = (f"epoch {shown:,} / {run.epochs:,}", cost, accuracy, f"α {learning_rate:.4g}", rate)
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
        valid = self.panel.config() is not None and bool(self.runs.runs())
        state = (self._playing, valid, self._all_ended())
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

    def _update_title(self) -> None:
        name = f" — {self.session_path.name}" if self.session_path is not None else ""
        self.setWindowTitle(f"nnviz — watch a neural network learn{name}")

    def _alert(self, text: str, kind: str = "warning", title: str = "nnviz") -> None:
        """A message box that does not block (tests read ``window.alert``)."""
        icon = QMessageBox.Icon.Warning if kind == "warning" else QMessageBox.Icon.Information
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.alert = box
        box.open()

    # ---- sessions -------------------------------------------------------------------------

    def new_comparison(self) -> None:
        """One run of the sgd preset at epoch 0, as a fresh window opens."""
        config = TrainConfig(**load_presets()["sgd"])
        self.panel.preset.setCurrentIndex(self.panel.preset.findData("sgd"))
        self.session_path = None
        self._update_title()
        self._set_comparison(SharedSettings.from_config(config), [preset_run("sgd")])

    def histories(self) -> dict[str, History]:
        """Each run's history by run name (a session's saved one until the run trains again)."""
        return {spec.name: self._histories[run_id] for run_id, spec in self.runs.runs()
                if run_id in self._histories and len(self._histories[run_id])}

    def save_session_to(self, path: str | Path, histories: bool = False) -> bool:
        """Write the comparison (and, if asked, every run's history) to ``path``; False with a message on failure."""
        shared = self.shared()
        if shared is None:
            self._alert("Cannot save: a field of the panel is invalid.")
            return False
        try:
            save_session(path, shared, self.runs.specs(), self.histories() if histories else None)
        except (SessionError, ValueError) as exc:
            self._alert(str(exc))
            return False
        self.session_path = Path(path)
        self._update_title()
        self._add_recent(path)
        self._set_message(f"saved {path}" + (" with histories" if histories else ""), "done")
        return True

    def open_session_from(self, path: str | Path) -> bool:
        """Open a session file; on any problem show its message and leave the open comparison as it was."""
        try:
            session = load_session(path)
        except SessionError as exc:
            self._alert(str(exc))
            return False
        if not session.runs:
            self._alert(f"{path}: the session has no runs")
            return False
        self.apply_session(session)
        self._add_recent(path)
        if session.warnings:
            self._alert(f"{path}: opened; these keys are not known to this version and were ignored:\n"
                        + "\n".join(session.warnings), kind="information")
        return True

    def apply_session(self, session) -> None:
        """Show a loaded Session: its shared settings and runs at epoch 0, and its histories in the curves."""
        self._playing = False
        self.panel.preset.setCurrentIndex(0)
        self.session_path = session.path
        self._update_title()
        self._set_comparison(session.shared, list(session.runs))
        for run_id, spec in self.runs.runs():
            history = session.histories.get(spec.name)
            if history is None or not len(history):
                continue
            self._histories[run_id] = history
            self._loaded.add(run_id)
            self.curves.clear(curve_key(run_id))
            self.curves.append_columns(curve_key(run_id), {name: history.column(name) for name in history.columns})
        saved = f", {len(session.histories)} saved histories shown (Start retrains from epoch 0)" \
            if session.histories else ""
        self._set_message(f"opened {session.path.name if session.path else 'session'}: "
                          f"{len(session.runs)} run(s){saved}")

    def _open_dialog(self) -> None:
        start = str(self.session_path.parent) if self.session_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open session", start, SESSION_FILTER)
        if path:
            self.open_session_from(path)

    def _save(self) -> None:
        if self.session_path is None:
            self._save_as()
        else:
            self.save_session_to(self.session_path)

    def _save_as(self, histories: bool = False) -> None:
        start = str(self.session_path) if self.session_path else f"comparison{SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(self, "Save session with histories" if histories else "Save session",
                                              start, SESSION_FILTER)
        if path:
            if not path.endswith(".json"):
                path += SUFFIX
            self.save_session_to(path, histories=histories)

    # ---- recent files ---------------------------------------------------------------------

    def recent_sessions(self) -> list[str]:
        value = self.settings.value("session/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []]

    def _add_recent(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_sessions() if p != path]
        self.settings.setValue("session/recent", recent[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_sessions()
        for path in recent:
            act = self.recent_menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.setData(path)
            act.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def open_recent(self, path: str) -> bool:
        """Open a recent session; a file that is gone leaves the list, with a message."""
        if not Path(path).exists():
            self.settings.setValue("session/recent", [p for p in self.recent_sessions() if p != path])
            self._alert(f"{path}: no such file; removed from the recent sessions")
            return False
        return self.open_session_from(path)

    # ---- export ---------------------------------------------------------------------------

    def export_csv_to(self, path: str | Path) -> bool:
        return self._export(lambda: save_csv(path, self.histories(), self._shared is not None
                                             and self._shared.has_test), path)

    def export_window_to(self, path: str | Path) -> bool:
        return self._export(lambda: save_widget_png(self, path), path)

    def export_curves_to(self, path: str | Path, width: int | None = None) -> bool:
        return self._export(lambda: save_plot_png(self.curves.graphics, path, width), path)

    def export_map_to(self, path: str | Path, width: int | None = None) -> bool:
        """The map in focus (large, or the selected run's) as a PNG ``width`` pixels wide."""
        return self._export(lambda: save_map_png(self.boundary, path, width), path)

    def _export(self, write, path) -> bool:
        try:
            write()
        except (ExportError, ValueError) as exc:
            self._alert(str(exc))
            return False
        self._set_message(f"saved {path}", "done")
        return True

    def _export_file(self, title: str, name: str, filters: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, title, name, filters)
        return path

    def _export_csv(self) -> None:
        path = self._export_file("Export histories as CSV", "histories.csv", "CSV (*.csv)")
        if path:
            self.export_csv_to(path)

    def _export_window(self) -> None:
        path = self._export_file("Export the window as PNG", "nnviz.png", "PNG (*.png)")
        if path:
            self.export_window_to(path)

    def _export_curves(self) -> None:
        path = self._export_file("Export the curves as PNG", "curves.png", "PNG (*.png)")
        if path:
            self.export_curves_to(path)

    def _export_map(self) -> None:
        low, high, default = MAP_WIDTHS
        width, ok = QInputDialog.getInt(self, "Decision map as PNG", f"width in pixels ({low}–{high}):",
                                        default, low, high, 100)
        if not ok:
            return
        path = self._export_file("Export the decision map as PNG", "decision-map.png", "PNG (*.png)")
        if path:
            self.export_map_to(path, width)

    def _about(self) -> None:
        QMessageBox.about(
            self, "About nnviz",
            "<b>nnviz</b><br>Watch a small numpy neural network learn a 2-D decision boundary, "
            "and compare training strategies (per-sample SGD, mini-batches, momentum, learning-rate decay) "
            "from the same data and initial weights.<br><br>"
            "Space: start/pause · S or →: one epoch · R: reset<br>"
            "Ctrl+O: open a session · Ctrl+S: save it · Ctrl+Shift+N in the run list: the notebook's four runs")

    # ---- closing --------------------------------------------------------------------------

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self._playing = False
        self._stop_worker()
        if self._save_settings:
            self.save_settings()
        super().closeEvent(event)
