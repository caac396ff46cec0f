"""Where the GUI thread's time goes, frame by frame: a profiling QApplication for the benchmarks.

``ProfiledApplication`` times every event it delivers (exclusive of the events and calls nested in it) and
files the time under an item: a paint event under the view it paints (curves, maps, network view, ...), any
other event under its type. ``wrap`` adds a Python method to the same accounting, so the handling of a frame
(the curves' refresh, the maps' redraw, ...) is told apart from its painting. Only for benchmarks: every event
goes through Python while it is on.
"""

from __future__ import annotations

import time
from collections import defaultdict

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QWidget

_PAINT = QEvent.Type.Paint


class ProfiledApplication(QApplication):
    """A QApplication that, between ``start()`` and ``stop()``, adds up the time spent in each item."""

    def __init__(self, argv):
        super().__init__(argv)
        self.active = False
        self.totals: dict[str, float] = defaultdict(float)  # item -> exclusive seconds
        self.counts: dict[str, int] = defaultdict(int)
        self._stack: list[list] = []  # [item, start, nested seconds]
        self._roots: list[tuple[QWidget, str]] = []  # widgets whose paints are filed under a name
        self.frame_event = None  # the event type that ends a frame (set by the benchmark)
        self.frames: list[dict[str, float]] = []  # item -> seconds, per frame (from one frame_event to the next)
        self._frame: dict[str, float] = defaultdict(float)
        self.acknowledgements: list[float] = []  # seconds each frame_event took to deliver (see notify)

    def name_widget(self, widget: QWidget, name: str) -> None:
        """File the paints of ``widget`` and its children under ``name`` (the innermost named widget wins)."""
        self._roots.insert(0, (widget, name))

    def start(self) -> None:
        self.totals.clear()
        self.counts.clear()
        self.frames.clear()
        self.acknowledgements.clear()
        self._frame = defaultdict(float)
        self.active = True

    def stop(self) -> None:
        self.active = False

    def _item(self, receiver, event) -> str:
        kind = event.type()
        if kind == _PAINT and isinstance(receiver, QWidget):
            widget = receiver
            while widget is not None:
                for root, name in self._roots:
                    if root is widget:
                        return f"paint: {name}"
                widget = widget.parentWidget()
            return f"paint: other ({type(receiver).__name__})"
        name = getattr(kind, "name", None) or f"type {int(kind)}"
        return f"event: {name}"

    def timed(self, item: str, call, *args, **kwargs):
        """Run ``call`` with its time filed under ``item`` (exclusive of what is nested in it)."""
        if not self.active:
            return call(*args, **kwargs)
        frame = [item, time.perf_counter(), 0.0]
        self._stack.append(frame)
        try:
            return call(*args, **kwargs)
        finally:
            self._stack.pop()
            spent = time.perf_counter() - frame[1]
            self.totals[item] += spent - frame[2]
            self._frame[item] += spent - frame[2]
            self.counts[item] += 1
            if self._stack:
                self._stack[-1][2] += spent

    def notify(self, receiver, event) -> bool:
        if not self.active:
            return super().notify(receiver, event)
        if self.frame_event is not None and event.type() == self.frame_event and not self._stack:
            # The frame ends here, before its acknowledgement is delivered. The acknowledgement wakes the worker,
            # which takes the GIL at once: any Python this thread runs after it (this profiler's bookkeeping
            # included) waits for the worker to give it back. Filed under the event, that wait showed as 2-4 ms
            # a frame which the app without the profiler does not spend (the handler itself takes ~0.05 ms).
            self.frames.append(dict(self._frame))
            self._frame = defaultdict(float)
            started = time.perf_counter()
            try:
                return super().notify(receiver, event)
            finally:
                self.acknowledgements.append(time.perf_counter() - started)
        return self.timed(self._item(receiver, event), super().notify, receiver, event)

    def wrap(self, owner, method: str, item: str) -> None:
        """Time ``owner.method`` (an instance's Python method, as its callers look it up) under ``item``."""
        original = getattr(owner, method)
        setattr(owner, method, lambda *args, **kwargs: self.timed(item, original, *args, **kwargs))

    def wrap_paint(self, cls: type) -> None:
        """Time the ``paint`` of every item of ``cls`` (a pyqtgraph item class) under "  item: <its class>"."""
        original = cls.__dict__.get("paint")
        if original is None:
            return
        def paint(this, *args):  # filed under the item's own class (a subclass's paint may call this one)
            return self.timed(f"  item: {type(this).__name__}.paint", original, this, *args)

        cls.paint = paint

    def report(self, frames: int, seconds: float) -> list[str]:
        """Lines: each item's ms per frame and share of the wall time, largest first, and the total."""
        frames = max(frames, 1)
        total = sum(self.totals.values())
        lines = [f"GUI thread per frame, by item ({frames} frames in {seconds:.1f} s; exclusive times):"]
        for item, spent in sorted(self.totals.items(), key=lambda kv: -kv[1]):
            if spent / frames < 5e-5:  # under 0.05 ms a frame
                continue
            lines.append(f"  {item:<42} {1000 * spent / frames:7.2f} ms   {100 * spent / seconds:5.1f} % of the time"
                         f"   ({self.counts[item] / frames:5.1f} calls a frame)")
        lines.append(f"  {'total':<42} {1000 * total / frames:7.2f} ms   {100 * total / seconds:5.1f} % of the time")
        if self.acknowledgements:
            acks = sorted(self.acknowledgements)
            lines.append(f"  (not counted above: the frames' acknowledgement, median {1000 * acks[len(acks) // 2]:.2f}"
                         f" ms, mean {1000 * sum(acks) / len(acks):.2f} ms: it wakes the worker, whose Python then "
                         "holds the GIL when this thread wants it back)")
        if len(self.frames) >= 10:
            slow = sorted(self.frames, key=lambda f: -sum(f.values()))[: max(len(self.frames) // 10, 1)]
            lines.append(f"the slowest tenth of the frames ({len(slow)}), mean ms by item:")
            items = defaultdict(float)
            for f in slow:
                for item, spent in f.items():
                    items[item] += spent / len(slow)
            for item, spent in sorted(items.items(), key=lambda kv: -kv[1])[:8]:
                lines.append(f"  {item:<42} {1000 * spent:7.2f} ms")
            lines.append(f"  {'total':<42} {1000 * sum(items.values()):7.2f} ms")
        return lines
