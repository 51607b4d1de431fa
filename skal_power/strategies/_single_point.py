"""Strategies that rank pool points by a single-point score (BALD, entropy).

Each score comes with the selection rules of :mod:`skal_power.sampling`:
top-B (deterministic), power, softmax, softrank and UniformTop sampling.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_positive_int
from ..sampling import (
    power_log_weights,
    resolve_exponent,
    sample_from_log_weights,
    softmax_log_weights,
    softrank_log_weights,
    top_sample,
    uniform_top_sample,
)
from ..scores import bald, entropy
from ._base import PosteriorStrategy

__all__ = [
    "BALD",
    "MaxEntropy",
    "PowerBALD",
    "PowerEntropy",
    "SoftmaxBALD",
    "SoftrankBALD",
    "UniformTopBALD",
]


class _BALDScore:
    min_samples = 2

    def _score_log_probs(self, log_probs: np.ndarray) -> np.ndarray:
        return bald(log_probs)


class _EntropyScore:
    min_samples = 1

    def _score_log_probs(self, log_probs: np.ndarray) -> np.ndarray:
        return entropy(log_probs)


class _TopRule:
    def _select(self, scores, n_instances, *, seed, round_index):
        return top_sample(scores, n_instances, random_state=seed)  # ties at random


class _StochasticRule(PosteriorStrategy):
    """Gumbel-top-B sampling from ``p(x) ∝ f(s(x))``; subclasses define ``log f``."""

    #: Name of the sharpness parameter (``alpha`` or ``beta``).
    _exponent_name = "alpha"

    def _log_weights(self, scores: np.ndarray, exponent: float) -> np.ndarray:
        raise NotImplementedError

    def _check_params(self) -> None:
        super()._check_params()
        resolve_exponent(getattr(self, self._exponent_name), 0, name=self._exponent_name)

    def _select(self, scores, n_instances, *, seed, round_index):
        exponent = resolve_exponent(
            getattr(self, self._exponent_name), round_index, name=self._exponent_name
        )
        return sample_from_log_weights(self._log_weights(scores, exponent), n_instances, seed)


class _PowerRule(_StochasticRule):
    _exponent_name = "alpha"

    def __init__(self, *, alpha: Any = 5.0, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None) -> None:
        super().__init__(n_samples=n_samples, chunk_size=chunk_size, random_state=random_state)
        self.alpha = alpha

    def _log_weights(self, scores, exponent):
        return power_log_weights(scores, exponent)


class _SoftmaxRule(_StochasticRule):
    _exponent_name = "beta"

    def __init__(self, *, beta: Any = 1.0, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None) -> None:
        super().__init__(n_samples=n_samples, chunk_size=chunk_size, random_state=random_state)
        self.beta = beta

    def _log_weights(self, scores, exponent):
        return softmax_log_weights(scores, exponent)


class _SoftrankRule(_SoftmaxRule):
    def _log_weights(self, scores, exponent):
        return softrank_log_weights(scores, exponent)


class BALD(_BALDScore, _TopRule, PosteriorStrategy):
    """Top-B by BALD, the mutual information between label and parameters.

    Parameters
    ----------
    n_samples : int, default=20
        Posterior samples K for stochastic models (MC dropout); ensembles and
        committees use their members.
    chunk_size : int, default=8192
        Pool rows scored at a time; bounds memory whatever the pool size.
    random_state : None, int, RandomState or Generator
        Seed of the posterior samples.

    See Also
    --------
    PowerBALD : stochastic batches that stay diverse.
    skal_power.scores.bald : the score itself.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import BALD
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> indices, scores = BALD()(forest, X[100:], n_instances=5)
    >>> indices.shape, bool((scores[:-1] >= scores[1:]).all())
    ((5,), True)
    """


class MaxEntropy(_EntropyScore, _TopRule, PosteriorStrategy):
    """Top-B by predictive entropy (works with a plain ``predict_proba``, K = 1).

    Parameters are those of :class:`BALD`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_power import MaxEntropy
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=500).fit(X[::5], y[::5])
    >>> MaxEntropy()(model, X, n_instances=3)[0].shape
    (3,)
    """


class PowerBALD(_BALDScore, _PowerRule):
    """Stochastic BALD: sample a batch without replacement with p(x) ∝ BALD(x)^α.

    Picks diverse batches at the cost of single-point scores: one pass of
    BALD plus an O(N) Gumbel-top-B draw.

    Parameters
    ----------
    alpha : float or callable, default=5.0
        Sharpness α >= 0, or a schedule ``round -> α`` such as
        :class:`skal_power.sampling.LinearSchedule`. α = 0 is uniform random;
        large α approaches top-B BALD.
    n_samples, chunk_size, random_state
        As in :class:`BALD`.

    References
    ----------
    Kirsch et al., "Stochastic Batch Acquisition: A Simple Baseline for Deep
    Active Learning", TMLR 2023.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import PowerBALD
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> first, _ = PowerBALD(alpha=5.0, random_state=0)(forest, X[100:], n_instances=10)
    >>> again, _ = PowerBALD(alpha=5.0, random_state=0)(forest, X[100:], n_instances=10)
    >>> bool((first == again).all()), len(set(first.tolist()))
    (True, 10)
    """


class PowerEntropy(_EntropyScore, _PowerRule):
    """Stochastic predictive entropy: p(x) ∝ H[p̄(y|x)]^α (works with K = 1).

    Parameters are those of :class:`PowerBALD`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_power import PowerEntropy
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=500).fit(X[::5], y[::5])
    >>> PowerEntropy(random_state=0)(model, X, n_instances=4)[0].shape
    (4,)
    """


class SoftmaxBALD(_BALDScore, _SoftmaxRule):
    """Stochastic BALD with p(x) ∝ exp(β · BALD(x)).

    Parameters
    ----------
    beta : float or callable, default=1.0
        Inverse temperature β >= 0 (or a schedule). β = 0 is uniform.
    n_samples, chunk_size, random_state
        As in :class:`BALD`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import SoftmaxBALD
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> SoftmaxBALD(beta=10.0, random_state=0)(forest, X[100:], n_instances=3)[0].shape
    (3,)
    """


class SoftrankBALD(_BALDScore, _SoftrankRule):
    """Stochastic BALD with p(x) ∝ rank(x)^(−β), rank 1 = highest BALD (scale-free).

    Parameters
    ----------
    beta : float or callable, default=1.0
        Rank exponent β >= 0 (or a schedule). β = 0 is uniform.
    n_samples, chunk_size, random_state
        As in :class:`BALD`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import SoftrankBALD
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> SoftrankBALD(random_state=0)(forest, X[100:], n_instances=3)[0].shape
    (3,)
    """


class UniformTopBALD(_BALDScore, PosteriorStrategy):
    """B points drawn uniformly without replacement from the top B·F by BALD.

    Parameters
    ----------
    factor : int, optional
        Candidate-set size relative to the batch, F; defaults to the number of
        classes C.
    n_samples, chunk_size, random_state
        As in :class:`BALD`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import UniformTopBALD
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> UniformTopBALD(random_state=0)(forest, X[100:], n_instances=3)[0].shape
    (3,)
    """

    def __init__(self, *, factor: int | None = None, n_samples: int = 20,
                 chunk_size: int = 8192, random_state: Any = None) -> None:
        super().__init__(n_samples=n_samples, chunk_size=chunk_size, random_state=random_state)
        self.factor = factor

    def _check_params(self) -> None:
        super()._check_params()
        if self.factor is not None:
            check_positive_int(self.factor, name="factor")

    def _score_log_probs(self, log_probs):
        self._n_classes = log_probs.shape[2]
        return super()._score_log_probs(log_probs)

    def _select(self, scores, n_instances, *, seed, round_index):
        factor = self.factor if self.factor is not None else self._n_classes
        return uniform_top_sample(scores, n_instances, factor=factor, random_state=seed)
