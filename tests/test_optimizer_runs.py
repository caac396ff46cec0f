"""The optimisers side by side: the "Optimisers" runs and the adam and nesterov presets."""

import pytest

from nnviz.core.comparison import Comparison
from nnviz.core.specs import NOTEBOOK_PRESETS, PALETTE, notebook_runs, optimizer_runs, preset_run, preset_shared
from nnviz.core.training import Trainer, preset_config


def test_optimizer_runs_are_the_five_optimisers_in_distinct_colours():
    runs = optimizer_runs()
    assert [r.name for r in runs] == ["sgd", "momentum", "nesterov", "rmsprop", "adam"]
    assert [r.optimizer for r in runs] == ["sgd", "heavy-ball", "nesterov", "rmsprop", "adam"]
    assert len({r.colour for r in runs}) == 5 and all(r.colour in PALETTE for r in runs)
    assert all(r.update_order == "true" for r in runs)
    # The notebook's runs stay its four.
    assert [r.name for r in notebook_runs()] == list(NOTEBOOK_PRESETS) == ["sgd", "mini-batch", "momentum", "decay"]


def test_optimizer_runs_share_one_start_and_all_learn_the_notebooks_data():
    comparison = Comparison(preset_shared(), optimizer_runs())
    comparison.run_to_end()
    histories = comparison.histories()
    starts = {h.to_columns()["cost"][0] for h in histories.values()}
    assert len(starts) == 1  # the same data and initial weights
    for name, history in histories.items():
        columns = history.to_columns()
        assert columns["epoch"][-1] == next(r.epochs for r in optimizer_runs() if r.name == name), name
        assert columns["accuracy"][-1] >= 0.99, name
        assert columns["cost"][-1] < 0.05 * columns["cost"][0], name


@pytest.mark.parametrize("preset", ["adam", "nesterov"])
def test_the_new_presets_start_from_the_notebooks_weights_and_train_without_diverging(preset):
    trainer = Trainer(preset_config(preset))
    records = list(trainer)
    assert trainer.status == "finished"
    assert records[0].cost == pytest.approx(0.740786032121, abs=1e-12)  # the notebook's start
    assert records[-1].cost < records[0].cost
    assert preset_run(preset).optimizer == preset
