"""The sweep study: its grids (median and band over seeds, diverged cells) from results arriving in any order,
the cell nearest to a run, and its session document."""

import copy
import json
import random

import numpy as np
import pytest

from nnviz.core.sweep import CellResult, parse_axis, sweep
from nnviz.core.sweep_study import ALL, METRICS, NONE, SOME, SweepDefinition, SweepStudy, cell_name
from nnviz.core.training import preset_config

BASE = preset_config("sgd", n_samples=200, epochs=3)
X = parse_axis("learning_rate=0.01:1:log:3")
Y = parse_axis("momentum=0:0.5:lin:2")


@pytest.fixture(scope="module")
def swept():
    """A 3 × 2 sweep over 3 seeds, and its results."""
    definition = SweepDefinition(BASE, (X, Y), seeds=3, target=0.6)
    return definition, sweep(BASE, [X, Y], seeds=3, target=0.6, workers=1)


def _reference(results, metric, x, y):
    """The values of one grid point's seeds that have the metric, straight from the results."""
    values = [getattr(r, metric) for r in results if r.values == {X.name: x, Y.name: y} and not r.diverged]
    return np.array([v for v in values if v is not None], dtype=float)


def test_grids_are_medians_and_bands_of_the_finished_seeds_in_any_order(swept):
    definition, results = swept
    shuffled = results[:]
    random.Random(3).shuffle(shuffled)
    study = SweepStudy(definition)
    study.add(shuffled[:7])
    study.add(shuffled[7:])
    assert study.complete and study.done == len(results) == 18
    assert study.results() == results  # grid order, whatever order they came in
    for metric in METRICS:
        grid, (low, high) = study.metric(metric), study.band(metric)
        assert grid.shape == low.shape == (2, 3)
        for i, x in enumerate(X.values()):
            for j, y in enumerate(Y.values()):
                values = _reference(results, metric, x, y)
                if len(values):
                    assert grid[j, i] == np.median(values)
                    assert (low[j, i], high[j, i]) == tuple(np.percentile(values, [10, 90]))
                else:
                    assert np.isnan(grid[j, i]) and np.isnan(low[j, i])


def test_a_partial_study_has_nan_where_nothing_finished(swept):
    definition, results = swept
    study = SweepStudy(definition, results[:3])  # the three seeds of the first grid point
    grid = study.metric("final_cost")
    assert grid[0, 0] == np.median([r.final_cost for r in results[:3]])
    assert np.isnan(grid).sum() == 5 and not study.complete
    assert study.finished().tolist() == [[3, 0, 0], [0, 0, 0]]


def _result(values, seed, cost, diverged=False, reached=None):
    return CellResult(values, seed, cost, cost, reached, None if reached is None else 10 * reached, 0.5, diverged, 3)


def test_diverged_seeds_are_left_out_and_said():
    definition = SweepDefinition(BASE, (X,), seeds=2)
    a, b, c = X.values()
    study = SweepStudy(definition, [_result({X.name: a}, 0, 0.2), _result({X.name: a}, 1, 0.4),
                                    _result({X.name: b}, 0, 0.3, diverged=True), _result({X.name: b}, 1, 0.1),
                                    _result({X.name: c}, 0, 0.9, diverged=True), _result({X.name: c}, 1, 0.8, True)])
    assert study.diverged().tolist() == [[NONE, SOME, ALL]]
    assert study.diverged_seeds().tolist() == [[0, 1, 2]]
    grid = study.metric("final_cost")
    assert grid[0, 0] == pytest.approx(0.3) and grid[0, 1] == 0.1 and np.isnan(grid[0, 2])


def test_target_metrics_count_only_seeds_that_reached_it():
    definition = SweepDefinition(BASE, (X,), seeds=3, target=0.5)
    a = X.values()[0]
    study = SweepStudy(definition, [_result({X.name: a}, 0, 0.2, reached=4), _result({X.name: a}, 1, 0.6),
                                    _result({X.name: a}, 2, 0.2, reached=8)])
    assert study.metric("epochs_to_target")[0, 0] == 6 and study.metric("updates_to_target")[0, 0] == 60
    assert np.isnan(study.metric("epochs_to_target")[0, 1])


def test_results_outside_the_grid_or_twice_are_refused(swept):
    definition, results = swept
    study = SweepStudy(definition, results[:1])
    with pytest.raises(ValueError, match="already in the sweep"):
        study.add(results[:1])
    with pytest.raises(ValueError, match="not a cell of this sweep"):
        study.add([_result({X.name: 0.5, Y.name: 0.0}, 0, 0.1)])
    with pytest.raises(ValueError, match="not a cell of this sweep"):
        study.add([_result({X.name: X.values()[0], Y.name: 0.0}, 3, 0.1)])  # seed 3 of 3 seeds


def test_nearest_cell_of_a_run_with_the_other_settings_of_the_base():
    study = SweepStudy(SweepDefinition(BASE, (X, Y)))
    assert study.nearest_cell(BASE.replace(learning_rate=0.1, momentum=0.5)) == (1, 1)
    assert study.nearest_cell(BASE.replace(learning_rate=0.05, momentum=0.2)) == (1, 0)  # 0.05 nearer 0.1 in log
    assert study.nearest_cell(BASE.replace(learning_rate=0.02, momentum=0.3)) == (0, 1)
    assert study.nearest_cell(BASE.replace(learning_rate=0.1, momentum=0.9)) is None  # beyond the axis
    assert study.nearest_cell(BASE.replace(learning_rate=0.1, l2=0.01)) is None  # another setting differs
    one = SweepStudy(SweepDefinition(BASE, (X,)))
    assert one.nearest_cell(BASE.replace(learning_rate=1.0)) == (2, 0)
    assert one.nearest_cell(BASE.replace(learning_rate=1.0, momentum=0.5)) is None


def test_definition_refuses_bad_fields_with_one_line():
    with pytest.raises(ValueError, match=r"^seed_kind='weights': allowed are init, data, both$"):
        SweepDefinition(BASE, (X,), seed_kind="weights")
    with pytest.raises(ValueError, match=r"^target=-1: must be a finite cost > 0"):
        SweepDefinition(BASE, (X,), target=-1)
    with pytest.raises(ValueError, match="seeds=0"):
        SweepDefinition(BASE, (X,), seeds=0)
    with pytest.raises(ValueError, match="swept twice"):
        SweepDefinition(BASE, (X, X))
    with pytest.raises(ValueError, match="must be a TrainConfig"):
        SweepDefinition(BASE.to_dict(), (X,))
    assert cell_name({"learning_rate": 0.031622776, "momentum": 0.9}) == "α=0.0316 β=0.9"
    assert cell_name({"batch_size": 16}) == "batch=16"


def test_document_round_trips_through_json(swept):
    definition, results = swept
    study = SweepStudy(definition, results[:10])
    doc = json.loads(json.dumps(study.to_doc()))
    again = SweepStudy.from_doc(doc)
    assert again.definition == definition and again.results() == results[:10]
    for metric in METRICS:
        assert np.array_equal(again.metric(metric), study.metric(metric), equal_nan=True)
    assert np.array_equal(again.diverged(), study.diverged())


def _broken(doc, path, value):
    doc = copy.deepcopy(doc)
    *parents, last = path
    target = doc
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return doc


@pytest.mark.parametrize("path, value, words", [
    (("seeds",), KeyError, "sweep.seeds: missing"),
    (("colour",), "red", "sweep.colour: unknown key"),
    (("seeds",), 0, "sweep.seeds: must be an integer from 1 to 100"),
    (("seed_kind",), "weights", "sweep.seed_kind: seed_kind='weights'"),
    (("target",), "low", "sweep.target: target='low'"),
    (("metric",), "speed", "sweep.metric: metric='speed'"),
    (("metric",), {}, "sweep.metric: must be text"),  # found in review: named the axes, unhashable type
    (("axes", 0, "name"), ["x"], "sweep.axes[0].name: must be text"),
    (("base", "learning_rate"), -1, "sweep.base: learning_rate=-1"),
    (("base", "colour"), 1, "sweep.base.colour: unknown key"),
    (("axes",), [], "sweep.axes: must be a list of 1 or 2 axes"),
    (("axes", 0, "scale"), "cubic", "sweep.axes[0]: axis 'learning_rate': scale 'cubic' must be lin or log"),
    (("axes", 1, "count"), 65, "sweep.axes[1]: axis 'momentum': count 65"),
    (("results", "final_cost", 2), -0.5, "sweep.results.final_cost[2]: must be a finite number ≥ 0, not -0.5"),
    (("results", "final_accuracy", 0), 2, "sweep.results.final_accuracy[0]: must be a number from 0 to 1"),
    (("results", "diverged", 1), "no", "sweep.results.diverged[1]: must be true or false"),
    (("results", "epochs_to_target", 1), 1.5, "sweep.results.epochs_to_target[1]: must be an integer ≥ 0, or null"),
    (("results", "index", 1), 0, "sweep.results.index[1]: cell 0 appears twice"),
    (("results", "index", 1), 18, "sweep.results.index[1]: must be an integer from 0 to 17"),
    (("results", "epochs"), [1], "sweep.results: every column must be a list, all of the same length"),
])
def test_from_doc_names_the_field(swept, path, value, words):
    definition, results = swept
    doc = json.loads(json.dumps(SweepStudy(definition, results[:4]).to_doc()))
    with pytest.raises(ValueError) as info:
        SweepStudy.from_doc(_broken(doc, path, value))
    message = str(info.value)
    assert message.startswith(words) and "\n" not in message, message


def test_from_doc_refuses_what_is_not_an_object():
    with pytest.raises(ValueError, match=r"^sweep\.: must be an object, not list$"):
        SweepStudy.from_doc([])
