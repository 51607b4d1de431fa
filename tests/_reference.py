"""Brute-force references for the maths tests (plain Python loops, float64)."""

from __future__ import annotations

import math

import numpy as np


def entropy_of(probs) -> float:
    return -sum(p * math.log(p) for p in probs if p > 0)


def reference_terms(log_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predictive and expected entropy of every point by a double loop over (n, k)."""
    probs = np.exp(np.asarray(log_probs, dtype=np.float64))
    n_points, n_samples, n_classes = probs.shape
    predictive = np.empty(n_points)
    expected = np.empty(n_points)
    for n in range(n_points):
        mean = [sum(probs[n, k, c] for k in range(n_samples)) / n_samples
                for c in range(n_classes)]
        predictive[n] = entropy_of(mean)
        expected[n] = sum(entropy_of(probs[n, k]) for k in range(n_samples)) / n_samples
    return predictive, expected


def reference_bald(log_probs: np.ndarray) -> np.ndarray:
    predictive, expected = reference_terms(log_probs)
    return predictive - expected


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64; ``-inf`` logits stay ``-inf``."""
    logits = np.asarray(logits, dtype=np.float64)
    peak = logits.max(axis=-1, keepdims=True)
    shifted = logits - peak
    with np.errstate(divide="ignore"):
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def random_log_probs(rng: np.random.Generator, shape, *, zero_fraction: float = 0.0,
                     scale: float = 3.0) -> np.ndarray:
    """Random normalised log-probabilities; a fraction of entries set to probability 0."""
    logits = rng.normal(scale=scale, size=shape)
    if zero_fraction:
        mask = rng.random(shape) < zero_fraction
        # keep at least one class per row
        mask[..., 0] &= False
        logits = np.where(mask, -np.inf, logits)
    return log_softmax(logits)


def monte_carlo_batch_bald(log_probs: np.ndarray, batch, n_draws: int,
                           rng: np.random.Generator) -> tuple[float, float]:
    """Independent estimate of ``I[y_batch; ω]`` and its standard error.

    Plain Monte Carlo in float64, written separately from skal_power.batch:
    draw k uniformly, then every label of the batch from ``p(·|x_i, ω_k)``;
    average ``log p(s | ω_k) − log mean_k' p(s | ω_k')``.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)[list(batch)]  # (b, K, C)
    n_points, n_samples, _ = log_probs.shape
    sample_k = rng.integers(0, n_samples, size=n_draws)
    log_likelihood = np.zeros((n_draws, n_samples))
    for i in range(n_points):
        cumulative = np.cumsum(np.exp(log_probs[i]), axis=1)[sample_k]  # (M, C)
        cumulative /= cumulative[:, -1:]
        labels = (rng.random((n_draws, 1)) >= cumulative).sum(axis=1)
        labels = np.minimum(labels, log_probs.shape[2] - 1)
        log_likelihood += log_probs[i][:, labels].T  # (M, K)
    top = log_likelihood.max(axis=1, keepdims=True)
    log_marginal = top[:, 0] + np.log(np.exp(log_likelihood - top).mean(axis=1))
    values = log_likelihood[np.arange(n_draws), sample_k] - log_marginal
    return float(values.mean()), float(values.std() / math.sqrt(n_draws))


def joint_tracker(log_probs: np.ndarray, **settings):
    """A JointEntropyTracker of ``(N, K, C)`` log-probs, on the tables a batch query uses:
    torch where it is installed (and not switched off), numpy otherwise."""
    from skal_power.batch._greedy import _probability_table, _require_torch
    from skal_power.batch._joint import JointEntropyTracker

    torch = _require_torch()
    probs = _probability_table(torch, np.asarray(log_probs), "cpu")
    return JointEntropyTracker(torch, probs, settings.pop("expected_entropy", None), **settings)
