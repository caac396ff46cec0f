"""The window's sweep and seeds in session files: Run ▸ Sweep… opens the sweep window, a saved session holds the
sweep's definition and results and the seeds setting, reopening restores them; a malformed sweep is refused."""

import json

import pytest

from nnviz.core.seeds import SeedSettings
from nnviz.core.session import SessionError, parse_session, session_text
from nnviz.core.training import preset_config

CONFIG = preset_config("sgd", n_samples=200, epochs=3)


def sweep_window(qtbot, window):
    window.sweep_action.trigger()
    sw = window.sweeps.sweep_window()
    assert sw is not None
    qtbot.waitExposed(sw)
    return sw


def swept_window(qtbot, make_window):
    """A window whose sweep window has swept α over 3 values: (window, sweep window)."""
    window = make_window(CONFIG)
    window.sweeps.workers = 1
    sw = sweep_window(qtbot, window)
    sw.form.x.fill("learning_rate", 0.01, 0.3, "log", 3)
    sw.form.y.fill(None)
    with qtbot.waitSignal(sw.sweep_finished, timeout=60000):
        sw.run_button.click()
    return window, sw


def test_the_sweep_and_the_seeds_go_into_the_session_and_come_back(qtbot, make_window, tmp_path):
    window, sw = swept_window(qtbot, make_window)
    results = sw.study.results()
    assert len(results) == 3
    window.controller.seeds.set_settings(SeedSettings(2, "data"))
    path = tmp_path / "s.nnviz.json"
    assert window.save_session_to(path)
    doc = json.loads(path.read_text())
    assert doc["sweep"] == sw.to_doc() and doc["seeds"]["count"] == 2

    other = make_window(CONFIG)
    assert other.sweeps.sweep_window() is None
    assert other.open_session_from(path)
    restored = other.sweeps.sweep_window()
    assert restored is not None and restored.study.results() == results
    assert restored.to_doc() == doc["sweep"]
    assert other.controller.model.seeds.settings == SeedSettings(2, "data")


def test_a_malformed_sweep_in_a_session_is_refused_naming_the_field():
    from nnviz.core.specs import RunSpec, SharedSettings

    text = session_text(SharedSettings(), [RunSpec()], sweep={"definition": {}, "results": []})
    with pytest.raises(SessionError) as error:
        parse_session(text, "f.json")
    assert str(error.value).startswith("f.json: sweep.") and "\n" not in str(error.value)


def test_opening_a_session_while_a_sweep_runs_shows_the_sessions_sweep_alone(qtbot, make_window, tmp_path):
    """Found by the monkey test: cells of the sweep under way reached the restored study (duplicates)."""
    window, sw = swept_window(qtbot, make_window)
    path = tmp_path / "s.nnviz.json"
    assert window.save_session_to(path)
    saved = sw.study.results()
    sw.form.x.fill("learning_rate", 0.01, 0.3, "log", 40)
    sw.form.y.fill("momentum", 0.0, 0.9, "lin", 40)
    sw.run_button.click()
    qtbot.waitUntil(lambda: sw.study.done > 0, timeout=60000)
    assert window.open_session_from(path)
    qtbot.wait(300)  # news of the stopped sweep, had it been queued, would have arrived
    restored = window.sweeps.sweep_window()
    assert restored.study.results() == saved and not restored.running
    assert restored.run_button.isEnabled()


def test_the_seeds_are_remembered_at_the_next_start(qtbot, make_window, settings):
    window = make_window(CONFIG)
    window.controller.seeds.set_settings(SeedSettings(3, "both", shown=2))
    qtbot.waitUntil(lambda: window.controller.seed_settings.shown == 2, timeout=10000)
    window.close()
    again = make_window(None, settings=settings)
    qtbot.waitUntil(lambda: again.controller.seed_settings == SeedSettings(3, "both", shown=2), timeout=10000)
    assert again.panel.seeds.count.value() == 3
    assert again.model.shared.init_seed == CONFIG.init_seed  # the user's own seeds, the offset shown apart


def test_a_session_without_a_sweep_leaves_no_sweep_behind(qtbot, make_window, tmp_path):
    """Found in review: the last comparison's sweep went into the next session's file."""
    window, sw = swept_window(qtbot, make_window)
    plain = tmp_path / "plain.nnviz.json"
    plain.write_text(session_text(window.model.shared, window.model.specs()))
    assert window.open_session_from(plain)
    assert sw.study is None and sw.pages.currentWidget() is sw.placeholder
    again = tmp_path / "again.nnviz.json"
    assert window.save_session_to(again)
    assert "sweep" not in json.loads(again.read_text())
    assert window.new_comparison() and window.sweeps.to_doc() is None
