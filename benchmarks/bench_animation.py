"""The training as an animation: seconds to render and encode the notebook's four runs (resources/notebook.nnviz.json)
as GIF, MP4 and WebM, the file's size, and how soon a stop is honoured (the longest gap between two questions to
``should_stop``, and the time from a stop request to Stopped). Prints a markdown table; asserts nothing. From the
repository root:

    .venv/bin/python benchmarks/bench_animation.py [--seconds 10] [--width 800] [--formats gif,mp4,webm]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnviz.core.animation import AnimationOptions, export_animation, film_of  # noqa: E402
from nnviz.core.comparison import Comparison  # noqa: E402
from nnviz.core.session import load_session  # noqa: E402
from nnviz.core.training import Stopped  # noqa: E402


def stop_latency(film, options: AnimationOptions) -> tuple[float, float]:
    """(longest gap between two should_stop questions, seconds from a stop request to Stopped)."""
    asked: list[float] = []
    requested = threading.Event()
    when: list[float] = []

    def should_stop() -> bool:
        asked.append(time.perf_counter())
        return requested.is_set()

    def request() -> None:
        when.append(time.perf_counter())
        requested.set()

    timer = threading.Timer(1.5, request)
    timer.start()
    try:
        export_animation(film, options, None, should_stop)
    except Stopped:
        pass
    stopped = time.perf_counter()
    timer.cancel()
    gaps = [b - a for a, b in zip(asked, asked[1:], strict=False)]
    return max(gaps, default=0.0), stopped - when[0] if when else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--fps", type=int, default=20)
    parser.add_argument("--formats", default="gif,mp4,webm")
    args = parser.parse_args()
    session = load_session(ROOT / "resources" / "notebook.nnviz.json")
    comparison = Comparison(session.shared, session.runs)
    comparison.run_to_end()
    film = film_of(comparison)
    print(f"notebook's four runs, {args.width} px wide, {args.fps} frames/s, {args.seconds} s\n")
    print("| format | frames | size | render + encode | longest gap between stop checks | stop after request |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in args.formats.split(","):
            options = AnimationOptions(str(Path(folder) / f"training.{fmt}"), width=args.width, fps=args.fps,
                                       seconds=args.seconds)
            start = time.perf_counter()
            result = export_animation(film, options)
            took = time.perf_counter() - start
            gap, latency = stop_latency(film, AnimationOptions(str(Path(folder) / f"stopped.{fmt}"),
                                                               width=args.width, fps=args.fps, seconds=args.seconds))
            print(f"| {fmt} | {result.frames} | {result.nbytes / 1e6:.2f} MB ({result.width} × {result.height}) | "
                  f"{took:.1f} s | {gap * 1000:.0f} ms | {latency * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
