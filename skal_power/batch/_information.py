"""The information a given batch carries about the model: ``I[y_1..y_b; ω]``.

:func:`batch_bald` builds a batch that maximises this quantity; :func:`batch_information`
scores any batch with it, whoever picked it (top-k BALD, PowerBALD, random, a
human). The difference ``Σ_i BALD(x_i) − I[y_1..y_b; ω]`` is what top-k
acquisition loses to redundancy: the information its picks share.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._kernels import entropy_terms
from .._validation import check_bool, check_log_probs, check_seed
from ._greedy import (
    DEFAULT_MAX_EXACT_SIZE,
    DEFAULT_MAX_MEMORY,
    DEFAULT_N_CONFIGURATIONS,
    _no_grad,
    _probability_table,
    _require_torch,
    _settings,
)
from ._joint import JointEntropyTracker

__all__ = ["batch_information"]


def _check_indices(indices: Any, n_pool: int) -> np.ndarray:
    array = np.asarray(indices)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"indices must be a non-empty 1-D array of pool indices; "
                         f"got shape {array.shape}.")
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"indices must be integers; got dtype {array.dtype}.")
    if array.min() < 0 or array.max() >= n_pool:
        raise ValueError(f"indices must lie in [0, {n_pool}); got {array.min()} to "
                         f"{array.max()}.")
    if np.unique(array).size != array.size:
        raise ValueError("indices must not repeat a point: a batch holds each point once.")
    return array.astype(np.intp)


def batch_information(log_probs: Any, indices: Any, *,
                      max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
                      n_configurations: int = DEFAULT_N_CONFIGURATIONS,
                      max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
                      random_state: Any = None, return_std: bool = False):
    """Mutual information ``I[y_1..y_b; ω]`` between a batch's labels and the model.

    This is the BatchBALD score of a batch given by its indices. It is at most
    ``Σ_i BALD(x_i)`` (equal when the points share no information) and at most
    ``log K``. Exact while ``C^b · K <= max_exact_size``; beyond, the joint
    entropy is estimated from ``n_configurations`` configurations drawn from the
    batch's joint (unbiased, with a standard error), as in :func:`batch_bald`.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (N, K, C)
        Sampled log-probabilities of the pool, ``K >= 2``. Only the rows in
        ``indices`` are read.
    indices : array-like of int, shape (b,)
        The batch: distinct pool indices.
    max_exact_size, n_configurations, max_memory, device
        As in :func:`batch_bald`.
    random_state : None, int, RandomState or Generator
        Seed of the sampled configurations (unused while exact).
    return_std : bool, default=False
        Also return the standard error of the estimate (0 when exact).

    Returns
    -------
    information : float
        ``H[y_1..y_b] − Σ_i mean_k H[y_i | ω_k]`` in nats.
    standard_error : float
        Only with ``return_std=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.batch import batch_information
    >>> from skal_power.scores import bald
    >>> rng = np.random.default_rng(0)
    >>> logits = 3 * rng.normal(size=(20, 16, 4))
    >>> log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    >>> one = batch_information(log_probs, [3])
    >>> bool(np.isclose(one, bald(log_probs)[3]))
    True
    >>> round(float(bald(log_probs)[0]), 3)
    0.72
    >>> twins = np.concatenate([log_probs[:1], log_probs[:1]])  # the same point twice
    >>> round(batch_information(twins, [0, 1]), 3)  # a second label adds less: 1.079 < 2 · 0.72
    1.079
    """
    torch = _require_torch(device)
    log_probs = check_log_probs(log_probs, min_samples=2, allow_empty=False)
    batch = _check_indices(indices, len(log_probs))
    settings = _settings(max_exact_size, n_configurations, max_memory, device)
    return_std = check_bool(return_std, name="return_std")
    rows = np.ascontiguousarray(log_probs[batch])
    terms = entropy_terms(rows, name="log_probs")  # validates the batch's values
    with _no_grad(torch):
        probs = _probability_table(torch, rows.astype(np.float64, copy=False), device)
        tracker = JointEntropyTracker(torch, probs, terms.expected_entropy,
                                      rng=np.random.default_rng(check_seed(random_state)),
                                      **settings)
        for position in range(len(batch)):
            tracker.add(position)
        entropy, standard_error = tracker.batch_entropy()
    information = entropy - float(terms.expected_entropy.sum())
    return (information, standard_error) if return_std else information
