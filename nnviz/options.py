"""Command-line options shared by `train`, `compare` and the window: parsing, checks, exit codes, progress.

Imports only ``nnviz.core``: every command module imports this one, and this one imports none of them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from nnviz import interrupts
from nnviz.core.datasets import CUSTOM, DATASETS, DEFAULT_FEATURES, FEATURES, parse_features
from nnviz.core.files import WriteError, write_atomic
from nnviz.core.health import new_warnings
from nnviz.core.network import ACTIVATIONS
from nnviz.core.optimizers import OPTIMIZERS, SCHEDULES, UPDATE_ORDERS
from nnviz.core.points_csv import PointsError, read_points, rescaled
from nnviz.core.text import FULL_BATCH, quoted, short_setting_message, shorten
from nnviz.core.training import ENGINES, TrainConfig, load_presets
from nnviz.interrupts import EXIT_INTERRUPTED  # noqa: F401 (re-exported: 130, Ctrl-C)

EXIT_FAILED = 1  # a file could not be written, the window failed
EXIT_USAGE = 2  # bad options or input files
EXIT_DIVERGED = 3  # a run diverged (its finite rows are still written)
MAX_MESSAGE = 240  # characters of an argparse message (it may repeat a whole argument)


class UsageError(Exception):
    """Bad input on the command line: exit 2 with this one-line message."""


class Parser(argparse.ArgumentParser):
    """argparse that never guesses an abbreviated option and reports errors as one line (exit 2), not a usage dump."""

    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False  # `--init-s 5` is an unknown option, never `--init-seed`
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise UsageError(shorten(" ".join(message.split()), MAX_MESSAGE))


def _number(kind, allowed):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{quoted(text)} is not {'an integer' if kind is int else 'a number'}; "
                                             f"allowed: {allowed}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{quoted(text)} is not finite; allowed: {allowed}")
        return value
    return parse


def _allowed_shape(features=DEFAULT_FEATURES) -> str:
    inputs = len(features)
    first = "2" if inputs == 2 else f"2 or {inputs} (the inputs follow the {inputs} features {','.join(features)})"
    return f"comma-separated layer sizes starting with {first} and ending with 1, hidden sizes 1 to 256, e.g. 2,3,4,1"


def _shape(text):
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not a shape; allowed: {_allowed_shape()}") from None
    # The first number is checked against the features later (fit_inputs): here only that it could be an input count.
    if len(shape) < 2 or not 1 <= shape[0] <= len(FEATURES) or shape[-1] != 1 \
            or any(not 1 <= h <= 256 for h in shape[1:-1]):
        raise argparse.ArgumentTypeError(f"{quoted(text)}; allowed: {_allowed_shape()}")
    return shape


def _features(text):
    try:
        return parse_features(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("features: ")) from None


def _batch_size(text):
    if text.strip().lower() == "full":
        return FULL_BATCH
    return _number(int, "an integer ≥ 1, or 'full'")(text)


# option, TrainConfig field, parser, help (with the allowed range)
TRAINING_OPTIONS = [
    ("--dataset", "dataset", str, f"data set: {', '.join(DATASETS)} (your own points: --data-csv)"),
    ("--samples", "n_samples", _number(int, "an integer from 4 to 1,000,000"),
     "number of points, 4 to 1,000,000 (a multiple of 4 for 'hard')"),
    ("--noise", "noise", _number(float, "0 to 1"), "noise in units of the data's spread, 0 to 1 (unused by 'hard')"),
    ("--test-fraction", "test_fraction", _number(float, "0 to 0.9"), "fraction held out as a test set, 0 to 0.9"),
    ("--shape", "shape", _shape, "layer sizes, e.g. 2,3,4,1 (input 2, output 1, hidden 1 to 256)"),
    ("--activation", "activation", str, f"hidden activation: {', '.join(ACTIVATIONS)}"),
    ("--alpha", "learning_rate", _number(float, "a finite number > 0"), "learning rate α > 0"),
    ("--batch-size", "batch_size", _batch_size, "mini-batch size ≥ 1 (1 = per-sample SGD, 'full' = full batch)"),
    ("--optimizer", "optimizer", str,
     f"update rule: {', '.join(OPTIMIZERS)} (sgd: the notebook's v ← βv + (1−β)g, θ ← θ − αv; heavy-ball: "
     "v ← μv + g, θ ← θ − αv; nesterov: v ← μv + g, θ ← θ − α(g + μv); rmsprop: s ← ρs + (1−ρ)g², "
     "θ ← θ − αg/(√s + ε); adam: m ← β₁m + (1−β₁)g, s ← β₂s + (1−β₂)g², θ ← θ − α·m̂/(√ŝ + ε))"),
    ("--beta", "momentum", _number(float, "0 ≤ β < 1"),
     "momentum β (sgd: v ← βv + (1−β)g; μ of heavy-ball and nesterov), 0 ≤ β < 1"),
    ("--rho", "rho", _number(float, "0 ≤ ρ < 1"), "ρ of rmsprop: s ← ρs + (1−ρ)g², 0 ≤ ρ < 1 (default 0.9)"),
    ("--beta1", "beta1", _number(float, "0 ≤ β₁ < 1"), "β₁ of adam: m ← β₁m + (1−β₁)g, 0 ≤ β₁ < 1 (default 0.9)"),
    ("--beta2", "beta2", _number(float, "0 ≤ β₂ < 1"),
     "β₂ of adam: s ← β₂s + (1−β₂)g², 0 ≤ β₂ < 1 (default 0.999)"),
    ("--epsilon", "epsilon", _number(float, "a finite number > 0"), "ε of rmsprop and adam, > 0 (default 1e-8)"),
    ("--update-order", "update_order", str,
     f"{' or '.join(UPDATE_ORDERS)}: true backpropagation (default), or the notebook as written (each lower "
     "layer's delta through the already-updated weights above it; sgd only)"),
    ("--gamma", "gamma", _number(float, "0 ≤ γ < 1"),
     "decay γ: α·(1−γ)^(e−1), 0 ≤ γ < 1 (implies --schedule exponential)"),
    ("--schedule", "schedule", str, f"learning-rate schedule: {', '.join(SCHEDULES)}"),
    ("--step-every", "step_every", _number(int, "an integer ≥ 1"), "step schedule: epochs between steps, ≥ 1"),
    ("--step-factor", "step_factor", _number(float, "0 < f ≤ 1"), "step schedule: factor per step, 0 < f ≤ 1"),
    ("--l2", "l2", _number(float, "a finite number ≥ 0"), "L2 penalty λ ≥ 0: (λ/2)·Σw² on weights"),
    ("--epochs", "epochs", _number(int, "an integer from 0 to 10,000,000"), "epochs to train, 0 to 10,000,000"),
    ("--data-seed", "data_seed", _number(int, "an integer from 0 to 2³²−1"), "seed of the data, 0 to 2³²−1"),
    ("--init-seed", "init_seed", _number(int, "an integer from 0 to 2³²−1"), "seed of the initial weights, 0 to 2³²−1"),
    ("--init", "init", str, "initial weights: notebook N(0, 0.5) weights and biases (standard deviation 0.5, the "
     "default); glorot N(0, 2/(fan_in+fan_out)), biases 0; he N(0, 2/fan_in), biases 0 (these two: variances)"),
    ("--engine", "engine", str, f"training engine: {', '.join(ENGINES)} (default compiled)"),
]
# The data and input options of `train`, `compare`, `sweep` and the window (add_data_options), by field: set on the
# parsed arguments by load_data (points, dataset) or argparse (keep_order, features), None when not given.
DATA_FIELDS = ("points", "keep_order", "features")
FEATURES_HELP = (f"the network's inputs, comma-separated, from {', '.join(FEATURES)} (default x1,x2; x1², x1x2, "
                 "sin x1 ... also accepted). The first layer has one input per feature, in this order: --shape's "
                 "first number may stay 2 (its hidden layers are kept), so 2,8,1 and 3,8,1 with three features both "
                 "give 3 inputs, 8 hidden units, 1 output")
OPTION_OF_FIELD = {field: option for option, field, _, _ in TRAINING_OPTIONS} | {
    "points": "--data-csv", "keep_order": "--keep-order", "features": "--features"}


def usage_error(exc: ValueError, values: dict | None = None) -> UsageError:
    """A settings error ("n_samples=3: ...") as a usage error naming the option ("--samples: n_samples=3: ...").

    ``values`` (field -> value given) lets a long bad value be cut to a readable length.
    """
    message = short_setting_message(str(exc), values or {})
    field = message.split("=", 1)[0]
    return UsageError(f"{OPTION_OF_FIELD.get(field, '--' + field.replace('_', '-'))}: {message}")


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """The options that build a TrainConfig, shared by `train`, `sweep`, `lr-find` and the window."""
    presets = load_presets()
    parser.add_argument("--preset", choices=list(presets), help="start from a preset of the notebook (default sgd)")
    for option, field, kind, text in TRAINING_OPTIONS:
        parser.add_argument(option, dest=field, type=kind, default=None, help=text)


def add_data_options(parser: argparse.ArgumentParser, suffix: str = "") -> None:
    """--data-csv, --keep-order, --rescale and --features (`train`, `compare`, `sweep` and the window); ``suffix``
    ends each help text (e.g. " (shared by all runs)")."""
    parser.add_argument("--data-csv", metavar="PATH", help="train on your own points: a CSV file of two feature "
                        "columns and a label column (two distinct values, mapped to 0 and 1 in sorted order), with "
                        "or without a header, separated by commas, semicolons or tabs; up to 1,000,000 points. They "
                        "are shuffled once with --data-seed (numpy's RandomState(seed).permutation), then a "
                        "--test-fraction is held out" + suffix)
    parser.add_argument("--keep-order", action="store_const", const=True, default=None,
                        help="with custom points: keep the file's order instead of shuffling it" + suffix)
    parser.add_argument("--rescale", action="store_true",
                        help="with --data-csv: rescale the points as the notebook rescales its data: each feature "
                        "minus its mean, divided by its variance (not the standard deviation); off by default")
    parser.add_argument("--features", dest="features", type=_features, default=None, metavar="NAMES",
                        help=FEATURES_HELP + suffix)


def load_data(args: argparse.Namespace) -> None:
    """Read the points of --data-csv (once; a bar on a terminal, Ctrl-C stops at once: KeyboardInterrupt), rescaled
    with --rescale, into ``args.points``, and make ``args.dataset`` custom. Nothing without --data-csv.

    Raises UsageError with the reader's one-line message (the file, line and column) or for options that
    contradict the file (--dataset, --samples, --rescale alone).
    """
    path = getattr(args, "data_csv", None)
    if path is None:
        if getattr(args, "rescale", False):
            raise UsageError("--rescale: only with --data-csv PATH (it rescales the file's points)")
        return
    if getattr(args, "points", None) is not None:  # loaded already
        return
    if args.dataset is not None:
        raise UsageError(f"--dataset {shorten(args.dataset, 40)}: not with --data-csv (the file's points are the data)")
    if args.n_samples is not None:
        raise UsageError("--samples: not with --data-csv (every point of the file is used)")
    progress = FractionProgress(f"reading {shorten(Path(path).name, 60)}")
    try:
        with interrupts.raising():
            points = read_points(path, progress=progress)
    except PointsError as exc:
        raise UsageError(f"--data-csv {exc}") from None
    finally:
        progress.close()
    if args.rescale:
        try:
            points = rescaled(points)
        except ValueError as exc:
            raise UsageError(f"--rescale: {exc}") from None
    args.points, args.dataset = points, CUSTOM


def explicit_options(args: argparse.Namespace, options=TRAINING_OPTIONS) -> dict:
    """The TrainConfig fields given on the command line, by field name; with the data options among ``options``
    (--dataset), also those of add_data_options (the points once load_data has read them)."""
    fields = [field for _, field, _, _ in options]
    if "dataset" in fields:
        fields += DATA_FIELDS
    return {field: getattr(args, field) for field in fields if getattr(args, field, None) is not None}


def fit_inputs(explicit: dict, features, shape) -> dict:
    """``explicit`` options changing settings of ``features`` and ``shape``, with the network's input count following
    the features: --shape's first number may be 2 (the hidden layers are taken, the inputs follow the features)
    or the number of features; new features without --shape keep the hidden layers of ``shape``.

    Raises UsageError for a --shape whose first number is neither.
    """
    features = explicit.get("features", features)
    inputs = len(features)
    if "shape" in explicit:
        given = explicit["shape"]
        if given[0] == inputs:
            return explicit
        if given[0] != 2:
            raise UsageError(f"--shape: {quoted(','.join(map(str, given)))}; allowed: {_allowed_shape(features)}")
        return {**explicit, "shape": (inputs, *given[1:])}
    if "features" in explicit:
        return {**explicit, "shape": (inputs, *shape[1:])}
    return explicit


def data_overrides(args: argparse.Namespace) -> dict:
    """The settings add_data_options gave (the custom points of --data-csv once read, --keep-order, --features): with a
    session, they replace its own."""
    found = {field: getattr(args, field) for field in DATA_FIELDS if getattr(args, field, None) is not None}
    if "points" in found:
        found["dataset"] = CUSTOM
    return found


def with_options(shared, explicit: dict):
    """``shared`` settings (e.g. a session's) with explicit options applied, --shape's inputs following the features
    (fit_inputs); UsageError naming the option otherwise."""
    explicit = fit_inputs(explicit, shared.features, shared.shape)
    if explicit.get("dataset") == CUSTOM and "points" not in explicit and shared.points is None:
        raise UsageError("--dataset custom: give your points with --data-csv PATH")
    try:
        changed = shared.replace(**explicit)
    except ValueError as exc:
        raise usage_error(exc, explicit) from None
    check_data(changed, explicit)
    return changed


def check_data(settings, explicit: dict) -> None:
    """Refuse --keep-order for a generated data set and a custom data set without points, in one line."""
    if settings.dataset != CUSTOM and explicit.get("keep_order"):
        raise UsageError("--keep-order: only with your own points (--data-csv PATH, or a session that holds them)")


def config_from_args(args: argparse.Namespace, default_preset: str = "sgd") -> TrainConfig:
    """TrainConfig from parsed options: the preset's values, overridden by explicit options (the points of
    --data-csv read first, see load_data).

    Raises UsageError naming the option, the value and the allowed range.
    """
    load_data(args)
    values = dict(load_presets()[args.preset or default_preset])
    defaults = TrainConfig()
    explicit = fit_inputs(explicit_options(args), values.get("features", defaults.features),
                          tuple(values.get("shape", defaults.shape)))
    values.update(explicit)
    if explicit.get("gamma", 0) > 0 and "schedule" not in explicit:
        values["schedule"] = "exponential"
    if values.get("dataset") == CUSTOM and values.get("points") is None:
        raise UsageError("--dataset custom: give your points with --data-csv PATH")
    try:
        config = TrainConfig(**values)
    except ValueError as exc:
        raise usage_error(exc, values) from None
    check_data(config, explicit)
    return config


def settings_for_csv(settings: dict, data_name: str | None = None) -> dict:
    """Settings (``to_dict()``) as a settings CSV shows them: custom points as their file's name and their count
    (never the points themselves), the features as ``x1,x2,...``."""
    shown = dict(settings)
    if "points" in shown:
        points = shown["points"]
        count = "" if points is None else f"{len(points):,} points"
        shown["points"] = f"{data_name} ({count})" if data_name and count else count
    if "features" in shown:
        shown["features"] = ",".join(shown["features"])
    return shown


def check_output_path(option: str, path: str | None) -> None:
    """Refuse an output path that cannot be written, before any work is done."""
    if path is None or path == "-":
        return
    shown = shorten(path, 160)
    try:
        parent = Path(path).resolve().parent
        if Path(path).is_dir():
            raise UsageError(f"{option} {shown}: is a folder; give a file name")
        if not parent.is_dir():
            raise UsageError(f"{option} {shown}: folder {shorten(str(parent), 160)} does not exist")
    except OSError as exc:  # e.g. a name too long for the file system
        raise UsageError(f"{option} {shown}: {exc.strerror or exc}") from None
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{option} {shown}: folder {shorten(str(parent), 160)} is not writable")


def write_output(path: str, text: str, prog: str, option: str = "--csv") -> bool:
    """Write ``text`` to ``path`` ('-': stdout) atomically; False after a one-line message if it failed."""
    if path == "-":
        sys.stdout.write(text)
        return True
    try:
        write_atomic(path, text)
    except WriteError as exc:
        print(f"{prog}: error: {option} {exc}", file=sys.stderr)
        return False
    return True


def print_warnings(prog: str, messages: list[str], about: str = "") -> None:
    """Each message on a line of its own on stderr: ``PROG: warning: [ABOUT: ]MESSAGE``."""
    for message in messages:
        print(f"{prog}: warning: {about + ': ' if about else ''}{message}", file=sys.stderr)


def final_warnings(comparison, run) -> list[str]:
    """The health warnings of a run's final parameters about problems its start did not have (a start
    saturated from the first epoch is not reported again as grown too large). None for a run that diverged
    (its own message says why) or never trained."""
    found = comparison.params_at(run.id)
    if found is None or found[0] == 0 or run.status == "diverged":
        return []
    return new_warnings(comparison.health(run.id), comparison.shared.init, found[0], comparison.start.health)


class TerminalBar:
    """A one-line progress bar on stderr, redrawn at most 10 times a second, only on a terminal."""

    WIDTH = 30  # characters of the bar

    def __init__(self, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = self.stream.isatty()
        self.start = time.perf_counter()
        self.last = 0.0
        self.drawn = False

    def due(self, final: bool = False) -> bool:
        """Whether to redraw now (the last state is always drawn)."""
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.1 and not final):
            return False
        self.last = now
        return True

    def draw(self, fraction: float, text: str) -> None:
        done = int(self.WIDTH * min(max(fraction, 0.0), 1.0))
        self.stream.write(f"\r[{'#' * done}{'.' * (self.WIDTH - done)}] {text}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """End the bar's line (once), so that what follows starts on a line of its own."""
        if self.enabled and self.drawn:
            self.stream.write("\n")
            self.drawn = False


class Progress(TerminalBar):
    """The epochs of a run: epoch, cost, accuracy and epochs/s."""

    def __init__(self, total: int, stream=None):
        super().__init__(stream)
        self.total = total

    def update(self, record) -> None:
        if not self.due(record.epoch >= self.total):
            return
        rate = record.epoch / max(time.perf_counter() - self.start, 1e-9)
        self.draw(record.epoch / max(self.total, 1), f"epoch {record.epoch}/{self.total} cost {record.cost:.6f} "
                  f"accuracy {record.accuracy:.4f} {rate:,.0f} epochs/s")


def integer_in(low: int, high: int):
    """An argparse type: an integer from ``low`` to ``high``, refused in one line naming the range."""

    allowed = f"an integer from {low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{quoted(text)} is not an integer; allowed: {allowed}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed: {allowed}")
        return value

    return parse


def one_of(choices) -> object:
    """An argparse type: one of ``choices``, refused in one line naming them."""

    def parse(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"{quoted(text)}: allowed: {', '.join(choices)}")
        return text

    return parse


class CountProgress(TerminalBar):
    """Items done of a total (e.g. the seeds of the runs), and the time left."""

    def __init__(self, total: int, what: str, stream=None):
        super().__init__(stream)
        self.total, self.what, self.done = total, what, 0

    def __call__(self, *_) -> None:
        self.done += 1
        if self.due(self.done >= self.total):
            left = (time.perf_counter() - self.start) / self.done * (self.total - self.done)
            self.draw(self.done / max(self.total, 1), f"{self.what} {self.done}/{self.total}, {left:.0f} s left ")


class FractionProgress(TerminalBar):
    """A task measured as the fraction done (e.g. of a file read): percent and the time left."""

    def __init__(self, what: str, stream=None):
        super().__init__(stream)
        self.what = what

    def __call__(self, fraction: float) -> None:
        if self.due(fraction >= 1) and fraction > 0:
            left = (time.perf_counter() - self.start) * (1 - fraction) / fraction
            self.draw(fraction, f"{self.what} {fraction:.0%}, {left:.0f} s left ")


def positive_number(allowed: str):
    """An argparse type: a finite number > 0, refused in one line naming ``allowed`` (e.g. "a finite cost > 0")."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{quoted(text)} is not a number; allowed: {allowed}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{quoted(text)}: allowed: {allowed}")
        return value

    return parse
