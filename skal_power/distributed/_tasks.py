"""What runs on the workers: score one partition, keep its candidates.

Each function is a pure function of its arguments (a partition, the fitted
posterior, the seeds and its global offset), so Dask may run it anywhere and
rerun it after a worker dies: the result is the same.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from .._validation import check_log_probs
from ..sampling import Softrank, acquisition_keys, sample_kl_to_mean, tie_keys
from ._candidates import Candidates, best_candidates, merge_candidates

__all__ = ["Part", "merge_parts"]


class Part(NamedTuple):
    """One partition's (or one merge's) contribution to the query.

    ``keep`` is how many candidates a merge keeps; ``n_points`` and
    ``n_positive`` count the pool points and those of positive weight.
    ``candidates`` is a :class:`Candidates`, or a list of them (one per
    posterior sample, for Thompson batches).
    """

    candidates: Any
    n_points: int
    n_positive: int
    keep: int


def merge_parts(parts: Sequence[Part]) -> Part:
    """Merge partitions: the best ``keep`` candidates of their union, counts summed."""
    keep = max(part.keep for part in parts)
    n_points = sum(part.n_points for part in parts)
    n_positive = sum(part.n_positive for part in parts)
    lists = [part.candidates for part in parts if part.candidates is not None]
    if lists and isinstance(lists[0], list):
        merged = [merge_candidates(column, keep) for column in zip(*lists)]
    else:
        merged = merge_candidates(lists, keep)
    return Part(merged, n_points, n_positive, keep)


def score_block(strategy, classifier, block, seed: int, kwargs: dict) -> np.ndarray:
    """The strategy's scores of one partition (the in-memory ``score_pool``)."""
    return np.asarray(strategy.score_pool(classifier, block, seed=seed, **kwargs),
                      dtype=np.float64)


def score_block_with_classes(strategy, classifier, block, seed: int, kwargs: dict):
    """Scores and number of classes C of one partition (C is ``None`` if it is empty)."""
    scores = score_block(strategy, classifier, block, seed, kwargs)
    return scores, (getattr(strategy, "_n_classes", None) if len(scores) else None)


def _global_indices(offset: int, n: int) -> np.ndarray:
    return np.arange(offset, offset + n, dtype=np.int64)


def top_part(scores: np.ndarray, offset: int, keep: int, seed: int | None = None) -> Part:
    """Local best ``keep`` by score, ties by the seed's tie keys, as ``top_sample``."""
    n = len(scores)
    indices = _global_indices(offset, n)
    ties = None if seed is None else tie_keys(seed, indices)
    candidates = Candidates.ranked(indices, np.ones(n, np.int8), scores, scores, ties)
    return Part(best_candidates(candidates, keep), n, n, keep)


def uniform_top_part(scored, offset: int, batch_size: int, factor: int | None) -> Part:
    """Local top ``batch_size * F`` by score; F is ``factor`` or the number of classes."""
    scores, n_classes = scored
    factor = factor if factor is not None else n_classes
    keep = batch_size * factor if factor is not None else 0
    return top_part(scores, offset, keep)


def gumbel_part(log_weights: np.ndarray, scores: np.ndarray, offset: int, keep: int,
                seed: int) -> Part:
    """Local Gumbel top-``keep`` with the noise of each global index."""
    n = len(scores)
    indices = _global_indices(offset, n)
    tiers, keys = acquisition_keys(log_weights, seed, indices)
    best = best_candidates(Candidates.ranked(indices, tiers, keys, scores), keep)
    return Part(best, n, int(np.count_nonzero(tiers)), keep)


def stochastic_part(selector, scores: np.ndarray, offset: int, keep: int, exponent: float,
                    seed: int) -> Part:
    """Power/softmax rules: log-weights are a function of each point's own score."""
    return gumbel_part(selector.log_weights(scores, exponent), scores, offset, keep, seed)


def sorted_scores(*scores: np.ndarray) -> np.ndarray:
    """All scores of the pool, sorted ascending (runs on one worker, 8 bytes per point)."""
    return np.sort(np.concatenate(scores))


def softrank_part(scores: np.ndarray, all_sorted: np.ndarray, offset: int, keep: int,
                  beta: float, seed: int) -> Part:
    """Softrank with global ranks: rank 1 is the best score, ties get their average rank."""
    return gumbel_part(Softrank.ranked_log_weights(scores, all_sorted, beta), scores, offset,
                       keep, seed)


def random_part(offset: int, n: int, keep: int, seed: int) -> Part:
    """Uniform sampling: Gumbel keys on zero log-weights, no data needed."""
    return gumbel_part(np.zeros(n), np.zeros(n), offset, keep, seed)


def thompson_part(strategy, classifier, block, seed: int, offset: int, keep: int) -> Part:
    """KL(p_k ‖ p̄) for every posterior sample k; the local best ``keep`` of each column."""
    columns, n = [], 0
    for start, log_probs in strategy.iter_log_probs(classifier, block, seed=seed):
        log_probs = check_log_probs(log_probs, min_samples=2)
        columns.append(sample_kl_to_mean(log_probs, np.arange(log_probs.shape[1])))
        n += len(log_probs)
    if not columns:
        return Part(None, 0, 0, keep)
    kl = np.concatenate(columns)
    indices = _global_indices(offset, n)
    tiers = np.ones(n, np.int8)
    best = [best_candidates(Candidates.ranked(indices, tiers, kl[:, k], kl[:, k]), keep)
            for k in range(kl.shape[1])]
    return Part(best, n, n, keep)


def shift_part(part: Part, offset: int) -> Part:
    """Move a part computed with local indices to global indices (order is unchanged)."""
    if part.candidates is None or offset == 0:
        return part
    shifted = [c._replace(indices=c.indices + offset) for c in part.candidates]
    return part._replace(candidates=shifted)
