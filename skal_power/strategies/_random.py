"""Uniform random sampling, the baseline every strategy must beat."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..sampling import random_sample
from .._pool import pool_size
from ._base import QueryStrategy

__all__ = ["RandomSampling"]


class RandomSampling(QueryStrategy):
    """Draw the batch uniformly without replacement; ignores the classifier.

    Its scores are all zero. Uses the same Gumbel-top-B machinery as the
    stochastic strategies, so the batch is the same however the pool is split.

    Parameters
    ----------
    random_state : None, int, RandomState or Generator

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power import RandomSampling
    >>> indices, scores = RandomSampling(random_state=0)(None, np.zeros((10, 2)), n_instances=3)
    >>> len(set(indices.tolist())), scores.tolist()
    (3, [0.0, 0.0, 0.0])
    """

    _seed_layout = "random"

    def __init__(self, *, random_state: Any = None) -> None:
        self.random_state = random_state

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
        indices = random_sample(pool_size(X_pool), n_instances,
                                random_state=self._query_seeds(seed).selection)
        return indices, np.zeros(n_instances)
