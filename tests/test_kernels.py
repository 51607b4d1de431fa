"""Tests of the fused entropy kernels: both backends, any chunking, same answer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _reference import log_softmax, random_log_probs, reference_terms
from skal_power import _kernels
from conftest import native_kernel_built
from skal_power._kernels import (default_chunk_rows, entropy_terms, kernel_threads,
                                 native_or_none, torch_or_none)


def test_backend_switch_is_read_at_call_time(monkeypatch):
    monkeypatch.setenv("SKAL_POWER_BACKEND", "NumPy")
    assert torch_or_none() is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunk_rows", [1, 3, 64, None])
def test_chunking_does_not_change_the_result(backend, dtype, chunk_rows):
    rng = np.random.default_rng(0)
    log_probs = random_log_probs(rng, (131, 6, 4), zero_fraction=0.2).astype(dtype)
    whole = entropy_terms(log_probs, chunk_rows=10**6)
    chunked = entropy_terms(log_probs, chunk_rows=chunk_rows)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(chunked.predictive_entropy, whole.predictive_entropy, atol=tol)
    np.testing.assert_allclose(chunked.expected_entropy, whole.expected_entropy, atol=tol)
    assert chunked.predictive_entropy.dtype == np.float64


def _available_backends():
    available = ["numpy"]
    if torch_or_none() is not None:
        available.append("torch")
    if native_kernel_built():
        available.append("native")
    return available


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), k=st.integers(1, 4),
       c=st.integers(1, 13), chunk_rows=st.integers(1, 9),
       scale=st.sampled_from([0.1, 3.0, 30.0, 300.0]))
def test_backends_agree_with_the_reference(seed, n, k, c, chunk_rows, scale):
    # c up to 13 covers the native kernel's unrolled class counts and its generic path,
    # and K * C both below and above one vector; scale 300 puts many log-probs below the
    # smallest normal float (exp underflows) next to rows dominated by one class
    log_probs = random_log_probs(np.random.default_rng(seed), (n, k, c), zero_fraction=0.3,
                                 scale=scale)
    predictive, expected = reference_terms(log_probs)
    for name in _available_backends():
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SKAL_POWER_BACKEND", name)
            terms = entropy_terms(log_probs, chunk_rows=chunk_rows)
        np.testing.assert_allclose(terms.predictive_entropy, predictive, atol=1e-12,
                                   err_msg=name)
        np.testing.assert_allclose(terms.expected_entropy, expected, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("max_fused_columns", [0, 1000])
def test_torch_kernel_with_and_without_the_fused_sum_matrix(monkeypatch, max_fused_columns):
    # the torch kernel gets the sums over K and over C from one GEMM when C + K is small
    # and from a sum and a matmul otherwise; both must give the reference values
    if torch_or_none() is None:
        pytest.skip("torch is not installed")
    monkeypatch.setenv("SKAL_POWER_BACKEND", "torch")
    monkeypatch.setattr(_kernels, "_MAX_FUSED_COLUMNS", max_fused_columns)
    log_probs = random_log_probs(np.random.default_rng(5), (53, 7, 6), zero_fraction=0.3)
    predictive, expected = reference_terms(log_probs)
    for chunk_rows in (4, 100):
        terms = entropy_terms(log_probs, chunk_rows=chunk_rows)
        np.testing.assert_allclose(terms.predictive_entropy, predictive, atol=1e-12)
        np.testing.assert_allclose(terms.expected_entropy, expected, atol=1e-12)
    bad = log_probs.copy()
    bad[50, 6] += 0.01
    with pytest.raises(ValueError, match="point 50, sample 6"):
        entropy_terms(bad, chunk_rows=4)


def test_sum_matrix_gives_class_sums_and_row_sums():
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    probs = np.random.default_rng(6).random((5, 3, 4))
    sums = torch.from_numpy(probs.reshape(5, -1)) @ _kernels._sum_matrix(torch, 3, 4,
                                                                          torch.float64)
    np.testing.assert_allclose(sums[:, :4].numpy(), probs.sum(axis=1))
    np.testing.assert_allclose(sums[:, 4:].numpy(), probs.sum(axis=2))


def test_non_contiguous_input(backend):
    rng = np.random.default_rng(1)
    log_probs = random_log_probs(rng, (40, 6, 3))
    strided = log_probs[::2, ::2]
    predictive, expected = reference_terms(strided)
    terms = entropy_terms(strided, chunk_rows=7)
    np.testing.assert_allclose(terms.predictive_entropy, predictive, atol=1e-12)
    np.testing.assert_allclose(terms.expected_entropy, expected, atol=1e-12)


def test_very_negative_log_probs_do_not_produce_nan(backend):
    # exp underflows to 0 for these; p log p must be 0, not NaN
    log_probs = np.array([[[0.0, -800.0], [-1e30, 0.0]]])
    terms = entropy_terms(log_probs)
    assert np.all(np.isfinite(terms.predictive_entropy))
    np.testing.assert_allclose(terms.predictive_entropy, np.log(2), atol=1e-12)
    np.testing.assert_allclose(terms.expected_entropy, 0.0, atol=1e-300)


def test_error_offsets_point_to_the_global_index(backend):
    log_probs = np.log(np.full((50, 2, 2), 0.5))
    log_probs[41, 0, 1] = 0.5
    with pytest.raises(ValueError, match="point 41, sample 0"):
        entropy_terms(log_probs, chunk_rows=4, name="my_param")
    with pytest.raises(ValueError, match="^my_param rows"):
        entropy_terms(log_probs, chunk_rows=4, name="my_param")


def test_rows_within_tolerance_are_accepted(backend):
    log_probs = np.log(np.full((3, 2, 2), 0.5)) + 5e-4
    assert np.all(np.isfinite(entropy_terms(log_probs).predictive_entropy))


@pytest.mark.parametrize("k, c, itemsize", [(20, 10, 4), (1, 1, 8), (10**6, 10**3, 8)])
def test_default_chunk_rows_bounds_the_chunk_size(k, c, itemsize):
    rows = default_chunk_rows(k, c, itemsize)
    assert rows >= 1
    assert rows == 1 or rows * k * c * itemsize <= _kernels.DEFAULT_CHUNK_BYTES
    assert (rows + 1) * k * c * itemsize > _kernels.DEFAULT_CHUNK_BYTES


@pytest.mark.parametrize("n_samples", [2, 54])
def test_float32_probabilities_near_underflow(backend, n_samples):
    # float32 exp gives subnormals and zeros below about -87 and -104; the entropies
    # must still be float32-accurate
    rng = np.random.default_rng(10)
    logits = rng.normal(size=(64, n_samples, 10))
    logits[:, :, 3:] -= rng.uniform(80, 120, size=(64, n_samples, 7))
    log_probs = log_softmax(logits).astype(np.float32)
    predictive, expected = reference_terms(log_probs)
    terms = entropy_terms(log_probs, chunk_rows=16)
    np.testing.assert_allclose(terms.predictive_entropy, predictive, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(terms.expected_entropy, expected, rtol=1e-5, atol=1e-6)


def test_backend_names_are_checked(monkeypatch):
    monkeypatch.setenv("SKAL_POWER_BACKEND", "cuda")
    with pytest.raises(ValueError, match="SKAL_POWER_BACKEND must be one of native, torch"):
        entropy_terms(np.zeros((1, 1, 1)))


def test_automatic_choice_prefers_the_compiled_kernel(monkeypatch):
    monkeypatch.delenv("SKAL_POWER_BACKEND", raising=False)
    assert (native_or_none() is not None) == native_kernel_built()
    monkeypatch.setenv("SKAL_POWER_BACKEND", "torch")
    assert native_or_none() is None


def test_asking_for_a_missing_compiled_kernel_says_so(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_native(name, globals=None, locals=None, fromlist=(), level=0):
        if fromlist and "_native" in fromlist:
            raise ImportError("not built")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", no_native)
    monkeypatch.setenv("SKAL_POWER_BACKEND", "native")
    with pytest.raises(ImportError, match="skal_power._native is not built"):
        native_or_none()
    monkeypatch.delenv("SKAL_POWER_BACKEND")
    assert native_or_none() is None  # automatic choice falls back quietly


@pytest.mark.parametrize("value, expected", [("1", 1), ("3", 3)])
def test_kernel_threads_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("SKAL_POWER_NUM_THREADS", value)
    assert kernel_threads() == expected


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_kernel_threads_rejects_bad_values(monkeypatch, value):
    monkeypatch.setenv("SKAL_POWER_NUM_THREADS", value)
    with pytest.raises(ValueError, match="SKAL_POWER_NUM_THREADS"):
        kernel_threads()


@pytest.mark.parametrize("threads", ["1", "4"])
def test_thread_count_does_not_change_the_result(backend, monkeypatch, threads):
    log_probs = random_log_probs(np.random.default_rng(11), (301, 5, 7), zero_fraction=0.2)
    monkeypatch.setenv("SKAL_POWER_NUM_THREADS", "1")
    single = entropy_terms(log_probs, chunk_rows=10)
    monkeypatch.setenv("SKAL_POWER_NUM_THREADS", threads)
    many = entropy_terms(log_probs, chunk_rows=10)
    np.testing.assert_array_equal(many.predictive_entropy, single.predictive_entropy)
    np.testing.assert_array_equal(many.expected_entropy, single.expected_entropy)


@pytest.mark.parametrize("dtype", ["<f4", ">f4", "<f8", ">f8"])
def test_either_byte_order(backend, dtype):
    log_probs = random_log_probs(np.random.default_rng(12), (20, 3, 5)).astype(dtype)
    predictive, expected = reference_terms(log_probs)
    terms = entropy_terms(log_probs)
    tol = 1e-6 if "4" in dtype else 1e-12
    np.testing.assert_allclose(terms.predictive_entropy, predictive, atol=tol)
    np.testing.assert_allclose(terms.expected_entropy, expected, atol=tol)


def test_read_only_input(backend):
    log_probs = random_log_probs(np.random.default_rng(13), (30, 4, 3))
    log_probs.setflags(write=False)
    predictive, _ = reference_terms(log_probs)
    np.testing.assert_allclose(entropy_terms(log_probs).predictive_entropy, predictive,
                               atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 1, 1), (2, 1, 7), (5, 3, 64), (4, 2, 65), (2, 3, 1000)])
def test_unusual_shapes(backend, dtype, shape):
    # C = 1 (every log-prob 0), K = 1, C at and past the native kernel's 64-class
    # accumulator limit, and more classes than one cache block holds
    log_probs = random_log_probs(np.random.default_rng(14), shape, zero_fraction=0.1)
    log_probs = log_probs.astype(dtype)
    predictive, expected = reference_terms(log_probs)
    terms = entropy_terms(log_probs, chunk_rows=2)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(terms.predictive_entropy, predictive, atol=tol)
    np.testing.assert_allclose(terms.expected_entropy, expected, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value, match", [
    (np.nan, "contains NaN"), (np.inf, r"contains \+inf"), (100.0, "must normalise"),
    (1e30, "must normalise"), (0.01, "must normalise"), (-0.01, "must normalise"),
])
def test_bad_values_are_caught_at_the_right_point(backend, dtype, value, match):
    # large finite values must not wrap around inside a hand-written exp
    log_probs = np.log(np.full((700, 3, 4), 0.25)).astype(dtype)
    log_probs[613, 2, 1] = value if abs(value) > 0.1 or np.isnan(value) else (
        log_probs[613, 2, 1] + value)
    log_probs[650, 0, 0] = np.nan  # a later bad point must not be the one reported
    before = log_probs.copy()
    with pytest.raises(ValueError, match=match) as error:
        entropy_terms(log_probs, chunk_rows=50)
    assert "point 613, sample 2" in str(error.value)
    np.testing.assert_array_equal(log_probs, before)


def test_probabilities_exactly_zero_and_one(backend):
    log_probs = np.array([[[0.0, -np.inf, -np.inf]] * 9, [[-np.inf, 0.0, -np.inf]] * 9])
    for dtype in (np.float32, np.float64):
        terms = entropy_terms(log_probs.astype(dtype))
        np.testing.assert_array_equal(terms.predictive_entropy, 0.0)
        np.testing.assert_array_equal(terms.expected_entropy, 0.0)


def test_exp_is_accurate_over_the_whole_range(backend):
    # two classes with p = exp(x) and 1 - p, x from -700 to 0: exercises every exponent
    x = -np.geomspace(1e-12, 700, 4001)
    log_probs = np.stack([x, np.log(-np.expm1(x))], axis=-1)[:, None, :]
    predictive, expected = reference_terms(log_probs)
    terms = entropy_terms(log_probs)
    # relative accuracy where the entropies are large; where p = 1 - 1e-12 they are
    # 3e-11 and only float64's absolute rounding (1e-16) of p itself is attainable
    np.testing.assert_allclose(terms.predictive_entropy, predictive, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(terms.expected_entropy, expected, rtol=1e-13, atol=1e-15)
    tiny = x < -50  # there p log p itself is tiny and must keep its relative accuracy
    np.testing.assert_allclose(terms.expected_entropy[tiny], expected[tiny], rtol=1e-13)
    # float32 down to its smallest normal number: within float32's rounding of p near 1
    # (absolute 6e-8); the expected entropy, which uses the stored log-probs, keeps its
    # relative accuracy where p is tiny
    usable = x > -80
    single = log_probs[usable].astype(np.float32)
    reference_predictive, reference_expected = reference_terms(single)
    computed = entropy_terms(single)
    np.testing.assert_allclose(computed.predictive_entropy, reference_predictive, rtol=1e-5,
                               atol=1e-7)
    tiny = x[usable] < -20
    np.testing.assert_allclose(computed.expected_entropy[tiny], reference_expected[tiny],
                               rtol=1e-5)
