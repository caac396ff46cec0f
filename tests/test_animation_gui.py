"""File ▸ Export ▸ The training as an animation…: the dialog's state and refusals, the rendering in a thread with
progress and Cancel, and the colours shared with the window's maps."""

import sys

import imageio.v3 as iio
import pytest
from helpers import run_main, run_to_end
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from nnviz.core import animation_frames
from nnviz.core.training import preset_config
from nnviz.gui import map_shared


@pytest.fixture
def trained(qtbot, make_window):
    """A window whose sgd run (200 points) trained its 20 epochs."""
    window = make_window(preset_config("sgd", n_samples=200, epochs=20))
    run_to_end(qtbot, window)
    return window


@pytest.fixture
def out(tmp_path):
    """A folder for the animations alone (the window's settings file is in tmp_path)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def open_dialog(qtbot, window):
    window.export_animation_action.trigger()
    dialog = window.animation.dialog
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def small(dialog, path, seconds=2):
    dialog.path.setText(str(path))
    dialog.width_box.setValue(320)
    dialog.fps.setValue(5)
    dialog.seconds.setValue(seconds)


def test_the_animation_draws_with_the_windows_colours():
    for name in ("BACKGROUND", "FOREGROUND", "CLASS_COLORS", "CONTOUR_COLOR", "MARGIN", "PROBABILITY_STOPS",
                 "PROBABILITY_COLORS"):
        assert getattr(animation_frames, name) == getattr(map_shared, name), name
    assert (animation_frames.probability_lut() == map_shared.probability_lut()).all()


def test_the_action_is_in_the_export_menu_and_the_dialog_shows_the_defaults(qtbot, trained):
    assert trained.export_animation_action in trained.export_menu.actions()
    dialog = open_dialog(qtbot, trained)
    assert dialog.width_box.value() == 800 and dialog.fps.value() == 20 and dialog.seconds.value() == 10
    assert (dialog.first.value(), dialog.last.value()) == (0, 20) and dialog.last.maximum() == 20
    assert dialog.spacing.currentData() == "log" and dialog.layout_choice.currentData() == "grid"
    assert dialog.layout_choice.findData(trained.model.specs()[0].name) == 1  # a run's name: that run large
    assert dialog.curves.isChecked()
    assert dialog.path.text().endswith("training.gif") and dialog.format_label.text().startswith("GIF")
    assert "200 frames of 800 px, epochs 0 to 20" == dialog.summary.text()
    dialog.path.setText("clip.webm")
    assert dialog.format_label.text().startswith("WebM")
    for widget in (dialog.path, dialog.width_box, dialog.fps, dialog.seconds, dialog.spacing, dialog.curves):
        assert widget.toolTip()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.result() == 0


@pytest.mark.parametrize("change, message", [
    (lambda d: d.path.setText("clip.png"), "must end in .gif, .mp4 or .webm"),
    (lambda d: (d.path.setText("clip.mp4"), d.width_box.setValue(801)), "width=801: MP4 needs an even width"),
    (lambda d: d.fps.setValue(60), "fps=60: a GIF plays at most 50 frames per second"),
    (lambda d: (d.first.setValue(10), d.last.setValue(10)), "first_epoch=10: must be before last_epoch=10"),
])
def test_bad_values_are_refused_in_one_line_and_the_dialog_stays_open(qtbot, trained, out, change, message):
    dialog = open_dialog(qtbot, trained)
    dialog.path.setText(str(out / "a.gif"))
    change(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter: Export
    assert dialog.isVisible() and message in dialog.message.text() and "\n" not in dialog.message.text()
    assert not trained.animation.running and list(out.iterdir()) == []
    dialog.width_box.setValue(320)  # any edit clears the message
    assert dialog.message.text() == ""
    dialog.reject()


def test_a_missing_library_is_one_line_in_the_dialog(qtbot, trained, out, monkeypatch):
    dialog = open_dialog(qtbot, trained)
    small(dialog, out / "a.mp4")
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    dialog.export_button.click()
    assert dialog.isVisible() and dialog.message.text().endswith("pip install 'nnviz[animation]'")
    dialog.reject()


def test_export_writes_the_file_with_progress_and_says_so(qtbot, trained, out):
    dialog = open_dialog(qtbot, trained)
    small(dialog, out / "a.gif")
    with qtbot.waitSignal(trained.animation.saved, timeout=20000) as saved:
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
        assert trained.animation.progress_dialog is not None
    assert saved.args == [str(out / "a.gif")]
    frames = iio.imread(out / "a.gif", index=None)
    assert frames.shape[0] == 10 and frames.shape[2] == 320
    assert trained.message.text().startswith(f"saved {out / 'a.gif'} (10 frames, 320 × ")
    assert trained.animation.progress_dialog is None and not trained.animation.running


def test_cancel_stops_and_writes_nothing(qtbot, trained, out):
    path = out / "old.gif"
    path.write_bytes(b"old")
    dialog = open_dialog(qtbot, trained)
    small(dialog, path, seconds=600)  # 3,000 frames: minutes of work
    dialog.export_button.click()
    runner = trained.animation
    qtbot.waitUntil(lambda: runner.progress_dialog.value() > 0, timeout=20000)
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.progress_dialog.findChild(QPushButton).click()  # the progress dialog's Cancel button
    assert path.read_bytes() == b"old" and [p.name for p in out.iterdir()] == ["old.gif"]
    assert "cancelled, nothing written" in trained.message.text() and not runner.running


def test_export_while_training_goes_on(qtbot, make_window, out):
    window = make_window(preset_config("sgd", n_samples=200, epochs=100000))
    window.start()
    qtbot.waitUntil(lambda: window.model.runs[window.selected_run_id].epoch > 5, timeout=20000)
    dialog = open_dialog(qtbot, window)
    small(dialog, out / "a.mp4")
    with qtbot.waitSignal(window.animation.saved, timeout=20000):
        dialog.export_button.click()
    assert window.playing  # training was not stopped
    window.pause()
    assert (out / "a.mp4").stat().st_size > 0


def test_closing_the_window_stops_the_rendering(qtbot, trained, out):
    dialog = open_dialog(qtbot, trained)
    small(dialog, out / "a.gif", seconds=600)
    dialog.export_button.click()
    runner = trained.animation
    qtbot.waitUntil(lambda: runner.progress_dialog.value() > 0, timeout=20000)
    thread = runner.thread
    trained.close()
    assert not thread.isRunning() and list(out.iterdir()) == []


def test_a_failure_is_shown_in_a_message_box(qtbot, trained, out):
    dialog = open_dialog(qtbot, trained)
    small(dialog, out / "missing" / "a.gif")
    with qtbot.waitSignal(trained.animation.failed, timeout=20000) as failed:
        dialog.export_button.click()
    assert "a.gif: cannot write" in failed.args[0]
    assert trained.alert is not None and "cannot write" in trained.alert.text()


def test_the_scripted_window_trains_renders_and_exits(tmp_path):
    from nnviz.core.comparison import RunSpec, SharedSettings
    from nnviz.core.session import save_session

    session = tmp_path / "two.nnviz.json"
    shared = SharedSettings(dataset="moons", n_samples=100, noise=0.2, shape=(2, 4, 1), engine="numpy")
    save_session(session, shared, [RunSpec("fast", "#1f77b4", learning_rate=0.5, batch_size=10, epochs=20),
                                   RunSpec("slow", "#d62728", learning_rate=0.05, batch_size=10, epochs=20)])
    out = tmp_path / "training.gif"
    done = run_main("--session", str(session), "--run", "--animation", str(out), "--animation-seconds", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == f"saved {out}"
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == 40 and frames.shape[2] == 800  # 2 s at 20 frames per second, 800 px: the defaults
    assert (frames[0] != frames[-1]).any()


@pytest.mark.parametrize("args, message", [
    (["--animation", "a.png"], "--animation: path='a.png': the name must end in .gif, .mp4 or .webm"),
    (["--animation", "a.gif", "--animation-seconds", "601"],
     "--animation-seconds: 601 is out of range; allowed: an integer from 1 to 600"),
    (["--animation-seconds", "5"], "--animation-seconds: give --animation OUT too"),
    (["--animation", "no-such-folder/a.gif"], "--animation no-such-folder/a.gif: folder"),
])
def test_scripted_bad_values_exit_2_in_one_line(tmp_path, args, message):
    done = run_main(*args)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
