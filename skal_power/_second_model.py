"""The second model M′ of the EIG family: the steps of a query, in one place.

EIG, EvaluationBALD, their power and batch forms, and their Dask path all run
the same steps, with the seeds of :func:`skal_power._seeds.query_seeds`'s
``"second_model"`` layout:

1. :func:`evaluation_rows`: the evaluation set (the pool, or a seeded subset
   of ``eval_size`` rows) and the batch candidates;
2. :func:`first_pass`: one pass of M over the rows, giving M's part of the
   score and M's predictive distribution on the evaluation rows (the soft
   targets of M′);
3. :func:`fit_second_model`: M′, distilled on ``D_train ∪ D_eval``;
4. :func:`second_pass`: one pass of M′ over the candidates.

:func:`evaluation_scores` runs the four in memory. A single estimator (or a
modAL ``ActiveLearner``) is distilled with :func:`skal_power.distill.distill`; a
modAL ``Committee`` has each member distilled on its own training data, and M′
is the :class:`DistilledCommittee` of them.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ._bounded_batch import BoundedBatch, bounded_batch
from ._passes import progress_bar, sampled_pass
from ._timings import StepTimer
from ._pool import pool_size, take_rows
from ._seeds import QuerySeeds
from ._validation import split_seed
from .adapters import (
    _is_modal_committee,
    _is_modal_learner,
    members_log_proba,
    posterior_classes,
)
from .distill import distill, eval_subset, predictive_mean

__all__ = ["DistilledCommittee", "EvaluationRows", "SecondModelScores", "evaluation_rows",
           "evaluation_scores", "first_pass", "fit_second_model", "second_pass",
           "training_data"]


class EvaluationRows(NamedTuple):
    """The evaluation rows of a query and the candidates of its batch (pool positions)."""

    eval_indices: np.ndarray
    candidates: np.ndarray


def evaluation_rows(n_pool: int, eval_size: Any, *, exclude: bool, seed: int) -> EvaluationRows:
    """The evaluation set (all rows, or a seeded subset) and the batch candidates.

    Examples
    --------
    >>> rows = evaluation_rows(6, 2, exclude=True, seed=0)
    >>> len(rows.eval_indices), len(rows.candidates)
    (2, 4)
    """
    if n_pool < 1:
        raise ValueError("The pool is empty: there is nothing to query.")
    eval_indices = eval_subset(n_pool, eval_size, random_state=seed)
    candidates = (np.setdiff1d(np.arange(n_pool), eval_indices) if exclude
                  else np.arange(n_pool))
    return EvaluationRows(eval_indices, candidates)


def first_pass(classifier: Any, X_pool: Any, rows: np.ndarray, eval_indices: np.ndarray, *,
               score_part: Callable[[np.ndarray], np.ndarray], n_samples: int,
               chunk_size: int, seed: int, progress: str | None = None, min_samples: int = 1,
               owner: str = "the strategy") -> tuple[np.ndarray, np.ndarray | None]:
    """M's part of the score on ``rows`` and M's predictive distribution (the soft targets
    of M′) on those of them that are in ``eval_indices`` (``None`` if none are)."""
    part = np.empty(len(rows), dtype=np.float64)
    in_eval = np.isin(rows, eval_indices)
    targets = None
    for start, stop, log_probs in sampled_pass(
            classifier, X_pool, rows, n_samples=n_samples, chunk_size=chunk_size, seed=seed,
            progress=progress, min_samples=min_samples, owner=owner):
        part[start:stop] = score_part(log_probs)
        if targets is None:
            targets = np.empty((len(rows), log_probs.shape[2]), dtype=np.float64)
        chunk_eval = in_eval[start:stop]
        if chunk_eval.any():
            targets[start:stop][chunk_eval] = predictive_mean(log_probs[chunk_eval])
    return part, (None if targets is None else targets[in_eval])


def second_pass(distilled: Any, X_pool: Any, rows: np.ndarray, *,
                score_part: Callable[[np.ndarray], np.ndarray], n_samples: int,
                chunk_size: int, seed: int, bar: Any = None) -> np.ndarray:
    """M′'s part of the score on ``rows``, advancing ``bar`` (if given) by each chunk."""
    part = np.empty(len(rows), dtype=np.float64)
    for start, stop, log_probs in sampled_pass(distilled, X_pool, rows, n_samples=n_samples,
                                               chunk_size=chunk_size, seed=seed):
        part[start:stop] = score_part(log_probs)
        if bar is not None:
            bar.update(stop - start)
    return part


class SecondModelScores(NamedTuple):
    """What :func:`evaluation_scores` found: the candidates, their scores (M's part minus
    M′'s; NaN where M′ did not score a candidate), the evaluation rows, M′, the seconds
    each step took, the batch's positions among the candidates where the bounds decided
    it (else None) and the number of candidates M′ scored."""

    candidates: np.ndarray
    scores: np.ndarray
    eval_indices: np.ndarray
    distilled: Any
    timings: dict
    picked: np.ndarray | None = None
    n_scored: int = 0


#: The steps a query's ``timings_`` names (the greedy batch forms add ``"greedy"``).
FIRST_PASS, FIT, SECOND_PASS = "first pass (M)", "fit M′", "second pass (M′)"


def evaluation_scores(classifier: Any, X_pool: Any, training: tuple, *,
                      score_part: Callable[[np.ndarray], np.ndarray], seeds: QuerySeeds,
                      eval_size: Any, exclude: bool, n_samples: int, chunk_size: int,
                      refit: str, params: dict | None, progress: str | None = None,
                      min_samples: int = 1, owner: str = "the strategy",
                      batch: BoundedBatch | None = None) -> SecondModelScores:
    """The four steps in memory: one pass of M, one distillation, one pass of M′.

    With ``batch`` (a selector with monotone keys, for scores whose parts are never
    negative), M′ scores only the candidates that can join the batch
    (:func:`skal_power._bounded_batch.bounded_batch`), and the result carries it.
    """
    timer = StepTimer()
    rows = evaluation_rows(pool_size(X_pool), eval_size, exclude=exclude,
                           seed=seeds.eval_subset)
    needed = np.union1d(rows.candidates, rows.eval_indices)
    part_m, targets = first_pass(classifier, X_pool, needed, rows.eval_indices,
                                 score_part=score_part, n_samples=n_samples,
                                 chunk_size=chunk_size, seed=seeds.model, progress=progress,
                                 min_samples=min_samples, owner=owner)
    timer(FIRST_PASS)
    distilled = fit_second_model(classifier, training, take_rows(X_pool, rows.eval_indices),
                                 targets, n_samples=n_samples, refit=refit, params=params,
                                 seed=seeds.distill)
    timer(FIT)
    part_m = part_m[np.searchsorted(needed, rows.candidates)]
    n_scored = 0
    # one bar over the candidates: rows M′ scores, then those its bounds settled
    bar = progress_bar(progress, len(rows.candidates))

    def score_rows(positions: np.ndarray) -> np.ndarray:
        nonlocal n_scored
        part_m2 = second_pass(distilled, X_pool, rows.candidates[positions],
                              score_part=score_part, n_samples=n_samples,
                              chunk_size=chunk_size, seed=seeds.second_model, bar=bar)
        n_scored += len(positions)
        return part_m[positions] - part_m2

    try:
        if batch is None:
            scores, picked = score_rows(np.arange(len(rows.candidates))), None
        else:
            scores, picked = bounded_batch(batch, part_m, score_rows)
        if bar is not None:
            bar.update(len(rows.candidates) - n_scored)
    finally:
        if bar is not None:
            bar.close()
    timer(SECOND_PASS)
    return SecondModelScores(rows.candidates, scores, rows.eval_indices, distilled,
                             timer.seconds, picked, n_scored)


def fit_second_model(classifier: Any, training: tuple, X_eval: Any, targets: np.ndarray, *,
                     n_samples: int, params: dict | None, seed: int,
                     refit: str = "full") -> Any:
    """M′ for ``classifier`` given its training data and M's soft targets on ``X_eval``
    (``refit`` as in :func:`skal_power.distill.distill`; ``params`` set on M′ first)."""
    clone_params, random_state = params, seed
    if _is_modal_committee(classifier):
        return distill_committee(classifier, X_eval, targets, n_samples=n_samples, refit=refit,
                                clone_params=clone_params, random_state=random_state)
    estimator, X_training, y_training = training
    return distill(estimator, X_training, y_training, X_eval, targets=targets,
                   n_samples=n_samples, refit=refit, clone_params=clone_params,
                   random_state=random_state)


def distill_committee(committee: Any, X_eval: Any, targets: np.ndarray, *, n_samples: int,
                     clone_params: dict | None, random_state: int,
                     refit: str = "full") -> "DistilledCommittee":
    """Every member distilled on its own training data plus the evaluation set, with the
    committee's predictive distribution restricted to the member's classes."""
    classes = np.asarray(committee.classes_)
    lookup = {label: column for column, label in enumerate(classes.tolist())}
    members = []
    for learner, member_seed in zip(committee.learner_list,
                                    split_seed(random_state, len(committee.learner_list))):
        estimator, X_training, y_training = training_data(learner, None, None)
        columns = [lookup[label] for label in posterior_classes(estimator).tolist()]
        member_targets = targets[:, columns]
        mass = member_targets.sum(axis=1, keepdims=True)
        member_targets = np.where(mass > 0, member_targets / np.where(mass > 0, mass, 1),
                                  1.0 / len(columns))
        members.append(distill(
            estimator, X_training, y_training, X_eval, targets=member_targets,
            n_samples=n_samples, refit=refit, clone_params=clone_params,
            random_state=member_seed,
        ))
    return DistilledCommittee(members, classes).fit()


class DistilledCommittee(ClassifierMixin, BaseEstimator):
    """M′ of a modAL ``Committee``: its distilled members, one posterior sample each.

    Parameters
    ----------
    estimators : list of fitted classifiers
    classes : array-like
        The committee's classes; members are aligned on them by label.
    """

    def __init__(self, estimators: list | None = None, classes: Any = None) -> None:
        self.estimators = estimators
        self.classes = classes

    def fit(self, X: Any = None, y: Any = None) -> "DistilledCommittee":
        """Store the (already fitted) members."""
        self.estimators_ = list(self.estimators)
        self.classes_ = np.asarray(self.classes)
        return self

    def predict_log_proba_samples(self, X: Any, n_samples: int | None = None) -> np.ndarray:
        """One sample per member, shape ``(N, n_members, C)``; ``n_samples`` is ignored."""
        return members_log_proba(
            self.estimators_, [posterior_classes(member) for member in self.estimators_],
            self.classes_, X, np.float64,
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        """The members' mean probabilities, shape ``(N, C)``."""
        return np.exp(self.predict_log_proba_samples(X)).mean(axis=1)


def training_data(classifier: Any, X_training: Any, y_training: Any):
    """``(estimator, X_training, y_training)`` of M; ``(None, None, None)`` for a Committee."""
    if _is_modal_committee(classifier):
        if X_training is not None or y_training is not None:
            raise ValueError(
                "X_training/y_training cannot be passed for a modAL Committee: every member "
                "is distilled on its own training data."
            )
        return None, None, None
    estimator = classifier
    if _is_modal_learner(classifier):
        estimator = classifier.estimator
        if X_training is None and y_training is None:
            X_training = getattr(classifier, "X_training", None)
            y_training = getattr(classifier, "y_training", None)
    if X_training is None or y_training is None:
        raise ValueError(
            "EIG-family strategies need the training data of the model to build M′: pass "
            "X_training=... and y_training=... to the call (a modAL ActiveLearner fitted on "
            "data provides them)."
        )
    return estimator, X_training, np.asarray(y_training)
