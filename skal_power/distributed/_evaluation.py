"""EIG and EvaluationBALD on a Dask pool: the same M′, the same batch.

The in-memory query makes one pass of M over the pool (its part of the score,
and its predictive distribution on the evaluation rows), distils M′ on those
rows, then makes one pass of M′. On Dask:

1. each partition runs the strategy's own first pass; its part of the score
   stays on the worker (``persist``) and only the evaluation rows and their
   soft targets come to the client;
2. the client distils M′ exactly as in memory (same rows, targets and seed);
3. M′ is shipped once, each partition scores its candidates and keeps its
   local top-B (or Gumbel top-B), and the candidates merge as for the other
   rules.

The evaluation set is brought to the client, so a Dask pool needs an
``eval_size``: the default (the whole pool) would materialise it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_batch_size, check_seed
from ..adapters import sampled_log_proba
from .._pool import take_rows
from .._validation import split_seed
from ..sampling import acquisition_keys, tie_keys
from ._candidates import Candidates, best_candidates
from ._tasks import Part

__all__ = ["evaluation_query"]


def first_pass_part(strategy, classifier, block, seed: int, local_eval: np.ndarray):
    """M's part of the score on every row, and the evaluation rows with their soft targets."""
    n = len(block)
    if n == 0:
        return np.empty(0), None, None
    part, targets = strategy._first_pass(classifier, block, np.arange(n), local_eval, seed)
    return part, take_rows(block, local_eval), targets


def second_pass_part(strategy, distilled, block, seed: int, first, offset: int,
                     local_eval: np.ndarray, n_eval_before: int, exclude: bool, keep: int,
                     selector: Any, exponent: float | None, selection_seed: int) -> Part:
    """Score the partition's candidates with M′ and keep the local best ``keep``."""
    part_m = first[0]
    local = np.arange(len(part_m))
    if exclude:
        local = np.setdiff1d(local, local_eval)
    part_m2 = np.empty(len(local), dtype=np.float64)
    for start in range(0, len(local), strategy.chunk_size):
        stop = min(start + strategy.chunk_size, len(local))
        log_probs = sampled_log_proba(distilled, take_rows(block, local[start:stop]),
                                      n_samples=strategy.n_samples, random_state=seed)
        part_m2[start:stop] = strategy._score_part(log_probs)
    scores = part_m[local] - part_m2
    indices = offset + local.astype(np.int64)
    # In memory the noise and the tie keys are keyed by the position among the
    # candidates, not in the pool.
    positions = indices
    if exclude:
        positions = indices - n_eval_before - np.searchsorted(local_eval, local)
    if exponent is None:
        ties = tie_keys(check_seed(selection_seed), positions)  # as top_sample
        best = best_candidates(Candidates.ranked(indices, np.ones(len(local), np.int8), scores,
                                                 scores, ties), keep)
        return Part(best, len(local), len(local), keep)
    tiers, keys = acquisition_keys(selector.log_weights(scores, exponent), selection_seed,
                                   positions)
    best = best_candidates(Candidates.ranked(indices, tiers, keys, scores), keep)
    return Part(best, len(local), int(np.count_nonzero(tiers)), keep)


def _concatenate_rows(pieces):
    pieces = [piece for piece in pieces if piece is not None]
    if hasattr(pieces[0], "iloc"):
        import pandas as pd

        return pd.concat(pieces)
    return np.concatenate(pieces)


def evaluation_query(strategy, rule, classifier, partitions, n_instances, *, seed, round_index,
                     kwargs, ship, tree_merge, prefix_sums):
    """Two passes over the Dask pool around one distillation on the client."""
    import dask

    from ..distill import eval_subset
    from ..strategies._second_model import training_data

    selector = strategy.get_selector()
    exponent = None if rule == "evaluation_top" else selector.exponent(round_index)
    model_seed, second_seed, distill_seed, eval_seed, selection_seed = split_seed(seed, 5)
    training = training_data(
        classifier, kwargs.pop("X_training", None), kwargs.pop("y_training", None))
    if strategy.eval_size is None:
        raise ValueError(
            f"{type(strategy).__name__} on a Dask pool needs eval_size: M′ is fitted on the "
            "client on the evaluation rows, and the default (the whole pool) would bring the "
            "whole pool there. Pass eval_size=<int or fraction>, e.g. eval_size=10_000."
        )
    lengths = partitions.lengths
    if lengths is None:  # the evaluation subset is drawn from range(N): read the lengths
        lengths = list(dask.compute([dask.delayed(len)(b) for b in partitions.blocks])[0])
    n_pool = int(sum(lengths))
    if n_pool < 1:
        raise ValueError("The pool is empty: there is nothing to query.")
    eval_indices = eval_subset(n_pool, strategy.eval_size, random_state=eval_seed)
    exclude = bool(strategy.exclude_eval)
    n_candidates = n_pool - len(eval_indices) if exclude else n_pool
    n_instances = check_batch_size(n_instances, n_candidates)
    offsets = prefix_sums(lengths)
    local_evals = [eval_indices[(eval_indices >= o) & (eval_indices < o + n)] - o
                   for o, n in zip(offsets, lengths)]

    with ship(classifier) as model:
        first = dask.persist(*[
            dask.delayed(first_pass_part)(strategy, model, block, model_seed, local)
            for block, local in zip(partitions.blocks, local_evals)])
        rows, targets = dask.compute([f[1] for f in first], [f[2] for f in first])
        strategy.eval_indices_ = eval_indices
        strategy.distilled_ = strategy._second_model(
            classifier, training, _concatenate_rows(rows),
            np.concatenate([t for t in targets if t is not None]), distill_seed,
        )
        with ship(strategy.distilled_) as distilled:
            parts = [
                dask.delayed(second_pass_part)(
                    strategy, distilled, block, second_seed, f, o, local,
                    int(np.searchsorted(eval_indices, o)), exclude, n_instances, selector,
                    exponent, selection_seed)
                for block, f, o, local in zip(partitions.blocks, first, offsets, local_evals)]
            (part,) = dask.compute(tree_merge(parts))
    return part, n_instances
