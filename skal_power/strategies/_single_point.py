"""The named single-point strategies: fixed compositions of a score and a selector.

============================  ==============  ============================
strategy                      score           selector
============================  ==============  ============================
:class:`BALD`                 ``bald``        :class:`~skal_power.sampling.Top`
:class:`MaxEntropy`           ``entropy``     ``Top``
:class:`PowerBALD`            ``bald``        ``Power(alpha)``
:class:`PowerEntropy`         ``entropy``     ``Power(alpha)``
:class:`SoftmaxBALD`          ``bald``        ``Softmax(beta)``
:class:`SoftrankBALD`         ``bald``        ``Softrank(beta)``
:class:`UniformTopBALD`       ``bald``        ``UniformTop(factor)``
============================  ==============  ============================

Each is a flat class of its own: the score and the selector are its two hooks
(``_score_log_probs`` and ``get_selector``), its parameters are the pool
pass's and the selector's. :class:`Acquisition` composes any score with any
selector.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..sampling import Power, Selector, Softmax, Softrank, Top, UniformTop
from ..scores import bald, entropy, expected_entropy
from ._base import PosteriorStrategy, check_selector

__all__ = [
    "Acquisition",
    "BALD",
    "MaxEntropy",
    "PowerBALD",
    "PowerEntropy",
    "SoftmaxBALD",
    "SoftrankBALD",
    "UniformTopBALD",
]


#: Single-point scores by name, with the fewest posterior samples K each needs.
SCORES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], int]] = {
    "bald": (bald, 2),
    "entropy": (entropy, 1),
    "expected_entropy": (expected_entropy, 1),
}


def resolve_score(score: Any) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """``(function, min_samples)`` of a score name of :data:`SCORES` or a callable.

    Examples
    --------
    >>> resolve_score("bald")[1]
    2
    """
    if callable(score):
        return score, int(getattr(score, "min_samples", 1))
    if isinstance(score, str) and score in SCORES:
        return SCORES[score]
    raise ValueError(f"score must be one of {sorted(SCORES)} or a callable "
                     f"(N, K, C) log-probs -> (N,) scores; got {score!r}.")


class Acquisition(PosteriorStrategy):
    """A score composed with a selector: the general strategy.

    Parameters
    ----------
    score : str or callable, default="bald"
        ``"bald"``, ``"entropy"``, ``"expected_entropy"`` or a function of
        sampled log-probabilities ``(N, K, C) -> (N,)`` (higher is better; an
        attribute ``min_samples`` states the K it needs).
    selector : Selector, default=None
        How the batch is drawn from the scores: :class:`~skal_power.sampling.Top`
        (the default), :class:`~skal_power.sampling.Power`,
        :class:`~skal_power.sampling.Softmax`,
        :class:`~skal_power.sampling.Softrank` or
        :class:`~skal_power.sampling.UniformTop`.
    n_samples : int, default=20
        Posterior samples K for stochastic models (MC dropout).
    chunk_size : int, default=8192
        Pool rows scored at a time; bounds memory whatever the pool size.
    random_state : None, int, RandomState or Generator
        Seeds the posterior samples and the selector.
    progress : bool, default=False
        Show a tqdm bar over the pool chunks scored (as the experiment runner's).

    See Also
    --------
    skal_power.strategies.EvaluationAcquisition : scores that need M′ (EIG, EvaluationBALD).

    Examples
    --------
    Softrank sampling on predictive entropy, a combination with no named class:

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power.sampling import Softrank
    >>> from skal_power.strategies import Acquisition
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> strategy = Acquisition("entropy", Softrank(beta=2.0), random_state=0)
    >>> strategy(forest, X[100:], n_instances=4)[0].shape
    (4,)
    """

    def __init__(self, score: Any = "bald", selector: Selector | None = None, *,
                 n_samples: int = 20, chunk_size: int = 8192, random_state: Any = None,
                 progress: bool = False) -> None:
        self.score = score
        self.selector = selector
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    def get_score(self) -> Callable[[np.ndarray], np.ndarray]:
        """The score function ``(N, K, C) log-probs -> (N,)``."""
        return resolve_score(self.score)[0]

    def get_selector(self) -> Selector:
        """The selector this strategy draws its batch with."""
        return check_selector(self.selector)

    @property
    def min_samples(self) -> int:
        """Fewest posterior samples K the score needs."""
        return resolve_score(self.score)[1]

    def _score_log_probs(self, log_probs: np.ndarray) -> np.ndarray:
        return self.get_score()(log_probs)


class BALD(PosteriorStrategy):
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
    progress : bool, default=False
        Show a tqdm bar over the pool chunks scored (as the experiment runner's).

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

    def __init__(self, *, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    min_samples = 2

    def _score_log_probs(self, log_probs: np.ndarray) -> np.ndarray:
        return bald(log_probs)

    def get_selector(self) -> Selector:
        """The top-B selector."""
        return Top()


class MaxEntropy(PosteriorStrategy):
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

    def __init__(self, *, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    def _score_log_probs(self, log_probs: np.ndarray) -> np.ndarray:
        return entropy(log_probs)

    def get_selector(self) -> Selector:
        """The top-B selector."""
        return Top()


class PowerBALD(PosteriorStrategy):
    """Stochastic BALD: sample a batch without replacement with p(x) ∝ BALD(x)^α.

    Picks diverse batches at the cost of single-point scores: one pass of
    BALD plus an O(N) Gumbel-top-B draw.

    Parameters
    ----------
    alpha : float or callable, default=5.0
        Sharpness α >= 0, or a schedule ``round -> α`` such as
        :class:`skal_power.sampling.LinearSchedule`. α = 0 is uniform random;
        large α approaches top-B BALD.
    n_samples, chunk_size, random_state, progress
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

    def __init__(self, *, alpha: Any = 5.0, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.alpha = alpha
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    min_samples = 2

    def _score_log_probs(self, log_probs: np.ndarray) -> np.ndarray:
        return bald(log_probs)

    def get_selector(self) -> Selector:
        """:class:`~skal_power.sampling.Power` with this strategy's parameter."""
        return Power(self.alpha)


class PowerEntropy(PosteriorStrategy):
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

    def __init__(self, *, alpha: Any = 5.0, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.alpha = alpha
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    def _score_log_probs(self, log_probs: np.ndarray) -> np.ndarray:
        return entropy(log_probs)

    def get_selector(self) -> Selector:
        """:class:`~skal_power.sampling.Power` with this strategy's parameter."""
        return Power(self.alpha)


class SoftmaxBALD(PosteriorStrategy):
    """Stochastic BALD with p(x) ∝ exp(β · BALD(x)).

    Parameters
    ----------
    beta : float or callable, default=1.0
        Inverse temperature β >= 0 (or a schedule). β = 0 is uniform.
    n_samples, chunk_size, random_state, progress
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

    def __init__(self, *, beta: Any = 1.0, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.beta = beta
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    min_samples = 2

    def _score_log_probs(self, log_probs: np.ndarray) -> np.ndarray:
        return bald(log_probs)

    def get_selector(self) -> Selector:
        """:class:`~skal_power.sampling.Softmax` with this strategy's parameter."""
        return Softmax(self.beta)


class SoftrankBALD(PosteriorStrategy):
    """Stochastic BALD with p(x) ∝ rank(x)^(−β), rank 1 = highest BALD (scale-free).

    Parameters
    ----------
    beta : float or callable, default=1.0
        Rank exponent β >= 0 (or a schedule). β = 0 is uniform.
    n_samples, chunk_size, random_state, progress
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

    def __init__(self, *, beta: Any = 1.0, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.beta = beta
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    min_samples = 2

    def _score_log_probs(self, log_probs: np.ndarray) -> np.ndarray:
        return bald(log_probs)

    def get_selector(self) -> Selector:
        """:class:`~skal_power.sampling.Softrank` with this strategy's parameter."""
        return Softrank(self.beta)


class UniformTopBALD(PosteriorStrategy):
    """B points drawn uniformly without replacement from the top B·F by BALD.

    Parameters
    ----------
    factor : int, optional
        Candidate-set size relative to the batch, F; defaults to the number of
        classes C.
    n_samples, chunk_size, random_state, progress
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

    def __init__(self, *, factor: int | None = None, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.factor = factor
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    min_samples = 2

    def _score_log_probs(self, log_probs: np.ndarray) -> np.ndarray:
        return bald(log_probs)

    def get_selector(self) -> Selector:
        """:class:`~skal_power.sampling.UniformTop` with this strategy's parameter."""
        return UniformTop(self.factor)
