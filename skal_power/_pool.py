"""Rows of a pool, whatever its container: the one helper for counting and taking them.

Pools may be numpy arrays, scipy sparse matrices, pandas DataFrames, torch
tensors or lists of rows (e.g. strings for a text pipeline).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_row_pool", "pool_size", "take_rows", "row_slice"]

#: scipy sparse formats without row indexing: converted to CSR once per query.
_UNINDEXABLE_SPARSE = ("coo", "dia", "bsr")


def as_row_pool(X_pool: Any, *, name: str = "X_pool") -> Any:
    """``X_pool`` checked as a pool of rows, in a form whose rows can be taken.

    A 1-D numeric array is refused (it would be read as that many one-value
    rows); 1-D arrays of strings or objects are rows (e.g. texts for a
    vectoriser pipeline). scipy sparse matrices in COO, DIA or BSR form are
    converted to CSR, the form modAL uses: same values, so the same picks.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> as_row_pool(sp.coo_matrix(np.eye(3))).format
    'csr'
    >>> as_row_pool(np.arange(4.0))
    Traceback (most recent call last):
    ...
    ValueError: X_pool must be 2-D, one row per pool point; got a 1-D array of shape (4,). ...
    """
    fmt = getattr(X_pool, "format", None)
    if fmt in _UNINDEXABLE_SPARSE and hasattr(X_pool, "tocsr"):
        return X_pool.tocsr()
    ndim = getattr(X_pool, "ndim", None)
    dtype = getattr(X_pool, "dtype", None)
    if ndim is not None and ndim < 2 and getattr(dtype, "kind", "O") in "biufc":
        shape = tuple(getattr(X_pool, "shape", ()))
        raise ValueError(
            f"{name} must be 2-D, one row per pool point; got a {ndim}-D array of shape "
            f"{shape}. Use X.reshape(-1, 1) for one feature per point, or X.reshape(1, -1) "
            "for a single point."
        )
    return X_pool


def pool_size(X_pool: Any) -> int:
    """Number of rows of a pool.

    Examples
    --------
    >>> pool_size(np.zeros((5, 2))), pool_size(["a", "b"])
    (5, 2)
    """
    shape = getattr(X_pool, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    try:
        return len(X_pool)
    except TypeError as error:
        raise TypeError(
            f"X_pool must be an array-like of rows; got {type(X_pool).__name__}."
        ) from error


def row_slice(X_pool: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop``, keeping the pool's type (pandas by position).

    Examples
    --------
    >>> row_slice(np.arange(6).reshape(3, 2), 1, 3).tolist()
    [[2, 3], [4, 5]]
    """
    if hasattr(X_pool, "iloc"):
        return X_pool.iloc[start:stop]
    return X_pool[start:stop]


def take_rows(X_pool: Any, indices: Any) -> Any:
    """Rows at positions ``indices``, keeping the pool's type; all rows in order: the pool.

    Examples
    --------
    >>> take_rows(["a", "b", "c"], np.array([2, 0]))
    ['c', 'a']
    >>> X = np.zeros((3, 1))
    >>> take_rows(X, np.arange(3)) is X
    True
    """
    indices = np.asarray(indices, dtype=np.intp)
    if len(indices) == pool_size(X_pool) and np.array_equal(indices, np.arange(len(indices))):
        return X_pool
    if hasattr(X_pool, "iloc"):
        return X_pool.iloc[indices]
    if isinstance(X_pool, list):
        return [X_pool[i] for i in indices]
    return X_pool[indices]
