"""A Dask pool as a list of row partitions, without computing it.

A ``dask.array.Array`` is split along its rows only: chunks along the feature
axes are merged per row block (``rechunk``), which moves each row block's
pieces onto one worker but never to the client. Row chunk sizes are known
for most arrays; when they are not (``nan``, e.g. after boolean indexing) and
for ``dask.dataframe.DataFrame`` pools, partition lengths are taken inside the
query graph from the scored partitions, so the pool is read once and
``len()`` is never called on the collection.
"""

from __future__ import annotations

import math
import sys
from typing import Any, NamedTuple

__all__ = ["Partitions", "is_dask_collection", "pool_partitions"]


def is_dask_collection(X: Any) -> bool:
    """True for a Dask collection; never imports dask itself.

    Examples
    --------
    >>> import numpy as np
    >>> is_dask_collection(np.zeros(3))
    False
    """
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(X)


class Partitions(NamedTuple):
    """Row partitions of a pool: one ``Delayed`` per block and their lengths.

    ``lengths`` is ``None`` when they are only known after reading the blocks.
    """

    blocks: list
    lengths: list[int] | None


def _array_partitions(X) -> Partitions:
    if X.ndim not in (1, 2):
        raise ValueError(
            f"X_pool as a dask array must have shape (N,) or (N, n_features); got {X.ndim} "
            f"dimensions (shape {X.shape})."
        )
    row_chunks = X.chunks[0]
    known = not any(math.isnan(c) for c in row_chunks)
    if X.ndim == 2 and len(X.chunks[1]) > 1:
        if not known:
            raise ValueError(
                "X_pool is a dask array chunked along features with unknown row chunk sizes; "
                "call X_pool.compute_chunk_sizes() (or build it with known lengths, e.g. "
                "dataframe.to_dask_array(lengths=True)) before querying."
            )
        # Scoring needs whole rows: merge the feature chunks of each row block.
        X = X.rechunk({1: -1})
    blocks = list(X.to_delayed().ravel())
    return Partitions(blocks, [int(c) for c in row_chunks] if known else None)


DASK_INSTALL = "pip install 'skal_power[dask]'"


def require_dask():
    """``dask.array``, or an ImportError that says how to install it.

    Examples
    --------
    >>> require_dask().__name__
    'dask.array'
    """
    try:
        import dask.array as da
    except ImportError as error:
        raise ImportError(
            f"Dask pools need dask ({error}); install it with `{DASK_INSTALL}`.") from None
    return da


def pool_partitions(X_pool: Any) -> Partitions:
    """Split a dask array or dataframe pool into row partitions.

    Parameters
    ----------
    X_pool : dask.array.Array of shape (N, n_features) or dask.dataframe.DataFrame

    Returns
    -------
    Partitions

    Examples
    --------
    >>> import dask.array as da
    >>> parts = pool_partitions(da.zeros((10, 4), chunks=(3, 2)))
    >>> len(parts.blocks), parts.lengths
    (4, [3, 3, 3, 1])
    """
    da = require_dask()
    if isinstance(X_pool, da.Array):
        return _array_partitions(X_pool)
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - dask installed without its dataframe extra
        dd = None
    if dd is not None and isinstance(X_pool, dd.DataFrame):
        return Partitions(list(X_pool.to_delayed()), None)
    raise TypeError(
        "X_pool as a Dask collection must be a dask.array.Array or a dask.dataframe.DataFrame "
        f"of features; got {type(X_pool).__module__}.{type(X_pool).__name__}."
    )
