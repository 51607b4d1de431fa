"""Real modAL: strategies plug into ActiveLearner and Committee unchanged.

Tests marked ``modal_learner`` fit modAL learners, which needs scikit-learn < 1.8
(modAL calls ``check_X_y(force_all_finite=...)``); scripts/test.sh runs them in
``.venv-modal``. The query-only tests run on any scikit-learn.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import skal_power
from skal_power.strategies import QueryStrategy

# Forests of 10 trees spend a greedy batch within a few picks, and the Batch* strategies
# say so with an AcquisitionWarning (tests/test_batch_saturation.py checks it). The suite
# makes that warning an error, and modAL's query catches every exception and calls the
# strategy again; here the contract with modAL is under test, not the warning.
pytestmark = pytest.mark.filterwarnings("ignore::skal_power.sampling.AcquisitionWarning")

# Without modAL the module is skipped (with this reason) rather than failing to
# collect; CI's modAL run turns any skip of a modal_learner test into a failure.
modal_models = pytest.importorskip(
    "modAL.models", reason="modAL-python is not installed (pip install --no-deps modAL-python)")
ActiveLearner, Committee = modal_models.ActiveLearner, modal_models.Committee


def strategy_classes():
    return [
        getattr(skal_power, name)
        for name in skal_power.__all__
        if inspect.isclass(getattr(skal_power, name))
        and issubclass(getattr(skal_power, name), QueryStrategy)
        and getattr(skal_power, name) is not QueryStrategy
    ]


def _teach_loop(learner, strategy, X_pool, y_pool, rounds=3, n_instances=4):
    pool_x, pool_y = X_pool.copy(), y_pool.copy()
    for round_index in range(rounds):
        before = getattr(strategy, "n_queries_", 0)
        indices, rows = learner.query(pool_x, n_instances=n_instances)
        assert getattr(strategy, "n_queries_", 0) == before + 1, "strategy called more than once"
        assert len(set(np.asarray(indices).tolist())) == n_instances
        np.testing.assert_array_equal(rows, pool_x[indices])
        learner.teach(pool_x[indices], pool_y[indices])
        pool_x = np.delete(pool_x, indices, axis=0)
        pool_y = np.delete(pool_y, indices, axis=0)
    return learner


def test_query_only_learner_works_on_any_sklearn(fitted_forest, digits_split, query_kwargs_for):
    """Without X_training modAL never fits, so this runs on the newest scikit-learn too."""
    _, _, X_pool, _ = digits_split
    X_pool = X_pool[:100]  # the contract, not the scores, is under test: a small pool
    for strategy_class in strategy_classes():
        strategy = strategy_class(random_state=0)
        learner = ActiveLearner(estimator=fitted_forest, query_strategy=strategy)
        indices, rows = learner.query(X_pool, n_instances=5, **query_kwargs_for(strategy_class))
        assert strategy.n_queries_ == 1, f"{strategy_class.__name__} was called twice"
        assert rows.shape == (5, X_pool.shape[1])


@pytest.mark.modal_learner
@pytest.mark.parametrize("strategy_class", strategy_classes(), ids=lambda c: c.__name__)
def test_active_learner_query_teach_rounds(strategy_class, digits_split):
    X_train, y_train, X_pool, y_pool = digits_split
    strategy = strategy_class(random_state=0)
    learner = ActiveLearner(
        estimator=RandomForestClassifier(n_estimators=10, random_state=0),
        query_strategy=strategy,
        X_training=X_train[:40],
        y_training=y_train[:40],
    )
    _teach_loop(learner, strategy, X_pool[:200], y_pool[:200])
    assert len(learner.X_training) == 40 + 3 * 4


def _compositions():
    from skal_power.sampling import Softmax, Softrank
    from skal_power.strategies import Acquisition, EvaluationAcquisition

    return [
        Acquisition("entropy", Softrank(beta=2.0), random_state=0),
        Acquisition("bald", Softmax(beta=10.0), random_state=0),
        EvaluationAcquisition("evaluation_bald", Softmax(beta=5.0), eval_size=50,
                              random_state=0),
        EvaluationAcquisition("eig", Softrank(beta=1.0), eval_size=50, random_state=0),
    ]


@pytest.mark.modal_learner
@pytest.mark.parametrize("strategy", _compositions(), ids=repr)
def test_compositions_the_mixins_could_not_express_in_a_modal_loop(strategy, digits_split):
    # Softmax on EvaluationBALD, Softrank on EIG, ...: any score with any selector
    X_train, y_train, X_pool, y_pool = digits_split
    learner = ActiveLearner(
        estimator=RandomForestClassifier(n_estimators=10, random_state=0),
        query_strategy=strategy, X_training=X_train[:40], y_training=y_train[:40])
    _teach_loop(learner, strategy, X_pool[:200], y_pool[:200])
    assert len(learner.X_training) == 40 + 3 * 4


def _scaled(split):
    """Digits pixels in [0, 1]: lbfgs then converges in a few hundred iterations."""
    X_train, y_train, X_pool, y_pool = split
    return X_train / 16.0, y_train, X_pool / 16.0, y_pool


def committee_strategy_classes():
    # EIG-family strategies distil every member on its own training data
    # (M′ is a DistilledCommittee; see test_evaluation.py).
    return strategy_classes()


@pytest.mark.modal_learner
@pytest.mark.parametrize("strategy_class", committee_strategy_classes(), ids=lambda c: c.__name__)
def test_committee_members_are_the_posterior_samples(strategy_class, digits_split):
    X_train, y_train, X_pool, y_pool = _scaled(digits_split)
    rng = np.random.default_rng(0)
    learners = []
    for member in range(4):
        bootstrap = rng.choice(60, size=60, replace=True)
        learners.append(ActiveLearner(
            estimator=LogisticRegression(max_iter=300, C=0.5 + member),
            X_training=X_train[bootstrap], y_training=y_train[bootstrap],
        ))
    strategy = strategy_class(random_state=0)
    committee = Committee(learner_list=learners, query_strategy=strategy)
    _teach_loop(committee, strategy, X_pool[:200], y_pool[:200])


@pytest.mark.modal_learner
def test_committee_gives_one_sample_per_member(digits_split):
    from skal_power.adapters import sampled_log_proba

    X_train, y_train, X_pool, _ = _scaled(digits_split)
    learners = [
        ActiveLearner(estimator=LogisticRegression(max_iter=300, C=c),
                      X_training=X_train[:80], y_training=y_train[:80])
        for c in (0.01, 1.0, 100.0)
    ]
    committee = Committee(learner_list=learners)
    log_probs = sampled_log_proba(committee, X_pool[:10])
    assert log_probs.shape == (10, 3, 10)
    np.testing.assert_allclose(np.exp(log_probs.astype(np.float64)),
                               committee.vote_proba(X_pool[:10]), atol=1e-6)


@pytest.mark.modal_learner
def test_regressors_in_modal_are_refused_as_regressors():
    from modAL.models import CommitteeRegressor
    from sklearn.gaussian_process import GaussianProcessRegressor

    X = np.random.default_rng(0).normal(size=(30, 2))
    y = X[:, 0] ** 2
    learners = [ActiveLearner(estimator=GaussianProcessRegressor(optimizer=None),
                              X_training=X[i::2], y_training=y[i::2]) for i in range(2)]
    committee = CommitteeRegressor(learner_list=learners, query_strategy=skal_power.BALD())
    # before: "The modAL Committee has no fitted members", although both were fitted
    with pytest.raises(TypeError, match="CommitteeRegressor is a regressor; skal_power "
                                        "scores classifiers only"):
        committee.query(X, n_instances=2)
    learner = ActiveLearner(estimator=GaussianProcessRegressor(optimizer=None),
                            query_strategy=skal_power.MaxEntropy(), X_training=X, y_training=y)
    with pytest.raises(TypeError, match="GaussianProcessRegressor is a regressor"):
        learner.query(X, n_instances=2)
