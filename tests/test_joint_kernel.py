"""The compiled fused ``Σ q log q`` kernels behind the batch scores and single-precision EPIG."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REQUIRE_NATIVE
from skal_power._kernels import (JOINT_WIDTH_MULTIPLE, joint_plogp_kernel,
                                 mixture_plogp_kernel, pad_configurations)

UNIT32 = 2.0 ** -24


def compiled(getter, name):
    found = getter()
    if found is None:
        if REQUIRE_NATIVE:
            pytest.fail(f"SKAL_POWER_REQUIRE_NATIVE=1 but skal_power._native.{name} is not built")
        pytest.skip("the compiled kernel skal_power._native is not built")
    return found


@pytest.fixture(scope="module")
def kernel():
    return compiled(joint_plogp_kernel, "joint_plogp")


def reference(table, columns, scale):
    """Σ_s q log q in float64, 0 log 0 = 0."""
    q = scale * (columns.T.astype(np.float64) @ table.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0).sum(axis=1)


def random_tables(rng, k, width, n_columns, c, concentration):
    """A normalised (K, W) table over configurations and (K, J) class probabilities."""
    table = rng.dirichlet(np.full(width, concentration), size=k)  # each row sums to 1
    columns = rng.dirichlet(np.full(c, concentration), size=(k, n_columns)).reshape(k, -1)
    return table, columns


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 40), width=st.integers(1, 700),
       n_columns=st.integers(1, 13), c=st.integers(2, 10),
       concentration=st.sampled_from([0.01, 0.3, 1.0, 10.0]))
def test_matches_the_float64_sum_within_float32_rounding(kernel, seed, k, width, n_columns, c,
                                                         concentration):
    rng = np.random.default_rng(seed)
    table, columns = random_tables(rng, k, width, n_columns, c, concentration)
    padded = pad_configurations(table)
    out = np.empty(n_columns * c)
    kernel(padded, np.ascontiguousarray(columns, dtype=np.float32), out, 1.0 / k)
    exact = reference(table, columns, 1.0 / k)
    # the stated bound per column: (K + 75) u (|Σ q log q| + Σ q) + 1e-9 Σ q, with the
    # zero-padded configurations counted at FLT_MIN (1e-36 each)
    mass = (columns.T @ table).sum(axis=1) / k
    bound = (k + 75) * UNIT32 * (np.abs(exact) + mass) + 1e-9 * mass + 1e-30
    assert np.all(np.abs(out - exact) <= bound)


def test_accuracy_over_the_whole_float32_range(kernel):
    # one configuration per power of two from 2^-126 to 1: q log q exercises every exponent
    exponents = np.arange(-126, 1)
    width = len(exponents)
    table = np.zeros((1, width))
    table[0] = 2.0 ** exponents
    columns = np.ones((1, 1))
    out = np.empty(1)
    kernel(pad_configurations(table), columns.astype(np.float32), out, 1.0)
    q = table[0]
    exact = np.sum(q * np.log(q))
    assert abs(out[0] - exact) <= 8 * UNIT32 * np.sum(q * np.abs(np.log(q))) + 1e-9


def test_zeros_count_as_the_smallest_normal_float32(kernel):
    table = np.zeros((2, JOINT_WIDTH_MULTIPLE), dtype=np.float32)
    out = np.empty(3)
    kernel(table, np.ones((2, 3), dtype=np.float32), out, 0.5)
    tiny = np.finfo(np.float32).tiny
    np.testing.assert_allclose(out, JOINT_WIDTH_MULTIPLE * tiny * np.log(tiny), rtol=1e-5)
    assert np.all(out > -1e-34)  # 0 log 0 is 0 up to ~1e-36 per configuration


def test_thread_safe_and_independent_of_the_column_blocking(kernel):
    # 4 columns share each pass: any column count gives each column the same value
    rng = np.random.default_rng(0)
    table, columns = random_tables(rng, 7, 300, 9, 5, 0.5)
    padded = pad_configurations(table)
    columns = np.ascontiguousarray(columns, dtype=np.float32)
    whole = np.empty(columns.shape[1])
    kernel(padded, columns, whole, 1 / 7)
    for start in range(columns.shape[1]):
        one = np.empty(1)
        kernel(padded, np.ascontiguousarray(columns[:, start:start + 1]), one, 1 / 7)
        assert one[0] == whole[start]


@pytest.mark.parametrize("bad, match", [
    (dict(table=np.zeros((2, 30), dtype=np.float32)), "multiple of 32"),
    (dict(table=np.zeros((3, 32), dtype=np.float32)), "same number of rows"),
    (dict(table=np.zeros((2, 32), dtype=np.float64)), "float32"),
    (dict(columns=np.zeros((2, 4), dtype=np.float64)), "float32"),
    (dict(out=np.zeros(3)), "float64 buffer of 4"),
])
def test_bad_buffers_are_refused(kernel, bad, match):
    arguments = dict(table=np.zeros((2, 32), dtype=np.float32),
                     columns=np.zeros((2, 4), dtype=np.float32), out=np.zeros(4))
    arguments.update(bad)
    with pytest.raises(ValueError, match=match):
        kernel(arguments["table"], arguments["columns"], arguments["out"], 1.0)


def test_switched_off_with_the_other_backends(monkeypatch):
    monkeypatch.setenv("SKAL_POWER_BACKEND", "torch")
    assert joint_plogp_kernel() is None


def test_subnormal_products_count_as_the_smallest_normal_and_the_caller_keeps_subnormals(
        kernel):
    # weights near float32's underflow: every product is subnormal, which the kernel
    # flushes to zero for speed; q log q then counts q as FLT_MIN, as for exact zeros
    table = np.full((4, 64), 1e-30, dtype=np.float32)
    columns = np.full((4, 2), 1e-10, dtype=np.float32)
    out = np.empty(2)
    kernel(table, columns, out, 1.0)
    tiny = np.finfo(np.float32).tiny
    np.testing.assert_allclose(out, 64 * tiny * np.log(tiny), rtol=1e-5)
    half = np.float32(tiny) * np.float32(0.5)  # the caller's arithmetic is untouched
    assert 0 < half < tiny


# ------------------------------------------------------------------ sparse mixtures
@pytest.fixture(scope="module")
def mixture():
    return compiled(mixture_plogp_kernel, "mixture_plogp")


def csr(weights):
    keep = weights != 0
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int64)
    return indptr, np.nonzero(keep)[1].astype(np.int32), weights[keep].astype(np.float32)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 30), n_configs=st.integers(0, 300),
       n_columns=st.sampled_from([64, 128, 192]), sparsity=st.floats(0.0, 0.95))
def test_mixture_matches_the_float64_sum(mixture, seed, k, n_configs, n_columns, sparsity):
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(k, 0.3), size=n_configs)
    weights[rng.random(weights.shape) < sparsity] = 0.0  # rows need not sum to 1
    columns = rng.dirichlet(np.full(8, 0.5), size=(k, n_columns // 8)).reshape(k, n_columns)
    out = np.empty(n_columns)
    mixture(*csr(weights), np.ascontiguousarray(columns, dtype=np.float32), out)
    exact = reference(weights.T, columns, 1.0)
    mass = (weights @ columns).sum(axis=0)
    bound = (k + 75) * UNIT32 * (np.abs(exact) + mass) + 1e-9 * mass + 1e-30 * (n_configs + 1)
    bound += n_configs * 1.2e-36  # rows without weights: q = 0 counts as FLT_MIN
    assert np.all(np.abs(out - exact) <= bound)


def test_mixture_checks_its_buffers(mixture):
    indptr, rows, weights = csr(np.eye(3))
    columns = np.zeros((3, 64), dtype=np.float32)
    with pytest.raises(ValueError, match="multiple of 64"):
        mixture(indptr, rows, weights, np.zeros((3, 60), dtype=np.float32), np.zeros(60))
    with pytest.raises(ValueError, match="indptr"):
        mixture(indptr[:-1], rows, weights, columns, np.zeros(64))
    with pytest.raises(ValueError, match="'f'"):
        mixture(indptr, rows, weights.astype(np.float64), columns, np.zeros(64))
    with pytest.raises(ValueError, match="'i'"):
        mixture(indptr, rows.astype(np.int64), weights, columns, np.zeros(64))
