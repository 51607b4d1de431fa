"""A batch drawn from upper bounds: M′ scores only the candidates that can join it.

The evaluation scores are M's part minus M′'s (``BALD_M − BALD_M′``,
``H_M − H_M′``), and both parts are never negative, so M's part bounds each
candidate's score from above before M′ has seen it. The selectors whose keys
grow with the score and whose noise depends on a point's position alone
(:class:`~skal_power.sampling.Top`, :class:`~skal_power.sampling.Power`,
:class:`~skal_power.sampling.Softmax`: ``monotone_keys``) rank a point at or
below where its bound ranks it. So:

1. M′ scores the ``FIRST_CHUNK_FACTOR · B`` candidates of best bound;
2. the B-th best key among them is a threshold no unscored candidate whose
   bound falls below it can reach; M′ scores every candidate whose bound
   reaches it, in one more pass;
3. the batch is the best B of the scored candidates, under the selector's own
   total order (:func:`~skal_power.sampling.best_candidates`): the batch that
   drawing on every score gives, to the last bit, as long as M′'s
   log-probabilities of a row do not depend on which other rows share its pass
   (the data contract of sampled predictions, which chunked passes rely on too).

Where that argument needs more than the bounds give, every candidate is scored
and the selector draws as usual: fewer than B candidates of positive weight,
or a top-B batch whose lowest score is not positive (the cases where the
selectors warn).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ._validation import check_batch_size
from .sampling import Selector, Top, best_candidates

__all__ = ["BoundedBatch", "BoundedResult", "FIRST_CHUNK_FACTOR", "bounded_batch"]

#: The first pass of M′ scores this many times the batch size of best bound.
FIRST_CHUNK_FACTOR = 4
#: Slack on the bounds: a part that is 0 in exact arithmetic may round below it.
BOUND_SLACK = 1e-9


class BoundedResult(NamedTuple):
    """Scores (NaN where M′ never scored the candidate) and the batch's positions
    among the candidates, or ``None`` when every candidate was scored and the
    selector is left to draw."""

    scores: np.ndarray
    picked: np.ndarray | None


class BoundedBatch(NamedTuple):
    """What :func:`bounded_batch` draws with: the selector, B, its seed and round."""

    selector: Selector
    n_instances: int
    seed: int
    round_index: int


def bounded_batch(batch: BoundedBatch, upper: np.ndarray,
                  score_rows: Callable[[np.ndarray], np.ndarray]) -> BoundedResult:
    """The batch of ``batch.selector`` scoring only the candidates that can join it.

    Parameters
    ----------
    batch : BoundedBatch
        A selector with ``monotone_keys``, the batch size, seed and round.
    upper : numpy.ndarray of shape (n_candidates,)
        An upper bound on each candidate's score (M's part of it).
    score_rows : callable
        ``score_rows(positions)`` gives the exact scores of the candidates at
        ``positions`` (sorted), e.g. M's part minus one pass of M′.

    Returns
    -------
    BoundedResult

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import Power
    >>> rng = np.random.default_rng(0)
    >>> upper = rng.uniform(size=2000)
    >>> exact = upper * rng.uniform(size=2000)
    >>> scored = []
    >>> def score_rows(positions):
    ...     scored.append(len(positions))
    ...     return exact[positions]
    >>> result = bounded_batch(BoundedBatch(Power(alpha=5.0), 10, 0, 0), upper, score_rows)
    >>> bool(np.array_equal(result.picked, Power(alpha=5.0).select(exact, 10, seed=0)))
    True
    >>> sum(scored) < 2000
    True
    """
    selector, seed, round_index = batch.selector, batch.seed, batch.round_index
    n_candidates = len(upper)
    n_instances = check_batch_size(batch.n_instances, n_candidates)
    positions = np.arange(n_candidates)
    scores = np.full(n_candidates, np.nan)
    slack = BOUND_SLACK * (1.0 + np.abs(upper))
    bounds = selector.partition_candidates(upper + slack, positions, seed=seed,
                                           round_index=round_index)
    order = np.lexsort((positions, bounds.ties, -bounds.keys, -bounds.tiers.astype(np.int64)))
    first = np.sort(order[:FIRST_CHUNK_FACTOR * n_instances])
    scores[first] = score_rows(first)
    threshold = _threshold(selector, scores, n_instances, seed, round_index)
    if threshold is None:  # too few candidates of positive weight: score the rest
        rest = np.flatnonzero(np.isnan(scores))
    else:
        reach = (bounds.tiers == 1) & (bounds.keys >= threshold)
        rest = np.flatnonzero(reach & np.isnan(scores))
    if len(rest):
        scores[rest] = score_rows(rest)
    if not np.isnan(scores).any():
        return BoundedResult(scores, None)
    scored = np.flatnonzero(~np.isnan(scores))
    best = _best(selector, scores, scored, n_instances, seed, round_index)
    if not _settled(selector, best, n_instances):
        rest = np.flatnonzero(np.isnan(scores))
        scores[rest] = score_rows(rest)
        return BoundedResult(scores, None)
    return BoundedResult(scores, best.indices.astype(np.int64))


def _best(selector, scores, scored, n_instances, seed, round_index):
    """The best ``n_instances`` scored candidates under the selector's order."""
    exact = selector.partition_candidates(scores[scored], scored, seed=seed,
                                          round_index=round_index)
    return best_candidates(exact, n_instances)


def _threshold(selector, scores, n_instances, seed, round_index) -> float | None:
    """The B-th best key of the scored candidates, if B of them have positive weight."""
    scored = np.flatnonzero(~np.isnan(scores))
    best = _best(selector, scores, scored, n_instances, seed, round_index)
    if not _settled(selector, best, n_instances):
        return None
    return float(best.keys[-1])


def _settled(selector, best, n_instances: int) -> bool:
    """Whether the bounds can decide the batch: B picks of positive weight, and for
    top-B a positive lowest score (the selectors' warnings look at the whole pool)."""
    if len(best.indices) < n_instances or not np.all(best.tiers == 1):
        return False
    return not isinstance(selector, Top) or best.scores[-1] > 0
