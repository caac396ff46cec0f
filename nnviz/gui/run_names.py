"""The words of the run list: a run's settings in a few words and in full, and the names runs get
(unique among the others, and following their preset). Importable from ``nnviz.gui.run_list`` too.
"""

from __future__ import annotations

from collections.abc import Iterable

from nnviz.core.comparison import RunSpec
from nnviz.core.specs import unique_name  # noqa: F401 (re-exported: the one rule for copies' names)
from nnviz.core.text import FULL_BATCH, batch_size_text

BATCH_NOTES = {"1": " (per-sample SGD)", "full": " (every training sample in each update)"}


def run_summary(spec: RunSpec) -> str:
    """The settings of a run in a few words, e.g. ``α 0.03 · batch 1 · β 0.9 · γ 0.015 · 150 ep``
    (``full batch`` for a full batch, never its 1000000)."""
    batch = "full batch" if spec.batch_size >= FULL_BATCH else f"batch {spec.batch_size}"
    parts = [f"α {spec.learning_rate:g}", batch]
    if spec.momentum > 0:
        parts.append(f"β {spec.momentum:g}")
    if spec.schedule == "exponential":
        parts.append(f"γ {spec.gamma:g}")
    elif spec.schedule == "step":
        parts.append(f"×{spec.step_factor:g} every {spec.step_every}")
    if spec.l2 > 0:
        parts.append(f"λ {spec.l2:g}")
    parts.append(f"{spec.epochs} ep")
    return " · ".join(parts)


def run_tooltip(spec: RunSpec) -> str:
    """Every training setting of a run, one per line."""
    schedule = {
        "constant": "constant",
        "exponential": f"exponential, α·e^(−γ·epoch), γ = {spec.gamma:g}",
        "step": f"step, ×{spec.step_factor:g} every {spec.step_every} epochs",
    }[spec.schedule]
    return "\n".join([
        spec.name,
        f"learning rate α = {spec.learning_rate:g}",
        f"batch size = {batch_size_text(spec.batch_size)}" + BATCH_NOTES.get(batch_size_text(spec.batch_size), ""),
        f"momentum β = {spec.momentum:g}",
        f"schedule: {schedule}",
        f"L2 λ = {spec.l2:g}",
        f"epochs = {spec.epochs}",
    ])


def preset_base(name: str, presets: Iterable[str]) -> str | None:
    """The preset a run's name is, as ``sgd`` or a copy's ``sgd (2)``; None for a name of the user's own."""
    base, sep, rest = name.rpartition(" (")
    if sep and rest.endswith(")") and rest[:-1].isdigit() and base in presets:
        return base
    return name if name in presets else None


def renamed_for_preset(name: str, preset: str, taken: Iterable[str], presets: Iterable[str]) -> str:
    """The name of a run named ``name`` once it takes ``preset``'s settings.

    A run still named after a preset (``sgd``, ``sgd (2)``) takes the new preset's name,
    made unique among ``taken`` (the other runs' names); any other name is the user's and stays.
    """
    presets = set(presets)
    base = preset_base(name, presets)
    if base is None or base == preset:
        return name
    return unique_name(preset, set(taken) - {name})
