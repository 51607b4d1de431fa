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

from typing import Any, Iterator

import numpy as np

from .._pool import as_row_pool, pool_size, row_slice, take_rows
from .._validation import (
    check_batch_size,
    check_bool,
    check_optional_dict,
    check_seed,
    split_seed,
)
from ..adapters import sampled_log_proba
from ..distill import check_refit, eval_subset, predictive_mean
from ..sampling import Power, Selector, Top
from ..scores import bald, entropy
from ._acquisition import check_selector, select_batch
from ._base import PosteriorStrategy
from ._second_model import second_model, training_data
from ._single_point import check_exponent

__all__ = ["EIG", "EvaluationAcquisition", "EvaluationBALD", "PowerEIG", "PowerEvaluationBALD"]

#: The scores that compare M with M′: name -> (score of one model, fewest samples K).
#: ``eig = H_M[p̄] − H_M′[p̄]``; ``evaluation_bald = BALD_M − BALD_M′``.
EVALUATION_SCORES = {"eig": (entropy, 1), "evaluation_bald": (bald, 2)}


def _check_evaluation_score(value: Any, *, name: str) -> None:
    if value not in EVALUATION_SCORES:
        raise ValueError(f"{name} must be one of {sorted(EVALUATION_SCORES)}; got {value!r}.")


class _EvaluationBase(PosteriorStrategy):
    """The machinery of scores that need M′: one pass of M, one distillation, one of M′."""

    _constraints = {"exclude_eval": check_bool, "distill_refit": check_refit,
                    "distill_params": check_optional_dict}
    #: Name of the score (a key of ``EVALUATION_SCORES``); set by the class or the caller.
    score = "evaluation_bald"

    def __init__(self, *, n_samples: int = 20, eval_size: Any = None,
                 exclude_eval: bool = False, distill_refit: str = "warm",
                 distill_params: dict | None = None, chunk_size: int = 8192,
                 random_state: Any = None,
                 progress: bool = False) -> None:
        super().__init__(n_samples=n_samples, chunk_size=chunk_size, random_state=random_state,
                         progress=progress)
        self.eval_size = eval_size
        self.exclude_eval = exclude_eval
        self.distill_refit = distill_refit
        self.distill_params = distill_params

    @property
    def min_samples(self) -> int:
        return EVALUATION_SCORES[self.score][1]

    def _check_params(self) -> None:
        super()._check_params()
        if self.exclude_eval and self.eval_size is None:  # the one rule across parameters
            raise ValueError(
                "exclude_eval=True needs eval_size: with the whole pool as evaluation set no "
                "candidate would be left."
            )

    def _score_part(self, log_probs: np.ndarray) -> np.ndarray:
        """One model's part of the score (M's minus M′'s is the score)."""
        return EVALUATION_SCORES[self.score][0](log_probs)

    # -------------------------------------------------------------- the query
    def score_pool(self, classifier: Any, X_pool: Any, *, seed: int | None = None,
                   X_training: Any = None, y_training: Any = None,
                   **kwargs: Any) -> np.ndarray:
        """Score every pool point (distils M′ on the evaluation set first).

        Parameters
        ----------
        classifier : fitted posterior or modAL ActiveLearner
        X_pool : array-like of shape (N, n_features)
        seed : int, optional
            Drawn from ``random_state`` if omitted.
        X_training, y_training : array-like, optional
            The training data of M (taken from a modAL learner if omitted).

        Returns
        -------
        numpy.ndarray of shape (N,)
        """
        self._check_params()
        seed = check_seed(self.random_state) if seed is None else seed
        _, scores = self._score(classifier, X_pool, X_training, y_training,
                                split_seed(seed, 4), exclude=False)
        return scores

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index,
               X_training=None, y_training=None, **kwargs):
        *seeds, selection_seed = split_seed(seed, 5)
        candidates, scores = self._score(classifier, X_pool, X_training, y_training, seeds,
                                         exclude=bool(self.exclude_eval))
        n_instances = check_batch_size(n_instances, len(candidates))
        picked = self._select(scores, n_instances, seed=selection_seed, round_index=round_index)
        return candidates[picked], scores[picked]

    def _score(self, classifier, X_pool, X_training, y_training, seeds, *, exclude):
        """Scores of the candidates: one pass of M (which also yields the soft targets),
        one distillation, one pass of M′."""
        model_seed, second_seed, distill_seed, eval_seed = seeds
        X_pool = as_row_pool(X_pool)
        training = training_data(classifier, X_training, y_training)
        n_pool = pool_size(X_pool)
        if n_pool < 1:
            raise ValueError("The pool is empty: there is nothing to query.")
        eval_indices = eval_subset(n_pool, self.eval_size, random_state=eval_seed)
        candidates = (np.setdiff1d(np.arange(n_pool), eval_indices) if exclude
                      else np.arange(n_pool))
        needed = np.union1d(candidates, eval_indices)
        part_m, targets = self._first_pass(classifier, X_pool, needed, eval_indices, model_seed)
        self.eval_indices_ = eval_indices
        X_eval = take_rows(X_pool, eval_indices)
        self.distilled_ = self._second_model(classifier, training, X_eval, targets, distill_seed)
        part_m2 = np.empty(len(candidates), dtype=np.float64)
        for start, stop, rows in self._chunks(X_pool, candidates):
            log_probs = sampled_log_proba(
                self.distilled_, rows, n_samples=self.n_samples, random_state=second_seed
            )
            part_m2[start:stop] = self._score_part(log_probs)
        return candidates, part_m[np.searchsorted(needed, candidates)] - part_m2

    def _second_model(self, classifier, training, X_eval, targets, seed):
        return second_model(classifier, training, X_eval, targets, n_samples=self.n_samples,
                            refit=self.distill_refit, clone_params=self.distill_params,
                            random_state=seed)

    def _first_pass(self, classifier, X_pool, needed, eval_indices, seed):
        """M's part of the score on ``needed`` rows and its predictive distribution
        (the soft targets of M′) on the evaluation rows."""
        part = np.empty(len(needed), dtype=np.float64)
        in_eval = np.isin(needed, eval_indices)
        targets = None
        for start, stop, rows in self._chunks(X_pool, needed):
            log_probs = sampled_log_proba(
                classifier, rows, n_samples=self.n_samples, random_state=seed
            )
            self._check_sample_count(classifier, log_probs)
            part[start:stop] = self._score_part(log_probs)
            if targets is None:
                targets = np.empty((len(needed), log_probs.shape[2]), dtype=np.float64)
            chunk_eval = in_eval[start:stop]
            if chunk_eval.any():
                targets[start:stop][chunk_eval] = predictive_mean(log_probs[chunk_eval])
        return part, targets[in_eval]

    def _chunks(self, X_pool, indices) -> Iterator[tuple[int, int, Any]]:
        contiguous = len(indices) == pool_size(X_pool)
        bar = self._progress_bar(len(indices), "pool pass")  # one pass of M or M′
        try:
            for start in range(0, len(indices), self.chunk_size):
                stop = min(start + self.chunk_size, len(indices))
                rows = (row_slice(X_pool, start, stop) if contiguous
                        else take_rows(X_pool, indices[start:stop]))
                yield start, stop, rows
                if bar is not None:
                    bar.update(stop - start)
        finally:
            if bar is not None:
                bar.close()



class EvaluationAcquisition(_EvaluationBase):
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

    _constraints = {"score": _check_evaluation_score, "selector": check_selector}

    def __init__(self, score: str = "evaluation_bald", selector: Selector | None = None, *,
                 n_samples: int = 20, eval_size: Any = None, exclude_eval: bool = False,
                 distill_refit: str = "warm", distill_params: dict | None = None,
                 chunk_size: int = 8192, random_state: Any = None,
                 progress: bool = False) -> None:
        super().__init__(n_samples=n_samples, eval_size=eval_size, exclude_eval=exclude_eval,
                         distill_refit=distill_refit, distill_params=distill_params,
                         chunk_size=chunk_size, random_state=random_state,
                         progress=progress)
        self.score = score
        self.selector = selector

    def get_selector(self) -> Selector:
        """The selector this strategy draws its batch with."""
        return check_selector(self.selector)

    def _select(self, scores, n_instances, *, seed, round_index):
        return select_batch(self, scores, n_instances, seed=seed, round_index=round_index)

    def _score_part(self, log_probs):
        self._n_classes = log_probs.shape[2]
        return super()._score_part(log_probs)


class _NamedEvaluation(EvaluationAcquisition):
    """A fixed composition: the score is the class's, the selector top-B."""

    def __init__(self, *, n_samples: int = 20, eval_size: Any = None,
                 exclude_eval: bool = False, distill_refit: str = "warm",
                 distill_params: dict | None = None, chunk_size: int = 8192,
                 random_state: Any = None,
                 progress: bool = False) -> None:
        _EvaluationBase.__init__(self, n_samples=n_samples, eval_size=eval_size,
                                 exclude_eval=exclude_eval, distill_refit=distill_refit,
                                 distill_params=distill_params, chunk_size=chunk_size,
                                 random_state=random_state, progress=progress)

    def get_selector(self) -> Selector:
        return Top()


class _PowerEvaluation(_NamedEvaluation):
    _constraints = {"alpha": check_exponent}

    def __init__(self, *, alpha: Any = 5.0, n_samples: int = 20, eval_size: Any = None,
                 exclude_eval: bool = False, distill_refit: str = "warm",
                 distill_params: dict | None = None, chunk_size: int = 8192,
                 random_state: Any = None,
                 progress: bool = False) -> None:
        super().__init__(n_samples=n_samples, eval_size=eval_size, exclude_eval=exclude_eval,
                         distill_refit=distill_refit, distill_params=distill_params,
                         chunk_size=chunk_size, random_state=random_state,
                         progress=progress)
        self.alpha = alpha

    def get_selector(self) -> Selector:
        return Power(self.alpha)


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
    n_queries_ : int
        Number of completed queries."""


class EIG(_NamedEvaluation):
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

    score = "eig"


class EvaluationBALD(_NamedEvaluation):
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


class PowerEIG(_PowerEvaluation):
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

    score = "eig"


class PowerEvaluationBALD(_PowerEvaluation):
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
