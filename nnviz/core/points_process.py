"""Reading a big file of points in a process of its own, so that the window stays fluid.

Parsing a CSV of a million rows in a thread holds the GIL in many calls of 10–30 ms (numpy converting a block of
texts, splitting and joining lines); the GUI thread, which needs the GIL for every Python call of a repaint or an
event, then waits that long each time, and the window froze for over a second (benchmarks/bench_open_data.py). A
process has a GIL of its own: the window only waits for the points at the end (a pickle of their arrays).

``read_points_apart(path, should_stop, progress)`` is ``points_csv.read_points(path, ...)`` in a spawned process:
the same Points or the same one-line PointsError; ``should_stop()`` is asked every POLL_S and the process is ended
at once when it says so (training.Stopped is raised).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable

from nnviz.core.points_csv import Points, PointsError, read_points
from nnviz.core.training import Stopped

POLL_S = 0.05  # how often the waiting thread looks at the process, at should_stop and at the progress
START_TIMEOUT_S = 60.0  # a process that sends nothing for this long (e.g. killed by the system) is given up


def _read(path: str, out) -> None:
    """In the child: read the points, sending ("progress", fraction) messages, then ("done", X, y, classes) or
    ("error", message)."""
    try:
        points = read_points(path, None, lambda fraction: out.put(("progress", fraction)))
    except PointsError as exc:
        out.put(("error", str(exc)))
    except BaseException as exc:  # anything else is also one line for the user
        out.put(("error", f"{os.fspath(path)}: {type(exc).__name__}: {exc}"))
    else:
        out.put(("done", points.X, points.y, points.classes))


def read_points_apart(path: str | os.PathLike, should_stop: Callable[[], bool] | None = None,
                      progress: Callable[[float], None] | None = None) -> Points:
    """The points of the file at ``path``, read in a spawned process (see the module's docstring)."""
    context = multiprocessing.get_context("spawn")  # never fork a process that runs Qt's threads
    messages = context.Queue()
    process = context.Process(target=_read, args=(os.fspath(path), messages), name="nnviz-read-points",
                              daemon=True)
    process.start()
    quiet = 0.0
    try:
        while True:
            if should_stop is not None and should_stop():
                raise Stopped
            try:
                message = messages.get(timeout=POLL_S)
            except queue.Empty:
                quiet += POLL_S
                if not process.is_alive() or quiet > START_TIMEOUT_S:
                    raise PointsError(f"{os.fspath(path)}: the reading process ended without an answer "
                                      f"(exit code {process.exitcode})") from None
                continue
            quiet = 0.0
            if message[0] == "progress":
                if progress is not None:
                    progress(message[1])
            elif message[0] == "error":
                raise PointsError(message[1])
            else:
                _, X, y, classes = message
                return Points(X, y, classes)
    finally:
        if process.is_alive():
            process.terminate()
        process.join(1.0)
        messages.close()
        messages.cancel_join_thread()
