"""Documents: sessions (new, open, save, recent), exports, and the questions and messages around them.

Slow writes (a big CSV, a session with long histories, a map thousands of pixels wide) run in a
background thread with a progress dialog and Cancel; the window stays responsive. Message boxes
are freed once closed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from nnviz.core.comparison import preset_run, preset_shared
from nnviz.core.files import WriteError, settings_csv, write_atomic
from nnviz.core.session import SUFFIX, Session, SessionError, comparison_csv, load_session, session_text
from nnviz.core.text import shorten
from nnviz.gui.background import Background, Cancelled
from nnviz.gui.controller import Controller
from nnviz.gui.export import ExportError, png_bytes, save_csv, save_map_png, save_plot_png, save_widget_png
from nnviz.options import settings_for_csv

MAX_RECENT = 8  # entries of File → Open recent
MAP_WIDTHS = (400, 8000, 1600)  # decision-map PNG export: smallest, largest, default width in pixels
SESSION_FILTER = f"nnviz sessions (*{SUFFIX});;JSON (*.json);;All files (*)"
# Sessions holding a user's many points take a second or more to write or read: done in the background (with
# progress and Cancel) from the menus above these sizes.
BIG_SESSION_POINTS = 20_000
BIG_SESSION_BYTES = 4 * 2**20


class Documents(QObject):
    """Opens and saves sessions and exports for a window, through its controller's model."""

    def __init__(self, window: QWidget, controller: Controller, settings: QSettings):
        super().__init__(window)
        # The window's sweep, saved with the session and restored from it (set by the window: SweepTools).
        self.sweep_doc: Callable[[], dict | None] | None = None
        self.restore_sweep: Callable[..., object] | None = None  # (sweep doc, the session's points)
        self.clear_sweep: Callable[[], None] | None = None
        self.window = window
        self.controller = controller
        self.settings = settings
        self.path: Path | None = None  # the file the comparison was last opened from or saved to
        self.alert: QMessageBox | None = None  # the last message box (non-blocking, freed when closed)
        self.ask: Callable[[str], bool] = self._ask  # replaced in scripted runs: never ask
        self._saved_version = None  # the model's state when its trained epochs were last saved
        # big writes and reads in threads of their own, with progress and Cancel
        self.background = Background(window, lambda text, kind: controller.message.emit(text, kind), self.show_alert)
        controller.restored.connect(lambda ok: self.mark_saved() if ok else None)  # the session holds them

    # ---- messages --------------------------------------------------------------------------

    def show_alert(self, text: str, kind: str = "warning", title: str = "nnviz") -> None:
        """A message box that does not block; a long text is cut to a readable length."""
        icon = QMessageBox.Icon.Warning if kind == "warning" else QMessageBox.Icon.Information
        box = QMessageBox(icon, title, shorten(text, 2000), QMessageBox.StandardButton.Ok, self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        box.destroyed.connect(lambda *_: setattr(self, "alert", None) if self.alert is box else None)
        self.alert = box
        box.open()

    def _ask(self, text: str) -> bool:
        answer = QMessageBox.question(self.window, "nnviz", text,
                                      QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def may_discard(self, doing: str) -> bool:
        """True when nothing trained would be lost by ``doing``, or the user agrees to lose it."""
        model = self.controller.model
        epochs = model.trained_epochs()
        if not epochs or self._saved_version == (model.version, epochs):
            return True
        return self.ask(f"{doing.capitalize()} discards {epochs:,} trained epochs of {len(model)} run(s) that are "
                        "not saved. Discard them?")

    def mark_saved(self) -> None:
        self._saved_version = (self.controller.model.version, self.controller.model.trained_epochs())

    # ---- sessions --------------------------------------------------------------------------

    def new_comparison(self, ask: bool = True) -> bool:
        """One run of the sgd preset at epoch 0, as a fresh window opens."""
        if ask and not self.may_discard("a new comparison"):
            return False
        self.path = None
        self.controller.replace(preset_shared("sgd"), [preset_run("sgd")], done_message="new comparison: press Start")
        if self.clear_sweep is not None:
            self.clear_sweep()
        return True

    def open_session_from(self, path: str | Path, ask: bool = True, session: Session | None = None) -> bool:
        """Open a session file (``session``: read already); on any problem show its message and leave the open
        comparison as it was."""
        try:
            session = session or load_session(path)
        except SessionError as exc:
            self.show_alert(str(exc))
            return False
        if not session.runs:
            self.show_alert(f"{shorten(str(path), 200)}: the session has no runs")
            return False
        if ask and not self.may_discard(f"opening {Path(path).name}"):
            return False
        self.apply_session(session)
        if session.warnings:
            self.show_alert(f"{path}: opened; these keys are not known to this version and were ignored:\n"
                            + "\n".join(session.warnings), kind="information")
        return True

    def apply_session(self, session: Session) -> None:
        """Show a loaded Session: its runs at epoch 0; runs saved with a history are retrained to it. The window
        takes the file's name once the session is shown (not before: an open can still be superseded)."""
        name = session.path.name if session.path else "session"

        def applied():
            self.path = session.path
            if session.path is not None:
                self.add_recent(session.path)
            self.mark_saved()

        # the seed settings with the runs: they train from the session's shown seed, as they did when saved
        self.controller.replace(session.shared, list(session.runs), dict(session.histories),
                                done_message=f"opened {name}: {len(session.runs)} run(s)", applied=applied,
                                seeds=session.seeds)
        if session.sweep is not None and self.restore_sweep is not None:
            self.restore_sweep(session.sweep, session.shared.points)
        elif self.clear_sweep is not None:  # the last comparison's sweep must not go into this one's file
            self.clear_sweep()

    def open_dialog(self) -> None:
        start = str(self.path.parent) if self.path else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open session", start, SESSION_FILTER)
        if path:
            self.open_big_or_small(path)

    def open_big_or_small(self, path: str | Path) -> bool:
        """Open a session; a big one (a user's many points) is read in the background, with progress and Cancel
        (True: its reading started)."""
        try:
            big = Path(path).stat().st_size > BIG_SESSION_BYTES
        except OSError:
            big = False
        if not big:
            return self.open_session_from(path)

        def read(progress, cancelled):
            try:
                return load_session(path)
            except SessionError as exc:
                raise ValueError(str(exc)) from None

        self.run_in_background(f"Reading {shorten(Path(path).name, 60)}", read,
                               lambda session: self.open_session_from(path, session=session), "nothing changed")
        return True

    def save_session_to(self, path: str | Path, histories: bool = False) -> bool:
        """Write the comparison (and, if asked, every run's history) to ``path``; False with a message on failure."""
        model = self.controller.model
        try:
            text = session_text(model.shared, model.specs(), model.histories() if histories else None,
                                model.seeds.settings, self._sweep())
            write_atomic(path, text)
        except (WriteError, OSError, ValueError) as exc:
            self.show_alert(str(exc))
            return False
        self.path = Path(path)
        self.add_recent(path)
        if histories:
            self.mark_saved()  # the trained epochs are in the file; without histories they are not
        self.controller.message.emit(f"saved {path}" + (" with histories" if histories else ""), "done")
        return True

    def save(self) -> None:
        if self.path is None:
            self.save_as()
        else:
            self._save_big_or_small(self.path)

    def _save_big_or_small(self, path) -> None:
        """Save without histories; a session of many points of the user's is written in the background."""
        model = self.controller.model
        if model.shared.points is None or len(model.shared.points) <= BIG_SESSION_POINTS:
            self.save_session_to(path)
            return
        shared, specs, seeds, sweep = model.shared, model.specs(), model.seeds.settings, self._sweep()

        def write(progress, cancelled):
            _write_unless(cancelled, path, session_text(shared, specs, None, seeds, sweep))

        def saved(_):
            self.path = Path(path)
            self.add_recent(path)
            self.controller.message.emit(f"saved {path}", "done")

        self.run_in_background(f"Saving {Path(path).name}", write, saved)

    def save_as(self, histories: bool = False) -> None:
        start = str(self.path) if self.path else f"comparison{SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(self.window, "Save session with histories" if histories
                                              else "Save session", start, SESSION_FILTER)
        if not path:
            return
        if not path.endswith(".json"):
            path += SUFFIX
        if not histories:
            self._save_big_or_small(path)
            return
        model = self.controller.model
        shared, specs, saved, seeds, sweep = model.shared, model.specs(), model.histories(), model.seeds.settings, \
            self._sweep()
        self.run_in_background(f"Saving {Path(path).name}", lambda progress, cancelled: _write_unless(
            cancelled, path, session_text(shared, specs, saved, seeds, sweep)), lambda _: self._saved(path))

    def _sweep(self) -> dict | None:
        return None if self.sweep_doc is None else self.sweep_doc()

    def _saved(self, path) -> None:
        self.path = Path(path)
        self.add_recent(path)
        self.mark_saved()
        self.controller.message.emit(f"saved {path} with histories", "done")

    # ---- recent sessions -------------------------------------------------------------------------

    def recent_sessions(self) -> list[str]:
        value = self.settings.value("session/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []]

    def add_recent(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_sessions() if p != path]
        self.settings.setValue("session/recent", recent[:MAX_RECENT])

    def fill_recent_menu(self, menu) -> None:
        menu.clear()
        recent = self.recent_sessions()
        for path in recent:
            act = menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.setData(path)
            act.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        if not recent:
            menu.addAction("(none)").setEnabled(False)

    def open_recent(self, path: str) -> bool:
        """Open a recent session; a file that is gone leaves the list, with a message."""
        if not Path(path).exists():
            self.settings.setValue("session/recent", [p for p in self.recent_sessions() if p != path])
            self.show_alert(f"{path}: no such file; removed from the recent sessions")
            return False
        return self.open_big_or_small(path)

    # ---- exports -----------------------------------------------------------------------------

    def export(self, write: Callable[[], None], path) -> bool:
        """Run ``write`` now; the status bar says it is saved, a message box why not."""
        try:
            write()
        except (ExportError, ValueError, OSError) as exc:
            self.show_alert(str(exc))
            return False
        self.controller.message.emit(f"saved {path}", "done")
        return True

    def export_csv_to(self, path) -> bool:
        model = self.controller.model
        return self.export(lambda: save_csv(path, model.histories(), model.has_test), path)

    def export_window_to(self, path) -> bool:
        return self.export(lambda: save_widget_png(self.window, path), path)

    def export_curves_to(self, graphics, path, width: int | None = None) -> bool:
        return self.export(lambda: save_plot_png(graphics, path, width), path)

    def export_map_to(self, view, path, width: int | None = None) -> bool:
        return self.export(lambda: save_map_png(view, path, width), path)

    def ask_file(self, title: str, name: str, filters: str) -> str:
        """A path chosen in a save dialog ("" when cancelled)."""
        path, _ = QFileDialog.getSaveFileName(self.window, title, name, filters)
        return path

    def export_png_dialog(self, what: str, name: str, export: Callable) -> None:
        """Ask where to save ``what`` as a PNG, then ``export(path)``."""
        path = self.ask_file(f"Export {what} as PNG", name, "PNG (*.png)")
        if path:
            export(path)

    def export_csv_dialog(self) -> None:
        path = self.ask_file("Export histories as CSV", "histories.csv", "CSV (*.csv)")
        if not path:
            return
        model = self.controller.model
        histories, has_test = model.histories(), model.has_test
        self.run_in_background(f"Writing {Path(path).name}",
                               lambda progress, cancelled: _write_unless(cancelled, path,
                                                                         comparison_csv(histories, has_test)),
                               lambda _: self.controller.message.emit(f"saved {path}", "done"))

    def export_settings_dialog(self) -> None:
        """Every run's settings as CSV (one row per run, optimizer included), written atomically."""
        path = self.ask_file("Export the runs' settings as CSV", "settings.csv", "CSV (*.csv)")
        if not path:
            return
        model = self.controller.model
        text = settings_csv(settings_for_csv(model.shared.to_dict()), [spec.to_dict() for spec in model.specs()])
        self.run_in_background(f"Writing {Path(path).name}",
                               lambda progress, cancelled: _write_unless(cancelled, path, text),
                               lambda _: self.controller.message.emit(f"saved {path}", "done"))

    def export_map_dialog(self, view) -> None:
        low, high, default = MAP_WIDTHS
        width, ok = QInputDialog.getInt(self.window, "Decision map as PNG", f"width in pixels ({low}–{high}):",
                                        default, low, high, 100)
        if not ok:
            return
        path = self.ask_file("Export the decision map as PNG", "decision-map.png", "PNG (*.png)")
        if not path:
            return
        from nnviz.gui.map_render import render_map

        state = view.render_state()
        height = view.export_height(width)

        def render(progress, cancelled):
            image = render_map(**state, width=width, height=height, progress=progress, cancelled=cancelled)
            if image is None:
                raise Cancelled
            _write_unless(cancelled, path, png_bytes(image))

        self.run_in_background(f"Drawing the map at {width:,} px", render,
                               lambda _: self.controller.message.emit(f"saved {path}", "done"))

    def run_in_background(self, title: str, work: Callable, done: Callable,
                          unchanged: str = "nothing written") -> threading.Thread:
        """``work(progress, cancelled)`` in a thread with a progress dialog and Cancel (see gui/background.py);
        ``unchanged`` says what a Cancel leaves as it was."""
        return self.background.run(title, work, done, unchanged)

    def wait_for_tasks(self, timeout: float = 30.0) -> None:
        """The window is closing: cancel the background work and let a write under way end."""
        self.background.wait(timeout)


def _write_unless(cancelled: Callable[[], bool], path, data: str | bytes) -> None:
    """Write ``data`` atomically unless the user has cancelled meanwhile (then the old file stays)."""
    if cancelled():
        raise Cancelled
    write_atomic(path, data)
