"""Turn any estimator that can give sampled predictions into ``(N, K, C)`` log-probs.

:func:`sampled_log_proba` is the package's single dispatch point. It knows:

==========================================  ==========================================
estimator                                   K posterior samples are ...
==========================================  ==========================================
object with ``predict_log_proba_samples``   what the method returns (e.g. MC dropout)
object with ``predict_proba_samples``       what the method returns, logged
modAL ``ActiveLearner``                     those of its ``.estimator``
modAL ``Committee``                         its members (one sample each)
sklearn ``Pipeline``                        those of its final step, on transformed X
random forest, extra trees, bagging,        its members, aligned on ``classes_``
soft-voting classifier
anything else with ``predict_proba``        the single point estimate (K = 1)
regressor (sklearn, modAL)                  -- a ``TypeError``: classifiers only
==========================================  ==========================================

Only the ensembles listed above count as posteriors: their members are fitted
independently (bootstrap, random splits, separate models), so they are samples
of one posterior. Boosting members are stages of one model, one-vs-rest
members are binary problems and stacking members feed a meta-model: those
estimators have K = 1 through their own ``predict_proba``, so entropy scores
work and BALD-type scores raise the usual "needs K >= 2" error. Declare
another ensemble class whose ``estimators_`` are posterior samples with
:func:`register_ensemble`.

Register your own type with ``sampled_log_proba.register``:

>>> import numpy as np
>>> from skal_power.adapters import sampled_log_proba
>>> class TwoCoins:
...     classes_ = np.array([0, 1])
>>> @sampled_log_proba.register
... def _(estimator: TwoCoins, X, *, n_samples=20, random_state=None, dtype=np.float32):
...     return np.log(np.full((len(X), 2, 2), 0.5, dtype=dtype))
>>> sampled_log_proba(TwoCoins(), np.zeros((3, 1))).shape
(3, 2, 2)
"""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, is_regressor
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._compat import validate_data
from ._validation import as_numpy, check_positive_int

__all__ = ["sampled_log_proba", "n_classes_of", "posterior_classes", "register_ensemble"]

#: Ensemble classes whose ``estimators_`` are posterior samples, and whether the
#: members were fitted on label-encoded targets (column j = ``classes_[j]``).
_POSTERIOR_ENSEMBLES: dict[type, bool] = {
    RandomForestClassifier: True,
    ExtraTreesClassifier: True,
    BaggingClassifier: True,
    VotingClassifier: True,  # soft voting only: hard voting has no predict_proba
}


def register_ensemble(cls: type, *, label_encoded: bool = True) -> type:
    """Declare that the fitted ``estimators_`` of ``cls`` are posterior samples.

    Parameters
    ----------
    cls : type
        An ensemble classifier with ``classes_`` and ``estimators_`` whose
        members have ``predict_proba``. Subclasses are included.
    label_encoded : bool, default=True
        Whether the members were fitted on the indices of ``classes_`` (as
        sklearn's forests and bagging do) rather than on the labels themselves.

    Returns
    -------
    type
        ``cls``, so this works as a class decorator.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import BaggingClassifier
    >>> from skal_power.adapters import register_ensemble, sampled_log_proba
    >>> @register_ensemble
    ... class MyBagging(BaggingClassifier):
    ...     pass
    >>> X, y = np.random.default_rng(0).normal(size=(40, 2)), np.arange(40) % 2
    >>> sampled_log_proba(MyBagging(n_estimators=3, random_state=0).fit(X, y), X[:4]).shape
    (4, 3, 2)
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_ensemble takes a class; got {cls!r}.")
    _POSTERIOR_ENSEMBLES[cls] = bool(label_encoded)
    return cls


def _ensemble_encoding(estimator: Any) -> bool | None:
    """Whether the members are label-encoded, or None if ``estimator`` is no posterior ensemble."""
    for cls in type(estimator).__mro__:
        if cls in _POSTERIOR_ENSEMBLES:
            return _POSTERIOR_ENSEMBLES[cls]
    return None


def _is_modal_committee(estimator: Any) -> bool:
    return hasattr(estimator, "learner_list") and hasattr(estimator, "query_strategy")


def _is_modal_learner(estimator: Any) -> bool:
    return (
        hasattr(estimator, "estimator")
        and hasattr(estimator, "query_strategy")
        and hasattr(estimator, "teach")
    )


def _is_ensemble(estimator: Any) -> bool:
    if _ensemble_encoding(estimator) is None:
        return False
    if isinstance(estimator, VotingClassifier) and estimator.voting != "soft":
        return False
    members = getattr(estimator, "estimators_", None)
    if members is None or not hasattr(estimator, "classes_"):
        return False
    members = list(np.ravel(np.asarray(members, dtype=object)))
    return len(members) > 0 and all(hasattr(m, "predict_proba") for m in members)


def _is_regressor(estimator: Any) -> bool:
    """sklearn regressors (tags) and modAL's CommitteeRegressor (no ``classes_``)."""
    if _is_modal_committee(estimator):
        return not hasattr(estimator, "classes_")
    if not isinstance(estimator, BaseEstimator):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tag deprecations of third-party estimators
        return bool(is_regressor(estimator))


def _check_classifier(estimator: Any) -> None:
    if _is_regressor(estimator):
        raise TypeError(
            f"{type(estimator).__name__} is a regressor; skal_power scores classifiers only: "
            "every acquisition function here is an entropy or mutual information of class "
            "probabilities. For regression with modAL use its max_std_sampling or a "
            "committee's max_std_sampling."
        )
    _check_single_output(estimator)


def _is_multi_output(estimator: Any) -> bool:
    """Fitted on a 2-D target: multilabel or multi-output (one ``classes_`` per output)."""
    if getattr(estimator, "n_outputs_", 1) > 1:
        return True
    classes = getattr(estimator, "classes_", None)
    if isinstance(classes, list) and classes and not np.isscalar(classes[0]):
        return True
    binarizer = getattr(estimator, "_label_binarizer", None)  # MLPClassifier
    return getattr(binarizer, "y_type_", None) == "multilabel-indicator"


def _check_single_output(estimator: Any) -> None:
    if _is_multi_output(estimator):
        raise _multi_output_error(estimator)


def _multi_output_error(estimator: Any) -> TypeError:
    return TypeError(
        f"{type(estimator).__name__} was fitted on several outputs (multilabel or "
        "multi-output targets); skal_power does not support those: every score here is an "
        "entropy or mutual information of one categorical label per point. Query one "
        "output at a time (a classifier fitted on that column), or encode the label "
        "combinations as one class each."
    )


def _weighted_voting(estimator: Any) -> bool:
    """A soft VotingClassifier whose members carry unequal weights."""
    if not isinstance(estimator, VotingClassifier) or estimator.voting != "soft":
        return False
    weights = getattr(estimator, "_weights_not_none", None)
    return weights is not None and len(set(np.asarray(weights, dtype=float).tolist())) > 1


#: Ensembles whose members are stages or parts of one model, not posterior samples.
_BOOSTING_NAMES = ("Boost", "GBM", "GradientBoosting")


def _final_estimator(estimator: Any) -> Any:
    """The model behind a modAL learner or a Pipeline."""
    while True:
        if isinstance(estimator, Pipeline):
            estimator = estimator[-1]
        elif _is_modal_learner(estimator):
            estimator = estimator.estimator
        else:
            return estimator


def too_few_samples(estimator: Any, n_samples: int, needed: int, what: str) -> str:
    """Why ``estimator`` gives only ``n_samples`` posterior samples and what to use instead.

    Examples
    --------
    >>> from sklearn.ensemble import GradientBoostingClassifier
    >>> message = too_few_samples(GradientBoostingClassifier(), 1, 2, "BALD")
    >>> "not posterior samples" in message, "BaggingClassifier(" in message
    (True, True)
    """
    model = _final_estimator(estimator)
    name = type(model).__name__
    head = (f"{what} needs at least {needed} posterior samples per point, but {name} gives "
            f"K = {n_samples}")
    if any(part in name for part in _BOOSTING_NAMES):
        return (f"{head}: the stages of a boosting model are successive corrections of one "
                "model, fitted on each other's errors, not posterior samples, so it counts as "
                "a single model. Bag it instead (BaggingClassifier(" + name + "(...), "
                "n_estimators=10) gives 10 independently fitted samples), or use a random "
                "forest, a modAL Committee or an MC-dropout network "
                "(skal_power.models.MCDropoutClassifier).")
    return (f"{head}: a single predict_proba is one model, and BALD-family scores measure "
            "disagreement between posterior samples. Use an ensemble (a random forest, "
            f"BaggingClassifier({name}(...))), a modAL Committee or an MC-dropout network "
            "(skal_power.models.MCDropoutClassifier).")


def _log(probs: np.ndarray, dtype) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(probs, dtype=np.float64)).astype(dtype, copy=False)


def _call_with_optional_seed(method, X, n_samples, random_state):
    parameters = inspect.signature(method).parameters
    if "random_state" in parameters:
        return method(X, n_samples, random_state=random_state)
    return method(X, n_samples)


@functools.singledispatch
def sampled_log_proba(
    estimator: Any,
    X: Any,
    *,
    n_samples: int = 20,
    random_state: Any = None,
    dtype: Any = np.float32,
) -> np.ndarray:
    """Sampled log-probabilities ``log p(y=c | x_n, ω_k)`` of a fitted estimator.

    Parameters
    ----------
    estimator : object
        A fitted posterior: see the module docstring for what is understood.
    X : array-like of shape (N, n_features)
        Pool points, in whatever form the estimator accepts.
    n_samples : int, default=20
        Number K of posterior samples for stochastic models (MC dropout).
        Ensembles and committees always give one sample per member.
    random_state : None, int, RandomState or Generator
        Passed to ``predict_*_samples`` methods that accept it, so the K
        models are the same for every chunk of the pool.
    dtype : numpy dtype, default=float32
        Storage type of the result.

    Returns
    -------
    numpy.ndarray of shape (N, K, C)
        Columns follow ``estimator.classes_``. Probabilities of exactly 0
        become ``-inf``.

    Raises
    ------
    TypeError
        If the estimator gives no probabilities.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power.adapters import sampled_log_proba
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=7, random_state=0).fit(X, y)
    >>> sampled_log_proba(forest, X[:5]).shape
    (5, 7, 3)
    """
    n_samples = check_positive_int(n_samples, name="n_samples")
    _check_classifier(estimator)
    if hasattr(estimator, "predict_log_proba_samples"):
        result = _call_with_optional_seed(
            estimator.predict_log_proba_samples, X, n_samples, random_state
        )
        return _check_samples(as_numpy(result).astype(dtype, copy=False), estimator)
    if hasattr(estimator, "predict_proba_samples"):
        result = _call_with_optional_seed(
            estimator.predict_proba_samples, X, n_samples, random_state
        )
        return _check_samples(_log(as_numpy(result), dtype), estimator)
    if _is_modal_committee(estimator):
        return _committee_log_proba(estimator, X, dtype)
    if _is_modal_learner(estimator):
        return sampled_log_proba(
            estimator.estimator, X, n_samples=n_samples, random_state=random_state, dtype=dtype
        )
    if _weighted_voting(estimator):
        raise ValueError(
            f"This soft VotingClassifier weights its members ({estimator.weights}); skal_power "
            "treats an ensemble's members as equally likely posterior samples (every score "
            "averages over K samples with weight 1/K), so unequal weights would be ignored and "
            "the sampled mean would differ from the model's own predict_proba. Use "
            "weights=None, or, for integer weights, list each member as many times as its "
            "weight (equal weights of repeated members are the same mixture)."
        )
    if _is_ensemble(estimator):
        return _ensemble_log_proba(estimator, X, dtype)
    if hasattr(estimator, "predict_proba"):
        probs = estimator.predict_proba(X)
        if isinstance(probs, (list, tuple)):  # one array per output: multi-output
            raise _multi_output_error(estimator)
        probs = as_numpy(probs)
        return _log(probs, dtype)[:, None, :]
    raise TypeError(
        f"{type(estimator).__name__} gives no probabilities: skal_power needs predict_proba, "
        "predict_proba_samples(X, n_samples) or predict_log_proba_samples(X, n_samples). "
        "Register other types with skal_power.adapters.sampled_log_proba.register."
    )


@sampled_log_proba.register(Pipeline)
def _pipeline_log_proba(estimator: Pipeline, X: Any, *, n_samples: int = 20,
                        random_state: Any = None, dtype: Any = np.float32) -> np.ndarray:
    transformed = estimator[:-1].transform(X) if len(estimator) > 1 else X
    return sampled_log_proba(
        estimator[-1], transformed, n_samples=n_samples, random_state=random_state, dtype=dtype
    )


def _check_samples(log_probs: np.ndarray, estimator: Any) -> np.ndarray:
    if log_probs.ndim != 3:
        raise ValueError(
            f"{type(estimator).__name__}.predict_*_samples must return shape (N, K, C); "
            f"got {log_probs.shape}."
        )
    return log_probs


def posterior_classes(estimator: Any) -> np.ndarray:
    """Class labels in the column order of :func:`sampled_log_proba`.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> posterior_classes(LogisticRegression().fit([[0], [1]], ["a", "b"])).tolist()
    ['a', 'b']
    """
    _check_classifier(estimator)
    if _is_modal_learner(estimator) and not hasattr(estimator, "classes_"):
        return posterior_classes(estimator.estimator)
    if isinstance(estimator, Pipeline):
        return posterior_classes(estimator[-1])
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        raise TypeError(f"{type(estimator).__name__} has no classes_ attribute.")
    return np.asarray(classes)


def n_classes_of(classifier: Any, X_probe: Any = None) -> int:
    """Number of classes C of a posterior: the columns of :func:`sampled_log_proba`.

    Read from the posterior's classes; a posterior without ``classes_`` is
    asked for the predictions of ``X_probe`` (a row or two of the pool).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> n_classes_of(LogisticRegression().fit([[0], [1], [2]], ["a", "b", "c"]))
    3
    """
    try:
        return len(posterior_classes(classifier))
    except TypeError:
        if X_probe is None:
            raise ValueError(
                f"The number of classes of {type(classifier).__name__} is unknown (it has no "
                "classes_); pass the selector's factor= explicitly.") from None
        return int(sampled_log_proba(classifier, X_probe, n_samples=1,
                                     random_state=0).shape[2])


def _member_columns(member_classes: np.ndarray, classes: np.ndarray, encoded: bool) -> np.ndarray:
    member_classes = np.asarray(member_classes)
    if encoded:
        columns = member_classes.astype(np.int64)
        if np.any(columns != member_classes) or columns.min() < 0 or columns.max() >= len(classes):
            raise ValueError(
                f"Ensemble member classes {member_classes.tolist()} are not indices into the "
                f"ensemble's {len(classes)} classes."
            )
        return columns
    lookup = {label: column for column, label in enumerate(classes.tolist())}
    missing = [label for label in member_classes.tolist() if label not in lookup]
    if missing:
        raise ValueError(
            f"Ensemble member predicts classes {missing} unknown to the ensemble "
            f"(classes_ = {classes.tolist()})."
        )
    return np.array([lookup[label] for label in member_classes.tolist()], dtype=np.int64)


def _aligned_log_probs(member_probs, columns_list, n_points, n_classes, dtype):
    out = np.full((n_points, len(member_probs), n_classes), -np.inf, dtype=dtype)
    for k, (probs, columns) in enumerate(zip(member_probs, columns_list)):
        out[:, k, columns] = _log(probs, dtype)
    return out


def _member_input(estimator: Any, X: Any) -> Any:
    """What the ensemble's own ``predict_proba`` passes to its members.

    Forests and bagging validate X once (feature names checked against the
    ensemble's, then an array) and hand the array to members fitted without
    feature names; soft voting passes X through to members fitted on it.
    """
    if isinstance(estimator, VotingClassifier):
        return X
    return validate_data(estimator, X, reset=False, accept_sparse="csr",
                         ensure_all_finite=False)


def _ensemble_log_proba(estimator: Any, X: Any, dtype) -> np.ndarray:
    check_is_fitted(estimator)
    classes = np.asarray(estimator.classes_)
    members = list(np.ravel(np.asarray(estimator.estimators_, dtype=object)))
    encoded = _ensemble_encoding(estimator)
    features = getattr(estimator, "estimators_features_", None)
    X = _member_input(estimator, X)
    member_probs, columns_list = [], []
    for k, member in enumerate(members):
        member_X = X[:, features[k]] if features is not None else X
        member_probs.append(as_numpy(member.predict_proba(member_X)))
        columns_list.append(_member_columns(member.classes_, classes, encoded))
    n_points = member_probs[0].shape[0]
    return _aligned_log_probs(member_probs, columns_list, n_points, len(classes), dtype)


def _committee_log_proba(committee: Any, X: Any, dtype) -> np.ndarray:
    classes = getattr(committee, "classes_", None)
    if classes is None:
        raise ValueError("The modAL Committee has no fitted members (classes_ is None).")
    return members_log_proba(
        committee.learner_list, [learner.estimator.classes_ for learner in committee.learner_list],
        np.asarray(classes), X, dtype,
    )


def members_log_proba(members: list, member_classes: list, classes: np.ndarray, X: Any,
                      dtype: Any = np.float32) -> np.ndarray:
    """One sample per member, ``(N, len(members), C)``, aligned on ``classes`` by label."""
    member_probs = [as_numpy(member.predict_proba(X)) for member in members]
    columns_list = [_member_columns(labels, classes, encoded=False) for labels in member_classes]
    return _aligned_log_probs(member_probs, columns_list, member_probs[0].shape[0],
                              len(classes), dtype)
