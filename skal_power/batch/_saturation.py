"""When a greedy batch has spent what K posterior samples can tell: detection and policy.

With K equally weighted posterior samples ω_1..ω_K, the information a batch's
labels carry about the model is at most the entropy of the samples,
``I[y_1..y_b; ω] <= log K``. A greedy batch score can tell candidates apart only
while its batch is below that ceiling. A forest of fully grown trees (one-hot
members) reaches it after 2-3 picks, MC dropout with K = 100 after about 10;
from then on every gain is zero or noise, and a difference objective such as
BatchEvaluationBALD is driven by its ``−I_M′`` term alone, i.e. by what M′
finds *least* informative.

A greedy step is **spent** when either holds:

* the batch's information under M is within ``LOG_K_MARGIN`` of ``log K``;
* the most informative candidate's gain under M,
  ``I[y_x; ω | y_1..y_b]``, is not above ``max(MIN_GAIN, MIN_RELATIVE_GAIN ·
  the first pick's gain, N_STANDARD_ERRORS · its standard error)`` (the error
  is 0 while joint entropies are exact and the Monte Carlo error of the sampled
  estimate beyond). The relative part states what "no information left" means
  on the problem's own scale: once the best candidate adds less than 1% of what
  the best single point (its BALD) would, the greedy is choosing among gains
  that K samples can no longer tell apart, and a difference objective is in
  effect choosing by its second term.

What happens next is the ``on_saturation`` policy:

``"power"`` (default)
    Warn once (:class:`~skal_power.sampling.AcquisitionWarning`) and finish the
    batch with the objective's own single-point score (BALD, EIG,
    EvaluationBALD or EPIG) over the remaining candidates, drawn by seeded
    power sampling (``saturation_alpha``), so the rest of the batch is
    informative and diverse. The pool is not scanned again. Before that, a
    difference objective never takes a candidate whose gain under M is not
    above its error, whatever its ``−M′`` term says.
``"continue"``
    The raw greedy objective as the seed defines it, to the end of the batch,
    without a warning; exact ties are broken by seeded keys, never pool order.
``"warn"``
    As ``"continue"``, with the warning.
``"raise"``
    :class:`BatchSpentError` at the spent step.

Every policy records what happened in a :class:`GreedyTrace`.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_numpy
from ..sampling import AcquisitionWarning, power_sample

__all__ = [
    "BatchSpentError",
    "GreedyTrace",
    "LOG_K_MARGIN",
    "MIN_GAIN",
    "MIN_RELATIVE_GAIN",
    "N_STANDARD_ERRORS",
    "SATURATION_POLICIES",
    "check_on_saturation",
]

#: What a greedy batch does once its estimate is spent (see the module docstring).
SATURATION_POLICIES = ("power", "continue", "warn", "raise")
#: Nats: a gain below this is no information, even where it is exact.
MIN_GAIN = 1e-3
#: A gain below this share of the first pick's gain (its BALD) is no information either.
MIN_RELATIVE_GAIN = 1e-2
#: Nats: a batch this close to ``log K`` is spent without scanning the pool.
LOG_K_MARGIN = 1e-2
#: A sampled gain within this many standard errors of zero is not distinguishable from it.
N_STANDARD_ERRORS = 3.0
#: The single-point score each greedy objective falls back to.
SINGLE_POINT_SCORE = {"BatchBALD": "BALD", "BatchEIG": "EIG",
                      "BatchEvaluationBALD": "EvaluationBALD", "BatchEPIG": "EPIG"}


class BatchSpentError(RuntimeError):
    """A greedy batch's estimate was spent and ``on_saturation="raise"`` was asked for.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.batch import BatchSpentError, batch_bald
    >>> one_hot = np.log(np.eye(3)[[[0, 1], [1, 0], [0, 0], [1, 1]]] + 1e-30)
    >>> try:
    ...     batch_bald(one_hot, 3, on_saturation="raise")
    ... except BatchSpentError as error:
    ...     print(str(error)[:44])
    BatchBALD: the batch is spent after 1 picks:
    """


@dataclass(frozen=True)
class GreedyTrace:
    """What one greedy batch query did, step by step.

    Attributes
    ----------
    objective : str
        ``"BatchBALD"``, ``"BatchEIG"``, ``"BatchEvaluationBALD"`` or ``"BatchEPIG"``.
    n_samples : int
        K, the posterior samples of the model M.
    information : numpy.ndarray of shape (n_greedy,)
        ``I[y_1..y_b; ω]`` under M after each greedy pick (an estimate in the
        sampled regime).
    gains : numpy.ndarray of shape (n_greedy,)
        Each greedy pick's gain under M, ``I[y_x; ω | y_1..y_{b-1}]``;
        ``gains[0]`` is the first pick's BALD under M.
    gain_errors : numpy.ndarray of shape (n_greedy,)
        Standard error of each gain (0 while the joint entropies are exact).
    saturated_at : int or None
        Number of greedy picks in the batch when it was found spent; None if
        it never was.
    policy : str
        The ``on_saturation`` policy that was applied.
    n_filled : int
        Picks made by the ``"power"`` fill after the batch was spent.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.batch import batch_bald
    >>> rng = np.random.default_rng(0)
    >>> logits = 3 * rng.normal(size=(50, 8, 3))
    >>> log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    >>> _, _, trace = batch_bald(log_probs, 3, return_info=True)
    >>> trace.objective, trace.saturated_at, bool(trace.information[-1] <= trace.log_k)
    ('BatchBALD', None, True)
    """

    objective: str
    n_samples: int
    information: np.ndarray
    gains: np.ndarray
    gain_errors: np.ndarray
    saturated_at: int | None
    policy: str
    n_filled: int

    @property
    def log_k(self) -> float:
        """``log K``: the most information K equally weighted samples can give."""
        return math.log(self.n_samples)


def check_on_saturation(value: Any, *, name: str = "on_saturation") -> str:
    """Check an ``on_saturation`` policy.

    Examples
    --------
    >>> check_on_saturation("power")
    'power'
    """
    if not isinstance(value, str) or value not in SATURATION_POLICIES:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, SATURATION_POLICIES))}; "
                         f"got {value!r}.")
    return value


def sampled_gain_errors(tracker, candidates: np.ndarray, max_memory: int) -> np.ndarray:
    """Standard error of each candidate's sampled gain ``I[y_x; ω | y_batch]``.

    In the sampled regime the gain is ``mean_s H[q(·|s)] − mean_k H[y_x | ω_k]``
    over the step's configurations s, drawn stratified over the K samples
    (``S`` per sample, sample-major). Its error is that of the stratified
    mean, ``sqrt(mean_k var_s H[q(·|s)] / (K·S))``; 0 while exact.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    if not tracker.sampled:
        return np.zeros(len(candidates))
    weights = as_numpy(tracker._current_draw()[0]).astype(np.float32, copy=False)  # (M, K)
    n_configs, n_samples = weights.shape
    per_sample = n_configs // n_samples
    n_classes = tracker.n_classes
    chunk = max(1, int(max_memory // (n_configs * n_classes * 4 * 3)))
    out = np.empty(len(candidates))
    for start in range(0, len(candidates), chunk):
        index = candidates[start:start + chunk]
        columns = as_numpy(tracker.probs[:, index]).astype(np.float32, copy=False)
        mixed = weights @ columns.reshape(n_samples, -1)  # (M, n·C)
        mixed = mixed.reshape(n_configs, len(index), n_classes).astype(np.float64)
        entropies = -np.sum(mixed * np.log(np.maximum(mixed, 1e-300)), axis=2)  # (M, n)
        if per_sample > 1:
            strata = entropies.reshape(n_samples, per_sample, len(index))
            variance = strata.var(axis=1, ddof=1).mean(axis=0)
        else:
            variance = entropies.var(axis=0, ddof=1)
        out[start:start + len(index)] = np.sqrt(variance / n_configs)
    return out


class SaturationMonitor:
    """Follows the information of a greedy batch under M and decides when it is spent.

    Parameters
    ----------
    term : object
        The greedy term of M (``sign = +1``); its ``tracker`` is M's joint entropy.
    objective : str
        Name of the greedy objective, for the trace and the warning.
    policy : str
        One of :data:`SATURATION_POLICIES`.
    max_memory : int
        Bytes for one chunk of the standard-error computation.
    """

    def __init__(self, term, objective: str, policy: str, max_memory: int) -> None:
        self.term = term
        self.tracker = term.tracker
        self.objective = objective
        self.policy = policy
        self.max_memory = max_memory
        self.n_samples = int(self.tracker.n_samples)
        # K = 1 (a point estimate of M, BatchEIG): the joint is a product, nothing to spend
        self.enabled = self.n_samples > 1
        self.log_k = math.log(self.n_samples)
        self.information: list[float] = []
        self.gains: list[float] = []
        self.gain_errors: list[float] = []
        self.saturated_at: int | None = None
        self.spent_gain = (math.nan, math.nan)
        self.spent_information = math.nan

    @property
    def filters(self) -> bool:
        """Whether candidates without information under M are kept out of the greedy."""
        return self.enabled and self.policy == "power"

    def batch_information(self, batch_value: float) -> float:
        """``I[y_batch; ω]`` under M from the term's value of the batch (``batch_score``)."""
        return batch_value - self._conditional(self.tracker.batch).sum()

    def gains_from_values(self, values: np.ndarray, candidates: np.ndarray,
                          batch_value: float) -> np.ndarray:
        """Gains under M from the term's candidate values and its value of the batch."""
        return values - batch_value - self._conditional(candidates)

    def _conditional(self, points) -> np.ndarray:
        """``mean_k H[y | ω_k]`` of ``points`` where the term's values still hold it, else 0.

        A term with ``conditional`` (BALD-type) has already taken it off its values.
        """
        if self.term.conditional is not None:
            return np.zeros(len(points))
        return self.tracker.expected_entropy[points]

    def errors(self, candidates: np.ndarray) -> np.ndarray:
        return sampled_gain_errors(self.tracker, candidates, self.max_memory)

    def at_ceiling(self, information: float) -> bool:
        return self.enabled and information >= self.log_k - LOG_K_MARGIN

    def min_gain(self) -> float:
        """The least gain that counts: ``MIN_GAIN``, or 1% of the first pick's gain."""
        first = self.gains[0] if self.gains else 0.0
        return max(MIN_GAIN, MIN_RELATIVE_GAIN * first)

    def informative(self, gains: np.ndarray, errors: np.ndarray) -> np.ndarray:
        """Which gains are above both :meth:`min_gain` and their noise."""
        return gains > np.maximum(self.min_gain(), N_STANDARD_ERRORS * errors)

    def record(self, gain: float, error: float, information: float) -> None:
        self.gains.append(float(gain))
        self.gain_errors.append(float(error))
        self.information.append(float(information))

    def spent(self, step: int, information: float, gain: float = math.nan,
              error: float = math.nan) -> None:
        """Mark the batch spent before greedy pick ``step`` (0-based)."""
        if self.saturated_at is None:
            self.saturated_at = step
            self.spent_gain = (gain, error)
            self.spent_information = information

    def message(self, n_filled: int, alpha: float) -> str:
        b = self.saturated_at
        gain, error = self.spent_gain
        best = ("" if math.isnan(gain) else
                f", and the most informative candidate adds {gain:.2g} ± {error:.2g} nats")
        score = SINGLE_POINT_SCORE[self.objective]
        if self.policy == "raise":
            then = "Raised as asked (on_saturation='raise')."
        elif self.policy == "power":
            then = (f"The last {n_filled} picks were drawn by power sampling (alpha = {alpha:g}) "
                    f"on the single-point {score} score instead (on_saturation='power').")
        else:
            then = (f"The greedy objective went on regardless (on_saturation={self.policy!r}): "
                    "its picks from here on are driven by noise or, for a difference "
                    "objective, by the second model alone.")
        return (
            f"{self.objective}: the batch is spent after {b} picks: its information about the "
            f"model is {self.spent_information:.3f} nats against log K = {self.log_k:.3f} for "
            f"K = {self.n_samples} posterior samples{best}. {then} More posterior samples "
            "(ensemble or committee members, MC-dropout n_samples) delay this: the K a batch "
            "needs grows like exp(its information). For batches this large, a Power* "
            "strategy (e.g. PowerBALD) picks diverse points without a joint estimate."
        )

    def trace(self, n_filled: int) -> GreedyTrace:
        return GreedyTrace(
            objective=self.objective, n_samples=self.n_samples,
            information=np.asarray(self.information, dtype=np.float64),
            gains=np.asarray(self.gains, dtype=np.float64),
            gain_errors=np.asarray(self.gain_errors, dtype=np.float64),
            saturated_at=self.saturated_at, policy=self.policy, n_filled=n_filled)

    def announce(self, n_filled: int, alpha: float) -> None:
        """Raise or warn, as the policy says, once the batch is spent."""
        if self.saturated_at is None or self.policy == "continue":
            return
        text = self.message(n_filled, alpha)
        if self.policy == "raise":
            raise BatchSpentError(text)
        warnings.warn(text, AcquisitionWarning, stacklevel=_caller_stacklevel())


def _caller_stacklevel() -> int:
    """``stacklevel`` of the first frame outside skal_power, seen from the caller's frame.

    The greedy is reached through strategies, functions and kernels at varying depths; the
    warning should point at the user's line, wherever that is.
    """
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def power_fill(single_scores: np.ndarray, available: np.ndarray, n_left: int, alpha: float,
               seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The rest of a spent batch: power sampling on single-point scores of the unpicked."""
    remaining = np.flatnonzero(available)
    chosen = remaining[power_sample(single_scores[remaining], n_left, alpha=alpha,
                                    random_state=seed)]
    return chosen, single_scores[chosen]
