"""The Trainer's cheap per-epoch checks and records behave as the plain ones did."""

import dataclasses

import numpy as np
import pytest

from nnviz.core.network import Layout, init_params
from nnviz.core.training import EpochRecord, TrainConfig, Trainer

SMALL = {"dataset": "xor", "n_samples": 40, "shape": (2, 3, 1), "epochs": 3}


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_a_parameter_gone_infinite_is_divergence_even_with_a_finite_cost(engine):
    # A relu unit whose bias is −inf outputs 0 for every input: the cost stays finite, the bias stays −inf.
    config = TrainConfig(**SMALL, engine=engine)
    theta = init_params(config.shape, config.init_seed, config.init)
    theta[Layout(config.shape).offsets[0] + 2 * 3] = -np.inf  # the first hidden unit's bias
    trainer = Trainer(config, initial_params=theta)
    assert np.isfinite(trainer.initial_record().cost)
    assert trainer.step() is None
    assert trainer.status == "diverged" and trainer.diverged_epoch == 1
    assert trainer.divergence_reason == "a parameter is no longer finite"


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_epoch_records_are_frozen_dataclasses_like_any_other(engine):
    trainer = Trainer(TrainConfig(**SMALL, engine=engine))
    record = trainer.step()
    assert isinstance(record, EpochRecord) and record.epoch == 1
    fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(EpochRecord)}
    assert set(fields) == set(vars(record))
    twin = EpochRecord(**fields)
    assert twin == record and repr(twin) == repr(record)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.cost = 0.0
    assert not record.params.flags.writeable and record.params.base is None
    assert dataclasses.replace(record, epoch=5).epoch == 5


def test_records_keep_their_own_parameters():
    trainer = Trainer(TrainConfig(**SMALL))
    first = trainer.step()
    kept = first.params.copy()
    second = trainer.step()
    assert np.array_equal(first.params, kept) and not np.array_equal(second.params, kept)
