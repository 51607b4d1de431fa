"""Gain over a baseline strategy, paired by seed, with Student-t 95% CIs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._statistics import t_interval

#: Label of the strategy that gains are measured against, when present.
DEFAULT_BASELINE = "RandomSampling"


def paired_gains(results: Any, *, baseline: str = DEFAULT_BASELINE,
                 metric: str = "accuracy", at: Sequence[int] | None = None):
    """Per-seed difference ``strategy − baseline`` at each label count, and over the curve.

    Trials of one seed share the data split and the initial labels, so the
    difference is paired by seed. The ``area`` row of each strategy is the
    per-seed mean of the differences over every label count that both have
    (the normalised area between the two learning curves).

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by :func:`skal_power.experiments.load_results`.
    baseline : str, default="RandomSampling"
        Label of the strategy to compare against.
    metric : {"accuracy", "nll"}
    at : sequence of int, optional
        Label counts to report (default: every count).

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy, n_labelled, n_seeds, mean, ci95``; ``n_labelled`` is
        ``"area"`` for the whole-curve row. Empty if ``baseline`` is absent.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "strategy": ["RandomSampling"] * 4 + ["BALD"] * 4,
    ...     "seed": [0, 0, 1, 1] * 2, "n_labelled": [10, 20] * 4,
    ...     "accuracy": [0.5, 0.6, 0.4, 0.7, 0.5, 0.7, 0.4, 0.9]})
    >>> gains = paired_gains(frame)
    >>> gains[["n_labelled", "mean"]].values.tolist()
    [[10, 0.0], [20, 0.15], ['area', 0.075]]
    """
    import pandas as pd

    if metric not in ("accuracy", "nll"):
        raise ValueError(f"metric must be 'accuracy' or 'nll'; got {metric!r}.")
    columns = ["strategy", "n_labelled", "n_seeds", "mean", "ci95"]
    frame = results.dropna(subset=[metric])
    if baseline not in set(frame["strategy"]):
        return pd.DataFrame(columns=columns)
    table = frame.pivot_table(index=["seed", "n_labelled"], columns="strategy",
                              values=metric, aggfunc="mean")
    rows = []
    for strategy in sorted(s for s in table.columns if s != baseline):
        difference = (table[strategy] - table[baseline]).dropna()
        if difference.empty:
            continue
        counts = sorted(difference.index.get_level_values("n_labelled").unique())
        for n in counts if at is None else [n for n in at if n in counts]:
            values = difference.xs(n, level="n_labelled").to_numpy()
            rows.append([strategy, int(n), len(values), *t_interval(values)])
        area = difference.groupby(level="seed").mean().to_numpy()
        rows.append([strategy, "area", len(area), *t_interval(area)])
    return pd.DataFrame(rows, columns=columns)


def gain_table(results: Any, at: Sequence[int] | None = None, *,
               baseline: str = DEFAULT_BASELINE, metric: str = "accuracy") -> str:
    """Markdown table of the paired gain over ``baseline`` (``""`` if it is absent).

    Each cell is ``mean ± 95% CI`` of the per-seed difference; a ``*`` marks
    a CI that excludes 0. The last column is the whole-curve (area) gain.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "strategy": ["RandomSampling"] * 4 + ["BALD"] * 4,
    ...     "seed": [0, 1, 2, 3] * 2, "n_labelled": [10] * 8,
    ...     "accuracy": [0.5, 0.6, 0.4, 0.5, 0.6, 0.7, 0.5, 0.6]})
    >>> print(gain_table(frame, at=[10]))
    | strategy | 10 labels | whole curve |
    |---|---|---|
    | BALD | +0.100 ± 0.000 * (n=4) | +0.100 ± 0.000 * (n=4) |
    """
    gains = paired_gains(results, baseline=baseline, metric=metric)
    if gains.empty:
        return ""
    numeric = gains[gains["n_labelled"] != "area"]
    if at is None:
        at = [int(numeric["n_labelled"].max())]
    lines = ["| strategy | " + " | ".join(f"{n} labels" for n in at) + " | whole curve |",
             "|---" * (len(at) + 2) + "|"]
    for strategy, group in gains.groupby("strategy", sort=True):
        cells = []
        for n in list(at) + ["area"]:
            row = group[group["n_labelled"] == n]
            cells.append("–" if row.empty else gain_cell(row.iloc[0]))
        lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def gain_cell(row: Any, *, count: bool = True) -> str:
    """One cell of a gain table: ``mean ± ci``, ``*`` when the CI excludes 0, ``(n=seeds)``.

    Parameters
    ----------
    row : mapping
        ``mean``, ``ci95`` (NaN for a single seed) and ``n_seeds``, as in a row of
        :func:`paired_gains`.
    count : bool, default=True
        Append ``(n=seeds)``; it is always appended when there is no CI.

    Returns
    -------
    str

    Examples
    --------
    >>> gain_cell({"mean": 0.031, "ci95": 0.012, "n_seeds": 5})
    '+0.031 ± 0.012 * (n=5)'
    >>> gain_cell({"mean": 0.01, "ci95": float("nan"), "n_seeds": 1})
    '+0.010 (n=1)'
    """
    mean, ci, n = float(row["mean"]), float(row["ci95"]), int(row["n_seeds"])
    if np.isnan(ci):
        return f"{mean:+.3f} (n={n})"
    significant = " *" if abs(mean) > ci else ""
    return f"{mean:+.3f} ± {ci:.3f}{significant}" + (f" (n={n})" if count else "")


def gain_summary(results: Any, *, baseline: str = DEFAULT_BASELINE,
                 metric: str = "accuracy") -> str:
    """One sentence: each strategy's whole-curve gain over ``baseline``, best first.

    Says, per strategy, whether the paired 95% CI puts it ahead of, behind or
    level with the baseline. ``""`` if the baseline is absent.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "strategy": ["RandomSampling"] * 4 + ["BALD"] * 4,
    ...     "seed": [0, 1, 2, 3] * 2, "n_labelled": [10] * 8,
    ...     "accuracy": [0.5, 0.6, 0.4, 0.5, 0.6, 0.7, 0.5, 0.6]})
    >>> print(gain_summary(frame))
    Whole-curve accuracy gain over RandomSampling (paired 95% CI, 4 seeds): BALD +0.100 ± 0.000, ahead.
    """
    gains = paired_gains(results, baseline=baseline, metric=metric)
    if gains.empty:
        return ""
    area = gains[gains["n_labelled"] == "area"]
    sign = 1.0 if metric == "accuracy" else -1.0
    area = area.assign(order=-sign * area["mean"].astype(float)).sort_values("order")
    parts = []
    for _, row in area.iterrows():
        mean, ci = float(row["mean"]), float(row["ci95"])
        if np.isnan(ci):
            verdict = "one seed, no CI"
        elif abs(mean) <= ci:
            verdict = "level (the CI includes 0)"
        else:
            verdict = "ahead" if sign * mean > 0 else "behind"
        ci_text = "" if np.isnan(ci) else f" ± {ci:.3f}"
        parts.append(f"{row['strategy']} {mean:+.3f}{ci_text}, {verdict}")
    seeds = int(area["n_seeds"].max())
    return (f"Whole-curve {metric} gain over {baseline} (paired 95% CI, {seeds} seeds): "
            + "; ".join(parts) + ".")


def plot_gains(results: Any, path: Any, *, baseline: str = DEFAULT_BASELINE,
               metric: str = "accuracy", title: str | None = None) -> Path:
    """Plot each strategy's whole-curve gain over ``baseline`` with its paired 95% CI.

    One panel per experiment: pass a results frame, or a mapping from a name
    (the panel's title) to a frame, e.g. one pool per panel. Each strategy is a
    point at its mean per-seed gain (the ``area`` row of :func:`paired_gains`)
    with a bar for the Student-t 95% CI; a filled point marks a CI that
    excludes 0. Strategies keep one row across panels, so a method can be
    followed from one pool to the next. Panels without the baseline are skipped.

    Parameters
    ----------
    results : pandas.DataFrame or mapping of str to pandas.DataFrame
    path : str or Path
        A ``.png`` or ``.svg`` file.
    baseline, metric
        As in :func:`paired_gains`.
    title : str, optional
        Title of the whole figure.

    Returns
    -------
    Path

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> frame = pd.DataFrame({
    ...     "strategy": ["RandomSampling"] * 4 + ["BALD"] * 4,
    ...     "seed": [0, 0, 1, 1] * 2, "n_labelled": [10, 20] * 4,
    ...     "accuracy": [0.5, 0.6, 0.4, 0.7, 0.5, 0.7, 0.4, 0.9]})
    >>> out = plot_gains({"pool A": frame, "pool B": frame},
    ...                  pathlib.Path(tempfile.mkdtemp()) / "gains.svg")
    >>> out.stat().st_size > 0
    True
    """
    from ._curves import figure_target

    plt, path = figure_target(path)
    panels = results if isinstance(results, Mapping) else {"": results}
    areas = {}
    for name, frame in panels.items():
        gains = paired_gains(frame, baseline=baseline, metric=metric)
        if not gains.empty:
            areas[name] = gains[gains["n_labelled"] == "area"].set_index("strategy")
    if not areas:
        raise ValueError(f"no panel holds the baseline {baseline!r} and another strategy.")
    strategies = sorted(set().union(*(frame.index for frame in areas.values())))
    figure, axes = plt.subplots(1, len(areas), sharey=True, squeeze=False,
                                figsize=(max(6.0, 2.2 + 2.4 * len(areas)),
                                         1.8 + 0.35 * len(strategies)))
    rows = np.arange(len(strategies))
    for axis, (name, area) in zip(axes[0], areas.items()):
        area = area.reindex(strategies)
        mean = area["mean"].to_numpy(dtype=float)
        ci = area["ci95"].to_numpy(dtype=float)
        excludes = np.abs(mean) > ci  # False where one seed leaves no CI (NaN)
        ci = np.nan_to_num(ci)
        axis.axvline(0.0, color="0.5", linewidth=0.8)
        axis.errorbar(mean, rows, xerr=ci, fmt="none", ecolor="C0", capsize=2)
        axis.plot(mean[excludes], rows[excludes], "o", color="C0")
        axis.plot(mean[~excludes], rows[~excludes], "o", markerfacecolor="white", color="C0")
        axis.set_title(str(name), fontsize=9)
        axis.grid(alpha=0.3, axis="x")
    axes[0][0].set_yticks(rows, strategies)
    axes[0][0].invert_yaxis()
    figure.supxlabel(f"{metric} gain over {baseline}: the per-seed difference, mean over "
                     "label counts", fontsize=8)
    figure.suptitle(title or f"Whole-curve {metric} gain over {baseline}\nmean and paired "
                    "95% CI over seeds (filled: the CI excludes 0)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def complete_seeds(results: Any, config: dict) -> list[int]:
    """Seeds whose trials have every round for every strategy of ``config``.

    A run stopped early leaves some trials short; paired comparisons take the
    complete seeds only.

    Examples
    --------
    >>> import pandas as pd
    >>> config = {"budget": 10, "batch_size": 10,
    ...           "strategies": [{"label": "A"}, {"label": "B"}]}
    >>> frame = pd.DataFrame({"strategy": ["A", "A", "B", "B", "A"],
    ...                       "seed": [0, 0, 0, 0, 1]})
    >>> complete_seeds(frame, config)
    [0]
    """
    from ._config import n_rounds, strategy_labels

    labels = strategy_labels(config)
    counts = results.groupby(["seed", "strategy"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=labels, fill_value=0)
    return sorted(int(seed) for seed, row in counts.iterrows()
                  if (row >= n_rounds(config)).all())
