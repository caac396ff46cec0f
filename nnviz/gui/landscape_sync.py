"""The landscape view in the window: the runs' shared plane, computed off the GUI thread, their paths following
the training and the timeline.

The plane is fitted when the view is first shown (and on "Fit plane to current paths"), then kept fixed while
the runs train on, so the picture does not jump; the paths are projected on it as they grow. Two exceptions,
where a fixed plane would mislead: a plane fitted to paths of fewer than EARLY_FIT epochs (all but arbitrary) is
fitted again as they grow, and when the runs end a plane holding less than LOW_SHARE of a path is fitted to
the finished paths. A new start (data or network changed) makes the plane void: a new one is fitted when shown.
"""

from __future__ import annotations

import math
import threading
import time

from PySide6.QtCore import QObject, Signal

from nnviz.core.grid import operations_per_point
from nnviz.core.landscape import compute_landscape, paths_of
from nnviz.core.text import shorten
from nnviz.core.training import Stopped
from nnviz.gui.landscape_view import LandscapeView

PATHS_PER_SECOND = 10  # the paths are projected at most this often while the runs train ...
PATHS_SHARE = 0.2  # ... and take at most this share of the GUI thread's time (big networks' snapshots are large)
RESOLUTION = 61  # grid points per side, for networks whose grid costs at most GRID_WORK ...
SMALLEST = 11  # ... and no fewer than this for bigger ones (say 2-256-256-256-1: ~10 s with progress and Cancel)
GRID_WORK = 4e9  # multiply-adds a grid may cost at full resolution (~2-4 s here)


def resolution_for(layout, n_points: int) -> int:
    """Grid points per side: RESOLUTION, fewer for a network and data set whose grid would cost more than
    GRID_WORK multiply-adds (the cost at each point is the full training cost, as the curves show it)."""
    per_point = operations_per_point(layout) * max(int(n_points), 1)
    return int(min(RESOLUTION, max(SMALLEST, math.sqrt(GRID_WORK / per_point))))


EARLY_FIT = 10  # a plane fitted to paths shorter than this many epochs is fitted again ...
GROWTH = 4  # ... once they have grown this many times as long
LOW_SHARE = 0.9  # when the runs end, a plane holding less than this of a path's displacement is fitted again


def _last_epoch(paths) -> int:
    return max((int(p.epochs[-1]) for p in paths if len(p.epochs)), default=0)


class LandscapeSync(QObject):
    """Keeps ``view`` (a LandscapeView) showing the comparison's landscape; ``show()`` when it becomes visible."""

    _done = Signal(int, object, str)  # (ticket, (Landscape or None, the Start it is of), error), from the thread
    _progress = Signal(int, float)

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        self.c = window.controller
        self.view = LandscapeView()
        self.view.setMinimumSize(260, 200)
        self.view.refit_requested.connect(lambda: self.compute(refit=True))
        self.view.cancel_requested.connect(self.cancel)
        self._done.connect(self._on_done)
        self._progress.connect(self._on_progress)
        self._ticket = 0  # the computation under way (a newer one makes older ones void)
        self._running = False
        self._landscape = None  # the Landscape shown
        self._start = None  # the comparison's Start it was computed for (a new one: data or network changed)
        self._cache: dict = {}  # the paths' coordinates so far (core.landscape.paths_of): new snapshots only
        self._thread: threading.Thread | None = None
        self._paths_at = 0.0
        self._paths_cost = 0.0  # seconds the last projection of the paths took

    @property
    def landscape(self):
        """The Landscape shown (None before the first one)."""
        return self._landscape

    @property
    def computing(self) -> bool:
        return self._running

    def show(self) -> None:
        """The view is shown: compute a landscape unless the one shown is still the comparison's."""
        if self._stale():
            self.compute(refit=True)
        else:
            self.follow(force=True)

    def _stale(self) -> bool:
        # Computed for another start: other data (its cost surface) or another network (its plane).
        return self._landscape is None or self.c.model.start is not self._start

    def compute(self, refit: bool = False) -> None:
        """Compute the landscape in a thread of its own: a new plane with ``refit`` (else the one shown)."""
        self._ticket += 1
        ticket = self._ticket
        model = self.c.model
        plane = None if refit or self._stale() else self._landscape.plane
        resolution = resolution_for(model.layout, len(model.data.X))
        start = model.start
        self._running = True
        self.view.set_progress(0.0)

        def send(signal, *args) -> None:
            try:
                signal.emit(*args)
            except RuntimeError:  # the window is gone (closed while this thread computed): nobody to tell
                pass

        def run() -> None:
            try:
                landscape = compute_landscape(model, resolution, plane, should_stop=lambda: ticket != self._ticket,
                                              progress=lambda f: send(self._progress, ticket, f))
            except Stopped:
                return
            except Exception as exc:  # a message, never a silent dead thread
                send(self._done, ticket, (None, start), f"{type(exc).__name__}: {shorten(str(exc), 200)}")
                return
            send(self._done, ticket, (landscape, start), "")

        self._thread = threading.Thread(target=run, name=f"nnviz-landscape-{ticket}", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 2.0) -> None:
        """Stop the computation under way and wait for its thread (the window closes)."""
        self._ticket += 1
        if self._thread is not None:
            self._thread.join(timeout)

    def cancel(self) -> None:
        """Stop the computation under way (the landscape shown stays)."""
        self._ticket += 1
        self._running = False
        self.view.set_progress(None)

    def follow(self, force: bool = False) -> None:
        """The paths as the runs have trained them, and the marker at the epoch shown (at most
        PATHS_PER_SECOND times a second unless ``force``)."""
        landscape = self._landscape
        if landscape is None or self._stale():
            return
        now = time.perf_counter()
        if not force and now - self._paths_at < max(1 / PATHS_PER_SECOND, self._paths_cost / PATHS_SHARE):
            return
        paths = paths_of(self.c.model, landscape.plane, self._cache)
        self._paths_at = time.perf_counter()
        self._paths_cost = self._paths_at - now
        fitted, newest = _last_epoch(landscape.paths), _last_epoch(paths)
        if not self._running and fitted < EARLY_FIT and newest >= max(1, GROWTH * fitted):
            # Fitted to a run or two barely moved, the plane is all but arbitrary (one displacement spans a line):
            # fitted again as the paths grow (epochs 1, 4, 16) — the only times it changes while the runs train.
            self.compute(refit=True)
        self.view.set_paths(paths)
        self.view.set_marker(self.c.shown_epoch)

    def ended(self) -> None:
        """The runs have stopped training: a grid that no longer covers the paths is computed again over
        them, on the same plane (the picture keeps its directions)."""
        landscape = self._landscape
        if landscape is None or self._running or self._stale():
            return
        a0, a1, b0, b1 = landscape.a[0], landscape.a[-1], landscape.b[0], landscape.b[-1]
        paths = paths_of(self.c.model, landscape.plane, self._cache)
        if any(len(p.epochs) > 1 and p.share < LOW_SHARE for p in paths):
            self.compute(refit=True)  # the plane holds too little of a finished path: fitted to what they became
            return
        for path in paths:
            if len(path.a) and (path.a.min() < a0 or path.a.max() > a1 or path.b.min() < b0 or path.b.max() > b1):
                self.compute()
                return

    def _on_progress(self, ticket: int, fraction: float) -> None:
        if ticket == self._ticket:
            self.view.set_progress(min(max(fraction, 0.0), 1.0))

    def _on_done(self, ticket: int, result, error: str) -> None:
        if ticket != self._ticket:
            return
        landscape, start = result
        self._running = False
        self.view.set_progress(None)
        if landscape is None:
            self.w.statusline.set_message(f"could not compute the landscape: {error}", "error")
            return
        self._landscape, self._start = landscape, start
        self._cache = {}
        self.view.show_landscape(landscape)
        self.follow(force=True)
