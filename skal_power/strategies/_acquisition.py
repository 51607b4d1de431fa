"""One strategy = one score × one selector.

:class:`Acquisition` scores every pool point with a function of its sampled
log-probabilities ``(N, K, C) -> (N,)`` and hands the scores to a selector of
:mod:`skal_power.sampling`. The named strategies (:class:`~skal_power.BALD`,
:class:`~skal_power.PowerBALD`, ...) are fixed compositions of it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..sampling import Selector, Top
from ..scores import bald, entropy, expected_entropy
from ._base import PosteriorStrategy

__all__ = ["Acquisition", "SCORES", "check_selector", "resolve_score", "select_batch"]

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


def check_selector(selector: Any, *, name: str = "selector") -> Selector:
    """``selector`` checked (``None`` is :class:`~skal_power.sampling.Top`)."""
    if selector is None:
        return Top()
    if not isinstance(selector, Selector):
        raise TypeError(f"{name} must be a skal_power.sampling.Selector (Top(), Power(5.0), "
                        f"...); got {selector!r}.")
    selector.check()
    return selector


def _score_check(value: Any, *, name: str) -> None:
    resolve_score(value)


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

    _constraints = {"score": _score_check, "selector": check_selector}

    def __init__(self, score: Any = "bald", selector: Selector | None = None, *,
                 n_samples: int = 20, chunk_size: int = 8192, random_state: Any = None,
                 progress: bool = False) -> None:
        super().__init__(n_samples=n_samples, chunk_size=chunk_size, random_state=random_state,
                         progress=progress)
        self.score = score
        self.selector = selector

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
        self._n_classes = log_probs.shape[2]
        return self.get_score()(log_probs)

    def _select(self, scores, n_instances, *, seed, round_index):
        return select_batch(self, scores, n_instances, seed=seed, round_index=round_index)


def select_batch(strategy: Any, scores: np.ndarray, n_instances: int, *, seed: int,
                 round_index: int) -> np.ndarray:
    """The batch ``strategy``'s selector draws from ``scores`` (the number of classes
    of the last scored chunk goes to selectors that need it, e.g. UniformTop)."""
    return strategy.get_selector().select(scores, n_instances, seed=seed,
                                          round_index=round_index,
                                          n_classes=getattr(strategy, "_n_classes", None))
