"""The float32 screen of the exact joint entropies and its float64 verification."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _reference import joint_tracker
from batch_picks_fixture import CASES, PICKS, compute
from skal_power.batch import _joint, batch_bald
from skal_power.batch._joint import SCREEN_MIN_CONFIGURATIONS, JointEntropyTracker
from skal_power.sampling import AcquisitionWarning


def tracker_after(log_probs, batch):
    tracker = joint_tracker(log_probs, max_exact_size=10 ** 9, n_configurations=1024,
                            max_memory=2 ** 20, rng=np.random.default_rng(0))
    for index in batch:
        tracker.add(index)
    return tracker


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 24), c=st.integers(2, 10),
       scale=st.sampled_from([0.1, 2.0, 6.0, 20.0]))
def test_screened_entropies_are_within_their_stated_bound(joint_kernel, seed, k, c, scale):
    rng = np.random.default_rng(seed)
    logits = scale * rng.normal(size=(60, k, c))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    steps = int(np.ceil(np.log(SCREEN_MIN_CONFIGURATIONS) / np.log(c)))
    tracker = tracker_after(log_probs, range(steps))
    candidates = np.arange(steps, 60)
    screened, errors = tracker.screened_entropies(candidates)
    exact = tracker.candidate_entropies(candidates)
    assert np.all(errors > 0)  # the screen ran: past SCREEN_MIN_CONFIGURATIONS
    assert np.all(np.abs(screened - exact) <= errors)
    assert np.all(errors < 1e-3)  # and the bound is not vacuous


def test_few_configurations_are_not_screened():
    log_probs = np.log(np.full((5, 3, 4), 0.25))
    screened, errors = tracker_after(log_probs, [0]).screened_entropies(np.arange(1, 5))
    assert np.all(errors == 0)


def test_picks_and_scores_equal_the_float64_kernel_before_the_screen(joint_kernel):
    recorded = json.loads(PICKS.read_text())
    assert sorted(recorded) == sorted(CASES)
    for name, found in compute().items():
        n = CASES[name][1]  # a duplicated pool holds each point at i and i + n
        assert [i % n for i in found["indices"]] == recorded[name]["indices"], name
        np.testing.assert_allclose(found["scores"], recorded[name]["scores"], rtol=0,
                                   atol=1e-12, err_msg=name)


def test_near_ties_are_settled_in_float64(joint_kernel, monkeypatch):
    # every point four times: equal gains, so the screen's bounds always overlap and
    # the pick must come from the float64 re-scoring (the copy of the best with the
    # smallest seeded tie key)
    rng = np.random.default_rng(3)
    logits = 3 * rng.normal(size=(50, 10, 5))
    base = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    log_probs = np.concatenate([base] * 4)
    verified = []
    original = JointEntropyTracker.candidate_entropies
    monkeypatch.setattr(JointEntropyTracker, "candidate_entropies",
                        lambda self, c: verified.append(len(c)) or original(self, c))
    indices, _ = batch_bald(log_probs, 5, random_state=0)
    assert len(set((indices % 50).tolist())) == 5
    assert not np.all(indices < 50)  # ties do not follow pool order ...
    other, _ = batch_bald(log_probs, 5, random_state=1)
    np.testing.assert_array_equal(indices % 50, other % 50)  # ... but only the copy changes
    assert not np.array_equal(indices, other)
    assert verified and max(verified) >= 4  # all copies of the best were re-scored
    monkeypatch.setattr(_joint, "SCREEN_MIN_CONFIGURATIONS", 10 ** 9)  # no screen at all
    unscreened, _ = batch_bald(log_probs, 5, random_state=0)
    np.testing.assert_array_equal(indices, unscreened)


@pytest.mark.parametrize("lazy", [True, False])
def test_the_screen_changes_no_pick_on_random_pools(joint_kernel, lazy, monkeypatch):
    rng = np.random.default_rng(11)
    logits = 2.5 * rng.normal(size=(400, 16, 6))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    screened = batch_bald(log_probs, 5, lazy=lazy)
    monkeypatch.setattr(_joint, "SCREEN_MIN_CONFIGURATIONS", 10 ** 9)
    plain = batch_bald(log_probs, 5, lazy=lazy)
    np.testing.assert_array_equal(screened[0], plain[0])
    np.testing.assert_allclose(screened[1], plain[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_lazy_and_eager_greedy_agree_once_the_batch_saturates(seed):
    # one-hot votes (a forest's trees): BatchBALD reaches log K after a few picks and
    # every later gain is 0 up to rounding. With the raw objective, ties go to the
    # smallest seeded key in both steps; the lazy step used to pick whichever tied
    # candidate it happened to evaluate first. By default both fill the spent batch alike.
    rng = np.random.default_rng(seed)
    votes = rng.integers(0, 10, size=(200, 8))
    probs = np.zeros((200, 8, 10))
    probs[np.arange(200)[:, None], np.arange(8), votes] = 1.0
    with np.errstate(divide="ignore"):
        log_probs = np.log(probs)
    for policy in ("continue", "power"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AcquisitionWarning)
            lazy = batch_bald(log_probs, 5, lazy=True, on_saturation=policy, random_state=seed)
            eager = batch_bald(log_probs, 5, lazy=False, on_saturation=policy,
                               random_state=seed)
        np.testing.assert_array_equal(lazy[0], eager[0])
        np.testing.assert_allclose(lazy[1], eager[1], rtol=0, atol=1e-12)


def test_each_screen_is_the_one_that_runs(joint_kernel, monkeypatch):
    other = "_torch_screen" if joint_kernel == "native" else "_native_screen"
    monkeypatch.setattr(JointEntropyTracker, other,
                        lambda *args: pytest.fail(f"{other} ran under the {joint_kernel} kernel"))
    rng = np.random.default_rng(5)
    logits = 2 * rng.normal(size=(80, 6, 4))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    indices, _ = batch_bald(log_probs, 5)
    assert len(set(indices.tolist())) == 5
