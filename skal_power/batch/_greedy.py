"""Greedy batch acquisition: BatchBALD, BatchEIG and BatchEvaluationBALD.

All three maximise, one point at a time, a sum of signed terms over models:

=======================  ==========================================================
``batch_bald``           ``H_M[y_1..y_b] − Σ_i mean_k H_M[y_i | ω_k]``
``batch_eig``            ``H_M[y_1..y_b] − H_M′[y_1..y_b]``
``batch_evaluation_bald`` ``BatchBALD_M(batch) − BatchBALD_M′(batch)``
=======================  ==========================================================

Step b adds the unpicked point that maximises the batch's score with it; the
batch's score after each step is returned, so ``scores[0]`` is the
single-point score (BALD, EIG or EvaluationBALD) of the first pick.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._kernels import entropy_terms, torch_or_none
from .._validation import (
    check_batch_size,
    check_bool,
    check_log_probs,
    check_log_probs_pair,
    check_positive_int,
    check_seed,
)
from ._joint import JointEntropyTracker

__all__ = ["batch_bald", "batch_eig", "batch_evaluation_bald"]

#: Default bound on ``C^b · K`` for exact joint entropies.
DEFAULT_MAX_EXACT_SIZE = 2**17
#: Default number of sampled configurations beyond the exact bound.
DEFAULT_N_CONFIGURATIONS = 4096
#: Default bytes for one candidate chunk's joint table.
DEFAULT_MAX_MEMORY = 2**23


def _require_torch():
    torch = torch_or_none()
    if torch is None:
        raise ImportError(
            "skal_power.batch needs torch: pip install \"skal_power[torch]\" "
            "(the CPU wheel torch==2.13.0 is enough)."
        )
    return torch


class _Term:
    """One model's contribution: sign × (joint entropy − [sum of conditional entropies])."""

    def __init__(self, torch, log_probs, sign, with_conditional, settings, rng, device, name):
        terms = entropy_terms(log_probs, name=name)  # also validates the values
        self.single = terms.predictive_entropy - (terms.expected_entropy if with_conditional
                                                  else 0.0)
        if with_conditional:
            self.single = np.maximum(self.single, 0.0)  # BALD is clamped at 0, as in scores
        self.conditional = terms.expected_entropy if with_conditional else None
        # posterior sample first (see JointEntropyTracker); always a fresh copy,
        # so the in-place exp never touches the caller's array
        probs = torch.from_numpy(np.array(np.moveaxis(log_probs, 1, 0), order="C", copy=True))
        probs = probs.to(device).exp_()
        self.tracker = JointEntropyTracker(torch, probs, rng=rng, **settings)
        self.sign = sign
        self.conditional_sum = 0.0

    def candidate_scores(self, candidates) -> np.ndarray:
        joint = self.tracker.candidate_entropies(candidates)
        if self.conditional is not None:
            joint = joint - self.conditional_sum - self.conditional[candidates]
        return self.sign * joint

    def add(self, index: int) -> None:
        self.tracker.add(index)
        if self.conditional is not None:
            self.conditional_sum += self.conditional[index]


#: Candidates re-evaluated first in a lazy step; doubled while the step goes on.
_LAZY_FIRST_CHUNK = 256
#: Slack on lazy upper bounds: absorbs rounding of gains that are equal in exact arithmetic.
_LAZY_TOLERANCE = 1e-9


def _lazy_step(term: _Term, available: np.ndarray, bounds: np.ndarray, previous: float):
    """One lazy-greedy step of a submodular score (BatchBALD).

    ``bounds[n]`` is the gain of candidate n when it was last evaluated; by
    submodularity its gain now is at most that. Candidates are evaluated in
    descending order of their bound, in growing chunks, until the best gain
    found beats every bound not yet evaluated: the pick is then the same as
    evaluating every candidate (Minoux's accelerated greedy).
    """
    candidates = np.flatnonzero(available)
    order = candidates[np.argsort(-bounds[candidates], kind="stable")]
    best, best_gain = -1, -np.inf
    start, size = 0, _LAZY_FIRST_CHUNK
    while start < len(order):
        chunk = order[start:start + size]
        gains = term.candidate_scores(chunk) - previous
        bounds[chunk] = gains
        position = int(np.argmax(gains))
        if gains[position] > best_gain or (gains[position] == best_gain
                                           and chunk[position] < best):
            best, best_gain = int(chunk[position]), float(gains[position])
        start, size = start + size, size * 2
        if start < len(order) and best_gain >= bounds[order[start]] + _LAZY_TOLERANCE:
            break
    return best, previous + best_gain


def _greedy(terms: list[_Term], batch_size: int, progress: bool, lazy: bool = False):
    n_points = len(terms[0].single)
    available = np.ones(n_points, dtype=bool)
    indices = np.empty(batch_size, dtype=np.int64)
    scores = np.empty(batch_size, dtype=np.float64)
    bounds = None
    steps = range(batch_size)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="greedy batch", unit="point")
    for step in steps:
        if step == 0:
            values = sum(term.sign * term.single for term in terms)
            best = int(np.argmax(values))
            score = float(values[best])
            if lazy:
                bounds = values  # a fresh array: _lazy_step updates it in place
        elif lazy:
            best, score = _lazy_step(terms[0], available, bounds, scores[step - 1])
        else:
            candidates = np.flatnonzero(available)
            values = sum(term.candidate_scores(candidates) for term in terms)
            position = int(np.argmax(values))
            best, score = int(candidates[position]), float(values[position])
        indices[step], scores[step] = best, score
        available[best] = False
        if step + 1 < batch_size:
            for term in terms:
                term.add(best)
    return indices, scores


def _settings(max_exact_size, n_configurations, max_memory):
    return dict(
        max_exact_size=check_positive_int(max_exact_size, name="max_exact_size"),
        n_configurations=check_positive_int(n_configurations, name="n_configurations"),
        max_memory=check_positive_int(max_memory, name="max_memory"),
    )


def _run(models, batch_size, *, max_exact_size, n_configurations, max_memory, device,
         random_state, progress, lazy=False):
    torch = _require_torch()
    batch_size = check_batch_size(batch_size, models[0][0].shape[0], name="batch_size")
    settings = _settings(max_exact_size, n_configurations, max_memory)
    rng = np.random.default_rng(check_seed(random_state))
    with torch.no_grad():
        terms = [
            _Term(torch, log_probs, sign, with_conditional, settings, rng, device, name)
            for log_probs, sign, with_conditional, name in models
        ]
        return _greedy(terms, batch_size, progress, lazy=lazy)


_PARAMETERS_DOC = """
    max_exact_size : int, default=2**17
        Joint entropies are exact while ``C^b · K`` (configurations of the
        batch so far times posterior samples) is at most this; beyond it they
        are estimated from ``n_configurations`` sampled configurations.
    n_configurations : int, default=4096
        Sampled configurations M in the sampled regime; the estimate's
        standard error shrinks as ``1/sqrt(M)``.
    max_memory : int, default=2**23
        Bytes for one chunk of candidates' joint tables; bounds peak memory
        whatever N is. The default (8 MiB) keeps a chunk in cache, which on
        CPUs is several times faster than larger chunks.
    device : str or torch.device, default="cpu"
        Where the joint tables live (e.g. ``"cuda"``).
    random_state : None, int, RandomState or Generator
        Seed of the sampled configurations (unused while exact).
    progress : bool, default=False
        Show a tqdm bar over the greedy steps.
"""


def batch_bald(log_probs: Any, batch_size: int, *,
               max_exact_size: int = DEFAULT_MAX_EXACT_SIZE,
               n_configurations: int = DEFAULT_N_CONFIGURATIONS,
               max_memory: int = DEFAULT_MAX_MEMORY, device: Any = "cpu",
               random_state: Any = None, progress: bool = False, lazy: bool = True):
    """Greedy BatchBALD: maximise ``I[y_1..y_b; ω]`` one point at a time.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (N, K, C)
        Sampled log-probabilities, ``K >= 2``; the K samples must be the same
        models for every point.
    batch_size : int
        Number of points, ``1 <= batch_size <= N``.
    {parameters}    lazy : bool, default=True
        Lazy greedy evaluation: BatchBALD is submodular, so a candidate's gain
        can only shrink as the batch grows; each step re-evaluates candidates
        in order of their last gain and stops once the best gain beats all
        remaining ones. With exact joint entropies the picks are those of
        evaluating every candidate; in the sampled regime the stored gains are
        estimates, so picks can differ within the sampling error.

    Returns
    -------
    indices : numpy.ndarray of shape (batch_size,)
        Picks in greedy order.
    scores : numpy.ndarray of shape (batch_size,)
        ``scores[b]`` is BatchBALD of the first ``b + 1`` picks;
        ``scores[0]`` equals :func:`skal_power.scores.bald` of the first pick.

    References
    ----------
    Kirsch, van Amersfoort and Gal, "BatchBALD: Efficient and Diverse Batch
    Acquisition for Deep Bayesian Active Learning", NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.batch import batch_bald
    >>> rng = np.random.default_rng(0)
    >>> logits = 4 * rng.normal(size=(40, 32, 4))
    >>> log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    >>> repeated = np.concatenate([log_probs, log_probs])  # every point twice
    >>> indices, scores = batch_bald(repeated, 5)
    >>> len(set((indices % 40).tolist()))  # no two copies of the same point
    5
    """
    log_probs = check_log_probs(log_probs, min_samples=2, allow_empty=False)
    lazy = check_bool(lazy, name="lazy")
    return _run([(log_probs, 1.0, True, "log_probs")], batch_size,
                max_exact_size=max_exact_size, n_configurations=n_configurations,
                max_memory=max_memory, device=device, random_state=random_state,
                progress=progress, lazy=lazy)


def batch_eig(log_probs: Any, log_probs_distilled: Any, batch_size: int, *,
              max_exact_size: int = DEFAULT_MAX_EXACT_SIZE,
              n_configurations: int = DEFAULT_N_CONFIGURATIONS,
              max_memory: int = DEFAULT_MAX_MEMORY, device: Any = "cpu",
              random_state: Any = None, progress: bool = False):
    """Greedy BatchEIG: maximise ``H_M[y_batch] − H_M′[y_batch]``.

    Parameters
    ----------
    log_probs : array-like of shape (N, K, C)
        Log-probabilities of the model M (K = 1 is fine).
    log_probs_distilled : array-like of shape (N, K', C)
        Log-probabilities of the pool-augmented model M′ on the same points.
    batch_size : int
    {parameters}
    Returns
    -------
    indices, scores : numpy.ndarray of shape (batch_size,)
        ``scores[0]`` equals :func:`skal_power.scores.eig` of the first pick.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.batch import batch_eig
    >>> m = np.log(np.array([[[0.5, 0.5]], [[0.9, 0.1]]]))
    >>> m_prime = np.log(np.array([[[0.9, 0.1]], [[0.9, 0.1]]]))
    >>> indices, scores = batch_eig(m, m_prime, 1)
    >>> indices.tolist(), scores.round(4).tolist()
    ([0], [0.3681])
    """
    first, second = check_log_probs_pair(log_probs, log_probs_distilled)
    return _run([(first, 1.0, False, "log_probs"),
                 (second, -1.0, False, "log_probs_distilled")], batch_size,
                max_exact_size=max_exact_size, n_configurations=n_configurations,
                max_memory=max_memory, device=device, random_state=random_state,
                progress=progress)


def batch_evaluation_bald(log_probs: Any, log_probs_distilled: Any, batch_size: int, *,
                          max_exact_size: int = DEFAULT_MAX_EXACT_SIZE,
                          n_configurations: int = DEFAULT_N_CONFIGURATIONS,
                          max_memory: int = DEFAULT_MAX_MEMORY, device: Any = "cpu",
                          random_state: Any = None, progress: bool = False):
    """Greedy BatchEvaluationBALD: maximise ``BatchBALD_M − BatchBALD_M′``.

    Parameters
    ----------
    log_probs, log_probs_distilled : array-like of shape (N, K, C) and (N, K', C)
        Log-probabilities of M and M′, each with at least two samples.
    batch_size : int
    {parameters}
    Returns
    -------
    indices, scores : numpy.ndarray of shape (batch_size,)
        ``scores[0]`` equals :func:`skal_power.scores.evaluation_bald` of the
        first pick.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.batch import batch_evaluation_bald
    >>> m = np.log(np.array([[[0.999, 0.001], [0.001, 0.999]], [[0.5, 0.5], [0.5, 0.5]]]))
    >>> m_prime = np.log(np.full((2, 2, 2), 0.5))
    >>> indices, scores = batch_evaluation_bald(m, m_prime, 1)
    >>> indices.tolist(), scores.round(4).tolist()
    ([0], [0.6852])
    """
    first, second = check_log_probs_pair(log_probs, log_probs_distilled, min_samples=2)
    return _run([(first, 1.0, True, "log_probs"),
                 (second, -1.0, True, "log_probs_distilled")], batch_size,
                max_exact_size=max_exact_size, n_configurations=n_configurations,
                max_memory=max_memory, device=device, random_state=random_state,
                progress=progress)


for _function in (batch_bald, batch_eig, batch_evaluation_bald):
    _function.__doc__ = _function.__doc__.replace("    {parameters}", _PARAMETERS_DOC.strip("\n") + "\n")
del _function
