"""`nnviz compare`: several runs from the same initial weights on the same data, headless, as long-form CSV."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from nnviz import interrupts
from nnviz.core.comparison import NOTEBOOK_PRESETS, PALETTE, SHARED_FIELDS, Comparison, RunSpec, SharedSettings
from nnviz.core.files import settings_csv
from nnviz.core.seeds import SeedCurves, SeedSettings, run_seed_configs, seed_columns, summarize, summary_table
from nnviz.core.session import SessionError, comparison_csv, load_session, seeds_csv
from nnviz.core.sweep import MAX_SEEDS, SEED_KINDS, train_configs
from nnviz.core.text import quoted, shorten
from nnviz.core.training import TrainConfig, load_presets
from nnviz.options import (
    EXIT_DIVERGED,
    EXIT_FAILED,
    OPTION_OF_FIELD,
    TRAINING_OPTIONS,
    CountProgress,
    Parser,
    Progress,
    UsageError,
    add_data_options,
    check_output_path,
    config_from_args,
    explicit_options,
    final_warnings,
    integer_in,
    load_data,
    one_of,
    positive_number,
    print_warnings,
    settings_for_csv,
    usage_error,
    with_options,
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
    """Shared settings and runs from parsed options (the points of --data-csv read first, see options.load_data);
    raises UsageError naming the option and the range."""
    if args.presets is not None and args.session is not None:
        raise UsageError("give either --presets or --session, not both")
    load_data(args)
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
    shared = with_options(shared, explicit)  # the inputs follow a session's features, or --features
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
    add_data_options(parser, " (shared by all runs; with --session: instead of its own)")
    parser.add_argument("--csv", help="write the runs' per-epoch records to PATH ('-' for stdout), one row per run "
                        "and epoch: run,epoch,cost,accuracy,learning_rate,updates,samples,elapsed_s[,test_cost,"
                        "test_accuracy]; with --seeds one row per run, seed and epoch: run,seed,epoch,... (elapsed_s "
                        "empty for seeds 2 to K, trained apart)")
    parser.add_argument("--seeds", type=integer_in(1, MAX_SEEDS), metavar="K",
                        help=f"repeat every run over K seeds, 1 to {MAX_SEEDS}: seed i adds i − 1 to the seeds "
                        "--seed-kind names (seed 1 is the run itself; seed i is the same for every run, so runs stay "
                        "paired). The CSV gains a seed column (1 to K) with every seed's rows, and a summary per run "
                        "is printed (final cost median and 10–90 %% spread, final accuracy, share diverged)")
    parser.add_argument("--seed-kind", type=one_of(SEED_KINDS), metavar="KIND",
                        help="with --seeds: which seeds vary: init (initial weights, default), data, or both")
    parser.add_argument("--target", type=positive_number("a finite cost > 0"), metavar="COST",
                        help="with --seeds: the summary gives the share of seeds whose cost never reached COST")
    parser.add_argument("--workers", type=integer_in(1, 256), default=None,
                        help="with --seeds: threads training the seeds, 1 to 256 (default: one per core)")
    parser.add_argument("--settings-csv", metavar="PATH", help="write every run's settings to PATH ('-' for "
                        "stdout), one row per run: name,colour,visible, its training settings (optimizer included), "
                        "then the shared data and network settings (your own points as the file's name and their "
                        "count, the features as x1,x2,...)")
    return parser


def seeds_from_args(args) -> SeedSettings | None:
    """The seed settings of --seeds, --seed-kind and --target (None without --seeds)."""
    if args.seeds is None:
        for option, value in (("--seed-kind", args.seed_kind), ("--target", args.target),
                              ("--workers", args.workers)):
            if value is not None:
                raise UsageError(f"{option}: only with --seeds K (K from 1 to {MAX_SEEDS})")
        return None
    return SeedSettings(args.seeds, args.seed_kind or "init", args.target)


def train_seeds(comparison: Comparison, settings: SeedSettings, workers: int | None = None) -> dict[int, list]:
    """Train seeds 2 to K of every run (seed 1 is the run, trained already) with a progress bar on a terminal;
    returns each run's ``train_configs`` results by run id, seed 2 first. Ctrl-C: KeyboardInterrupt."""
    runs = list(comparison)
    configs = run_seed_configs(comparison.shared, [run.spec for run in runs], settings, first=1)
    progress = CountProgress(len(configs), "seeds")
    try:
        with interrupts.raising():
            results = train_configs(configs, history=True, workers=workers, on_result=progress) if configs else []
    finally:
        progress.close()
    per_run = settings.count - 1
    return {run.id: results[i * per_run:(i + 1) * per_run] for i, run in enumerate(runs)}


def _seed_blocks(comparison: Comparison, settings: SeedSettings, trained: dict[int, list]):
    for run in comparison:
        yield run.spec.name, 1, run.history.arrays()
        configs = run_seed_configs(comparison.shared, [run.spec], settings)
        for seed, result in enumerate(trained[run.id], start=2):
            yield run.spec.name, seed, seed_columns(configs[seed - 1], result)


def seed_curves(comparison: Comparison, trained: dict[int, list]) -> dict[str, SeedCurves]:
    """Every run's SeedCurves by name: seed 1 from its history, the others from ``train_seeds``."""
    curves = {}
    for run in comparison:
        others = trained[run.id]
        curves[run.spec.name] = SeedCurves.from_values(
            run.trainer.config, [run.history.column("cost"), *(r.costs for r in others)],
            [run.history.column("accuracy"), *(r.accuracies for r in others)],
            [run.status == "diverged", *(r.diverged for r in others)])
    return curves


def compare_command(argv: list[str]) -> int:
    """`nnviz compare ARGV`; returns the exit status, raises UsageError on bad options or a bad session."""
    args = build_parser().parse_args(argv)
    seeds = seeds_from_args(args)
    check_output_path("--csv", args.csv)
    check_output_path("--settings-csv", args.settings_csv)
    shared, runs = comparison_from_args(args)

    comparison = Comparison(shared, runs)
    print_warnings(PROG, comparison.start.warnings())  # once: every run starts from the same weights
    seconds = train_all(comparison)
    trained = train_seeds(comparison, seeds, args.workers) if seeds is not None else {}
    interrupts.check()

    if seeds is not None:
        table = seeds_csv(_seed_blocks(comparison, seeds, trained), comparison.has_test)
    else:
        table = comparison_csv(comparison.histories(), comparison.has_test)
    if args.csv and not write_output(args.csv, table, PROG):
        return EXIT_FAILED
    data_name = Path(args.data_csv).name if args.data_csv is not None else None
    if args.settings_csv and not write_output(args.settings_csv, settings_csv(
            settings_for_csv(comparison.shared.to_dict(), data_name), [spec.to_dict() for spec in comparison.specs()]),
            PROG):
        return EXIT_FAILED
    for run in comparison:
        print_warnings(PROG, final_warnings(comparison, run), f"run {quoted(run.spec.name)}")
    width = max(len(run.spec.name) for run in comparison)
    for run in comparison:
        print(_summary(run, width, comparison.has_test), file=sys.stderr)
    if seeds is not None:  # on stdout, unless the CSV went there
        summaries = {name: summarize(c, seeds.target) for name, c in seed_curves(comparison, trained).items()}
        print(summary_table(summaries, seeds), end="", file=sys.stderr if args.csv == "-" else sys.stdout)
    diverged = [run.spec.name for run in comparison if run.status == "diverged"]
    runs_text = f"{len(runs)} run" + ("s" if len(runs) != 1 else "")
    print(f"{runs_text} from the same start, {seconds:.2f} s ({comparison.engine.name} engine)"
          + (f"; diverged: {', '.join(diverged)}" if diverged else ""), file=sys.stderr)
    return EXIT_DIVERGED if diverged else 0
