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

import math

import numpy as np

from .._kernels import _backend_choice, entropy_terms, torch_or_none
from .._validation import (
    check_batch_size,
    check_bool,
    check_log_probs,
    check_log_probs_pair,
    check_non_negative,
    check_positive_int,
    check_seed,
    split_seed,
)
from ..sampling import tie_keys
from ._joint import JointEntropyTracker
from ._saturation import (
    GreedyTrace,
    SaturationMonitor,
    check_on_saturation,
    power_fill,
)

__all__ = ["batch_bald", "batch_eig", "batch_evaluation_bald", "default_max_memory",
           "greedy_batch"]

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


#: Relative difference below which two candidates' values count as a tie.
_TIE_TOLERANCE = 1e-12
#: Sampled regime: candidates whose gain errors are computed at a time, best first ...
_ERROR_CHUNK = 16
#: ... and at most this many per step before the batch counts as spent.
_MAX_ERROR_CHECKS = 256
#: Candidates re-evaluated first in a lazy step; doubled while the step goes on.
_LAZY_FIRST_CHUNK = 256
#: Slack on lazy upper bounds: absorbs rounding of gains that are equal in exact arithmetic.
_LAZY_TOLERANCE = 1e-9


def _lazy_step(term: _Term, available: np.ndarray, bounds: np.ndarray, previous: float,
               step: int, ties: np.ndarray):
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
        np.concatenate(errors_seen), best_lower, step, ties, offset=previous)
    bounds[contenders] = gains
    return best, previous + best_gain


def _screened_values(terms: list[_Term], candidates: np.ndarray, step: int):
    """Each term's screened values of ``candidates``, their sum and the sum's error bound."""
    screened = [term.screened_scores(candidates) for term in terms]
    values = sum(value for value, _ in screened)
    errors = sum(error for _, error in screened)
    _check_finite(values, step)
    return screened, values, errors


def _settle(terms, candidates, values, errors, best_lower: float, step: int, ties: np.ndarray,
            offset: float = 0.0):
    """The pick among screened ``candidates``: exact wherever the screen could be wrong.

    ``values ± errors`` bound each candidate's summed score minus ``offset``
    (the lazy step works with gains over the batch so far), and ``best_lower``
    is the best lower bound among them. Only candidates whose upper bound
    reaches it can win; where their errors are not all 0 they are re-scored
    exactly. Among equal values the smallest seeded tie key wins
    (:func:`_tie_break`). Returns the pick, its value, and the contenders with
    their values (exact where re-scored).
    """
    keep = values + errors + _LAZY_TOLERANCE >= best_lower
    contenders, scores = candidates[keep], values[keep]
    if np.any(errors[keep] > 0):
        contenders = np.sort(contenders)
        scores = sum(term.candidate_scores(contenders) for term in terms) - offset
        _check_finite(scores, step)
    best = _tie_break(contenders, scores, ties)
    return best, float(scores[contenders == best][0]), contenders, scores


def _tie_break(candidates: np.ndarray, values: np.ndarray, ties: np.ndarray) -> int:
    """The candidate of largest value; exact ties go to the smallest seeded key, not pool order.

    Values within ``_TIE_TOLERANCE`` (relative) of the best count as tied: equal
    gains of copies of a point differ in their last bits with their place in a
    chunk.
    """
    best = float(np.max(values))
    tied = candidates[values >= best - _TIE_TOLERANCE * max(1.0, abs(best))]
    return int(tied[np.argmin(ties[tied])])


def _batch_score(terms: list[_Term]) -> tuple[float, float]:
    """Score of the batch so far summed over terms, with its standard error."""
    values = [term.batch_score() for term in terms]
    return (sum(value for value, _ in values),
            float(np.sqrt(sum(error ** 2 for _, error in values))))


class _Greedy:
    """One greedy batch query: the picks, their scores, and what the monitor saw.

    In the sampled regime a pick is chosen on one draw of configurations and
    its batch is scored on the next, independent draw (the one the following
    step picks from; one extra draw for the last pick), so the reported scores
    carry no selection bias. Each step first asks the
    :class:`~skal_power.batch._saturation.SaturationMonitor` whether the batch
    is spent; what follows is its policy's (see :mod:`skal_power.batch._saturation`).
    """

    def __init__(self, terms, batch_size: int, *, lazy: bool, monitor: SaturationMonitor,
                 seed: int, alpha: float, score_offset: float = 0.0) -> None:
        self.terms, self.batch_size, self.lazy, self.monitor = terms, batch_size, lazy, monitor
        self.alpha, self.score_offset = alpha, score_offset
        self.n_points = len(terms[0].single)
        tie_seed, self.fill_seed = split_seed(seed, 2)
        self.ties = tie_keys(tie_seed, np.arange(self.n_points))
        self.available = np.ones(self.n_points, dtype=bool)
        self.indices = np.empty(batch_size, dtype=np.int64)
        self.scores = np.empty(batch_size, dtype=np.float64)
        self.errors = np.zeros(batch_size, dtype=np.float64)
        self.bounds = None
        self.sampled = False

    def run(self, progress: bool):
        steps = range(self.batch_size)
        if progress:
            from .._passes import require_tqdm

            steps = require_tqdm()(steps, desc="greedy batch", unit="point")
        n_filled = 0
        for step in steps:
            if step == 0:
                best, score = self._first()
            else:
                if self.sampled:  # rescore the batch so far on this step's fresh configurations
                    self.scores[step - 1], self.errors[step - 1] = _batch_score(self.terms)
                best, score = self._step(step)
            if best is None:  # spent: "raise" raises here, "power" fills the batch
                self.monitor.announce(self.batch_size - step, self.alpha)
                n_filled = self._fill(step)
                break
            self.indices[step], self.scores[step] = best, score
            self.available[best] = False
            if step + 1 < self.batch_size:
                for term in self.terms:
                    term.add(best)
                self.sampled = any(term.tracker.sampled for term in self.terms)
        else:
            if self.batch_size > 1 and self.sampled:
                self._score_last_pick()
        if not n_filled:
            self.monitor.announce(n_filled, self.alpha)
        return self.indices, self.scores, self.errors, self.monitor.trace(n_filled)

    def _summed_singles(self) -> np.ndarray:
        """The terms' single-point values summed: the objective's score less its offset."""
        return sum(term.sign * term.single for term in self.terms)

    def single_scores(self) -> np.ndarray:
        """The objective's single-point score of every point (BALD, EIG, ...)."""
        return self._summed_singles() + self.score_offset

    def _first(self):
        values = self._summed_singles()
        _check_finite(values, 0)
        candidates = np.arange(self.n_points)
        monitor = self.monitor
        # BALD under M: the term's single values less what it still holds of the aleatoric part
        gains = monitor.gains_from_values(monitor.term.single, candidates, 0.0)
        if monitor.filters and self._has_second_model():
            keep = monitor.informative(gains, np.zeros_like(gains))
            if not np.any(keep):
                monitor.spent(0, 0.0, float(np.max(gains)), 0.0)
                return None, None
            candidates = candidates[keep]
        best = _tie_break(candidates, values[candidates], self.ties)
        if self.lazy:
            self.bounds = values  # a fresh array: _lazy_step updates it in place
        monitor.record(gains[best], 0.0, gains[best])
        return best, float(values[best])

    def _has_second_model(self) -> bool:
        return len(self.terms) > 1

    def _step(self, step: int):
        monitor = self.monitor
        # M's term's value of the batch so far: the information, and the gains below
        batch_value = self.terms[0].batch_score()[0]
        information = monitor.batch_information(batch_value) if monitor.enabled else 0.0
        if monitor.at_ceiling(information):
            monitor.spent(step, information)
            if monitor.policy in ("power", "raise"):
                return None, None
        if self.lazy:
            best, score = _lazy_step(self.terms[0], self.available, self.bounds,
                                     self.scores[step - 1], step, self.ties)
            gain = score - self.scores[step - 1]
            gains, candidates = np.array([gain]), np.array([best])
        else:
            best, score, gains, candidates = self._screened_step(step, batch_value)
        top, top_error = int(np.argmax(gains)), 0.0
        if monitor.enabled:
            top_error = float(monitor.errors(candidates[top:top + 1])[0])
            if not monitor.informative(gains[top:top + 1], np.array([top_error]))[0]:
                monitor.spent(step, information, float(gains[top]), top_error)
                if monitor.policy in ("power", "raise"):
                    return None, None
        if best is None:  # every informative-looking candidate failed its error check
            monitor.spent(step, information, float(np.max(gains)), math.nan)
            return None, None
        position = int(np.flatnonzero(candidates == best)[0])
        gain = float(gains[position])
        if not monitor.enabled:
            error = 0.0
        elif position == top:
            error = top_error
        else:
            error = float(monitor.errors(candidates[position:position + 1])[0])
        monitor.record(gain, error, information + gain)
        return best, score

    def _screened_step(self, step: int, batch_value: float):
        """A step that scores every candidate: the pick, its score, and the gains under M."""
        candidates = np.flatnonzero(self.available)
        screened, values, errors = _screened_values(self.terms, candidates, step)
        monitor = self.monitor
        gains = monitor.gains_from_values(screened[0][0], candidates, batch_value)
        allowed = np.ones(len(candidates), dtype=bool)
        if monitor.filters and self._has_second_model():
            allowed = self._informative_candidates(candidates, values, gains)
            if not np.any(allowed):
                return None, None, gains, candidates
        best, score, _, _ = _settle(self.terms, candidates[allowed], values[allowed],
                                    errors[allowed], float(np.max((values - errors)[allowed])),
                                    step, self.ties)
        return best, score, gains, candidates

    def _informative_candidates(self, candidates, values, gains) -> np.ndarray:
        """Candidates whose gain under M is above its noise; checked best first when sampled.

        While exact every gain's error is 0. In the sampled regime errors cost
        a pass per candidate, so they are computed in descending order of the
        objective, ``_ERROR_CHUNK`` at a time, until one candidate passes (it is
        then the pick among those checked).
        """
        monitor = self.monitor
        allowed = gains > monitor.min_gain()
        if not self.sampled:
            return allowed
        order = np.flatnonzero(allowed)[np.argsort(-values[allowed], kind="stable")]
        checked = np.zeros_like(allowed)
        for start in range(0, min(len(order), _MAX_ERROR_CHECKS), _ERROR_CHUNK):
            chunk = order[start:start + _ERROR_CHUNK]
            passed = monitor.informative(gains[chunk], monitor.errors(candidates[chunk]))
            checked[chunk[passed]] = True
            if np.any(passed):
                return checked
        return checked

    def _fill(self, step: int) -> int:
        """Finish a spent batch by the policy ``"power"``; returns the number of picks."""
        n_left = self.batch_size - step
        picks, scores = power_fill(self.single_scores(), self.available, n_left, self.alpha,
                                   self.fill_seed)
        self.indices[step:], self.scores[step:] = picks, scores
        self.errors[step:] = 0.0
        return n_left

    def _score_last_pick(self) -> None:
        """Score the whole batch on one more, independent draw."""
        terms, last = self.terms, self.indices[-1:]
        exact_parts = [term.candidate_scores(last)[0] for term in terms
                       if not term.tracker.sampled]
        sampled_terms = [term for term in terms if term.tracker.sampled]
        for term in sampled_terms:
            term.add(last[0])
        value, error = _batch_score(sampled_terms)
        self.scores[-1], self.errors[-1] = value + sum(exact_parts), error


def _settings(max_exact_size, n_configurations, max_memory, device):
    return dict(
        max_exact_size=(None if max_exact_size is None
                        else check_positive_int(max_exact_size, name="max_exact_size")),
        n_configurations=check_positive_int(n_configurations, name="n_configurations"),
        max_memory=(default_max_memory(device) if max_memory is None
                    else check_positive_int(max_memory, name="max_memory")),
    )


def greedy_batch(terms, batch_size: int, *, objective: str, on_saturation: str,
                 saturation_alpha: float, seed: int, max_memory: int, lazy: bool = False,
                 progress: bool = False, score_offset: float = 0.0):
    """Run the greedy over ``terms`` (the first is the model M's, sign +1).

    Returns ``(indices, scores, standard_errors, trace)``; see :class:`_Greedy`.
    """
    monitor = SaturationMonitor(terms[0], objective, on_saturation, max_memory)
    greedy = _Greedy(terms, batch_size, lazy=lazy, monitor=monitor, seed=seed,
                     alpha=saturation_alpha, score_offset=score_offset)
    return greedy.run(progress)


def check_saturation_settings(on_saturation: Any, saturation_alpha: Any) -> tuple[str, float]:
    """Validate the ``on_saturation`` policy and the fill's power exponent."""
    return (check_on_saturation(on_saturation),
            check_non_negative(saturation_alpha, name="saturation_alpha"))


def outputs(indices, scores, errors, trace: GreedyTrace, return_std: bool, return_info: bool):
    """``(indices, scores)``, then the standard errors and the trace where asked for."""
    result = (indices, scores)
    if check_bool(return_std, name="return_std"):
        result += (errors,)
    if check_bool(return_info, name="return_info"):
        result += (trace,)
    return result


def _run(models, batch_size, *, objective, max_exact_size, n_configurations, max_memory,
         device, random_state, progress, on_saturation, saturation_alpha, return_std=False,
         return_info=False, lazy=False):
    torch = _require_torch(device)
    batch_size = check_batch_size(batch_size, models[0][0].shape[0], name="batch_size")
    settings = _settings(max_exact_size, n_configurations, max_memory, device)
    policy, alpha = check_saturation_settings(on_saturation, saturation_alpha)
    seed = check_seed(random_state)
    rng = np.random.default_rng(seed)
    with _no_grad(torch):
        terms = [
            _Term(torch, log_probs, sign, with_conditional, settings, rng, device, name)
            for log_probs, sign, with_conditional, name in models
        ]
        indices, scores, errors, trace = greedy_batch(
            terms, batch_size, objective=objective, on_saturation=policy,
            saturation_alpha=alpha, seed=seed, max_memory=settings["max_memory"], lazy=lazy,
            progress=progress)
    return outputs(indices, scores, errors, trace, return_std, return_info)


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
        Seed of the sampled configurations, of the keys that break exact ties
        and of the fill of a spent batch.
    progress : bool, default=False
        Show a tqdm bar over the greedy steps.
    on_saturation : {"power", "continue", "warn", "raise"}, default="power"
        What to do once the batch is spent, i.e. its information under the
        model M reaches ``log K`` or no candidate's gain under M is above
        ``max(1e-3 nats, 1%% of the first pick's gain, 3 standard errors)`` (see
        :ref:`when-a-batch-is-spent`). ``"power"`` warns and draws the rest
        of the batch by power sampling on the single-point score; before
        that, a difference objective never takes a candidate that is
        uninformative under M. ``"continue"`` keeps the raw greedy objective
        silently, ``"warn"`` with a warning, ``"raise"`` raises
        :class:`BatchSpentError`.
    saturation_alpha : float, default=5.0
        Power exponent of the ``"power"`` fill.
    return_std : bool, default=False
        Also return the standard error of each reported score (0 where the
        joint entropies are exact and for filled picks).
    return_info : bool, default=False
        Also return a :class:`GreedyTrace` of the query (last).
"""


def batch_bald(log_probs: Any, batch_size: int, *,
               max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
               n_configurations: int = DEFAULT_N_CONFIGURATIONS,
               max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
               random_state: Any = None, progress: bool = False,
               on_saturation: str = "power", saturation_alpha: float = 5.0,
               return_std: bool = False, return_info: bool = False, lazy: bool = True):
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
        Picks made by the ``"power"`` fill of a spent batch carry their
        single-point BALD instead (``trace.saturated_at`` says where).
    standard_errors : numpy.ndarray of shape (batch_size,)
        Only with ``return_std=True``: the standard error of each score.
    trace : GreedyTrace
        Only with ``return_info=True``: each greedy pick's gain under the
        model and its error, and where the batch was spent.

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
                progress=progress, on_saturation=on_saturation,
                saturation_alpha=saturation_alpha, return_std=return_std,
                return_info=return_info, lazy=lazy, objective="BatchBALD")


def batch_eig(log_probs: Any, log_probs_distilled: Any, batch_size: int, *,
              max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
              n_configurations: int = DEFAULT_N_CONFIGURATIONS,
              max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
              random_state: Any = None, progress: bool = False,
              on_saturation: str = "power", saturation_alpha: float = 5.0,
              return_std: bool = False, return_info: bool = False):
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
    trace : GreedyTrace
        Only with ``return_info=True``.

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
                progress=progress, on_saturation=on_saturation,
                saturation_alpha=saturation_alpha, return_std=return_std,
                return_info=return_info, objective="BatchEIG")


def batch_evaluation_bald(log_probs: Any, log_probs_distilled: Any, batch_size: int, *,
                          max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
                          n_configurations: int = DEFAULT_N_CONFIGURATIONS,
                          max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
                          random_state: Any = None, progress: bool = False,
                          on_saturation: str = "power", saturation_alpha: float = 5.0,
                          return_std: bool = False, return_info: bool = False):
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
    trace : GreedyTrace
        Only with ``return_info=True``.

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
                progress=progress, on_saturation=on_saturation,
                saturation_alpha=saturation_alpha, return_std=return_std,
                return_info=return_info, objective="BatchEvaluationBALD")


for _function in (batch_bald, batch_eig, batch_evaluation_bald):
    _function.__doc__ = _function.__doc__.replace(
        "    {parameters}", (_PARAMETERS_DOC % DEFAULT_N_CONFIGURATIONS).strip("\n") + "\n")
del _function
