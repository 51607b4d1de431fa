"""Gain over a baseline strategy, paired by seed, with Student-t 95% CIs."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

#: Label of the strategy that gains are measured against, when present.
DEFAULT_BASELINE = "RandomSampling"


def _t_interval(values: np.ndarray) -> tuple[float, float]:
    """Mean and 95% CI half-width (NaN for fewer than two values)."""
    from scipy import stats

    n = len(values)
    mean = float(np.mean(values)) if n else float("nan")
    if n < 2:
        return mean, float("nan")
    return mean, float(stats.t.ppf(0.975, n - 1) * np.std(values, ddof=1) / np.sqrt(n))


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
            rows.append([strategy, int(n), len(values), *_t_interval(values)])
        area = difference.groupby(level="seed").mean().to_numpy()
        rows.append([strategy, "area", len(area), *_t_interval(area)])
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
            cells.append("–" if row.empty else _cell(row.iloc[0]))
        lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(row) -> str:
    mean, ci, n = float(row["mean"]), float(row["ci95"]), int(row["n_seeds"])
    if np.isnan(ci):
        return f"{mean:+.3f} (n={n})"
    significant = " *" if abs(mean) > ci else ""
    return f"{mean:+.3f} ± {ci:.3f}{significant} (n={n})"


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
    from ._config import n_rounds

    labels = [s["label"] for s in config["strategies"]]
    counts = results.groupby(["seed", "strategy"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=labels, fill_value=0)
    return sorted(int(seed) for seed, row in counts.iterrows()
                  if (row >= n_rounds(config)).all())
