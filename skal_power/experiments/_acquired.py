"""What each strategy spent its labels on: out-of-distribution points, or copies.

A flawed pool can waste labels in two ways that the class histogram does not
show: on points from outside the test distribution (an ``OutOfDistribution``
transform), and on copies of images already labelled (``RepeatWithNoise``, as
in Repeated MNIST). :func:`acquired_fractions` measures both per trial, so that
strategies can be compared paired by seed with :func:`fraction_table`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._config import dataset_spec
from ._data import make_data
from ._statistics import t_interval
from ._runner import initial_indices

__all__ = ["acquired_fractions", "acquired_rows", "copy_flags", "fraction_table"]

KINDS = ("ood", "copies")


def acquired_rows(trial: Any) -> list[int]:
    """The pool rows one trial acquired, in the order it acquired them.

    Parameters
    ----------
    trial : pandas.DataFrame
        The results rows of one (strategy, seed): ``round`` and ``acquired`` (the
        space-separated pool rows of each round; empty in the last row).

    Returns
    -------
    list of int

    Examples
    --------
    >>> import pandas as pd
    >>> trial = pd.DataFrame({"round": [1, 0, 2], "acquired": ["7 2", "5 9", None]})
    >>> acquired_rows(trial)
    [5, 9, 7, 2]
    """
    cells = trial.sort_values("round")["acquired"]
    return [int(i) for cell in cells if isinstance(cell, str) for i in cell.split()]


def copy_flags(source: Any, labelled: Any, picked: Any) -> np.ndarray:
    """For each pick, whether an image it copies was labelled before it.

    Before it means in ``labelled`` (e.g. the initial set) or earlier among
    ``picked`` (an earlier round, or earlier in the same batch).

    Parameters
    ----------
    source : array-like of int, shape (N,)
        For each pool row, the image it copies (``TrialData.source``).
    labelled : array-like of int
        Pool rows labelled before the first pick.
    picked : sequence of int
        Pool rows in the order they were acquired.

    Returns
    -------
    numpy.ndarray of bool, shape (len(picked),)

    Examples
    --------
    >>> import numpy as np
    >>> source = np.array([0, 1, 2, 0, 1, 2])  # every image twice
    >>> copy_flags(source, [0], [3, 1, 4, 2]).tolist()
    [True, False, True, False]
    """
    source = np.asarray(source)
    seen = set(source[np.asarray(labelled, dtype=int)].tolist())
    picked = np.asarray(picked, dtype=int)
    flags = np.zeros(len(picked), dtype=bool)
    for position, image in enumerate(source[picked].tolist()):
        flags[position] = image in seen
        seen.add(image)
    return flags


def acquired_fractions(results: Any, config: dict[str, Any], *, kind: str = "ood"):
    """Per seed and strategy, the fraction of acquired labels that were wasted in one way.

    Parameters
    ----------
    results : pandas.DataFrame
        As returned by :func:`skal_power.experiments.load_results` (the
        ``acquired`` column).
    config : dict
        The experiment's config, which rebuilds each seed's pool
        (:func:`make_data`).
    kind : {"ood", "copies"}
        ``"ood"``: points an ``OutOfDistribution`` transform put in the pool
        (:attr:`TrialData.ood_mask`). ``"copies"``: points whose image, another
        noisy copy made by ``RepeatWithNoise`` (:attr:`TrialData.source`), was
        already labelled: in the initial set, in an earlier round, or earlier
        in the same batch. A strategy that takes two copies of one image in a
        batch pays for the second label twice.

    Returns
    -------
    pandas.DataFrame or None
        Indexed by seed, a column per strategy (sorted); None when the pool has
        no such points (no ``OutOfDistribution`` or no ``RepeatWithNoise``).

    Examples
    --------
    >>> import pandas as pd
    >>> config = {"dataset": {"name": "digits", "test_size": 300, "pool_size": 100,
    ...                       "transforms": [{"name": "RepeatWithNoise", "k": 2}]},
    ...           "initial": 1}
    >>> data = make_data(config, seed=0)
    >>> start = int(initial_indices(config, 0, data.y_pool)[0])  # the one initial label
    >>> twin, other = (start + 100) % 200, (start + 1) % 100  # row r copies row r mod 100
    >>> rows = pd.DataFrame({"strategy": ["A", "A"], "seed": [0, 0], "round": [0, 1],
    ...                      "acquired": [f"{twin} {other}", f"{other + 100}"]})
    >>> round(float(acquired_fractions(rows, config, kind="copies").loc[0, "A"]), 3)
    0.667
    >>> acquired_fractions(rows, config, kind="ood") is None
    True
    """
    import pandas as pd

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
    needed = "OutOfDistribution" if kind == "ood" else "RepeatWithNoise"
    if not any(t.name == needed for t in dataset_spec(config).transforms):
        return None  # no such points: no need to rebuild any seed's data
    fractions: dict[str, dict[int, float]] = {}
    for seed, trials in results.groupby("seed"):
        data = make_data(config, int(seed))
        if (data.ood_mask if kind == "ood" else data.source) is None:
            return None  # a later transform changed the rows
        initial = initial_indices(config, int(seed), data.y_pool) if kind == "copies" else None
        for strategy, trial in trials.groupby("strategy"):
            picked = acquired_rows(trial)
            flags = (data.ood_mask[picked] if kind == "ood"
                     else copy_flags(data.source, initial, picked))
            fractions.setdefault(strategy, {})[int(seed)] = (
                float(flags.mean()) if picked else float("nan"))
    return pd.DataFrame(fractions).sort_index(axis=1)


def fraction_table(fractions: Any, *, column: str = "fraction", reference: str = "BALD") -> str:
    """Markdown table of :func:`acquired_fractions`: each strategy's share and its
    difference from ``reference``'s, paired by seed.

    Shares are mean ± 95% Student-t CI over seeds; differences are in
    percentage points, with ``*`` where their CI excludes 0 (no CI with one
    seed; ``–`` for the reference itself or without it).

    Examples
    --------
    >>> import pandas as pd
    >>> fractions = pd.DataFrame({"BALD": [0.4, 0.5, 0.6], "Random": [0.1, 0.1, 0.2]})
    >>> print(fraction_table(fractions, column="copies"))
    | strategy | copies | minus BALD's |
    |---|---|---|
    | BALD | 50% ± 25% | – |
    | Random | 13% ± 14% | -37 ± 14 pp * |
    """
    lines = [f"| strategy | {column} | minus {reference}'s |", "|---|---|---|"]
    for strategy in fractions.columns:
        mean, half = t_interval(fractions[strategy])
        share = f"{mean:.0%}" + ("" if np.isnan(half) else f" ± {half:.0%}")
        difference = "–"
        if strategy != reference and reference in fractions:
            mean, half = t_interval(fractions[strategy] - fractions[reference])
            difference = f"{round(100 * mean):+d}" + (" pp" if np.isnan(half) else (
                f" ± {100 * half:.0f} pp" + (" *" if abs(mean) > half else "")))
        lines.append(f"| {strategy} | {share} | {difference} |")
    return "\n".join(lines)
