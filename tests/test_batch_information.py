"""batch_information: I[y_1..y_b; ω] of a given batch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skal_power.batch import batch_bald, batch_information
from skal_power.scores import bald

from test_batch import brute_batch_bald, random_log_probs


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 10), k=st.integers(2, 6),
       c=st.integers(2, 4), b=st.integers(1, 3))
def test_exact_value_equals_brute_force_and_its_bounds(seed, n, k, c, b):
    log_probs = random_log_probs(seed, n, k, c)
    batch = np.random.default_rng(seed).choice(n, size=b, replace=False)
    value = batch_information(log_probs, batch)
    assert value == pytest.approx(brute_batch_bald(log_probs, list(batch)), abs=1e-10)
    singles = bald(log_probs)[batch]
    # more labels never tell less, never more than their sum, never more than log K
    assert singles.max() - 1e-10 <= value <= singles.sum() + 1e-10
    assert value <= np.log(k) + 1e-10


def test_a_single_point_is_its_bald_score():
    log_probs = random_log_probs(1, 12, 8, 5)
    for index in range(12):
        assert batch_information(log_probs, [index]) == pytest.approx(bald(log_probs)[index],
                                                                      abs=1e-12)


def test_batch_bald_scores_its_own_picks_the_same():
    log_probs = random_log_probs(2, 40, 10, 4)
    indices, scores = batch_bald(log_probs, 4)
    assert batch_information(log_probs, indices) == pytest.approx(scores[-1], abs=1e-12)
    assert batch_information(log_probs, indices[::-1]) == pytest.approx(scores[-1], abs=1e-12)


def test_sampled_estimate_agrees_with_the_exact_value_and_is_seeded():
    log_probs = random_log_probs(3, 30, 12, 4)
    batch = np.arange(0, 30, 5)  # 6 points: 4^6 · 12 configurations exactly
    exact = batch_information(log_probs, batch)
    kwargs = dict(max_exact_size=1, n_configurations=20_000, return_std=True)
    estimate, standard_error = batch_information(log_probs, batch, random_state=0, **kwargs)
    assert 0 < standard_error < 0.05
    assert abs(estimate - exact) < 5 * standard_error
    assert batch_information(log_probs, batch, random_state=0, **kwargs) == (estimate,
                                                                            standard_error)
    assert batch_information(log_probs, batch, return_std=True)[1] == 0.0


def test_only_the_batch_rows_are_validated():
    log_probs = random_log_probs(4, 6, 4, 3)
    log_probs[5] = np.nan
    assert np.isfinite(batch_information(log_probs, [0, 1]))
    with pytest.raises(ValueError, match="NaN"):
        batch_information(log_probs, [0, 5])


@pytest.mark.parametrize("indices, error, message", [
    ([], ValueError, "non-empty"),
    ([[0, 1]], ValueError, "1-D"),
    ([0.5], TypeError, "integers"),
    ([0, 6], ValueError, r"\[0, 6\)"),
    ([-1], ValueError, r"\[0, 6\)"),
    ([2, 2], ValueError, "repeat"),
])
def test_bad_indices_are_clear_errors(indices, error, message):
    with pytest.raises(error, match=message):
        batch_information(random_log_probs(5, 6, 4, 3), indices)
