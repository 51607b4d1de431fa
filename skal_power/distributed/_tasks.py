"""What runs on the workers: score one partition, keep its candidates.

Each function is a pure function of its arguments (a partition, the fitted
posterior, the seeds and its global offset), so Dask may run it anywhere and
rerun it after a worker dies: the result is the same. A selector is used only
through its partition contract (:meth:`~skal_power.sampling.Selector.partition_candidates`,
:func:`~skal_power.sampling.merge_candidates`).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from .._validation import check_log_probs
from ..sampling import Candidates, best_candidates, merge_candidates, sample_kl_to_mean

__all__ = ["Part", "candidates_part", "merge_parts"]


class Part(NamedTuple):
    """One partition's (or one merge's) contribution to the query.

    ``keep`` is how many candidates a merge keeps; ``n_points`` and
    ``n_positive`` count the pool points and those of positive weight.
    ``candidates`` is a :class:`~skal_power.sampling.Candidates`, or a list of
    them (one per posterior sample, for Thompson batches).
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


def zero_scores(block) -> np.ndarray:
    """Scores of a strategy that ignores the model (random sampling): zeros."""
    return np.zeros(len(block))


def sorted_scores(*scores: np.ndarray) -> np.ndarray:
    """All scores of the pool, sorted ascending (runs on one worker, 8 bytes per point)."""
    return np.sort(np.concatenate(scores))


def candidates_part(selector, scores: np.ndarray, offset: int, keep: int, seed: int,
                    round_index: int, sorted_all: np.ndarray | None = None,
                    local: np.ndarray | None = None,
                    positions: np.ndarray | None = None) -> Part:
    """The selector's best ``keep`` candidates of one partition.

    ``local`` are the partition rows the scores belong to (all rows if None);
    ``positions`` what their randomness is keyed by (their global index if None).
    """
    if local is None:
        local = np.arange(len(scores))
    indices = offset + np.asarray(local, dtype=np.int64)
    candidates = selector.partition_candidates(scores, indices, seed=seed,
                                               round_index=round_index, positions=positions,
                                               sorted_scores=sorted_all)
    return Part(best_candidates(candidates, keep), len(scores),
                int(np.count_nonzero(candidates.tiers)), keep)


def thompson_part(strategy, classifier, block, seed: int, keep: int) -> Part:
    """KL(p_k ‖ p̄) for every posterior sample k; the local best ``keep`` of each column
    (local indices: :func:`shift_part` moves them to the pool's)."""
    columns, n = [], 0
    for _, log_probs in strategy.iter_log_probs(classifier, block, seed=seed):
        log_probs = check_log_probs(log_probs, min_samples=2)
        columns.append(sample_kl_to_mean(log_probs, np.arange(log_probs.shape[1])))
        n += len(log_probs)
    if not columns:
        return Part(None, 0, 0, keep)
    kl = np.concatenate(columns)
    indices = np.arange(n, dtype=np.int64)
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
