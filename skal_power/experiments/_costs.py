"""What each strategy cost: the runner's timings, summarised per strategy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["cost_summary", "cost_table", "timings_path"]


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


def cost_table(output: Any) -> str:
    """A markdown table of :func:`cost_summary`, with a row for all strategies ("" if none).

    Examples
    --------
    >>> cost_table("/no/such/results.csv")
    ''
    """
    summary = cost_summary(output)
    if summary.empty:
        return ""
    lines = ["| strategy | rounds | fit (s per round) | query (s per round) | total (min) |",
             "|---|---|---|---|---|"]
    for strategy, row in summary.iterrows():
        lines.append(f"| {strategy} | {int(row['rounds'])} | {row['fit_per_round']:.1f} | "
                     f"{row['query_per_round']:.2f} | {row['total_minutes']:.1f} |")
    lines.append(f"| all | {int(summary['rounds'].sum())} | | | "
                 f"{summary['total_minutes'].sum():.1f} |")
    return "\n".join(lines)
