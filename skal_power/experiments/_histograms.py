"""Which classes each strategy asked the oracle for: histograms of acquired labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _labels(cell: Any) -> list[str]:
    return str(cell).split() if isinstance(cell, str) else []


def class_histogram(results: Any):
    """Mean number of acquired labels of each class per trial, by strategy.

    Only acquired points count (not the initial set). Labels are read from the
    results' ``acquired_labels`` column; files written before it have none,
    and give an empty frame.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by :func:`skal_power.experiments.load_results`.

    Returns
    -------
    pandas.DataFrame
        One row per strategy, one column per label (sorted), values averaged
        over the strategy's seeds.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"strategy": ["A", "A", "A"], "seed": [0, 0, 1],
    ...                       "acquired_labels": ["1 1", "2", "1 2"]})
    >>> class_histogram(frame).values.tolist()
    [[1.5, 1.0]]
    """
    import pandas as pd

    column = results["acquired_labels"] if "acquired_labels" in results else []
    records = [(strategy, seed, label)
               for strategy, seed, cell in zip(results["strategy"], results["seed"], column)
               for label in _labels(cell)]
    if not records:
        return pd.DataFrame()
    frame = pd.DataFrame(records, columns=["strategy", "seed", "label"])
    counts = frame.groupby(["strategy", "seed", "label"]).size().unstack("label", fill_value=0)
    seeds = results.groupby("strategy")["seed"].nunique()
    totals = counts.groupby(level="strategy").sum()
    labels = sorted(totals.columns, key=_label_key)
    return totals[labels].div(seeds.loc[totals.index], axis=0)


def _label_key(label: str):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def histogram_table(results: Any) -> str:
    """Markdown table of :func:`class_histogram`, with each strategy's rarest class.

    Empty string when the results hold no acquired labels.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"strategy": ["A", "B"], "seed": [0, 0],
    ...                       "acquired_labels": ["0 0 1", "0 1 1"]})
    >>> print(histogram_table(frame))
    | strategy | 0 | 1 | rarest |
    |---|---|---|---|
    | A | 2.0 | 1.0 | 1.0 |
    | B | 1.0 | 2.0 | 1.0 |
    """
    histogram = class_histogram(results)
    if histogram.empty:
        return ""
    labels = [str(c) for c in histogram.columns]
    lines = ["| strategy | " + " | ".join(labels) + " | rarest |",
             "|---" * (len(labels) + 2) + "|"]
    for strategy, row in histogram.iterrows():
        cells = [f"{v:.1f}" for v in row.to_numpy()]
        lines.append(f"| {strategy} | " + " | ".join(cells) + f" | {row.min():.1f} |")
    return "\n".join(lines)


def plot_class_histogram(results: Any, path: Any, *, title: str | None = None) -> Path:
    """Grouped bars: acquired labels per class and strategy (mean per trial).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> frame = pd.DataFrame({"strategy": ["A", "B"], "seed": [0, 0],
    ...                       "acquired_labels": ["0 0 1", "0 1 1"]})
    >>> out = plot_class_histogram(frame, pathlib.Path(tempfile.mkdtemp()) / "h.svg")
    >>> out.stat().st_size > 0
    True
    """
    from ._curves import figure_target

    plt, path = figure_target(path)
    histogram = class_histogram(results)
    if histogram.empty:
        raise ValueError("the results hold no acquired labels (written before "
                         "acquired_labels was recorded?).")
    n_strategies, n_labels = histogram.shape
    width = 0.8 / n_strategies
    figure, axes = plt.subplots(figsize=(max(6, 0.6 * n_labels + 2), 3.5))
    positions = np.arange(n_labels)
    for number, (strategy, row) in enumerate(histogram.iterrows()):
        axes.bar(positions + (number - (n_strategies - 1) / 2) * width, row.to_numpy(),
                 width, label=str(strategy))
    axes.set_xticks(positions, [str(c) for c in histogram.columns])
    axes.set_xlabel("class")
    axes.set_ylabel("acquired labels per trial")
    axes.set_title(title or "acquired labels by class (mean over seeds)", fontsize=10)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
