"""Dask collections as a pool type of every strategy (:mod:`skal_power.distributed`).

``import skal_power`` imports this module, which registers Dask pools with
:func:`skal_power.strategies.register_pool_type` without importing Dask, the
strategies or :mod:`skal_power.distributed`: those load when a pool is a Dask
collection, which it can only be once Dask is imported.
"""

from __future__ import annotations

import sys
from typing import Any

from ._pool_types import register_pool_type

__all__: list[str] = []


def _is_dask_pool(X_pool: Any) -> bool:
    """A Dask collection (never imports dask: without it loaded, no pool can be one)."""
    if "dask" not in sys.modules:
        return False
    from .distributed._partitions import is_dask_collection

    return is_dask_collection(X_pool)


def _dask_query(strategy: Any, *args: Any, **kwargs: Any):
    """:func:`skal_power.distributed.dask_query`, imported on the first Dask pool."""
    from .distributed import dask_query

    return dask_query(strategy, *args, **kwargs)


register_pool_type(_is_dask_pool, _dask_query)
