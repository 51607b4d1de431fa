"""A common check suite for query strategies, in the spirit of sklearn's estimator checks.

:func:`check_query_strategy` runs every generic property a strategy must have
against a fitted classifier and a pool. :func:`yield_checks` enumerates the
checks of a strategy or a selector (scikit-learn's fit-free checks included)
and :func:`parametrize_with_checks` makes them one pytest test per
(estimator, check). Third-party strategies can use both in their own test suites.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Iterable, Iterator

import numpy as np
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from ._param_validation import generate_invalid_values, make_constraint
from .sampling import AcquisitionWarning, Selector

__all__ = ["check_query_strategy", "check_selector_rejects_invalid_parameters",
           "parametrize_with_checks", "yield_checks", "SKLEARN_CHECKS", "STRATEGY_CHECKS"]


def _call(strategy, classifier, X_pool, n_instances, query_kwargs):
    # The checks ask for batches as large as the pool; a power rule then runs out of
    # points with positive weight and says so with an AcquisitionWarning. That is the
    # documented behaviour (tested on its own in tests/test_sampling.py), not a failure.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AcquisitionWarning)
        return strategy(classifier, X_pool, n_instances=n_instances, **query_kwargs)


def check_returns_valid_batch(strategy, classifier, X_pool, query_kwargs):
    """Two arrays of length n_instances; indices unique, integral and inside the pool."""
    n_pool = len(X_pool)
    for n_instances in sorted({1, min(3, n_pool), n_pool}):
        result = _call(clone(strategy), classifier, X_pool, n_instances, query_kwargs)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AssertionError(f"{strategy!r} must return a 2-tuple (indices, scores).")
        indices, scores = result
        if indices.shape != (n_instances,) or scores.shape != (n_instances,):
            raise AssertionError(
                f"{strategy!r} returned shapes {indices.shape}, {scores.shape} for "
                f"n_instances={n_instances}."
            )
        if indices.dtype.kind not in "iu":
            raise AssertionError(f"{strategy!r} returned non-integer indices ({indices.dtype}).")
        if len(set(indices.tolist())) != n_instances:
            raise AssertionError(f"{strategy!r} returned duplicate indices {indices.tolist()}.")
        if indices.min() < 0 or indices.max() >= n_pool:
            raise AssertionError(f"{strategy!r} returned indices outside the pool.")
        if not np.all(np.isfinite(scores)):
            raise AssertionError(f"{strategy!r} returned non-finite scores {scores}.")


def check_deterministic_under_seed(strategy, classifier, X_pool, query_kwargs):
    """The same integer random_state gives the same batch, call after call."""
    seeded = clone(strategy)
    if "random_state" in seeded.get_params():
        seeded.set_params(random_state=0)
    n_instances = min(4, len(X_pool))
    first = _call(seeded, classifier, X_pool, n_instances, query_kwargs)
    second = _call(clone(seeded), classifier, X_pool, n_instances, query_kwargs)
    if not (np.array_equal(first[0], second[0]) and np.allclose(first[1], second[1])):
        raise AssertionError(f"{strategy!r} is not reproducible under random_state=0.")


def check_does_not_modify_pool(strategy, classifier, X_pool, query_kwargs):
    """The caller's pool is left untouched."""
    before = np.array(X_pool, copy=True)
    _call(clone(strategy), classifier, X_pool, min(2, len(X_pool)), query_kwargs)
    if not np.array_equal(before, np.asarray(X_pool), equal_nan=True):
        raise AssertionError(f"{strategy!r} modified X_pool.")


def check_rejects_bad_n_instances(strategy, classifier, X_pool, query_kwargs):
    """n_instances < 1, > pool size or not an integer is a clear error."""
    for bad, error in ((0, ValueError), (len(X_pool) + 1, ValueError), (1.5, TypeError)):
        try:
            _call(clone(strategy), classifier, X_pool, bad, query_kwargs)
        except error as raised:
            if "n_instances" not in str(raised):
                raise AssertionError(f"Error for n_instances={bad!r} does not name it: {raised}")
        else:
            raise AssertionError(f"{strategy!r} accepted n_instances={bad!r}.")


def check_rejects_empty_pool(strategy, classifier, X_pool, query_kwargs):
    """An empty pool is a ValueError, not an empty batch."""
    empty = np.asarray(X_pool)[:0]
    try:
        _call(clone(strategy), classifier, empty, 1, query_kwargs)
    except ValueError:
        return
    raise AssertionError(f"{strategy!r} accepted an empty pool.")


def check_clone_and_params(strategy, classifier, X_pool, query_kwargs):
    """get_params/set_params round-trip and clone keeps parameters."""
    params = strategy.get_params()
    copy = clone(strategy)
    if copy.get_params().keys() != params.keys():
        raise AssertionError(f"clone({strategy!r}) lost parameters.")
    copy.set_params(**params)


def _invalid_values(owner: str, name: str, constraints: dict[str, list]) -> list:
    """The generated invalid values of one parameter; an AssertionError if there are none."""
    if name not in constraints:
        raise AssertionError(f"{owner} parameter {name!r} has no constraint: every parameter "
                             "must be checked.")
    invalid = generate_invalid_values(constraints[name])
    if not invalid and not any(make_constraint(c).accepts_anything
                               for c in constraints[name]):
        raise AssertionError(f"No invalid value could be generated for {owner} parameter "
                             f"{name!r} ({constraints[name]!r}); say Anything() if it "
                             "accepts every value.")
    return invalid


def _check_error_names(raised: Exception, owner: str, name: str, bad: Any) -> None:
    for word in (name, owner):
        if word not in str(raised):
            raise AssertionError(f"{owner}({name}={bad!r}) raised without naming {word!r}: "
                                 f"{raised}") from None


def check_rejects_invalid_parameters(strategy, classifier, X_pool, query_kwargs):
    """Every parameter refuses each of its generated invalid values at query time.

    The values come from the parameter's constraints
    (:func:`~skal_power._param_validation.generate_invalid_values`); the error
    must name the parameter and the class. A parameter without a constraint, or
    whose constraint yields no invalid value without saying it accepts
    anything, fails the check.
    """
    owner = type(strategy).__name__
    try:
        constraints = type(strategy).parameter_constraints()
    except KeyError as error:
        raise AssertionError(str(error)) from None
    for name in strategy.get_params(deep=False):
        for bad in _invalid_values(owner, name, constraints):
            broken = clone(strategy).set_params(**{name: bad})
            try:
                _call(broken, classifier, X_pool, 1, query_kwargs)
            except (TypeError, ValueError) as raised:
                _check_error_names(raised, owner, name, bad)
            else:
                raise AssertionError(f"{owner} accepted {name}={bad!r}.")


def check_selector_rejects_invalid_parameters(selector: Any) -> None:
    """Every selector parameter has a constraint, and ``check()`` refuses its invalid values.

    Examples
    --------
    >>> from skal_power.sampling import Power
    >>> check_selector_rejects_invalid_parameters(Power(alpha=2.0))
    """
    owner = type(selector).__name__
    constraints = getattr(type(selector), "_parameter_constraints", {})
    for name in selector.get_params(deep=False):
        for bad in _invalid_values(owner, name, constraints):
            broken = clone(selector).set_params(**{name: bad})
            try:
                broken.check()
            except (TypeError, ValueError) as raised:
                _check_error_names(raised, owner, name, bad)
            else:
                raise AssertionError(f"{owner}.check() accepted {name}={bad!r}.")


def _top_twin(strategy):
    """The same strategy drawing with the top-B selector, or None (it names no selector).

    Every strategy that draws its batch with a selector names it with the hook
    ``get_selector()``; the twin is a clone whose hook gives
    :class:`~skal_power.sampling.Top` instead.
    """
    from .sampling import Top
    from .strategies import PosteriorStrategy

    if not isinstance(strategy, PosteriorStrategy) or \
            type(strategy)._select is not PosteriorStrategy._select:
        return None
    try:
        strategy.get_selector()
    except NotImplementedError:
        return None
    twin = clone(strategy)
    twin.get_selector = Top  # an instance attribute shadows the class's hook
    return twin


def check_huge_exponent_is_top(strategy, classifier, X_pool, query_kwargs):
    """A sampling exponent of 1e6 (α or β) picks the batch top-B picks."""
    names = [n for n in ("alpha", "beta") if n in strategy.get_params()]
    selector = getattr(strategy, "selector", None)
    if not names and selector is not None:
        names = [f"selector__{n}" for n in ("alpha", "beta") if n in selector.get_params()]
    twin = _top_twin(strategy)
    if not names or twin is None:
        return
    sharp = clone(strategy).set_params(**{names[0]: 1e6, "random_state": 0})
    n_instances = min(3, len(X_pool))
    _, scores = _call(sharp, classifier, X_pool, n_instances, query_kwargs)
    _, top_scores = _call(twin.set_params(random_state=0), classifier, X_pool,
                          n_instances, query_kwargs)
    if not np.allclose(np.sort(scores), np.sort(top_scores), rtol=1e-9, atol=1e-12):
        raise AssertionError(
            f"{type(strategy).__name__}({names[0]}=1e6) picked scores {np.sort(scores)}, "
            f"top-B picks {np.sort(top_scores)}.")


def check_called_once_per_query(strategy, classifier, X_pool, query_kwargs):
    """One call is one query (modAL unpacks the 2-tuple and never calls again)."""
    fresh = clone(strategy)
    query_result, query_metrics = _call(fresh, classifier, X_pool, 1, query_kwargs)
    del query_result, query_metrics
    if getattr(fresh, "n_queries_", 1) != 1:
        raise AssertionError(f"{type(strategy).__name__} counted {fresh.n_queries_} queries "
                             "for one call.")


STRATEGY_CHECKS: tuple[Callable[..., None], ...] = (
    check_clone_and_params,
    check_returns_valid_batch,
    check_deterministic_under_seed,
    check_does_not_modify_pool,
    check_rejects_bad_n_instances,
    check_rejects_empty_pool,
    check_rejects_invalid_parameters,
    check_huge_exponent_is_top,
    check_called_once_per_query,
)


#: scikit-learn's fit-free estimator checks, run on strategies and selectors alike.
SKLEARN_CHECKS: tuple[Callable[[str, Any], None], ...] = (
    check_no_attributes_set_in_init,
    check_get_params_invariance,
    check_set_params,
    check_parameters_default_constructible,
)


class _Check:
    """One check with the uniform call ``check(estimator, classifier=None, X_pool=None, **kw)``.

    Its repr is the check's name (pytest ids); ``kind`` is ``"sklearn"`` (called as
    scikit-learn's suite calls it, ``check(name, estimator)``), ``"strategy"``
    (needs a fitted classifier and a pool) or ``"selector"``.
    """

    def __init__(self, function: Callable, kind: str) -> None:
        self.function = function
        self.kind = kind
        self.__name__ = function.__name__

    def __call__(self, estimator: Any, classifier: Any = None, X_pool: Any = None,
                 **query_kwargs: Any) -> None:
        if self.kind == "sklearn":
            self.function(type(estimator).__name__, estimator)
        elif self.kind == "selector":
            self.function(estimator)
        else:
            if classifier is None or X_pool is None:
                raise TypeError(f"{self.__name__} needs a fitted classifier and a pool.")
            self.function(estimator, classifier, X_pool, query_kwargs)

    def __repr__(self) -> str:
        return self.__name__


def yield_checks(estimator: Any) -> Iterator[Callable[..., None]]:
    """Every check of a strategy or a selector, each callable as
    ``check(estimator, classifier=None, X_pool=None, **query_kwargs)``.

    scikit-learn's fit-free checks (:data:`SKLEARN_CHECKS`) for both; then
    :data:`STRATEGY_CHECKS` (which need ``classifier`` and ``X_pool``) for a
    strategy, :func:`check_selector_rejects_invalid_parameters` for a selector.

    Examples
    --------
    >>> from skal_power.sampling import Softmax
    >>> [check.__name__ for check in yield_checks(Softmax(beta=2.0))][-2:]
    ['check_parameters_default_constructible', 'check_selector_rejects_invalid_parameters']
    >>> for check in yield_checks(Softmax(beta=2.0)):
    ...     check(Softmax(beta=2.0))
    """
    for check in SKLEARN_CHECKS:
        yield _Check(check, "sklearn")
    if isinstance(estimator, Selector):
        yield _Check(check_selector_rejects_invalid_parameters, "selector")
    else:
        for check in STRATEGY_CHECKS:
            yield _Check(check, "strategy")


def parametrize_with_checks(estimators: Iterable[Any]):
    """A ``pytest.mark.parametrize("estimator, check", ...)``: one test per (estimator, check).

    Test ids are ``"<repr of the estimator>-<check name>"``. The test calls
    ``check(estimator, classifier, X_pool, **query_kwargs)`` (selectors and
    scikit-learn's checks ignore the last three).

    Examples
    --------
    >>> from skal_power import PowerBALD
    >>> from skal_power.testing import parametrize_with_checks
    >>> @parametrize_with_checks([PowerBALD(random_state=0)])
    ... def test_strategy(estimator, check, fitted_classifier, X_pool):
    ...     check(estimator, fitted_classifier, X_pool)
    >>> marker = test_strategy.pytestmark[0]
    >>> marker.kwargs["ids"][0]
    'PowerBALD(random_state=0)-check_no_attributes_set_in_init'
    """
    import pytest

    pairs = [(estimator, check) for estimator in estimators
             for check in yield_checks(estimator)]
    ids = [f"{estimator!r}-{check.__name__}".replace("\n", "").replace(" ", "")
           for estimator, check in pairs]
    return pytest.mark.parametrize("estimator, check", pairs, ids=ids)


def check_query_strategy(strategy: Any, classifier: Any, X_pool: Any,
                         **query_kwargs: Any) -> None:
    """Run every generic strategy check; raises ``AssertionError`` on the first failure.

    Parameters
    ----------
    strategy : QueryStrategy
        The strategy to check (unfitted; it is cloned for each check).
    classifier : fitted posterior
        Anything :func:`skal_power.adapters.sampled_log_proba` understands.
    X_pool : array-like of shape (N, n_features)
        A small pool (N >= 4 recommended).
    **query_kwargs
        Extra keywords every call needs (e.g. ``X_training``, ``y_training``).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import PowerBALD
    >>> from skal_power.testing import check_query_strategy
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X[::3], y[::3])
    >>> check_query_strategy(PowerBALD(random_state=0), forest, X[1::3])
    """
    for check in STRATEGY_CHECKS:
        check(strategy, classifier, X_pool, query_kwargs)
