"""Tests for the evaluation-oriented strategies: EIG, EvaluationBALD and their power variants."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression

import skal_power._second_model as second_model_module
from skal_power.adapters import sampled_log_proba
from skal_power.scores import entropy
from skal_power.strategies import EIG, EvaluationBALD, PowerEIG, PowerEvaluationBALD

ALL = [EIG, EvaluationBALD, PowerEIG, PowerEvaluationBALD]


@pytest.fixture(scope="module")
def data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixels in [0, 1]: lbfgs converges (no ConvergenceWarning)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    return X[order[:80]], y[order[:80]], X[order[80:200]], y[order[80:200]]


@pytest.fixture(scope="module")
def forest(data):
    X_train, y_train, _, _ = data
    return RandomForestClassifier(n_estimators=10, random_state=0).fit(X_train, y_train)


# The common checks (on a forest, and for EIG/PowerEIG on a point estimate) run in
# tests/test_common.py, one test per (strategy, check).


def test_eig_scores_are_entropy_differences(data):
    X_train, y_train, X_pool, _ = data
    model = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    strategy = EIG(random_state=0)
    scores = strategy.score_pool(model, X_pool, X_training=X_train, y_training=y_train)
    second = strategy.distilled_
    expected = entropy(sampled_log_proba(model, X_pool)) - entropy(
        sampled_log_proba(second, X_pool)
    )
    np.testing.assert_allclose(scores, expected, atol=1e-6)
    indices, selected = strategy(model, X_pool, 5, X_training=X_train, y_training=y_train)
    np.testing.assert_array_equal(np.sort(selected)[::-1], selected)


@pytest.mark.parametrize("strategy_class", [EvaluationBALD, PowerEvaluationBALD])
def test_evaluation_bald_needs_posterior_samples(strategy_class, data):
    X_train, y_train, X_pool, _ = data
    model = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    with pytest.raises(ValueError, match="ensemble.*Committee.*MC-dropout"):
        strategy_class(random_state=0)(model, X_pool, 2, X_training=X_train, y_training=y_train)


def test_evaluation_bald_is_negative_on_a_point_that_contradicts_the_eval_set():
    # Two posterior samples: an intercept-only member (the class frequencies) and a sharp
    # logistic member. Train: class 0 on [-3, -1], class 1 on [1, 3], balanced, so at the
    # probe x = -3 the members say (0.5, 0.5) and (1, 0). The evaluation set (the pool) lies
    # in class-1 territory; distilled, the frequency member learns "class 1 is common" and,
    # at the class-0 probe, disagrees *more* with the local member: BALD_M′ > BALD_M.
    X_train = np.r_[np.linspace(-3, -1, 10), np.linspace(1, 3, 10)][:, None]
    y_train = np.repeat([0, 1], 10)
    X_pool = np.r_[np.linspace(2, 3, 200), [-3.0]][:, None]
    members = [("frequency", LogisticRegression(C=1e-6)), ("sharp", LogisticRegression(C=1e4))]
    model = VotingClassifier(members, voting="soft").fit(X_train, y_train)
    strategy = EvaluationBALD(random_state=0)
    scores = strategy.score_pool(model, X_pool, X_training=X_train, y_training=y_train)
    assert scores[-1] < -0.02
    assert np.all(scores[:-1] > 0.1)
    second = np.exp(sampled_log_proba(strategy.distilled_, X_pool[-1:]))[0]
    assert second[0, 1] > 0.6  # the frequency member now favours class 1


def test_one_second_model_per_query(monkeypatch, forest, data):
    X_train, y_train, X_pool, _ = data
    calls, original = [], second_model_module.distill

    def counting_distill(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(second_model_module, "distill", counting_distill)
    strategy = PowerEvaluationBALD(chunk_size=7, random_state=0)
    strategy(forest, X_pool, 5, X_training=X_train, y_training=y_train)
    assert len(calls) == 1
    strategy(forest, X_pool, 5, X_training=X_train, y_training=y_train)
    assert len(calls) == 2


def test_eval_subset_and_exclusion(forest, data):
    X_train, y_train, X_pool, _ = data
    strategy = PowerEvaluationBALD(eval_size=50, exclude_eval=True, random_state=0)
    indices, _ = strategy(forest, X_pool, 10, X_training=X_train, y_training=y_train)
    assert len(strategy.eval_indices_) == 50
    assert not set(indices.tolist()) & set(strategy.eval_indices_.tolist())
    with pytest.raises(ValueError, match="n_instances = 71 exceeds the pool size 70"):
        strategy(forest, X_pool, 71, X_training=X_train, y_training=y_train)
    with pytest.raises(ValueError, match="exclude_eval=True needs eval_size"):
        EIG(exclude_eval=True)(forest, X_pool, 1, X_training=X_train, y_training=y_train)


def test_chunking_does_not_change_scores(forest, data):
    X_train, y_train, X_pool, _ = data
    whole = EvaluationBALD(random_state=0).score_pool(
        forest, X_pool, X_training=X_train, y_training=y_train, seed=1)
    chunked = EvaluationBALD(chunk_size=13, random_state=0).score_pool(
        forest, X_pool, X_training=X_train, y_training=y_train, seed=1)
    np.testing.assert_allclose(whole, chunked)


def test_training_data_is_required(forest, data):
    _, _, X_pool, _ = data
    with pytest.raises(ValueError, match="X_training=.*y_training="):
        EIG()(forest, X_pool, 1)


def test_negative_scores_fall_back_to_uniform_with_a_warning():
    from skal_power.sampling import AcquisitionWarning

    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X[:10], y[:10])
    with pytest.warns(AcquisitionWarning):
        PowerEIG(random_state=0)(model, X[10:], 20, X_training=X[:10], y_training=y[:10])


# ----------------------------------------------------------------- modAL
@pytest.mark.modal_learner
def test_power_evaluation_bald_in_a_modal_loop_with_mc_dropout(data):
    torch = pytest.importorskip("torch")
    from modAL.models import ActiveLearner

    from skal_power.models import MCDropoutClassifier

    torch.set_num_threads(1)
    X_train, y_train, X_pool, y_pool = data
    strategy = PowerEvaluationBALD(n_samples=5, random_state=0,
                                   distill_params={"max_epochs": 3})
    net = MCDropoutClassifier(module__hidden_units=(32,), max_epochs=5, lr=0.01,
                              random_state=0)
    learner = ActiveLearner(estimator=net, query_strategy=strategy,
                            X_training=X_train[:30], y_training=y_train[:30])
    pool_x, pool_y = X_pool.copy(), y_pool.copy()
    for round_index in range(3):
        indices, rows = learner.query(pool_x, n_instances=5)
        assert strategy.n_queries_ == round_index + 1
        assert len(set(np.asarray(indices).tolist())) == 5
        assert len(strategy.distilled_.history) == 3  # distill_params reached M′
        learner.teach(rows, pool_y[indices])
        pool_x, pool_y = np.delete(pool_x, indices, 0), np.delete(pool_y, indices, 0)
    assert len(learner.X_training) == 30 + 3 * 5


@pytest.mark.modal_learner
def test_eig_takes_training_data_from_the_learner(data):
    from modAL.models import ActiveLearner

    X_train, y_train, X_pool, _ = data
    strategy = EIG(random_state=0)
    learner = ActiveLearner(estimator=LogisticRegression(max_iter=2000), query_strategy=strategy,
                            X_training=X_train, y_training=y_train)
    indices, _ = learner.query(X_pool, n_instances=4)
    assert len(strategy.distilled_.coef_) == 10 and len(indices) == 4


@pytest.mark.modal_learner
def test_committee_members_are_distilled_one_by_one(data):
    from modAL.models import ActiveLearner, Committee

    from skal_power._second_model import DistilledCommittee

    X_train, y_train, X_pool, _ = data
    learners = [
        ActiveLearner(estimator=LogisticRegression(max_iter=2000, C=c),
                      X_training=X_train[part], y_training=y_train[part])
        for c, part in ((0.1, slice(0, 60)), (10.0, slice(20, 80)))
    ]
    strategy = PowerEvaluationBALD(random_state=0)
    committee = Committee(learner_list=learners, query_strategy=strategy)
    indices, _ = committee.query(X_pool, n_instances=3)
    second = strategy.distilled_
    assert isinstance(second, DistilledCommittee) and len(second.estimators_) == 2
    assert sampled_log_proba(second, X_pool[:5]).shape == (5, 2, 10)
    np.testing.assert_allclose(second.predict_proba(X_pool[:5]).sum(1), 1.0)
    with pytest.raises(ValueError, match="Committee"):
        strategy(committee, X_pool, 2, X_training=X_train, y_training=y_train)


def test_distilled_committee_predicts_without_recursion():
    # regression: once ensembles had to be listed, DistilledCommittee.predict_proba went
    # through sampled_log_proba, which called predict_proba again (RecursionError)
    from sklearn.linear_model import LogisticRegression

    from skal_power.adapters import sampled_log_proba
    from skal_power._second_model import DistilledCommittee

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.arange(60) % 3
    both = LogisticRegression().fit(X, y)
    two = LogisticRegression().fit(X[y < 2], y[y < 2])  # a member that lacks class 2
    committee = DistilledCommittee([both, two], classes=[0, 1, 2]).fit()
    samples = sampled_log_proba(committee, X[:5], dtype=np.float64)
    assert samples.shape == (5, 2, 3)
    np.testing.assert_allclose(np.exp(samples[:, 0]), both.predict_proba(X[:5]))
    assert np.all(np.isneginf(samples[:, 1, 2]))
    np.testing.assert_allclose(committee.predict_proba(X[:5]),
                               np.exp(samples).mean(axis=1))


# ----------------------------------------------------------------- the second model's refit
@pytest.mark.torch
def test_full_refit_gives_the_picks_before_issue_34():
    """``distill_refit="full"`` is the M′ of the code before issue 34: the same picks.

    The indices were recorded with the same script on commit c05f712, before ``distill``
    had a ``refit`` parameter (its M′ was always the full refit)."""
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_digits

    from skal_power.models import MCDropoutClassifier
    from skal_power.strategies import BatchEvaluationBALD

    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, y_train, X_pool = X[:40], y[:40], X[40:240]
    net = MCDropoutClassifier(module__hidden_units=(32,), max_epochs=2,
                              iterator_train__samples_per_epoch=256,
                              random_state=0).fit(X_train, y_train)
    kwargs = dict(X_training=X_train, y_training=y_train)
    picks, scores = PowerEvaluationBALD(n_samples=8, distill_refit="full", random_state=3)(
        net, X_pool, 6, **kwargs)
    assert picks.tolist() == [138, 49, 149, 78, 173, 5]
    np.testing.assert_allclose(
        scores, [0.005429, 0.006284, 0.007433, 0.004101, 0.005465, 0.006203], atol=2e-6)
    picks, _ = EvaluationBALD(n_samples=8, eval_size=50, distill_refit="full",
                              random_state=4)(net, X_pool, 6, **kwargs)
    assert picks.tolist() == [123, 164, 115, 5, 38, 152]
    picks, _ = BatchEvaluationBALD(n_samples=8, eval_size=50, distill_refit="full",
                                   random_state=5)(net, X_pool, 4, **kwargs)
    assert picks.tolist() == [23, 147, 51, 140]


@pytest.mark.parametrize("strategy_class", ALL + ["BatchEvaluationBALD", "BatchEIG"],
                         ids=lambda c: c if isinstance(c, str) else c.__name__)
@pytest.mark.parametrize("refit", ["full", "warm", "head"])
def test_distill_refit_reaches_distill(monkeypatch, forest, data, strategy_class, refit):
    import skal_power.strategies as strategies

    if isinstance(strategy_class, str):
        strategy_class = getattr(strategies, strategy_class)
    X_train, y_train, X_pool, _ = data
    seen, original = [], second_model_module.distill

    def recording_distill(*args, **kwargs):
        seen.append(kwargs["refit"])
        return original(*args, **kwargs)

    monkeypatch.setattr(second_model_module, "distill", recording_distill)
    strategy = strategy_class(n_samples=5, distill_refit=refit, random_state=0)
    strategy(forest, X_pool[:30], 2, X_training=X_train, y_training=y_train)
    assert seen == [refit]
    assert strategy_class(random_state=0).distill_refit == "warm"  # the measured default


def test_distill_refit_is_checked(forest, data):
    X_train, y_train, X_pool, _ = data
    with pytest.raises(ValueError, match=r"'distill_refit' parameter of PowerEIG must be one of "
                                         r"\{'full', 'warm', 'head'\}; got 'cold'"):
        PowerEIG(distill_refit="cold")(forest, X_pool, 2, X_training=X_train,
                                       y_training=y_train)
