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

import contextlib
from typing import Any

import numpy as np

from .._kernels import _backend_choice, entropy_terms, torch_or_none
from .._validation import (
    check_batch_size,
    check_bool,
    check_log_probs,
    check_log_probs_pair,
    check_positive_int,
    check_seed,
)
from ._joint import JointEntropyTracker

__all__ = ["batch_bald", "batch_eig", "batch_evaluation_bald", "default_max_memory"]

#: Default bound on ``C^b · K`` for exact joint entropies: None means
#: ``K · n_configurations``, i.e. exact while enumerating costs no more than sampling.
DEFAULT_MAX_EXACT_SIZE = None
#: Default number of sampled configurations beyond the exact bound.
DEFAULT_N_CONFIGURATIONS = 16384
#: Default bytes for one candidate chunk's joint table: None picks by device
#: (:func:`default_max_memory`).
DEFAULT_MAX_MEMORY = None
#: Chunk bytes on CPUs: a chunk stays in one core's cache.
CPU_MAX_MEMORY = 2**23
#: Chunk bytes on accelerators: few, large kernels (the GPU benchmark's setting).
ACCELERATOR_MAX_MEMORY = 2**30


def default_max_memory(device: Any = "cpu") -> int:
    """Bytes for one chunk of joint tables when ``max_memory`` is None.

    Parameters
    ----------
    device : str or torch.device, default="cpu"
        Where the tables live.

    Returns
    -------
    int
        ``2**23`` (8 MiB, cache-sized) on a CPU; ``2**30`` (1 GiB) on any
        other device, where one large kernel beats many small ones.

    Examples
    --------
    >>> default_max_memory("cpu"), default_max_memory("cuda:0")
    (8388608, 1073741824)
    """
    torch = torch_or_none()
    kind = _device_kind(device) if torch is None else torch.device(device).type
    return CPU_MAX_MEMORY if kind == "cpu" else ACCELERATOR_MAX_MEMORY


def _device_kind(device: Any) -> str:
    """``"cpu"`` or the accelerator's type of a device given without torch."""
    if not isinstance(device, str):
        return str(getattr(device, "type", device))
    return device.strip().lower().split(":")[0]


def _require_torch(device: Any = "cpu"):
    """torch where it is installed (and not switched off), else None: numpy tables.

    Numpy tables run on the CPU; any other ``device`` needs torch.
    """
    torch = torch_or_none()
    if torch is None and _device_kind(device) != "cpu":
        if _backend_choice() == "numpy":
            raise ValueError(
                f"device={device!r} needs torch, but SKAL_POWER_BACKEND=numpy turns torch off; "
                "unset SKAL_POWER_BACKEND (or set it to torch), or use device=\"cpu\".")
        raise ImportError(
            f"device={device!r} needs torch: pip install \"skal_power[torch]\"; without "
            "torch skal_power.batch runs on the CPU (device=\"cpu\")."
        )
    return torch


def _no_grad(torch):
    """torch's no_grad context, or nothing for numpy tables."""
    return contextlib.nullcontext() if torch is None else torch.no_grad()


def _probability_table(torch, log_probs: np.ndarray, device: Any):
    """``exp`` of ``log_probs`` (N, K, C), posterior sample first: (K, N, C), a fresh copy."""
    moved = np.array(np.moveaxis(log_probs, 1, 0), order="C", copy=True)
    if torch is None:
        return np.exp(moved, out=moved)
    # the in-place exp never touches the caller's array
    return torch.from_numpy(moved).to(device).exp_()


class _Term:
    """One model's contribution: sign × (joint entropy − [sum of conditional entropies])."""

    def __init__(self, torch, log_probs, sign, with_conditional, settings, rng, device, name):
        terms = entropy_terms(log_probs, name=name)  # also validates the values
        self.single = terms.predictive_entropy - (terms.expected_entropy if with_conditional
                                                  else 0.0)
        if with_conditional:
            self.single = np.maximum(self.single, 0.0)  # BALD is clamped at 0, as in scores
        self.conditional = terms.expected_entropy if with_conditional else None
        # posterior sample first (see JointEntropyTracker)
        probs = _probability_table(torch, log_probs, device)
        self.tracker = JointEntropyTracker(torch, probs, terms.expected_entropy, rng=rng,
                                           **settings)
        self.sign = sign
        self.conditional_sum = 0.0

    def candidate_scores(self, candidates) -> np.ndarray:
        return self._signed(self.tracker.candidate_entropies(candidates), candidates)

    def screened_scores(self, candidates) -> tuple[np.ndarray, np.ndarray]:
        """Fast scores and a bound on each one's error (see ``screened_entropies``)."""
        joint, errors = self.tracker.screened_entropies(candidates)
        return self._signed(joint, candidates), abs(self.sign) * errors

    def _signed(self, joint, candidates):
        if self.conditional is not None:
            joint = joint - self.conditional_sum - self.conditional[candidates]
        return self.sign * joint

    def batch_score(self) -> tuple[float, float]:
        """This term's signed score of the batch so far, and its standard error."""
        entropy, standard_error = self.tracker.batch_entropy()
        if self.conditional is not None:
            entropy -= self.conditional_sum
        return self.sign * entropy, standard_error

    def add(self, index: int) -> None:
        self.tracker.add(index)
        if self.conditional is not None:
            self.conditional_sum += self.conditional[index]


def _check_finite(gains: np.ndarray, step: int) -> None:
    """A non-finite gain is a bug in the estimator: never pick from it."""
    if not np.all(np.isfinite(gains)):
        raise FloatingPointError(
            f"greedy batch step {step}: {int(np.sum(~np.isfinite(gains)))} candidate gains "
            "are not finite; this is a bug in skal_power.batch, please report it with "
            "the shapes and settings used"
        )


#: Candidates re-evaluated first in a lazy step; doubled while the step goes on.
_LAZY_FIRST_CHUNK = 256
#: Slack on lazy upper bounds: absorbs rounding of gains that are equal in exact arithmetic.
_LAZY_TOLERANCE = 1e-9


def _lazy_step(term: _Term, available: np.ndarray, bounds: np.ndarray, previous: float,
               step: int):
    """One lazy-greedy step of a submodular score (BatchBALD).

    ``bounds[n]`` is an upper bound on the gain of candidate n, set when it was
    last evaluated. By submodularity its gain now is at most that. Candidates
    are screened in descending order of their bound, in growing chunks, until
    the best lower bound found beats every bound not yet screened (Minoux's
    accelerated greedy). The screen gives each gain with an error bound. Every
    screened candidate whose upper bound reaches the best lower bound is
    re-scored exactly, and the pick is the best of those. The pick is then the
    same as evaluating every candidate exactly.
    """
    candidates = np.flatnonzero(available)
    order = candidates[np.argsort(-bounds[candidates], kind="stable")]
    best_lower = -np.inf
    screened, gains_seen, errors_seen = [], [], []
    start, size = 0, _LAZY_FIRST_CHUNK
    while start < len(order):
        chunk = order[start:start + size]
        values, errors = term.screened_scores(chunk)
        gains = values - previous
        _check_finite(gains, step)
        bounds[chunk] = gains + errors
        screened.append(chunk)
        gains_seen.append(gains)
        errors_seen.append(errors)
        best_lower = max(best_lower, float(np.max(gains - errors)))
        start, size = start + size, size * 2
        if start < len(order) and best_lower >= bounds[order[start]] + _LAZY_TOLERANCE:
            break
    best, best_gain, contenders, gains = _settle(
        [term], np.concatenate(screened), np.concatenate(gains_seen),
        np.concatenate(errors_seen), best_lower, step, offset=previous)
    bounds[contenders] = gains
    return best, previous + best_gain


def _screened_pick(terms: list[_Term], candidates: np.ndarray, step: int):
    """The candidate of largest summed score, screened first, then exact where it matters."""
    screened = [term.screened_scores(candidates) for term in terms]
    values = sum(value for value, _ in screened)
    errors = sum(error for _, error in screened)
    _check_finite(values, step)
    best, score, _, _ = _settle(terms, candidates, values, errors,
                                float(np.max(values - errors)), step)
    return best, score


def _settle(terms, candidates, values, errors, best_lower: float, step: int,
            offset: float = 0.0):
    """The pick among screened ``candidates``: exact wherever the screen could be wrong.

    ``values ± errors`` bound each candidate's summed score minus ``offset``
    (the lazy step works with gains over the batch so far), and ``best_lower``
    is the best lower bound among them. Only candidates whose upper bound
    reaches it can win; where their errors are not all 0 they are re-scored
    exactly. Among equal values the smallest index wins. Returns the pick, its
    value, and the contenders with their values (exact where re-scored).
    """
    keep = values + errors + _LAZY_TOLERANCE >= best_lower
    contenders, scores = candidates[keep], values[keep]
    if np.any(errors[keep] > 0):
        contenders = np.sort(contenders)
        scores = sum(term.candidate_scores(contenders) for term in terms) - offset
        _check_finite(scores, step)
    best_score = float(np.max(scores))
    return int(np.min(contenders[scores == best_score])), best_score, contenders, scores


def _batch_score(terms: list[_Term]) -> tuple[float, float]:
    """Score of the batch so far summed over terms, with its standard error."""
    values = [term.batch_score() for term in terms]
    return (sum(value for value, _ in values),
            float(np.sqrt(sum(error ** 2 for _, error in values))))


def _greedy(terms: list[_Term], batch_size: int, progress: bool, lazy: bool = False):
    """Greedy picks, the batch's score after each pick and that score's standard error.

    In the sampled regime a pick is chosen on one draw of configurations and
    its batch is scored on the next, independent draw (the one the following
    step picks from; one extra draw for the last pick), so the reported scores
    carry no selection bias.
    """
    n_points = len(terms[0].single)
    available = np.ones(n_points, dtype=bool)
    indices = np.empty(batch_size, dtype=np.int64)
    scores = np.empty(batch_size, dtype=np.float64)
    errors = np.zeros(batch_size, dtype=np.float64)
    bounds = None
    steps = range(batch_size)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="greedy batch", unit="point")
    for step in steps:
        if step == 0:
            values = sum(term.sign * term.single for term in terms)
            _check_finite(values, step)
            best = int(np.argmax(values))
            score = float(values[best])
            if lazy:
                bounds = values  # a fresh array: _lazy_step updates it in place
        else:
            if any(term.tracker.sampled for term in terms):
                # rescore the batch so far on this step's fresh configurations
                scores[step - 1], errors[step - 1] = _batch_score(terms)
            if lazy:
                best, score = _lazy_step(terms[0], available, bounds, scores[step - 1], step)
            else:
                best, score = _screened_pick(terms, np.flatnonzero(available), step)
        indices[step], scores[step] = best, score
        available[best] = False
        if step + 1 < batch_size:
            for term in terms:
                term.add(best)
    if batch_size > 1 and any(term.tracker.sampled for term in terms):
        # the last pick: score its batch on one more, independent draw
        exact_parts = [term.candidate_scores(indices[-1:])[0] for term in terms
                       if not term.tracker.sampled]
        sampled_terms = [term for term in terms if term.tracker.sampled]
        for term in sampled_terms:
            term.add(indices[-1])
        value, error = _batch_score(sampled_terms)
        scores[-1], errors[-1] = value + sum(exact_parts), error
    return indices, scores, errors


def _settings(max_exact_size, n_configurations, max_memory, device):
    return dict(
        max_exact_size=(None if max_exact_size is None
                        else check_positive_int(max_exact_size, name="max_exact_size")),
        n_configurations=check_positive_int(n_configurations, name="n_configurations"),
        max_memory=(default_max_memory(device) if max_memory is None
                    else check_positive_int(max_memory, name="max_memory")),
    )


def _run(models, batch_size, *, max_exact_size, n_configurations, max_memory, device,
         random_state, progress, return_std=False, lazy=False):
    torch = _require_torch(device)
    batch_size = check_batch_size(batch_size, models[0][0].shape[0], name="batch_size")
    settings = _settings(max_exact_size, n_configurations, max_memory, device)
    return_std = check_bool(return_std, name="return_std")
    rng = np.random.default_rng(check_seed(random_state))
    with _no_grad(torch):
        terms = [
            _Term(torch, log_probs, sign, with_conditional, settings, rng, device, name)
            for log_probs, sign, with_conditional, name in models
        ]
        indices, scores, errors = _greedy(terms, batch_size, progress, lazy=lazy)
    return (indices, scores, errors) if return_std else (indices, scores)


_PARAMETERS_DOC = """
    max_exact_size : int or None, default=None
        Joint entropies are exact while ``C^b · K`` (configurations of the
        batch so far times posterior samples) is at most this; beyond it they
        are estimated from ``n_configurations`` sampled configurations. None
        means ``K · n_configurations``: exact while ``C^b <= M``, where
        enumerating costs no more than sampling and is never less accurate.
    n_configurations : int, default=%d
        Configurations M drawn afresh at each step of the sampled regime;
        the standard error of a reported score shrinks as ``1/sqrt(M)``
        (``return_std=True`` gives it).
    max_memory : int or None, default=None
        Bytes for one chunk of candidates' joint tables; bounds peak memory
        whatever N is, and changes speed, not results. None means 8 MiB on a
        CPU, where a chunk in cache is several times faster than larger ones,
        and 1 GiB on a GPU (:func:`default_max_memory`).
    device : str or torch.device, default="cpu"
        Where the joint tables live (e.g. ``"cuda"``, which needs torch).
        Without torch (or with ``SKAL_POWER_BACKEND=numpy``) the tables are
        numpy arrays on the CPU, with the same picks.
    random_state : None, int, RandomState or Generator
        Seed of the sampled configurations (unused while exact).
    progress : bool, default=False
        Show a tqdm bar over the greedy steps.
    return_std : bool, default=False
        Also return the standard error of each reported score (0 where the
        joint entropies are exact).
"""


def batch_bald(log_probs: Any, batch_size: int, *,
               max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
               n_configurations: int = DEFAULT_N_CONFIGURATIONS,
               max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
               random_state: Any = None, progress: bool = False, return_std: bool = False,
               lazy: bool = True):
    """Greedy BatchBALD: maximise ``I[y_1..y_b; ω]`` one point at a time.

    While ``C^b <= n_configurations`` (by default) the joint entropies are exact. Beyond
    that, each step draws ``n_configurations`` fresh label configurations of
    the batch so far, picks on them, and the batch is scored on the next
    step's independent draw: reported scores have no selection bias, never
    exceed ``log K`` and come with a standard error (``return_std``).

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
    standard_errors : numpy.ndarray of shape (batch_size,)
        Only with ``return_std=True``: the standard error of each score.

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
                progress=progress, return_std=return_std, lazy=lazy)


def batch_eig(log_probs: Any, log_probs_distilled: Any, batch_size: int, *,
              max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
              n_configurations: int = DEFAULT_N_CONFIGURATIONS,
              max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
              random_state: Any = None, progress: bool = False,
              return_std: bool = False):
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
    standard_errors : numpy.ndarray of shape (batch_size,)
        Only with ``return_std=True``.

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
                progress=progress, return_std=return_std)


def batch_evaluation_bald(log_probs: Any, log_probs_distilled: Any, batch_size: int, *,
                          max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
                          n_configurations: int = DEFAULT_N_CONFIGURATIONS,
                          max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
                          random_state: Any = None, progress: bool = False,
              return_std: bool = False):
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
    standard_errors : numpy.ndarray of shape (batch_size,)
        Only with ``return_std=True``.

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
                progress=progress, return_std=return_std)


for _function in (batch_bald, batch_eig, batch_evaluation_bald):
    _function.__doc__ = _function.__doc__.replace(
        "    {parameters}", (_PARAMETERS_DOC % DEFAULT_N_CONFIGURATIONS).strip("\n") + "\n")
del _function
