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

Each is an :class:`~skal_power.strategies.Acquisition` whose score and selector
are fixed by the class and whose parameters are the selector's.
"""

from __future__ import annotations

from typing import Any

from .._validation import check_optional_positive_int
from ..sampling import Power, Softmax, Softrank, Top, UniformTop, resolve_exponent
from ._acquisition import Acquisition
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


def check_exponent(value: Any, *, name: str) -> None:
    """An exponent >= 0 or a schedule (see :func:`~skal_power.sampling.resolve_exponent`)."""
    resolve_exponent(value, 0, name=name)


class _Named(Acquisition):
    """A fixed composition: ``score`` is a class attribute, the selector comes from
    the class's own parameters."""

    score = "bald"

    def __init__(self, *, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        PosteriorStrategy.__init__(self, n_samples=n_samples, chunk_size=chunk_size,
                                   random_state=random_state, progress=progress)

    def get_selector(self):
        return Top()


class _WithAlpha(_Named):
    _constraints = {"alpha": check_exponent}

    def __init__(self, *, alpha: Any = 5.0, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        super().__init__(n_samples=n_samples, chunk_size=chunk_size, random_state=random_state,
                         progress=progress)
        self.alpha = alpha

    def get_selector(self):
        return Power(self.alpha)


class _WithBeta(_Named):
    _constraints = {"beta": check_exponent}

    def __init__(self, *, beta: Any = 1.0, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        super().__init__(n_samples=n_samples, chunk_size=chunk_size, random_state=random_state,
                         progress=progress)
        self.beta = beta


class BALD(_Named):
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


class MaxEntropy(_Named):
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

    score = "entropy"


class PowerBALD(_WithAlpha):
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


class PowerEntropy(_WithAlpha):
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

    score = "entropy"


class SoftmaxBALD(_WithBeta):
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

    def get_selector(self):
        return Softmax(self.beta)


class SoftrankBALD(_WithBeta):
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

    def get_selector(self):
        return Softrank(self.beta)


class UniformTopBALD(_Named):
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

    _constraints = {"factor": check_optional_positive_int}

    def __init__(self, *, factor: int | None = None, n_samples: int = 20,
                 chunk_size: int = 8192, random_state: Any = None, progress: bool = False) -> None:
        super().__init__(n_samples=n_samples, chunk_size=chunk_size, random_state=random_state,
                         progress=progress)
        self.factor = factor

    def get_selector(self):
        return UniformTop(self.factor)
