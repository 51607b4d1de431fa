"""Tests of the validation vocabulary shared by every public function."""

from __future__ import annotations

import numpy as np
import pytest

from skal_power import _validation as v


def test_as_numpy_accepts_torch_tensors_without_copying():
    torch = pytest.importorskip("torch")
    tensor = torch.zeros(3, requires_grad=True)
    array = v.as_numpy(tensor)
    assert isinstance(array, np.ndarray)
    assert array.shape == (3,)
    assert np.shares_memory(array, v.as_numpy(tensor))


@pytest.mark.parametrize("dtype, expected", [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.int32, np.float64), (np.float16, np.float64),
                                             (bool, np.float64)])
def test_check_log_probs_dtypes(dtype, expected):
    assert v.check_log_probs(np.zeros((2, 1, 1), dtype=dtype)).dtype == expected


def test_check_log_probs_does_not_copy_float_input():
    array = np.zeros((2, 3, 1), dtype=np.float32)
    assert v.check_log_probs(array) is array


def test_check_log_probs_structure_errors():
    with pytest.raises(ValueError, match="is empty"):
        v.check_log_probs(np.zeros((0, 2, 2)), allow_empty=False)
    with pytest.raises(ValueError, match="no classes"):
        v.check_log_probs(np.zeros((2, 2, 0)))
    with pytest.raises(ValueError, match="K = 2 posterior sample.*at least 3"):
        v.check_log_probs(np.zeros((2, 2, 1)), min_samples=3)
    with pytest.raises(ValueError, match="^probs must have shape"):
        v.check_log_probs(np.zeros(3), name="probs")
    with pytest.raises(TypeError, match="dtype complex128"):
        v.check_log_probs(np.zeros((1, 1, 1), dtype=complex))


def test_raise_for_bad_values_always_raises_and_names_the_first_problem():
    good = np.log(np.full((3, 2, 2), 0.5))
    with pytest.raises(ValueError, match="must normalise"):
        v.raise_for_bad_values(good + 1.0)
    bad = good.copy()
    bad[2, 1, 0] = np.nan
    bad[1, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"^x contains NaN \(first at point 12, sample 1"):
        v.raise_for_bad_values(bad, name="x", offset=10)


def test_check_scores():
    assert v.check_scores(np.array([1, 2], dtype=np.int8)).dtype == np.float64
    with pytest.raises(ValueError, match="1-D"):
        v.check_scores(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="finite"):
        v.check_scores([0.0, -np.inf])
    with pytest.raises(TypeError, match="real numbers"):
        v.check_scores(np.array(["a"]))


@pytest.mark.parametrize("value, error", [(0, ValueError), (-3, ValueError), (1.5, TypeError),
                                          (True, TypeError), ("2", TypeError)])
def test_check_positive_int_rejects(value, error):
    with pytest.raises(error, match="n_instances"):
        v.check_positive_int(value, name="n_instances")


def test_check_positive_int_accepts_numpy_integers():
    assert v.check_positive_int(np.int64(4), name="n") == 4


def test_check_batch_size():
    assert v.check_batch_size(5, 5) == 5
    with pytest.raises(ValueError, match="pool is empty"):
        v.check_batch_size(1, 0)
    with pytest.raises(ValueError, match="n_instances = 6 exceeds the pool size 5"):
        v.check_batch_size(6, 5)
    with pytest.raises(ValueError, match="n_instances must be an integer >= 1; got 0"):
        v.check_batch_size(0, 5)


@pytest.mark.parametrize("value, error", [(-1e-9, ValueError), (np.nan, ValueError),
                                          (np.inf, ValueError), (None, TypeError),
                                          (False, TypeError)])
def test_check_non_negative_rejects(value, error):
    with pytest.raises(error, match="alpha"):
        v.check_non_negative(value, name="alpha")


def test_check_non_negative_accepts():
    assert v.check_non_negative(0, name="alpha") == 0.0
    assert v.check_non_negative(np.float32(2.5), name="alpha") == 2.5


def test_check_seed():
    assert v.check_seed(3) == v.check_seed(np.int64(3)) != v.check_seed(4)
    assert 0 <= v.check_seed(None) < 2**63
    assert v.check_seed(None) != v.check_seed(None)
    generator = np.random.default_rng(0)
    first = v.check_seed(generator)
    assert first != v.check_seed(generator)
    assert first == v.check_seed(np.random.default_rng(0))
    assert v.check_seed(np.random.RandomState(1)) == v.check_seed(np.random.RandomState(1))
    with pytest.raises(ValueError, match="random_state must be >= 0"):
        v.check_seed(-1)
    with pytest.raises(TypeError, match="random_state must be None, an int"):
        v.check_seed(True)
    with pytest.raises(TypeError, match="random_state"):
        v.check_seed(1.0)
