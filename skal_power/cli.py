"""The ``skal-power`` console script: ``run`` experiments, ``plot`` and ``report`` results.

Examples
--------
>>> main(["report", "/no/such/results.csv"])
2
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from ._version import __version__

# The experiments (pandas, matplotlib, scikit-learn, the strategies) load only when a
# command runs, so that `skal-power --help` answers at once.

class UsageError(ValueError):
    """A command-line argument that the command cannot use (the message is one line).

    Examples
    --------
    >>> issubclass(UsageError, ValueError)
    True
    """


#: The baseline of gains when none is given (experiments._gain.DEFAULT_BASELINE; a test
#: checks that they agree).
_DEFAULT_BASELINE = "RandomSampling"


_CONFIG_FIELDS = """\
config file fields (JSON or TOML; every field but strategies and budget has a default):
  name        results file name stem                           (default "experiment")
  dataset     {"name": "digits" | "mnist" | "file", "test_size": int, "pool_size": int,
               "validation_size": int, "normalize": {"mean": m, "std": s},
               "transforms": [{"name": {transforms}, ...}]}
              your own labelled data: {"name": "file", "path": "data.csv", "label": "y",
               "features": [...], "test_size": 0.25} (.npz, .csv or .parquet; or --data)
  model       {"name": "extra_trees" | "random_forest" | "mc_dropout" | "module:Class",
               "params": {...}, "early_stopping": {"patience": 3}}
                                                               (default extra_trees)
  strategies  list of names ("BALD") or {"name", "params", "label"} tables
  initial     labelled points to start from, or {"per_class": n} (default 20)
  test_samples  posterior samples averaged for test predictions (default 0: predict_proba)
  batch_size  points acquired per round                        (default 10)
  budget      points acquired per trial, after the initial ones
  seeds       list of trial seeds                              (default [0, 1, 2])

The docs page "Running experiments" (docs/experiments.rst) describes each field,
with a full example; `skal-power run --preset digits-demo` is the shipped one.
"""


def _config_fields() -> str:
    """The run command's epilog, naming the transforms of :data:`skal_power.datasets.TRANSFORMS`.

    Examples
    --------
    >>> '"LabelNoise"' in _config_fields()
    True
    """
    from .datasets import TRANSFORMS  # numpy only: --help stays quick

    names = [f'"{name}"' for name in TRANSFORMS]
    lines, line = [], ""
    for name in names:
        if line and len(line) + len(name) > 48:
            lines.append(line + " |")
            line = ""
        line = f"{line} | {name}" if line else name
    wrapped = "\n               ".join(lines + [line])
    return _CONFIG_FIELDS.replace("{transforms}", wrapped)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skal-power",
        description="Run active-learning experiments and summarise their learning curves.",
    )
    parser.add_argument("--version", action="version", version=f"skal-power {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run (or resume) an experiment",
                              description="Run every (strategy, seed) trial of a config, "
                              "resuming from the results file if it exists.",
                              epilog=_config_fields(),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    source = run.add_mutually_exclusive_group()
    source.add_argument("--config", help="JSON or TOML config file")
    source.add_argument("--preset", type=_preset_name, metavar="NAME",
                        help="a shipped config by name (default: digits-demo)")
    run.add_argument("--data", help="your own labelled data: an .npz, .csv or .parquet file "
                     "(replaces the config's dataset; the results file is named after it)")
    run.add_argument("--label", help="with --data: the label column or .npz key (default: y)")
    run.add_argument("--features", nargs="+",
                     help="with --data: the feature columns (default: every other column), "
                     "or the .npz feature array's key (default: X)")
    run.add_argument("--test-size", type=float,
                     help="with --data: test points held out, a count or a fraction "
                     "(default: 0.25)")
    run.add_argument("--output", "-o", help="results CSV (default: results/<name>.csv)")
    run.add_argument("--strategies", nargs="+", help="override: strategy names")
    run.add_argument("--budget", type=int, help="override: labels acquired per trial")
    run.add_argument("--batch-size", type=int, help="override: acquisition batch size")
    run.add_argument("--initial", type=int, help="override: initial labelled points (0: cold start)")
    run.add_argument("--seeds", type=int, nargs="+", help="override: trial seeds")
    run.add_argument("--n-jobs", type=int, default=1, help="trials in parallel processes")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")

    plot = commands.add_parser("plot", help="plot learning curves (mean and 95%% CI)")
    plot.add_argument("results", help="results CSV written by `run`")
    plot.add_argument("--output", "-o",
                      help="figure path, .png or .svg (default: the CSV's path with .png)")
    plot.add_argument("--metric", choices=("accuracy", "nll"), default="accuracy")
    plot.add_argument("--title")
    plot.add_argument("--baseline", default=_DEFAULT_BASELINE,
                      help="strategy label the gains figure (<name>.gains.png) compares "
                      "against, when it is in the file (default: %(default)s)")

    report = commands.add_parser(
        "report", help="markdown tables: mean ± 95%% CI per strategy, and the gain over random",
        description="Print the test metric (mean ± 95% Student-t CI over seeds) of each "
        "strategy at the given label counts and, when the baseline strategy is in the file, "
        "each strategy's gain over it, paired by seed.")
    report.add_argument("results", help="results CSV written by `run`")
    report.add_argument("--at", type=int, nargs="+",
                        help="label counts (default: the largest)")
    report.add_argument("--metric", choices=("accuracy", "nll"), default="accuracy")
    report.add_argument("--baseline", default=_DEFAULT_BASELINE,
                        help="strategy label to measure gains against (default: %(default)s)")
    return parser


def _preset_name(name: str) -> str:
    """``--preset``'s type: a shipped config's name (checked when the option is given)."""
    from .experiments import PRESETS

    if name not in PRESETS:
        raise argparse.ArgumentTypeError(
            f"unknown preset {name!r} (choose from {', '.join(sorted(PRESETS))})")
    return name


def report_text(results, at=None, *, metric: str = "accuracy",
                baseline: str = _DEFAULT_BASELINE, config: dict | None = None) -> str:
    """The ``report`` command's output: both tables, each with what its numbers mean.

    With the run's ``config``, and a pool with out-of-distribution points or
    repeated images, two more tables give the share of each strategy's labels
    spent on them (:func:`~skal_power.experiments.acquired_fractions`).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"strategy": ["BALD", "BALD"], "seed": [0, 1],
    ...                       "n_labelled": [10, 10], "accuracy": [0.5, 0.7]})
    >>> print(report_text(frame))
    Test accuracy: mean ± 95% CI (Student t over the n seeds in brackets).
    <BLANKLINE>
    | strategy | 10 labels |
    |---|---|
    | BALD | 0.600 ± 1.271 (n=2) |
    """
    from .experiments import gain_summary, gain_table, histogram_table, report_table

    seeds = int(results["seed"].nunique())
    parts = [f"Test {metric}: mean ± 95% CI (Student t over the n seeds in brackets).",
             "", report_table(results, at, metric=metric)]
    gains = gain_table(results, at, baseline=baseline, metric=metric)
    if gains:
        better = "higher" if metric == "accuracy" else "lower"
        parts += ["", f"Gain over {baseline} ({metric}, {better} is better): mean ± 95% CI of "
                  f"the per-seed difference (paired: each seed's trials share the data and the "
                  f"initial labels; {seeds} seeds); * marks a CI that excludes 0. Whole curve: "
                  "the difference averaged over every label count.", "", gains, "",
                  gain_summary(results, baseline=baseline, metric=metric)]
    histogram = histogram_table(results)
    if histogram:
        parts += ["", "Acquired labels by class: mean count per trial (initial labels not "
                  "included); 'rarest' is the least-asked class.", "", histogram]
    if config is not None:
        parts += _waste_parts(results, config, baseline)
    return "\n".join(parts)


_WASTE = {"ood": ("out of distribution", "the points the pool's OutOfDistribution transform "
                  "made"),
          "copies": ("copies", "points whose image (a RepeatWithNoise copy) was already "
                     "labelled, in the initial set, an earlier round or earlier in the batch")}


def _waste_parts(results, config: dict, baseline: str) -> list[str]:
    """The report's tables of labels spent on OOD points and on copies (none if neither)."""
    from .experiments import acquired_fractions, fraction_table

    parts = []
    for kind, (column, meaning) in _WASTE.items():
        fractions = acquired_fractions(results, config, kind=kind)
        if fractions is None:
            continue
        parts += ["", f"Share of acquired labels that were {column}: {meaning}. Mean ± 95% CI "
                  f"over seeds, and the difference from {baseline}'s paired by seed, in "
                  "percentage points (* marks a CI that excludes 0).", "",
                  fraction_table(fractions, column=column, reference=baseline)]
    return parts


def protocol_text(config: dict) -> str:
    """One paragraph saying what a results file measured: data, labels, validation, test.

    Examples
    --------
    >>> print(protocol_text({"dataset": {"name": "digits", "validation_size": 100},
    ...                      "model": {"name": "extra_trees"}, "initial": {"per_class": 2},
    ...                      "batch_size": 10, "budget": 50}))
    Protocol: digits, model extra_trees; initial labels: 2 per class; 50 acquired in batches of 10; validation: 100 labelled points held out of the pool (not counted in n_labelled); test predictions: the model's predict_proba.
    """
    from .experiments import ExperimentConfig
    from .experiments._curves import dataset_label
    from .experiments._data import validation_source

    if isinstance(config, ExperimentConfig):
        config = config.to_dict()
    initial = config.get("initial", 20)
    initial = (f"{initial['per_class']} per class" if isinstance(initial, dict)
               else f"{initial} drawn uniformly")
    dataset = config.get("dataset", {})
    data = dataset_label(dataset)
    if dataset.get("normalize"):
        data += " (normalised)"
    validation = validation_source(config) or "none"
    n_test = config.get("test_samples", 0)
    test = (f"mean of {n_test} posterior samples" if n_test
            else "the model's predict_proba")
    return (f"Protocol: {data}, model {config.get('model', {}).get('name', 'model')}; "
            f"initial labels: {initial}; {config.get('budget')} acquired in batches of "
            f"{config.get('batch_size')}; validation: {validation}; test predictions: {test}.")


def _count(n: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n} {noun if n == 1 else plural}"


def _check_results_file(path: str) -> Path:
    """Fail first, in one line, if the results file is missing."""
    results = Path(path)
    if not results.is_file():
        raise FileNotFoundError(f"results file {path!r} does not exist; "
                                "create it with `skal-power run`.")
    return results


def _plot(args: argparse.Namespace) -> None:
    from .experiments import (class_histogram, config_path, experiment_title, load_results,
                              paired_gains, plot_class_histogram, plot_curves, plot_gains)

    results_path = _check_results_file(args.results)
    output = Path(args.output) if args.output else results_path.with_suffix(".png")
    if output.suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"--output must end in .png or .svg; got {args.output!r}.")
    results = load_results(results_path)
    title = args.title
    if title is None:
        saved = config_path(results_path)
        config = json.loads(saved.read_text()) if saved.is_file() else None
        title = f"{experiment_title(config, results)}\ntest {args.metric}: mean and 95% CI"
    path = plot_curves(results, output, metric=args.metric, title=title)
    print(f"figure: {path}")
    if not class_histogram(results).empty:
        classes = output.with_name(output.stem + ".classes" + output.suffix)
        print(f"figure: {plot_class_histogram(results, classes)}")
    if len(paired_gains(results, baseline=args.baseline, metric=args.metric)):
        gains = output.with_name(output.stem + ".gains" + output.suffix)
        print(f"figure: {plot_gains(results, gains, baseline=args.baseline, metric=args.metric)}")


def _data_override(args: argparse.Namespace, config: dict) -> dict:
    """The config's dataset replaced by ``--data`` (its name by the file's stem unless a
    config file names the run), or the config unchanged."""
    from .experiments import ConfigError

    if args.data is None:
        given = [f"--{k.replace('_', '-')}" for k in ("label", "features", "test_size")
                 if getattr(args, k) is not None]
        if given:
            raise ConfigError(f"{', '.join(given)} need --data.")
        return config
    dataset = dict(config["dataset"]) if config["dataset"]["name"] == "file" else {}
    dataset.pop("sha256", None)
    dataset.update(name="file", path=args.data)
    if args.label is not None:
        dataset["label"] = args.label
    if args.features is not None:
        dataset["features"] = args.features[0] if (
            len(args.features) == 1 and args.data.lower().endswith(".npz")) else args.features
    if args.test_size is not None:
        size = args.test_size
        dataset["test_size"] = int(size) if size >= 1 and size == int(size) else size
    name = config["name"] if args.config else Path(args.data).stem
    return {**config, "name": name, "dataset": dataset}


def _run(args: argparse.Namespace) -> None:
    from .experiments import (ConfigError, ExperimentConfig, load_config, load_results,
                              read_labelled, run_experiment)

    config = load_config(args.config or args.preset or "digits-demo")
    overrides = {"strategies": args.strategies, "budget": args.budget,
                 "batch_size": args.batch_size, "initial": args.initial, "seeds": args.seeds}
    config = _data_override(args, config)
    config = ExperimentConfig.from_dict(
        {**config, **{k: v for k, v in overrides.items() if v is not None}})
    output = Path(args.output or Path("results") / f"{config.name}.csv")
    if args.n_jobs < 1:
        raise ConfigError(f"--n-jobs must be >= 1; got {args.n_jobs}.")
    progress = not args.no_progress and sys.stderr.isatty()
    run_experiment(config, output, n_jobs=args.n_jobs, progress=progress)
    results = load_results(output)
    n_strategies, n_seeds = results["strategy"].nunique(), results["seed"].nunique()
    print(f"results: {output} ({len(results)} rows: {_count(n_strategies, 'strategy')} × "
          f"{_count(n_seeds, 'seed')})")
    if config.dataset.name == "file":
        dataset = config.dataset.to_dict()  # the table's lists, as read_labelled takes them
        names = read_labelled(dataset["path"], label=dataset.get("label", "y"),
                              features=dataset.get("features")).label_names
        if names.dtype.kind not in "iu":
            print("labels (the tables' class columns): "
                  + ", ".join(f"{code} = {name}" for code, name in enumerate(names.tolist())))
    print(f"next: skal-power plot {output}; skal-power report {output} --at ...")


def _user_errors() -> tuple[type[Exception], ...]:
    """The errors that :func:`main` reports in one line: the user's input is wrong.

    A bad config or flag (``ConfigError``, also raised by the runner for a config
    that does not fit its data, e.g. a budget larger than the pool), an unusable
    data file (``DataFileError``), a corrupt or foreign results file
    (``ResultsFileError``), an unusable argument (:class:`UsageError`) and a
    file the user named that does not exist. Any other exception is a bug and
    keeps its traceback.
    """
    from .experiments import ConfigError, DataFileError, ResultsFileError

    return ConfigError, DataFileError, ResultsFileError, UsageError, FileNotFoundError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``skal-power``; returns the exit status (2 on a user error).

    A user error (see ``_user_errors``) prints one line, ``skal-power: error:
    ...``, to stderr; any other exception propagates with its traceback.
    """
    args = _parser().parse_args(argv)
    try:
        from .experiments import config_path, cost_table, load_results
    except ImportError as error:  # the "study" extra is not installed
        if "skal_power[study]" not in str(error):
            raise
        print(f"skal-power: error: {error}", file=sys.stderr)
        return 2

    try:
        if args.command == "run":
            _run(args)
        elif args.command == "plot":
            _plot(args)
        else:
            results_path = _check_results_file(args.results)
            results = load_results(results_path)
            saved = config_path(results_path)
            config = json.loads(saved.read_text()) if saved.is_file() else None
            if config is not None:
                print(protocol_text(config) + "\n")
            print(report_text(results, args.at, metric=args.metric, baseline=args.baseline,
                              config=config))
            costs = cost_table(results_path)
            if costs:
                print("\nCost per strategy: wall-clock seconds measured by the runner, each "
                      "trial on one thread (fit: training and test evaluation; query: the "
                      "strategy's call).\n\n" + costs)
    except _user_errors() as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"skal-power: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
