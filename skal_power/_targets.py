"""The target inputs of EPIG: given rows, a sampler of them, or a seeded pool subsample."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._pool import pool_size, take_rows

__all__ = ["check_targets", "target_inputs"]


def check_targets(value: Any, *, name: str = "X_target") -> None:
    """``None``, a callable ``rng -> rows`` or at least one row.

    Examples
    --------
    >>> check_targets(None) is None
    True
    """
    if value is None or callable(value):
        return
    try:
        n_rows = pool_size(value)
    except TypeError:
        raise TypeError(f"{name} must be None, an array-like of target rows or a callable "
                        f"rng -> rows; got {type(value).__name__}.") from None
    if n_rows < 1:
        raise ValueError(f"{name} must hold at least one target input.")


def target_inputs(X_target: Any, target_size: int, X_pool: Any, seed: int) -> Any:
    """The target rows of one query: ``X_target``, a draw of the sampler, or a pool subsample.

    Examples
    --------
    >>> import numpy as np
    >>> target_inputs(None, 2, np.arange(10).reshape(5, 2), seed=0).shape
    (2, 2)
    """
    if X_target is None:
        n_pool = pool_size(X_pool)
        if n_pool < 1:
            raise ValueError("The pool is empty: there is nothing to query.")
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(n_pool, size=min(target_size, n_pool), replace=False))
        return take_rows(X_pool, chosen)
    if callable(X_target):
        return X_target(np.random.default_rng(seed))
    return X_target
