"""The greedy batch kernels on numpy tables: what runs when torch is absent or switched off.

``JointEntropyTracker`` given ``torch=None`` keeps numpy tables on the CPU (with the
compiled kernel where it is built). Its picks and scores must be those of the torch
tables, in every regime (exact, screened, sampled, sparse weights) and for every
batch function.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _reference import random_log_probs

import skal_power.batch._greedy as greedy_module
from skal_power import BatchBALD, BatchEPIG
from skal_power.sampling import AcquisitionWarning
from skal_power.batch import (
    batch_bald,
    batch_eig,
    batch_epig,
    batch_evaluation_bald,
    batch_information,
)
from skal_power.batch._joint import JointEntropyTracker

RNG = np.random.default_rng(29)
POOL = random_log_probs(RNG, (240, 16, 4), zero_fraction=0.05)
SECOND = random_log_probs(RNG, (240, 8, 4))
TARGETS = random_log_probs(RNG, (5, 16, 4))
SHARP = random_log_probs(RNG, (150, 12, 3), scale=8.0)  # weights concentrate: sparse kernel


def _all_batches():
    """Every batch function in every regime, with its standard errors."""
    # the raw objective (kernels, not the saturation policy): some of these batches are spent
    raw = dict(on_saturation="continue")
    sampled = dict(max_exact_size=1, n_configurations=300, random_state=3, return_std=True,
                   **raw)
    return {
        "bald_exact": batch_bald(POOL, 8, return_std=True, **raw),
        "bald_exhaustive": batch_bald(POOL, 5, lazy=False, return_std=True, **raw),
        "bald_sampled": batch_bald(POOL, 6, **sampled),
        "bald_sparse": batch_bald(SHARP, 12, max_exact_size=30, n_configurations=400,
                                  random_state=1, return_std=True, **raw),
        "eig": batch_eig(POOL, SECOND, 6, return_std=True, **raw),
        "evaluation_bald": batch_evaluation_bald(POOL, SECOND, 5, **sampled),
        "epig": batch_epig(POOL, TARGETS, 4, return_std=True, **raw),
        "epig_sampled": batch_epig(POOL, TARGETS, 4, max_exact_size=64, n_configurations=200,
                                   random_state=2, return_std=True, **raw),
        "information": batch_information(POOL, [3, 1, 4, 15, 9, 26], max_exact_size=10,
                                         n_configurations=500, random_state=5,
                                         return_std=True),
    }


def _assert_same(expected: dict, got: dict) -> None:
    for name, values in expected.items():
        if name == "information":
            np.testing.assert_allclose(got[name], values, rtol=1e-12, atol=1e-12,
                                       err_msg=name)
            continue
        np.testing.assert_array_equal(got[name][0], values[0], err_msg=name)
        np.testing.assert_allclose(got[name][1], values[1], rtol=1e-12, atol=1e-12,
                                   err_msg=name)
        np.testing.assert_allclose(got[name][2], values[2], rtol=1e-9, atol=1e-15,
                                   err_msg=name)


@pytest.fixture
def without_torch(monkeypatch):
    """The batch functions as in an environment without torch."""
    monkeypatch.setattr(greedy_module, "torch_or_none", lambda: None)


@pytest.mark.parametrize("kernel", ["native", "none"])
def test_numpy_tables_give_the_picks_of_torch_tables(kernel, monkeypatch):
    pytest.importorskip("torch")
    # SKAL_POWER_BACKEND=torch turns the compiled kernel off but keeps torch
    monkeypatch.setenv("SKAL_POWER_BACKEND", "native" if kernel == "native" else "torch")
    if kernel == "native" and greedy_module.torch_or_none() is None:
        pytest.skip("torch is switched off")
    from skal_power._kernels import joint_plogp_kernel

    if kernel == "native" and joint_plogp_kernel() is None:
        pytest.skip("the compiled kernel is not built")
    expected = _all_batches()
    monkeypatch.setattr(greedy_module, "torch_or_none", lambda: None)
    got = _all_batches()
    if kernel == "none":
        # float32 products of two BLAS libraries round differently
        _pop_saturated(expected, got)
    _assert_same(expected, got)


def _pop_saturated(expected: dict, got: dict) -> None:
    """Compare the saturated sampled case by its scores alone.

    There many gains tie within 1e-8 nats (far below the sampling error), and two
    float32 kernels that round differently (two BLAS libraries, or the sparse kernel's
    dropped weights) may break such a tie either way.
    """
    np.testing.assert_allclose(got.pop("bald_sparse")[1], expected.pop("bald_sparse")[1],
                               rtol=0, atol=1e-5)


def test_numpy_tables_without_the_compiled_kernel_give_its_picks(without_torch, monkeypatch):
    from skal_power._kernels import joint_plogp_kernel

    if joint_plogp_kernel() is None:
        pytest.skip("the compiled kernel is not built")
    expected = _all_batches()
    monkeypatch.setenv("SKAL_POWER_BACKEND", "numpy")
    got = _all_batches()
    _pop_saturated(expected, got)
    _assert_same(expected, got)


def test_numpy_tracker_keeps_the_tracker_interface(without_torch):
    probs = np.exp(np.moveaxis(POOL[:20], 1, 0))  # (K, N, C)
    tracker = JointEntropyTracker(None, probs, None, max_exact_size=1, n_configurations=64,
                                  max_memory=2 ** 20, rng=np.random.default_rng(0))
    assert (tracker.n_samples, tracker.n_classes) == (16, 4)
    assert tracker.expected_entropy.shape == (20,)
    tracker.add(3)
    tracker.add(5)  # beyond max_exact_size: sampled
    assert tracker.sampled and tracker.batch == [3, 5]
    weights, entropy, standard_error = tracker._current_draw()
    assert isinstance(weights, np.ndarray) and weights.dtype == np.float32
    assert weights.shape == (64, 16)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    assert np.isfinite(entropy) and standard_error > 0
    assert tracker.candidate_entropies(np.arange(20)).shape == (20,)


def test_strategies_run_without_torch(without_torch, fitted_forest, digits_split):
    _, _, X_pool, _ = digits_split
    with warnings.catch_warnings():  # a forest's batch may be spent: the fill runs too
        warnings.simplefilter("ignore", AcquisitionWarning)
        indices, _ = BatchBALD(random_state=0)(fitted_forest, X_pool[:150], n_instances=8)
        assert len(set(indices.tolist())) == 8
        indices, _ = BatchEPIG(random_state=0)(fitted_forest, X_pool[:150], n_instances=6)
        assert len(set(indices.tolist())) == 6
    indices, scores = BatchBALD(random_state=0, on_saturation="continue")(
        fitted_forest, X_pool[:150], n_instances=4)
    assert len(set(indices.tolist())) == 4 and np.all(np.diff(scores) >= 0)


def test_numpy_backend_choice_does_not_claim_torch_is_missing(monkeypatch, fitted_forest,
                                                              digits_split):
    # issue 29 item 9: SKAL_POWER_BACKEND=numpy made BatchBALD say "needs torch: pip install"
    _, _, X_pool, _ = digits_split
    def strategy():
        return BatchBALD(random_state=0, on_saturation="continue")

    expected = strategy()(fitted_forest, X_pool[:150], n_instances=3)
    monkeypatch.setenv("SKAL_POWER_BACKEND", "numpy")
    got = strategy()(fitted_forest, X_pool[:150], n_instances=3)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-6)  # float32 sums differ


def test_an_accelerator_without_torch_is_a_clear_error(without_torch, monkeypatch):
    with pytest.raises(ImportError, match=r"device='cuda' needs torch: pip install"):
        batch_bald(POOL, 2, device="cuda")
    monkeypatch.setenv("SKAL_POWER_BACKEND", "numpy")
    with pytest.raises(ValueError, match="SKAL_POWER_BACKEND=numpy turns torch off"):
        batch_bald(POOL, 2, device="cuda:0")


def test_default_max_memory_without_torch(without_torch):
    assert greedy_module.default_max_memory("cpu") == greedy_module.CPU_MAX_MEMORY
    assert greedy_module.default_max_memory("cuda:1") == greedy_module.ACCELERATOR_MAX_MEMORY
