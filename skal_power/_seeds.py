"""The seeds of one query, by name, built in one place.

A query's randomness comes from one integer (:func:`skal_power._validation.query_seed`
of the strategy's ``random_state`` and the query's number). Each thing drawn
at random in the query gets its own seed, derived from that integer by
:func:`skal_power._validation.split_seed` in a fixed *layout*. The layouts are
the contract every path of a query shares: the in-memory strategies, the Dask
path and the second-model steps read their seeds from :func:`query_seeds`, never
by unpacking ``split_seed`` positionally, so the same ``random_state`` gives the
same batch on every path.

=================  ===========================================================
layout             seeds, in ``split_seed`` order
=================  ===========================================================
``"posterior"``    ``model`` (M's posterior samples), ``selection`` (the
                   selector, the greedy batch or Thompson's slots); the
                   targets of EPIG come from the model seed
                   (``targets = split_seed(model, 2)[1]``) so that
                   ``score_pool(seed=model)`` alone fixes them
``"second_model"`` ``model``, ``second_model`` (M′'s posterior samples),
                   ``distill`` (fitting M′), ``eval_subset`` (the evaluation
                   rows), ``selection``
``"targets"``      ``model``, ``targets`` (the target rows), ``selection``
``"random"``       ``selection`` is the query's seed itself
=================  ===========================================================
"""

from __future__ import annotations

from typing import NamedTuple

from ._validation import split_seed

__all__ = ["LAYOUTS", "QuerySeeds", "epig_target_seed", "query_seeds"]

#: Names of the seeds of each layout, in the order ``split_seed`` derives them.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "posterior": ("model", "selection"),
    "second_model": ("model", "second_model", "distill", "eval_subset", "selection"),
    "targets": ("model", "targets", "selection"),
    "random": ("selection",),
}


class QuerySeeds(NamedTuple):
    """The seeds of one query (``None`` for what the layout does not draw).

    Examples
    --------
    >>> seeds = query_seeds(7, "second_model")
    >>> seeds.selection == query_seeds(7, "second_model").selection != seeds.model
    True
    """

    model: int | None = None
    selection: int | None = None
    second_model: int | None = None
    distill: int | None = None
    eval_subset: int | None = None
    targets: int | None = None


def query_seeds(seed: int, layout: str) -> QuerySeeds:
    """The named seeds of a query with seed ``seed`` in ``layout`` (see :data:`LAYOUTS`).

    Examples
    --------
    >>> query_seeds(3, "random").selection
    3
    >>> from skal_power._validation import split_seed
    >>> query_seeds(3, "posterior").model == split_seed(3, 2)[0]
    True
    """
    if layout == "random":
        return QuerySeeds(selection=seed)
    names = LAYOUTS[layout]
    seeds = dict(zip(names, split_seed(seed, len(names))))
    if layout == "posterior":
        seeds["targets"] = epig_target_seed(seeds["model"])
    return QuerySeeds(**seeds)


def epig_target_seed(model_seed: int) -> int:
    """The seed of EPIG's target rows given the seed of the posterior samples.

    Examples
    --------
    >>> seeds = query_seeds(3, "posterior")
    >>> epig_target_seed(seeds.model) == seeds.targets
    True
    """
    return split_seed(model_seed, 2)[1]
