"""A greedy batch whose estimate is spent: detection, the policies, and what they record."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier

from skal_power import BatchBALD, BatchEIG, BatchEPIG, BatchEvaluationBALD
from skal_power.batch import (
    BatchSpentError,
    GreedyTrace,
    batch_bald,
    batch_eig,
    batch_epig,
    batch_evaluation_bald,
)
from skal_power.batch import _joint
from skal_power.batch._saturation import MIN_GAIN, MIN_RELATIVE_GAIN
from skal_power.sampling import AcquisitionWarning
from skal_power.scores import bald, evaluation_bald


def one_hot_votes(seed, n_points, n_members, n_classes):
    """Log-probs of a forest of fully grown trees: each member votes one class."""
    rng = np.random.default_rng(seed)
    votes = rng.integers(0, n_classes, size=(n_points, n_members))
    probs = np.zeros((n_points, n_members, n_classes))
    probs[np.arange(n_points)[:, None], np.arange(n_members), votes] = 1.0
    with np.errstate(divide="ignore"):
        return np.log(probs)


def soft(seed, n_points, n_samples, n_classes, scale=3.0):
    rng = np.random.default_rng(seed)
    logits = scale * rng.normal(size=(n_points, n_samples, n_classes))
    return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AcquisitionWarning)
        return function(*args, **kwargs)


@pytest.fixture(scope="module")
def class_sorted_forest():
    """The issue's case: a forest on 30 digits, and a pool sorted by class."""
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    labelled, pool = order[:30], order[30:]
    pool = pool[np.argsort(y[pool], kind="stable")]
    forest = RandomForestClassifier(n_estimators=100, random_state=0).fit(X[labelled],
                                                                         y[labelled])
    return forest, X[pool], y[pool]


def test_a_forest_batch_is_not_pool_order_once_spent(class_sorted_forest):
    # before: picks 1470, 1536, 985, then 30, 112, 0, 1, 2, 3, ... (ties went to pool order),
    # 16 of 20 from the first 40 rows, 3 classes, the same batch for every random_state
    forest, X_pool, y_pool = class_sorted_forest
    batches = []
    for seed in (0, 1):
        strategy = BatchBALD(random_state=seed)
        with pytest.warns(AcquisitionWarning, match="BatchBALD: the batch is spent after"):
            indices, scores = strategy(forest, X_pool, n_instances=20)
        assert strategy.saturated_at_ is not None and strategy.saturated_at_ <= 5
        assert np.sum(indices < 40) <= 2  # not the head of the pool
        assert len(np.unique(y_pool[indices])) >= 5
        batches.append(indices)
    saturated = strategy.saturated_at_
    assert not np.array_equal(batches[0][saturated:], batches[1][saturated:])


def test_the_fill_is_power_sampling_on_the_single_point_score(class_sorted_forest):
    forest, X_pool, _ = class_sorted_forest
    strategy = BatchBALD(random_state=0)
    indices, scores = quiet(strategy, forest, X_pool, n_instances=20)
    spent = strategy.saturated_at_
    with np.errstate(divide="ignore"):
        log_probs = np.log(np.stack([tree.predict_proba(X_pool) for tree in forest.estimators_],
                                    axis=1))
    single = bald(log_probs)
    np.testing.assert_allclose(scores[spent:], single[indices[spent:]], atol=1e-6)
    assert np.all(single[indices[spent:]] > 0)  # informative points, not uniform ones
    assert strategy.trace_.n_filled == 20 - spent


def test_the_raw_objective_is_still_reachable_with_seeded_ties():
    log_probs = one_hot_votes(0, 300, 8, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "continue" is silent
        raw = [batch_bald(log_probs, 12, on_saturation="continue", random_state=seed,
                          return_info=True) for seed in (0, 1)]
    trace = raw[0][2]
    assert trace.saturated_at is not None and trace.n_filled == 0
    assert trace.policy == "continue"
    # the raw scores never pass log K and stay there once spent ...
    assert np.all(raw[0][1] <= math.log(8) + 1e-9)
    np.testing.assert_allclose(raw[0][1][trace.saturated_at:], math.log(8), atol=1e-9)
    # ... and the tied picks after it follow seeded keys, not pool order
    after = raw[0][0][trace.saturated_at:]
    assert not np.array_equal(np.sort(after), np.arange(len(after)))
    assert not np.array_equal(after, raw[1][0][trace.saturated_at:])


def test_warn_is_continue_with_the_warning():
    log_probs = one_hot_votes(1, 200, 8, 10)
    with pytest.warns(AcquisitionWarning, match=r"K = 8 posterior samples"):
        warned = batch_bald(log_probs, 10, on_saturation="warn", random_state=3)
    silent = batch_bald(log_probs, 10, on_saturation="continue", random_state=3)
    np.testing.assert_array_equal(warned[0], silent[0])


def test_raise_raises_at_the_spent_step():
    log_probs = one_hot_votes(2, 200, 8, 10)
    with pytest.raises(BatchSpentError, match=r"log K = 2\.079 for K = 8"):
        batch_bald(log_probs, 10, on_saturation="raise")


def test_the_warning_names_the_step_the_information_log_k_and_what_helps():
    log_probs = one_hot_votes(3, 200, 8, 10)
    with pytest.warns(AcquisitionWarning) as caught:
        _, _, trace = batch_bald(log_probs, 10, random_state=0, return_info=True)
    assert len(caught) == 1  # once per query
    text = str(caught[0].message)
    assert f"spent after {trace.saturated_at} picks" in text
    assert f"{trace.information[-1]:.3f} nats" in text
    assert "log K = 2.079" in text and "K = 8" in text
    assert "n_samples" in text and "PowerBALD" in text


def test_picks_before_saturation_are_those_of_the_raw_objective():
    log_probs = soft(4, 400, 12, 4)
    default = quiet(batch_bald, log_probs, 12, random_state=0, return_info=True)
    raw = batch_bald(log_probs, 12, random_state=0, on_saturation="continue")
    spent = default[2].saturated_at
    assert spent is not None  # K = 12: spent within 12 picks
    np.testing.assert_array_equal(default[0][:spent], raw[0][:spent])
    np.testing.assert_allclose(default[1][:spent], raw[1][:spent], rtol=0, atol=1e-12)


def test_a_batch_that_is_never_spent_is_untouched():
    log_probs = soft(5, 300, 64, 10, scale=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        indices, scores, trace = batch_bald(log_probs, 3, random_state=0, return_info=True)
    assert trace.saturated_at is None and trace.n_filled == 0
    np.testing.assert_allclose(trace.information, scores, atol=1e-12)
    assert trace.gains[0] == pytest.approx(bald(log_probs)[indices[0]])
    np.testing.assert_allclose(np.diff(trace.information), trace.gains[1:], atol=1e-12)
    assert np.all(trace.gain_errors == 0)  # exact joint entropies


def test_once_spent_the_pool_is_not_scanned_again(monkeypatch):
    scanned = []
    original = _joint.JointEntropyTracker.screened_entropies
    monkeypatch.setattr(_joint.JointEntropyTracker, "screened_entropies",
                        lambda self, c: scanned.append(len(c)) or original(self, c))
    log_probs = one_hot_votes(4, 500, 8, 10)
    _, _, trace = quiet(batch_bald, log_probs, 40, random_state=0, lazy=False,
                        return_info=True)
    assert trace.saturated_at < 10
    assert len(scanned) <= trace.saturated_at  # greedy steps 1..b only


def test_a_difference_objective_never_takes_a_point_uninformative_under_m():
    # 40 points M is sure about (BALD_M = 0) and M′ too; 40 points where M is unsure and
    # M′ even more so (EvaluationBALD < 0). The raw greedy difference prefers the 0s,
    # i.e. the points that carry no information under M; the default does not.
    rng = np.random.default_rng(6)
    sure = np.log(np.tile([0.98, 0.01, 0.01], (40, 6, 1)))
    unsure = soft(7, 40, 6, 3, scale=1.0)
    wilder = soft(8, 40, 6, 3, scale=4.0)
    m = np.concatenate([sure, unsure])
    m_prime = np.concatenate([sure, wilder])
    order = rng.permutation(80)
    m, m_prime = m[order], m_prime[order]
    assert np.all(evaluation_bald(m, m_prime)[order >= 40] < 0)
    raw, _ = batch_evaluation_bald(m, m_prime, 5, on_saturation="continue", random_state=0)
    assert np.any(order[raw] < 40)
    picked, _, trace = quiet(batch_evaluation_bald, m, m_prime, 5, random_state=0,
                             return_info=True)
    assert np.all(order[picked[:trace.saturated_at]] >= 40)
    assert np.all(trace.gains > max(MIN_GAIN, MIN_RELATIVE_GAIN * trace.gains[0]))


def test_batch_eig_with_a_point_estimate_is_never_spent():
    m = soft(9, 200, 1, 5)
    m_prime = soft(10, 200, 1, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, _, trace = batch_eig(m, m_prime, 12, random_state=0, return_info=True)
    assert trace.saturated_at is None and trace.n_filled == 0


def test_batch_epig_fills_on_epig_once_spent():
    pool, targets = one_hot_votes(11, 200, 6, 5), one_hot_votes(12, 10, 6, 5)
    with pytest.warns(AcquisitionWarning, match="BatchEPIG"):
        indices, scores, trace = batch_epig(pool, targets, 12, random_state=0,
                                            return_info=True)
    assert trace.saturated_at is not None and trace.n_filled == 12 - trace.saturated_at
    assert len(set(indices.tolist())) == 12


@pytest.mark.parametrize("policy", ["power", "continue"])
def test_every_batch_strategy_records_what_happened(policy):
    X, y = load_digits(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:30], y[:30])
    X_pool = X[30:230]
    training = dict(X_training=X[:30], y_training=y[:30])
    for strategy, kwargs in [(BatchBALD(on_saturation=policy, random_state=0), {}),
                             (BatchEPIG(on_saturation=policy, target_size=5, random_state=0),
                              {}),
                             (BatchEIG(on_saturation=policy, random_state=0), training),
                             (BatchEvaluationBALD(on_saturation=policy, random_state=0),
                              training)]:
        indices, _ = quiet(strategy, forest, X_pool, n_instances=8, **kwargs)
        assert len(set(indices.tolist())) == 8
        assert isinstance(strategy.trace_, GreedyTrace)
        assert strategy.trace_.policy == policy
        assert len(strategy.gains_) == len(strategy.gain_errors_)
        assert strategy.saturated_at_ == strategy.trace_.saturated_at


@pytest.mark.parametrize("function", [batch_bald, batch_epig])
def test_bad_policies_are_refused(function):
    log_probs = soft(13, 20, 4, 3)
    args = (log_probs, 2) if function is batch_bald else (log_probs, log_probs[:3], 2)
    with pytest.raises(ValueError, match="on_saturation must be one of 'power'"):
        function(*args, on_saturation="stop")
    with pytest.raises(ValueError, match="saturation_alpha"):
        function(*args, saturation_alpha=-1.0)


def test_strategies_refuse_a_bad_policy_at_query_time():
    X, y = load_digits(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="on_saturation"):
        BatchBALD(on_saturation="ignore")(forest, X[50:100], n_instances=2)


def test_the_warning_points_at_the_callers_line(class_sorted_forest):
    # it used to point into skal_power/batch/_greedy.py, whatever called it
    forest, X_pool, _ = class_sorted_forest
    for call in (lambda: batch_bald(one_hot_votes(5, 200, 8, 10), 10, random_state=0),
                 lambda: BatchBALD(random_state=0)(forest, X_pool, n_instances=10)):
        with pytest.warns(AcquisitionWarning) as caught:
            call()
        assert [w.filename for w in caught] == [__file__]
