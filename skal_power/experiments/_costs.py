"""What each strategy cost: the runner's timings, summarised per strategy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["cost_summary", "cost_table", "remaining_cost", "timings_path"]


def timings_path(output: Any) -> Path:
    """Where ``run_experiment`` writes the timings of the results file ``output``.

    Examples
    --------
    >>> timings_path("results/demo.csv").as_posix()
    'results/demo.timings.csv'
    """
    output = Path(output)
    return output.with_name(output.stem + ".timings" + output.suffix)


def cost_summary(output: Any):
    """Seconds per round and in all, by strategy, from ``<output stem>.timings.csv``.

    ``fit`` is training plus test evaluation, ``query`` the strategy's call.
    The runner measures wall-clock seconds with each trial on one thread, so
    the numbers are core-seconds only while no other work shares the cores.

    Parameters
    ----------
    output : path
        The results CSV (its timings file is found beside it).

    Returns
    -------
    pandas.DataFrame
        Indexed by strategy: ``rounds``, ``fit_per_round``, ``query_per_round``
        (mean seconds) and ``total_minutes`` (fit and query summed). Empty when
        there is no timings file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skal_power.experiments import run_experiment
    >>> cfg = {"strategies": ["RandomSampling", "BALD"], "budget": 10, "seeds": [0],
    ...        "model": {"name": "extra_trees", "params": {"n_estimators": 5}}}
    >>> out = run_experiment(cfg, pathlib.Path(tempfile.mkdtemp()) / "r.csv")
    >>> summary = cost_summary(out)
    >>> summary["rounds"].to_dict()
    {'BALD': 2, 'RandomSampling': 2}
    >>> bool((summary["query_per_round"] >= 0).all())
    True
    """
    import pandas as pd

    path = timings_path(output)
    columns = ["rounds", "fit_per_round", "query_per_round", "total_minutes"]
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    frame = pd.read_csv(path, comment="#")
    grouped = frame.groupby("strategy")
    summary = pd.DataFrame({
        "rounds": grouped.size(),
        "fit_per_round": grouped["fit_seconds"].mean(),
        "query_per_round": grouped["query_seconds"].mean(),
        "total_minutes": (grouped["fit_seconds"].sum() + grouped["query_seconds"].sum()) / 60,
    })
    return summary[columns]


def remaining_cost(output: Any, config: dict):
    """Rounds each strategy has left, and the minutes they take at the measured cost.

    The estimate multiplies the rounds left (every seed of ``config``, less the
    rows already in ``output``) by the strategy's mean seconds per round so far
    (:func:`cost_summary`); it is NaN for a strategy with no timing yet. Rounds
    measured under other load or another library version enter the mean as
    they are, so the estimate is only as good as those rounds are typical.

    Parameters
    ----------
    output : path
        The results CSV (absent: nothing has run).
    config : dict
        The checked config the results belong to.

    Returns
    -------
    pandas.DataFrame
        Indexed by strategy label, in config order: ``rounds_left`` and
        ``minutes_left``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skal_power.experiments import check_config, run_experiment
    >>> cfg = check_config({"strategies": ["RandomSampling", "BALD"], "budget": 10,
    ...                     "seeds": [0], "model": {"name": "extra_trees",
    ...                                             "params": {"n_estimators": 5}}})
    >>> out = run_experiment(cfg, pathlib.Path(tempfile.mkdtemp()) / "r.csv")
    >>> remaining_cost(out, {**cfg, "seeds": [0, 1]})["rounds_left"].to_dict()
    {'RandomSampling': 2, 'BALD': 2}
    """
    return _remaining(output, config, cost_summary(output))


def _remaining(output: Any, config: dict, summary):
    """:func:`remaining_cost` from an already read :func:`cost_summary`."""
    import pandas as pd

    from ._config import config_field, n_rounds, strategy_labels
    from ._results import load_results

    output = Path(output)
    done = (load_results(output)["strategy"].value_counts() if output.is_file()
            else pd.Series(dtype=int))
    per_round = (summary["fit_per_round"] + summary["query_per_round"]).to_dict()
    total = n_rounds(config) * len(config_field(config, "seeds"))
    rows = {}
    for label in strategy_labels(config):
        left = max(0, total - int(done.get(label, 0)))
        rows[label] = {"rounds_left": left,
                       "minutes_left": left * per_round.get(label, float("nan")) / 60}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["rounds_left", "minutes_left"])


def cost_table(output: Any, config: dict | None = None) -> str:
    """A markdown table of :func:`cost_summary`, with a row for all strategies ("" if none).

    With ``config``, two more columns give the rounds left and the minutes they
    would take at the measured cost per round (:func:`remaining_cost`).

    Examples
    --------
    >>> cost_table("/no/such/results.csv")
    ''
    """
    summary = cost_summary(output)
    if summary.empty:
        return ""
    left = None if config is None else _remaining(output, config, summary)
    extra = "" if left is None else " rounds left | left (min, est.) |"
    lines = ["| strategy | rounds | fit (s per round) | query (s per round) | total (min) |"
             + extra, "|---|---|---|---|---|" + ("---|---|" if extra else "")]

    def left_cells(label) -> str:
        if left is None:
            return ""
        if label not in left.index:
            return " 0 | 0.0 |"
        rounds, minutes = left.loc[label]
        return f" {int(rounds)} | {'–' if minutes != minutes else f'{minutes:.1f}'} |"

    for strategy, row in summary.iterrows():
        lines.append(f"| {strategy} | {int(row['rounds'])} | {row['fit_per_round']:.1f} | "
                     f"{row['query_per_round']:.2f} | {row['total_minutes']:.1f} |"
                     + left_cells(strategy))
    if left is not None:
        for label in left.index.difference(summary.index, sort=False):
            lines.append(f"| {label} | 0 | – | – | 0.0 |" + left_cells(label))
    all_left = ""
    if left is not None:
        unmeasured = int(left.loc[left["minutes_left"].isna(), "rounds_left"].sum())
        all_left = (f" {int(left['rounds_left'].sum())} | "
                    f"{left['minutes_left'].sum():.1f}"
                    + (f" + {unmeasured} unmeasured rounds |" if unmeasured else " |"))
    lines.append(f"| all | {int(summary['rounds'].sum())} | | | "
                 f"{summary['total_minutes'].sum():.1f} |" + all_left)
    return "\n".join(lines)
