"""The ``skal-power`` console script: ``run`` experiments, ``plot`` and ``report`` results.

Examples
--------
>>> main(["report", "/no/such/results.csv"])
2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from .experiments import (
    PRESETS,
    ConfigError,
    ResultsFileError,
    load_config,
    load_results,
    plot_curves,
    report_table,
    run_experiment,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skal-power",
        description="Run active-learning experiments and summarise their learning curves.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run (or resume) an experiment")
    source = run.add_mutually_exclusive_group()
    source.add_argument("--config", help="JSON or TOML config file")
    source.add_argument("--preset", choices=sorted(PRESETS),
                        help="a shipped config (default: digits-demo)")
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
    plot.add_argument("--output", "-o", required=True, help="figure path (.png or .svg)")
    plot.add_argument("--metric", choices=("accuracy", "nll"), default="accuracy")
    plot.add_argument("--title")

    report = commands.add_parser("report", help="markdown table of a metric at label counts")
    report.add_argument("results", help="results CSV written by `run`")
    report.add_argument("--at", type=int, nargs="+",
                        help="label counts (default: the largest)")
    report.add_argument("--metric", choices=("accuracy", "nll"), default="accuracy")
    return parser


def _run(args: argparse.Namespace) -> None:
    config = load_config(args.config or args.preset or "digits-demo")
    overrides = {"strategies": args.strategies, "budget": args.budget,
                 "batch_size": args.batch_size, "initial": args.initial, "seeds": args.seeds}
    config = load_config({**config, **{k: v for k, v in overrides.items() if v is not None}})
    output = Path(args.output or Path("results") / f"{config['name']}.csv")
    if args.n_jobs < 1:
        raise ConfigError(f"--n-jobs must be >= 1; got {args.n_jobs}.")
    progress = not args.no_progress and sys.stderr.isatty()
    run_experiment(config, output, n_jobs=args.n_jobs, progress=progress)
    print(f"results: {output}")
    print(report_table(load_results(output)))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``skal-power``; returns the exit status (2 on a user error)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            _run(args)
        elif args.command == "plot":
            path = plot_curves(load_results(args.results), args.output, metric=args.metric,
                               title=args.title)
            print(f"figure: {path}")
        else:
            print(report_table(load_results(args.results), args.at, metric=args.metric))
    except (ConfigError, ResultsFileError, FileNotFoundError, ValueError, TypeError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"skal-power: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
