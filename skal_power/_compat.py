"""Differences between the supported scikit-learn versions, in one place.

skal_power supports ``scikit-learn>=1.3`` (pyproject.toml). Each shim here
names the version that made it necessary and the minimum version at which it
can be deleted, so raising the minimum means deleting code here and nowhere
else.
"""

from __future__ import annotations

from typing import Any

from sklearn.utils import check_array

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sklearn_validate_data
except ImportError:  # scikit-learn < 1.6
    _sklearn_validate_data = None

__all__ = ["validate_data"]


def validate_data(estimator: Any, X: Any, *, reset: bool, **check_params: Any) -> Any:
    """``sklearn.utils.validation.validate_data`` on every supported scikit-learn.

    Checks ``X`` as ``check_array(X, **check_params)`` does and checks (or,
    with ``reset=True``, records) the estimator's ``n_features_in_`` (and
    ``feature_names_in_``), as scikit-learn's own estimators do in
    ``fit``/``predict``.

    Why a shim: scikit-learn 1.6 replaced the method
    ``BaseEstimator._validate_data(X, ...)`` by this function and renamed
    ``force_all_finite`` to ``ensure_all_finite``; 1.7 removed the method and
    1.8 the old argument name. On scikit-learn < 1.6 this calls the method
    with the old argument name, or, for an estimator that is no
    ``BaseEstimator`` (skorch < 1.1 nets), ``check_array`` and a check of
    ``n_features_in_``. Delete it, and call scikit-learn's function directly,
    once the minimum is ``scikit-learn>=1.6``.

    Parameters
    ----------
    estimator : estimator instance
        The estimator whose ``n_features_in_`` is checked or set.
    X : array-like
        The input to check.
    reset : bool
        ``True`` in ``fit`` (record ``n_features_in_``), ``False`` after it
        (check ``X`` against it).
    **check_params
        Passed to ``check_array`` (scikit-learn >= 1.6 names:
        ``ensure_all_finite``, not ``force_all_finite``).

    Returns
    -------
    X : array or sparse matrix
        The checked input.

    Raises
    ------
    ValueError
        If ``X`` fails ``check_array`` or has another number of features than
        the estimator was fitted on.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> model = LogisticRegression()
    >>> validate_data(model, [[0, 1], [2, 3]], reset=True, dtype=np.float32).dtype
    dtype('float32')
    >>> model.n_features_in_
    2
    >>> validate_data(model, [[0, 1, 2]], reset=False)
    Traceback (most recent call last):
    ...
    ValueError: X has 3 features, but LogisticRegression is expecting 2 features as input.
    """
    if _sklearn_validate_data is not None:
        return _sklearn_validate_data(estimator, X, reset=reset, **check_params)
    return _validate_data_before_1_6(estimator, X, reset=reset, **check_params)


def _validate_data_before_1_6(estimator: Any, X: Any, *, reset: bool,
                              **check_params: Any) -> Any:
    """:func:`validate_data` for scikit-learn < 1.6 (see there)."""
    if "ensure_all_finite" in check_params:
        check_params["force_all_finite"] = check_params.pop("ensure_all_finite")
    method = getattr(estimator, "_validate_data", None)
    if method is not None:
        return method(X, reset=reset, **check_params)
    X = check_array(X, **check_params)
    if reset:
        estimator.n_features_in_ = X.shape[1]
    elif X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    return X
