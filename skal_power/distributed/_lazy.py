"""Lazy acquisition scores of a Dask pool."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_seed
from ._partitions import pool_partitions, require_dask
from ._query import _score_blocks, _ship, selection_rule

__all__ = ["score_pool"]


def score_pool(strategy: Any, classifier: Any, X_pool: Any, *, seed: int | None = None):
    """Lazy acquisition scores of a Dask pool: a ``dask.array`` of shape ``(N,)``.

    The Dask counterpart of ``strategy.score_pool(classifier, X_pool,
    seed=seed)``: one task per partition, the same values as in memory.
    Nothing is computed until you ask (``.compute()``, ``.persist()``,
    ``da.histogram`` ...). Lengths of partitions of unknown size stay ``nan``.

    Parameters
    ----------
    strategy : PosteriorStrategy
        A single-point strategy (BALD, PowerBALD, ...) whose ``score_pool`` is
        row-wise (see :func:`selection_rule`).
    classifier : fitted posterior
    X_pool : dask.array.Array or dask.dataframe.DataFrame
    seed : int, optional
        Seed of the posterior samples; drawn from ``strategy.random_state`` if omitted.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import BALD
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    >>> lazy = score_pool(BALD(), forest, da.from_array(X, chunks=40), seed=0)
    >>> lazy.chunks, bool(np.array_equal(lazy.compute(), BALD().score_pool(forest, X, seed=0)))
    (((40, 40, 40, 30),), True)
    """
    da = require_dask()
    try:
        rule = selection_rule(strategy)
    except TypeError:
        rule = ""
    if not rule.startswith("scores/"):
        raise TypeError(
            f"score_pool needs a strategy that scores points one by one; got "
            f"{type(strategy).__name__}."
        )
    if seed is None:
        seed = check_seed(strategy.random_state)
    strategy._check_params()
    partitions = pool_partitions(X_pool)
    lengths = partitions.lengths or [np.nan] * len(partitions.blocks)
    model = _ship(classifier)  # held by the lazy array for as long as it lives
    blocks = [da.from_delayed(scores, shape=(n,), dtype=np.float64)
              for scores, n in zip(_score_blocks(strategy, model, partitions, seed, {}), lengths)]
    return da.concatenate(blocks) if blocks else da.zeros(0, chunks=1)
