"""EPIG strategies: information about the labels at target inputs, not about the parameters.

``EPIG(x) = mean_m I[y; y* | x, x*_m]`` (:func:`skal_power.scores.epig`). The
targets ``x*`` are the inputs we care about predicting well: a known test-like
set, a sampler of them, or by default a random subsample of the pool. They are
scored with the same posterior samples as the pool (the same seed gives MC
dropout the same masks; an ensemble's members are its samples).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._pool import as_row_pool, pool_size
from .._seeds import epig_target_seed
from .._targets import target_inputs
from .._validation import check_seed
from ..adapters import sampled_log_proba
from ..sampling import Power, Selector, Top
from ..scores import epig
from ._base import PosteriorStrategy, check_selector

__all__ = ["EPIG", "PowerEPIG", "TargetAcquisition"]


class _TargetScores:
    """EPIG of every pool row about one query's target rows (shared by the EPIG classes).

    The targets are scored once, with the posterior samples of the pool (the
    same seed); their seed is drawn from that seed
    (:func:`skal_power._seeds.epig_target_seed`).
    """

    min_samples = 2

    @property
    def _rowwise_scores(self) -> bool:
        """With given targets a row's score depends on that row alone (Dask may split
        the pool); targets drawn from the pool are not."""
        return self.X_target is not None

    def get_score(self):
        """:func:`skal_power.scores.epig`, of pool and target log-probs."""
        return epig

    def target_inputs(self, X_pool: Any, seed: int) -> Any:
        """The target rows of one query (seeded by the query's seed)."""
        return target_inputs(self.X_target, self.target_size, X_pool, seed)

    def score_pool(self, classifier: Any, X_pool: Any, *, seed: int | None = None,
                   **kwargs: Any) -> np.ndarray:
        """EPIG of every pool point about this query's targets, shape ``(N,)``.

        The targets are scored once, with the posterior samples of the pool
        (the same ``seed``).
        """
        if seed is None:
            seed = check_seed(self.random_state)
        self._check_params()
        X_pool = as_row_pool(X_pool)
        targets = self.target_inputs(X_pool, epig_target_seed(seed))
        target_log_probs = sampled_log_proba(classifier, targets, n_samples=self.n_samples,
                                             random_state=seed)
        self.n_targets_ = len(target_log_probs)
        # no other state on self while scoring: Dask may score partitions in threads at once
        scores = np.empty(pool_size(X_pool), dtype=np.float64)
        for start, log_probs in self.iter_log_probs(classifier, X_pool, seed=seed):
            scores[start:start + len(log_probs)] = epig(log_probs, target_log_probs)
        return scores


class TargetAcquisition(_TargetScores, PosteriorStrategy):
    """EPIG (needs target inputs) composed with a selector.

    Parameters
    ----------
    selector : Selector, default=None
        :class:`~skal_power.sampling.Top` (the default), ``Power``, ``Softmax``,
        ``Softrank`` or ``UniformTop``.
    X_target : array-like or callable, optional
        The target inputs ``x*``: an array of rows, or a callable
        ``rng -> rows`` (a sampler, given a seeded ``numpy.random.Generator``
        per query). Default: ``target_size`` rows drawn from the pool at each
        query. Dask pools need it given (a small in-memory array or sampler).
    target_size : int, default=100
        Targets drawn from the pool when ``X_target`` is None.
    n_samples : int, default=20
        Posterior samples K for stochastic models (MC dropout).
    chunk_size : int, default=8192
        Pool rows scored at a time.
    random_state : None, int, RandomState or Generator
        Seeds the posterior samples, the targets and the selector.
    progress : bool, default=False
        Show a tqdm bar over the pool chunks scored (as the experiment runner's).

    Attributes
    ----------
    n_targets_ : int
        Number of target inputs of the last query.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power.sampling import Softmax
    >>> from skal_power.strategies import TargetAcquisition
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> strategy = TargetAcquisition(Softmax(beta=50.0), X_target=X[1500:], random_state=0)
    >>> strategy(forest, X[100:600], n_instances=4)[0].shape
    (4,)
    """

    def __init__(self, selector: Selector | None = None, *, X_target: Any = None,
                 target_size: int = 100, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.selector = selector
        self.X_target = X_target
        self.target_size = target_size
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    def get_selector(self) -> Selector:
        """The selector this strategy draws its batch with."""
        return check_selector(self.selector)


class EPIG(_TargetScores, PosteriorStrategy):
    """Top-B by EPIG, the expected predictive information gain about target inputs.

    Prefers points whose labels would change the predictions at the targets,
    not those that are merely uncertain: on a pool with irrelevant inputs (out
    of distribution, other domains) that the model is unsure about, BALD can
    chase them and EPIG is designed not to. Needs no second model (unlike
    :class:`EvaluationBALD`).

    Parameters
    ----------
    X_target, target_size, n_samples, chunk_size, random_state, progress
        As in :class:`TargetAcquisition`.

    References
    ----------
    Bickford Smith, Kirsch, Farquhar, Gal, Foster and Rainforth,
    "Prediction-Oriented Bayesian Active Learning", AISTATS 2023.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power.strategies import EPIG
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> indices, scores = EPIG(random_state=0)(forest, X[100:600], n_instances=3)
    >>> indices.shape, bool((scores[:-1] >= scores[1:]).all())
    ((3,), True)
    """

    def __init__(self, *, X_target: Any = None, target_size: int = 100, n_samples: int = 20,
                 chunk_size: int = 8192, random_state: Any = None, progress: bool = False) -> None:
        self.X_target = X_target
        self.target_size = target_size
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    def get_selector(self) -> Selector:
        """The top-B selector."""
        return Top()


class PowerEPIG(_TargetScores, PosteriorStrategy):
    """Stochastic EPIG: a batch drawn without replacement with p(x) ∝ EPIG(x)^α.

    Parameters
    ----------
    alpha : float or callable, default=5.0
        Sharpness α >= 0 or a schedule ``round -> α``; 0 is uniform random.
    X_target, target_size, n_samples, chunk_size, random_state, progress
        As in :class:`TargetAcquisition`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power.strategies import PowerEPIG
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> indices, _ = PowerEPIG(X_target=X[1500:], random_state=0)(forest, X[100:600], 5)
    >>> len(set(indices.tolist()))
    5
    """

    def __init__(self, *, alpha: Any = 5.0, X_target: Any = None, target_size: int = 100,
                 n_samples: int = 20, chunk_size: int = 8192, random_state: Any = None,
                 progress: bool = False) -> None:
        self.alpha = alpha
        self.X_target = X_target
        self.target_size = target_size
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    def get_selector(self) -> Selector:
        """:class:`~skal_power.sampling.Power` with this strategy's α."""
        return Power(self.alpha)
