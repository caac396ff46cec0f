"""The main window: lays out the views and wires them to the controller.

Left: the run list above the parameter panel (the Data and Network groups are shared by every
run; the Training group edits the selected run). Right: the decision maps with the timeline,
above the curves. The controller (gui/controller.py) owns the comparison model and the worker;
menus and actions (gui/actions.py), documents (gui/documents.py) and the status bar
(gui/status.py) are modules of their own.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.seeds import SeedSettings
from nnviz.core.training import TrainConfig
from nnviz.gui import window_settings
from nnviz.gui.actions import DEFAULT_SPEED, SPEEDS, Actions
from nnviz.gui.animation_dialog import AnimationExport
from nnviz.gui.boundary_view import BoundaryView
from nnviz.gui.controller import Controller
from nnviz.gui.controls import ParameterPanel
from nnviz.gui.curves import CurvesView
from nnviz.gui.data_files import DataFiles
from nnviz.gui.documents import Documents
from nnviz.gui.drawing import DrawingMode
from nnviz.gui.inside_views import VIEW_MODES, InsideViews
from nnviz.gui.maps_panel import MapsPanel
from nnviz.gui.run_list import RunListPanel
from nnviz.gui.run_tools import RunTools
from nnviz.gui.seed_views import SeedViews
from nnviz.gui.status import READY, StatusBar
from nnviz.gui.sweep_dialog import SweepTools
from nnviz.gui.timeline import TimelineSlider
from nnviz.gui.window_views import ViewSync

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ORGANIZATION = "nnviz"
APPLICATION = "nnviz"
MINIMUM_SIZE = (900, 600)  # every label stays readable down to this size
ACTION_NAMES = ("start_action", "step_action", "reset_action", "undo_action", "quit_action", "about_action",
                "new_action", "open_action", "open_data_action", "export_data_action", "save_action", "save_as_action",
                "save_histories_action",
                "export_csv_action", "export_settings_action", "export_window_action", "export_curves_action",
                "export_map_action", "export_animation_action",
                "view_maps_action", "view_both_action", "view_network_action", "view_landscape_action",
                "update_sizes_action", "seeds_summary_action", "sweep_action")


def app_icon() -> QIcon:
    """The application icon from resources/ (SVG, with the PNG rendering as a fallback)."""
    icon = QIcon()
    for name in ("icon.svg", "icon.png"):
        path = RESOURCES / name
        if path.exists():
            icon.addFile(str(path))
    return icon


class MainWindow(QMainWindow):
    """Runs trained live side by side: set the parameters, press Start, watch the maps and the curves."""

    frame_drawn = Signal()  # a frame of the worker has been shown
    run_ended = Signal(str)  # "finished", or "diverged" when any run diverged
    errored = Signal(str)

    def __init__(self, config: TrainConfig | None = None, settings: QSettings | None = None,
                 restore_parameters: bool = True, confirm: bool = True, seeds: SeedSettings | None = None):
        super().__init__()
        self.settings = settings if settings is not None else QSettings(ORGANIZATION, APPLICATION)
        self._save_settings = True
        shared, specs = window_settings.initial_comparison(self.settings, config, restore_parameters)
        speed = str(self.settings.value("run/speed", DEFAULT_SPEED))
        # The last comparison's seeds too (and the seed its maps showed), when it is the one reopened.
        if seeds is None:
            seeds = window_settings.last_seeds(self.settings, config, restore_parameters)
        self.controller = Controller(shared, specs, SPEEDS.get(speed, SPEEDS[DEFAULT_SPEED]), self, seeds)
        self.documents = Documents(self, self.controller, self.settings)
        self.data_files = DataFiles(self.documents)  # File ▸ Open data… and Export data as CSV…
        self.sweeps = SweepTools(self)  # the sweep window of the selected run (one at a time)
        self.animation = AnimationExport(self)  # File ▸ Export ▸ Animation…: its dialog and its rendering thread
        self.documents.sweep_doc, self.documents.restore_sweep = self.sweeps.to_doc, self.sweeps.restore
        self.documents.clear_sweep = self.sweeps.clear
        if not confirm:
            self.documents.ask = lambda text: True
        self.actions = Actions(self, self._handlers())
        for name in ACTION_NAMES:
            setattr(self, name, getattr(self.actions, name))
        self.recent_menu = self.actions.build_menus([])
        self.export_menu = self.actions.export_menu
        self.recent_menu.aboutToShow.connect(lambda: self.documents.fill_recent_menu(self.recent_menu))
        self.setWindowIcon(app_icon())
        self.setMinimumSize(*MINIMUM_SIZE)
        self._build_run_bar(speed)
        self._build_central()
        self.statusline = StatusBar(self.statusBar())
        for name in ("message", "epoch_label", "progress", "cost_label", "accuracy_label", "lr_label", "rate_label"):
            setattr(self, name, getattr(self.statusline, name))
        self.views = ViewSync(self)
        self.tools = RunTools(self)  # adding sets of runs, the learning-rate finder
        self.seed_views = SeedViews(self)  # the Seeds control, the bands, progress and Cancel, the summary
        self._wire()
        self.drawing = DrawingMode(self)  # points drawn on the map (D): the data every run trains on
        window_settings.restore_view(self)

        self.views.runs_changed()
        self.statusline.set_message(f"{self.controller.busy}…" if self.controller.busy else READY)
        self._update_title()
        # Start with the focus on the maps, not in a field: Space, S, → and R then drive the run.
        self.maps.setFocus()

    # ---- construction ----------------------------------------------------------------------

    def _handlers(self) -> dict:
        c, d = self.controller, self.documents
        return {"start_action": self.toggle_play, "step_action": self.step, "reset_action": self.reset,
                "undo_action": lambda: self.drawing.undo() or c.undo(),  # drawing mode: its strokes first
                "quit_action": self.close, "about_action": self._about,
                "new_action": self.new_comparison, "open_action": d.open_dialog, "save_action": d.save,
                "open_data_action": self.data_files.open_dialog, "export_data_action": self.data_files.export_dialog,
                "save_as_action": d.save_as, "save_histories_action": lambda: d.save_as(histories=True),
                "export_csv_action": d.export_csv_dialog,
                "export_settings_action": d.export_settings_dialog,
                "export_window_action": lambda: d.export_png_dialog("the window", "nnviz.png", self.export_window_to),
                "export_curves_action": lambda: d.export_png_dialog("the curves", "curves.png",
                                                                     self.export_curves_to),
                "export_map_action": lambda: d.export_map_dialog(self.boundary),
                "export_animation_action": lambda: self.animation.open_dialog(),
                "view_maps_action": lambda: self.set_view_mode("maps"),
                "view_both_action": lambda: self.set_view_mode("both"),
                "view_network_action": lambda: self.set_view_mode("network"),
                "view_landscape_action": lambda: self.set_view_mode("landscape"),
                "update_sizes_action": lambda: self.show_update_sizes(self.update_sizes_action.isChecked()),
                "seeds_summary_action": lambda: self.seed_views.show_summary(),
                "sweep_action": lambda: self.sweeps.open_sweep()}

    def _build_run_bar(self, speed: str) -> None:
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
        index = self.speed.findText(speed)
        self.speed.setCurrentIndex(index if index >= 0 else self.speed.findText(DEFAULT_SPEED))
        self.speed.setToolTip("Epochs trained per second; 'as fast as possible' still redraws up to ~70 times a second")
        self.speed.currentIndexChanged.connect(lambda *_: self.controller.set_speed(self.speed.currentData()))
        bar.addWidget(self.speed)
        bar.addSeparator()
        self.discretize = QCheckBox("discretize map")
        self.discretize.setToolTip("Show the hard decision (p > 0.5: class 1) instead of the probability")
        self.discretize.toggled.connect(lambda on: self.maps.set_discretize(on))
        bar.addWidget(self.discretize)
        bar.addSeparator()
        bar.addWidget(QLabel(" view "))
        self.view_mode = QComboBox()
        self.view_mode.setObjectName("view_mode")
        for mode, label in VIEW_MODES.items():
            self.view_mode.addItem(label, mode)
        self.view_mode.setToolTip("The decision maps, the selected run's network beside them (every unit's output "
                                  "over the plane), the network in their place, or the loss landscape of the runs' "
                                  "paths (Ctrl+1, Ctrl+2, Ctrl+3, Ctrl+4)")
        self.view_mode.activated.connect(lambda *_: self.set_view_mode(self.view_mode.currentData()))
        bar.addWidget(self.view_mode)
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
        self.runs = RunListPanel()
        self.runs.setMinimumHeight(120)
        left = QSplitter(Qt.Orientation.Vertical)
        left.setObjectName("left")
        left.addWidget(self.runs)
        left.addWidget(scroll)
        left.setStretchFactor(1, 1)
        left.setSizes([190, 700])
        left.setChildrenCollapsible(False)
        left.setMinimumWidth(width)
        left.setMaximumWidth(width + 140)
        self.left_splitter = left

        self.maps = MapsPanel()
        self.maps.setMinimumSize(260, 200)
        self.timeline = TimelineSlider()
        self.curves = CurvesView()
        self.curves.setMinimumSize(260, 180)
        self.curves.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        map_box = QWidget()
        map_layout = QVBoxLayout(map_box)
        map_layout.setContentsMargins(0, 0, 0, 0)
        map_layout.setSpacing(2)
        self.inside = InsideViews(self)
        self.network, self.updates, self.health_banner = self.inside.network, self.inside.updates, self.inside.banner
        map_layout.addWidget(self.inside.wrap_maps(self.maps), 1)
        map_layout.addWidget(self.timeline)
        # The maps above the curves: the notebook's data is about four times wider than high.
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("views")
        splitter.addWidget(map_box)
        splitter.addWidget(self.inside.wrap_curves(self.curves))
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(left)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

    def _wire(self) -> None:
        c, v = self.controller, self.views
        c.runs_changed.connect(v.runs_changed)
        c.records_appended.connect(v.records_appended)
        c.epoch_shown.connect(v.epoch_shown)
        c.selection_changed.connect(v.selection_changed)
        c.state_changed.connect(v.state_changed)
        c.message.connect(self.statusline.set_message)
        c.run_ended.connect(v.run_ended)
        c.errored.connect(self.errored)
        c.runs_changed.connect(self._update_title)
        c.message.connect(lambda *_: self._update_title())  # "saved …" or "opened …": the file may be new
        self.panel.changed.connect(v.panel_changed)
        self.panel.committed.connect(v.panel_committed)
        self.panel.preset_chosen.connect(v.preset_chosen)
        self.runs.selection_changed.connect(c.select)
        self.runs.add_requested.connect(lambda run_id: v.guarded(lambda: c.copy_run(run_id)))
        self.runs.notebook_requested.connect(self.tools.add_notebook_runs)
        self.runs.optimizers_requested.connect(self.tools.add_optimizer_runs)
        self.panel.find_learning_rate_requested.connect(self.tools.find_learning_rate)
        self.runs.remove_requested.connect(c.remove_run)
        self.runs.edit_requested.connect(v.run_edit_requested)
        self.curves.run_visibility_changed.connect(lambda key, on: v.run_edit_requested(int(key), {"visible": on}))
        self.timeline.epoch_changed.connect(v.timeline_moved)
        self.timeline.live_changed.connect(v.timeline_moved)
        self.maps.large_changed.connect(lambda run_id: c.select(run_id) if run_id != -1 else None)

    # ---- intents (also the window's API for app.py and tests) ------------------------------------

    @property
    def model(self):
        return self.controller.model

    @property
    def playing(self) -> bool:
        return self.controller.playing

    @property
    def selected_run_id(self) -> int:
        return self.controller.selected_run_id

    @property
    def epoch(self) -> int:
        """The newest epoch of the selected run that the views show (0 without one)."""
        return self.views.drawn_epoch

    @property
    def status(self) -> str:
        """ready, running, finished or diverged (of the selected run); 'invalid' while a field is invalid."""
        run = self.model.runs.get(self.selected_run_id)
        return "invalid" if self.panel.config() is None else (run.status if run else "ready")

    @property
    def boundary(self) -> BoundaryView:
        """The decision map in focus: the large one when shown, else the selected run's small map."""
        if self.maps.large_run_id != -1 or self.selected_run_id == -1:
            return self.maps.large
        return self.maps.map_view(self.selected_run_id)

    def set_view_mode(self, mode: str) -> None:
        """What the area above the curves shows: "maps", "both" (the network beside them), "network" (in their
        place) or "landscape" (the loss landscape of the runs' paths)."""
        self.inside.set_mode(mode)
        self.view_mode.setCurrentIndex(self.view_mode.findData(mode))
        getattr(self, f"view_{mode}_action").setChecked(True)

    def show_update_sizes(self, on: bool) -> None:
        """Show (or hide) each layer's update size ‖ΔW‖/‖W‖ per epoch beside the curves."""
        self.inside.set_update_sizes(on)
        self.update_sizes_action.setChecked(bool(on))

    def toggle_play(self) -> None:
        """Start, or pause (also a step still training: the button says Pause then)."""
        self.controller.pause() if self.playing or self.controller.worker.active else self.start()

    def start(self) -> None:
        self.panel.flush()
        if self.panel.config() is not None:
            self.controller.play()

    def pause(self) -> None:
        self.controller.pause()

    def step(self) -> None:
        self.panel.flush()
        if self.panel.config() is not None:
            self.controller.step()

    def reset(self) -> None:
        self.panel.flush()
        self.controller.reset()

    def new_comparison(self) -> bool:
        return self.documents.new_comparison()

    def histories(self):
        return self.model.histories()

    def open_session_from(self, path) -> bool:
        return self.documents.open_session_from(path)

    def apply_session(self, session) -> None:
        self.documents.apply_session(session)

    def save_session_to(self, path, histories: bool = False) -> bool:
        return self.documents.save_session_to(path, histories)

    def export_csv_to(self, path) -> bool:
        return self.documents.export_csv_to(path)

    def export_window_to(self, path) -> bool:
        return self.documents.export_window_to(path)

    def export_curves_to(self, path, width: int | None = None) -> bool:
        return self.documents.export_curves_to(self.curves.graphics, path, width)

    def export_map_to(self, path, width: int | None = None) -> bool:
        return self.documents.export_map_to(self.boundary, path, width)

    @property
    def alert(self) -> QMessageBox | None:
        return self.documents.alert

    @property
    def session_path(self) -> Path | None:
        return self.documents.path

    def recent_sessions(self) -> list[str]:
        return self.documents.recent_sessions()

    def open_recent(self, path: str) -> bool:
        return self.documents.open_recent(path)

    def _about(self) -> None:
        QMessageBox.about(
            self, "About nnviz",
            "<b>nnviz</b><br>Watch a small numpy neural network learn a 2-D decision boundary, "
            "and compare training strategies (per-sample SGD, mini-batches, momentum, learning-rate decay) "
            "from the same data and initial weights.<br><br>"
            "Space: start/pause · S or →: one epoch · R: reset · Ctrl+Z: undo a reset<br>"
            "Ctrl+O: open a session · Ctrl+S: save it · Ctrl+Shift+N in the run list: the notebook's four runs")

    def _update_title(self) -> None:
        path = self.documents.path
        self.setWindowTitle("nnviz — watch a neural network learn" + (f" — {path.name}" if path else ""))

    # ---- settings (window_settings.py) -------------------------------------------------------

    def save_settings(self) -> None:
        window_settings.save(self)

    def set_save_settings(self, on: bool) -> None:
        """Scripted runs (--screenshot) leave the user's settings alone and never ask."""
        self._save_settings = on
        if not on:
            self.documents.ask = lambda text: True

    # ---- closing ----------------------------------------------------------------------------

    def force_close(self) -> None:
        """Close without asking (Ctrl-C in the terminal)."""
        self.documents.ask = lambda text: True
        self.close()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if not self.documents.may_discard("quitting"):
            event.ignore()
            return
        self.tools.close_finder()  # stops its pass
        self.sweeps.close_sweep()  # stops a sweep under way
        self.animation.shutdown()  # stops an animation being rendered (nothing written)
        self.inside.landscape.shutdown()
        self.controller.shutdown()
        self.documents.wait_for_tasks()
        if self._save_settings:
            self.save_settings()
        super().closeEvent(event)
