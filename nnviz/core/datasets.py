"""Two-dimensional data sets: ``(n_samples, noise, seed) -> (X, y)``.

X has shape (n_samples, 2) float64, y shape (n_samples, 1) with values in {0, 1}.
Every generator draws from its own seeded generator and never touches numpy's
global random state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np


def _rescale(X: np.ndarray) -> np.ndarray:
    # The notebook's rescale: centre, then divide by the variance (not the standard deviation).
    return (X - X.mean(axis=0)) / X.var(axis=0)


def make_hard(n_samples: int = 1000, noise: float = 0.0, seed: int = 1337):
    """The notebook's "hard" set: a wide blob of class 0 between two blobs of class 1.

    Drawn exactly as the notebook does (legacy ``RandomState``, same draws, same order),
    so ``seed=1337, n_samples=1000`` gives its points bit for bit. ``noise`` is unused:
    the set's spread is fixed by its definition. ``n_samples`` must be a multiple of 4.
    """
    if n_samples % 4:
        raise ValueError(f"n_samples={n_samples}: the 'hard' data set needs a multiple of 4")
    rng = np.random.RandomState(seed)
    half, quarter = n_samples // 2, n_samples // 4
    x0 = rng.normal(loc=[0, 0], scale=[2, 0.5], size=(half, 2))
    x11 = rng.normal(loc=[0, 4], scale=[0.5, 1], size=(quarter, 2))
    x12 = rng.normal(loc=[0, -4], scale=[0.5, 1], size=(quarter, 2))
    X = _rescale(np.vstack([x0, x11, x12]))
    y = np.vstack([np.zeros((half, 1)), np.ones((half, 1))])
    order = rng.permutation(np.arange(n_samples))
    return X[order], y[order]


def _labels(n0: int, n1: int) -> np.ndarray:
    return np.concatenate([np.zeros(n0), np.ones(n1)]).reshape(-1, 1)


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator):
    order = rng.permutation(len(X))
    return X[order], y[order]


def make_circle(n_samples: int = 1000, noise: float = 0.1, seed: int = 0):
    """Class 1 inside a disc of radius 0.5, class 0 on a ring from 0.7 to 1.0."""
    rng = np.random.default_rng(seed)
    n1 = n_samples // 2
    n0 = n_samples - n1
    radius = np.concatenate([rng.uniform(0.7, 1.0, n0), rng.uniform(0.0, 0.5, n1)])
    angle = rng.uniform(0, 2 * np.pi, n_samples)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    X += noise * rng.normal(size=X.shape)
    return _shuffled(X, _labels(n0, n1), rng)


def make_xor(n_samples: int = 1000, noise: float = 0.1, seed: int = 0):
    """Points in [-1, 1]², class 1 where x1 and x2 have the same sign."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    X += np.sign(X) * 0.05  # a small gap along the axes
    y = ((X[:, 0] * X[:, 1]) > 0).astype(float).reshape(-1, 1)
    X += noise * rng.normal(size=X.shape)
    return X, y


def make_spiral(n_samples: int = 1000, noise: float = 0.1, seed: int = 0):
    """Two interleaved spirals of 1.75 turns each, radius up to 1."""
    rng = np.random.default_rng(seed)
    n1 = n_samples // 2
    n0 = n_samples - n1
    t = np.concatenate([rng.uniform(0, 1, n0), rng.uniform(0, 1, n1)])
    phase = np.concatenate([np.zeros(n0), np.full(n1, np.pi)])
    angle = 1.75 * 2 * np.pi * t + phase
    X = np.column_stack([t * np.cos(angle), t * np.sin(angle)])
    X += noise * rng.normal(size=X.shape)
    return _shuffled(X, _labels(n0, n1), rng)


def make_moons(n_samples: int = 1000, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles, centred on the origin."""
    rng = np.random.default_rng(seed)
    n0 = n_samples // 2
    n1 = n_samples - n0
    a0 = rng.uniform(0, np.pi, n0)
    a1 = rng.uniform(0, np.pi, n1)
    upper = np.column_stack([np.cos(a0), np.sin(a0)])
    lower = np.column_stack([1 - np.cos(a1), 0.5 - np.sin(a1)])
    X = (np.vstack([upper, lower]) - [0.5, 0.25]) / 1.5
    X += noise * rng.normal(size=X.shape)
    return _shuffled(X, _labels(n0, n1), rng)


def make_gaussians(n_samples: int = 1000, noise: float = 0.1, seed: int = 0):
    """Two round blobs centred at (-0.5, -0.5) and (0.5, 0.5); noise 0.1 keeps them apart,
    noise 0.5 makes them overlap."""
    rng = np.random.default_rng(seed)
    n0 = n_samples // 2
    n1 = n_samples - n0
    spread = max(noise, 1e-3) * 2
    X = np.vstack([
        rng.normal(-0.5, spread, size=(n0, 2)),
        rng.normal(0.5, spread, size=(n1, 2)),
    ])
    return _shuffled(X, _labels(n0, n1), rng)


MAX_POINTS = 1_000_000  # the most points a data set (generated, drawn or loaded) may hold
CUSTOM = "custom"  # the data set of a user's own points (drawn or loaded), held by the settings as Points

# name -> generator(n_samples, noise, seed)
DATASETS = {
    "hard": make_hard,
    "circle": make_circle,
    "xor": make_xor,
    "spiral": make_spiral,
    "moons": make_moons,
    "gaussians": make_gaussians,
}


@dataclass(frozen=True, eq=False)
class Points:
    """A user's points (drawn or loaded) as a value: read-only arrays, equal and hashed by their contents, so
    settings holding them compare, hash and pickle like any other setting."""

    X: np.ndarray  # (n, 2) float64, finite
    y: np.ndarray  # (n,) float64 in {0, 1}
    classes: tuple[str, str] = ("0", "1")  # the original labels of class 0 and class 1, as text
    digest: str = field(init=False, repr=False)  # sha-1 of the arrays and classes

    def __post_init__(self):
        X = np.array(self.X, dtype=np.float64).reshape(-1, 2)
        y = np.array(self.y, dtype=np.float64).reshape(-1)
        if len(X) != len(y):
            raise ValueError(f"X, y: {len(X)} points but {len(y)} labels")
        X.flags.writeable = y.flags.writeable = False
        classes = tuple(str(c) for c in self.classes)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "classes", classes)
        h = hashlib.sha1(X.tobytes())
        h.update(y.tobytes())
        h.update("\x00".join(classes).encode())
        object.__setattr__(self, "digest", h.hexdigest())

    def __len__(self) -> int:
        return len(self.X)

    def __eq__(self, other) -> bool:
        return isinstance(other, Points) and self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"Points({len(self)} points, classes {self.classes[0]!r}/{self.classes[1]!r}, {self.digest[:8]})"

    def __getstate__(self):
        return {"X": self.X, "y": self.y, "classes": self.classes, "digest": self.digest}

    def __setstate__(self, state):
        for name, value in state.items():
            object.__setattr__(self, name, value)
        self.X.flags.writeable = self.y.flags.writeable = False


def shuffled(points: Points, data_seed: int, keep_order: bool = False) -> Points:
    """The points in the notebook's shuffled order, ``numpy.random.RandomState(data_seed).permutation(n)``,
    so that mini-batches mix the classes; ``points`` themselves when ``keep_order``."""
    if keep_order:
        return points
    order = shuffle_order(len(points), data_seed)
    return Points(points.X[order], points.y[order], points.classes)


def shuffle_order(n: int, data_seed: int) -> np.ndarray:
    """The notebook's order of n points: ``numpy.random.RandomState(data_seed).permutation(n)``."""
    return np.random.RandomState(data_seed).permutation(n)


# Input features: what the network sees of a point (x1, x2). name -> function of the two columns.
FEATURES = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}
DEFAULT_FEATURES = ("x1", "x2")
# How each feature is written for people.
FEATURE_LABELS = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁x₂", "sin(x1)": "sin x₁",
                  "sin(x2)": "sin x₂"}
# Other spellings of the same features (spaces removed first): x1², x1**2, sin x1, sinx1, x2*x1 ...
_FEATURE_ALIASES = {"x1²": "x1^2", "x2²": "x2^2", "x1**2": "x1^2", "x2**2": "x2^2", "x1x2": "x1*x2",
                    "x2*x1": "x1*x2", "x1·x2": "x1*x2", "sinx1": "sin(x1)", "sinx2": "sin(x2)"}


def feature_error(features) -> str:
    """Why ``features`` is not a valid choice of inputs ("" when it is): one line naming the allowed ones."""
    allowed = f"choose one or more of {', '.join(FEATURES)}, each once"
    if not isinstance(features, (tuple, list)) or not features:
        return f"features={features!r}: {allowed}"
    for name in features:
        if name not in FEATURES:
            return f"features: {name!r} is not an input feature: {allowed}"
    if len(set(features)) != len(features):
        return f"features={','.join(features)}: a feature is listed twice: {allowed}"
    return ""


def parse_features(text: str) -> tuple[str, ...]:
    """Features written as text, ``"x1,x2,x1*x2"`` (aliases such as ``x1²``, ``sin x1`` accepted), in the
    canonical names and order of FEATURES; ValueError with the allowed names otherwise."""
    names = []
    for part in str(text).split(","):
        key = "".join(part.split()).lower()
        names.append(_FEATURE_ALIASES.get(key, key))
    problem = feature_error(tuple(names))
    if problem:
        raise ValueError(problem)
    return canonical_features(names)


def canonical_features(features) -> tuple[str, ...]:
    """The features in FEATURES' order (the order of the network's inputs does not depend on how they were
    listed)."""
    chosen = set(features)
    return tuple(name for name in FEATURES if name in chosen)


def expand(X: np.ndarray, features=DEFAULT_FEATURES, dtype=np.float64) -> np.ndarray:
    """The network's inputs for points ``X`` (n, 2): one column per feature, (n, len(features)), C-contiguous.
    With the default features, ``X`` itself (as ``dtype``)."""
    X = np.asarray(X, dtype=dtype)
    if tuple(features) == DEFAULT_FEATURES:
        return np.ascontiguousarray(X)
    x1, x2 = X[:, 0], X[:, 1]
    out = np.empty((len(X), len(features)), dtype=dtype)
    for j, name in enumerate(features):
        out[:, j] = FEATURES[name](x1, x2)
    return out


def make_dataset(name: str, n_samples: int, noise: float, seed: int):
    """Generate the named data set. Raises ValueError for an unknown name."""
    try:
        generator = DATASETS[name]
    except KeyError:
        raise ValueError(f"dataset={name!r}: allowed are {', '.join(DATASETS)}") from None
    return generator(n_samples, noise, seed)


def held_out_size(n_samples: int, test_fraction: float) -> int:
    """How many of ``n_samples`` a hold-out of ``test_fraction`` keeps for testing."""
    return int(round(test_fraction * n_samples))


def split_train_test(X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int):
    """Seeded hold-out split. Returns ``(X_train, y_train, X_test, y_test)``; the
    training set keeps the original order. With ``test_fraction == 0`` the test arrays
    are empty."""
    n_test = held_out_size(len(X), test_fraction)
    if n_test == 0:
        return X, y, X[:0], y[:0]
    rng = np.random.default_rng([seed, 7])  # a stream separate from the data's own
    is_test = np.zeros(len(X), dtype=bool)
    is_test[rng.choice(len(X), size=n_test, replace=False)] = True
    return X[~is_test], y[~is_test], X[is_test], y[is_test]


@dataclass(frozen=True)
class Dataset:
    """The points every run of a comparison trains and is tested on, as a value (read-only arrays).

    Built from settings by ``Dataset.generate``; drawn or loaded points can be given directly.
    """

    X: np.ndarray  # (n_train, 2) float64, the points in the (x1, x2) plane
    y: np.ndarray  # (n_train, 1) float64 in {0, 1}
    X_test: np.ndarray  # (n_test, 2), n_test may be 0
    y_test: np.ndarray  # (n_test, 1)
    features: tuple[str, ...] = DEFAULT_FEATURES  # what the network sees of a point (see FEATURES)
    # The network's inputs: X and X_test expanded to the features, (n, len(features)); X itself by default.
    inputs: np.ndarray = field(init=False, repr=False, compare=False)
    inputs_test: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        for name in ("X", "y", "X_test", "y_test"):
            a = np.ascontiguousarray(getattr(self, name), dtype=np.float64)
            if a is getattr(self, name) and a.flags.writeable:
                a = a.copy()
            a.flags.writeable = False
            object.__setattr__(self, name, a)
        problem = feature_error(self.features)
        if problem:
            raise ValueError(problem)
        object.__setattr__(self, "features", tuple(self.features))
        for name, source in (("inputs", self.X), ("inputs_test", self.X_test)):
            a = source if self.features == DEFAULT_FEATURES else expand(source, self.features)
            a.flags.writeable = False
            object.__setattr__(self, name, a)

    @classmethod
    def generate(cls, name: str, n_samples: int, noise: float, seed: int, test_fraction: float,
                 features=DEFAULT_FEATURES) -> Dataset:
        """A named data set split into training and test points, as ``make_dataset`` and ``split_train_test``."""
        X, y = make_dataset(name, n_samples, noise, seed)
        return cls(*split_train_test(X, y, test_fraction, seed), features=features)

    @classmethod
    def of(cls, settings) -> Dataset:
        """The data of settings (a TrainConfig or SharedSettings): a generated set, or the user's points (dataset
        "custom") shuffled once with the data seed (unless keep_order), then split as the generated sets are."""
        if settings.dataset != CUSTOM:
            return cls.generate(settings.dataset, settings.n_samples, settings.noise, settings.data_seed,
                                settings.test_fraction, settings.features)
        points = settings.points  # reordered as arrays: a Points value would copy and hash them again
        order = slice(None) if settings.keep_order else shuffle_order(len(points), settings.data_seed)
        split = split_train_test(points.X[order], points.y[order].reshape(-1, 1), settings.test_fraction,
                                 settings.data_seed)
        return cls(*split, features=settings.features)

    def with_features(self, features) -> Dataset:
        """The same points seen through other input features."""
        return Dataset(self.X, self.y, self.X_test, self.y_test, features)

    @property
    def has_test(self) -> bool:
        return len(self.X_test) > 0

    def __len__(self) -> int:
        return len(self.X) + len(self.X_test)
