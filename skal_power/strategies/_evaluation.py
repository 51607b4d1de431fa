"""Evaluation-oriented strategies: EIG and EvaluationBALD, top-B and power sampling.

Both scores compare the model M with M′, "the model trained on ``D_train ∪
D_eval``", which :func:`skal_power.distill.distill` builds by self-distillation
(``D_eval`` defaults to the pool). Each query trains exactly one M′ and keeps it
as ``distilled_``.

The training data of M comes from a modAL ``ActiveLearner`` (its ``X_training``
and ``y_training``) or, for a bare estimator, from the call::

    indices, scores = PowerEvaluationBALD()(model, X_pool, 10,
                                            X_training=X_train, y_training=y_train)

Keywords passed to the call win over the learner's attributes; with modAL,
``learner.query(X_pool, n_instances=10, X_training=..., y_training=...)``
forwards them. For a modAL ``Committee`` (members = posterior samples), every
member is distilled on its own training data and M′ is the
:class:`~skal_power.strategies._second_model.DistilledCommittee` of the results.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..sampling import Power, Selector, Top
from ..scores import bald, entropy
from ._base import SecondModelStrategy, check_selector

__all__ = ["EIG", "EvaluationAcquisition", "EvaluationBALD", "PowerEIG", "PowerEvaluationBALD"]

#: The scores that compare M with M′: name -> (score of one model, fewest samples K).
#: ``eig = H_M[p̄] − H_M′[p̄]``; ``evaluation_bald = BALD_M − BALD_M′``.
EVALUATION_SCORES = {"eig": (entropy, 1), "evaluation_bald": (bald, 2)}


class EvaluationAcquisition(SecondModelStrategy):
    """An evaluation-oriented score composed with a selector.

    Parameters
    ----------
    score : {"evaluation_bald", "eig"}, default="evaluation_bald"
        ``BALD_M − BALD_M′`` (:func:`skal_power.scores.evaluation_bald`) or
        ``H_M − H_M′`` (:func:`skal_power.scores.eig`).
    selector : Selector, default=None
        :class:`~skal_power.sampling.Top` (the default), ``Power``, ``Softmax``,
        ``Softrank`` or ``UniformTop``.
    n_samples, eval_size, exclude_eval, distill_refit, distill_params
        As in :class:`EvaluationBALD`.
    chunk_size, random_state, progress
        As in :class:`EvaluationBALD`.

    Examples
    --------
    Softmax sampling on EvaluationBALD, a combination with no named class:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power.sampling import Softmax
    >>> from skal_power.strategies import EvaluationAcquisition
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[::10], y[::10])
    >>> strategy = EvaluationAcquisition("evaluation_bald", Softmax(beta=5.0), random_state=0)
    >>> strategy(forest, X, 4, X_training=X[::10], y_training=y[::10])[0].shape
    (4,)
    """

    part_is_nonnegative = True  # entropies and clamped BALD

    def __init__(self, score: str = "evaluation_bald", selector: Selector | None = None, *,
                 n_samples: int = 20, eval_size: Any = None, exclude_eval: bool = False,
                 distill_refit: str = "warm", distill_params: dict | None = None,
                 chunk_size: int = 8192, random_state: Any = None,
                 progress: bool = False) -> None:
        self.score = score
        self.selector = selector
        self.n_samples = n_samples
        self.eval_size = eval_size
        self.exclude_eval = exclude_eval
        self.distill_refit = distill_refit
        self.distill_params = distill_params
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    @property
    def min_samples(self) -> int:
        """Fewest posterior samples K the score needs."""
        return EVALUATION_SCORES[self.score][1]

    def _score_part(self, log_probs: np.ndarray) -> np.ndarray:
        return EVALUATION_SCORES[self.score][0](log_probs)

    def get_selector(self) -> Selector:
        """The selector this strategy draws its batch with."""
        return check_selector(self.selector)


_PARAMETERS = """
    n_samples : int, default=20
        Posterior samples K of M and M′ (MC dropout), also used for M's
        predictive distribution, the soft targets of M′.
    eval_size : None, int or float, default=None
        Evaluation set: the whole pool (``None``, the seed's choice) or a random
        subset of this size (int) or fraction (float) of it.
    exclude_eval : bool, default=False
        Leave the evaluation subset out of the batch candidates (needs
        ``eval_size``).
    distill_refit : {"warm", "head", "full"}, default="warm"
        How M′ is built (:func:`skal_power.distill.distill`'s ``refit``):
        ``"warm"`` trains a copy of M on for a short schedule (one epoch for
        an :class:`~skal_power.models.MCDropoutClassifier`), ``"head"`` only
        its last layer, ``"full"`` refits a fresh clone with M's own schedule
        (the seed's M′, a whole fit of M per query). ``"warm"`` and ``"head"``
        apply to skorch nets; other estimators are always refitted in full.
        What each costs and how close it comes to the full refit:
        ``benchmarks/results/second-model.md``.
    distill_params : dict, optional
        Parameters set on M′ before fitting, e.g. ``{"max_epochs": 2}``.
    chunk_size : int, default=8192
        Pool rows scored at a time.
    random_state : None, int, RandomState or Generator
        Seeds the posterior samples, the evaluation subset, M′ and the batch.
    progress : bool, default=False
        Show a tqdm bar over the pool chunks scored (as the experiment runner's)."""

_ATTRIBUTES = """
    Attributes
    ----------
    distilled_ : estimator
        M′ of the last query (one per query).
    eval_indices_ : numpy.ndarray
        Pool positions of the last query's evaluation set.
    timings_ : dict
        Seconds the last in-memory query spent on each step: ``"first pass
        (M)"``, ``"fit M′"`` and ``"second pass (M′)"`` (the selection is the
        rest of the call).
    second_pass_rows_ : int
        Candidates M′ scored in the last in-memory query. With a Top, Power
        or Softmax selector M′ scores only those whose bound (M's part of the
        score) can reach the batch, and the batch is the one scoring every
        candidate gives; ``score_pool`` scores them all.
    n_queries_ : int
        Number of completed queries."""


class EIG(SecondModelStrategy):
    __doc__ = f"""Top-B by EIG, the Evaluation Information Gain (the seed's name for it).

    ``EIG(x) = H_M[y|x] − H_M′[y|x]``: predictive entropy under M minus that
    under the pool-augmented model M′, a heuristic for the information about
    the evaluation set's predictions (M′ is one self-distilled model). Needs no
    posterior samples: a plain ``predict_proba`` (K = 1) works. May be
    negative, which a mutual information cannot be.

    Parameters
    ----------{_PARAMETERS}
{_ATTRIBUTES}

    See Also
    --------
    PowerEIG : stochastic batches.
    skal_power.scores.eig : the score.
    skal_power.distill.distill : how M′ is built.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_power.strategies import EIG
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=1000).fit(X[::10], y[::10])
    >>> indices, scores = EIG(random_state=0)(model, X, n_instances=3,
    ...                                       X_training=X[::10], y_training=y[::10])
    >>> indices.shape, bool((scores[:-1] >= scores[1:]).all())
    ((3,), True)
    """

    part_is_nonnegative = True  # entropies and clamped BALD

    def __init__(self, *, n_samples: int = 20, eval_size: Any = None,
                 exclude_eval: bool = False, distill_refit: str = "warm",
                 distill_params: dict | None = None, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.n_samples = n_samples
        self.eval_size = eval_size
        self.exclude_eval = exclude_eval
        self.distill_refit = distill_refit
        self.distill_params = distill_params
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    def _score_part(self, log_probs: np.ndarray) -> np.ndarray:
        """M's (or M′'s) predictive entropy."""
        return entropy(log_probs)

    def get_selector(self) -> Selector:
        """The top-B selector."""
        return Top()


class EvaluationBALD(SecondModelStrategy):
    __doc__ = f"""Top-B by EvaluationBALD: ``BALD_M(x) − BALD_M′(x)``.

    Positive where knowing the evaluation set makes the model surer about its
    parameters at x; negative on points that contradict the evaluation set.
    Needs K >= 2 posterior samples (an ensemble or an MC-dropout network).

    Parameters
    ----------{_PARAMETERS}
{_ATTRIBUTES}

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power.strategies import EvaluationBALD
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[::10], y[::10])
    >>> EvaluationBALD(random_state=0)(forest, X, 4, X_training=X[::10],
    ...                                y_training=y[::10])[0].shape
    (4,)
    """

    part_is_nonnegative = True  # entropies and clamped BALD

    def __init__(self, *, n_samples: int = 20, eval_size: Any = None,
                 exclude_eval: bool = False, distill_refit: str = "warm",
                 distill_params: dict | None = None, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.n_samples = n_samples
        self.eval_size = eval_size
        self.exclude_eval = exclude_eval
        self.distill_refit = distill_refit
        self.distill_params = distill_params
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    min_samples = 2

    def _score_part(self, log_probs: np.ndarray) -> np.ndarray:
        """M's (or M′'s) BALD."""
        return bald(log_probs)

    def get_selector(self) -> Selector:
        """The top-B selector."""
        return Top()


class PowerEIG(SecondModelStrategy):
    __doc__ = f"""Stochastic EIG: a batch drawn without replacement with p(x) ∝ max(EIG, 0)^α.

    Points with EIG <= 0 get weight 0; if fewer than ``n_instances`` points
    have a positive score, the rest of the batch is drawn uniformly from the
    others (with an :class:`~skal_power.sampling.AcquisitionWarning`).

    Parameters
    ----------
    alpha : float or callable, default=5.0
        Sharpness α >= 0 or a schedule ``round -> α``; 0 is uniform random.{_PARAMETERS}
{_ATTRIBUTES}

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_power.strategies import PowerEIG
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=1000).fit(X[::10], y[::10])
    >>> PowerEIG(random_state=0)(model, X, 5, X_training=X[::10], y_training=y[::10])[0].shape
    (5,)
    """

    part_is_nonnegative = True  # entropies and clamped BALD

    def __init__(self, *, alpha: Any = 5.0, n_samples: int = 20, eval_size: Any = None,
                 exclude_eval: bool = False, distill_refit: str = "warm",
                 distill_params: dict | None = None, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.alpha = alpha
        self.n_samples = n_samples
        self.eval_size = eval_size
        self.exclude_eval = exclude_eval
        self.distill_refit = distill_refit
        self.distill_params = distill_params
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    def _score_part(self, log_probs: np.ndarray) -> np.ndarray:
        """M's (or M′'s) predictive entropy."""
        return entropy(log_probs)

    def get_selector(self) -> Selector:
        """:class:`~skal_power.sampling.Power` with this strategy's α."""
        return Power(self.alpha)


class PowerEvaluationBALD(SecondModelStrategy):
    __doc__ = f"""Stochastic EvaluationBALD: p(x) ∝ max(BALD_M(x) − BALD_M′(x), 0)^α.

    The seed's PowerEvaluationBALD: one distillation, one pass of single-point
    scores and an O(N) Gumbel-top-B draw per batch. Negative scores (points
    that contradict the evaluation set) get weight 0; if fewer than
    ``n_instances`` points are positive the rest of the batch is uniform, with
    an :class:`~skal_power.sampling.AcquisitionWarning`.

    Parameters
    ----------
    alpha : float or callable, default=5.0
        Sharpness α >= 0 or a schedule ``round -> α``; 0 is uniform random.{_PARAMETERS}
{_ATTRIBUTES}

    References
    ----------
    Kirsch and Gal, "PowerEvaluationBALD: Efficient Evaluation-Oriented Deep
    (Bayesian) Active Learning with Stochastic Acquisition Functions", 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power.strategies import PowerEvaluationBALD
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[::10], y[::10])
    >>> strategy = PowerEvaluationBALD(alpha=5.0, random_state=0)
    >>> indices, _ = strategy(forest, X, 5, X_training=X[::10], y_training=y[::10])
    >>> len(set(indices.tolist()))
    5
    """

    part_is_nonnegative = True  # entropies and clamped BALD

    def __init__(self, *, alpha: Any = 5.0, n_samples: int = 20, eval_size: Any = None,
                 exclude_eval: bool = False, distill_refit: str = "warm",
                 distill_params: dict | None = None, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.alpha = alpha
        self.n_samples = n_samples
        self.eval_size = eval_size
        self.exclude_eval = exclude_eval
        self.distill_refit = distill_refit
        self.distill_params = distill_params
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    min_samples = 2

    def _score_part(self, log_probs: np.ndarray) -> np.ndarray:
        """M's (or M′'s) BALD."""
        return bald(log_probs)

    def get_selector(self) -> Selector:
        """:class:`~skal_power.sampling.Power` with this strategy's α."""
        return Power(self.alpha)
