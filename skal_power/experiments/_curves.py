"""Learning curves over seeds: mean and Student-t 95% confidence intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._config import ExperimentConfig
from ._statistics import t_half_width


def summarize(results: Any, metric: str = "accuracy"):
    """Mean, standard deviation and 95% CI half-width of ``metric`` over seeds.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by :func:`skal_power.experiments.load_results`.
    metric : {"accuracy", "nll"}

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy, n_labelled, n_seeds, mean, std, ci95``; ``ci95`` is
        ``t_{0.975, n-1} * std / sqrt(n)`` (NaN for a single seed).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"strategy": ["A"] * 3, "n_labelled": [10] * 3,
    ...                       "accuracy": [0.5, 0.6, 0.7]})
    >>> row = summarize(frame).iloc[0]
    >>> round(float(row["mean"]), 3), round(float(row["ci95"]), 3)
    (0.6, 0.248)
    """
    if metric not in ("accuracy", "nll"):
        raise ValueError(f"metric must be 'accuracy' or 'nll'; got {metric!r}.")
    frame = results.dropna(subset=[metric])
    grouped = frame.groupby(["strategy", "n_labelled"], sort=True)[metric]
    summary = grouped.agg(n_seeds="count", mean="mean", std="std").reset_index()
    summary["ci95"] = t_half_width(summary["std"].to_numpy(), summary["n_seeds"].to_numpy())
    return summary


def figure_target(path: Any):
    """``(pyplot, Path)`` for a figure file: Agg unless a backend is set, PNG or SVG only.

    The one place the report figures (curves, gains, class histograms, and the
    studies' own figures) get pyplot and check the file name.

    Parameters
    ----------
    path : str or Path
        Where the figure will be saved; must end in ``.png`` or ``.svg``.

    Returns
    -------
    pyplot : module
        ``matplotlib.pyplot``, on the Agg backend unless another was chosen.
    path : Path

    Examples
    --------
    >>> plt, path = figure_target("curves.png")
    >>> path.name
    'curves.png'
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise ValueError(f"path must end in .png or .svg; got {str(path)!r}.")
    return plt, path


def plot_curves(results: Any, path: Any, *, metric: str = "accuracy",
                title: str | None = None) -> Path:
    """Plot mean ± 95% CI learning curves per strategy to a PNG or SVG file.

    For accuracy the band is clipped to [0, 1]: with few seeds a Student-t
    interval can reach past the possible values.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> frame = pd.DataFrame({"strategy": ["A"] * 4, "n_labelled": [10, 10, 20, 20],
    ...                       "accuracy": [0.5, 0.6, 0.7, 0.8]})
    >>> out = plot_curves(frame, pathlib.Path(tempfile.mkdtemp()) / "c.svg")
    >>> out.stat().st_size > 0
    True
    """
    plt, path = figure_target(path)
    summary = summarize(results, metric)
    figure, axes = plt.subplots(figsize=(6, 4))
    for strategy, group in summary.groupby("strategy", sort=True):
        x = group["n_labelled"].to_numpy()
        mean = group["mean"].to_numpy()
        ci = np.nan_to_num(group["ci95"].to_numpy())
        axes.plot(x, mean, label=strategy)
        low, high = mean - ci, mean + ci
        if metric == "accuracy":  # a wide t-interval must not draw accuracies above 1
            low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
        axes.fill_between(x, low, high, alpha=0.2)
    axes.set_xlabel("labelled points")
    axes.set_ylabel(f"test {metric}")
    axes.set_title(title or f"{metric}: mean and 95% CI over seeds", fontsize=10)
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def report_table(results: Any, at: Sequence[int] | None = None, *,
                 metric: str = "accuracy") -> str:
    """Markdown table of ``metric`` (mean ± 95% CI) per strategy at given label counts.

    ``at`` defaults to the largest label count; a count with no row for a
    strategy prints ``–``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"strategy": ["A", "A"], "n_labelled": [10, 10],
    ...                       "accuracy": [0.5, 0.7]})
    >>> print(report_table(frame, at=[10]))
    | strategy | 10 labels |
    |---|---|
    | A | 0.600 ± 1.271 (n=2) |
    """
    summary = summarize(results, metric)
    if at is None:
        at = [int(summary["n_labelled"].max())]
    lines = ["| strategy | " + " | ".join(f"{n} labels" for n in at) + " |",
             "|---" * (len(at) + 1) + "|"]
    for strategy, group in summary.groupby("strategy", sort=True):
        cells = []
        for n in at:
            row = group[group["n_labelled"] == n]
            if row.empty:
                cells.append("–")
            else:
                r = row.iloc[0]
                ci = "nan" if np.isnan(r["ci95"]) else f"{r['ci95']:.3f}"
                cells.append(f"{r['mean']:.3f} ± {ci} (n={int(r['n_seeds'])})")
        lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def dataset_label(dataset: dict[str, Any]) -> str:
    """``digits + RepeatWithNoise``: the dataset's name and its transforms, in order.

    A user's file is named by its file name, as in ``cells.csv``.
    """
    name = dataset.get("name", "data")
    if name == "file" and dataset.get("path"):
        name = Path(str(dataset["path"])).name
    return " + ".join([str(name)]
                      + [str(t.get("name")) for t in dataset.get("transforms", [])])


def experiment_title(config: dict[str, Any] | None, results: Any) -> str:
    """A plot title naming the data, the model and the number of seeds.

    Parameters
    ----------
    config : dict or None
        The experiment's config (``run`` saves it as ``<results>.config.json``);
        without it the title names the seeds only.
    results : pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"strategy": ["A", "A"], "seed": [0, 1]})
    >>> experiment_title({"dataset": {"name": "digits", "transforms": [
    ...     {"name": "RepeatWithNoise"}]}, "model": {"name": "extra_trees"}}, frame)
    'digits + RepeatWithNoise · extra_trees · 2 seeds'
    """
    n_seeds = int(results["seed"].nunique()) if "seed" in results else 0
    seeds = f"{n_seeds} seed{'s' if n_seeds != 1 else ''}"
    if not config:
        return seeds
    if isinstance(config, ExperimentConfig):
        config = config.to_dict()
    data = dataset_label(config.get("dataset", {}))
    model = str(config.get("model", {}).get("name", "model"))
    return f"{data} · {model} · {seeds}"

