"""`nnviz compare`: several runs from the same initial weights on the same data, headless, as long-form CSV."""

from __future__ import annotations

import sys
import time

from nnviz import interrupts
from nnviz.core.comparison import NOTEBOOK_PRESETS, PALETTE, SHARED_FIELDS, Comparison, RunSpec, SharedSettings
from nnviz.core.files import settings_csv
from nnviz.core.session import SessionError, comparison_csv, load_session
from nnviz.core.text import quoted, shorten
from nnviz.core.training import TrainConfig, load_presets
from nnviz.options import (
    EXIT_DIVERGED,
    EXIT_FAILED,
    OPTION_OF_FIELD,
    TRAINING_OPTIONS,
    Parser,
    Progress,
    UsageError,
    check_output_path,
    config_from_args,
    explicit_options,
    final_warnings,
    print_warnings,
    usage_error,
    write_output,
)

PROG = "nnviz compare"

SHARED_OPTIONS = [option for option in TRAINING_OPTIONS if option[1] in SHARED_FIELDS]
EPOCHS_OPTION = next(option for option in TRAINING_OPTIONS if option[1] == "epochs")
RUN_OPTIONS = [option for option in TRAINING_OPTIONS if option[1] not in SHARED_FIELDS and option[1] != "epochs"]


def add_comparison_options(parser) -> None:
    """--presets or --session, the shared options, every run's training options and --epochs (compare, landscape)."""
    parser.add_argument("--presets", help="comma-separated presets, one run each "
                        f"(default {','.join(NOTEBOOK_PRESETS)}); choices: {', '.join(load_presets())}")
    parser.add_argument("--session", metavar="FILE.nnviz.json", help="take the shared settings and the runs from "
                        "a session file instead of presets (options given here override its shared settings)")
    for option, field, kind, text in SHARED_OPTIONS:
        parser.add_argument(option, dest=field, type=kind, default=None, help=text + " (shared by all runs)")
    for option, field, kind, text in RUN_OPTIONS:
        parser.add_argument(option, dest=field, type=kind, default=None,
                            help=text + " (every run; without --presets or --session: one run of these settings)")
    option, field, kind, text = EPOCHS_OPTION
    parser.add_argument(option, dest=field, type=kind, default=None, help=text + " (every run; default: each run's)")


def _preset_runs(text: str, explicit: dict) -> tuple[SharedSettings, list[RunSpec]]:
    """Runs named after presets, and the settings they share (explicit options override them)."""
    presets = load_presets()
    names = [name.strip() for name in text.split(",")]
    for i, name in enumerate(names):
        if name not in presets:
            raise UsageError(f"--presets: {quoted(name)} is not a preset; allowed: {', '.join(presets)} "
                             "(comma-separated)")
        if name in names[:i]:
            raise UsageError(f"--presets: {quoted(name)} is given twice")
    configs = [TrainConfig(**presets[name]) for name in names]
    for field in SHARED_FIELDS:
        values = {getattr(c, field) for c in configs}
        if len(values) > 1 and field not in explicit:
            raise UsageError(f"--presets: the presets differ in {field} ({', '.join(map(str, sorted(values)))}) "
                             f"but a comparison shares it; choose one with {OPTION_OF_FIELD[field]}")
    shared = SharedSettings.from_config(configs[0])
    runs = [RunSpec.from_config(c, name, PALETTE[i % len(PALETTE)]) for i, (name, c) in enumerate(zip(names, configs,
                                                                                                      strict=True))]
    return shared, runs


def _session_runs(path: str) -> tuple[SharedSettings, list[RunSpec]]:
    try:
        session = load_session(path)
    except SessionError as exc:
        raise UsageError(str(exc)) from None
    for warning in session.warnings:
        print(f"{PROG}: warning: {shorten(path, 160)}: {warning}", file=sys.stderr)
    if not session.runs:
        raise UsageError(f"--session {shorten(path, 160)}: the session has no runs")
    return session.shared, list(session.runs)


def comparison_from_args(args) -> tuple[SharedSettings, list[RunSpec]]:
    """Shared settings and runs from parsed options; raises UsageError naming the option and the range."""
    if args.presets is not None and args.session is not None:
        raise UsageError("give either --presets or --session, not both")
    explicit = explicit_options(args, SHARED_OPTIONS)
    training = explicit_options(args, RUN_OPTIONS)
    if args.session is None and args.presets is None and training:
        # Training options alone: one run of those settings (the sgd preset's, overridden), as `train` has it.
        args.preset = None
        config = config_from_args(args)
        shared, runs = SharedSettings.from_config(config), [RunSpec.from_config(config, "run")]
        training = {}
    elif args.session is not None:
        shared, runs = _session_runs(args.session)
    else:
        shared, runs = _preset_runs(",".join(NOTEBOOK_PRESETS) if args.presets is None else args.presets, explicit)
    try:
        shared = shared.replace(**explicit)
    except ValueError as exc:
        raise usage_error(exc, explicit) from None
    if training:
        if training.get("gamma", 0) > 0 and "schedule" not in training:
            training["schedule"] = "exponential"
        try:
            runs = [run.replace(**training) for run in runs]
        except ValueError as exc:
            raise usage_error(exc, training) from None
    if args.epochs is not None:
        try:
            runs = [run.replace(epochs=args.epochs) for run in runs]
        except ValueError as exc:
            raise usage_error(exc, {"epochs": args.epochs}) from None
    return shared, runs


def train_all(comparison: Comparison) -> float:
    """Train every run to its end (one epoch of each in turn) with a progress bar on a terminal; returns the
    seconds it took. Ctrl-C stops the loop at once (KeyboardInterrupt: exit 130, no file written)."""
    progress = Progress(max(run.spec.epochs for run in comparison))
    start = time.perf_counter()
    try:
        with interrupts.raising():
            while not comparison.done:
                records = comparison.step()
                if records:
                    progress.update(next(iter(records.values())))
    finally:
        progress.close()
    return time.perf_counter() - start


def _summary(run, width: int, has_test: bool) -> str:
    last = run.history.row(len(run.history) - 1)
    name = f"{run.spec.name}:".ljust(width + 1)
    if run.status == "diverged":
        return (f"{name} diverged at epoch {run.trainer.diverged_epoch}: {run.trainer.divergence_reason}; "
                f"lower its learning rate (now {run.spec.learning_rate:g}). "
                f"Kept epochs 0 to {last['epoch']}.")
    test = f", test cost {last['test_cost']:.6f} accuracy {last['test_accuracy']:.4f}" if has_test else ""
    return (f"{name} {last['epoch']} epochs: cost {last['cost']:.9f}, accuracy {last['accuracy']:.4f}{test}, "
            f"{last['updates']:,} updates, {last['elapsed_s']:.2f} s")


def build_parser() -> Parser:
    parser = Parser(prog=PROG,
                     description="Train several runs from the same initial weights on the same data, one epoch "
                                 "of each in turn, and write their histories as one long-form CSV.")
    add_comparison_options(parser)
    parser.add_argument("--csv", help="write the runs' per-epoch records to PATH ('-' for stdout), one row per run "
                        "and epoch: run,epoch,cost,accuracy,learning_rate,updates,samples,elapsed_s[,test_cost,"
                        "test_accuracy]")
    parser.add_argument("--settings-csv", metavar="PATH", help="write every run's settings to PATH ('-' for "
                        "stdout), one row per run: name,colour,visible, its training settings (optimizer included), "
                        "then the shared data and network settings")
    return parser


def compare_command(argv: list[str]) -> int:
    """`nnviz compare ARGV`; returns the exit status, raises UsageError on bad options or a bad session."""
    args = build_parser().parse_args(argv)
    shared, runs = comparison_from_args(args)
    check_output_path("--csv", args.csv)
    check_output_path("--settings-csv", args.settings_csv)

    comparison = Comparison(shared, runs)
    print_warnings(PROG, comparison.start.warnings())  # once: every run starts from the same weights
    seconds = train_all(comparison)
    interrupts.check()

    if args.csv and not write_output(args.csv, comparison_csv(comparison.histories(), comparison.has_test),
                                     PROG):
        return EXIT_FAILED
    if args.settings_csv and not write_output(args.settings_csv, settings_csv(
            comparison.shared.to_dict(), [spec.to_dict() for spec in comparison.specs()]), PROG):
        return EXIT_FAILED
    for run in comparison:
        print_warnings(PROG, final_warnings(comparison, run), f"run {quoted(run.spec.name)}")
    width = max(len(run.spec.name) for run in comparison)
    for run in comparison:
        print(_summary(run, width, comparison.has_test), file=sys.stderr)
    diverged = [run.spec.name for run in comparison if run.status == "diverged"]
    runs_text = f"{len(runs)} run" + ("s" if len(runs) != 1 else "")
    print(f"{runs_text} from the same start, {seconds:.2f} s ({comparison.engine.name} engine)"
          + (f"; diverged: {', '.join(diverged)}" if diverged else ""), file=sys.stderr)
    return EXIT_DIVERGED if diverged else 0
