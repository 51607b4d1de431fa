"""The second model M′ of the EIG-family strategies, for every kind of posterior.

A single estimator (or a modAL ``ActiveLearner``) is distilled with
:func:`skal_power.distill.distill`; a modAL ``Committee`` has each member distilled
on its own training data, and M′ is the :class:`DistilledCommittee` of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..adapters import (
    _is_modal_committee,
    _is_modal_learner,
    members_log_proba,
    posterior_classes,
)
from ..distill import distill
from ._base import split_seed

__all__ = ["DistilledCommittee", "second_model", "training_data"]


def second_model(classifier: Any, training: tuple, X_eval: Any, targets: np.ndarray, *,
                 n_samples: int, clone_params: dict | None, random_state: int,
                 refit: str = "full") -> Any:
    """M′ for ``classifier`` given its training data and M's soft targets on ``X_eval``
    (``refit`` as in :func:`skal_power.distill.distill`)."""
    if _is_modal_committee(classifier):
        return distil_committee(classifier, X_eval, targets, n_samples=n_samples, refit=refit,
                                clone_params=clone_params, random_state=random_state)
    estimator, X_training, y_training = training
    return distill(estimator, X_training, y_training, X_eval, targets=targets,
                   n_samples=n_samples, refit=refit, clone_params=clone_params,
                   random_state=random_state)


def distil_committee(committee: Any, X_eval: Any, targets: np.ndarray, *, n_samples: int,
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
