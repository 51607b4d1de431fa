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

import numpy as np

from .._pool import take_rows
from .._second_model import (
    evaluation_rows,
    first_pass,
    fit_second_model,
    second_pass,
    training_data,
)
from .._seeds import query_seeds
from .._validation import check_batch_size
from ..adapters import n_classes_of

__all__ = ["second_model_scores"]


def first_pass_part(strategy, classifier, block, seed: int, local_eval: np.ndarray):
    """M's part of the score on every row, and the evaluation rows with their soft targets."""
    n = len(block)
    if n == 0:
        return np.empty(0), None, None
    part, targets = first_pass(classifier, block, np.arange(n), local_eval,
                               score_part=strategy._score_part, n_samples=strategy.n_samples,
                               chunk_size=strategy.chunk_size, seed=seed,
                               min_samples=strategy.min_samples, owner=type(strategy).__name__)
    return part, take_rows(block, local_eval), targets


def second_pass_scores(strategy, distilled, block, seed: int, first,
                       local: np.ndarray) -> np.ndarray:
    """The scores of the partition's candidate rows ``local``: M's part minus M′'s."""
    part_m2 = second_pass(distilled, block, local, score_part=strategy._score_part,
                          n_samples=strategy.n_samples, chunk_size=strategy.chunk_size,
                          seed=seed)
    return first[0][local] - part_m2


def _concatenate_rows(pieces):
    pieces = [piece for piece in pieces if piece is not None]
    if hasattr(pieces[0], "iloc"):
        import pandas as pd

        return pd.concat(pieces)
    return np.concatenate(pieces)


def second_model_scores(strategy, classifier, partitions, n_instances, *, seed, round_index,
                        kwargs, ship, prefix_sums, select):
    """Two passes over the Dask pool around one distillation on the client, then the
    strategy's selector draws the batch from the partitions' candidates (``select``)."""
    import dask

    seeds = query_seeds(seed, "second_model")
    selector = strategy.get_selector()
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
    exclude = bool(strategy.exclude_eval)
    rows = evaluation_rows(int(sum(lengths)), strategy.eval_size, exclude=exclude,
                           seed=seeds.eval_subset)
    eval_indices = rows.eval_indices
    n_instances = check_batch_size(n_instances, len(rows.candidates))
    offsets = prefix_sums(lengths)
    local_evals = [eval_indices[(eval_indices >= o) & (eval_indices < o + n)] - o
                   for o, n in zip(offsets, lengths)]
    n_classes = None
    if selector.needs_n_classes:
        n_classes = n_classes_of(classifier)

    with ship(classifier) as model:
        first = dask.persist(*[
            dask.delayed(first_pass_part)(strategy, model, block, seeds.model, local)
            for block, local in zip(partitions.blocks, local_evals)])
        X_eval, targets = dask.compute([f[1] for f in first], [f[2] for f in first])
        distilled = fit_second_model(
            classifier, training, _concatenate_rows(X_eval),
            np.concatenate([t for t in targets if t is not None]), n_samples=strategy.n_samples,
            refit=strategy.distill_refit, params=strategy.distill_params, seed=seeds.distill)
        strategy._remember_second_model(eval_indices, distilled)
        locals_, positions = [], []
        for o, n, local_eval in zip(offsets, lengths, local_evals):
            local = np.arange(n)
            if exclude:
                local = np.setdiff1d(local, local_eval)
            locals_.append(local)
            # In memory the noise and the tie keys are keyed by the position among the
            # candidates, not in the pool.
            global_rows = o + local.astype(np.int64)
            positions.append(global_rows - int(np.searchsorted(eval_indices, o))
                             - np.searchsorted(local_eval, local) if exclude else None)
        with ship(distilled) as shipped:
            scores = [dask.delayed(second_pass_scores)(strategy, shipped, block,
                                                       seeds.second_model, f, local)
                      for block, f, local in zip(partitions.blocks, first, locals_)]
            return select(selector, scores, offsets, n_instances, seed=seeds.selection,
                          round_index=round_index, n_classes=n_classes, locals_=locals_,
                          positions=positions)
