"""The sweep window as a new user found it: it follows edits of the run, a failed Run keeps the map shown
before and marks the scheduler, a refusal goes once the field is edited and never moves the buttons, and the
tooltips say what the form's fields do."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from nnviz.core import cluster
from nnviz.core.training import preset_config

CONFIG = preset_config("sgd", n_samples=200, epochs=3)


def sweep_window(qtbot, window):
    window.sweeps.workers = 1
    window.sweep_action.trigger()
    sw = window.sweeps.sweep_window()
    qtbot.waitExposed(sw)
    sw.form.x.fill("learning_rate", 0.01, 0.3, "log", 3)
    sw.form.y.fill(None)
    return sw


def run(qtbot, sw):
    with qtbot.waitSignal(sw.sweep_finished, timeout=60000) as ended:
        sw.run_button.click()
    return ended.args[0]


def test_the_next_sweep_trains_the_run_as_it_is_now(qtbot, make_window):
    window = make_window(CONFIG)
    sw = sweep_window(qtbot, window)
    run_id = window.selected_run_id
    window.controller.edit_run(run_id, batch_size=8, learning_rate=0.05)
    assert run(qtbot, sw) == "finished"
    base = sw.study.definition.base
    assert (base.batch_size, base.learning_rate) == (8, 0.05)
    assert "batch 8" in sw.intro.text()
    other = window.controller.add_run(window.model[run_id].spec.replace(name="other", batch_size=16))
    window.controller.select(other)
    assert "“other”" in sw.intro.text() and "batch 16" in sw.intro.text()


def test_a_failed_run_keeps_the_map_and_marks_the_scheduler(qtbot, make_window, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 0.5)
    window = make_window(CONFIG)
    sw = sweep_window(qtbot, window)
    assert run(qtbot, sw) == "finished"
    shown = sw.study.results()
    sw.form.scheduler.setText("tcp://127.0.0.1:1")
    assert run(qtbot, sw) == "failed"
    assert sw.study.results() == shown and len(shown) == 3  # the map before the failed Run
    assert "cannot connect" in sw.status.text() and "cannot connect" in sw.form.message.text()
    assert sw.form.scheduler.styleSheet() != "" and sw.run_button.isEnabled()


def test_a_refusal_goes_when_the_field_is_edited_and_the_buttons_stay_put(qtbot, make_window):
    window = make_window(CONFIG)
    sw = sweep_window(qtbot, window)
    y_before = sw.run_button.mapTo(sw, sw.run_button.rect().topLeft()).y()
    sw.form.x.count.setText("100")
    assert not sw.run()
    QApplication.processEvents()
    assert "count 100" in sw.form.message.text() and sw.form.x.count.styleSheet() != ""
    assert sw.run_button.mapTo(sw, sw.run_button.rect().topLeft()).y() == y_before
    qtbot.keyClick(sw.form.x.count, "0")  # the user edits the marked field
    assert sw.form.message.text() == "" and sw.form.x.count.styleSheet() == ""


def test_the_forms_tooltips(qtbot, make_window):
    window = make_window(CONFIG)
    sw = sweep_window(qtbot, window)
    assert "drag" not in sw.form.x.setting.toolTip().lower()
    assert "seed 1 is the run's own seeds" in sw.form.seeds.toolTip()
    assert sw.form.seed_kind.toolTip() and sw.form.metric.toolTip()


def test_before_the_first_sweep_the_window_says_what_to_do_and_ctrl_enter_runs(qtbot, make_window):
    window = make_window(CONFIG)
    sw = sweep_window(qtbot, window)
    assert sw.pages.currentWidget() is sw.placeholder and "press Run" in sw.placeholder.text()
    sw.activateWindow()
    sw.form.x.count.setFocus()
    qtbot.waitUntil(sw.isActiveWindow, timeout=3000)
    with qtbot.waitSignal(sw.sweep_finished, timeout=60000):
        qtbot.keyClick(sw.form.x.count, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert sw.pages.currentWidget() is sw.view and len(sw.study.results()) == 3
    assert "band" not in sw.view.legend.text  # one seed: no band to speak of


def test_a_sweep_stopped_by_closing_keeps_every_cell_it_finished(qtbot, make_window):
    """Found in review: the cells of the last batch, still on their way to the window, were lost."""
    window = make_window(CONFIG.replace(epochs=300))
    sw = sweep_window(qtbot, window)
    sw.form.x.fill("learning_rate", 0.01, 0.3, "log", 40)
    stop, returned = sw.runner.stop, []
    sw.runner.stop = lambda: returned.extend(stop()) or list(returned)  # a spy on what the sweep returned
    with qtbot.waitSignal(sw.cells_arrived, timeout=60000):
        sw.run_button.click()
    sw.close()  # stops the sweep
    assert returned and sorted(r.index for r in sw.study.results()) == sorted(r.index for r in returned)
    assert not sw.running and "kept" in sw.status.text()
