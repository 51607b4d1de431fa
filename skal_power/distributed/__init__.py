"""Query strategies on pools that live on a Dask cluster.

Pass a ``dask.array.Array`` (or a ``dask.dataframe.DataFrame`` of features)
as ``X_pool`` to any strategy whose batch rule merges exactly across
partitions; the strategy scores each partition where it lives and returns
the batch the in-memory call gives for the same ``random_state``::

    indices, scores = PowerBALD(random_state=0)(model, X_dask, n_instances=1000)

Nothing here needs to be imported to query: importing ``skal_power``
registers Dask collections as a pool type of the strategies
(:func:`skal_power.strategies.register_pool_type`); the strategies themselves
know nothing about Dask. :func:`score_pool` gives the lazy scores of a Dask pool
(for histograms, persisting, or custom selection). Requires the ``dask``
extra (``pip install skal_power[dask]``).
"""

from ._lazy import score_pool
from ._query import dask_query, selection_rule

__all__ = ["dask_query", "score_pool", "selection_rule"]
