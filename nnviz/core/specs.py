"""What a comparison is made of: the settings every run shares and each run's own (validated values)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from nnviz.core.colours import colour_error
from nnviz.core.datasets import Points, held_out_size
from nnviz.core.text import quoted
from nnviz.core.training import LIVE_FIELDS, TrainConfig, preset_config, with_inputs

SHARED_FIELDS = ("dataset", "n_samples", "noise", "test_fraction", "data_seed", "points", "keep_order", "features",
                 "shape", "activation", "init_seed", "init", "engine")
TRAINING_FIELDS = ("learning_rate", "batch_size", "momentum", "optimizer", "rho", "epsilon", "beta1", "beta2",
                   "update_order", "schedule", "gamma", "step_every", "step_factor", "l2", "epochs")
RUN_FIELDS = ("name", "colour", "visible", *TRAINING_FIELDS)
_FLOAT_FIELDS = ("noise", "test_fraction", "learning_rate", "momentum", "rho", "epsilon", "beta1", "beta2", "gamma",
                 "step_factor", "l2")

NOTEBOOK_PRESETS = ("sgd", "mini-batch", "momentum", "decay")
# The optimisers compared from the same start: (run name, training fields) on the notebook's data and network.
OPTIMIZER_RUNS = (
    ("sgd", {"optimizer": "sgd", "learning_rate": 0.01, "batch_size": 1, "epochs": 150}),
    ("momentum", {"optimizer": "heavy-ball", "learning_rate": 0.003, "momentum": 0.9, "batch_size": 1, "epochs": 150}),
    ("nesterov", {"optimizer": "nesterov", "learning_rate": 0.003, "momentum": 0.9, "batch_size": 1, "epochs": 150}),
    ("rmsprop", {"optimizer": "rmsprop", "learning_rate": 0.01, "batch_size": 32, "epochs": 300}),
    ("adam", {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32, "epochs": 300}),
)
# Run colours, in the order new runs take them (matplotlib's tab10: distinct, readable on white).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
MAX_NAME_LENGTH = 60
_DEFAULTS = TrainConfig()


def _normalise_numbers(obj) -> None:
    # Plain Python numbers, so that settings compare, hash and serialise alike whatever they were built from.
    for name in _FLOAT_FIELDS:
        if hasattr(obj, name):
            object.__setattr__(obj, name, float(getattr(obj, name)))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.integer):
            object.__setattr__(obj, f.name, int(value))


@dataclass(frozen=True)
class SharedSettings:
    """What every run of a comparison shares; constructing an invalid one raises ValueError
    with TrainConfig's message (``field=value: allowed range``)."""

    dataset: str = _DEFAULTS.dataset  # one of datasets.DATASETS, or "custom" (the user's points)
    n_samples: int = _DEFAULTS.n_samples  # 4 to 1,000,000 (a multiple of 4 for "hard"); custom: len(points)
    noise: float = _DEFAULTS.noise  # 0 to 1
    test_fraction: float = _DEFAULTS.test_fraction  # 0 to 0.9 held out as a test set
    data_seed: int = _DEFAULTS.data_seed  # 0 to 2³²−1
    points: Points | None = None  # custom: the user's points; None for a generated set
    keep_order: bool = _DEFAULTS.keep_order  # custom: keep the points' order instead of shuffling them
    features: tuple[str, ...] = _DEFAULTS.features  # the network's inputs (datasets.FEATURES)
    shape: tuple[int, ...] = _DEFAULTS.shape  # (inputs, h1, ..., hk, 1), every h from 1 to 256; inputs follow
    #                                           the features
    activation: str = _DEFAULTS.activation  # relu or tanh
    init_seed: int = _DEFAULTS.init_seed  # 0 to 2³²−1
    init: str = _DEFAULTS.init  # initial weights: notebook, glorot or he
    engine: str = _DEFAULTS.engine  # compiled or numpy

    def __post_init__(self):
        if not isinstance(self.shape, (list, tuple)):
            raise ValueError(f"shape={quoted(self.shape)}: must be (2, h1, ..., hk, 1) "
                             "with every h an integer from 1 to 256")
        object.__setattr__(self, "shape", tuple(int(v) if isinstance(v, np.integer) else v for v in self.shape))
        valid = TrainConfig(**self.to_dict())  # validates, with TrainConfig's messages
        for name in ("n_samples", "points", "keep_order", "features"):  # as TrainConfig settles them
            object.__setattr__(self, name, getattr(valid, name))
        _normalise_numbers(self)

    @classmethod
    def from_config(cls, config: TrainConfig) -> SharedSettings:
        return cls(**{name: getattr(config, name) for name in SHARED_FIELDS})

    def replace(self, **changes) -> SharedSettings:
        """A copy with some fields changed (validated); new features without a new shape resize its inputs."""
        return dataclasses.replace(self, **with_inputs(self.shape, changes))

    def to_dict(self) -> dict:
        """Dict of every field: plain JSON-friendly values, except ``points`` (a Points value, or None)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["shape"] = list(self.shape)
        d["features"] = list(self.features)
        return d

    @property
    def has_test(self) -> bool:
        """Whether these settings hold out a non-empty test set."""
        return held_out_size(self.n_samples, self.test_fraction) > 0


@dataclass(frozen=True)
class RunSpec:
    """One run of a comparison: how it is shown and how it trains; invalid values raise ValueError."""

    name: str = "run"  # 1 to 60 printable characters, unique within a comparison
    colour: str = PALETTE[0]  # "#rrggbb", stored in lower case
    visible: bool = True  # shown in the views (a hidden run still trains)
    learning_rate: float = _DEFAULTS.learning_rate  # α, finite and > 0
    batch_size: int = _DEFAULTS.batch_size  # ≥ 1; 1 is per-sample SGD
    momentum: float = _DEFAULTS.momentum  # β of sgd, μ of heavy-ball and nesterov, 0 ≤ β < 1
    optimizer: str = _DEFAULTS.optimizer  # sgd, heavy-ball, nesterov, rmsprop or adam
    rho: float = _DEFAULTS.rho  # ρ of rmsprop, 0 ≤ ρ < 1
    epsilon: float = _DEFAULTS.epsilon  # ε of rmsprop and adam, finite and > 0
    beta1: float = _DEFAULTS.beta1  # β₁ of adam, 0 ≤ β₁ < 1
    beta2: float = _DEFAULTS.beta2  # β₂ of adam, 0 ≤ β₂ < 1
    update_order: str = _DEFAULTS.update_order  # true or notebook (sgd only)
    schedule: str = _DEFAULTS.schedule  # constant, exponential or step
    gamma: float = _DEFAULTS.gamma  # γ of the exponential schedule, 0 ≤ γ < 1
    step_every: int = _DEFAULTS.step_every  # epochs between steps of the step schedule, ≥ 1
    step_factor: float = _DEFAULTS.step_factor  # factor of the step schedule, 0 < f ≤ 1
    l2: float = _DEFAULTS.l2  # λ ≥ 0
    epochs: int = _DEFAULTS.epochs  # 0 to 10,000,000

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip() or len(self.name) > MAX_NAME_LENGTH \
                or not self.name.isprintable():
            raise ValueError(f"name={quoted(self.name)}: must be text of 1 to {MAX_NAME_LENGTH} printable characters")
        problem = colour_error(self.colour)
        if problem:
            raise ValueError(problem)
        if not isinstance(self.visible, (bool, np.bool_)):
            raise ValueError(f"visible={quoted(self.visible)}: must be true or false")
        TrainConfig(**self.training())  # validates, with TrainConfig's messages
        object.__setattr__(self, "colour", self.colour.lower())
        object.__setattr__(self, "visible", bool(self.visible))
        _normalise_numbers(self)

    @classmethod
    def from_config(cls, config: TrainConfig, name: str, colour: str = PALETTE[0], visible: bool = True) -> RunSpec:
        return cls(name=name, colour=colour, visible=visible, **{n: getattr(config, n) for n in TRAINING_FIELDS})

    def training(self) -> dict:
        """The training settings as TrainConfig fields."""
        return {name: getattr(self, name) for name in TRAINING_FIELDS}

    def config(self, shared: SharedSettings) -> TrainConfig:
        """The TrainConfig of this run within a comparison of ``shared`` settings."""
        return TrainConfig(**shared.to_dict(), **self.training())

    def replace(self, **changes) -> RunSpec:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON-friendly dict of every field."""
        return dataclasses.asdict(self)


# What an edit means (edit_effect):
DISPLAY = "display"  # name, colour or visibility: nothing to train again
LIVE = "live"  # training settings a run takes from its next epoch on
RESTART_RUN = "restart run"  # the run it touches goes back to epoch 0 (e.g. its batch size)
RESTART_ALL = "restart all"  # shared data or network: every run goes back to epoch 0


def edit_effect(before: RunSpec | None, after: RunSpec | None,
                shared_before: SharedSettings | None = None, shared_after: SharedSettings | None = None) -> str:
    """The one rule for what an edit means: DISPLAY, LIVE, RESTART_RUN or RESTART_ALL.

    A change of the shared settings restarts every run; a change of a run's training settings
    that a Trainer accepts live (training.LIVE_FIELDS) applies from its next epoch; any other
    training change (the batch size: it changes what an epoch is) restarts that run; name,
    colour and visibility only change how it is shown.
    """
    if shared_before != shared_after:
        return RESTART_ALL
    if before is None or after is None:
        return DISPLAY
    changed = {name for name in TRAINING_FIELDS if getattr(before, name) != getattr(after, name)}
    if not changed:
        return DISPLAY
    return LIVE if changed <= set(LIVE_FIELDS) else RESTART_RUN


def check_unique_names(specs: Iterable[RunSpec]) -> None:
    """ValueError naming the first name two runs share (the names tell runs apart in files and views)."""
    seen = set()
    for spec in specs:
        if spec.name in seen:
            raise ValueError(f"name={spec.name!r}: two runs have that name")
        seen.add(spec.name)


_COPY_SUFFIX = re.compile(r" \((\d+)\)$")


def unique_name(base: str, taken: Iterable[str]) -> str:
    """``base`` if no run has it, else its stem with the first free ``(2)``, ``(3)``, ... (a copy of
    "momentum (2)" is "momentum (3)", not "momentum (2) (2)"); the stem is cut so that the suffix always
    fits in MAX_NAME_LENGTH."""
    taken = set(taken)
    if base not in taken:
        return base
    stem = _COPY_SUFFIX.sub("", base)
    n = 2
    while True:
        suffix = f" ({n})"
        name = stem[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if name not in taken:
            return name
        n += 1


def preset_run(name: str, colour: str = PALETTE[0]) -> RunSpec:
    """The RunSpec of a preset from resources/presets.json, named after it."""
    return RunSpec.from_config(preset_config(name), name, colour)


def preset_shared(name: str = NOTEBOOK_PRESETS[0]) -> SharedSettings:
    """The shared settings (data, network, engine) of a preset."""
    return SharedSettings.from_config(preset_config(name))


def notebook_runs() -> list[RunSpec]:
    """The notebook's four strategies (sgd, mini-batch, momentum, decay), each in its own colour."""
    return [preset_run(name, PALETTE[i]) for i, name in enumerate(NOTEBOOK_PRESETS)]


def optimizer_runs() -> list[RunSpec]:
    """sgd, momentum (heavy-ball), nesterov, rmsprop and adam, each with an α that trains well on the notebook's
    data, from the same start (use them with ``preset_shared()``), each in its own colour."""
    return [RunSpec(name=name, colour=PALETTE[i], **fields) for i, (name, fields) in enumerate(OPTIMIZER_RUNS)]
