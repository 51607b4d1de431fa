"""Thompson-style batch selection over posterior samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._kernels import default_chunk_rows
from .._validation import check_batch_size, check_log_probs, check_seed, raise_for_bad_values

__all__ = ["thompson_sample", "sample_kl_to_mean", "pick_per_slot", "draw_slot_samples"]

_LOG_FLOOR = -1e4


def sample_kl_to_mean(log_probs: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """``KL(p(·|x, ω_k) ‖ p̄(·|x))`` for every point and each k in ``samples``.

    The mean over all k of this quantity is BALD.

    Parameters
    ----------
    log_probs : numpy.ndarray of shape (N, K, C)
    samples : numpy.ndarray of int, shape (S,)
        Which posterior samples to score.

    Returns
    -------
    numpy.ndarray of shape (N, S), float64

    Examples
    --------
    >>> import numpy as np
    >>> lp = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]])  # log of one-hot rows
    >>> kl = sample_kl_to_mean(lp, np.array([0, 1]))
    >>> np.allclose(kl, np.log(2))
    True
    """
    n_points, n_samples, n_classes = log_probs.shape
    out = np.empty((n_points, len(samples)), dtype=np.float64)
    rows = default_chunk_rows(n_samples, n_classes, 8)
    for start in range(0, n_points, rows):
        chunk = np.maximum(log_probs[start:start + rows].astype(np.float64), _LOG_FLOOR)
        probs = np.exp(chunk)
        sums = probs.sum(axis=-1)
        if not np.all(np.abs(np.log(sums)) <= 1e-3):
            raise_for_bad_values(log_probs[start:start + rows], offset=start)
        log_mean = np.log(np.maximum(probs.mean(axis=1), np.finfo(np.float64).tiny))
        picked = chunk[:, samples, :]
        kl = (probs[:, samples, :] * (picked - log_mean[:, None, :])).sum(axis=-1)
        out[start:start + rows] = np.maximum(kl, 0.0)
    return out


def thompson_sample(log_probs: Any, batch_size: int, *,
                    random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Thompson batch: for each slot draw one posterior sample and take its arg-max.

    For slot b a sample ``ω_k`` is drawn uniformly from the K available; every
    point not yet picked is scored by ``KL(p(·|x, ω_k) ‖ p̄(·|x))`` (its BALD
    score under that one sample) and the best is added to the batch.

    Parameters
    ----------
    log_probs : array-like of shape (N, K, C)
        Sampled log-probabilities, ``K >= 2``.
    batch_size : int
        Number of points, ``1 <= batch_size <= N``.
    random_state : None, int, RandomState or Generator

    Returns
    -------
    indices : numpy.ndarray of shape (batch_size,)
    scores : numpy.ndarray of shape (batch_size,)
        The KL score of each pick under its slot's sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import thompson_sample
    >>> rng = np.random.default_rng(0)
    >>> logits = rng.normal(size=(50, 8, 3))
    >>> lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    >>> idx, s = thompson_sample(lp, 4, random_state=0)
    >>> len(set(idx.tolist())), bool((s >= 0).all())
    (4, True)
    """
    log_probs = check_log_probs(log_probs, min_samples=2)
    batch_size = check_batch_size(batch_size, log_probs.shape[0], name="batch_size")
    rng = np.random.default_rng(check_seed(random_state))
    unique_samples, column_of_slot = draw_slot_samples(rng, log_probs.shape[1], batch_size)
    kl = sample_kl_to_mean(log_probs, unique_samples)
    return pick_per_slot(kl, column_of_slot)


def draw_slot_samples(rng: np.random.Generator, n_samples: int,
                      batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The posterior sample of each Thompson slot: the distinct samples, and each slot's column.

    Slot b draws ``ω_k`` uniformly from the ``n_samples`` available. The draw is
    one ``rng.integers`` call, so every path that fills the slots (in memory or
    from a partitioned pool) takes the same samples for the same generator.

    Parameters
    ----------
    rng : numpy.random.Generator
        The query's selection generator.
    n_samples : int
        Number K of posterior samples (or candidate columns) to draw from.
    batch_size : int
        Number of slots.

    Returns
    -------
    samples : numpy.ndarray
        The distinct samples drawn, sorted.
    column_of_slot : numpy.ndarray of shape (batch_size,)
        For each slot, its sample's position in ``samples``.

    Examples
    --------
    >>> import numpy as np
    >>> samples, columns = draw_slot_samples(np.random.default_rng(0), 8, 5)
    >>> bool((samples[columns] < 8).all()), len(columns)
    (True, 5)
    """
    slot_samples = rng.integers(0, n_samples, size=batch_size)
    samples, column_of_slot = np.unique(slot_samples, return_inverse=True)
    return samples, column_of_slot


def pick_per_slot(kl: np.ndarray, column_of_slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill batch slots in order: slot b takes the unpicked arg-max of ``kl[:, column_of_slot[b]]``.

    Examples
    --------
    >>> import numpy as np
    >>> kl = np.array([[0.9, 0.1], [0.8, 0.7], [0.1, 0.2]])
    >>> pick_per_slot(kl, np.array([0, 0, 1]))
    (array([0, 1, 2]), array([0.9, 0.8, 0.2]))
    """
    available = np.ones(kl.shape[0], dtype=bool)
    indices = np.empty(len(column_of_slot), dtype=np.int64)
    scores = np.empty(len(column_of_slot), dtype=np.float64)
    for slot, column in enumerate(column_of_slot):
        masked = np.where(available, kl[:, column], -np.inf)
        best = int(np.argmax(masked))
        indices[slot], scores[slot] = best, kl[best, column]
        available[best] = False
    return indices, scores
