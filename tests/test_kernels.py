"""Tests of the fused entropy kernels: both backends, any chunking, same answer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _reference import random_log_probs, reference_terms
from skal_power import _kernels
from skal_power._kernels import default_chunk_rows, entropy_terms, torch_or_none


@pytest.fixture(params=["numpy", "torch"])
def backend(request, monkeypatch):
    if request.param == "numpy":
        monkeypatch.setenv("SKAL_POWER_BACKEND", "numpy")
    else:
        monkeypatch.delenv("SKAL_POWER_BACKEND", raising=False)
        if torch_or_none() is None:
            pytest.skip("torch is not installed")
    return request.param


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


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), k=st.integers(1, 4),
       c=st.integers(1, 4), chunk_rows=st.integers(1, 9))
def test_backends_agree_with_the_reference(seed, n, k, c, chunk_rows):
    log_probs = random_log_probs(np.random.default_rng(seed), (n, k, c), zero_fraction=0.3)
    predictive, expected = reference_terms(log_probs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKAL_POWER_BACKEND", "numpy")
        numpy_terms = entropy_terms(log_probs, chunk_rows=chunk_rows)
    torch_terms = entropy_terms(log_probs, chunk_rows=chunk_rows)
    for terms in (numpy_terms, torch_terms):
        np.testing.assert_allclose(terms.predictive_entropy, predictive, atol=1e-12)
        np.testing.assert_allclose(terms.expected_entropy, expected, atol=1e-12)


@pytest.mark.parametrize("max_fused_columns", [0, 1000])
def test_torch_kernel_with_and_without_the_fused_sum_matrix(monkeypatch, max_fused_columns):
    # the torch kernel gets the sums over K and over C from one GEMM when C + K is small
    # and from a sum and a matmul otherwise; both must give the reference values
    if torch_or_none() is None:
        pytest.skip("torch is not installed")
    monkeypatch.delenv("SKAL_POWER_BACKEND", raising=False)
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
