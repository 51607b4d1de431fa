"""Tests of skal_power.scores against brute-force references and known limits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _reference import log_softmax, random_log_probs, reference_terms
from skal_power import scores


@st.composite
def log_prob_arrays(draw, min_samples=1):
    n = draw(st.integers(1, 6))
    k = draw(st.integers(min_samples, 5))
    c = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    zero_fraction = draw(st.sampled_from([0.0, 0.3, 0.8]))
    scale = draw(st.sampled_from([0.1, 3.0, 30.0]))
    rng = np.random.default_rng(seed)
    return random_log_probs(rng, (n, k, c), zero_fraction=zero_fraction, scale=scale)


# --- BALD -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(log_probs=log_prob_arrays(min_samples=2))
def test_bald_matches_double_loop_reference_float64(log_probs):
    predictive, expected = reference_terms(log_probs)
    got = scores.bald(log_probs)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.maximum(predictive - expected, 0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(scores.entropy(log_probs), predictive, rtol=0, atol=1e-12)
    np.testing.assert_allclose(scores.expected_entropy(log_probs), expected, rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(log_probs=log_prob_arrays(min_samples=2))
def test_bald_is_finite_non_negative_and_at_most_log_c(log_probs):
    got = scores.bald(log_probs)
    assert np.all(np.isfinite(got))
    assert np.all(got >= 0)
    assert np.all(got <= math.log(log_probs.shape[2]) + 1e-12)


def test_bald_matches_reference_on_both_backends(backend):
    rng = np.random.default_rng(1)
    log_probs = random_log_probs(rng, (257, 7, 5), zero_fraction=0.2)
    predictive, expected = reference_terms(log_probs)
    np.testing.assert_allclose(scores.bald(log_probs), predictive - expected, atol=1e-12)
    np.testing.assert_allclose(scores.entropy(log_probs), predictive, atol=1e-12)


def test_float32_input_is_accurate_to_float32_precision(backend):
    rng = np.random.default_rng(2)
    log_probs = random_log_probs(rng, (300, 8, 10), zero_fraction=0.1)
    single = log_probs.astype(np.float32)
    # reference on exactly the float32 values, computed in float64
    predictive, expected = reference_terms(single.astype(np.float64))
    np.testing.assert_allclose(scores.entropy(single), predictive, atol=1e-6)
    np.testing.assert_allclose(scores.bald(single), predictive - expected, atol=1e-6)


@pytest.mark.parametrize("n_classes", [1, 2, 10])
def test_bald_is_zero_when_all_samples_agree(backend, n_classes):
    rng = np.random.default_rng(3)
    one_sample = random_log_probs(rng, (50, 1, n_classes), zero_fraction=0.3)
    agreeing = np.repeat(one_sample, 6, axis=1)
    np.testing.assert_allclose(scores.bald(agreeing), 0.0, atol=1e-13)


def test_bald_with_probabilities_exactly_zero_and_one(backend):
    # every sample is one-hot: expected entropy 0, BALD = entropy of the vote histogram
    votes = np.array([[0, 0, 0, 0], [0, 1, 0, 1], [0, 1, 2, 2]])
    log_probs = np.where(np.eye(3, dtype=bool)[votes], 0.0, -np.inf)
    got = scores.bald(log_probs)
    expected = [0.0, math.log(2), -(0.25 * math.log(0.25) * 2 + 0.5 * math.log(0.5))]
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, expected, atol=1e-14)
    np.testing.assert_allclose(scores.expected_entropy(log_probs), 0.0, atol=0)


def test_uniform_predictions_have_entropy_log_c_and_zero_bald(backend):
    log_probs = np.log(np.full((4, 3, 7), 1 / 7))
    np.testing.assert_allclose(scores.entropy(log_probs), math.log(7), atol=1e-14)
    np.testing.assert_allclose(scores.bald(log_probs), 0.0, atol=1e-14)


def test_torch_tensor_input_gives_numpy_output(backend):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    log_probs = random_log_probs(rng, (20, 4, 3))
    tensor = torch.tensor(log_probs, requires_grad=True)
    got = scores.bald(tensor)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, scores.bald(log_probs), atol=0)
    f32 = scores.entropy(torch.tensor(log_probs, dtype=torch.float32))
    np.testing.assert_allclose(f32, scores.entropy(log_probs), atol=1e-6)


def test_integer_and_list_inputs_are_accepted():
    # log p = 0 for the single class of a one-class problem
    assert scores.entropy([[[0], [0]]]).tolist() == [0.0]
    assert scores.bald(np.zeros((2, 3, 1), dtype=np.int64)).tolist() == [0.0, 0.0]


def test_empty_pool_gives_empty_scores(backend):
    assert scores.bald(np.zeros((0, 3, 2))).shape == (0,)
    assert scores.entropy(np.zeros((0, 1, 2), dtype=np.float32)).shape == (0,)


# --- EIG and EvaluationBALD -------------------------------------------------------------


def test_eig_is_difference_of_predictive_entropies(backend):
    rng = np.random.default_rng(5)
    m = random_log_probs(rng, (40, 1, 4), zero_fraction=0.2)
    m_prime = random_log_probs(rng, (40, 3, 4))
    predictive_m, _ = reference_terms(m)
    predictive_m2, _ = reference_terms(m_prime)
    np.testing.assert_allclose(scores.eig(m, m_prime), predictive_m - predictive_m2, atol=1e-12)
    np.testing.assert_allclose(scores.eig(m, m), 0.0, atol=0)


def test_evaluation_bald_is_difference_of_balds(backend):
    rng = np.random.default_rng(6)
    m = random_log_probs(rng, (40, 5, 3), zero_fraction=0.2)
    m_prime = random_log_probs(rng, (40, 2, 3))
    got = scores.evaluation_bald(m, m_prime)
    np.testing.assert_allclose(got, scores.bald(m) - scores.bald(m_prime), atol=1e-14)
    assert np.any(got < 0) and np.any(got > 0)


# --- bad input --------------------------------------------------------------------------


def _bad_inputs():
    good = log_softmax(np.random.default_rng(7).normal(size=(30, 4, 3)))
    nan = good.copy()
    nan[17, 2, 1] = np.nan
    posinf = good.copy()
    posinf[3, 0, 0] = np.inf
    unnormalised = good.copy()
    unnormalised[25, 1] += 0.01
    all_zero_row = good.copy()
    all_zero_row[9, 3] = -np.inf
    probabilities = np.exp(good)
    return [
        pytest.param(nan, r"NaN \(first at point 17, sample 2, class 1\)", id="nan"),
        pytest.param(posinf, r"\+inf \(first at point 3", id="posinf"),
        pytest.param(unnormalised, r"must normalise.*point 25, sample 1", id="unnormalised"),
        pytest.param(all_zero_row, r"must normalise.*point 9, sample 3", id="all-minus-inf"),
        pytest.param(probabilities, r"not logits or probabilities", id="probabilities"),
    ]


@pytest.mark.parametrize("function", [scores.entropy, scores.bald, scores.expected_entropy])
@pytest.mark.parametrize("log_probs, match", _bad_inputs())
def test_bad_values_raise_and_leave_input_untouched(backend, function, log_probs, match):
    before = log_probs.copy()
    with pytest.raises(ValueError, match=match):
        function(log_probs)
    np.testing.assert_array_equal(log_probs, before)


def test_bad_values_are_found_in_any_chunk(backend):
    from skal_power._kernels import entropy_terms

    log_probs = log_softmax(np.random.default_rng(8).normal(size=(100, 3, 2)))
    log_probs[77, 1, 0] = np.nan
    with pytest.raises(ValueError, match="first at point 77"):
        entropy_terms(log_probs, chunk_rows=8)


def test_bald_family_rejects_a_single_sample():
    one = np.log(np.full((5, 1, 2), 0.5))
    with pytest.raises(ValueError, match="K = 1 posterior sample"):
        scores.bald(one)
    with pytest.raises(ValueError, match="log_probs_distilled has K = 1"):
        scores.evaluation_bald(np.repeat(one, 2, axis=1), one)
    # entropy and EIG need no posterior samples
    assert scores.entropy(one).shape == (5,)
    assert scores.eig(one, one).shape == (5,)


@pytest.mark.parametrize("shape", [(5,), (5, 2), (1, 2, 3, 4)])
def test_wrong_rank_raises(shape):
    with pytest.raises(ValueError, match=r"must have shape \(N, K, C\)"):
        scores.entropy(np.zeros(shape))


def test_pair_shape_mismatch_raises():
    a = np.log(np.full((5, 2, 3), 1 / 3))
    with pytest.raises(ValueError, match="same N points and C classes"):
        scores.eig(a, a[:4])
    with pytest.raises(ValueError, match="same N points and C classes"):
        scores.evaluation_bald(a, np.log(np.full((5, 2, 2), 0.5)))


def test_non_numeric_input_raises_type_error():
    with pytest.raises(TypeError, match="real numbers"):
        scores.bald(np.full((2, 2, 2), "a"))


def test_read_only_input_gives_no_warning(backend):
    # dask blocks, joblib memmaps and np.broadcast_to give read-only arrays; the kernels
    # never write to the input, so torch's "not writable" warning must not reach the user
    import warnings

    log_probs = random_log_probs(np.random.default_rng(9), (30, 4, 3))
    expected = scores.bald(log_probs)
    log_probs.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(scores.bald(log_probs), expected)


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
def test_half_precision_torch_tensors_are_accepted(dtype_name):
    # numpy has no bfloat16: the tensor must be widened, not fail with torch's TypeError
    torch = pytest.importorskip("torch")
    one_hot = np.where(np.eye(2, dtype=bool)[[[0, 1], [1, 1]]], 0.0, -np.inf)  # exact
    tensor = torch.tensor(one_hot, dtype=getattr(torch, dtype_name))
    np.testing.assert_allclose(scores.bald(tensor), [math.log(2), 0.0], atol=1e-7)
