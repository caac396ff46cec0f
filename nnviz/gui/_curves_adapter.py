"""TEMPORARY: the new CurvesView API over the old one, until curves.py has it (removed then)."""

from __future__ import annotations


def adapt(curves) -> None:
    if hasattr(curves, "set_runs"):
        return
    state = {"histories": {}, "shown": {}}

    def set_runs(runs):
        keys = [key for key, *_ in runs]
        for key in curves.run_ids():
            if key not in keys:
                curves.remove_run(key)
        for key, name, colour, visible in runs:
            if key not in curves.run_ids():
                curves.add_run(key, name, colour)
            curves.set_run_style(key, name, colour)
            curves.set_run_visible(key, visible)
        curves.legend.setVisible(len(runs) > 1)

    def set_history(key, history):
        if state["histories"].get(key) is not history:
            state["histories"][key] = history
            state["shown"][key] = 0
            curves.clear(key)

    def refresh():
        for key, history in state["histories"].items():
            if key not in curves.run_ids():
                continue
            n = len(history)
            shown = state["shown"].get(key, 0)
            if n > shown:
                curves.append_columns(key, {c: history.column(c)[shown:n] for c in history.columns})
                state["shown"][key] = n

    curves.set_runs = set_runs
    curves.set_history = set_history
    curves.refresh = refresh
    curves.set_has_test = lambda on: None
    curves.reset_view = lambda: None
    curves.set_epoch_target = lambda epochs: None
