"""The window's intents that add runs or try them out: the notebook's four runs, the five optimisers, and the
learning-rate finder for the selected run."""

from __future__ import annotations

from PySide6.QtCore import Qt

from nnviz.core.comparison import NOTEBOOK_PRESETS, notebook_runs, preset_run
from nnviz.core.specs import optimizer_runs
from nnviz.gui.lr_finder import LrFinderDialog


class RunTools:
    """Adds sets of runs to the window's comparison and opens the learning-rate finder (one at a time)."""

    def __init__(self, window):
        self.w = window
        self.c = window.controller

    def add_notebook_runs(self) -> None:
        """The notebook's four strategies; they replace a lone, untrained sgd run (the window's start),
        else they are added (all from the same weights: the others go on where they are)."""
        self._add_runs(notebook_runs(), f"the {len(NOTEBOOK_PRESETS)} notebook runs")

    def add_optimizer_runs(self) -> None:
        """sgd, momentum, nesterov, rmsprop and adam from the same start, as add_notebook_runs adds its four."""
        self._add_runs(optimizer_runs(), "the 5 optimisers")

    def _add_runs(self, runs: list, what: str) -> None:
        model = self.c.model
        specs = model.specs()
        sgd = preset_run("sgd")
        if len(specs) == 1 and model.trained_epochs() == 0 and \
                specs[0].replace(colour=sgd.colour, epochs=sgd.epochs, visible=True) == sgd:
            self.c.replace(model.shared, runs, done_message=f"{len(runs)} runs, all from the same initial "
                                                            "weights on the same data: press Start")
            return
        for spec in runs:
            self.c.add_run(spec, select=False)
        self.w.statusline.set_message(f"{len(model)} runs: {what} added at epoch 0, from the same weights; "
                                      "the others go on where they are")

    def finder(self) -> LrFinderDialog | None:
        """The learning-rate finder's dialog while it is open."""
        return next((d for d in self.w.findChildren(LrFinderDialog) if d.isVisible()), None)

    def find_learning_rate(self) -> None:
        """The learning-rate finder for the selected run, from the shared start (no run is changed); its
        suggestion applies to that run live. An open finder closes first (its pass stops)."""
        model = self.c.model
        run = model.runs.get(self.c.selected_run_id)
        if run is None or self.c.busy:
            self.w.statusline.set_message("Find α: wait until the data and network are ready" if run is not None
                                          else "Find α: select a run first", "error")
            return
        self.close_finder()
        dialog = LrFinderDialog(run.trainer.config, model.start, model.engine, run.spec.name, self.w)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.apply_requested.connect(
            lambda alpha, run_id=run.id: self.w.views.run_edit_requested(run_id, {"learning_rate": float(alpha)}))
        dialog.show()

    def close_finder(self) -> None:
        dialog = self.finder()
        if dialog is not None:
            dialog.close()
