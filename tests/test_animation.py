"""The training as an animation (core/animation.py): the files open, have the frames and size asked, and show
the training; epochs are spaced as asked; a stop or a failure writes nothing; bad options are refused by name."""

import os
import sys

import imageio.v2 as imageio_v2
import imageio.v3 as iio
import numpy as np
import pytest

from nnviz.core.animation import (
    AnimationOptions,
    MissingLibrary,
    export_animation,
    film_of,
    frame_epochs,
    gif_durations,
)
from nnviz.core.comparison import Comparison, RunSpec, SharedSettings
from nnviz.core.files import WriteError
from nnviz.core.training import Stopped

SHARED = SharedSettings(dataset="moons", n_samples=80, noise=0.2, data_seed=7, shape=(2, 5, 3, 1), init_seed=11,
                        engine="numpy")
RUNS = [RunSpec("fast", "#1f77b4", learning_rate=0.5, batch_size=8, epochs=20),
        RunSpec("slow", "#d62728", learning_rate=0.05, batch_size=8, epochs=12)]
SMALL = {"width": 320, "fps": 5, "seconds": 2}  # 10 frames


@pytest.fixture(scope="module")
def trained():
    comparison = Comparison(SHARED, RUNS)
    comparison.run_to_end()
    return comparison


@pytest.fixture(scope="module")
def film(trained):
    return film_of(trained)


def read_frames(path) -> np.ndarray:
    """Every frame of an animation file, as imageio decodes it: (frames, height, width, 3)."""
    if str(path).endswith(".gif"):
        return iio.imread(path, index=None)[..., :3]
    with imageio_v2.get_reader(str(path)) as reader:
        return np.stack([frame for frame in reader])


@pytest.mark.parametrize("suffix", [".gif", ".mp4", ".webm"])
def test_the_file_opens_with_the_frames_and_width_asked_and_shows_the_training(tmp_path, film, suffix):
    path = tmp_path / f"training{suffix}"
    result = export_animation(film, AnimationOptions(str(path), **SMALL))
    frames = read_frames(path)
    assert frames.shape[0] == 10 == result.frames
    assert frames.shape[2] == 320 == result.width
    assert frames.shape[1] == result.height and result.nbytes == path.stat().st_size
    # The maps change from the start to the end of training.
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1.0


def test_frame_count_follows_fps_and_seconds_and_the_epochs_span_the_training(tmp_path, film):
    path = tmp_path / "a.gif"
    result = export_animation(film, AnimationOptions(str(path), width=240, fps=4, seconds=3.5))
    assert len(read_frames(path)) == 14 == len(result.epochs)
    assert result.epochs[0] == 0 and result.epochs[-1] == 20  # the longest run's last epoch
    assert sum(gif_durations(14, 4)) == 3500


def test_log_spacing_shows_the_early_epochs_that_linear_spacing_skips():
    log = frame_epochs(0, 2000, 50, "log")
    linear = frame_epochs(0, 2000, 50, "linear")
    assert log[0] == linear[0] == 0 and log[-1] == linear[-1] == 2000
    assert np.all(np.diff(log) >= 0) and np.all(np.diff(linear) >= 0)
    assert len(set(log[log <= 10].tolist())) >= 5  # 0, 1, 2, ... get frames of their own
    assert set(linear[linear <= 10].tolist()) == {0}
    assert frame_epochs(5, 9, 3, "linear").tolist() == [5, 7, 9]


def test_an_epoch_range_is_animated_and_each_run_shows_its_newest_snapshot_at_or_before(tmp_path, film):
    result = export_animation(film, AnimationOptions(str(tmp_path / "a.gif"), first_epoch=3, last_epoch=15,
                                                     spacing="linear", **SMALL))
    assert result.epochs[0] == 3 and result.epochs[-1] == 15
    slow = film.runs[1]
    shown, params, cost = slow.at(15)  # the slow run stopped at 12: it stays at its end
    assert shown == 12 and cost == pytest.approx(slow.costs[-1])
    assert np.array_equal(params, slow.params[-1])


def test_the_layout_of_one_run_large_and_without_curves(tmp_path, film):
    grid = export_animation(film, AnimationOptions(str(tmp_path / "grid.gif"), **SMALL))
    large = export_animation(film, AnimationOptions(str(tmp_path / "large.gif"), layout="slow", **SMALL))
    bare = export_animation(film, AnimationOptions(str(tmp_path / "bare.gif"), curves=False, **SMALL))
    assert large.width == grid.width == bare.width == 320
    assert bare.height < grid.height
    assert not np.array_equal(read_frames(tmp_path / "grid.gif")[-1], read_frames(tmp_path / "large.gif")[-1])


def test_the_film_is_a_copy_training_goes_on_without_changing_it():
    comparison = Comparison(SHARED, [RUNS[0], RunSpec("hidden", "#2ca02c", visible=False, epochs=5)])
    for _ in range(5):
        comparison.step()
    film = film_of(comparison)
    assert [run.name for run in film.runs] == ["fast"]  # hidden runs are not shown
    before = film.runs[0].epochs.copy(), film.runs[0].costs.copy()
    comparison.run_to_end()
    assert np.array_equal(film.runs[0].epochs, before[0]) and np.array_equal(film.runs[0].costs, before[1])
    assert film.last_epoch == 5 and film_of(comparison).last_epoch == 20


def stop_after(calls: int):
    """A should_stop that says stop from its ``calls``-th question on."""
    asked = []

    def should_stop():
        asked.append(1)
        return len(asked) >= calls

    return should_stop


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
@pytest.mark.parametrize("when", ["rendering", "finishing"])
def test_a_stop_writes_nothing_and_leaves_an_existing_file_intact(tmp_path, film, suffix, when):
    path = tmp_path / f"old{suffix}"
    path.write_bytes(b"the user's old file")
    done = []
    stop = {"flag": False}

    def progress(frames, total):
        done.append(frames)
        if (when == "rendering" and frames == 3) or (when == "finishing" and frames == total - 1):
            stop["flag"] = True  # as Cancel does: from another thread, at any moment

    with pytest.raises(Stopped):
        export_animation(film, AnimationOptions(str(path), **SMALL), progress, lambda: stop["flag"])
    assert path.read_bytes() == b"the user's old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left
    assert done[-1] < 11


def test_a_stop_is_seen_inside_a_frame(tmp_path, film):
    # Asked before each map of a frame, not only between frames: the first frame's second question stops it.
    with pytest.raises(Stopped):
        export_animation(film, AnimationOptions(str(tmp_path / "a.gif"), **SMALL), None, stop_after(2))
    assert list(tmp_path.iterdir()) == []


def test_the_file_gets_the_mode_the_umask_implies(tmp_path, film):
    old = os.umask(0o027)
    try:
        export_animation(film, AnimationOptions(str(tmp_path / "a.gif"), **SMALL))
    finally:
        os.umask(old)
    assert (tmp_path / "a.gif").stat().st_mode & 0o777 == 0o640


def test_a_write_failure_is_one_line_and_leaves_nothing(tmp_path, film):
    with pytest.raises(WriteError) as failure:
        export_animation(film, AnimationOptions(str(tmp_path / "missing" / "a.gif"), **SMALL))
    assert "\n" not in str(failure.value) and "a.gif: cannot write" in str(failure.value)
    (tmp_path / "folder.gif").mkdir()
    with pytest.raises(WriteError, match="is a folder"):
        export_animation(film, AnimationOptions(str(tmp_path / "folder.gif"), **SMALL))
    assert [p.name for p in tmp_path.iterdir()] == ["folder.gif"]


@pytest.mark.parametrize("changes, message", [
    ({"path": "a.png"}, "path='a.png': the name must end in .gif, .mp4 or .webm"),
    ({"path": ""}, "path=''"),
    ({"width": 100}, "width=100: must be an integer from 160 to 3840 pixels"),
    ({"width": 5000}, "width=5000: must be an integer from 160 to 3840"),
    ({"width": 800.0}, "width=800.0: must be an integer"),
    ({"fps": 0}, "fps=0: must be an integer from 1 to 60"),
    ({"fps": 61, "path": "a.mp4"}, "fps=61: must be an integer from 1 to 60"),
    ({"fps": 55}, "fps=55: a GIF plays at most 50 frames per second"),
    ({"seconds": 0.5}, "seconds=0.5: must be a number from 1 to 600"),
    ({"seconds": 601}, "seconds=601: must be a number from 1 to 600"),
    ({"seconds": float("nan")}, "seconds=nan"),
    ({"first_epoch": -1}, "first_epoch=-1: must be an integer"),
    ({"first_epoch": 5, "last_epoch": 5}, "first_epoch=5: must be before last_epoch=5"),
    ({"spacing": "cubic"}, "spacing='cubic': allowed are log, linear"),
    ({"layout": ""}, "layout=''"),
    ({"curves": "yes"}, "curves='yes': must be true or false"),
    ({"width": 801, "path": "a.webm"}, "width=801: WEBM needs an even width"),
])
def test_invalid_options_are_refused_naming_the_field_and_range(changes, message):
    with pytest.raises(ValueError) as refused:
        AnimationOptions(**{"path": "a.gif", **changes})
    assert message in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("changes, message", [
    ({"layout": "nobody"}, "layout='nobody': allowed are 'grid' or a shown run's name: fast, slow"),
    ({"last_epoch": 21}, "last_epoch=21: must be from 1 to 20 (the epochs trained)"),
    ({"first_epoch": 20}, "first_epoch=20: must be from 0 to 19"),
])
def test_options_beyond_what_was_trained_are_refused(tmp_path, film, changes, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        export_animation(film, AnimationOptions(str(tmp_path / "a.gif"), **SMALL, **changes))
    assert list(tmp_path.iterdir()) == []


def test_nothing_trained_or_no_run_shown_is_refused(tmp_path):
    untrained = film_of(Comparison(SHARED, RUNS))
    with pytest.raises(ValueError, match="nothing trained yet"):
        export_animation(untrained, AnimationOptions(str(tmp_path / "a.gif")))
    hidden = film_of(Comparison(SHARED, [RunSpec("h", "#1f77b4", visible=False)]))
    with pytest.raises(ValueError, match="no run is shown"):
        export_animation(hidden, AnimationOptions(str(tmp_path / "a.gif")))


@pytest.mark.parametrize("module, suffix", [("PIL", ".gif"), ("imageio_ffmpeg", ".mp4")])
def test_a_missing_library_says_how_to_install_it(tmp_path, film, monkeypatch, module, suffix):
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    with pytest.raises(MissingLibrary) as missing:
        export_animation(film, AnimationOptions(str(tmp_path / f"a{suffix}"), **SMALL))
    assert str(missing.value).endswith("pip install 'nnviz[animation]'") and "\n" not in str(missing.value)
    assert list(tmp_path.iterdir()) == []


def test_the_window_and_the_command_line_start_without_the_animation_libraries():
    import subprocess

    from helpers import ROOT

    code = ("import sys, nnviz.cli, nnviz.gui.app, nnviz.gui.main_window, nnviz.core.animation; "
            "print(sorted(m for m in ('PIL', 'imageio', 'imageio_ffmpeg') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr[-2000:]
