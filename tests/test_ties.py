"""Exact ties of a score are broken at random by the query's seed, in every top-B rule."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.neighbors import KNeighborsClassifier

from skal_power import BALD, EIG, MaxEntropy
from skal_power.sampling import tie_keys, top_sample


@pytest.fixture(scope="module")
def knn_on_sorted_pool():
    # a k-NN posterior gives probabilities in steps of 1/k: many points share one entropy
    X, y = load_digits(return_X_y=True)
    order = np.argsort(y, kind="stable")
    X, y = X[order] / 16, y[order]
    rng = np.random.default_rng(0)
    labelled = rng.choice(len(X), 60, replace=False)
    knn = KNeighborsClassifier(n_neighbors=5).fit(X[labelled], y[labelled])
    return knn, X


def test_max_entropy_breaks_ties_at_random_not_by_pool_order(knn_on_sorted_pool):
    knn, X = knn_on_sorted_pool
    indices, scores = MaxEntropy(random_state=0)(knn, X, n_instances=20)
    tied = np.flatnonzero(MaxEntropy().score_pool(knn, X) == scores[0])
    assert len(tied) > 20 and np.all(scores == scores[0])  # the batch is one tie
    # before: the 20 lowest indices of the tie, i.e. the first digits of the sorted pool
    assert not np.array_equal(np.sort(indices), tied[:20])
    assert np.isin(indices, tied).all()
    # the tied points are spread over the pool, not piled at its start
    assert np.median(indices) > np.quantile(tied, 0.25)


def test_tie_breaking_is_seeded(knn_on_sorted_pool):
    knn, X = knn_on_sorted_pool
    first = MaxEntropy(random_state=3)(knn, X, n_instances=10)[0]
    again = MaxEntropy(random_state=3)(knn, X, n_instances=10)[0]
    other = MaxEntropy(random_state=4)(knn, X, n_instances=10)[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("name", ["BALD", "EIG"])
def test_every_top_b_strategy_breaks_ties_with_its_seed(knn_on_sorted_pool, name):
    from sklearn.ensemble import BaggingClassifier

    knn, X = knn_on_sorted_pool
    labelled = np.random.default_rng(1).choice(len(X), 80, replace=False)
    y = knn.predict(X)
    if name == "BALD":  # bagged k-NNs: BALD takes few distinct values
        model = BaggingClassifier(KNeighborsClassifier(n_neighbors=3), n_estimators=4,
                                  random_state=0).fit(X[labelled], y[labelled])
        strategy, kwargs = BALD(random_state=0), {}
    else:  # EIG of a shallow tree and its distilled copy: one value per pair of leaves
        from sklearn.tree import DecisionTreeClassifier

        model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X[labelled], y[labelled])
        strategy = EIG(random_state=0, eval_size=100)
        kwargs = {"X_training": X[labelled], "y_training": y[labelled]}
    scores = clone(strategy).score_pool(model, X, **kwargs)
    indices, picked = clone(strategy)(model, X, n_instances=10, **kwargs)
    again, _ = clone(strategy)(model, X, n_instances=10, **kwargs)
    np.testing.assert_array_equal(indices, again)
    boundary = np.flatnonzero(scores == picked[-1])
    assert len(boundary) > 1  # the batch ends inside a tie ...
    lowest = np.sort(boundary)[:np.sum(picked == picked[-1])]
    assert not np.array_equal(np.sort(indices[picked == picked[-1]]), lowest)  # ... broken at random


def test_top_sample_tie_order_is_uniform_and_a_function_of_seed_and_index():
    tied = np.full(1000, 0.5)  # positive: a tie of scores that carry information
    picks = np.concatenate([top_sample(tied, 10, random_state=seed) for seed in range(50)])
    assert 400 < picks.mean() < 600  # lower indices are not favoured
    assert top_sample(tied, 3).tolist() == [0, 1, 2]  # unseeded: lower index first
    keys = tie_keys(9, np.arange(100))
    np.testing.assert_array_equal(keys[40:60], tie_keys(9, np.arange(40, 60)))
    # strictly ordered scores are unaffected by the tie keys
    scores = np.arange(20.0)
    np.testing.assert_array_equal(top_sample(scores, 5, random_state=1), [19, 18, 17, 16, 15])
