"""The text fields of the parameter panel: parsing, what each accepts, messages, and the line edit they use."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QLineEdit

from nnviz.core.text import FULL_BATCH, quoted, shorten
from nnviz.core.training import MAX_SEED

ERROR_STYLE = "QLineEdit { border: 1px solid #d0342c; background: #fff2f0; }"

# Tooltips: what each field controls, as a formula where there is one.
TOOLTIPS = {
    "dataset": "The 2-D points x = (x₁, x₂) with labels y ∈ {0, 1}.\n"
               "hard: the notebook's three clusters (noise unused).",
    "n_samples": "n, the number of points (4 to 1,000,000; a multiple of 4 for 'hard').\n"
                 "The cost averages over them: J = −(1/n) Σ [y·log(p + ε) + (1 − y)·log(1 − p + ε)], ε = 1e-8.",
    "noise": "Gaussian noise added to every point, in units of the data's spread (0 to 1).",
    "test_fraction": "Fraction of the points held out as a test set (0 to 0.9): never trained on,\n"
                     "its cost and accuracy are shown dashed.",
    "data_seed": "Seed of the random generator that draws the data (0 to 2³²−1).",
    "hidden": "Units of each hidden layer, comma-separated, e.g. 3,4 (each 1 to 256; empty: none).\n"
              "Layer l: a⁽ˡ⁾ = f(a⁽ˡ⁻¹⁾·W⁽ˡ⁾ + b⁽ˡ⁾); output p = σ(a·W + b), σ(z) = 1/(1 + e⁻ᶻ).",
    "activation": "f of the hidden layers: relu f(z) = max(0, z), or tanh f(z) = tanh(z).",
    "init_seed": "Seed of the initial weights W and biases b (0 to 2³²−1).",
    "init": "How the initial weights W and biases b are drawn (fan_in, fan_out: a layer's inputs and outputs):\n"
            " notebook: W, b ~ N(0, 0.5), standard deviation 0.5, as the notebook draws them\n"
            " glorot: W ~ N(0, 2/(fan_in + fan_out)), that variance; b = 0 (Glorot/Xavier normal, for tanh)\n"
            " he: W ~ N(0, 2/fan_in), that variance; b = 0 (He normal, for relu, also in wide layers)\n"
            "Every run starts from the same weights.",
    "preset": "Load the settings of one of the notebook's runs.",
    "learning_rate": "α, the step size: θ ← θ − α·v (finite, > 0).\nDrag on a log scale or type any value.",
    "batch_size": "B, samples per update: g = (1/B) Σ ∇Jᵢ over the batch (1 to 1,000,000).\n"
                  "1 is per-sample SGD; 'full batch' uses every training sample per update.",
    "momentum": "sgd: β of the notebook's momentum: v ← β·v + (1 − β)·g, θ ← θ − α·v (0 ≤ β < 1; 0 is plain SGD).\n"
                "heavy-ball: μ in v ← μ·v + g, θ ← θ − α·v; nesterov: μ in v ← μ·v + g, θ ← θ − α·(g + μ·v).",
    "optimizer": "The update rule; g is the batch's mean gradient + λ·w, α the epoch's learning rate:\n"
                 " sgd (the notebook's): v ← β·v + (1 − β)·g, θ ← θ − α·v\n"
                 " heavy-ball (PyTorch's SGD momentum): v ← μ·v + g, θ ← θ − α·v\n"
                 " nesterov: v ← μ·v + g, θ ← θ − α·(g + μ·v)\n"
                 " rmsprop: s ← ρ·s + (1 − ρ)·g², θ ← θ − α·g / (√s + ε)\n"
                 " adam: m ← β₁·m + (1 − β₁)·g, s ← β₂·s + (1 − β₂)·g²,\n"
                 "       θ ← θ − α·(m / (1 − β₁ᵗ)) / (√(s / (1 − β₂ᵗ)) + ε), t = updates so far",
    "rho": "ρ of rmsprop: s ← ρ·s + (1 − ρ)·g², θ ← θ − α·g / (√s + ε) (0 ≤ ρ < 1).",
    "beta1": "β₁ of adam: m ← β₁·m + (1 − β₁)·g, bias-corrected m / (1 − β₁ᵗ) (0 ≤ β₁ < 1).",
    "beta2": "β₂ of adam: s ← β₂·s + (1 − β₂)·g², bias-corrected s / (1 − β₂ᵗ) (0 ≤ β₂ < 1).",
    "epsilon": "ε of rmsprop and adam: θ ← θ − α·… / (√s + ε), keeps the step finite (finite, > 0).",
    "update_order": "true: every layer's delta uses the weights before the step (true backpropagation).\n"
                    "notebook: the notebook as written, each layer updated inside the backward loop, so a lower\n"
                    "layer's delta goes through the already-updated weights above it (sgd only).",
    "schedule": "α used in epoch e:\n constant: αₑ = α\n exponential: αₑ = α·(1 − γ)^(e − 1)\n"
                " step: αₑ = α·f^⌊(e − 1)/k⌋",
    "gamma": "γ of the exponential schedule: αₑ = α·(1 − γ)^(e − 1) (0 ≤ γ < 1).",
    "step_every": "k of the step schedule: αₑ = α·f^⌊(e − 1)/k⌋, epochs between steps (≥ 1).",
    "step_factor": "f of the step schedule: αₑ = α·f^⌊(e − 1)/k⌋ (0 < f ≤ 1).",
    "l2": "λ of the L2 penalty: J + (λ/2)·Σ w² over the weights, not the biases (λ ≥ 0).\n"
          "Adds λ·w to each weight's gradient.",
    "epochs": "Epochs to train; one epoch passes every training sample once (0 to 10,000,000).",
}
NOISE_UNUSED = "Not used by the 'hard' data set: its three clusters have a fixed spread.\n" \
               "Choose another data set to add noise."

# What each field accepts, said in every message refusing a value.
_SEED_RANGE = f"an integer from 0 to {MAX_SEED:,}"
ALLOWED = {
    "n_samples": "an integer from 4 to 1,000,000",
    "noise": "a number from 0 to 1",
    "test_fraction": "a number from 0 to 0.9",
    "data_seed": _SEED_RANGE,
    "hidden": "whole numbers from 1 to 256, comma-separated, e.g. 3,4 (empty: no hidden layer)",
    "init_seed": _SEED_RANGE,
    "learning_rate": "a finite number > 0",
    "batch_size": "an integer from 1 to 1,000,000, or full",
    "momentum": "a number from 0 to below 1",
    "gamma": "a number from 0 to below 1",
    "rho": "a number from 0 to below 1",
    "beta1": "a number from 0 to below 1",
    "beta2": "a number from 0 to below 1",
    "epsilon": "a finite number > 0",
    "step_every": "an integer from 1 to 10,000,000",
    "step_factor": "a number above 0 and at most 1",
    "l2": "a finite number ≥ 0",
    "epochs": "an integer from 0 to 10,000,000",
}
MAX_REASON = 240  # characters of a reason shown under a field


def parse_int(text: str) -> int:
    return int(text.strip().replace(",", "_"))  # ValueError also for more than 4,300 digits


def parse_float(text: str) -> float:
    return float(text.strip())


def parse_batch(text: str) -> int:
    return FULL_BATCH if text.strip().lower() == "full" else parse_int(text)


def parse_hidden(text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    return (2, *(int(p) for p in parts), 1)


def format_number(value: float) -> str:
    """Short text of a float that parses back to the same value where 6 digits suffice."""
    text = f"{value:.6g}"
    return text if float(text) == value else repr(value)


def refusal_reason(name: str, text: str, message: str | None = None) -> str:
    """Why the ``text`` of field ``name`` is refused, with what it accepts, at a readable length.

    ``message`` is TrainConfig's (``'n_samples=6: the 'hard' data set needs ...'``) for a rule
    between fields; None for a value that does not parse or is out of its range.
    """
    allowed = f"must be {ALLOWED[name]}"
    if message is not None and not is_range_error(message):  # a rule between fields: say it, then the range
        head, sep, tail = message.partition(": ")
        return shorten(f"{tail if sep and '=' in head else message}; {allowed}", MAX_REASON)
    return shorten(f"{allowed}, not {quoted(text.strip())}", MAX_REASON)


def is_range_error(message: str) -> bool:
    """'learning_rate=0: must be ...' (a value out of its own range), not a rule between fields."""
    head, sep, tail = message.partition(": ")
    return bool(sep) and tail.startswith("must be")


class FieldEdit(QLineEdit):
    """A QLineEdit that keeps its text when tabbed into and keeps the keys typed into it.

    Qt selects a field's whole text on Tab, so a Space typed next (the window's start/pause
    key) replaced it with " "; here the cursor goes to the end instead. Plain printable keys
    (Space, S, R) always go to the field, never to a window shortcut.
    """

    def __init__(self):
        super().__init__()
        self.typing = False  # True while a key typed by the user is changing the text

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        if event.reason() in (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason):
            self.deselect()
            self.end(False)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.text() and event.text().isprintable() \
                and not event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier):
            event.accept()  # the key is text for the field
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        self.typing = True
        try:
            super().keyPressEvent(event)
        finally:
            self.typing = False

    def inputMethodEvent(self, event) -> None:
        self.typing = True
        try:
            super().inputMethodEvent(event)
        finally:
            self.typing = False


class TextField:
    """A QLineEdit whose text parses to one TrainConfig value, with an error label under it."""

    def __init__(self, name: str, parse, width: int | None = None):
        self.name = name
        self.parse = parse
        self.label = name
        self.edit = FieldEdit()
        self.edit.setObjectName(name)
        if width:
            self.edit.setMaximumWidth(width)
        self.error = QLabel()
        self.error.setObjectName(f"{name}_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0281e; font-size: 11px;")
        self.error.setVisible(False)

    def set_error(self, reason: str) -> None:
        self.error.setText(f"{self.label}: {reason}" if reason else "")
        self.error.setVisible(bool(reason))
        self.edit.setStyleSheet(ERROR_STYLE if reason else "")


def safe_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def safe_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan
