"""Greedy batch kernels against brute force over all C^b label configurations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skal_power.batch import batch_bald, batch_eig, batch_evaluation_bald, default_max_memory
from skal_power.scores import bald, eig, evaluation_bald
from skal_power.sampling import top_sample


def random_log_probs(seed, n, k, c, scale=2.0):
    rng = np.random.default_rng(seed)
    logits = scale * rng.normal(size=(n, k, c))
    return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


def brute_joint_entropy(log_probs, batch):
    probs = np.exp(log_probs)
    n_classes = probs.shape[2]
    total = 0.0
    for labels in itertools.product(range(n_classes), repeat=len(batch)):
        joint = np.prod([probs[i, :, c] for i, c in zip(batch, labels)], axis=0).mean()
        if joint > 0:
            total -= joint * np.log(joint)
    return total


def brute_conditional(log_probs, batch):
    probs = np.exp(log_probs)
    return sum(-(probs[i] * np.where(probs[i] > 0, log_probs[i], 0)).sum(-1).mean() for i in batch)


def brute_batch_bald(log_probs, batch):
    return brute_joint_entropy(log_probs, batch) - brute_conditional(log_probs, batch)


def naive_greedy(objective, n_points, batch_size):
    chosen = []
    for _ in range(batch_size):
        best = max((n for n in range(n_points) if n not in chosen),
                   key=lambda n: objective(chosen + [n]))
        chosen.append(best)
    return chosen


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 12), k=st.integers(2, 6),
       c=st.integers(2, 4), b=st.integers(1, 3))
def test_batch_bald_scores_equal_brute_force(seed, n, k, c, b):
    log_probs = random_log_probs(seed, n, k, c)
    indices, scores = batch_bald(log_probs, b, on_saturation="continue")  # the raw objective
    for step in range(b):
        expected = brute_batch_bald(log_probs, list(indices[:step + 1]))
        assert scores[step] == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_greedy_picks_equal_a_naive_reference(seed):
    log_probs = random_log_probs(seed, 14, 5, 3)
    indices, _ = batch_bald(log_probs, 4, on_saturation="continue", random_state=0)
    assert indices.tolist() == naive_greedy(lambda b: brute_batch_bald(log_probs, b), 14, 4)


@pytest.mark.parametrize("seed", range(3))
def test_batch_eig_and_evaluation_bald_equal_brute_force(seed):
    m = random_log_probs(seed, 10, 4, 3)
    m2 = random_log_probs(seed + 100, 10, 3, 3)
    indices, scores = batch_eig(m, m2, 3)
    assert indices.tolist() == naive_greedy(
        lambda b: brute_joint_entropy(m, b) - brute_joint_entropy(m2, b), 10, 3)
    for step in range(3):
        batch = list(indices[:step + 1])
        assert scores[step] == pytest.approx(
            brute_joint_entropy(m, batch) - brute_joint_entropy(m2, batch), abs=1e-10)
    indices, scores = batch_evaluation_bald(m, m2, 3)
    objective = lambda b: brute_batch_bald(m, b) - brute_batch_bald(m2, b)  # noqa: E731
    assert indices.tolist() == naive_greedy(objective, 10, 3)
    assert scores[-1] == pytest.approx(objective(list(indices)), abs=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_batch_of_one_equals_single_point_scores(seed):
    m = random_log_probs(seed, 50, 6, 5)
    m2 = random_log_probs(seed + 1, 50, 4, 5)
    index, score = batch_bald(m, 1)
    assert score[0] == pytest.approx(bald(m).max(), abs=1e-10)
    assert index[0] == np.argmax(bald(m))
    index, score = batch_eig(m, m2, 1)
    assert score[0] == pytest.approx(eig(m, m2).max(), abs=1e-10)
    index, score = batch_evaluation_bald(m, m2, 1)
    assert score[0] == pytest.approx(evaluation_bald(m, m2).max(), abs=1e-10)


def test_batch_eig_works_with_point_estimates():
    m = random_log_probs(0, 20, 1, 3)
    m2 = random_log_probs(1, 20, 1, 3)
    indices, scores = batch_eig(m, m2, 3)
    assert len(set(indices.tolist())) == 3


def test_sampled_joint_entropy_converges_to_exact():
    log_probs = random_log_probs(3, 30, 8, 4)
    exact_idx, exact = batch_bald(log_probs, 4)
    # Force the sampled regime from the second pick on.
    _, sampled = batch_bald(log_probs, 4, max_exact_size=1, n_configurations=200_000,
                            random_state=0)
    # Standard error with 2e5 configurations is well under 0.01 nats here.
    np.testing.assert_allclose(sampled, exact, atol=0.02)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(300, 700), duplicate=st.booleans())
def test_lazy_greedy_picks_equal_exhaustive_greedy_while_exact(seed, n, duplicate):
    # 300+ candidates: lazy steps stop after the first chunks, so the bound is really used
    log_probs = random_log_probs(seed, n, 6, 3, scale=3.0)
    if duplicate:  # exact ties: both must break them by the same seeded keys
        log_probs = np.concatenate([log_probs, log_probs])
    # the raw objective: K = 6 can be spent within 6 picks, and both must agree after too
    lazy = batch_bald(log_probs, 6, lazy=True, on_saturation="continue", random_state=seed)
    full = batch_bald(log_probs, 6, lazy=False, on_saturation="continue", random_state=seed)
    np.testing.assert_array_equal(lazy[0], full[0])
    np.testing.assert_allclose(lazy[1], full[1], rtol=0, atol=1e-10)


def test_lazy_greedy_evaluates_fewer_candidates(monkeypatch):
    from skal_power.batch import _joint

    evaluated = []
    original = _joint.JointEntropyTracker.candidate_entropies
    monkeypatch.setattr(_joint.JointEntropyTracker, "candidate_entropies",
                        lambda self, c: evaluated.append(len(c)) or original(self, c))
    # most pool points are nearly certain (little BALD), as in a real pool
    log_probs = random_log_probs(0, 2000, 8, 3, scale=3.0)
    confident = np.arange(2000) % 10 != 0
    log_probs[confident] = random_log_probs(1, int(confident.sum()), 8, 3, scale=0.2)
    batch_bald(log_probs, 6, lazy=True, on_saturation="continue")
    lazy_count, evaluated[:] = sum(evaluated), []
    batch_bald(log_probs, 6, lazy=False, on_saturation="continue")
    assert lazy_count < sum(evaluated) / 2


def test_lazy_greedy_in_the_sampled_regime_is_as_good_within_sampling_error():
    log_probs = random_log_probs(6, 400, 10, 4, scale=3.0)
    kwargs = dict(max_exact_size=1, n_configurations=20_000, random_state=0,
                  on_saturation="continue")
    lazy = batch_bald(log_probs, 6, lazy=True, **kwargs)
    full = batch_bald(log_probs, 6, lazy=False, **kwargs)
    # score each batch exactly (4^6 configurations) rather than with its own estimate
    exact = [brute_batch_bald(log_probs, list(batch)) for batch in (lazy[0], full[0])]
    assert exact[0] == pytest.approx(exact[1], abs=0.03)


def test_sampled_estimate_equals_a_float64_reference_when_configurations_are_rare():
    torch = pytest.importorskip("torch")
    from skal_power.batch._joint import JointEntropyTracker

    # 100 uncertain picks: P(s) of a configuration falls far below float32's range
    log_probs = random_log_probs(7, 300, 6, 10, scale=1.0)
    probs = torch.from_numpy(np.exp(log_probs).transpose(1, 0, 2).copy())
    tracker = JointEntropyTracker(torch, probs, max_exact_size=1, n_configurations=512,
                                  max_memory=2**16, rng=np.random.default_rng(0))
    for index in range(100):
        tracker.add(index)
    got = tracker.candidate_entropies(np.arange(100, 300))
    weights, batch_entropy, _ = tracker._current_draw()  # the draw just scored on
    weights = weights.numpy().astype(np.float64)  # (M, K): posterior weights per configuration
    mixed = np.einsum("mk,nkc->nmc", weights, np.exp(log_probs[100:]))
    expected = batch_entropy - (mixed * np.log(mixed)).sum(axis=2).mean(axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_the_callers_array_is_never_modified():
    m = random_log_probs(8, 20, 1, 3)  # K = 1: a transposed view would share memory
    m2 = random_log_probs(9, 20, 1, 3)
    before = m.copy(), m2.copy()
    batch_eig(m, m2, 3)
    np.testing.assert_array_equal(m, before[0])
    np.testing.assert_array_equal(m2, before[1])


def test_sampled_regime_is_seeded():
    log_probs = random_log_probs(4, 30, 8, 4)
    kwargs = dict(max_exact_size=1, n_configurations=500)
    first = batch_bald(log_probs, 4, random_state=1, **kwargs)
    again = batch_bald(log_probs, 4, random_state=1, **kwargs)
    np.testing.assert_array_equal(first[1], again[1])


def test_default_max_memory_follows_the_device():
    torch = pytest.importorskip("torch")
    assert default_max_memory("cpu") == default_max_memory(torch.device("cpu")) == 2**23
    assert default_max_memory("cuda") == default_max_memory("cuda:1") == 2**30
    assert default_max_memory("meta") == 2**30  # any accelerator gets large chunks


def test_max_memory_none_is_the_cpu_default():
    log_probs = random_log_probs(6, 40, 6, 4)
    for kwargs in ({}, dict(max_exact_size=1, n_configurations=300, random_state=0)):
        default = batch_bald(log_probs, 5, **kwargs)
        explicit = batch_bald(log_probs, 5, max_memory=2**23, **kwargs)
        np.testing.assert_array_equal(default[0], explicit[0])
        np.testing.assert_array_equal(default[1], explicit[1])


def test_chunking_does_not_change_the_result():
    log_probs = random_log_probs(5, 60, 6, 4)
    whole = batch_bald(log_probs, 4)
    tiny_chunks = batch_bald(log_probs, 4, max_memory=1)
    sampled = batch_bald(log_probs, 6, max_exact_size=1, random_state=0)
    sampled_tiny = batch_bald(log_probs, 6, max_exact_size=1, random_state=0, max_memory=1)
    np.testing.assert_array_equal(sampled[0], sampled_tiny[0])
    np.testing.assert_allclose(sampled[1], sampled_tiny[1], rtol=0, atol=1e-5)
    np.testing.assert_array_equal(whole[0], tiny_chunks[0])
    np.testing.assert_allclose(whole[1], tiny_chunks[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_duplicated_pool_batch_bald_avoids_copies_top_bald_does_not(seed):
    base = random_log_probs(seed, 40, 32, 4, scale=4.0)
    repeated = np.concatenate([base, base, base])
    indices, _ = batch_bald(repeated, 6)
    assert len(set((indices % 40).tolist())) == 6
    top = top_sample(bald(repeated), 6)
    assert len(set((top % 40).tolist())) < 6


def test_minus_inf_log_probs_give_finite_scores():
    probs = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.5], [1.0, 0.0]], [[0.2, 0.8]] * 2])
    with np.errstate(divide="ignore"):
        _, scores = batch_bald(np.log(probs), 3, on_saturation="continue")
    assert np.all(np.isfinite(scores))


def test_torch_input_is_accepted():
    torch = pytest.importorskip("torch")
    log_probs = random_log_probs(6, 12, 4, 3)
    np.testing.assert_array_equal(batch_bald(torch.from_numpy(log_probs), 3)[0],
                                  batch_bald(log_probs, 3)[0])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda lp: batch_bald(lp, 0), ValueError, "batch_size"),
        (lambda lp: batch_bald(lp, 11), ValueError, "batch_size"),
        (lambda lp: batch_bald(lp[:, :1], 2), ValueError, "K = 1"),
        (lambda lp: batch_bald(lp[:0], 1), ValueError, "empty"),
        (lambda lp: batch_bald(lp, 2, n_configurations=0), ValueError, "n_configurations"),
        (lambda lp: batch_bald(lp, 2, max_memory=0), ValueError, "max_memory"),
        (lambda lp: batch_eig(lp, lp[:5], 2), ValueError, "same N points"),
        (lambda lp: batch_evaluation_bald(lp, lp[..., :2], 2), ValueError, "same N points"),
        (lambda lp: batch_bald(np.where(np.arange(3) == 0, np.nan, lp), 2), ValueError, "NaN"),
        (lambda lp: batch_bald(lp + 0.5, 2), ValueError, "normalise"),
        (lambda lp: batch_bald(lp, 2, lazy="yes"), TypeError, "lazy"),
    ],
)
def test_bad_input_is_a_clear_error(call, error, message):
    log_probs = random_log_probs(7, 10, 4, 3)
    before = log_probs.copy()
    with pytest.raises(error, match=message):
        call(log_probs)
    np.testing.assert_array_equal(log_probs, before)
