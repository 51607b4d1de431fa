"""Gumbel-top-B: exact sampling without replacement, chunk by chunk.

Sampling B points sequentially without replacement from ``p(x) ∝ f(x)`` is the
same as keeping the B largest keys ``log f(x) + G_x`` with ``G_x`` i.i.d.
Gumbel(0, 1) noise (Vieira 2014; Kool et al. 2019). The noise of point ``n`` is
a pure function of ``(seed, n)`` — SplitMix64 of the point's global index — so
a pool split into chunks, processes or cluster partitions gives exactly the
batch of the whole pool: each part keeps its local top-B and the parts merge
with :func:`merge_top_keys`.

Points with weight 0 (``log f = -inf``) get tier 0 and rank after every point
of positive weight; among themselves they are ordered by their noise alone,
i.e. drawn uniformly.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

__all__ = ["TopKeys", "gumbel_noise", "tie_keys", "acquisition_keys", "top_keys",
           "merge_top_keys"]

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(state: np.ndarray) -> np.ndarray:
    z = state.copy()
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def gumbel_noise(seed: int, indices: np.ndarray) -> np.ndarray:
    """Gumbel(0, 1) noise for the points ``indices``, a function of ``(seed, index)`` only.

    Parameters
    ----------
    seed : int
        Non-negative integer below 2**64.
    indices : array-like of int
        Global indices of the points in the pool.

    Returns
    -------
    numpy.ndarray of float64
        One draw per index; the same index and seed always give the same draw.

    Examples
    --------
    >>> import numpy as np
    >>> whole = gumbel_noise(7, np.arange(6))
    >>> parts = np.concatenate([gumbel_noise(7, np.arange(3)), gumbel_noise(7, np.arange(3, 6))])
    >>> bool(np.array_equal(whole, parts))
    True
    """
    index = np.asarray(indices, dtype=np.uint64)
    base = _splitmix64(np.array([seed], dtype=np.uint64))[0]
    with np.errstate(over="ignore"):
        state = base + (index + np.uint64(1)) * _GAMMA
    bits = _splitmix64(state) >> np.uint64(11)
    uniform = (bits.astype(np.float64) + 0.5) * (1.0 / 2**53)
    return -np.log(-np.log(uniform))


#: Salt that separates the tie-breaking stream from the Gumbel noise of the same seed.
_TIE_SALT = np.uint64(0x7469652D6B657973)  # "tie-keys"


def tie_keys(seed: int, indices: np.ndarray) -> np.ndarray:
    """Random tie-breaking keys for the points ``indices``, a function of ``(seed, index)``.

    Top-B selection orders exact ties of the score by these keys (smaller
    first), so a seeded query breaks ties at random, the same way for the whole
    pool and for any partition of it.

    Examples
    --------
    >>> import numpy as np
    >>> keys = tie_keys(3, np.arange(5))
    >>> keys.dtype.name, bool(np.array_equal(keys[2:], tie_keys(3, np.arange(2, 5))))
    ('uint64', True)
    """
    index = np.asarray(indices, dtype=np.uint64)
    base = _splitmix64(np.array([seed], dtype=np.uint64) ^ _TIE_SALT)[0]
    with np.errstate(over="ignore"):
        return _splitmix64(base + (index + np.uint64(1)) * _GAMMA)


class TopKeys(NamedTuple):
    """The best ``k`` points of (part of) a pool, best first.

    ``indices`` are global pool indices, ``tiers`` 1 for points of positive
    weight and 0 otherwise, ``keys`` the perturbed log-weights.

    Examples
    --------
    >>> import numpy as np
    >>> tiers, keys = acquisition_keys(np.log([0.1, 0.7, 0.2]), 0, np.arange(3))
    >>> best = top_keys(np.arange(3), tiers, keys, 2)
    >>> isinstance(best, TopKeys), best.indices.shape
    (True, (2,))
    """

    indices: np.ndarray
    tiers: np.ndarray
    keys: np.ndarray


def acquisition_keys(log_weights: np.ndarray, seed: int,
                     indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tier and Gumbel key of every point; ``log_weights`` may hold ``-inf``.

    Examples
    --------
    >>> import numpy as np
    >>> tiers, keys = acquisition_keys(np.array([0.0, -np.inf]), 0, np.arange(2))
    >>> tiers.tolist(), bool(np.isfinite(keys).all())
    ([1, 0], True)
    """
    log_weights = np.asarray(log_weights, dtype=np.float64)
    noise = gumbel_noise(seed, indices)
    positive = log_weights > -np.inf
    keys = np.where(positive, log_weights + noise, noise)
    return positive.astype(np.int8), keys


def _order(tiers: np.ndarray, keys: np.ndarray, indices: np.ndarray) -> np.ndarray:
    # Higher tier first, then larger key, then smaller index (keys tie with probability 0).
    return np.lexsort((indices, -keys, -tiers.astype(np.int64)))


def top_keys(indices: np.ndarray, tiers: np.ndarray, keys: np.ndarray, k: int) -> TopKeys:
    """Keep the ``k`` best points of one part of the pool, in O(N).

    Examples
    --------
    >>> import numpy as np
    >>> top_keys(np.arange(4), np.array([1, 1, 0, 1]), np.array([0.1, 0.5, 9.0, 0.2]), 2).indices
    array([1, 3])
    """
    indices = np.asarray(indices)
    k = min(k, len(indices))
    tiers = np.asarray(tiers)
    keys = np.asarray(keys, dtype=np.float64)
    n_positive = int(np.count_nonzero(tiers))
    if n_positive >= k:
        candidates = np.flatnonzero(tiers)
        if k < n_positive:
            part = np.argpartition(-keys[candidates], k - 1)[:k]
            candidates = candidates[part]
    else:
        zero = np.flatnonzero(tiers == 0)
        need = k - n_positive
        if need < len(zero):
            zero = zero[np.argpartition(-keys[zero], need - 1)[:need]]
        candidates = np.concatenate([np.flatnonzero(tiers), zero])
    # Ties at the partition boundary are broken by the exact order below; keys are
    # continuous so ties have probability 0.
    order = _order(tiers[candidates], keys[candidates], indices[candidates])
    chosen = candidates[order]
    return TopKeys(indices[chosen], tiers[chosen], keys[chosen])


def merge_top_keys(parts: Sequence[TopKeys], k: int) -> TopKeys:
    """Merge the local top-k of several parts into the global top-k.

    Examples
    --------
    >>> import numpy as np
    >>> a = TopKeys(np.array([0]), np.array([1]), np.array([0.3]))
    >>> b = TopKeys(np.array([5]), np.array([1]), np.array([0.9]))
    >>> merge_top_keys([a, b], 1).indices
    array([5])
    """
    indices = np.concatenate([p.indices for p in parts])
    tiers = np.concatenate([p.tiers for p in parts])
    keys = np.concatenate([p.keys for p in parts])
    return top_keys(indices, tiers, keys, k)
