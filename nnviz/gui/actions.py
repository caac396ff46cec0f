"""The window's actions (with their shortcuts and tooltips) and its menus."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle

# Speed choices: label -> epochs per second (None: as fast as possible). The default lets the notebook's
# sgd run (150 epochs) animate for about 3 s; "as fast as possible" is one choice away.
SPEEDS = {"as fast as possible": None, "1000 epochs/s": 1000, "300 epochs/s": 300, "100 epochs/s": 100,
          "50 epochs/s": 50, "30 epochs/s": 30, "10 epochs/s": 10, "3 epochs/s": 3, "1 epoch/s": 1}
DEFAULT_SPEED = "50 epochs/s"


class Actions:
    """Every QAction of the window; ``handlers`` maps an action's name to the slot it triggers."""

    def __init__(self, window: QMainWindow, handlers: dict):
        self.window = window
        style = window.style()

        def action(name, text, shortcut=None, tip="", icon=None, window_wide=False):
            act = QAction(text, window)
            act.setObjectName(name)
            if icon is not None:
                act.setIcon(style.standardIcon(icon))
            if shortcut is not None:
                shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
                act.setShortcuts([QKeySequence(s) for s in shortcuts])
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in act.shortcuts())
            act.setToolTip(f"{tip or text.replace('&', '')}" + (f" ({keys})" if keys else ""))
            act.triggered.connect(lambda _checked=False: handlers[name]())
            if window_wide:
                act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                window.addAction(act)
            setattr(self, name, act)
            return act

        self._state: tuple | None = None  # what set_state last enabled the actions for
        pixmap = QStyle.StandardPixmap
        action("start_action", "Start", Qt.Key.Key_Space, "Start or pause training of every run",
               pixmap.SP_MediaPlay, True)
        action("step_action", "Step", [Qt.Key.Key_S, Qt.Key.Key_Right], "Train exactly one epoch of every run",
               pixmap.SP_MediaSkipForward, True)
        action("reset_action", "Reset", Qt.Key.Key_R,
               "Every run back to epoch 0: the same data and initial weights", pixmap.SP_BrowserReload, True)
        action("undo_action", "&Undo", QKeySequence.StandardKey.Undo,
               "Bring back the epochs the last reset or restart threw away", window_wide=True)
        action("quit_action", "&Quit", "Ctrl+Q")
        action("about_action", "&About nnviz")
        action("new_action", "&New comparison", "Ctrl+N", "One run of the sgd preset, at epoch 0")
        action("open_action", "&Open session…", QKeySequence.StandardKey.Open)
        action("open_data_action", "Open &data…", "Ctrl+Shift+I",
               "Train on your own points: a CSV file of two feature columns and a label column")
        action("export_data_action", "&Export data as CSV…", tip="The training and test points with their labels")
        action("save_action", "&Save session", QKeySequence.StandardKey.Save)
        action("save_as_action", "Save session &as…", "Ctrl+Shift+S")
        action("save_histories_action", "Save session with &histories…",
               tip="Also write every run's per-epoch history (the curves)")
        action("export_csv_action", "Histories as &CSV…")
        action("export_settings_action", "Run &settings as CSV…",
               tip="Every run's settings, one row per run (optimizer and shared settings included)")
        action("export_window_action", "The &window as PNG…")
        action("export_curves_action", "The c&urves as PNG…")
        action("export_map_action", "The decision &map as PNG…")
        action("export_animation_action", "The training as an &animation…",
               tip="The decision maps (and cost curves) of the shown runs over the epochs trained, as GIF, MP4 or WebM")
        # The view: the maps, the maps beside the selected run's network, or the network in their place.
        self.view_group = QActionGroup(window)
        for name, text, key, tip in (
                ("view_maps_action", "&Maps", "Ctrl+1", "The decision maps of every run"),
                ("view_both_action", "Maps &and network", "Ctrl+2",
                 "The maps, and beside them the selected run's network: every unit's output over the plane"),
                ("view_network_action", "&Network", "Ctrl+3",
                 "The selected run's network in place of the maps: every unit's output over the plane"),
                ("view_landscape_action", "&Loss landscape", "Ctrl+4",
                 "The cost over the plane of the runs' paths from their common start, every run's path on it")):
            act = action(name, text, key, tip, window_wide=True)
            act.setCheckable(True)
            self.view_group.addAction(act)
        action("seeds_summary_action", "&Seeds summary", "Ctrl+Shift+K",
               "Per run, over its seeds: the final cost median and 10–90 % spread, the final accuracy, and the "
               "share of seeds that diverged or missed a target cost (set Seeds above 1 in the panel)",
               window_wide=True)
        action("sweep_action", "S&weep…", "Ctrl+Shift+G",
               "Train the selected run over a grid of one or two of its settings (× seeds): a heat map of the "
               "final cost, click a cell to add that run", window_wide=True)
        action("update_sizes_action", "&Update sizes", "Ctrl+U",
               "Beside the curves: each layer's update size ‖ΔW‖/‖W‖ per epoch for the selected run",
               window_wide=True).setCheckable(True)

    def build_menus(self, run_actions: list[QAction]) -> QMenu:
        """File, Edit, Run and Help menus; returns the recent-sessions menu (filled when it opens)."""
        bar = self.window.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.open_action)
        recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addSeparator()
        file_menu.addAction(self.open_data_action)
        file_menu.addAction(self.export_data_action)
        file_menu.addSeparator()
        for act in (self.save_action, self.save_as_action, self.save_histories_action):
            file_menu.addAction(act)
        file_menu.addSeparator()
        self.export_menu = file_menu.addMenu("&Export")
        for act in (self.export_csv_action, self.export_settings_action, self.export_window_action,
                    self.export_curves_action, self.export_map_action, self.export_animation_action):
            self.export_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        view_menu = bar.addMenu("&View")
        for act in (self.view_maps_action, self.view_both_action, self.view_network_action,
                    self.view_landscape_action):
            view_menu.addAction(act)
        view_menu.addSeparator()
        view_menu.addAction(self.update_sizes_action)
        view_menu.addAction(self.seeds_summary_action)
        run_menu = bar.addMenu("&Run")
        for act in (self.start_action, self.step_action, self.reset_action, *run_actions):
            run_menu.addAction(act)
        run_menu.addSeparator()
        run_menu.addAction(self.sweep_action)
        bar.addMenu("&Help").addAction(self.about_action)
        self.recent_menu = recent_menu
        return recent_menu

    def set_state(self, playing: bool, valid: bool, ended: bool, busy: bool, can_undo: bool,
                  stepping: bool = False) -> None:
        """Enable the run actions for the state (touched only when it changed: a new text or icon on every
        frame would relayout the tool bar 60 times a second). While a step trains, Start reads Pause (it
        stops the step) and Step waits for it."""
        state = (playing, valid, ended, busy, can_undo, stepping)
        if self._state == state:
            return
        self._state = state
        playing = playing or stepping
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.start_action.setText("Pause" if playing else "Start")
        self.start_action.setIcon(self.window.style().standardIcon(icon))
        self.start_action.setEnabled(playing or (valid and not busy))
        self.step_action.setEnabled(valid and not ended and not busy and not stepping)
        self.reset_action.setEnabled(valid and not busy)
        self.undo_action.setEnabled(can_undo)
