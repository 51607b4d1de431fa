"""A strategy query on a Dask pool: one task graph, the same batch as in memory.

The strategy's own ``score_pool`` scores each partition where it lives; each
partition keeps its local candidates under the rule's total order (top-B by
score, or Gumbel top-B with the noise of each *global* index); the
candidates are merged in a tree on the workers and the client receives the
final ``n_instances`` points only. Seeds are split exactly as in
:meth:`~skal_power.strategies.PosteriorStrategy._query`, so the answer is
bit-identical to the in-memory call whatever the partitioning.
"""

from __future__ import annotations

import sys
import uuid
import warnings
from contextlib import contextmanager
from typing import Any, Callable

import numpy as np

from .._validation import check_batch_size, check_positive_int, check_seed, split_seed
from ..threads import limit_threads
from ..sampling import (
    AcquisitionWarning,
    Softrank,
    Top,
    UniformTop,
    acquisition_keys,
    pick_per_slot,
    top_keys,
)
from ..strategies import Acquisition, EvaluationAcquisition, RandomSampling, ThompsonBALD
from . import _tasks
from ._evaluation import evaluation_query
from ._partitions import pool_partitions

__all__ = ["dask_query", "selection_rule"]

#: Partitions merged per task of the tree reduction.
MERGE_WIDTH = 8


def _overrides(strategy: Any, base: type, names: tuple[str, ...]) -> bool:
    """Whether a class between ``type(strategy)`` and ``base`` defines one of ``names``."""
    for klass in type(strategy).__mro__:
        if klass is base:
            return False
        if any(name in vars(klass) for name in names):
            return True
    return False


def _selector_rule(selector: Any, prefix: str = "") -> str | None:
    if isinstance(selector, Top):
        return prefix + "top"
    if isinstance(selector, Softrank):
        return None if prefix else "softrank"
    if hasattr(selector, "log_weights") and selector.partition_merge == "keys":
        return prefix + "stochastic"
    if isinstance(selector, UniformTop):
        return None if prefix else "uniform_top"
    return None


def selection_rule(strategy: Any) -> str:
    """Name of the partition-mergeable rule a strategy uses, or ``TypeError``.

    Read from the strategy's selector (:mod:`skal_power.sampling`), so any
    score composed with a mergeable selector runs on Dask unchanged. A
    subclass that replaces the query or the selection is refused rather than
    answered wrongly, and so is one that overrides ``score_pool`` (say, to fit
    something on the whole pool first) unless it declares that the score of a
    row depends on that row alone with ``_rowwise_scores = True``.

    Examples
    --------
    >>> from skal_power import BALD, PowerBALD, SoftrankBALD
    >>> from skal_power.strategies import PowerEvaluationBALD
    >>> [selection_rule(s) for s in (BALD(), PowerBALD(), SoftrankBALD(), PowerEvaluationBALD())]
    ['top', 'stochastic', 'softrank', 'evaluation_stochastic']
    """
    rule = None
    if isinstance(strategy, RandomSampling) and not _overrides(
            strategy, RandomSampling, ("_query",)):
        rule = "random"
    elif isinstance(strategy, ThompsonBALD) and not _overrides(
            strategy, ThompsonBALD, ("_query", "iter_log_probs")):
        rule = "thompson"
    elif isinstance(strategy, EvaluationAcquisition) and not _overrides(
            strategy, EvaluationAcquisition,
            ("_query", "_select", "_score", "_first_pass", "_chunks", "score_pool")):
        rule = _selector_rule(strategy.get_selector(), prefix="evaluation_")
    elif isinstance(strategy, Acquisition) and not _overrides(
            strategy, Acquisition, ("_query", "_select")):
        if getattr(strategy, "_rowwise_scores", False) or not _overrides(
                strategy, Acquisition, ("score_pool",)):
            rule = _selector_rule(strategy.get_selector())
    if rule is not None:
        return rule
    raise TypeError(
        f"{type(strategy).__name__} cannot query a Dask pool: its batch is not a per-point rule whose "
        "partition results merge exactly (supported: top-B, power, softmax, softrank, "
        "UniformTop, Thompson and random selection; EIG/EvaluationBALD top-B, power or "
        "softmax). For greedy batch scores such as BatchBALD, pre-filter the pool with "
        "PowerBALD on Dask, compute those candidate rows and run the strategy on them in "
        "memory (see the 'Pools on a Dask cluster' docs page)."
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


def _scores(strategy, model, partitions, seed, kwargs, task=_tasks.score_block):
    import dask

    return [dask.delayed(task)(strategy, model, block, seed, kwargs)
            for block in partitions.blocks]


def _top_graph(strategy, model, partitions, n_instances, seed, round_index, kwargs):
    import dask

    model_seed, selection_seed = split_seed(seed, 2)
    scores = _scores(strategy, model, partitions, model_seed, kwargs)
    offsets = _offsets(partitions, _lengths_of(scores))
    tie_seed = check_seed(selection_seed)  # as top_sample(..., random_state=selection_seed)
    return [dask.delayed(_tasks.top_part)(s, o, n_instances, tie_seed)
            for s, o in zip(scores, offsets)]


def _stochastic_graph(strategy, model, partitions, n_instances, seed, round_index, kwargs):
    import dask

    model_seed, selection_seed = split_seed(seed, 2)
    selector = strategy.get_selector()
    exponent = selector.exponent(round_index)
    scores = _scores(strategy, model, partitions, model_seed, kwargs)
    offsets = _offsets(partitions, _lengths_of(scores))
    if isinstance(selector, Softrank):
        everything = dask.delayed(_tasks.sorted_scores)(*scores)
        return [dask.delayed(_tasks.softrank_part)(s, everything, o, n_instances, exponent,
                                                   selection_seed)
                for s, o in zip(scores, offsets)]
    return [dask.delayed(_tasks.stochastic_part)(selector, s, o, n_instances, exponent,
                                                 selection_seed)
            for s, o in zip(scores, offsets)]


def _uniform_top_graph(strategy, model, partitions, n_instances, seed, round_index, kwargs):
    import dask

    model_seed, _ = split_seed(seed, 2)
    scored = _scores(strategy, model, partitions, model_seed, kwargs,
                     task=_tasks.score_block_with_classes)
    offsets = _offsets(partitions, _lengths_of([s[0] for s in scored]))
    selector = strategy.get_selector()
    return [dask.delayed(_tasks.uniform_top_part)(s, o, n_instances, selector.factor)
            for s, o in zip(scored, offsets)]


def _random_graph(strategy, model, partitions, n_instances, seed, round_index, kwargs):
    import dask

    noise_seed = check_seed(seed)  # as random_sample(..., random_state=seed)
    lengths = partitions.lengths
    if lengths is None:
        lengths = [dask.delayed(len)(block) for block in partitions.blocks]
    offsets = _offsets(partitions, lambda: lengths)
    return [dask.delayed(_tasks.random_part)(o, n, n_instances, noise_seed)
            for o, n in zip(offsets, lengths)]


def _thompson_graph(strategy, model, partitions, n_instances, seed, round_index, kwargs):
    import dask

    model_seed, _ = split_seed(seed, 2)
    # KL candidates need no noise: rank with local indices, then shift by the offset.
    parts = [dask.delayed(_tasks.thompson_part)(strategy, model, block, model_seed, 0,
                                                n_instances)
             for block in partitions.blocks]
    offsets = _offsets(partitions, lambda: [part[1] for part in parts])
    return [dask.delayed(_tasks.shift_part)(part, offset) for part, offset in zip(parts, offsets)]


def _finish_ranked(part, n_instances, seed, strategy):
    return part.candidates.indices, part.candidates.scores


def _finish_stochastic(part, n_instances, seed, strategy):
    if part.n_positive < n_instances:
        warnings.warn(
            f"Only {part.n_positive} of {part.n_points} pool points have a positive acquisition "
            f"weight; the other {n_instances - part.n_positive} points of the batch were drawn "
            "uniformly from the rest.",
            AcquisitionWarning,
            stacklevel=4,  # the user's call of the strategy
        )
    return _finish_ranked(part, n_instances, seed, strategy)


def _finish_random(part, n_instances, seed, strategy):
    return part.candidates.indices, np.zeros(n_instances)


def _finish_uniform_top(part, n_instances, seed, strategy):
    _, selection_seed = split_seed(seed, 2)
    candidates = part.candidates
    tiers, keys = acquisition_keys(np.zeros(len(candidates.indices)),
                                   check_seed(selection_seed), candidates.indices)
    chosen = top_keys(candidates.indices, tiers, keys, n_instances).indices
    position = {int(index): i for i, index in enumerate(candidates.indices)}
    scores = candidates.scores[[position[int(index)] for index in chosen]]
    return chosen, scores


def _finish_thompson(part, n_instances, seed, strategy):
    _, slot_seed = split_seed(seed, 2)
    rng = np.random.default_rng(slot_seed)
    slot_samples = rng.integers(0, len(part.candidates), size=n_instances)
    unique, columns = np.unique(slot_samples, return_inverse=True)
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


_RULES: dict[str, tuple[Callable, Callable]] = {
    "top": (_top_graph, _finish_ranked),
    "stochastic": (_stochastic_graph, _finish_stochastic),
    "softrank": (_stochastic_graph, _finish_stochastic),
    "uniform_top": (_uniform_top_graph, _finish_uniform_top),
    "random": (_random_graph, _finish_random),
    "thompson": (_thompson_graph, _finish_thompson),
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
    import dask

    rule = selection_rule(strategy)
    partitions = pool_partitions(X_pool)
    if rule.startswith("evaluation"):
        part, n_instances = evaluation_query(
            strategy, rule, classifier, partitions, n_instances, seed=seed,
            round_index=round_index, kwargs=kwargs, ship=_shipped, tree_merge=_tree_merge,
            prefix_sums=_prefix_sums)
        finish = _finish_ranked if rule == "evaluation_top" else _finish_stochastic
        return finish(part, n_instances, seed, strategy)
    build, finish = _RULES[rule]
    if partitions.lengths is not None:
        n_instances = check_batch_size(n_instances, sum(partitions.lengths))
    else:
        n_instances = check_positive_int(n_instances, name="n_instances")
    needs_model = rule != "random"
    with _shipped(classifier if needs_model else None) as model:
        parts = build(strategy, model, partitions, n_instances, seed, round_index, kwargs)
        if not parts:
            raise ValueError("The pool is empty: there is nothing to query.")
        (part,) = dask.compute(_tree_merge(parts))
    check_batch_size(n_instances, part.n_points)
    return finish(part, n_instances, seed, strategy)
