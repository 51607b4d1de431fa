"""Greedy BatchEPIG: the batch whose joint labels say most about the labels at the targets.

``BatchEPIG(B) = mean_j I[y_B; y*_j] = H[y_B] + mean_j H[y*_j] − mean_j H[y_B, y*_j]``,
the joint form of EPIG (one target at a time, as EPIG averages over targets). Each
joint entropy comes from a :class:`~skal_power.batch._joint.JointEntropyTracker`:
one for the batch alone and one per target point, whose batch starts with that
target; all share one table of probabilities of the pool and the targets. The
trackers are exact while the configurations fit and sampled beyond, as for
BatchBALD, so the cost is that of ``M + 1`` BatchBALD-sized joint entropies per
step: keep the number of targets small (tens).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._kernels import entropy_terms
from .._validation import check_batch_size, check_log_probs, check_seed
from ._greedy import (
    DEFAULT_MAX_EXACT_SIZE,
    DEFAULT_MAX_MEMORY,
    DEFAULT_N_CONFIGURATIONS,
    _no_grad,
    _probability_table,
    _require_torch,
    _settings,
    check_saturation_settings,
    greedy_batch,
    outputs,
)
from ._joint import JointEntropyTracker

__all__ = ["batch_epig"]


class _TrackerTerm:
    """``sign × H[y_batch, y_x]`` of one tracker, in the interface ``_greedy`` uses."""

    conditional = None

    def __init__(self, tracker: JointEntropyTracker, n_pool: int, sign: float) -> None:
        self.tracker = tracker
        self.sign = sign
        self.single = tracker.candidate_entropies(np.arange(n_pool))  # unsigned, as _Term

    def candidate_scores(self, candidates) -> np.ndarray:
        return self.sign * self.tracker.candidate_entropies(candidates)

    def screened_scores(self, candidates) -> tuple[np.ndarray, np.ndarray]:
        values, errors = self.tracker.screened_entropies(candidates)
        return self.sign * values, abs(self.sign) * errors

    def batch_score(self) -> tuple[float, float]:
        entropy, standard_error = self.tracker.batch_entropy()
        return self.sign * entropy, abs(self.sign) * standard_error

    def add(self, index: int) -> None:
        self.tracker.add(index)


def batch_epig(log_probs_pool: Any, log_probs_target: Any, batch_size: int, *,
               max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
               n_configurations: int = DEFAULT_N_CONFIGURATIONS,
               max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
               random_state: Any = None, progress: bool = False,
               on_saturation: str = "power", saturation_alpha: float = 5.0,
               return_std: bool = False, return_info: bool = False):
    """Greedy BatchEPIG: maximise ``mean_j I[y_1..y_b; y*_j]`` one point at a time.

    Parameters
    ----------
    log_probs_pool : array-like of shape (N, K, C)
    log_probs_target : array-like of shape (M, K, C)
        The target points under the same K posterior samples.
    batch_size : int
    max_exact_size, n_configurations, max_memory, device, random_state, progress
        As in :func:`skal_power.batch.batch_bald`; they apply to each of the
        ``M + 1`` joint entropies.
    on_saturation, saturation_alpha, return_std, return_info
        As in :func:`skal_power.batch.batch_bald`. The batch is spent when its
        information about the model reaches ``log K``, which bounds what it
        can say about the targets; the ``"power"`` fill samples on EPIG.

    Returns
    -------
    indices : numpy.ndarray of shape (batch_size,)
        Greedy picks in order.
    scores : numpy.ndarray of shape (batch_size,)
        BatchEPIG of the batch after each pick (non-decreasing while exact);
        the first equals the best single-point :func:`skal_power.scores.epig`.
    standard_errors : numpy.ndarray, only with ``return_std=True``
    trace : GreedyTrace, only with ``return_info=True``

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.batch import batch_epig
    >>> rng = np.random.default_rng(0)
    >>> def log_probs(n):
    ...     z = rng.normal(size=(n, 4, 3)) * 2
    ...     return z - np.log(np.exp(z).sum(-1, keepdims=True))
    >>> indices, scores = batch_epig(log_probs(30), log_probs(5), 3)
    >>> len(set(indices.tolist())), bool(np.all(np.diff(scores) >= -1e-12))
    (3, True)
    """
    torch = _require_torch(device)
    pool = check_log_probs(log_probs_pool, name="log_probs_pool", min_samples=2,
                           allow_empty=False)
    target = check_log_probs(log_probs_target, name="log_probs_target", min_samples=2,
                             allow_empty=False)
    if pool.shape[1:] != target.shape[1:]:
        raise ValueError(
            "log_probs_pool and log_probs_target must share K posterior samples and C classes; "
            f"got shapes {pool.shape} and {target.shape}.")
    n_pool, n_target = len(pool), len(target)
    batch_size = check_batch_size(batch_size, n_pool, name="batch_size")
    settings = _settings(max_exact_size, n_configurations, max_memory, device)
    policy, alpha = check_saturation_settings(on_saturation, saturation_alpha)
    seed = check_seed(random_state)
    rng = np.random.default_rng(seed)
    both = np.concatenate([pool, target.astype(pool.dtype, copy=False)])
    terms_both = entropy_terms(both, name="log_probs")  # validates every value
    target_entropy = float(terms_both.predictive_entropy[n_pool:].mean())
    with _no_grad(torch):
        probs = _probability_table(torch, both, device)  # (K, N + M, C), shared by all

        def tracker(first=None):
            made = JointEntropyTracker(torch, probs, terms_both.expected_entropy, rng=rng,
                                       **settings)
            if first is not None:
                made.add(first)
            return made

        terms = [_TrackerTerm(tracker(), n_pool, 1.0)]
        terms += [_TrackerTerm(tracker(n_pool + j), n_pool, -1.0 / n_target)
                  for j in range(n_target)]
        indices, scores, errors, trace = greedy_batch(
            terms, batch_size, objective="BatchEPIG", on_saturation=policy,
            saturation_alpha=alpha, seed=seed, max_memory=settings["max_memory"],
            progress=progress, score_offset=target_entropy)
    greedy = np.arange(batch_size) < (batch_size - trace.n_filled)
    scores = np.where(greedy, scores + target_entropy, scores)  # filled picks carry EPIG
    return outputs(indices, scores, errors, trace, return_std, return_info)
