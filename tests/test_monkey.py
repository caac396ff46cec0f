"""A GUI monkey test: thousands of random user actions on the real window, with events processed between them.

Every control is used: Start/Pause (Space), Step (S, →), Reset (R), Undo (Ctrl+Z), the speed and the
discretize box, every field of the panel typed with valid and invalid text (empty, letters, 1e400, "full",
huge numbers), the combo boxes, the buttons, the learning-rate slider; the run list (Add, Notebook runs,
Remove, rename, colour, visibility, selection); the timeline scrubbed and Live; the small maps clicked and
Esc; the curves' x axis and log cost; sessions saved (with and without histories) and opened, malformed
files included, in a temporary folder; exports; New comparison; the window closed and reopened with the
same QSettings.

It fails on:
- any exception in a Qt slot, a virtual method or a Python callback (pytest-qt's capture, per action);
- a failed training worker (``errored``) or a data set that could not be prepared for valid settings;
- a Qt message about threads or objects ("QThread", "thread", "QObject::", "Cannot");
- a save or an export to the temporary folder that fails, a malformed session that opens;
- a worker QThread still running once the windows are closed, or a closed window never freed;
- resident memory (/proc/self/statm, after gc and malloc_trim) growing more than RSS_BOUND_MB between the
  end of the warm-up (the first WARMUP_ACTIONS actions) and the end of the run (not shrunk: replays do
  not measure memory; the seed and the action count replay it).

Environment: NNVIZ_MONKEY_SEED (default 8), NNVIZ_MONKEY_ACTIONS (default 300: CI stays well under a minute),
NNVIZ_MONKEY_REPLAY (a JSON file of actions to replay instead, as printed on a failure),
NNVIZ_MONKEY_SHRINK_SECONDS (time allowed to shrink a failing sequence, default 150).
The actions are a function of the seed alone (the first N of one stream), so a failure at action k
replays with NNVIZ_MONKEY_ACTIONS=k+1. On a failure the sequence is shrunk (prefix, then chunks dropped,
each candidate replayed in a fresh window) and the shortest one still failing is printed and saved.
"""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import json
import os
import random
import re
import tempfile
import threading
import time
import traceback
import weakref
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QSettings, Qt, qInstallMessageHandler
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QMessageBox

SEED = int(os.environ.get("NNVIZ_MONKEY_SEED", "8"))
N_ACTIONS = int(os.environ.get("NNVIZ_MONKEY_ACTIONS", "300"))
REPLAY = os.environ.get("NNVIZ_MONKEY_REPLAY", "")
SHRINK_SECONDS = float(os.environ.get("NNVIZ_MONKEY_SHRINK_SECONDS", "150"))
VERBOSE = os.environ.get("NNVIZ_MONKEY_VERBOSE", "") not in ("", "0")  # print each action and the state after it
RSS_BOUND_MB = 150  # resident memory may grow this much from the end of the warm-up to the end
WARMUP_ACTIONS = 200
WINDOW_SIZE = (1200, 800)
MAX_RUNS = 6  # Add and Notebook runs stop here (the run list itself has no limit)
SETTLE_TIMEOUT_MS = 60000  # the data a user asked for is prepared within this (1,000,000 points included)
# An action (a settle included) that has not returned by then is a frozen window.
ACTION_TIMEOUT_S = int(os.environ.get("NNVIZ_MONKEY_ACTION_TIMEOUT", "180"))
THREAD_WORDS = re.compile(r"QThread|thread|QObject::|Cannot", re.IGNORECASE)

# ---- the actions: names and JSON arguments drawn from the seed alone -----------------------------------

INVALID = ["", "abc", "1e400", "full", "-1", "0", "9" * 40, "nan", "inf", "1,5", "１２", "0x10", "1e-400", " 3 ",
           "-0", "2.5", "1e308", "∞", "12a"]
FIELDS = {  # field: (small valid texts, big texts typed once and then set back)
    "n_samples": (["40", "100", "200", "256", "500", "96", "7"], ["100000", "1000000", "250000"]),
    "noise": (["0", "0.1", "0.25", "0.5"], ["1000000"]),
    "test_fraction": (["0", "0.2", "0.5", "0.9"], []),
    "data_seed": (["0", "1", "1337", "42"], ["4294967295", "18446744073709551616"]),
    "hidden": (["3,4", "8", "16,16", "4", "", "2,2"], ["64,64,64", "256,256", "1000"]),
    "init_seed": (["0", "1234", "7"], ["4294967295"]),
    "learning_rate": (["0.01", "0.1", "0.03", "1", "100", "0.5"], ["1e300"]),
    "batch_size": (["1", "32", "8", "full", "500"], ["1000000", "999999999999"]),
    "momentum": (["0", "0.9", "0.5", "0.99"], []),
    "gamma": (["0", "0.015", "0.1"], []),
    "step_every": (["1", "10", "50"], ["1000000000"]),
    "step_factor": (["0.5", "0.1", "0.9"], []),
    "l2": (["0", "0.001", "0.1"], []),
    "epochs": (["5", "20", "40", "100"], ["10000000"]),
}
RESTORE = {"n_samples": "200", "hidden": "8,8", "epochs": "30", "noise": "0.1", "data_seed": "1",
           "init_seed": "1234", "learning_rate": "0.05", "batch_size": "8", "step_every": "10"}
NAMES = ["a", "sgd", "run", "decay", "mini-batch", "momentum", "", "   ", "x" * 61, "tab\there", "ünïcødé ✓",
         "sgd (2)", "z" * 60]
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ffffff", "#fefefe", "#f8f8f8", "#zzzzzz", "", "#123",
           "red", "#000000"]
KEYS = ["space", "space", "s", "right", "r", "ctrl+z", "escape", "tab", "home", "end"]
MALFORMED = ["garbage", "empty", "truncated", "list", "huge_int", "nan", "negative", "dir", "missing",
             "huge_history", "unknown_key"]

WEIGHTS = {
    "key": 14, "trigger": 8, "type": 24, "combo": 7, "speed": 2, "discretize": 1, "layers": 3, "seed_button": 2,
    "full_batch": 2, "lr_slider": 3, "add": 3, "notebook": 1, "remove": 2, "rename": 2, "colour": 2,
    "visible": 3, "select": 4, "timeline": 5, "maps": 4, "curves": 3, "save": 2, "open": 2, "open_bad": 1,
    "export": 2, "new": 1, "reopen": 1, "run": 4, "settle": 2, "resize": 1, "view": 4, "sweep": 2,
    "features": 2, "data": 2, "draw": 5,
}
DRAW_ACTIONS = ["toggle", "toggle", "click", "click", "right", "shift", "drag", "class", "eraser", "clear", "undo",
                "escape"]
DATA_ACTIONS = ["open", "open", "open_rescaled", "open_kept", "open_bad", "export", "keep_order"]
VIEWS = ["view_maps_action", "view_both_action", "view_network_action", "view_landscape_action", "update_sizes_action",
         "show_all", "unit",
         "unit", "hover", "banner", "finder", "refit", "seeds", "summary", "shown"]


def _args(rng: random.Random, name: str) -> list:
    if name == "key":
        return [rng.choice(KEYS), rng.choice(["maps", "maps", "focus"])]
    if name == "trigger":
        return [rng.choice(["start_action", "step_action", "reset_action", "undo_action"])]
    if name == "type":
        field = rng.choice(list(FIELDS))
        small, big = FIELDS[field]
        roll = rng.random()
        text = rng.choice(big) if roll < 0.06 and big else rng.choice(INVALID) if roll < 0.35 else rng.choice(small)
        return [field, text, rng.choice(["enter", "tab", "none", "none"])]
    if name == "combo":
        return [rng.choice(["dataset", "activation", "init", "optimizer", "update_order", "schedule", "preset"]),
                rng.randrange(8)]
    if name == "speed":
        return [rng.randrange(12)]
    if name == "layers":
        return [rng.choice([1, -1])]
    if name == "seed_button":
        return [rng.choice(["new_data", "new_weights"])]
    if name == "lr_slider":
        return [rng.randrange(0, 501)]
    if name in ("remove", "select"):
        return [rng.randrange(8)]
    if name == "rename":
        return [rng.randrange(8), rng.choice(NAMES)]
    if name == "colour":
        return [rng.randrange(8), rng.choice(COLOURS)]
    if name == "visible":
        return [rng.randrange(8), rng.random() < 0.5]
    if name == "timeline":
        kind = rng.choice(["epoch", "epoch", "live", "button", "key"])
        return [kind, round(rng.random(), 3) if kind == "epoch" else
                rng.choice(["Home", "End", "Left", "Right", "PageUp", "PageDown"]) if kind == "key" else None]
    if name == "maps":
        return [rng.choice(["click", "click", "escape", "back"]), rng.randrange(8)]
    if name == "curves":
        return [rng.choice(["x_axis", "log"]), rng.randrange(6)]
    if name == "save":
        return [rng.randrange(3), rng.random() < 0.5]
    if name == "open":
        return [rng.randrange(4)]
    if name == "open_bad":
        return [rng.choice(MALFORMED)]
    if name == "export":
        return [rng.choice(["csv", "window", "curves", "map"]), rng.randrange(200, 601)]
    if name == "run":
        return [rng.randrange(50, 800)]
    if name == "view":
        return [rng.choice(VIEWS), rng.randrange(64), rng.randrange(300)]
    if name == "sweep":
        return [rng.randrange(64), rng.randrange(300)]
    if name == "features":
        return [rng.randrange(7)]
    if name == "draw":
        return [rng.choice(DRAW_ACTIONS), round(rng.random(), 3), round(rng.random(), 3)]
    if name == "data":
        return [rng.choice(DATA_ACTIONS)]
    if name == "resize":
        return [rng.choice([[900, 600], [1200, 800], [1000, 700], [1480, 900]])]
    return []


def action_stream(seed: int):
    """An endless stream of [name, args, wait_ms]; a big typed value is set back by the action after it."""
    rng = random.Random(seed)
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    while True:
        name = rng.choices(names, weights)[0]
        args = _args(rng, name)
        yield [name, args, rng.randrange(0, 31)]
        if name == "type" and args[1] in FIELDS[args[0]][1]:
            yield ["type", [args[0], RESTORE.get(args[0], FIELDS[args[0]][0][0]), "enter"], rng.randrange(0, 301)]


def plan(seed: int, n: int) -> list[list]:
    stream = action_stream(seed)
    return [next(stream) for _ in range(n)]


def trim_heap() -> None:
    """Give freed heap pages back to the system (glibc keeps them after a big data set is dropped), so the RSS
    compares what is live, not the high-water mark of a million points built once."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Watchdog:
    """A frozen GUI thread cannot report itself: past ACTION_TIMEOUT_S in one action, this thread prints the
    action, the command that replays it and every thread's stack, then ends the process."""

    def __init__(self, origin: str, stream):
        self.origin = origin
        self.stream = stream  # the terminal's stderr (pytest's capture would be lost with the process)
        self.action: tuple | None = None  # (index, action, started)
        self.actions: list | None = None  # the sequence played (a candidate while shrinking)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="monkey-watchdog", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            current = self.action
            if current is not None and time.monotonic() - current[2] > ACTION_TIMEOUT_S:
                i, action = current[:2]
                out = self.stream
                out.write(f"\nmonkey ({self.origin}): action {i} {json.dumps(action, ensure_ascii=False)} has not "
                          f"returned in {ACTION_TIMEOUT_S} s: the window is frozen.\n")
                if self.actions is not None:
                    out.write(f"replay with NNVIZ_MONKEY_REPLAY=FILE holding:\n"
                              f"{json.dumps(self.actions[: i + 1], ensure_ascii=False)}\n")
                out.flush()
                faulthandler.dump_traceback(out, all_threads=True)
                out.flush()
                os._exit(3)


WATCHDOG: Watchdog | None = None


class MonkeyFailure(Exception):
    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail

    @property
    def signature(self) -> str:
        """What the shrinking must keep failing on: the kind and the first line, numbers aside."""
        return self.kind + ":" + re.sub(r"[0-9]+", "N", self.detail.strip().splitlines()[-1])[:80]


# ---- the runner -----------------------------------------------------------------------------------------

class Monkey:
    """Plays a list of actions on a fresh window (fresh QSettings and folder); raises MonkeyFailure."""

    def __init__(self, qtbot, folder: Path, measure: bool = False):
        self.qtbot, self.folder = qtbot, folder
        self.settings = QSettings(str(folder / "nnviz.ini"), QSettings.Format.IniFormat)
        self.measure = measure
        self.window = None
        self.closed: list[weakref.ref] = []
        self.problems: list[tuple[str, str]] = []
        self.qt_messages: list[str] = []
        self.alerts: list[str] = []
        self.rss: dict[str, float] = {}
        self.done = 0  # actions played

    # ---- windows ----

    def open_window(self, config=None) -> None:
        """A shown window whose comparison is ready, as conftest's make_window makes it, but kept by nobody
        else: the fixture holds every window it made until the test ends, and here a closed window must be
        freed (the leak check, the RSS bound)."""
        from helpers import ready

        from nnviz.gui.main_window import MainWindow

        window = MainWindow(config, settings=self.settings, confirm=False)
        window.resize(*WINDOW_SIZE)
        window.show()
        self.qtbot.waitUntil(lambda: ready(window), timeout=30000)
        self.qtbot.wait(100)
        window.errored.connect(lambda text: self.problems.append(("worker errored", text)))
        window.controller.message.connect(self._on_message)
        self.window = window

    def _on_message(self, text: str, kind: str) -> None:
        if text.startswith("could not prepare"):
            self.problems.append(("data not prepared", text))

    def close_window(self) -> None:
        window, self.window = self.window, None
        if window is None:
            return
        self._close_alert(window)
        window.close()
        window.controller.jobs.wait(30)  # no preparation thread outlives the window
        window.deleteLater()
        self.closed.append(weakref.ref(window))
        del window
        self.flush_deletes()

    def flush_deletes(self) -> None:
        for _ in range(3):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            QCoreApplication.processEvents()
        gc.collect()

    def _close_alert(self, window) -> None:
        box = window.documents.alert
        if box is not None and box.isVisible():
            self.alerts.append(box.text())
            ok = box.button(QMessageBox.StandardButton.Ok)
            ok.click() if ok is not None else box.close()

    # ---- play ----

    def play(self, actions: list[list], first_config) -> None:
        previous = qInstallMessageHandler(self._qt_message)
        try:
            with self.qtbot.captureExceptions() as exceptions:
                self.exceptions = exceptions
                self._play(actions, first_config)
        finally:
            qInstallMessageHandler(previous)
        if exceptions:
            raise MonkeyFailure("exception", "".join(traceback.format_exception(*exceptions[0])))

    def _qt_message(self, kind, context, text) -> None:
        self.qt_messages.append(text)
        if THREAD_WORDS.search(text):
            self.problems.append(("Qt message", text))

    def _play(self, actions, first_config) -> None:
        from nnviz.gui.worker import worker_threads

        if WATCHDOG is not None:
            WATCHDOG.actions = actions
        self.open_window(first_config)
        warmup = min(WARMUP_ACTIONS, len(actions) // 2)
        for i, (name, args, wait) in enumerate(actions):
            if self.measure and i == warmup:
                self.rss["warm-up"] = self.settled_rss()
            if WATCHDOG is not None:
                WATCHDOG.action = (i, [name, args, wait], time.monotonic())
            try:
                getattr(self, "do_" + name)(*args)
            except MonkeyFailure:
                raise
            except Exception:
                self.problems.append(("exception", traceback.format_exc()))
            self.qtbot.wait(wait)
            if self.window is not None:
                self._close_alert(self.window)
            self.done = i + 1
            if VERBOSE:
                self.print_state(i, name, args)
            self.check()
        if self.measure:
            self.rss["end"] = self.settled_rss()
        self.close_window()
        self.qtbot.wait(50)
        self.check()
        running = [t for t in worker_threads() if t.isRunning()]
        if running:
            raise MonkeyFailure("thread", f"{len(running)} worker QThread(s) still running after the window closed")
        alive = sum(ref() is not None for ref in self.closed)
        if alive:
            raise MonkeyFailure("leak", f"{alive} of {len(self.closed)} closed windows never freed")
        if self.measure and "warm-up" in self.rss:
            growth = self.rss["end"] - self.rss["warm-up"]
            if growth > RSS_BOUND_MB:
                raise MonkeyFailure("memory", f"RSS grew {growth:.0f} MB (bound {RSS_BOUND_MB} MB): {self.rss}")

    def print_state(self, i: int, name: str, args) -> None:
        w = self.window
        if w is None:
            return
        state = (f"runs {len(w.model)} epoch {w.epoch} sel {w.selected_run_id} playing {w.playing} "
                 f"busy {w.controller.busy!r} n {w.model.shared.n_samples} shape {w.model.shared.shape} "
                 f"large {w.maps.large_run_id} shown {w.controller.shown_epoch} rss {rss_mb():.0f} | "
                 f"{w.message.text()[:70]}")
        os.write(1, f"{i:5d} {name} {json.dumps(args, ensure_ascii=False)[:60]} -> {state}\n".encode())

    def check(self) -> None:
        if self.exceptions:
            raise MonkeyFailure("exception", "".join(traceback.format_exception(*self.exceptions[0])))
        if self.problems:
            raise MonkeyFailure(*self.problems[0])

    def settled_rss(self) -> float:
        self.do_settle()
        self.flush_deletes()
        trim_heap()
        return rss_mb()

    # ---- helpers ----

    @property
    def w(self):
        if self.window is None:
            self.open_window()
        return self.window

    def run_id(self, index: int) -> int | None:
        ids = [run_id for run_id, _ in self.w.runs.runs()]
        return ids[index % len(ids)] if ids else None

    def key(self, widget, name: str) -> None:
        keys = {"space": Qt.Key.Key_Space, "s": Qt.Key.Key_S, "right": Qt.Key.Key_Right, "r": Qt.Key.Key_R,
                "escape": Qt.Key.Key_Escape, "tab": Qt.Key.Key_Tab, "home": Qt.Key.Key_Home, "end": Qt.Key.Key_End}
        if name == "ctrl+z":
            self.qtbot.keyClick(widget, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        else:
            self.qtbot.keyClick(widget, keys[name])

    def type_text(self, widget, text: str) -> None:
        """Keys typed (QTest's keyClicks knows ASCII only: other characters come as key events with their text)."""
        for char in text:
            if char.isascii() and char.isprintable():
                self.qtbot.keyClicks(widget, char)
                continue
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QCoreApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))

    # ---- actions (do_NAME(*args)) ----

    def do_key(self, name: str, where: str) -> None:
        w = self.w
        if where == "maps":
            w.maps.setFocus()
        self.key(w.focusWidget() or w, name)

    def do_trigger(self, name: str) -> None:
        action = getattr(self.w, name)
        if action.isEnabled():  # a disabled button cannot be clicked
            action.trigger()

    def do_type(self, field: str, text: str, end: str) -> None:
        edit = self.w.panel.fields[field].edit
        if not edit.isEnabled() or not edit.isVisible():
            return  # greyed (noise for 'hard', batch with full batch) or hidden (an unused schedule's field)
        edit.setFocus()
        self.qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        self.qtbot.keyClick(edit, Qt.Key.Key_Backspace)
        self.type_text(edit, text)
        if end == "enter":
            self.qtbot.keyClick(edit, Qt.Key.Key_Return)
        elif end == "tab":
            self.qtbot.keyClick(edit, Qt.Key.Key_Tab)

    def do_combo(self, which: str, index: int) -> None:
        panel = self.w.panel
        combo = getattr(panel, which)
        index %= combo.count()
        combo.setCurrentIndex(index)  # as a user's choice: the index changes, then 'activated'
        combo.activated.emit(index)

    def do_speed(self, index: int) -> None:
        self.w.speed.setCurrentIndex(index % self.w.speed.count())

    def do_discretize(self) -> None:
        self.w.discretize.click()

    def do_view(self, kind: str, index: int, unit: int) -> None:
        """The network view: where it goes, update sizes, show all, a unit opened large or hovered, the remedy."""
        w, net = self.w, self.w.network
        if kind.endswith("_action"):
            getattr(w, kind).trigger()
        elif kind == "show_all":
            net.set_show_all(not net.show_all)
        elif kind == "banner":
            if w.health_banner.button.isVisible():
                w.health_banner.button.click()
        elif kind == "finder":  # Find α opened, then closed while it runs or after (unit: which)
            w.tools.find_learning_rate()
            dialog = w.tools.finder()  # (a message box may be open too)
            if dialog is not None:
                QCoreApplication.processEvents()
                if unit % 2:
                    dialog.apply_button.click()
                dialog.close()
        elif kind == "seeds":  # the Seeds control set to 1, 2 or 3 (training them in the background)
            w.panel.seeds.count.setValue(1 + unit % 3)
            w.panel.seeds.kind.setCurrentIndex(index % w.panel.seeds.kind.count())
        elif kind == "summary":
            w.seeds_summary_action.trigger()
        elif kind == "shown":  # the maps show another of the seeds (restarting the live runs from its start)
            w.panel.seeds.shown.setValue(1 + unit % w.panel.seeds.count.value())
        elif kind == "refit":
            if w.inside.landscape.view.isVisible():
                w.inside.landscape.view.refit_button.click()
        elif net.isVisible() and net.shown_units():
            layer = index % len(net.shown_units())
            shown = net.shown_unit_indices(layer)
            if shown:
                chosen = shown[unit % len(shown)]
                if kind == "unit":
                    net.open_unit(layer, chosen)
                else:
                    net.hover_text(net.unit_rect(layer, chosen).center())

    def do_sweep(self, index: int, unit: int) -> None:
        """The sweep window opened; a 2- or 3-cell sweep run, cancelled, the window closed, or a cell added."""
        sw = self.w.sweeps.open_sweep()
        if sw is None:
            return
        QCoreApplication.processEvents()
        what = unit % 4
        if what == 0 and not sw.running:
            sw.form.x.fill("learning_rate", 0.01, 0.3, "log", 2 + index % 2)
            sw.form.y.fill(None)
            sw.run_button.click()
        elif what == 1:
            sw.cancel_button.click()
        elif what == 2:
            sw.close()
        elif sw.study is not None and sw.study.results():
            sw.add_cell_run(0, 0)

    def do_layers(self, delta: int) -> None:
        panel = self.w.panel
        hidden = [t for t in panel.fields["hidden"].edit.text().split(",") if t.strip()]
        if delta > 0 and len(hidden) >= 2:
            delta = -1  # the network stays at most 2-16-16-1 through the buttons
        (panel.add_layer if delta > 0 else panel.remove_layer).click()

    def do_seed_button(self, which: str) -> None:
        getattr(self.w.panel, which).click()

    def do_full_batch(self) -> None:
        box = self.w.panel.full_batch
        if box.isEnabled():
            box.click()

    def do_lr_slider(self, position: int) -> None:
        self.w.panel.lr_slider.setValue(position)

    def do_add(self) -> None:
        runs = self.w.runs
        if len(self.w.model) < MAX_RUNS and runs.add_action.isEnabled():
            runs.add_action.trigger()

    def do_notebook(self) -> None:
        if len(self.w.model) <= MAX_RUNS - 4:
            self.w.runs.notebook_action.trigger()

    def do_remove(self, index: int) -> None:
        run_id = self.run_id(index)
        if run_id is None:
            return
        self.w.runs.select_run(run_id)
        if self.w.runs.remove_action.isEnabled():
            self.w.runs.remove_action.trigger()

    def do_rename(self, index: int, name: str) -> None:
        run_id = self.run_id(index)
        if run_id is not None:
            try:
                self.w.runs.rename_run(run_id, name)
            except ValueError as exc:  # the user sees the reason at the list
                self.w.runs.show_message(str(exc))

    def do_colour(self, index: int, colour: str) -> None:
        run_id = self.run_id(index)
        if run_id is not None:
            try:
                self.w.runs.set_run_colour(run_id, colour)
            except ValueError as exc:
                self.w.runs.show_message(str(exc))

    def do_visible(self, index: int, on: bool) -> None:
        run_id = self.run_id(index)
        if run_id is None:
            return
        tree = self.w.runs.tree
        for row in range(tree.topLevelItemCount()):
            item = tree.topLevelItem(row)
            if int(item.data(0, Qt.ItemDataRole.UserRole)) == run_id:
                item.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def do_select(self, index: int) -> None:
        run_id = self.run_id(index)
        if run_id is not None:
            self.w.runs.select_run(run_id)

    def do_timeline(self, kind: str, value) -> None:
        t = self.w.timeline
        if kind == "epoch":
            t.set_epoch(round(value * t.max_epoch()))
        elif kind == "live":
            t.set_live(True)
        elif kind == "button":
            t.live_button.click()
        else:
            self.qtbot.keyClick(t.slider, getattr(Qt.Key, "Key_" + value))

    def do_maps(self, kind: str, index: int) -> None:
        maps = self.w.maps
        if kind == "escape":
            self.qtbot.keyClick(maps, Qt.Key.Key_Escape)
        elif kind == "back":
            if maps.back_button.isVisible():
                maps.back_button.click()
        else:
            run_id = self.run_id(index)
            if run_id is None or maps.large_run_id != -1:
                return
            view = maps.map_view(run_id)
            if view.isVisible():
                viewport = view.viewport()
                self.qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                                      pos=QPoint(viewport.width() // 2, viewport.height() // 2))

    def do_curves(self, kind: str, index: int) -> None:
        curves = self.w.curves
        if kind == "x_axis":
            curves.x_axis_combo.setCurrentIndex(index % curves.x_axis_combo.count())
        else:
            curves.log_checkbox.click()

    def do_save(self, slot: int, histories: bool) -> None:
        path = self.folder / f"session{slot}.nnviz.json"
        if not self.w.save_session_to(path, histories=histories):
            raise MonkeyFailure("save failed", self._alert_text())

    def _alert_text(self) -> str:
        box = self.w.documents.alert
        return box.text() if box is not None else "(no message)"

    def do_open(self, slot: int) -> None:
        path = self.folder / f"session{slot}.nnviz.json"
        opened = self.w.open_session_from(path)
        if path.is_file() and not opened:
            raise MonkeyFailure("saved session refused", self._alert_text())

    def do_open_bad(self, kind: str) -> None:
        from nnviz.core.session import session_text

        model = self.w.model
        doc = json.loads(session_text(model.shared, model.specs(), model.histories()))
        path = self.folder / f"bad-{kind}.nnviz.json"
        if kind == "garbage":
            path.write_bytes(b"\x00\xff not json {")
        elif kind == "empty":
            path.write_bytes(b"")
        elif kind == "truncated":
            text = json.dumps(doc)
            path.write_text(text[: len(text) // 2])
        elif kind == "list":
            path.write_text("[1, 2, 3]")
        elif kind == "huge_int":
            path.write_text(json.dumps(doc).replace('"learning_rate": ', '"learning_rate": ' + "1" * 400 + ", "
                                                   '"_was": ', 1))
        elif kind == "nan":
            doc["runs"][0]["learning_rate"] = float("nan")
            path.write_text(json.dumps(doc))
        elif kind == "negative":
            doc["shared"]["data_seed"] = -5  # (n_samples is the points' own count for custom data)
            path.write_text(json.dumps(doc))
        elif kind == "huge_history":
            doc.setdefault("histories", {})[doc["runs"][0]["name"]] = {"epoch": [0, 2**63], "cost": [1.0, 1.0]}
            path.write_text(json.dumps(doc))
        elif kind == "dir":
            path.mkdir(exist_ok=True)
        elif kind == "unknown_key":
            doc["shared"]["colour_of_the_sky"] = "blue"
            doc.pop("histories", None)
            path.write_text(json.dumps(doc))
        opened = self.w.open_session_from(path)
        if opened and kind != "unknown_key":
            raise MonkeyFailure("malformed session opened", kind)

    def do_export(self, kind: str, width: int) -> None:
        w = self.w
        path = self.folder / f"export-{kind}.{'csv' if kind == 'csv' else 'png'}"
        ok = {"csv": lambda: w.export_csv_to(path), "window": lambda: w.export_window_to(path),
              "curves": lambda: w.export_curves_to(path, width), "map": lambda: w.export_map_to(path, width)}[kind]()
        if not ok:
            raise MonkeyFailure("export failed", f"{kind}: {self._alert_text()}")

    def do_draw(self, kind: str, u: float, v: float) -> None:
        """The drawing mode: toggled (D), clicks (left, right, Shift) and a drag at (u, v) of the map, the class
        switch, the eraser, Clear, Undo stroke, Esc."""
        import shiboken6
        from PySide6.QtCore import QPoint, Qt

        drawing = self.w.drawing
        if kind == "toggle":
            drawing.draw_action.trigger()
            return
        if not drawing.active and not drawing.set_active(True):  # as a user presses D before drawing
            return
        actions = {"class": drawing.switch_action, "eraser": drawing.eraser_action, "clear": drawing.clear_action,
                   "undo": drawing.undo_stroke_action, "escape": drawing.leave_action}
        if kind in actions:
            actions[kind].trigger()
            return
        port = drawing.tool.view.viewport()
        at = QPoint(int(u * max(port.width() - 1, 1)), int(v * max(port.height() - 1, 1)))
        button = Qt.MouseButton.RightButton if kind == "right" else Qt.MouseButton.LeftButton
        modifier = Qt.KeyboardModifier.ShiftModifier if kind == "shift" else Qt.KeyboardModifier.NoModifier
        if kind == "drag":
            # Each event lets Qt process what is queued (a frame, a prepared start that rebuilds the maps): the map
            # under the mouse may be gone by the next one, and a deleted widget must not be sent events.
            self.qtbot.mousePress(port, button, modifier, at)
            for step in range(1, 6):
                if not (shiboken6.isValid(port) and drawing.active and drawing.tool.view.viewport() is port):
                    return
                self.qtbot.mouseMove(port, QPoint(at.x() + 9 * step, at.y() + 4 * step))
            if shiboken6.isValid(port):
                self.qtbot.mouseRelease(port, button, modifier, QPoint(at.x() + 45, at.y() + 20))
        else:
            self.qtbot.mouseClick(port, button, modifier, at)

    def do_features(self, index: int) -> None:
        """Toggle one of the panel's input features (the last one on stays on)."""
        buttons = list(self.w.panel.features.buttons.values())
        buttons[index % len(buttons)].click()

    def do_data(self, kind: str) -> None:
        """File > Open data (good, rescaled, in the file's order, malformed), Export data, or 'keep their order'."""
        import numpy as np

        from nnviz.core.points_csv import write_points

        w = self.w
        good, bad = self.folder / "points.csv", self.folder / "bad-points.csv"
        if not good.exists():
            rng = np.random.default_rng(5)
            X = rng.normal(size=(60, 2))
            write_points(good, X, (X[:, 0] * X[:, 1] > 0).astype(float), ("a", "b"))
            bad.write_text("x1,x2,label\n1,2,a\n3,nan,b\n")
        if kind == "export":
            w.data_files.export_to(self.folder / "export-points.csv")
        elif kind == "keep_order":
            if w.panel.keep_order.isVisible():
                w.panel.keep_order.click()
        else:
            w.data_files.open_from(bad if kind == "open_bad" else good, rescale=kind == "open_rescaled",
                                   keep_order=kind == "open_kept")

    def do_new(self) -> None:
        self.w.new_action.trigger()

    def do_reopen(self) -> None:
        self.close_window()
        self.open_window()

    def do_run(self, ms: int) -> None:
        w = self.w
        if not w.playing and w.start_action.isEnabled():
            w.start_action.trigger()
        self.qtbot.wait(ms)
        if w.playing:
            w.start_action.trigger()

    def do_settle(self) -> None:
        """Wait until the data asked for is prepared (and saved runs retrained)."""
        w = self.w
        try:
            self.qtbot.waitUntil(lambda: not w.controller.busy and not w.model.restoring, timeout=SETTLE_TIMEOUT_MS)
        except Exception:
            raise MonkeyFailure("stuck", f"still busy after {SETTLE_TIMEOUT_MS / 1000:.0f} s: "
                                         f"{w.controller.busy!r}, restoring {w.model.restoring}") from None

    def do_resize(self, size) -> None:
        self.w.resize(*size)


# ---- the test -------------------------------------------------------------------------------------------

def first_config():
    from nnviz.core.training import preset_config

    return preset_config("sgd", n_samples=200, epochs=30)


def replay(qtbot, actions) -> MonkeyFailure | None:
    with tempfile.TemporaryDirectory(prefix="nnviz-monkey-") as folder:
        monkey = Monkey(qtbot, Path(folder))
        try:
            monkey.play(actions, first_config())
        except MonkeyFailure as failure:
            failure.at = monkey.done
            return failure
        finally:
            from nnviz.gui.worker import stop_all_workers

            monkey.close_window()
            stop_all_workers()
    return None


def shrink(qtbot, actions, failure, seconds: float) -> tuple[list, int]:
    """The shortest sequence found that fails the same way (prefix first, then chunks dropped)."""
    deadline = time.monotonic() + seconds
    target, tries = failure.signature, 0

    def fails(candidate):
        nonlocal tries
        tries += 1
        result = replay(qtbot, candidate)
        return result if result is not None and result.signature == target else None

    if failure.kind == "memory":
        return actions, 0  # replays do not measure memory: the seed and the action count replay it
    best = actions
    if failure.kind not in ("memory", "leak", "thread"):
        best = actions[: failure.at]
    chunks = 2
    while len(best) > 1 and time.monotonic() < deadline:
        size = max(1, len(best) // chunks)
        reduced = False
        for start in range(0, len(best), size):
            if time.monotonic() >= deadline:
                break
            candidate = best[:start] + best[start + size:]
            result = fails(candidate) if candidate else None
            if result is not None:
                best = candidate[: result.at] if result.kind not in ("memory", "leak", "thread") else candidate
                chunks = max(chunks - 1, 2)
                reduced = True
                break
        if not reduced:
            if size == 1:
                break
            chunks = min(chunks * 2, len(best))
    return best, tries


def test_random_user_actions_leave_no_error_thread_or_leak(qtbot, tmp_path, capsys):
    if REPLAY:
        actions = json.loads(Path(REPLAY).read_text() if not REPLAY.lstrip().startswith("[") else REPLAY)
        origin = f"NNVIZ_MONKEY_REPLAY={REPLAY}"
    else:
        actions = plan(SEED, N_ACTIONS)
        origin = f"NNVIZ_MONKEY_SEED={SEED} NNVIZ_MONKEY_ACTIONS={N_ACTIONS}"
    with capsys.disabled():
        print(f"\nmonkey: {origin}, {len(actions)} actions")
        terminal = os.fdopen(os.dup(2), "w")
    global WATCHDOG
    started = time.perf_counter()
    monkey = Monkey(qtbot, tmp_path, measure=True)
    with Watchdog(origin, terminal) as WATCHDOG:
        try:
            monkey.play(actions, first_config())
            failure = None
        except MonkeyFailure as exc:
            failure = exc
            failure.at = monkey.done
        finally:
            WATCHDOG.action = None
            monkey.close_window()
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        rss = ", ".join(f"{k} {v:.0f} MB" for k, v in monkey.rss.items())
        print(f"monkey: {monkey.done} actions in {elapsed:.1f} s; RSS {rss}; {len(monkey.alerts)} messages shown")
    if failure is None:
        return
    from nnviz.gui.worker import stop_all_workers

    stop_all_workers()
    failing_step = actions[failure.at - 1] if failure.at else None
    with Watchdog(origin, terminal) as WATCHDOG:
        best, tries = shrink(qtbot, actions, failure, SHRINK_SECONDS)
    WATCHDOG = None
    saved = tmp_path / "monkey-minimal.json"
    saved.write_text(json.dumps(best))
    pytest.fail(
        f"monkey ({origin}) failed at action {failure.at} {failing_step}:\n{failure}\n\n"
        f"replay all of it: {origin if REPLAY else f'NNVIZ_MONKEY_SEED={SEED} NNVIZ_MONKEY_ACTIONS={failure.at}'} "
        f"QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q tests/test_monkey.py\n"
        f"shortest failing sequence found ({len(best)} actions, {tries} replays):\n"
        f"{json.dumps(best) if len(best) <= 200 else '(too long to print: see the file below)'}\n"
        f"replay it: NNVIZ_MONKEY_REPLAY={saved} QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q "
        f"tests/test_monkey.py", pytrace=False)
