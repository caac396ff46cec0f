"""Inside the network: the network view, the update-size curves and the health banner of the selected run.

They follow what the other views follow (the selected run, the epoch shown or the newest, the live frames),
read the model when they draw and keep no copy of it. Health (dead units, a saturated output) is measured on
the training data; for a network where that costs more than a frame it is measured in a thread of its own,
the newest request first, and shown when it arrives.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from nnviz.core.health import MEASURE_POINTS, measure, remedy_init, warnings
from nnviz.core.text import shorten
from nnviz.gui.landscape_sync import LandscapeSync
from nnviz.gui.network_view import NetworkView
from nnviz.gui.update_view import UpdateSizesView

# What the area above the curves shows: the maps, the network beside them or in their place, or the landscape.
VIEW_MODES = {"maps": "Maps", "both": "Maps and network", "network": "Network", "landscape": "Loss landscape"}
HEALTH_PER_SECOND = 4  # health measured at most this often a second while the selected run trains
SYNC_HEALTH_WORK = 2_000_000  # parameter × point products below which health is measured on the GUI thread
NETWORK_SHARE = 0.3  # the network view may take at most this share of the GUI thread's time while training
# and draws at most this often a second then, as the small maps (the curves: every frame). Its paint costs
# as much as its evaluation (~4 ms for 2-3-4-1): at 25 a second it took a 4-run window below 50 frames/s.
NETWORK_PER_SECOND = 12


class HealthBanner(QFrame):
    """Warnings about the selected run's health in plain words, with a button applying the remedy when one
    is a setting (e.g. init 'he'). Hidden when there is nothing to say."""

    remedy_requested = Signal(str)  # the init scheme to use

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("health_banner")
        self.setStyleSheet("#health_banner { background: #fff4d6; border: 1px solid #e0b44c; border-radius: 3px; }"
                           " QLabel { color: #5c4300; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton()
        self.button.clicked.connect(lambda: self.remedy_requested.emit(self._remedy))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self._remedy = ""
        self.setVisible(False)

    def show_warnings(self, lines: list[str], remedy: str = "") -> None:
        """The warnings (none: hidden); ``remedy``: an init scheme the button switches every run to."""
        text = "\n".join(f"⚠ {line[0].upper()}{line[1:]}." for line in lines)
        if text != self.label.text():
            self.label.setText(text)
        self._remedy = remedy
        self.button.setVisible(bool(remedy))
        if remedy:
            self.button.setText(f"Use init '{remedy}'")
            self.button.setToolTip(f"Every run starts again at epoch 0 from initial weights drawn with "
                                   f"'{remedy}' (the 'init' field of the Network group)")
        self.setVisible(bool(lines))

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class HealthProbe(QObject):
    """Measures health off the GUI thread when it is slow; ``measured(key, Health)`` in the GUI thread."""

    measured = Signal(object, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._wanted = None  # (key, args) of the newest request not yet started
        self._busy = False
        self._lock = threading.Lock()

    def request(self, key, params, layout, activation, X, y) -> None:
        with self._lock:
            self._wanted = (key, (params, layout, activation, X, y))
            if self._busy:
                return  # the thread takes it when it is done
            self._busy = True
        threading.Thread(target=self._run, name="nnviz-health", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                wanted, self._wanted = self._wanted, None
                if wanted is None:
                    self._busy = False
                    return
            key, args = wanted
            try:
                health = measure(*args, MEASURE_POINTS)
            except Exception as exc:  # never a silent dead thread: say so, and let a later frame ask again
                print(f"nnviz: warning: could not measure the network's health ({type(exc).__name__}: "
                      f"{shorten(str(exc), 200)})", file=sys.stderr)
                health = None
            self.measured.emit(key, health)


class InsideViews:
    """Draws the network view, the update sizes and the health banner from the model (see the module).

    ``network``, ``updates`` and ``banner`` are the widgets; ``wrap_maps`` and ``wrap_curves`` place them
    beside the window's maps and curves; ``set_mode`` says where the network view goes (VIEW_MODES)."""

    def __init__(self, window):
        self.w = window
        self.c = window.controller
        self.network = NetworkView()
        self.network.setMinimumSize(220, 160)
        self.updates = UpdateSizesView()
        self.updates.setMinimumSize(220, 160)
        self.landscape = LandscapeSync(window)
        self.banner = HealthBanner()
        self.banner.remedy_requested.connect(self._use_init)
        self.mode = "maps"
        self._maps = None
        self._data = None  # the Dataset the network view was given
        self._health = (None, None)  # (key, Health) last measured: key = (run id, generation, epoch)
        self._health_asked = None  # key of the measure under way
        self._health_at = 0.0
        self._network_cost = 0.0  # seconds the network view took to evaluate last time (its paint: canvas.paint_s)
        self._network_at = 0.0
        self._shown = None  # key of what the views show: (run id, generation, epoch)
        self._shown_args = None  # (params, title) of it
        self.probe = HealthProbe(window)
        self.probe.measured.connect(self._on_measured)

    def wrap_maps(self, maps: QWidget) -> QWidget:
        """The banner above, and the maps beside the network view (a splitter the user can drag)."""
        self._maps = maps
        self.map_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.map_splitter.setObjectName("maps_and_network")
        self.map_splitter.addWidget(maps)
        self.map_splitter.addWidget(self.network)
        self.map_splitter.addWidget(self.landscape.view)
        self.map_splitter.setChildrenCollapsible(False)
        self.map_splitter.setStretchFactor(0, 1)
        self.map_splitter.setStretchFactor(1, 1)
        self.map_splitter.setSizes([600, 500])
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.banner)
        layout.addWidget(self.map_splitter, 1)
        self.set_mode(self.mode)
        return box

    def wrap_curves(self, curves: QWidget) -> QWidget:
        """The curves, and beside them the update sizes (hidden until asked for)."""
        self.curve_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.curve_splitter.setObjectName("curves_and_updates")
        self.curve_splitter.addWidget(curves)
        self.curve_splitter.addWidget(self.updates)
        self.curve_splitter.setChildrenCollapsible(False)
        self.updates.setVisible(False)
        return self.curve_splitter

    def set_mode(self, mode: str) -> None:
        """Where the network view goes: "maps" (not shown), "both" (beside the maps), "network" (in their place)."""
        if mode not in VIEW_MODES:
            raise ValueError(f"view={mode!r}: allowed are {', '.join(VIEW_MODES)}")
        self.mode = mode
        self.network.setVisible(mode in ("both", "network"))
        self.landscape.view.setVisible(mode == "landscape")
        if self._maps is not None:
            self._maps.setVisible(mode in ("maps", "both"))
        if mode in ("maps", "both") and hasattr(self.w, "views"):
            self.w.views.draw_maps(force=True)  # not drawn while hidden
        if mode == "landscape" and hasattr(self.w, "views"):
            self.landscape.show()
        self.draw(force=True)

    def run_ended(self) -> None:
        """Every run has stopped: the landscape's grid is extended over the paths if they left it."""
        if self.landscape.view.isVisibleTo(self.w):
            self.landscape.ended()

    def set_update_sizes(self, on: bool) -> None:
        self.updates.setVisible(bool(on))
        self.draw(force=True)

    def _use_init(self, init: str) -> None:
        self.w.views.guarded(lambda: self.c.set_shared(self.c.shared.replace(init=init)))

    # ---- what the window calls -----------------------------------------------------------------

    def runs_changed(self) -> None:
        if self.landscape.view.isVisibleTo(self.w):
            self.landscape.show()  # a new start: a new plane (the same start: the paths follow)
        data = self.c.model.data
        if data is not self._data:
            self._data = data
            self.network.set_data(data.X, data.y, data.X_test, data.y_test)
        self.draw(force=True)

    def draw(self, force: bool = False, defer_network: bool = False) -> None:
        """The selected run at the epoch shown: its network, update sizes and health. While it trains the
        network view draws at most NETWORK_SHARE of the time, health HEALTH_PER_SECOND times a second;
        ``defer_network`` (this frame is busy already) leaves it to a later call unless ``force``."""
        model = self.c.model
        if not hasattr(self.w, "views"):
            return  # the window is still being built
        run = model.runs.get(self.c.selected_run_id)
        epoch = self.c.shown_epoch
        found = None if run is None else model.params_at(run.id, epoch)
        if self.landscape.view.isVisibleTo(self.w):
            self.landscape.follow(force)  # every run's path, whichever is selected (or none)
        if run is None or found is None:
            self.network.clear()
            self.updates.show_run(None, "", "#000000", model.shared.shape)
            self.banner.show_warnings([])
            return
        shown, params = found
        now = time.perf_counter()
        key = (run.id, run.generation, shown)
        if force or now - self._health_at >= 1 / HEALTH_PER_SECOND:
            self._ask_health(key, params)
        self._shown = key
        self._shown_args = (params, f"“{shorten(run.spec.name, 40)}” — epoch {shown:,}")
        every = max((self._network_cost + self.network.canvas.paint_s) / NETWORK_SHARE, 1 / NETWORK_PER_SECOND)
        if self.network.isVisibleTo(self.w) and (force or (not defer_network and now - self._network_at >= every)):
            self._draw_network(key, *self._shown_args)
        if self.updates.isVisibleTo(self.w):
            self.updates.show_run(run.update_sizes, run.spec.name, run.spec.colour, model.shared.shape)
            self.updates.refresh()
            self.updates.set_marker(epoch)

    def _draw_network(self, key, params, title: str) -> None:
        # The health of this run's newest measure (its hover says which epoch that was), none of another run's.
        model = self.c.model
        health = self._health[1] if self._health[0] is not None and self._health[0][:2] == key[:2] else None
        started = time.perf_counter()
        self.network.show_network(params, model.layout, model.shared.activation, health, title)
        self._network_at = time.perf_counter()
        self._network_cost = self._network_at - started

    def health(self):
        """The Health the banner and the network view show now (None until measured)."""
        return self._health[1]

    # ---- health ----------------------------------------------------------------------------------

    def _ask_health(self, key, params) -> None:
        model = self.c.model
        self._health_at = time.perf_counter()
        if key == self._health[0] or key == self._health_asked:
            return
        if key[2] == 0 and model.start.health is not None:
            self._on_measured(key, model.start.health)
            return
        data = model.data
        if model.layout.size * min(len(data.X), MEASURE_POINTS) <= SYNC_HEALTH_WORK:
            self._on_measured(key, measure(params, model.layout, model.shared.activation, data.inputs, data.y,
                                           MEASURE_POINTS))
            return
        self._health_asked = key
        self.probe.request(key, params, model.layout, model.shared.activation, data.inputs, data.y)

    def _on_measured(self, key, health) -> None:
        if key == self._health_asked:
            self._health_asked = None
        if health is None:  # the measure failed: the banner stays as it was, a later frame asks again
            return
        health = dataclasses.replace(health, epoch=key[2])
        model = self.c.model
        run = model.runs.get(self.c.selected_run_id)
        if run is None or key[:2] != (run.id, run.generation) or tuple(health.shape) != tuple(model.shared.shape):
            return  # measured for a run no longer shown (or a network since changed)
        self._health = (key, health)
        lines = warnings(health, model.shared.init, key[2], model.start.health)
        remedy = remedy_init(health.activation)
        self.banner.show_warnings(lines, remedy if any(line.endswith(f"try init '{remedy}'") for line in lines)
                                  else "")
        if key == self._shown and self.network.isVisibleTo(self.w):
            self._draw_network(key, *self._shown_args)  # the hover's shares now: measured after the view drew
