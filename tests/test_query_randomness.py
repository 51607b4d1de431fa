"""Per-query randomness and keyword checking of every strategy call (issue: silent wrong
answers, items 3 and 6)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier

from skal_power import BALD, EIG, PowerBALD, RandomSampling
from skal_power._validation import query_seed


@pytest.fixture(scope="module")
def sorted_pool():
    X, y = load_digits(return_X_y=True)
    order = np.argsort(y, kind="stable")
    return X[order], y[order]


def _modal_style_loop(strategy, model, X, y, rounds=20, batch=10):
    """One strategy object, np.delete after each query (README / modAL quickstart)."""
    picked = []
    for _ in range(rounds):
        indices, _ = strategy(model, X, n_instances=batch)
        picked.append(y[indices])
        X, y = np.delete(X, indices, axis=0), np.delete(y, indices)
    return np.concatenate(picked)


def test_random_sampling_is_uniform_over_rounds(sorted_pool):
    """Before: the same Gumbel noise each round picked the neighbours of the same positions,
    class counts [13 62 12 13 0 12 31 26 18 13] for 200 draws from a label-sorted pool."""
    X, y = sorted_pool
    labels = _modal_style_loop(RandomSampling(random_state=0), None, X, y)
    counts = np.bincount(labels, minlength=10)
    # 200 uniform draws: each class ~ Binomial(200, ~0.1), sd ~ 4.2
    assert counts.min() >= 6 and counts.max() <= 36, counts


def test_two_queries_differ_and_a_fresh_object_replays_them(sorted_pool):
    X, y = sorted_pool
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[::9], y[::9])
    for make in (lambda: PowerBALD(random_state=3), lambda: RandomSampling(random_state=3)):
        first = make()
        a, _ = first(forest, X, n_instances=10)
        b, _ = first(forest, X, n_instances=10)
        assert not np.array_equal(a, b)
        replay = make()
        np.testing.assert_array_equal(replay(forest, X, n_instances=10)[0], a)
        np.testing.assert_array_equal(replay(forest, X, n_instances=10)[0], b)


def test_query_seed_sequence():
    assert query_seed(5, 0) == query_seed(5, 0)
    assert len({query_seed(5, i) for i in range(100)}) == 100
    rng = np.random.default_rng(0)
    assert query_seed(rng, 0) != query_seed(rng, 0)  # a Generator is advanced
    with pytest.raises(ValueError, match="random_state"):
        query_seed(-1, 0)


def test_top_b_picks_the_same_scores_in_every_query_and_breaks_ties_anew(sorted_pool):
    X, y = sorted_pool
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[::9], y[::9])
    strategy = BALD(random_state=0)
    first, second = strategy(forest, X, 5), strategy(forest, X, 5)
    np.testing.assert_array_equal(first[1], second[1])  # the same (tied) top scores
    assert not np.array_equal(first[0], second[0])  # ties broken by each query's seed


@pytest.mark.parametrize("strategy, bad, accepted", [
    (PowerBALD(), {"rounnd": 7}, "'round'"),
    (PowerBALD(), {"X_trainig": 1}, "'round'"),
    (EIG(), {"X_trainig": 1}, "'X_training', 'round', 'y_training'"),
])
def test_misspelt_keywords_raise_and_list_the_accepted_ones(sorted_pool, strategy, bad,
                                                            accepted):
    X, y = sorted_pool
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X[::9], y[::9])
    (name,) = bad
    with pytest.raises(TypeError, match=f"unexpected keyword argument.*'{name}'") as error:
        strategy(forest, X[:50], 3, **bad)
    assert accepted in str(error.value)
    assert getattr(strategy, "n_queries_", 0) == 0  # nothing ran
