"""A strategy query on a Dask pool: one task graph, the same batch as in memory.

The strategy's own ``score_pool`` scores each partition where it lives; each
partition keeps its selector's candidates
(:meth:`~skal_power.sampling.Selector.partition_candidates`: top-B by score,
or Gumbel top-B with the noise of each *global* index); the candidates are
merged in a tree on the workers and the selector draws the batch from the
merge (:meth:`~skal_power.sampling.Selector.merged_batch`), so the client
receives the final candidates only. The seeds are the query's named seeds
(:func:`skal_power._seeds.query_seeds`), as in memory, so the answer is
bit-identical to the in-memory call whatever the partitioning.

A selector takes part through that contract alone: a new selector that
implements it runs on Dask with no change here.
"""

from __future__ import annotations

import sys
import uuid
from contextlib import contextmanager
from typing import Any, Callable

import numpy as np

from .._seeds import query_seeds
from .._validation import check_batch_size, check_positive_int, check_seed
from ..adapters import n_classes_of
from ..sampling import Power, draw_slot_samples, pick_per_slot
from ..strategies import PosteriorStrategy, RandomSampling, SecondModelStrategy, ThompsonBALD
from ..threads import limit_threads
from . import _tasks
from ._evaluation import second_model_scores
from ._partitions import pool_partitions

__all__ = ["dask_query", "selection_rule"]

#: Partitions merged per task of the tree reduction.
MERGE_WIDTH = 8


def _plan(strategy: Any) -> str | None:
    """Which graph answers ``strategy``: read from the query it runs, not from its class
    name, so a subclass that replaces the query, the selection or (without declaring
    ``_rowwise_scores = True``) the scores is refused rather than answered wrongly."""
    klass = type(strategy)
    if klass._query is RandomSampling._query:
        return "random"
    if (klass._query is ThompsonBALD._query
            and klass.iter_log_probs is PosteriorStrategy.iter_log_probs):
        return "thompson"
    if klass._select is not PosteriorStrategy._select:
        return None
    if (klass._query in (PosteriorStrategy._query, SecondModelStrategy._query)
            and klass._candidate_scores is SecondModelStrategy._candidate_scores):
        return "second_model"
    if klass._query is not PosteriorStrategy._query:
        return None
    rowwise = (klass.score_pool is PosteriorStrategy.score_pool
               or getattr(strategy, "_rowwise_scores", False))
    if klass._candidate_scores is PosteriorStrategy._candidate_scores and rowwise:
        return "scores"
    return None


def selection_rule(strategy: Any) -> str:
    """How ``strategy`` queries a Dask pool, or ``TypeError`` if it cannot.

    ``"scores/<Selector>"`` (row-wise scores, then the selector's partition
    merge), ``"second_model/<Selector>"`` (EIG and EvaluationBALD: two passes
    around one M′), ``"thompson"`` or ``"random"``. Any score composed with a
    selector that merges across partitions runs on Dask unchanged. A subclass
    that replaces the query or the selection is refused rather than answered
    wrongly, and so is one that overrides ``score_pool`` (say, to fit something
    on the whole pool first) unless it declares that the score of a row depends
    on that row alone with ``_rowwise_scores = True``.

    Examples
    --------
    >>> from skal_power import BALD, PowerBALD, SoftrankBALD
    >>> from skal_power.strategies import PowerEvaluationBALD
    >>> [selection_rule(s) for s in (BALD(), PowerBALD(), SoftrankBALD(), PowerEvaluationBALD())]
    ['scores/Top', 'scores/Power', 'scores/Softrank', 'second_model/Power']
    """
    plan = _plan(strategy)
    if plan in ("scores", "second_model"):
        selector = strategy.get_selector()
        if selector.partition_merge is not None:
            return f"{plan}/{type(selector).__name__}"
    elif plan is not None:
        return plan
    raise TypeError(
        f"{type(strategy).__name__} cannot query a Dask pool: its batch is not a per-point rule "
        "whose partition results merge exactly (supported: the selectors of "
        "skal_power.sampling that merge across partitions, Thompson and random selection). "
        "For greedy batch scores such as BatchBALD, pre-filter the pool with PowerBALD on "
        "Dask, compute those candidate rows and run the strategy on them in memory (see the "
        "'Pools on a Dask cluster' docs page)."
    )


def _distributed_client():
    """The ``dask.distributed`` client ``dask.compute`` will use, or ``None``."""
    if "distributed" not in sys.modules:
        return None
    from dask.base import get_scheduler
    from distributed import default_client

    try:
        client = default_client()
    except ValueError:
        return None
    return client if get_scheduler() == client.get else None


def _ship(obj: Any):
    """``obj`` once for a whole graph: broadcast to every worker, or one key of the graph."""
    import dask

    client = _distributed_client()
    if client is None:
        return dask.delayed(obj, name=f"skal-power-posterior-{uuid.uuid4().hex}",
                            traverse=False)
    return client.scatter(obj, broadcast=True, hash=False)


@contextmanager
def _shipped(obj: Any):
    """:func:`_ship` for the duration of one query; a scattered copy is released after."""
    shipped = _ship(obj)
    try:
        yield shipped
    finally:
        if hasattr(shipped, "release"):
            shipped.release()


def _prefix_sums(lengths):
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64).tolist()


def _offsets(partitions, lengths: Callable[[], list]) -> list:
    """Global offset of each partition.

    With unknown lengths, ``lengths()`` gives them as delayed values taken from
    what the partition tasks produce, and the offsets are delayed too.
    """
    import dask

    if partitions.lengths is not None:
        return _prefix_sums(partitions.lengths) if partitions.lengths else []
    delayed_lengths = lengths()
    offsets = dask.delayed(_prefix_sums)(delayed_lengths)
    return [offsets[i] for i in range(len(delayed_lengths))]


def _lengths_of(items: list) -> Callable[[], list]:
    import dask

    return lambda: [dask.delayed(len)(item) for item in items]


def _tree_merge(parts: list):
    import dask

    while len(parts) > 1:
        parts = [dask.delayed(_tasks.merge_parts)(parts[i:i + MERGE_WIDTH])
                 for i in range(0, len(parts), MERGE_WIDTH)]
    return parts[0]


def select_from_scores(selector, scores: list, offsets: list, n_instances: int, *, seed: int,
                       round_index: int, n_classes: int | None = None, locals_=None,
                       positions=None) -> tuple[np.ndarray, np.ndarray]:
    """The batch ``selector`` draws from the delayed scores of every partition.

    ``locals_``/``positions``: per partition, the rows the scores belong to and
    what their randomness is keyed by (all rows and their global index if None).
    """
    import dask

    keep = selector.n_kept(n_instances, n_classes)
    sorted_all = (dask.delayed(_tasks.sorted_scores)(*scores)
                  if selector.needs_sorted_scores else None)
    n = len(scores)
    locals_ = locals_ or [None] * n
    positions = positions or [None] * n
    parts = [dask.delayed(_tasks.candidates_part)(selector, s, o, keep, seed, round_index,
                                                  sorted_all, local, position)
             for s, o, local, position in zip(scores, offsets, locals_, positions)]
    if not parts:
        raise ValueError("The pool is empty: there is nothing to query.")
    (part,) = dask.compute(_tree_merge(parts))
    check_batch_size(n_instances, part.n_points)
    return selector.merged_batch(part.candidates, n_instances, seed=seed,
                                 n_points=part.n_points, n_positive=part.n_positive)


def _score_blocks(strategy, model, partitions, seed, kwargs):
    import dask

    return [dask.delayed(_tasks.score_block)(strategy, model, block, seed, kwargs)
            for block in partitions.blocks]


def _scores_query(strategy, classifier, partitions, n_instances, seed, round_index, kwargs):
    seeds = query_seeds(seed, "posterior")
    selector = strategy.get_selector()
    n_classes = n_classes_of(classifier) if selector.needs_n_classes else None
    with _shipped(classifier) as model:
        scores = _score_blocks(strategy, model, partitions, seeds.model, kwargs)
        offsets = _offsets(partitions, _lengths_of(scores))
        return select_from_scores(selector, scores, offsets, n_instances, seed=seeds.selection,
                                  round_index=round_index, n_classes=n_classes)


def _random_query(strategy, classifier, partitions, n_instances, seed, round_index, kwargs):
    """Uniform sampling: Gumbel keys on zero log-weights, no model needed (as
    :func:`~skal_power.sampling.random_sample`)."""
    import dask

    scores = [dask.delayed(_tasks.zero_scores)(block) for block in partitions.blocks]
    offsets = _offsets(partitions, _lengths_of(scores))
    selection = check_seed(query_seeds(seed, "random").selection)
    return select_from_scores(Power(0.0), scores, offsets, n_instances, seed=selection,
                              round_index=round_index)


def _thompson_query(strategy, classifier, partitions, n_instances, seed, round_index, kwargs):
    import dask

    seeds = query_seeds(seed, "posterior")
    with _shipped(classifier) as model:
        # KL candidates need no noise: rank with local indices, then shift by the offset.
        parts = [dask.delayed(_tasks.thompson_part)(strategy, model, block, seeds.model,
                                                    n_instances)
                 for block in partitions.blocks]
        offsets = _offsets(partitions, lambda: [part[1] for part in parts])
        parts = [dask.delayed(_tasks.shift_part)(part, offset)
                 for part, offset in zip(parts, offsets)]
        if not parts:
            raise ValueError("The pool is empty: there is nothing to query.")
        (part,) = dask.compute(_tree_merge(parts))
    check_batch_size(n_instances, part.n_points)
    rng = np.random.default_rng(seeds.selection)
    unique, columns = draw_slot_samples(rng, len(part.candidates), n_instances)
    # Slot b can only take one of the top n_instances of its column, so the KL table
    # restricted to the merged candidates (-inf elsewhere) fills the slots as in memory;
    # its rows are in pool order, so ties still go to the lower index.
    chosen = [part.candidates[k] for k in unique]
    rows = np.unique(np.concatenate([c.indices for c in chosen]))
    kl = np.full((len(rows), len(unique)), -np.inf)
    for column, candidates in enumerate(chosen):
        kl[np.searchsorted(rows, candidates.indices), column] = candidates.scores
    picked, scores = pick_per_slot(kl, columns)
    return rows[picked], scores


def _second_model_query(strategy, classifier, partitions, n_instances, seed, round_index,
                        kwargs):
    return second_model_scores(strategy, classifier, partitions, n_instances, seed=seed,
                               round_index=round_index, kwargs=kwargs, ship=_shipped,
                               prefix_sums=_prefix_sums, select=select_from_scores)


_QUERIES: dict[str, Callable] = {
    "scores": _scores_query,
    "random": _random_query,
    "thompson": _thompson_query,
    "second_model": _second_model_query,
}


def dask_query(strategy: Any, classifier: Any, X_pool: Any, n_instances: int, *,
               seed: int, round_index: int, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Run ``strategy``'s query on a Dask pool; called by ``QueryStrategy.__call__``.

    Returns the indices and scores the in-memory call gives for the same
    ``seed``. The pool is never materialised on the client: the client holds
    the graph and the final ``n_instances`` candidates.

    On a local scheduler (no ``dask.distributed`` client) the partition tasks
    run in this process's threads, so the query holds every library to one
    thread each (:func:`skal_power.threads.limit_threads`): Dask's threads are
    the parallelism. ``dask.distributed`` workers start with one BLAS thread
    already.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import PowerBALD
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X[::3], y[::3])
    >>> on_dask = dask_query(PowerBALD(), forest, da.from_array(X, chunks=50), 4,
    ...                      seed=7, round_index=0)
    >>> in_memory = PowerBALD()._query(forest, X, 4, seed=7, round_index=0)
    >>> bool(np.array_equal(on_dask[0], in_memory[0]))
    True
    """
    if _distributed_client() is None:
        with limit_threads(1):
            return _dask_query(strategy, classifier, X_pool, n_instances, seed=seed,
                               round_index=round_index, **kwargs)
    return _dask_query(strategy, classifier, X_pool, n_instances, seed=seed,
                       round_index=round_index, **kwargs)


def _dask_query(strategy, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
    plan = selection_rule(strategy).partition("/")[0]
    partitions = pool_partitions(X_pool)
    if partitions.lengths is not None:
        n_instances = check_batch_size(n_instances, sum(partitions.lengths))
    else:
        n_instances = check_positive_int(n_instances, name="n_instances")
    return _QUERIES[plan](strategy, classifier, partitions, n_instances, seed, round_index,
                          kwargs)
