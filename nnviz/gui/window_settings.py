"""What the window remembers between starts (QSettings): its geometry and view choices, and the whole comparison."""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings

from nnviz.core.comparison import TRAINING_FIELDS, RunSpec, SharedSettings, preset_run, preset_shared
from nnviz.core.seeds import SeedSettings
from nnviz.core.session import SessionError, parse_session, session_text
from nnviz.core.training import FIELDS, TrainConfig, load_presets
from nnviz.gui.curves import X_AXES
from nnviz.gui.inside_views import VIEW_MODES
from nnviz.gui.panel_forms import matching_presets

DEFAULT_SIZE = (1480, 900)
# A user's points are remembered with the last comparison up to this many (4 MB of settings); more would slow every
# start: the next start then shows the notebook's data (the points stay in the user's file and sessions).
MAX_REMEMBERED_POINTS = 100_000


def comparison_of_config(config: TrainConfig) -> tuple[SharedSettings, list[RunSpec]]:
    """The shared settings and the one run of a TrainConfig (named after its preset, else "run")."""
    spec = preset_run("sgd").replace(**{f: getattr(config, f) for f in TRAINING_FIELDS})
    names = matching_presets(config, load_presets())
    return SharedSettings.from_config(config), [spec.replace(name=names[0] if names else "run")]


def initial_comparison(settings: QSettings, config: TrainConfig | None,
                       restore: bool) -> tuple[SharedSettings, list[RunSpec]]:
    """The comparison a window opens with: ``config``'s, else (with ``restore``) the one open at the last close
    (older versions kept one run's parameters), else the sgd preset's."""
    if config is not None:
        return comparison_of_config(config)
    if restore:
        text = settings.value("session/last")
        if text:
            try:
                session = parse_session(str(text), "the last comparison")
                if session.runs:
                    return session.shared, list(session.runs)
            except SessionError:
                pass  # an old or damaged entry: fall back to the parameters, then the preset
        values = settings.value("run/parameters")
        if values:
            try:
                fields = json.loads(values)
                return comparison_of_config(TrainConfig(**{k: v for k, v in fields.items() if k in FIELDS}))
            except (ValueError, TypeError):
                pass
    return comparison_of_config(TrainConfig(**load_presets()["sgd"]))


def last_seeds(settings: QSettings, config: TrainConfig | None, restore: bool) -> SeedSettings | None:
    """The seed settings of the comparison open at the last close, when the window reopens it (None: one seed)."""
    if config is not None or not restore:
        return None
    try:
        seeds = parse_session(str(settings.value("session/last") or ""), "the last comparison").seeds
    except SessionError:
        return None
    return None if seeds == SeedSettings() else seeds


def restore_view(window) -> None:
    """The window's geometry, splitter and view choices as they were at the last close."""
    s = window.settings
    geometry = s.value("window/geometry")
    if geometry is None or not window.restoreGeometry(geometry):
        window.resize(*DEFAULT_SIZE)
    splitter = s.value("window/splitter")
    if splitter is not None:
        window.splitter.restoreState(splitter)
    window.discretize.setChecked(s.value("view/discretize", False, type=bool))
    window.curves.set_log_cost(s.value("view/log_cost", False, type=bool))
    x_axis = s.value("view/x_axis", "epoch")
    window.curves.set_x_axis(x_axis if x_axis in X_AXES else "epoch")
    mode = s.value("view/network", "maps")
    window.set_view_mode(mode if mode in VIEW_MODES else "maps")
    window.show_update_sizes(s.value("view/update_sizes", False, type=bool))
    window.network.set_show_all(s.value("view/network_show_all", False, type=bool))
    for key, splitter in (("window/maps_and_network", window.inside.map_splitter),
                          ("window/curves_and_updates", window.inside.curve_splitter)):
        state = s.value(key)
        if state is not None:
            splitter.restoreState(state)


def save(window) -> None:
    """Remember the window's geometry and view choices, and the whole comparison (settings, not epochs)."""
    s = window.settings
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/splitter", window.splitter.saveState())
    s.setValue("run/speed", window.speed.currentText())
    s.setValue("view/discretize", window.discretize.isChecked())
    s.setValue("view/log_cost", window.curves.log_cost)
    s.setValue("view/x_axis", window.curves.x_axis)
    s.setValue("view/network", window.inside.mode)
    s.setValue("view/update_sizes", window.update_sizes_action.isChecked())
    s.setValue("view/network_show_all", window.network.show_all)
    s.setValue("window/maps_and_network", window.inside.map_splitter.saveState())
    s.setValue("window/curves_and_updates", window.inside.curve_splitter.saveState())
    shared = window.model.shared
    if shared.points is not None and len(shared.points) > MAX_REMEMBERED_POINTS:
        notebook = preset_shared()  # too big for the settings: the notebook's data, every other setting kept
        shared = shared.replace(dataset=notebook.dataset, n_samples=notebook.n_samples, noise=notebook.noise,
                                points=None, keep_order=False)
    s.setValue("session/last", session_text(shared, window.model.specs(), seeds=window.controller.seed_settings))
    s.sync()
