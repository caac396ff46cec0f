"""The parameter panel: full batch, presets, noise for 'hard', the decay default, keys, debounce, messages."""

import pytest
from helpers import shown
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QComboBox, QVBoxLayout, QWidget

from nnviz.core.comparison import RESTART_ALL, SHARED_FIELDS, TRAINING_FIELDS, SharedSettings, edit_effect
from nnviz.core.text import FULL_BATCH
from nnviz.core.training import TrainConfig, load_presets, preset_config
from nnviz.gui.controls import ALLOWED, NOTEBOOK_GAMMA, ParameterPanel

OWN_DATA = TrainConfig(dataset="moons", n_samples=200, noise=0.3, test_fraction=0.2, data_seed=7, shape=(2, 5, 5, 1),
                       activation="tanh", init_seed=9, init="glorot", learning_rate=0.2, batch_size=16, epochs=40)


@pytest.fixture
def panel(qtbot):
    return shown(qtbot, ParameterPanel(), 380, 900)


@pytest.fixture
def window(qtbot):
    """The panel in a window with the main window's Space shortcut (start / pause)."""
    window = QWidget()
    panel = ParameterPanel()
    QVBoxLayout(window).addWidget(panel)
    window.start = QAction("Start", window)
    window.start.setShortcut(QKeySequence(Qt.Key.Key_Space))
    window.start.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    window.addAction(window.start)
    window.panel = panel
    shown(qtbot, window, 380, 900)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def _text(panel, name):
    return panel.fields[name].edit.text()


# ---- 1. full batch --------------------------------------------------------------------------------------------------


def test_full_batch_shows_full_never_its_number(qtbot, panel):
    panel.set_config(OWN_DATA.replace(batch_size=FULL_BATCH))
    edit = panel.fields["batch_size"].edit
    assert panel.full_batch.isChecked() and not edit.isEnabled()
    assert edit.text() == "full" and str(FULL_BATCH) not in edit.text()
    assert panel.config().batch_size == FULL_BATCH
    panel.full_batch.setChecked(False)  # back to a number
    assert edit.isEnabled() and edit.text() == "32" and panel.config().batch_size == 32
    edit.setText("64")
    panel.full_batch.setChecked(True)
    assert edit.text() == "full" and panel.config().batch_size == FULL_BATCH
    panel.full_batch.setChecked(False)
    assert edit.text() == "64"  # the size typed before comes back


# ---- 4. presets set the training settings only ---------------------------------------------------------------------


def test_a_preset_sets_the_training_settings_only_and_says_which(qtbot, panel):
    panel.set_config(OWN_DATA)
    texts = {name: _text(panel, name) for name in ("n_samples", "noise", "test_fraction", "data_seed", "hidden",
                                                    "init_seed")}
    index = panel.preset.findData("decay")
    with qtbot.waitSignal(panel.preset_chosen, timeout=1000) as chosen, \
            qtbot.waitSignal(panel.committed, timeout=1000):
        panel.preset.setCurrentIndex(index)
        panel.preset.activated.emit(index)  # what a pick in the list does
    assert chosen.args == ["decay"]
    config = panel.config()
    assert {n: getattr(config, n) for n in SHARED_FIELDS} == {n: getattr(OWN_DATA, n) for n in SHARED_FIELDS}
    decay = preset_config("decay")
    assert {n: getattr(config, n) for n in TRAINING_FIELDS} == {n: getattr(decay, n) for n in TRAINING_FIELDS}
    assert {name: _text(panel, name) for name in texts} == texts
    assert panel.dataset.currentText() == "moons" and panel.activation.currentText() == "tanh"
    assert panel.init.currentText() == "glorot"  # the preset says its init, but a preset sets training only
    assert panel.preset.currentData() == "decay"
    # A training edit leaves the preset's settings: the box no longer names it.
    panel.fields["learning_rate"].edit.setText("0.5")
    assert panel.preset.currentData() is None


def test_load_preset_keeps_the_data_and_network(qtbot, panel):
    panel.set_config(OWN_DATA)
    with qtbot.assertNotEmitted(panel.preset_chosen):  # only a pick by the user says it
        panel.load_preset("mini-batch")
    assert panel.config() == OWN_DATA.replace(**{n: getattr(preset_config("mini-batch"), n) for n in TRAINING_FIELDS})


# ---- initial weights (issue 9) ---------------------------------------------------------------------------------------


def test_the_init_box_offers_the_three_schemes_and_feeds_the_config(qtbot, panel):
    box = panel.findChild(QComboBox, "init")
    assert box is panel.init and [box.itemText(i) for i in range(box.count())] == ["notebook", "glorot", "he"]
    assert panel.config().init == "notebook"  # the default, bit for bit as the notebook
    before = panel.config()
    with qtbot.waitSignal(panel.committed, timeout=1000):  # a choice is settled at once
        box.setCurrentText("he")
    after = panel.config()
    assert after == before.replace(init="he")
    # A change of init is a change of the shared start: every run goes back to epoch 0.
    assert edit_effect(None, None, SharedSettings.from_config(before), SharedSettings.from_config(after)) \
        == RESTART_ALL


def test_set_config_shows_the_init(qtbot, panel):
    for init in ("he", "glorot", "notebook"):
        panel.set_config(OWN_DATA.replace(init=init))
        assert panel.init.currentText() == init and panel.config() == OWN_DATA.replace(init=init)


def test_the_init_tooltip_gives_the_three_formulas(qtbot, panel):
    tip = panel.init.toolTip()
    for text in ("notebook: W, b ~ N(0, 0.5)", "glorot: W ~ N(0, 2/(fan_in + fan_out))", "he: W ~ N(0, 2/fan_in)",
                 "b = 0", "epoch 0"):
        assert text in tip, text


def test_every_preset_says_its_init(qtbot):
    presets = load_presets()
    assert {name: fields.get("init") for name, fields in presets.items()} == dict.fromkeys(presets, "notebook")
    assert all(preset_config(name).init == "notebook" for name in presets)
    assert "description" not in presets["sgd"]  # only TrainConfig fields are kept


# ---- 5. noise for 'hard' -------------------------------------------------------------------------------------------


def test_noise_is_greyed_for_hard_and_says_why(qtbot, panel):
    panel.set_config(OWN_DATA)
    noise = panel.fields["noise"].edit
    assert noise.isEnabled()
    panel.dataset.setCurrentText("hard")
    assert not noise.isEnabled() and "hard" in noise.toolTip() and "Not used" in noise.toolTip()
    panel.dataset.setCurrentText("circle")
    assert noise.isEnabled() and "Not used" not in noise.toolTip()
    noise.setText("5")  # refused, then 'hard' chosen: the field it cannot be edited in must not block
    assert "noise" in panel.errors()
    panel.dataset.setCurrentText("hard")
    assert panel.config() is not None and panel.config().noise == 0.3 and not noise.isEnabled()
    panel.set_config(preset_config("sgd"))
    assert not noise.isEnabled()


# ---- 6. the exponential schedule starts at the notebook's decay -----------------------------------------------------


def test_exponential_schedule_starts_at_the_notebooks_gamma(qtbot, panel):
    panel.set_config(OWN_DATA.replace(gamma=0.0))
    with qtbot.waitSignal(panel.changed, timeout=1000):
        panel.schedule.setCurrentText("exponential")
    assert panel.config().gamma == NOTEBOOK_GAMMA == 0.015 and _text(panel, "gamma") == "0.015"
    assert panel.fields["gamma"].edit.isVisibleTo(panel)
    panel.fields["gamma"].edit.setText("0.2")
    panel.schedule.setCurrentText("constant")
    panel.schedule.setCurrentText("exponential")
    assert panel.config().gamma == 0.2  # a γ of the user's own stays
    panel.set_config(OWN_DATA.replace(schedule="exponential", gamma=0.0))  # a given config is shown as it is
    assert panel.config().gamma == 0.0


# ---- 8. keys in a text field ---------------------------------------------------------------------------------------


def test_tab_into_a_field_then_space_does_not_replace_its_text_nor_start(qtbot, window):
    panel = window.panel
    edit = panel.fields["learning_rate"].edit
    before = edit.text()
    panel.lr_slider.setFocus()
    qtbot.waitUntil(panel.lr_slider.hasFocus)
    qtbot.keyClick(panel.lr_slider, Qt.Key.Key_Tab)
    qtbot.waitUntil(edit.hasFocus)
    assert edit.selectedText() == "" and edit.cursorPosition() == len(before)
    with qtbot.assertNotEmitted(window.start.triggered):
        qtbot.keyClick(edit, Qt.Key.Key_Space)
        qtbot.keyClick(edit, Qt.Key.Key_S)
        qtbot.keyClick(edit, Qt.Key.Key_R)
    assert edit.text() == before + " sr"  # the keys went to the field, at its end
    assert "learning_rate" in panel.errors()  # "0.01 sr" is not a number
    for _ in range(3):
        qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    assert edit.text() == before and panel.config() is not None
    # Outside a text field Space is the window's start / pause.
    with qtbot.waitSignal(window.start.triggered, timeout=1000):
        qtbot.keyClick(panel.lr_slider, Qt.Key.Key_Space)


def test_backtab_into_a_field_does_not_select_its_text(qtbot, window):
    panel = window.panel
    edit = panel.fields["momentum"].edit
    panel.fields["learning_rate"].edit.setFocus()  # a click's focus; the next Tab goes on
    qtbot.waitUntil(panel.fields["learning_rate"].edit.hasFocus)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not panel.fields["learning_rate"].edit)
    while QApplication.focusWidget() is not edit:  # past the full-batch box to the momentum field
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert edit.selectedText() == ""
    qtbot.keyClick(edit, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is edit and edit.selectedText() == ""


# ---- 9. typing in data and network fields is debounced -------------------------------------------------------------


@pytest.mark.parametrize("name", ["n_samples", "noise", "test_fraction", "data_seed", "hidden", "init_seed"])
def test_typing_a_data_or_network_field_commits_once_after_the_last_key(qtbot, panel, name):
    panel.set_config(OWN_DATA)
    edit = panel.fields[name].edit
    edit.setFocus()
    edit.selectAll()
    changed, committed = [], []
    panel.changed.connect(lambda: changed.append(panel.config()))
    panel.committed.connect(lambda: committed.append(panel.config()))
    typed = {"n_samples": "1000", "noise": "0.25", "test_fraction": "0.1", "data_seed": "4242", "hidden": "8,8",
             "init_seed": "77"}[name]
    qtbot.keyClicks(edit, typed)
    assert len(changed) == len(typed) and committed == []  # every key shown at once, nothing acted on yet
    assert panel.is_commit_pending()
    qtbot.waitUntil(lambda: bool(committed), timeout=3000)
    assert len(committed) == 1 and committed[0] == changed[-1] and not panel.is_commit_pending()
    key = "shape" if name == "hidden" else name
    assert getattr(committed[0], key) == getattr(TrainConfig(**{"shape": (2, 8, 8, 1)} if name == "hidden"
                                                            else {name: type(getattr(OWN_DATA, name))(typed)}), key)


def test_enter_or_leaving_the_field_commits_at_once(qtbot, panel):
    edit = panel.fields["n_samples"].edit
    committed = []
    panel.committed.connect(lambda: committed.append(panel.config().n_samples))
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "400")
    assert committed == []
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert committed == [400] and not panel.is_commit_pending()
    qtbot.keyClicks(edit, "0")
    panel.flush()  # what the window does before Start
    assert committed == [400, 4000]
    qtbot.wait(50)
    assert committed == [400, 4000]  # the flushed commit is not sent again


def test_training_fields_buttons_and_set_config_commit_at_once(qtbot, panel):
    committed = []
    panel.committed.connect(lambda: committed.append(panel.config()))
    edit = panel.fields["learning_rate"].edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "0.5")  # "0" and "0." are refused (α > 0): committed with config() None
    assert len(committed) == 3 and committed[:2] == [None, None] and committed[2].learning_rate == 0.5
    assert not panel.is_commit_pending()
    committed.clear()
    panel.add_layer.click()
    panel.new_data.click()
    panel.dataset.setCurrentText("xor")
    panel.fields["n_samples"].edit.setText("600")  # set from code, not typed: at once
    assert len(committed) == 4 and committed[-1].n_samples == 600 and committed[-1].dataset == "xor"
    committed.clear()
    panel.set_config(OWN_DATA)
    assert committed == [OWN_DATA]


# ---- 10. messages name the field and the range, at a readable length ------------------------------------------------


@pytest.mark.parametrize("name", list(ALLOWED))
@pytest.mark.parametrize("text", ["9" * 100_000, "x" * 100_000, "-1"])
def test_a_refused_value_gets_a_short_message_naming_the_field_and_range(qtbot, panel, name, text):
    panel.set_config(OWN_DATA.replace(schedule="step"))
    panel.fields[name].edit.setText(text)  # every field refuses these ("-1" hidden layers: a layer of −1 units)
    assert name in panel.errors()
    message = panel.error_message(name)
    label = panel.fields[name].error
    assert message.startswith(f"{panel.label_of(name)}: ") and ALLOWED[name] in message
    assert label.text() == message and not label.isHidden()
    assert len(message) < 300 and "\n" not in message
    assert panel.error_message() == message  # the only invalid field
    assert panel.config() is None


def test_a_rule_between_fields_says_the_rule_and_the_range(qtbot, panel):
    panel.set_config(preset_config("sgd"))
    panel.fields["n_samples"].edit.setText("1002")
    message = panel.error_message()
    assert message.startswith("samples: ") and "multiple of 4" in message and ALLOWED["n_samples"] in message
    panel.dataset.setCurrentText("moons")
    assert panel.error_message() == "" and panel.config().n_samples == 1002
    # A field is checked against the last valid values, not the defaults ('hard' there).
    panel.fields["learning_rate"].edit.setText("abc")
    assert list(panel.errors()) == ["learning_rate"]
