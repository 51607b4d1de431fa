"""Tests of the selection rules: Gumbel-top-B exactness, limits, seeding, chunking."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from _reference import random_log_probs, reference_bald
from skal_power import sampling
from skal_power.sampling import (
    AcquisitionWarning,
    LinearSchedule,
    Candidates,
    acquisition_keys,
    gumbel_noise,
    merge_candidates,
    power_sample,
    random_sample,
    resolve_exponent,
    sample_from_log_weights,
    sample_kl_to_mean,
    softmax_sample,
    softrank_sample,
    thompson_sample,
    top_keys,
    top_sample,
    uniform_top_sample,
)

#: Each statistical test below fails with probability at most this if the code is right.
FALSE_ALARM_RATE = 1e-3

STOCHASTIC_RULES = [
    pytest.param(lambda s, b, r: power_sample(s, b, alpha=2.0, random_state=r), id="power"),
    pytest.param(lambda s, b, r: softmax_sample(s, b, beta=3.0, random_state=r), id="softmax"),
    pytest.param(lambda s, b, r: softrank_sample(s, b, beta=1.0, random_state=r), id="softrank"),
    pytest.param(lambda s, b, r: uniform_top_sample(s, b, factor=3, random_state=r),
                 id="uniform_top"),
    pytest.param(lambda s, b, r: random_sample(len(s), b, random_state=r), id="random"),
]


def sequential_pair_probabilities(weights: np.ndarray) -> dict[tuple[int, int], float]:
    """P(first = i, second = j) when drawing two points one after the other without
    replacement, each with probability proportional to its weight among those left."""
    total = weights.sum()
    return {
        (i, j): weights[i] / total * weights[j] / (total - weights[i])
        for i, j in itertools.permutations(range(len(weights)), 2)
    }


# --- Gumbel-top-B is sequential sampling without replacement -----------------------------


def test_power_sample_matches_sequential_sampling_without_replacement():
    scores = np.array([0.9, 0.5, 0.0, 0.3, 0.1, 0.7])
    alpha = 1.5
    weights = scores**alpha
    expected = sequential_pair_probabilities(weights)
    pairs = list(expected)
    n_draws = 20_000
    counts = dict.fromkeys(pairs, 0)
    for seed in range(n_draws):
        first, second = power_sample(scores, 2, alpha=alpha, random_state=seed)
        counts[(int(first), int(second))] += 1  # KeyError if the zero-weight point is drawn
    observed = np.array([counts[p] for p in pairs])
    probabilities = np.array([expected[p] for p in pairs])
    keep = probabilities > 0
    assert observed[~keep].sum() == 0
    _, p_value = chisquare(observed[keep], n_draws * probabilities[keep])
    assert p_value > FALSE_ALARM_RATE


@pytest.mark.parametrize("n_pool, batch_size", [(10, 1), (10, 4)])
def test_alpha_zero_is_uniform(n_pool, batch_size):
    scores = np.linspace(0.0, 1.0, n_pool)  # includes a zero score: 0 ** 0 = 1
    n_draws = 4000
    first_counts = np.zeros(n_pool)
    member_counts = np.zeros(n_pool)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(n_draws):
            batch = power_sample(scores, batch_size, alpha=0.0, random_state=seed)
            first_counts[batch[0]] += 1
            member_counts[batch] += 1
    assert chisquare(first_counts).pvalue > FALSE_ALARM_RATE
    np.testing.assert_allclose(member_counts.sum(), n_draws * batch_size)
    assert chisquare(member_counts).pvalue > FALSE_ALARM_RATE


def test_softmax_and_softrank_beta_zero_first_pick_is_uniform():
    scores = np.array([-5.0, 0.0, 2.0, 9.0, 1.0])
    for rule in (softmax_sample, softrank_sample):
        counts = np.bincount(
            [rule(scores, 1, beta=0.0, random_state=s)[0] for s in range(3000)], minlength=5
        )
        assert chisquare(counts).pvalue > FALSE_ALARM_RATE


def test_softrank_matches_sequential_sampling_on_ranks():
    scores = np.array([3.0, -1.0, 10.0, 0.5])
    weights = 1.0 / np.array([2.0, 4.0, 1.0, 3.0]) ** 2.0  # rank ** -beta
    expected = sequential_pair_probabilities(weights)
    pairs = list(expected)
    counts = dict.fromkeys(pairs, 0)
    n_draws = 10_000
    for seed in range(n_draws):
        first, second = softrank_sample(scores, 2, beta=2.0, random_state=seed)
        counts[(int(first), int(second))] += 1
    _, p_value = chisquare([counts[p] for p in pairs], [n_draws * expected[p] for p in pairs])
    assert p_value > FALSE_ALARM_RATE


@given(seed=st.integers(0, 2**32 - 1), batch_size=st.integers(1, 20))
@settings(max_examples=40, deadline=None)
def test_very_large_sharpness_returns_the_top_b(seed, batch_size):
    rng = np.random.default_rng(seed)
    scores = rng.permutation(np.linspace(0.01, 1.0, 50))
    top = top_sample(scores, batch_size)
    np.testing.assert_array_equal(power_sample(scores, batch_size, alpha=1e7,
                                               random_state=seed), top)
    np.testing.assert_array_equal(softmax_sample(scores, batch_size, beta=1e7,
                                                 random_state=seed), top)
    np.testing.assert_array_equal(softrank_sample(scores, batch_size, beta=1e4,
                                                  random_state=seed), top)


# --- chunks, merges and the noise ------------------------------------------------------


def test_gumbel_noise_depends_only_on_seed_and_index():
    indices = np.array([5, 0, 123456789, 2**40])
    noise = gumbel_noise(11, indices)
    np.testing.assert_array_equal(noise[::-1], gumbel_noise(11, indices[::-1]))
    np.testing.assert_array_equal(noise[2:3], gumbel_noise(11, [123456789]))
    assert not np.array_equal(noise, gumbel_noise(12, indices))


def test_gumbel_noise_is_standard_gumbel():
    from scipy.stats import kstest

    noise = gumbel_noise(3, np.arange(20_000))
    assert np.all(np.isfinite(noise))
    assert kstest(noise, "gumbel_r").pvalue > FALSE_ALARM_RATE


@st.composite
def pools(draw):
    n = draw(st.integers(1, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    log_weights = rng.normal(size=n)
    zero_fraction = draw(st.sampled_from([0.0, 0.5, 1.0]))
    log_weights[rng.random(n) < zero_fraction] = -np.inf
    n_cuts = draw(st.integers(0, min(5, n - 1)))
    cuts = sorted(rng.choice(np.arange(1, n), size=n_cuts, replace=False)) if n_cuts else []
    batch_size = draw(st.integers(1, n))
    return log_weights, [int(c) for c in cuts], batch_size, seed


@given(pool=pools())
@settings(max_examples=80, deadline=None)
def test_chunked_selection_equals_whole_pool_selection(pool):
    log_weights, cuts, batch_size, seed = pool
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AcquisitionWarning)
        whole = sample_from_log_weights(log_weights, batch_size, seed)
    parts = []
    for indices in np.split(np.arange(len(log_weights)), cuts):
        tiers, keys = acquisition_keys(log_weights[indices], seed, indices)
        parts.append(top_keys(indices, tiers, keys, batch_size))
    # merge in a different order and in two levels: the result must not care
    groups = [g for g in (parts[1::2], parts[0::2]) if g]
    merged = merge_candidates([merge_candidates(g, batch_size) for g in groups], batch_size)
    np.testing.assert_array_equal(merged.indices, whole)


def test_top_keys_puts_zero_weight_points_last():
    tiers = np.array([0, 1, 0, 1])
    keys = np.array([50.0, -3.0, 60.0, -4.0])
    best = top_keys(np.arange(4), tiers, keys, 3)
    np.testing.assert_array_equal(best.indices, [1, 3, 2])
    assert isinstance(best, Candidates)


# --- seeding ---------------------------------------------------------------------------


@pytest.mark.parametrize("rule", STOCHASTIC_RULES)
def test_same_seed_same_batch_different_seed_different_batch(rule):
    scores = np.random.default_rng(0).random(1000)
    batch = rule(scores, 10, 123)
    assert len(set(batch.tolist())) == 10
    np.testing.assert_array_equal(batch, rule(scores, 10, 123))
    assert not np.array_equal(batch, rule(scores, 10, 124))


@pytest.mark.parametrize("rule", STOCHASTIC_RULES)
def test_generators_are_advanced_and_reproducible(rule):
    scores = np.random.default_rng(1).random(500)
    a, b = np.random.default_rng(9), np.random.default_rng(9)
    first = rule(scores, 5, a)
    np.testing.assert_array_equal(first, rule(scores, 5, b))
    assert not np.array_equal(first, rule(scores, 5, a))
    legacy = np.random.RandomState(3)
    np.testing.assert_array_equal(rule(scores, 5, legacy), rule(scores, 5,
                                                                np.random.RandomState(3)))


def test_none_seed_gives_fresh_batches():
    scores = np.ones(10_000)
    assert not np.array_equal(power_sample(scores, 5, alpha=1.0),
                              power_sample(scores, 5, alpha=1.0))


# --- warnings and deterministic rules --------------------------------------------------


def test_warns_when_fewer_positive_weights_than_the_batch():
    scores = np.array([0.0, 0.4, 0.0, 0.2, -1.0, 0.0])
    with pytest.warns(AcquisitionWarning, match="Only 2 of 6 pool points"):
        batch = power_sample(scores, 4, alpha=3.0, random_state=0)
    assert set(batch[:2].tolist()) == {1, 3}
    assert len(set(batch.tolist())) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sorted(power_sample(scores, 2, random_state=0).tolist()) == [1, 3]


def test_top_sample_breaks_ties_by_index():
    scores = np.array([0.5, 0.9, 0.5, 0.5, 0.1])
    np.testing.assert_array_equal(top_sample(scores, 3), [1, 0, 2])
    np.testing.assert_array_equal(top_sample(scores, 5), np.argsort(-scores, kind="stable"))


def test_uniform_top_sample_draws_uniformly_from_the_candidates():
    scores = np.arange(30.0)
    counts = np.zeros(30)
    for seed in range(2000):
        counts[uniform_top_sample(scores, 2, factor=4, random_state=seed)] += 1
    assert counts[:22].sum() == 0
    assert chisquare(counts[22:]).pvalue > FALSE_ALARM_RATE


def test_random_sample_is_a_uniform_subset():
    counts = np.zeros(8)
    for seed in range(2000):
        batch = random_sample(8, 3, random_state=seed)
        assert len(set(batch.tolist())) == 3
        counts[batch] += 1
    assert chisquare(counts).pvalue > FALSE_ALARM_RATE


# --- Thompson --------------------------------------------------------------------------


def test_sample_kl_to_mean_averages_to_bald():
    log_probs = random_log_probs(np.random.default_rng(2), (30, 6, 4), zero_fraction=0.3)
    kl = sample_kl_to_mean(log_probs, np.arange(6))
    assert np.all(kl >= 0)
    np.testing.assert_allclose(kl.mean(axis=1), reference_bald(log_probs), atol=1e-12)


def test_thompson_sample_picks_each_slot_best_under_some_sample():
    log_probs = random_log_probs(np.random.default_rng(3), (40, 5, 3))
    indices, slot_scores = thompson_sample(log_probs, 6, random_state=1)
    assert len(set(indices.tolist())) == 6
    kl = sample_kl_to_mean(log_probs, np.arange(5))
    picked = set()
    for index, score in zip(indices, slot_scores):
        # the slot's score is the KL of its point under one sample k, and no unpicked
        # point beat it under that same k
        candidates = [k for k in range(5) if np.isclose(kl[index, k], score, atol=1e-12)]
        assert any(
            all(kl[j, k] <= score + 1e-12 for j in range(40) if j not in picked)
            for k in candidates
        )
        picked.add(int(index))
    again = thompson_sample(log_probs, 6, random_state=1)
    np.testing.assert_array_equal(again[0], indices)


def test_thompson_whole_pool_is_a_permutation():
    log_probs = random_log_probs(np.random.default_rng(4), (7, 3, 2))
    indices, _ = thompson_sample(log_probs, 7, random_state=0)
    assert sorted(indices.tolist()) == list(range(7))


# --- schedules -------------------------------------------------------------------------


def test_linear_schedule_and_resolution():
    schedule = LinearSchedule(1.0, 3.0, n_rounds=2)
    assert [schedule(r) for r in (-1, 0, 1, 2, 10)] == [1.0, 1.0, 2.0, 3.0, 3.0]
    assert LinearSchedule(0.0, 5.0, n_rounds=0)(0) == 5.0
    assert resolve_exponent(schedule, 1, name="alpha") == 2.0
    assert resolve_exponent(np.float32(2.5), 0, name="beta") == 2.5
    assert resolve_exponent(lambda r: 2 * r, 3, name="alpha") == 6.0
    with pytest.raises(ValueError, match=r"alpha \(from its schedule at round 2\)"):
        resolve_exponent(LinearSchedule(1.0, -1.0, n_rounds=2), 2, name="alpha")
    with pytest.raises(TypeError, match="beta"):
        resolve_exponent("5", 0, name="beta")


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda s: power_sample(s[:0], 1), ValueError, "pool is empty"),
        (lambda s: power_sample(s, 0), ValueError, "batch_size must be an integer >= 1"),
        (lambda s: power_sample(s, 11), ValueError, "batch_size = 11 exceeds the pool size 10"),
        (lambda s: power_sample(s, 2.0), TypeError, "batch_size"),
        (lambda s: power_sample(s, True), TypeError, "batch_size"),
        (lambda s: power_sample(s, 2, alpha=-0.5), ValueError, "alpha must be a finite"),
        (lambda s: power_sample(s, 2, alpha=np.nan), ValueError, "alpha"),
        (lambda s: softmax_sample(s, 2, beta=-1), ValueError, "beta"),
        (lambda s: softrank_sample(s, 2, beta=np.inf), ValueError, "beta"),
        (lambda s: uniform_top_sample(s, 2, factor=0), ValueError, "factor"),
        (lambda s: power_sample(s.reshape(2, 5), 2), ValueError, "1-D"),
        (lambda s: power_sample(np.where(s > 0.5, np.nan, s), 2), ValueError, "finite"),
        (lambda s: power_sample(np.where(s > 0.5, np.inf, s), 2), ValueError, "finite"),
        (lambda s: power_sample(s, 2, random_state=-1), ValueError, "random_state"),
        (lambda s: power_sample(s, 2, random_state="x"), TypeError, "random_state"),
        (lambda s: random_sample(0, 1), ValueError, "pool is empty"),
        (lambda s: random_sample(3, 4), ValueError, "exceeds the pool size 3"),
        (lambda s: thompson_sample(np.zeros((10, 1, 1)), 2), ValueError, "K = 1"),
    ],
)
def test_bad_input_raises_clear_errors_and_leaves_scores_untouched(call, error, match):
    scores = np.random.default_rng(0).random(10)
    before = scores.copy()
    with pytest.raises(error, match=match):
        call(scores)
    np.testing.assert_array_equal(scores, before)


def test_public_names_are_exported():
    for name in sampling.__all__:
        assert hasattr(sampling, name)


def test_top_sample_warns_when_a_tie_without_information_decides():
    # issue 29 item 3: one rule for top-B and power sampling
    with pytest.warns(AcquisitionWarning, match=r"Only 1 of 5 .* 2 points of the batch were "
                                                r"drawn by the seeded tie-break among the 4"):
        batch = top_sample(np.array([0.0, 0.7, 0.0, 0.0, 0.0]), 3, random_state=0)
    assert batch[0] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        top_sample(np.array([0.0, 0.7, 0.0, 0.2]), 2, random_state=0)  # takes no part of a tie
        top_sample(np.array([0.5, 0.7, 0.5, 0.2]), 1, random_state=0)  # positive scores
        top_sample(np.array([-0.5, 0.7, -0.1, -0.2]), 3, random_state=0)  # ranked, no tie
        top_sample(np.zeros(3), 3, random_state=0)  # the whole pool: nothing was chosen


def test_draw_slot_samples_is_one_integers_draw():
    """The Thompson slots of every path (in memory, chunked, Dask) come from this one draw."""
    from skal_power.sampling import draw_slot_samples

    samples, columns = draw_slot_samples(np.random.default_rng(3), 6, 40)
    expected = np.random.default_rng(3).integers(0, 6, size=40)
    np.testing.assert_array_equal(samples[columns], expected)
    assert np.all(np.diff(samples) > 0)


def test_thompson_sample_uses_the_slot_draw():
    from skal_power.sampling import draw_slot_samples, pick_per_slot, sample_kl_to_mean

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(30, 5, 3))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    from skal_power._validation import check_seed

    samples, columns = draw_slot_samples(np.random.default_rng(check_seed(7)), 5, 6)
    expected = pick_per_slot(sample_kl_to_mean(log_probs, samples), columns)
    got = thompson_sample(log_probs, 6, random_state=7)
    np.testing.assert_array_equal(got[0], expected[0])
