"""Passes of a posterior over pool rows, chunk by chunk, with bounded memory.

Every strategy reads a model's sampled predictions the same way: ``chunk_size``
rows at a time, each chunk with the same seed (so MC dropout uses the same
masks for every chunk, and the result does not depend on the chunking), with
an optional tqdm bar and a check that the model gave as many posterior samples
as the score needs.
"""

from __future__ import annotations

import sys
from typing import Any, Iterator

import numpy as np

from ._pool import pool_size, row_slice, take_rows
from .adapters import sampled_log_proba, too_few_samples

__all__ = ["pool_log_probs", "progress_bar", "require_tqdm", "sampled_pass"]


STUDY_INSTALL = "pip install \"skal_power[study]\" (or pip install tqdm)"


def require_tqdm():
    """``tqdm.auto.tqdm``, or an ImportError that says how to install it (``progress=True``).

    Examples
    --------
    >>> bar = require_tqdm()(total=3, disable=True)
    >>> bar.total
    3
    """
    try:
        from tqdm.auto import tqdm
    except ImportError as error:
        raise ImportError(f"progress=True needs tqdm ({error}); install it with "
                          f"{STUDY_INSTALL}.") from None
    return tqdm


def progress_bar(description: str | None, total: int):
    """A tqdm bar over ``total`` pool rows, or None when ``description`` is None.

    The form of the experiment runner's bars: ``tqdm.auto``, on stderr, not
    left behind once done.

    Examples
    --------
    >>> progress_bar(None, 10) is None
    True
    """
    if description is None:
        return None
    tqdm = require_tqdm()

    return tqdm(total=total, desc=description, unit="row", leave=False, file=sys.stderr)


def sampled_pass(estimator: Any, X_pool: Any, rows: np.ndarray | None = None, *,
                 n_samples: int, chunk_size: int, seed: int, progress: str | None = None,
                 min_samples: int = 1,
                 owner: str = "the strategy") -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(start, stop, log_probs)`` for the pool rows ``rows[start:stop]``.

    Parameters
    ----------
    estimator : fitted posterior
        Anything :func:`skal_power.adapters.sampled_log_proba` understands.
    X_pool : array-like of rows
    rows : numpy.ndarray of int, optional
        Pool positions to predict, in this order; all rows if omitted.
    n_samples, chunk_size, seed
        Posterior samples K, rows per chunk, seed of the samples.
    progress : str, optional
        Description of a tqdm bar over the rows; no bar if None.
    min_samples : int, default=1
        Fewest posterior samples the caller's score needs; fewer raise a
        ``ValueError`` naming the model, ``owner`` and the fix.
    owner : str
        Who needs the samples (for that message).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.arange(10.0).reshape(5, 2)
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1, 1])
    >>> [(start, stop, log_probs.shape) for start, stop, log_probs
    ...  in sampled_pass(model, X, n_samples=3, chunk_size=3, seed=0)]
    [(0, 3, (3, 1, 2)), (3, 5, (2, 1, 2))]
    """
    n_rows = pool_size(X_pool) if rows is None else len(rows)
    contiguous = rows is None or n_rows == pool_size(X_pool)
    bar = progress_bar(progress, n_rows)
    try:
        for start in range(0, n_rows, chunk_size):
            stop = min(start + chunk_size, n_rows)
            chunk = (row_slice(X_pool, start, stop) if contiguous
                     else take_rows(X_pool, rows[start:stop]))
            log_probs = sampled_log_proba(estimator, chunk, n_samples=n_samples,
                                          random_state=seed)
            if min_samples > 1 and np.ndim(log_probs) == 3 and log_probs.shape[1] < min_samples:
                raise ValueError(too_few_samples(estimator, log_probs.shape[1], min_samples,
                                                 owner))
            yield start, stop, log_probs
            if bar is not None:
                bar.update(stop - start)
    finally:
        if bar is not None:
            bar.close()


def pool_log_probs(estimator: Any, X_pool: Any, **kwargs: Any) -> np.ndarray:
    """Every pool row's sampled log-probabilities at once, ``(N, K, C)``.

    For the greedy batch scores, which need the whole pool in memory;
    ``kwargs`` are those of :func:`sampled_pass`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.arange(10.0).reshape(5, 2)
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1, 1])
    >>> pool_log_probs(model, X, n_samples=3, chunk_size=2, seed=0).shape
    (5, 1, 2)
    """
    return np.concatenate([log_probs for _, _, log_probs
                           in sampled_pass(estimator, X_pool, **kwargs)])
