"""Candidates: the best points of (part of) a pool under one total order, and their merge.

The one candidates type of the package: Gumbel-top-B sampling, top-B and the
partitions of a Dask pool all rank points by it. Every batch rule of the
selectors picks "the best k points" under one total order: higher tier first,
then larger key, then smaller tie key, then smaller global index. Top-B rules
use ``tier = 1, key = score`` and the seeded :func:`skal_power.sampling.tie_keys`
of each global index; Gumbel-top-B rules use the tier and key of
:func:`skal_power.sampling.acquisition_keys`. The global best k is contained in
the union of every partition's local best k, so partitions keep their best k
and the merge keeps the best k of the union: the same points, in the same
order, as ranking the whole pool at once — ties included.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

__all__ = ["Candidates", "best_candidates", "merge_candidates"]


class Candidates(NamedTuple):
    """Points of (part of) a pool, best first, with what the merge needs.

    ``indices`` are global pool positions, ``tiers`` 1 for positive weight and
    0 otherwise, ``keys`` what the rule ranks by, ``scores`` the acquisition
    score reported for each point, ``ties`` (uint64) the order of exact ties
    of the key before the index (zeros: index order).

    Examples
    --------
    >>> import numpy as np
    >>> Candidates.empty().indices.shape
    (0,)
    """

    indices: np.ndarray
    tiers: np.ndarray
    keys: np.ndarray
    scores: np.ndarray
    ties: np.ndarray

    @classmethod
    def empty(cls) -> "Candidates":
        return cls(np.empty(0, np.int64), np.empty(0, np.int8), np.empty(0), np.empty(0),
                   np.empty(0, np.uint64))

    @classmethod
    def ranked(cls, indices, tiers, keys, scores, ties=None) -> "Candidates":
        """Candidates with ties in index order unless ``ties`` is given."""
        if ties is None:
            ties = np.zeros(len(indices), dtype=np.uint64)
        return cls(indices, tiers, keys, scores, ties)


def _at_least_kth(keys: np.ndarray, k: int) -> np.ndarray:
    """Positions of every key >= the k-th largest (ties at the boundary kept)."""
    if k >= len(keys):
        return np.arange(len(keys))
    kth = keys[np.argpartition(-keys, k - 1)[k - 1]]
    return np.flatnonzero(keys >= kth)


def best_candidates(candidates: Candidates, k: int) -> Candidates:
    """The best ``k`` candidates in order (tier desc, key desc, index asc), in O(n).

    Examples
    --------
    >>> import numpy as np
    >>> c = Candidates.ranked(np.arange(5), np.array([1, 1, 1, 1, 0], dtype=np.int8),
    ...                np.array([0.5, 0.9, 0.5, 0.1, 7.0]), np.zeros(5))
    >>> best_candidates(c, 3).indices.tolist()
    [1, 0, 2]
    """
    tiers, keys = candidates.tiers, candidates.keys
    k = min(int(k), len(keys))
    positive = np.flatnonzero(tiers)
    if len(positive) >= k:
        chosen = positive[_at_least_kth(keys[positive], k)]
    else:
        zero = np.flatnonzero(tiers == 0)
        chosen = np.concatenate([positive, zero[_at_least_kth(keys[zero], k - len(positive))]])
    order = np.lexsort((candidates.indices[chosen], candidates.ties[chosen], -keys[chosen],
                        -tiers[chosen].astype(np.int64)))
    chosen = chosen[order][:k]
    return Candidates(*(field[chosen] for field in candidates))


def merge_candidates(parts: Sequence[Candidates], k: int) -> Candidates:
    """The best ``k`` of the union of several partitions' candidates.

    Examples
    --------
    >>> import numpy as np
    >>> a = Candidates.ranked(np.array([0, 1]), np.ones(2, np.int8), np.array([0.3, 0.2]), np.zeros(2))
    >>> b = Candidates.ranked(np.array([7]), np.ones(1, np.int8), np.array([0.3]), np.zeros(1))
    >>> merge_candidates([a, b], 2).indices.tolist()
    [0, 7]
    """
    parts = [part for part in parts if len(part.indices)]
    if not parts:
        return Candidates.empty()
    union = Candidates(*(np.concatenate(fields) for fields in zip(*parts)))
    return best_candidates(union, k)
