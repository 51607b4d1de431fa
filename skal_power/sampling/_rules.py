"""Stochastic (and deterministic) batch selection rules on a score vector.

Every rule takes ``scores`` of shape ``(N,)`` and a ``batch_size`` and returns
the indices of the chosen points, in the order they were drawn. Randomness
comes only from ``random_state`` (see :func:`skal_power._validation.check_seed`).

The stochastic rules sample *without replacement* from ``p(x) ∝ f(s(x))``:

=========  ======================  ====================================
rule       ``f(s)``                notes
=========  ======================  ====================================
power      ``max(s, 0) ** alpha``  α = 0 is uniform; large α is top-B
softmax    ``exp(beta * s)``       handles negative scores
softrank   ``rank(s) ** -beta``    scale-free; rank 1 is the best score
=========  ======================  ====================================

References
----------
Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron, Gal, "Stochastic
Batch Acquisition: A Simple Baseline for Deep Active Learning", TMLR 2023.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.stats import rankdata

from .._validation import (
    check_batch_size,
    check_non_negative,
    check_positive_int,
    check_scores,
    check_seed,
)
from ._gumbel import acquisition_keys, tie_keys, top_keys

__all__ = [
    "AcquisitionWarning",
    "power_log_weights",
    "softmax_log_weights",
    "softrank_log_weights",
    "sample_from_log_weights",
    "power_sample",
    "softmax_sample",
    "softrank_sample",
    "uniform_top_sample",
    "random_sample",
    "top_sample",
]


class AcquisitionWarning(UserWarning):
    """A batch could not be drawn as asked and a documented fallback was used.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skal_power.sampling import AcquisitionWarning, power_sample
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     batch = power_sample(np.array([0.5, 0.0, 0.0]), 2, random_state=0)
    >>> int(batch[0]), caught[0].category is AcquisitionWarning
    (0, True)
    """


def power_log_weights(scores: np.ndarray, alpha: float) -> np.ndarray:
    """``log f`` for power acquisition: ``alpha * log max(s, 0)``; α = 0 gives 0 everywhere.

    Examples
    --------
    >>> import numpy as np
    >>> power_log_weights(np.array([np.e, 0.0, -1.0]), 2.0).tolist()
    [2.0, -inf, -inf]
    """
    if alpha == 0:
        return np.zeros_like(scores, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return alpha * np.log(np.maximum(scores, 0.0))


def softmax_log_weights(scores: np.ndarray, beta: float) -> np.ndarray:
    """``log f`` for softmax acquisition: ``beta * s``.

    Examples
    --------
    >>> import numpy as np
    >>> softmax_log_weights(np.array([-1.0, 2.0]), 3.0).tolist()
    [-3.0, 6.0]
    """
    return beta * np.asarray(scores, dtype=np.float64)


def softrank_log_weights(scores: np.ndarray, beta: float) -> np.ndarray:
    """``log f`` for softrank acquisition: ``-beta * log rank(s)``, rank 1 = best, ties averaged.

    Examples
    --------
    >>> import numpy as np
    >>> softrank_log_weights(np.array([0.1, 0.9, 0.5]), 1.0).round(4).tolist()
    [-1.0986, 0.0, -0.6931]
    """
    ranks = rankdata(-np.asarray(scores, dtype=np.float64), method="average")
    return -beta * np.log(ranks)


def sample_from_log_weights(log_weights: np.ndarray, batch_size: int, seed: int) -> np.ndarray:
    """Gumbel-top-B on ``log_weights``; warns when too few weights are positive.

    Parameters
    ----------
    log_weights : numpy.ndarray of shape (N,)
        ``log f(s)``; ``-inf`` marks a weight of 0.
    batch_size : int
        Number of points to draw (<= N).
    seed : int
        Noise seed; the noise of point n depends on (seed, n) only.

    Returns
    -------
    numpy.ndarray of int64
        Indices in draw order.

    Examples
    --------
    >>> import numpy as np
    >>> log_weights = np.array([np.log(0.1), -np.inf, np.log(0.9)])
    >>> sorted(sample_from_log_weights(log_weights, 2, seed=0).tolist())
    [0, 2]
    """
    tiers, keys = acquisition_keys(log_weights, seed, np.arange(len(log_weights)))
    chosen = top_keys(np.arange(len(log_weights)), tiers, keys, batch_size)
    n_positive = int(np.count_nonzero(tiers))
    if n_positive < batch_size:
        warnings.warn(
            f"Only {n_positive} of {len(log_weights)} pool points have a positive acquisition "
            f"weight; the other {batch_size - n_positive} points of the batch were drawn "
            "uniformly from the rest.",
            AcquisitionWarning,
            stacklevel=3,
        )
    return chosen.indices.astype(np.int64)


def _prepare(scores: Any, batch_size: Any) -> tuple[np.ndarray, int]:
    scores = check_scores(scores)
    return scores, check_batch_size(batch_size, len(scores), name="batch_size")


def power_sample(scores: Any, batch_size: int, *, alpha: float = 5.0,
                 random_state: Any = None) -> np.ndarray:
    """Sample a batch without replacement with probability ∝ ``max(s, 0) ** alpha``.

    Parameters
    ----------
    scores : array-like of shape (N,)
        Acquisition scores, e.g. BALD.
    batch_size : int
        Number of points to select, ``1 <= batch_size <= N``.
    alpha : float, default=5.0
        Sharpness, ``>= 0``. 0 is uniform sampling; large values approach top-B.
    random_state : None, int, RandomState or Generator
        Seed of the Gumbel noise.

    Returns
    -------
    numpy.ndarray of shape (batch_size,)
        Indices into ``scores`` in draw order.

    Warns
    -----
    AcquisitionWarning
        When fewer than ``batch_size`` scores are positive; the rest of the
        batch is then drawn uniformly from the points of zero weight.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import power_sample
    >>> scores = np.array([0.9, 0.1, 0.5, 0.0, 0.7])
    >>> power_sample(scores, 2, alpha=1e6, random_state=0)
    array([0, 4])
    >>> a = power_sample(scores, 3, alpha=1.0, random_state=42)
    >>> bool(np.array_equal(a, power_sample(scores, 3, alpha=1.0, random_state=42)))
    True
    """
    scores, batch_size = _prepare(scores, batch_size)
    alpha = check_non_negative(alpha, name="alpha")
    seed = check_seed(random_state)
    return sample_from_log_weights(power_log_weights(scores, alpha), batch_size, seed)


def softmax_sample(scores: Any, batch_size: int, *, beta: float = 1.0,
                   random_state: Any = None) -> np.ndarray:
    """Sample a batch without replacement with probability ∝ ``exp(beta * s)``.

    Works for negative scores (EIG, EvaluationBALD). ``beta = 0`` is uniform.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import softmax_sample
    >>> softmax_sample(np.array([-3.0, 2.0, -1.0]), 1, beta=1e3, random_state=0)
    array([1])
    """
    scores, batch_size = _prepare(scores, batch_size)
    beta = check_non_negative(beta, name="beta")
    seed = check_seed(random_state)
    return sample_from_log_weights(softmax_log_weights(scores, beta), batch_size, seed)


def softrank_sample(scores: Any, batch_size: int, *, beta: float = 1.0,
                    random_state: Any = None) -> np.ndarray:
    """Sample a batch without replacement with probability ∝ ``rank(s) ** -beta``.

    Invariant to any increasing transformation of the scores.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import softrank_sample
    >>> scores = np.array([0.2, 0.4, 0.1])
    >>> bool(np.array_equal(softrank_sample(scores, 2, random_state=3),
    ...                     softrank_sample(np.exp(10 * scores), 2, random_state=3)))
    True
    """
    scores, batch_size = _prepare(scores, batch_size)
    beta = check_non_negative(beta, name="beta")
    seed = check_seed(random_state)
    return sample_from_log_weights(softrank_log_weights(scores, beta), batch_size, seed)


def top_sample(scores: Any, batch_size: int, *, random_state: Any = None) -> np.ndarray:
    """The ``batch_size`` highest scores, best first.

    Parameters
    ----------
    scores : array-like of shape (N,)
    batch_size : int
    random_state : None, int, RandomState or Generator, default=None
        Breaks exact ties of the score at random (:func:`tie_keys` of each
        point's index), as modAL's own strategies do; ``None`` gives ties to
        the lower index. Strategies always pass their query's seed: with a
        k-NN posterior, say, many points share one entropy, and taking the
        lowest indices among them biases the batch towards the pool's order.

    Warns
    -----
    AcquisitionWarning
        When the batch takes points with a score of at most 0 by the tie-break
        among more such points than it takes (all scores 0, say): those picks
        are uniformly random, as in :func:`power_sample`.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import top_sample
    >>> top_sample(np.array([0.3, 0.9, 0.3, 0.5]), 3)
    array([1, 3, 0])
    >>> tied = np.full(1000, 0.5)
    >>> top_sample(tied, 3, random_state=0).tolist() != [0, 1, 2]
    True
    """
    scores, batch_size = _prepare(scores, batch_size)
    if batch_size < len(scores):
        candidates = np.argpartition(-scores, batch_size - 1)[:batch_size]
        threshold = scores[candidates].min()
        candidates = np.flatnonzero(scores >= threshold)
    else:
        candidates = np.arange(len(scores))
    if random_state is None:
        ties = np.zeros(len(candidates), dtype=np.uint64)
    else:
        ties = tie_keys(check_seed(random_state), candidates)
    order = np.lexsort((candidates, ties, -scores[candidates]))
    chosen = candidates[order][:batch_size].astype(np.int64)
    _warn_if_tie_decides(scores, chosen)
    return chosen


def _warn_if_tie_decides(scores: np.ndarray, chosen: np.ndarray) -> None:
    """The rule of :func:`sample_from_log_weights` for top-B: say when points with no
    positive score fill the batch by the tie-break (e.g. a model fitted on one class,
    whose scores are all 0), as the batch is then random where it looks ranked."""
    lowest = scores[chosen[-1]]
    if lowest > 0:
        return
    n_tied = int(np.count_nonzero(scores == lowest))
    n_taken = int(np.count_nonzero(scores[chosen] == lowest))
    if n_tied > n_taken:
        n_positive = int(np.count_nonzero(scores > 0))
        warnings.warn(
            f"Only {n_positive} of {len(scores)} pool points have a positive acquisition "
            f"score; {n_taken} points of the batch were drawn by the seeded tie-break among "
            f"the {n_tied} points of equal score {float(lowest):g}, i.e. uniformly at random.",
            AcquisitionWarning,
            stacklevel=3,
        )


def uniform_top_sample(scores: Any, batch_size: int, *, factor: int = 10,
                       random_state: Any = None) -> np.ndarray:
    """Draw ``batch_size`` points uniformly from the top ``batch_size * factor`` scores.

    Parameters
    ----------
    factor : int, default=10
        Size of the candidate set relative to the batch; the UniformTop
        strategy defaults it to the number of classes.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import uniform_top_sample
    >>> picks = uniform_top_sample(np.arange(100.0), 5, factor=2, random_state=0)
    >>> bool(set(picks.tolist()) <= set(range(90, 100)))
    True
    """
    scores, batch_size = _prepare(scores, batch_size)
    factor = check_positive_int(factor, name="factor")
    seed = check_seed(random_state)
    n_candidates = min(len(scores), batch_size * factor)
    candidates = top_sample(scores, n_candidates)
    tiers, keys = acquisition_keys(np.zeros(len(candidates)), seed, candidates)
    return top_keys(candidates, tiers, keys, batch_size).indices.astype(np.int64)


def random_sample(n_pool: int, batch_size: int, *, random_state: Any = None) -> np.ndarray:
    """``batch_size`` distinct indices drawn uniformly from ``range(n_pool)``.

    Examples
    --------
    >>> from skal_power.sampling import random_sample
    >>> sorted(random_sample(5, 5, random_state=0).tolist())
    [0, 1, 2, 3, 4]
    """
    n_pool = int(n_pool)
    batch_size = check_batch_size(batch_size, n_pool, name="batch_size")
    seed = check_seed(random_state)
    return sample_from_log_weights(np.zeros(n_pool), batch_size, seed)
