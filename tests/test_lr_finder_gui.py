"""The "Find α" dialog: a pass in the background with progress, cancel, the plot and the apply signal."""

import math
import time

import numpy as np
import pytest

from nnviz.core.datasets import Dataset
from nnviz.core.lr_find import find_learning_rate
from nnviz.core.network import init_params
from nnviz.core.training import TrainConfig, get_engine
from nnviz.gui.lr_finder import LrFinderDialog

CONFIG = TrainConfig(dataset="moons", n_samples=60, shape=(2, 4, 1), batch_size=8, engine="numpy")


def start():
    data = Dataset.generate(CONFIG.dataset, CONFIG.n_samples, CONFIG.noise, CONFIG.data_seed, 0.0)
    return data.X, data.y, init_params(CONFIG.shape, CONFIG.init_seed, CONFIG.init)


class SlowEngine:
    """The numpy engine, slowed down so that a pass lasts long enough to be watched and stopped."""

    name = "slow"

    def __init__(self, delay=0.002):
        self.inner, self.delay = get_engine("numpy"), delay

    def new_state(self, size):
        return self.inner.new_state(size)

    def train_epoch(self, *args):
        time.sleep(self.delay)
        self.inner.train_epoch(*args)

    def evaluate(self, *args):
        return self.inner.evaluate(*args)


def dialog(qtbot, engine=None, run_name="momentum", **kwargs):
    made = LrFinderDialog(CONFIG, start(), engine or get_engine("numpy"), run_name, **kwargs)
    qtbot.addWidget(made)
    made.show()
    return made


def test_the_pass_ends_with_the_plot_marks_and_an_apply_button(qtbot):
    d = dialog(qtbot, high=1e4)
    assert not d.isModal()
    with qtbot.waitSignal(d.found, timeout=30000) as found:
        pass
    result = found.args[0]
    expected = find_learning_rate(CONFIG, start(), get_engine("numpy"), high=1e4)
    assert result.suggestion == expected.suggestion and np.array_equal(result.rates, expected.rates)
    assert d.progress_bar.maximum() == result.steps and d.progress_bar.value() == result.steps
    x, y = d.smoothed_curve.getData()
    finite = np.isfinite(result.smoothed)
    assert np.allclose(10 ** np.asarray(x), result.rates[finite]) and np.array_equal(y, result.smoothed[finite])
    assert d.suggestion_line.isVisible() and d.suggestion_line.value() == pytest.approx(math.log10(result.suggestion))
    assert d.suggestion_line.label.toPlainText() == f"suggestion {result.suggestion:.3g}"
    assert d.edge_line.isVisible() == (result.edge is not None)
    if result.edge is not None:
        assert d.edge_line.value() == pytest.approx(math.log10(result.edge))
        assert d.edge_line.label.toPlainText() == f"edge {result.edge:.3g}"
    assert f"{result.suggestion:.3g}" in d.explanation.text() and result.rule.split(":")[0] in d.explanation.text()
    assert d.apply_button.isEnabled()
    assert d.apply_button.text() == f"Apply α = {result.suggestion:.3g} to run “momentum”"
    with qtbot.waitSignal(d.apply_requested, timeout=1000) as applied:
        d.apply_button.click()
    assert applied.args == [float(f"{result.suggestion:.3g}")]  # the suggestion as the button shows it
    assert applied.args[0] == pytest.approx(result.suggestion, rel=5e-3)
    d.close()


def test_the_rate_applied_is_the_one_the_button_shows(qtbot):
    d = dialog(qtbot, high=1e4)
    with qtbot.waitSignal(d.found, timeout=30000) as found:
        pass
    shown = d.apply_button.text().removeprefix("Apply α = ").split(" ")[0]
    with qtbot.waitSignal(d.apply_requested, timeout=1000) as applied:
        d.apply_button.click()
    assert applied.args == [float(shown)]  # not 0.05953530817… behind a button that says 0.0595
    assert found.args[0].suggestion != float(shown)  # (this pass's suggestion has more digits than it shows)
    d.close()


def test_progress_then_cancel(qtbot):
    d = dialog(qtbot, SlowEngine())
    assert not d.apply_button.isEnabled()
    qtbot.waitUntil(lambda: 0 < d.progress_bar.value() < d.progress_bar.maximum(), timeout=10000)
    assert d.progress_bar.maximum() == 100  # 8 batches an epoch: the pass's 100 steps
    assert d.running
    with qtbot.waitSignal(d.cancelled, timeout=5000):
        d.cancel_button.click()
    qtbot.waitUntil(lambda: not d.running, timeout=5000)
    assert d.status.text() == "cancelled" and not d.apply_button.isEnabled() and d.outcome is None
    with qtbot.assertNotEmitted(d.found, wait=100):
        pass
    # ... and it can run again.
    d.engine = get_engine("numpy")
    with qtbot.waitSignal(d.found, timeout=30000):
        d.again_button.click()
    assert d.apply_button.isEnabled()
    d.close()


def test_closing_stops_the_pass(qtbot):
    d = dialog(qtbot, SlowEngine(0.01))
    qtbot.waitUntil(lambda: d.progress_bar.value() > 0, timeout=10000)
    d.close()
    assert not d.running


def test_an_error_is_reported(qtbot):
    class Broken(SlowEngine):
        def train_epoch(self, *args):
            raise RuntimeError("kernel exploded")

    d = dialog(qtbot, Broken())
    with qtbot.waitSignal(d.failed, timeout=10000) as failed:
        pass
    assert failed.args == ["RuntimeError: kernel exploded"]
    assert "kernel exploded" in d.explanation.text() and not d.apply_button.isEnabled()
    d.close()
