"""Tests of skal_power.scores.epig against a brute-force loop, bounds and bad input."""

from __future__ import annotations

import math
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _reference import log_softmax, random_log_probs
from conftest import REQUIRE_NATIVE
from skal_power import scores
from skal_power._epig_kernel import _block_bytes, block_shape
from skal_power._kernels import joint_plogp_kernel
from skal_power.threads import limit_threads


def brute_force_epig(log_probs_pool, log_probs_target) -> np.ndarray:
    """EPIG by loops over (n, m, y, y*) in float64, straight from the definition."""
    pool = np.exp(np.asarray(log_probs_pool, dtype=np.float64))
    target = np.exp(np.asarray(log_probs_target, dtype=np.float64))
    n_pool, n_samples, n_classes = pool.shape
    n_target = target.shape[0]
    out = np.empty(n_pool)
    for n in range(n_pool):
        total = 0.0
        for m in range(n_target):
            mean_pool = [sum(pool[n, k, c] for k in range(n_samples)) / n_samples
                         for c in range(n_classes)]
            mean_target = [sum(target[m, k, d] for k in range(n_samples)) / n_samples
                           for d in range(n_classes)]
            for y in range(n_classes):
                for y_star in range(n_classes):
                    joint = sum(pool[n, k, y] * target[m, k, y_star]
                                for k in range(n_samples)) / n_samples
                    if joint > 0:  # 0 log 0 = 0
                        total += joint * math.log(joint / (mean_pool[y] * mean_target[y_star]))
        out[n] = total / n_target
    return out


@st.composite
def pool_and_target(draw, min_samples=1, max_samples=5):
    """Pool (N, K, C) and target (M, K, C) log-probs on the same K samples and C classes."""
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 5))
    k = draw(st.integers(min_samples, max_samples))
    c = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    zero_fraction = draw(st.sampled_from([0.0, 0.3, 0.8]))
    scale = draw(st.sampled_from([0.1, 3.0, 30.0]))
    rng = np.random.default_rng(seed)
    pool = random_log_probs(rng, (n, k, c), zero_fraction=zero_fraction, scale=scale)
    target = random_log_probs(rng, (m, k, c), zero_fraction=zero_fraction, scale=scale)
    return pool, target


# --- against the definition -------------------------------------------------------------


@pytest.mark.parametrize("zero_fraction", [0.0, 0.3])
@pytest.mark.parametrize("shape", [(7, 5, 4, 6), (3, 2, 2, 1), (4, 8, 6, 9)])
def test_epig_matches_brute_force_float64(shape, zero_fraction):
    n, k, c, m = shape
    rng = np.random.default_rng(sum(shape))
    pool = random_log_probs(rng, (n, k, c), zero_fraction=zero_fraction)
    target = random_log_probs(rng, (m, k, c), zero_fraction=zero_fraction)
    got = scores.epig(pool, target)
    expected = brute_force_epig(pool, target)
    assert got.dtype == np.float64 and got.shape == (n,)
    assert expected.max() > 1e-2  # not all near 0: the relative tolerance is what counts
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)


def test_epig_with_zero_probabilities_matches_brute_force():
    # one-hot samples: most joint probabilities are exactly 0 (0 log 0 = 0 path)
    rng = np.random.default_rng(11)
    eye = np.eye(4, dtype=bool)
    pool = np.where(eye[rng.integers(0, 4, size=(6, 5))], 0.0, -np.inf)
    target = np.where(eye[rng.integers(0, 4, size=(3, 5))], 0.0, -np.inf)
    mixed = random_log_probs(rng, (2, 5, 4), zero_fraction=0.5)
    pool = np.concatenate([pool, mixed])
    got = scores.epig(pool, target)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, brute_force_epig(pool, target), rtol=1e-10, atol=1e-15)


def test_identical_disagreeing_one_hot_points_give_log_2():
    one_hot = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]])
    np.testing.assert_allclose(scores.epig(one_hot, one_hot), [math.log(2)], rtol=1e-15)


def test_targets_on_which_samples_agree_give_zero():
    # the target predictions do not depend on ω: a label of x says nothing about them
    rng = np.random.default_rng(12)
    pool = random_log_probs(rng, (20, 6, 3), zero_fraction=0.2)
    target = np.repeat(random_log_probs(rng, (9, 1, 3)), 6, axis=1)
    np.testing.assert_allclose(scores.epig(pool, target), 0.0, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(data=pool_and_target())
def test_epig_matches_brute_force_on_random_inputs(data):
    pool, target = data
    expected = np.maximum(brute_force_epig(pool, target), 0.0)
    np.testing.assert_allclose(scores.epig(pool, target), expected, rtol=1e-9, atol=1e-13)


# --- properties -------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(data=pool_and_target())
def test_epig_is_finite_and_non_negative(data):
    got = scores.epig(*data)
    assert np.all(np.isfinite(got))
    assert np.all(got >= -1e-12)


@settings(max_examples=60, deadline=None)
@given(data=pool_and_target(min_samples=2))
def test_epig_is_at_most_bald_of_the_pool_point(data):
    # data processing: y* <- ω -> y, so I[y; y*] <= I[y; ω]
    pool, target = data
    assert np.all(scores.epig(pool, target) <= scores.bald(pool) + 1e-9)


@settings(max_examples=60, deadline=None)
@given(data=pool_and_target(min_samples=2))
def test_epig_is_at_most_mean_bald_of_the_targets(data):
    pool, target = data
    assert np.all(scores.epig(pool, target) <= scores.bald(target).mean() + 1e-9)


@settings(max_examples=30, deadline=None)
@given(data=pool_and_target(min_samples=1, max_samples=1))
def test_one_posterior_sample_gives_zero(data):
    np.testing.assert_array_equal(scores.epig(*data), 0.0)


@settings(max_examples=60, deadline=None)
@given(data=pool_and_target())
def test_chunking_does_not_change_the_scores(data):
    pool, target = data
    large = scores.epig(pool, target, max_memory=2**30)
    np.testing.assert_allclose(scores.epig(pool, target, max_memory=1), large, rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(scores.epig(pool, target, max_memory=3000), large, rtol=0,
                               atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(data=pool_and_target())
def test_torch_input_equals_numpy_input(data):
    torch = pytest.importorskip("torch")
    pool, target = data
    expected = scores.epig(pool, target)
    got = scores.epig(torch.tensor(pool, requires_grad=True), torch.tensor(target))
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(scores.epig(torch.tensor(pool), target), expected)


def test_float32_input_is_exponentiated_in_float64():
    rng = np.random.default_rng(13)
    pool = random_log_probs(rng, (30, 4, 5), zero_fraction=0.2).astype(np.float32)
    target = random_log_probs(rng, (10, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(scores.epig(pool, target),
                               scores.epig(pool.astype(np.float64), target.astype(np.float64)),
                               rtol=0, atol=1e-14)


def test_thread_count_does_not_change_the_scores(monkeypatch):
    rng = np.random.default_rng(14)
    pool = random_log_probs(rng, (300, 5, 4), zero_fraction=0.2)
    target = random_log_probs(rng, (40, 5, 4))
    with limit_threads(1):
        one = scores.epig(pool, target, max_memory=2**16)
    monkeypatch.setenv("SKAL_POWER_NUM_THREADS", "3")
    np.testing.assert_allclose(scores.epig(pool, target, max_memory=2**16), one, rtol=0,
                               atol=1e-12)


def test_peak_memory_is_bounded_by_max_memory():
    rng = np.random.default_rng(15)
    pool = random_log_probs(rng, (3000, 8, 10))
    target = random_log_probs(rng, (600, 8, 10))
    max_memory = 2**20
    scores.epig(pool[:10], target[:10])  # imports and first-call allocations
    tracemalloc.start()
    try:
        scores.epig(pool, target, max_memory=max_memory)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the output and its per-worker pieces are (N,) float64 arrays
    assert peak <= max_memory + 8 * 8 * len(pool) + 2**16, peak
    # a full joint table (N, M, C, C) would take 1.4 GB
    assert peak < 8 * 600 * 100 * len(pool) / 100


@pytest.mark.parametrize("precision", ["double", "single"])
@pytest.mark.parametrize("max_memory", [2**18, 2**20, 2**22])
def test_one_worker_stays_within_max_memory_in_both_precisions(precision, max_memory):
    # One kernel thread makes the peak deterministic. Before the chunks' arrays were
    # buffers, a chunk's fresh arrays coexisted with the previous chunk's, and the fused
    # float32 path did not count its target chunk: 1.8 MB at max_memory = 1 MiB.
    rng = np.random.default_rng(15)
    pool = random_log_probs(rng, (3000, 8, 10))
    target = random_log_probs(rng, (600, 8, 10))
    scores.epig(pool[:10], target[:10], precision=precision)  # first-call allocations
    with limit_threads(1):
        tracemalloc.start()
        try:
            scores.epig(pool, target, max_memory=max_memory, precision=precision)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # the block's buffers, then a few (N,) float64 vectors: the output and its terms
    assert peak <= max_memory + 8 * 8 * len(pool) + 2**13, peak


@pytest.mark.parametrize("n_pool, n_target, k, c", [(10**5, 1000, 20, 10), (7, 3, 2, 100),
                                                    (1, 1, 50, 1000), (5000, 1, 1, 2)])
@pytest.mark.parametrize("max_memory", [1, 2**12, 2**20, 2**23])
def test_block_shape_fits_max_memory(n_pool, n_target, k, c, max_memory):
    n_rows, m_rows = block_shape(n_pool, n_target, k, c, max_memory)
    assert 1 <= n_rows <= n_pool and 1 <= m_rows <= n_target
    if _block_bytes(1, 1, k, c) <= max_memory:
        assert _block_bytes(n_rows, m_rows, k, c) <= max_memory


def test_empty_pool_gives_empty_scores():
    target = np.log(np.full((3, 2, 4), 0.25))
    got = scores.epig(np.zeros((0, 2, 4)), target)
    assert got.shape == (0,) and got.dtype == np.float64


def test_read_only_input_is_fine_and_left_untouched():
    rng = np.random.default_rng(16)
    pool = random_log_probs(rng, (25, 3, 4), zero_fraction=0.3)
    target = random_log_probs(rng, (5, 3, 4), zero_fraction=0.3)
    before = pool.copy(), target.copy()
    expected = scores.epig(pool, target)
    pool.setflags(write=False)
    target.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(scores.epig(pool, target), expected)
    np.testing.assert_array_equal(pool, before[0])
    np.testing.assert_array_equal(target, before[1])


# --- bad input --------------------------------------------------------------------------


def _good(shape, seed=17):
    return log_softmax(np.random.default_rng(seed).normal(size=shape))


def test_mismatched_posterior_samples_raise():
    with pytest.raises(ValueError, match=r"same K posterior samples.*K = 4 and K = 3"):
        scores.epig(_good((5, 4, 3)), _good((2, 3, 3)))


def test_mismatched_classes_raise():
    with pytest.raises(ValueError, match=r"same C classes.*C = 3 and C = 2"):
        scores.epig(_good((5, 4, 3)), _good((2, 4, 2)))


@pytest.mark.parametrize("shape", [(5,), (5, 2), (1, 2, 3, 4)])
@pytest.mark.parametrize("which", ["log_probs_pool", "log_probs_target"])
def test_wrong_rank_raises(shape, which):
    good = _good((5, 2, 3))
    bad = np.zeros(shape)
    args = (bad, good) if which == "log_probs_pool" else (good, bad)
    with pytest.raises(ValueError, match=rf"{which} must have shape \(N, K, C\)"):
        scores.epig(*args)


def test_empty_target_raises():
    with pytest.raises(ValueError, match="log_probs_target is empty"):
        scores.epig(_good((5, 2, 3)), np.zeros((0, 2, 3)))


@pytest.mark.parametrize("max_memory", [1, 2**30])
@pytest.mark.parametrize("which", ["log_probs_pool", "log_probs_target"])
def test_nan_raises_and_names_the_point(which, max_memory):
    pool, target = _good((40, 4, 3)), _good((30, 4, 3), seed=18)
    bad = pool if which == "log_probs_pool" else target
    bad[27, 2, 1] = np.nan
    with pytest.raises(ValueError, match=rf"{which} contains NaN \(first at point 27, "
                                         r"sample 2, class 1\)"):
        scores.epig(pool, target, max_memory=max_memory)


def test_posinf_and_unnormalised_rows_raise():
    pool, target = _good((10, 4, 3)), _good((6, 4, 3), seed=19)
    posinf = pool.copy()
    posinf[3, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"log_probs_pool contains \+inf \(first at point 3"):
        scores.epig(posinf, target)
    unnormalised = target.copy()
    unnormalised[5, 1] += 0.01
    with pytest.raises(ValueError, match=r"log_probs_target rows must normalise.*point 5"):
        scores.epig(pool, unnormalised)
    with pytest.raises(ValueError, match="not logits or probabilities"):
        scores.epig(np.exp(pool), target)


@pytest.mark.parametrize("max_memory, error", [(0, ValueError), (-5, ValueError),
                                               (1.5, TypeError), (True, TypeError)])
def test_bad_max_memory_raises(max_memory, error):
    with pytest.raises(error, match="max_memory must be an integer >= 1"):
        scores.epig(_good((3, 2, 2)), _good((2, 2, 2)), max_memory=max_memory)


def test_non_numeric_input_raises_type_error():
    with pytest.raises(TypeError, match="log_probs_target must hold real numbers"):
        scores.epig(_good((3, 2, 2)), np.full((2, 2, 2), "a"))


# ------------------------------------------------------------------------ the strategies
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402

from skal_power.adapters import sampled_log_proba as _sampled  # noqa: E402
from skal_power.sampling import Softrank, top_sample  # noqa: E402
from skal_power.scores import epig  # noqa: E402
from skal_power.strategies import EPIG, PowerEPIG, TargetAcquisition  # noqa: E402


@pytest.fixture(scope="module")
def forest_problem():
    X, y = load_digits(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=8, random_state=0).fit(X[:80], y[:80])
    return forest, X[80:380], X[1500:1560]


def test_epig_strategy_scores_are_the_score_of_its_targets(forest_problem):
    forest, X_pool, X_target = forest_problem
    strategy = EPIG(X_target=X_target, random_state=0)
    expected = epig(_sampled(forest, X_pool), _sampled(forest, X_target))
    np.testing.assert_allclose(strategy.score_pool(forest, X_pool, seed=3), expected, rtol=1e-6)
    indices, scores = strategy(forest, X_pool, n_instances=5)
    np.testing.assert_allclose(np.sort(scores), np.sort(expected[top_sample(expected, 5)]),
                               rtol=1e-6)
    assert strategy.n_targets_ == len(X_target)


def test_default_targets_are_a_seeded_subsample_of_the_pool(forest_problem):
    forest, X_pool, _ = forest_problem
    first = EPIG(target_size=30, random_state=4)(forest, X_pool, 3)
    again = EPIG(target_size=30, random_state=4)(forest, X_pool, 3)
    np.testing.assert_array_equal(first[0], again[0])
    strategy = EPIG(target_size=10_000, random_state=0)
    strategy(forest, X_pool, 2)
    assert strategy.n_targets_ == len(X_pool)  # capped at the pool


def test_a_target_sampler_gets_a_seeded_generator(forest_problem):
    forest, X_pool, X_target = forest_problem
    seen = []

    def sampler(rng):
        seen.append(rng)
        return X_target[rng.choice(len(X_target), 20, replace=False)]

    a = PowerEPIG(X_target=sampler, random_state=1)(forest, X_pool, 4)
    b = PowerEPIG(X_target=sampler, random_state=1)(forest, X_pool, 4)
    np.testing.assert_array_equal(a[0], b[0])
    assert all(isinstance(rng, np.random.Generator) for rng in seen)


def test_mc_dropout_targets_share_the_pool_masks():
    pytest.importorskip("torch")
    from skal_power.models import MCDropoutClassifier

    X, y = load_digits(return_X_y=True)
    net = MCDropoutClassifier(module__hidden_units=(32,), max_epochs=2,
                              iterator_train__samples_per_epoch=256, random_state=0)
    net.fit(X[:100] / 16, y[:100])
    X_pool, X_target = X[100:300] / 16, X[300:340] / 16
    strategy = EPIG(X_target=X_target, n_samples=6)
    expected = epig(_sampled(net, X_pool, n_samples=6, random_state=9),
                    _sampled(net, X_target, n_samples=6, random_state=9))
    np.testing.assert_allclose(strategy.score_pool(net, X_pool, seed=9), expected, rtol=1e-6)


def test_epig_on_dask_needs_in_memory_targets(forest_problem):
    da = pytest.importorskip("dask.array")
    forest, X_pool, X_target = forest_problem
    lazy = da.from_array(X_pool, chunks=70)
    for strategy in (EPIG(X_target=X_target, random_state=2),
                     PowerEPIG(X_target=X_target, random_state=2),
                     TargetAcquisition(Softrank(beta=2.0), X_target=X_target, random_state=2)):
        expected = type(strategy)(**strategy.get_params(deep=False))(forest, X_pool, 6)
        got = strategy(forest, lazy, 6)
        np.testing.assert_array_equal(got[0], expected[0])
    with pytest.raises(TypeError, match="cannot query a Dask pool"):
        EPIG(random_state=0)(forest, lazy, 3)


@pytest.mark.parametrize("kernel", ["native", "numpy float32"])
def test_single_precision_is_within_a_micro_nat_of_double(kernel, monkeypatch):
    if kernel == "native" and joint_plogp_kernel() is None:
        if REQUIRE_NATIVE:
            pytest.fail("SKAL_POWER_REQUIRE_NATIVE=1 but the compiled kernel is not built")
        pytest.skip("the compiled kernel skal_power._native is not built")
    if kernel != "native":
        monkeypatch.setenv("SKAL_POWER_BACKEND", "torch")  # no compiled kernel
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(300, 20, 10)) * 3
    pool = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    logits = rng.normal(size=(70, 20, 10)) * 3
    target = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    pool[:5, :, 3] = -np.inf  # zero probabilities take the 0 log 0 path in float32 too
    pool[:5] -= np.log(np.exp(pool[:5]).sum(-1, keepdims=True))
    double = epig(pool, target)
    single = epig(pool, target, precision="single", max_memory=2**16)
    np.testing.assert_allclose(single, double, atol=1e-6, rtol=0)
    # any block shape gives the same scores up to float32 rounding
    other = epig(pool, target, precision="single", max_memory=2**22)
    np.testing.assert_allclose(other, single, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="precision must be 'double' or 'single'"):
        epig(pool, target, precision="half")


# ------------------------------------------------------------------------ BatchEPIG
import itertools  # noqa: E402

from skal_power.batch import batch_epig  # noqa: E402


def _joint_epig_brute_force(pool, target, batch):
    """mean_j I[y_B; y*_j] by enumerating every configuration, float64."""
    p = np.exp(pool.astype(np.float64))  # (N, K, C)
    t = np.exp(target.astype(np.float64))
    n_samples, n_classes = p.shape[1], p.shape[2]
    total = 0.0
    for j in range(len(t)):
        info = 0.0
        for labels in itertools.product(range(n_classes), repeat=len(batch)):
            per_sample = np.prod([p[i, :, c] for i, c in zip(batch, labels)], axis=0)  # (K,)
            joint = (per_sample[:, None] * t[j]).mean(axis=0)  # (C,) over y*
            marginal_batch = per_sample.mean()
            marginal_target = t[j].mean(axis=0)
            mask = joint > 0
            info += np.sum(joint[mask] * np.log(joint[mask]
                                                / (marginal_batch * marginal_target[mask])))
        total += info
    return total / len(t)


def _random_log_probs(rng, n, k, c, scale=2.0):
    z = rng.normal(size=(n, k, c)) * scale
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_batch_epig_matches_a_brute_force_greedy():
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    pool, target = _random_log_probs(rng, 7, 3, 2), _random_log_probs(rng, 3, 3, 2)
    indices, scores = batch_epig(pool, target, 3)
    chosen = []
    for step in range(3):
        gains = {i: _joint_epig_brute_force(pool, target, chosen + [i])
                 for i in range(len(pool)) if i not in chosen}
        best = max(gains, key=gains.get)
        assert indices[step] == best
        np.testing.assert_allclose(scores[step], gains[best], rtol=1e-9, atol=1e-12)
        chosen.append(best)


def test_batch_epig_of_one_point_is_epig_and_the_batch_never_loses_information():
    pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    pool, target = _random_log_probs(rng, 40, 5, 4), _random_log_probs(rng, 6, 5, 4)
    indices, scores = batch_epig(pool, target, 4)
    single = epig(pool, target)
    assert indices[0] == int(np.argmax(single))
    np.testing.assert_allclose(scores[0], single.max(), rtol=1e-9)
    assert np.all(np.diff(scores) >= -1e-12)
    # at most what the targets' labels hold: mean_j H[y*_j]
    p = np.exp(target).mean(axis=1)
    assert scores[-1] <= -np.mean(np.sum(p * np.log(p), axis=1)) + 1e-12


def test_batch_epig_sampled_regime_stays_close_to_exact():
    pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    pool, target = _random_log_probs(rng, 30, 8, 3), _random_log_probs(rng, 4, 8, 3)
    exact = batch_epig(pool, target, 4)
    sampled, scores, errors = batch_epig(pool, target, 4, max_exact_size=8 * 3,
                                         n_configurations=4096, random_state=0,
                                         return_std=True)
    assert np.all(errors[1:] > 0)
    np.testing.assert_allclose(scores, exact[1], atol=5 * errors.max() + 1e-9)
    with pytest.raises(ValueError, match="share K posterior samples and C classes"):
        batch_epig(pool, target[:, :4], 2)
