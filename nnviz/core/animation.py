"""The training of a comparison as a moving picture: GIF, MP4 or WebM, rendered from the stored snapshots.

``film_of(comparison)`` takes a consistent copy of what the animation needs (each shown run's snapshots and
cost history, the network's layout, the data) under the comparison's lock, so the runs may go on training
while the frames are drawn. ``export_animation(film, options)`` draws ``fps × seconds`` frames
(animation_frames.FramePainter) and encodes them with maintained libraries: Pillow writes GIF, the ffmpeg
that the imageio-ffmpeg wheel ships writes MP4 (H.264) and WebM (VP9). They are imported only here, when an
animation is made: without them, ``MissingLibrary`` says how to install them, in one line.

Which epoch a frame shows: frame i of N shows epoch round(expm1(log1p(first) + t·(log1p(last) − log1p(first))))
with t = i / (N − 1) ("log", the default: evenly in log(1 + epoch), so the first epochs, where the map
changes fastest, get as many frames as the last thousands) or round(first + t·(last − first)) ("linear").
Each run shows its newest snapshot at or before that epoch (a run that finished earlier stays at its end);
when there are more frames than epochs, an epoch is shown on several frames in a row.

The file is written atomically: encoded to a temporary file in the target's folder and renamed over the
target with the mode the umask implies; a failure or a stop leaves an existing file untouched and no
temporary file behind. Nothing here imports Qt: it runs off the GUI thread and headless.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnviz.core.files import MAX_PREFIX, WriteError, current_umask, error_reason, is_folder
from nnviz.core.text import quoted, shorten
from nnviz.core.training import Stopped

FORMATS = {".gif": "gif", ".mp4": "mp4", ".webm": "webm"}  # file extension -> format
WIDTH_RANGE = (160, 3840)  # pixels
FPS_RANGE = (1, 60)  # frames per second
SECONDS_RANGE = (1, 600)  # length of the animation
GIF_MAX_FPS = 50  # GIF delays are whole hundredths of a second, and viewers slow anything under 2 of them
GIF_MAX_PIXELS = 1_500_000_000  # width × height × frames: Pillow holds every GIF frame (a byte a pixel) until the end
SPACINGS = ("log", "linear")
GRID = "grid"  # the layout with every run as small multiples (else: a run's name, shown large)
DEFAULTS = {"width": 800, "fps": 20, "seconds": 10.0, "spacing": "log", "layout": GRID, "curves": True}
INSTALL = "pip install 'nnviz[animation]'"
VIDEO_BLOCK_BYTES = 2**22  # a frame goes to ffmpeg in blocks of this size, with a stop check between them
GIF_PALETTE_SAMPLES = 5  # frames the GIF's one palette is chosen from ...
GIF_PALETTE_PIXELS = 200_000  # ... by median cut over this many of their pixels (a fixed random choice)
# ffmpeg settings: H.264 at constant quality (crf 20: no visible loss on flat colours), streamable; VP9 likewise.
VIDEO_OPTIONS = {
    "mp4": ("libx264", ["-crf", "20", "-preset", "medium", "-movflags", "+faststart"]),
    "webm": ("libvpx-vp9", ["-crf", "32", "-b:v", "0", "-deadline", "good", "-cpu-used", "4", "-row-mt", "1"]),
}


class MissingLibrary(RuntimeError):
    """A library the animation needs is not installed; ``str()`` is one line saying how to install it."""


def require(format: str) -> None:
    """Raise MissingLibrary unless the libraries that write ``format`` ("gif", "mp4", "webm") import."""
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        raise MissingLibrary(f"exporting an animation needs Pillow: {INSTALL}") from None
    if format != "gif":
        try:
            import imageio_ffmpeg

            imageio_ffmpeg.get_ffmpeg_exe()
        except (ImportError, RuntimeError):
            raise MissingLibrary(f"exporting {format.upper()} needs imageio-ffmpeg (with its ffmpeg): "
                                 f"{INSTALL}") from None


# ---- the options -------------------------------------------------------------------------------------


def _integer(name: str, value, low: int, high: int, unit: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name}={quoted(value)}: must be an integer from {low} to {high}{unit}")
    return int(value)


@dataclass(frozen=True)
class AnimationOptions:
    """What to make: the file (its extension says the format), its size, speed and length, the epochs and the layout.

    path : the file to write, ending in .gif, .mp4 or .webm
    width : pixels, 160 to 3840 (even for mp4 and webm); the height follows the layout
    fps : frames per second, 1 to 60 (to 50 for gif)
    seconds : length, 1 to 600; frames = round(fps × seconds)
    first_epoch, last_epoch : the epochs of the first and last frames (None: the first and last trained)
    spacing : "log" (evenly in log(1 + epoch), default) or "linear"
    layout : "grid" (every shown run as small multiples) or the name of one run, shown large
    curves : draw the cost curves with a marker at the frame's epoch below the maps
    """

    path: str
    width: int = DEFAULTS["width"]
    fps: int = DEFAULTS["fps"]
    seconds: float = DEFAULTS["seconds"]
    first_epoch: int | None = None
    last_epoch: int | None = None
    spacing: str = DEFAULTS["spacing"]
    layout: str = DEFAULTS["layout"]
    curves: bool = DEFAULTS["curves"]

    def __post_init__(self):
        if not isinstance(self.path, (str, os.PathLike)) or not str(self.path).strip():
            raise ValueError(f"path={quoted(self.path)}: give a file name ending in .gif, .mp4 or .webm")
        object.__setattr__(self, "path", str(self.path))
        suffix = Path(self.path).suffix.lower()
        if suffix not in FORMATS:
            raise ValueError(f"path={quoted(shorten(self.path, 120))}: the name must end in .gif, .mp4 or .webm "
                             "(the format)")
        _integer("width", self.width, *WIDTH_RANGE, " pixels")
        _integer("fps", self.fps, *FPS_RANGE, " frames per second")
        seconds = self.seconds
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float, np.integer, np.floating)) \
                or not SECONDS_RANGE[0] <= seconds <= SECONDS_RANGE[1]:
            raise ValueError(f"seconds={quoted(seconds)}: must be a number from {SECONDS_RANGE[0]} to "
                             f"{SECONDS_RANGE[1]}")
        object.__setattr__(self, "seconds", float(seconds))
        for name in ("first_epoch", "last_epoch"):
            value = getattr(self, name)
            if value is not None:
                _integer(name, value, 0, 10**9)
        if self.first_epoch is not None and self.last_epoch is not None and self.first_epoch >= self.last_epoch:
            raise ValueError(f"first_epoch={self.first_epoch}: must be before last_epoch={self.last_epoch}")
        if self.spacing not in SPACINGS:
            raise ValueError(f"spacing={quoted(self.spacing)}: allowed are {', '.join(SPACINGS)}")
        if not isinstance(self.layout, str) or not self.layout:
            raise ValueError(f"layout={quoted(self.layout)}: {GRID!r} or the name of a run")
        if not isinstance(self.curves, (bool, np.bool_)):
            raise ValueError(f"curves={quoted(self.curves)}: must be true or false")
        if self.format == "gif" and self.fps > GIF_MAX_FPS:
            raise ValueError(f"fps={self.fps}: a GIF plays at most {GIF_MAX_FPS} frames per second (its delays are "
                             "hundredths of a second); choose 1 to 50, or .mp4/.webm")
        if self.format != "gif" and self.width % 2:
            raise ValueError(f"width={self.width}: {self.format.upper()} needs an even width (yuv420p)")

    @property
    def format(self) -> str:
        """gif, mp4 or webm, from the file's extension."""
        return FORMATS[Path(self.path).suffix.lower()]

    @property
    def frames(self) -> int:
        """Frames in the file: round(fps × seconds)."""
        return max(1, round(self.fps * self.seconds))


# ---- what is animated: a copy of the comparison's runs -------------------------------------------------


@dataclass(frozen=True)
class FilmRun:
    """One run as the animation shows it: its snapshots and its cost per epoch (read-only arrays)."""

    name: str
    colour: str
    epochs: np.ndarray  # (k,) int64, the epochs of the snapshots, increasing, 0 first
    params: tuple  # k read-only parameter vectors
    cost_epochs: np.ndarray  # (m,) the history's epochs
    costs: np.ndarray  # (m,) the training cost at each

    @property
    def last_epoch(self) -> int:
        return int(self.epochs[-1])

    def at(self, epoch: int) -> tuple[int, np.ndarray, float | None]:
        """``(shown epoch, params, cost)`` of the newest snapshot at or before ``epoch``."""
        i = max(0, int(np.searchsorted(self.epochs, epoch, side="right")) - 1)
        shown = int(self.epochs[i])
        j = int(np.searchsorted(self.cost_epochs, shown))
        cost = float(self.costs[j]) if j < len(self.cost_epochs) and self.cost_epochs[j] == shown else None
        return shown, self.params[i], cost


@dataclass(frozen=True)
class Film:
    """What an animation is made from: the shown runs, the network's layout and activation, the data."""

    runs: tuple[FilmRun, ...]
    layout: object  # network.Layout
    activation: str
    data: object  # datasets.Dataset

    @property
    def last_epoch(self) -> int:
        """The newest epoch any run has trained (0 without runs)."""
        return max((run.last_epoch for run in self.runs), default=0)

    def names(self) -> list[str]:
        return [run.name for run in self.runs]


def film_of(comparison, visible_only: bool = True) -> Film:
    """The shown runs (every run when ``visible_only`` is False) of a Comparison, copied consistently.

    The runs are read under ``comparison.lock`` (references to read-only arrays and the histories' lengths);
    the histories' rows up to those lengths, which never change, are read after it is released.
    """
    with comparison.lock:
        start = comparison.start
        taken = []
        for run in comparison.runs.values():
            if visible_only and not run.spec.visible:
                continue
            store = run.snapshots
            epochs = store.epochs
            taken.append((run.spec.name, run.spec.colour, np.array(epochs, dtype=np.int64),
                          tuple(store.nearest(e)[1] for e in epochs), run.history, len(run.history)))
    runs = []
    for name, colour, epochs, params, history, rows in taken:
        cost_epochs = np.array(history.slice("epoch", 0, rows), dtype=np.int64)
        costs = np.array(history.slice("cost", 0, rows), dtype=np.float64)
        for a in (epochs, cost_epochs, costs):
            a.flags.writeable = False
        runs.append(FilmRun(name, colour, epochs, params, cost_epochs, costs))
    return Film(tuple(runs), start.layout, start.shared.activation, start.data)


def frame_epochs(first: int, last: int, count: int, spacing: str = "log") -> np.ndarray:
    """The epoch each of ``count`` frames shows, from ``first`` to ``last``: (count,) int64, non-decreasing.

    "log": evenly in log(1 + epoch); "linear": evenly in epoch. One frame shows ``last``.
    """
    if spacing not in SPACINGS:
        raise ValueError(f"spacing={quoted(spacing)}: allowed are {', '.join(SPACINGS)}")
    t = np.linspace(0.0, 1.0, count) if count > 1 else np.ones(1)
    if spacing == "log":
        epochs = np.expm1(np.log1p(first) + t * (np.log1p(last) - np.log1p(first)))
    else:
        epochs = first + t * (last - first)
    return np.clip(np.rint(epochs), first, last).astype(np.int64)


def checked_range(film: Film, options: AnimationOptions) -> tuple[int, int]:
    """``(first, last)`` epochs of the animation, checked against what was trained; ValueError naming the field."""
    if not film.runs:
        raise ValueError("runs: no run is shown; tick a run in the run list")
    if options.layout != GRID and options.layout not in film.names():
        raise ValueError(f"layout={quoted(options.layout)}: allowed are {GRID!r} or a shown run's name: "
                         f"{', '.join(film.names())}")
    trained = film.last_epoch
    if trained == 0:
        raise ValueError("epochs: nothing trained yet; train the runs first (the animation shows their snapshots)")
    first = 0 if options.first_epoch is None else options.first_epoch
    last = trained if options.last_epoch is None else options.last_epoch
    if not 0 <= first < trained:
        raise ValueError(f"first_epoch={first}: must be from 0 to {trained - 1} (the epochs trained: 0 to {trained})")
    if not first < last <= trained:
        raise ValueError(f"last_epoch={last}: must be from {first + 1} to {trained} (the epochs trained)")
    return first, last


# ---- writing -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnimationResult:
    """What was written."""

    path: str
    format: str
    frames: int
    width: int
    height: int
    nbytes: int
    epochs: np.ndarray  # the epoch of each frame


class _Abort(BaseException):
    """Thrown into ffmpeg's writer on a stop: a BaseException makes imageio-ffmpeg kill ffmpeg at once
    (after an Exception it would wait for ffmpeg to finish the file)."""


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    """A temporary file in ``path``'s folder, renamed over ``path`` (mode from the umask, synced) when the block
    ends normally and removed when it does not. OSErrors become WriteError naming ``path``."""
    if is_folder(path):
        raise WriteError(path, errno.EISDIR, "is a folder; give a file name")
    tmp = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name[:MAX_PREFIX]}.", suffix=f".tmp{path.suffix}",
                                    dir=path.parent)
        tmp = Path(name)
        os.close(fd)
        yield tmp
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600 files
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        if isinstance(exc, WriteError):
            raise
        raise WriteError(path, exc.errno, shorten(error_reason(exc).splitlines()[0] if error_reason(exc) else
                                                  type(exc).__name__, 200)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


class _StoppableFile:
    """A binary file whose writes raise Stopped once ``should_stop()`` says so (Pillow writes a GIF's frames
    only at the end: this lets a stop interrupt that too)."""

    def __init__(self, raw, should_stop: Callable[[], bool]):
        self.raw, self.should_stop = raw, should_stop

    def write(self, data) -> int:
        if self.should_stop():
            raise Stopped
        return self.raw.write(data)

    def __getattr__(self, name):
        return getattr(self.raw, name)


def gif_durations(frames: int, fps: int) -> list[int]:
    """Milliseconds of each GIF frame, whole hundredths of a second that add up to frames / fps seconds."""
    ends = np.rint(np.arange(1, frames + 1) * 100.0 / fps).astype(np.int64)
    return (np.diff(np.r_[0, ends]) * 10).tolist()


def export_animation(film: Film, options: AnimationOptions, progress: Callable[[int, int], None] | None = None,
                     should_stop: Callable[[], bool] | None = None) -> AnimationResult:
    """Draw and encode the animation to ``options.path`` atomically.

    ``progress(done, total)`` is called after each frame (total = frames + 1: the last step finishes the file);
    ``should_stop()`` is asked between frames, before each map of a frame and while the file is written: when
    it says so, training.Stopped is raised and nothing is written. Raises ValueError (bad options for this
    film, naming the field), MissingLibrary (one line: how to install) and files.WriteError (one line).
    """
    fmt = options.format
    require(fmt)
    first, last = checked_range(film, options)
    from nnviz.core.animation_frames import FramePainter

    stop = should_stop if should_stop is not None else (lambda: False)
    count = options.frames
    epochs = frame_epochs(first, last, count, options.spacing)
    large = None if options.layout == GRID else options.layout
    painter = FramePainter(film, options.width, large, options.curves, first, last, options.spacing,
                           even=fmt != "gif", should_stop=stop)
    if fmt == "gif" and options.width * painter.height * count > GIF_MAX_PIXELS:
        raise ValueError(f"seconds={options.seconds:g}: a GIF of {count:,} frames of {options.width} × "
                         f"{painter.height} pixels is too large to make (at most {GIF_MAX_PIXELS:,} pixels in all); "
                         "choose fewer frames or a smaller width, or .mp4/.webm")
    total = count + 1
    report = progress if progress is not None else (lambda done, total: None)

    def frames() -> Iterator[np.ndarray]:
        for i, epoch in enumerate(epochs.tolist()):
            if stop():
                raise Stopped
            image = painter.frame(epoch, i / max(count - 1, 1), stop)
            if image is None:
                raise Stopped
            yield image
            report(i + 1, total)

    path = Path(options.path)
    with _temporary_beside(path) as tmp:
        if fmt == "gif":
            _write_gif(tmp, frames(), painter, epochs, options.fps, stop)
        else:
            _write_video(tmp, frames(), fmt, options.width, painter.height, options.fps, stop)
        if stop():
            raise Stopped
    report(total, total)
    return AnimationResult(str(path), fmt, count, options.width, painter.height, path.stat().st_size, epochs)


def _write_gif(tmp: Path, frames: Iterator[np.ndarray], painter, epochs: np.ndarray, fps: int,
               stop: Callable[[], bool]) -> None:
    """Pillow's GIF writer, every frame mapped to one palette (chosen from a few frames across the animation,
    no dithering: flat colours stay flat, so unchanged pixels stay unchanged between frames and compress)."""
    from PIL import Image

    picks = np.unique(np.linspace(0, len(epochs) - 1, min(GIF_PALETTE_SAMPLES, len(epochs))).round().astype(int))
    samples = []
    for i in picks.tolist():
        image = painter.frame(int(epochs[i]), i / max(len(epochs) - 1, 1), stop)
        if image is None:
            raise Stopped
        samples.append(image)
    # Median cut over a fixed random share of the samples' pixels (the whole of 5 large frames would take seconds,
    # not stoppable) plus the flat colours every frame draws, so those are in the palette exactly.
    pixels = np.concatenate([sample.reshape(-1, 3) for sample in samples])
    if len(pixels) > GIF_PALETTE_PIXELS:
        pixels = pixels[np.random.default_rng(0).choice(len(pixels), GIF_PALETTE_PIXELS, replace=False)]
    flat = np.repeat(np.array(painter.key_colours(), dtype=np.uint8), len(pixels) // 200 + 1, axis=0)
    if stop():
        raise Stopped
    montage = Image.fromarray(np.concatenate([pixels, flat]).reshape(-1, 1, 3))
    palette = montage.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)

    def indexed() -> Iterator[Image.Image]:
        for frame in frames:
            yield Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE)

    images = indexed()
    first = next(images)
    with open(tmp, "wb") as raw:
        first.save(_StoppableFile(raw, stop), format="GIF", save_all=True, append_images=images, loop=0,
                   duration=gif_durations(len(epochs), fps), optimize=True, disposal=1)


def _write_video(tmp: Path, frames: Iterator[np.ndarray], fmt: str, width: int, height: int, fps: int,
                 stop: Callable[[], bool]) -> None:
    """ffmpeg (imageio-ffmpeg's) fed one RGB frame at a time; a stop kills it at once."""
    import imageio_ffmpeg

    codec, params = VIDEO_OPTIONS[fmt]
    writer = imageio_ffmpeg.write_frames(str(tmp), (width, height), fps=fps, codec=codec, quality=None,
                                         macro_block_size=1, pix_fmt_out="yuv420p", output_params=params,
                                         ffmpeg_log_level="error")
    writer.send(None)
    rows = max(1, VIDEO_BLOCK_BYTES // (3 * width))
    try:
        for frame in frames:
            frame = np.ascontiguousarray(frame)
            for start in range(0, height, rows):  # ffmpeg reads a byte stream: a frame may go in blocks
                if stop():
                    raise Stopped
                writer.send(frame[start:start + rows])
    except BaseException:
        with contextlib.suppress(_Abort, StopIteration, Exception):
            writer.throw(_Abort)
        raise
    writer.close()
