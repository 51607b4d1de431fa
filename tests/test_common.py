"""The common checks: one test per (strategy or selector, check).

Every public strategy class (and the generic score × selector compositions) runs
scikit-learn's fit-free checks and skal_power's query checks
(:mod:`skal_power.testing`); every selector runs the fit-free checks and the
check of its parameter constraints. One test per pair, so one failure hides no other.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import skal_power.strategies
from skal_power._param_validation import Interval
from skal_power.sampling import Power, Softmax, Softrank, Top, UniformTop
from skal_power.strategies import (
    EIG,
    Acquisition,
    EvaluationAcquisition,
    PosteriorStrategy,
    PowerEIG,
    QueryStrategy,
)
from skal_power.testing import (
    SKLEARN_CHECKS,
    STRATEGY_CHECKS,
    check_query_strategy,
    check_rejects_invalid_parameters,
    parametrize_with_checks,
    yield_checks,
)

#: Every public strategy class (the base classes aside).
CLASSES = sorted((getattr(skal_power.strategies, name) for name in skal_power.strategies.__all__
                  if inspect.isclass(getattr(skal_power.strategies, name))
                  and issubclass(getattr(skal_power.strategies, name), QueryStrategy)
                  and getattr(skal_power.strategies, name) not in (
                      QueryStrategy, PosteriorStrategy, skal_power.strategies.SecondModelStrategy)),
                 key=lambda cls: cls.__name__)
FAST = {"eval_size": 20}  # keeps the distillations of the EIG family small


def _instance(cls):
    params = dict(FAST) if "eval_size" in cls().get_params() else {}
    return cls(random_state=0, **params)


STRATEGIES = [_instance(cls) for cls in CLASSES] + [
    Acquisition("bald", Top()),
    Acquisition("entropy", Softrank(beta=2.0)),
    Acquisition("expected_entropy", Power(alpha=1.0)),
    Acquisition("bald", UniformTop(factor=2)),
    EvaluationAcquisition("evaluation_bald", Softmax(beta=5.0), **FAST),
    EvaluationAcquisition("eig", Softrank(beta=1.0), **FAST),
]
#: The EIG family on a point estimate (one posterior sample: M′ is what differs).
POINT_ESTIMATE_STRATEGIES = [EIG(random_state=0), PowerEIG(random_state=0)]
SELECTORS = [Top(), Power(), Power(alpha=0.5), Softmax(), Softrank(beta=2.0), UniformTop(),
             UniformTop(factor=3)]


@pytest.fixture(scope="module")
def problem():
    from picks_fixture import instance

    forest, X_train, y_train, X_pool = instance()
    return forest, X_train, y_train, X_pool[:40]


def _query_kwargs(strategy, X_train, y_train):
    if "X_training" in strategy.query_keywords():
        return {"X_training": X_train, "y_training": y_train}
    return {}


@parametrize_with_checks(STRATEGIES)
def test_strategy(estimator, check, problem):
    forest, X_train, y_train, X_pool = problem
    check(estimator, forest, X_pool, **_query_kwargs(estimator, X_train, y_train))


@pytest.fixture(scope="module")
def point_estimate():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixels in [0, 1]: lbfgs converges (no ConvergenceWarning)
    order = np.random.default_rng(0).permutation(len(X))
    X_train, y_train = X[order[:80]], y[order[:80]]
    model = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    return model, X_train, y_train, X[order[80:120]]


@parametrize_with_checks(POINT_ESTIMATE_STRATEGIES)
def test_eig_family_on_a_point_estimate(estimator, check, point_estimate):
    model, X_train, y_train, X_pool = point_estimate
    check(estimator, model, X_pool, X_training=X_train, y_training=y_train)


@parametrize_with_checks(SELECTORS)
def test_selector(estimator, check):
    check(estimator)


def test_every_class_and_selector_is_covered():
    assert {type(s) for s in STRATEGIES} >= set(CLASSES)
    assert {type(s).__name__ for s in SELECTORS} == set(skal_power.sampling._selectors.__all__) \
        - {"Selector"}
    # every check of each: the fit-free ones of scikit-learn and the query checks
    names = [check.__name__ for check in yield_checks(STRATEGIES[0])]
    assert names == [c.__name__ for c in SKLEARN_CHECKS + STRATEGY_CHECKS]


def test_check_query_strategy_still_runs_every_check(problem):
    # the public one-call form third-party suites use
    forest, X_train, y_train, X_pool = problem
    strategy = _instance(skal_power.strategies.PowerBALD)
    check_query_strategy(strategy, forest, X_pool)


class _Loose(PosteriorStrategy):
    """A strategy whose parameter has a constraint its query never checks."""

    _parameter_constraints = {"temperature": [Interval(float, 0, None, closed="neither")]}
    chunk_size, progress = 8192, False

    def __init__(self, *, temperature=1.0, n_samples=4, random_state=None):
        self.temperature = temperature
        self.n_samples = n_samples
        self.random_state = random_state

    def _check_params(self):
        pass

    def _score_log_probs(self, log_probs):
        return np.exp(log_probs).max(axis=(1, 2))

    def _select(self, scores, n_instances, *, seed, round_index):
        return np.argsort(-scores, kind="stable")[:n_instances]


class _Undeclared(_Loose):
    def __init__(self, *, warmth=1.0, n_samples=4, random_state=None):
        self.warmth = warmth
        self.n_samples = n_samples
        self.random_state = random_state


def test_the_parameter_check_fails_for_an_unchecked_or_undeclared_parameter(problem):
    forest, _, _, X_pool = problem
    # (sampled_log_proba refuses a bad n_samples itself, without naming the class)
    with pytest.raises(AssertionError,
                       match=r"^_Loose( accepted|\(n_samples=.* raised without naming)"):
        check_rejects_invalid_parameters(_Loose(), forest, X_pool, {})
    with pytest.raises(AssertionError, match=r"\['warmth'\] without a constraint"):
        check_rejects_invalid_parameters(_Undeclared(), forest, X_pool, {})
