"""The registry of pool types that are not in memory, and the query each is routed to.

It imports nothing, so that ``import skal_power`` can register Dask pools
(:mod:`skal_power._dask_pools`) without importing the strategies or Dask.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

__all__ = ["register_pool_type", "registered_query"]

#: ``(is_pool, query)`` pairs: pools that are not in memory and how to query them.
_POOL_TYPES: list[tuple[Callable[[Any], bool], Callable]] = []


def register_pool_type(is_pool: Callable[[Any], bool], query: Callable) -> None:
    """Route pools for which ``is_pool(X_pool)`` holds to ``query``.

    ``query(strategy, classifier, X_pool, n_instances, *, seed, round_index,
    **kwargs)`` replaces the strategy's in-memory ``_query``; it gets the
    query's seed, so it can give the in-memory batch. :mod:`skal_power.distributed`
    registers Dask arrays and data frames this way: strategies themselves know
    nothing about Dask.

    Examples
    --------
    >>> from skal_power.strategies import register_pool_type
    >>> callable(register_pool_type)
    True
    """
    _POOL_TYPES.append((is_pool, query))


def registered_query(strategy: Any, X_pool: Any) -> Callable | None:
    """The query of the registered pool type ``X_pool`` belongs to, bound to ``strategy``.

    Examples
    --------
    >>> import numpy as np
    >>> registered_query(None, np.zeros((3, 2))) is None   # in memory: no registered type
    True
    """
    for is_pool, query in _POOL_TYPES:
        if is_pool(X_pool):
            return functools.partial(query, strategy)
    return None
