"""The evaluation strategies' pass of M′ over the candidates that can join the batch only.

``bounded_batch`` must give the batch of drawing on every score, to the last bit, for
every selector with monotone keys; the strategies must give the picks and scores of
scoring every candidate, with M′ scoring fewer of them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skal_power._bounded_batch import FIRST_CHUNK_FACTOR, BoundedBatch, bounded_batch
from skal_power.sampling import (
    AcquisitionWarning,
    Power,
    Selector,
    Softmax,
    Softrank,
    Top,
    UniformTop,
)
from skal_power.strategies import (
    EIG,
    EvaluationAcquisition,
    EvaluationBALD,
    PowerEIG,
    PowerEvaluationBALD,
)

SELECTORS = [Top(), Power(alpha=5.0), Power(alpha=1.0), Power(alpha=0.0), Softmax(beta=3.0)]


def _scored_by(exact):
    calls = []

    def score_rows(positions):
        assert np.all(np.diff(positions) > 0), "positions are sorted and distinct"
        calls.append(positions)
        return exact[positions]

    return score_rows, calls


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 300), batch=st.integers(1, 40), seed=st.integers(0, 2**32 - 1),
       selector=st.sampled_from(SELECTORS), zeros=st.floats(0.0, 0.9),
       ties=st.booleans())
def test_bounded_batch_is_the_batch_of_every_score(n, batch, seed, selector, zeros, ties):
    rng = np.random.default_rng(seed)
    batch = min(batch, n)
    upper = rng.uniform(0.0, 2.0, size=n)
    exact = upper * rng.uniform(size=n)  # M′'s part is never negative
    exact[rng.uniform(size=n) < zeros] = 0.0  # points that M′ explains away
    if ties:  # equal scores, where top-B's seeded tie keys decide
        exact = np.round(exact, 1)
        upper = np.maximum(upper, exact)
    score_rows, calls = _scored_by(exact)
    result = bounded_batch(BoundedBatch(selector, batch, seed % 1000, 0), upper, score_rows)
    scored = np.concatenate(calls)
    assert len(np.unique(scored)) == len(scored), "no candidate is scored twice"
    np.testing.assert_array_equal(result.scores[scored], exact[scored])
    assert np.isnan(result.scores).sum() == n - len(scored)
    if result.picked is None:  # every candidate scored: the selector draws as usual
        assert len(scored) == n
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", AcquisitionWarning)  # settled batches never warn
        expected = selector.select(exact, batch, seed=seed % 1000)
    np.testing.assert_array_equal(result.picked, expected)


def test_the_bounds_spare_most_of_the_pass():
    rng = np.random.default_rng(0)
    upper = rng.gamma(0.5, size=4000)
    exact = upper * rng.uniform(0.5, 1.0, size=4000)
    score_rows, calls = _scored_by(exact)
    result = bounded_batch(BoundedBatch(Power(alpha=5.0), 50, 3, 0), upper, score_rows)
    assert result.picked is not None
    n_scored = sum(len(positions) for positions in calls)
    assert FIRST_CHUNK_FACTOR * 50 <= n_scored < 4000 // 4
    assert len(calls) <= 2, "one pass over the best bounds, one over those that reach"
    np.testing.assert_array_equal(result.picked, Power(alpha=5.0).select(exact, 50, seed=3))


@pytest.mark.parametrize("selector", [Power(alpha=5.0), Top()], ids=["Power", "Top"])
def test_too_few_positive_scores_score_every_candidate(selector):
    upper = np.linspace(0.1, 1.0, 100)
    exact = np.where(np.arange(100) % 10 == 0, upper, 0.0)  # 10 positive scores, B = 20
    score_rows, calls = _scored_by(exact)
    result = bounded_batch(BoundedBatch(selector, 20, 0, 0), upper, score_rows)
    assert result.picked is None
    np.testing.assert_array_equal(result.scores, exact)


def test_a_batch_larger_than_the_candidates_is_refused():
    with pytest.raises(ValueError, match="n_instances = 5 exceeds the pool size 4"):
        bounded_batch(BoundedBatch(Top(), 5, 0, 0), np.ones(4), lambda rows: np.ones(len(rows)))


def test_which_selectors_have_monotone_keys():
    assert Top().monotone_keys and Power().monotone_keys and Softmax().monotone_keys
    assert not Softrank().monotone_keys and not UniformTop().monotone_keys
    assert not Selector.monotone_keys


# ----------------------------------------------------------------- the strategies
@pytest.fixture(scope="module")
def net_and_data():
    pytest.importorskip("torch")
    from sklearn.datasets import load_digits

    from skal_power.models import MCDropoutClassifier

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    net = MCDropoutClassifier(module__hidden_units=(32,), max_epochs=2,
                              iterator_train__samples_per_epoch=256,
                              random_state=0).fit(X[:40], y[:40])
    return net, X[:40], y[:40], X[40:640]


def _scoring_everything(strategy_class):
    """The same strategy with the bounds off: M′ scores every candidate."""
    return type(f"Every{strategy_class.__name__}", (strategy_class,),
                {"part_is_nonnegative": False})


@pytest.mark.parametrize("strategy_class,params", [
    (PowerEvaluationBALD, {}),
    (PowerEvaluationBALD, {"alpha": 1.0}),
    (EvaluationBALD, {}),
    (PowerEIG, {}),
    (EIG, {"eval_size": 200, "exclude_eval": True}),
    (EvaluationAcquisition, {"selector": Softmax(beta=20.0)}),
], ids=["PowerEvaluationBALD", "alpha1", "EvaluationBALD", "PowerEIG", "EIG-excluded",
        "Softmax"])
def test_strategies_pick_what_scoring_every_candidate_picks(net_and_data, strategy_class,
                                                            params):
    net, X_train, y_train, X_pool = net_and_data
    kwargs = dict(X_training=X_train, y_training=y_train)
    bounded = strategy_class(n_samples=8, random_state=0, **params)
    every = _scoring_everything(strategy_class)(n_samples=8, random_state=0, **params)
    for _ in range(2):  # two rounds: the round index and the query seed move on
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always", AcquisitionWarning)
            picks, scores = bounded(net, X_pool, 10, **kwargs)
        with warnings.catch_warnings(record=True) as expected_warned:
            warnings.simplefilter("always", AcquisitionWarning)
            expected_picks, expected_scores = every(net, X_pool, 10, **kwargs)
        assert [str(w.message) for w in warned] == [str(w.message) for w in expected_warned]
        np.testing.assert_array_equal(picks, expected_picks)
        np.testing.assert_array_equal(scores, expected_scores)
        assert every.second_pass_rows_ == len(X_pool) - (200 if "eval_size" in params else 0)
        assert bounded.second_pass_rows_ <= every.second_pass_rows_


def test_power_evaluation_bald_scores_a_fraction_of_the_pool(net_and_data):
    net, X_train, y_train, X_pool = net_and_data
    strategy = PowerEvaluationBALD(n_samples=8, random_state=0)
    strategy(net, X_pool, 10, X_training=X_train, y_training=y_train)
    assert strategy.second_pass_rows_ < len(X_pool) // 2
    # score_pool still scores every point
    scores = strategy.score_pool(net, X_pool, X_training=X_train, y_training=y_train)
    assert np.isfinite(scores).all()
