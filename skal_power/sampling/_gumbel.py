"""Gumbel-top-B: exact sampling without replacement, chunk by chunk.

Sampling B points sequentially without replacement from ``p(x) ∝ f(x)`` is the
same as keeping the B largest keys ``log f(x) + G_x`` with ``G_x`` i.i.d.
Gumbel(0, 1) noise (Vieira 2014; Kool et al. 2019). The noise of point ``n`` is
a pure function of ``(seed, n)`` — SplitMix64 of the point's global index — so
a pool split into chunks, processes or cluster partitions gives exactly the
batch of the whole pool: each part keeps its local top-B and the parts merge
with :func:`~skal_power.sampling.merge_candidates`.

Points with weight 0 (``log f = -inf``) get tier 0 and rank after every point
of positive weight; among themselves they are ordered by their noise alone,
i.e. drawn uniformly.
"""

from __future__ import annotations

import numpy as np

from ._candidates import Candidates, best_candidates

__all__ = ["gumbel_noise", "tie_keys", "acquisition_keys", "top_keys"]

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


def top_keys(indices: np.ndarray, tiers: np.ndarray, keys: np.ndarray, k: int) -> Candidates:
    """The ``k`` best points of one part of the pool, in O(N), as :class:`Candidates`.

    Higher tier first, then larger key, then smaller index.

    Examples
    --------
    >>> import numpy as np
    >>> top_keys(np.arange(4), np.array([1, 1, 0, 1]), np.array([0.1, 0.5, 9.0, 0.2]), 2).indices
    array([1, 3])
    """
    keys = np.asarray(keys, dtype=np.float64)
    return best_candidates(Candidates.ranked(np.asarray(indices), np.asarray(tiers), keys,
                                             keys), k)
