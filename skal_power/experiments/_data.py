"""The data of one trial: pool, test split and validation set, all seeded by the trial seed."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import datasets as ds
from ..datasets._loaders import read_mnist

__all__ = ["TrialData", "derive_seed", "make_data", "validation_source"]

_TAGS = {"data": 0, "initial": 1, "model": 2, "strategy": 3, "cold": 4, "test": 5,
         "validation": 6}


def derive_seed(seed: int, round_index: int, tag: str) -> int:
    """Seed for one (trial seed, round, purpose), independent of process state.

    Examples
    --------
    >>> derive_seed(0, 3, "model") == derive_seed(0, 3, "model") != derive_seed(0, 4, "model")
    True
    """
    state = np.random.SeedSequence([seed, round_index, _TAGS[tag]]).generate_state(1)
    return int(state[0])


class TrialData(NamedTuple):
    """The data of one trial seed (see :func:`make_data`).

    Examples
    --------
    >>> data = TrialData(np.zeros((3, 2)), np.arange(3), np.zeros((1, 2)), np.zeros(1),
    ...                  np.arange(3))
    >>> data.X_validation is None, len(data[:5])
    (True, 5)
    """

    X_pool: np.ndarray
    y_pool: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray
    X_validation: np.ndarray | None = None
    y_validation: np.ndarray | None = None
    #: Pool rows made out-of-distribution by an ``OutOfDistribution`` transform (None: none,
    #: or a later transform changed the rows).
    ood_mask: np.ndarray | None = None
    #: For each pool row, the pool row it was copied from by ``RepeatWithNoise`` (copies of
    #: one image share it; None: no repeat, or another transform changed the rows).
    source: np.ndarray | None = None


def make_data(config: dict[str, Any], seed: int) -> TrialData:
    """Pool (transformed, oracle labels), clean test split and validation set of one trial.

    The split and the transforms depend on the trial seed only, so all
    strategies of a seed see the same data. With ``dataset.validation_size``
    a labelled validation set is drawn: from MNIST's own validation split, or
    for digits held out of the pool (see :func:`validation_source`). With
    ``dataset.normalize`` every split is standardised first, before the pool
    transforms (so Repeated-MNIST noise is in normalised units). An
    ``OutOfDistribution`` transform with held-out ``classes`` removes those
    classes from the test split, from the validation set (which stands for the
    test distribution: early stopping, EPIG's targets) and from ``classes``;
    with its ``label`` (one label for every OOD point) that label joins
    ``classes``, so the model has an output for it, but never the test split.

    Examples
    --------
    >>> cfg = {"dataset": {"name": "digits", "test_size": 500, "pool_size": 300,
    ...                    "validation_size": 100}}
    >>> data = make_data(cfg, seed=0)
    >>> data.X_pool.shape, data.X_test.shape, data.X_validation.shape
    ((300, 64), (500, 64), (100, 64))
    >>> data.classes.tolist() == list(range(10))
    True
    """
    spec = config["dataset"]
    rng = np.random.default_rng(derive_seed(seed, 0, "data"))
    n_validation = int(spec.get("validation_size") or 0)
    X_val = y_val = None
    if spec["name"] == "digits":
        X, y = ds.load_digits_data()
        order = rng.permutation(len(y))
        n_test = int(spec.get("test_size", 500))
        X_test, y_test = X[order[:n_test]], y[order[:n_test]]
        rest = order[n_test:]
        if n_validation:
            if n_validation >= len(rest):
                raise ValueError(f"validation_size {n_validation} leaves no pool: digits has "
                                 f"{len(rest)} points after the test split.")
            X_val, y_val = X[rest[:n_validation]], y[rest[:n_validation]]
            rest = rest[n_validation:]
        X_pool, y_pool = X[rest], y[rest]
    else:
        splits = read_mnist()  # one read of the file for all splits
        X_pool, y_pool = splits["train"]
        X_test, y_test = splits["test"]
        if spec.get("test_size"):
            keep = rng.permutation(len(y_test))[: int(spec["test_size"])]
            X_test, y_test = X_test[keep], y_test[keep]
        if n_validation:
            X_val, y_val = splits["validation"]
            keep = np.random.default_rng(derive_seed(seed, 0, "validation")).permutation(
                len(y_val))[:n_validation]
            X_val, y_val = X_val[np.sort(keep)], y_val[np.sort(keep)]
    if spec.get("pool_size"):
        keep = np.sort(rng.permutation(len(y_pool))[: int(spec["pool_size"])])
        X_pool, y_pool = X_pool[keep], y_pool[keep]
    classes = np.unique(np.concatenate([y_pool, y_test]))
    if spec.get("normalize"):
        normalize = ds.Normalize(**spec["normalize"])
        X_pool, y_pool = normalize(X_pool, y_pool)
        X_test, y_test = normalize(X_test, y_test)
        if X_val is not None:
            X_val, y_val = normalize(X_val, y_val)
    ood_mask = source = None
    for number, t in enumerate(spec.get("transforms", [])):
        params = {k: v for k, v in t.items() if k != "name"}
        params.setdefault("random_state", derive_seed(seed, 1 + number, "data"))
        transform = getattr(ds, t["name"])(**params)
        n_before = len(y_pool)
        X_pool, y_pool = transform(X_pool, y_pool)
        if t["name"] == "OutOfDistribution":
            ood_mask = np.asarray(transform.ood_mask_, dtype=bool)
            if params.get("classes") is None:
                source = None  # noise images replaced some rows: not copies any more
            else:
                # held-out classes leave the test distribution, and with it the
                # validation set that stands for it and the label space
                held_out = np.asarray(list(params["classes"]))
                in_dist = ~np.isin(y_test, held_out)
                X_test, y_test = X_test[in_dist], y_test[in_dist]
                if X_val is not None:
                    in_dist = ~np.isin(y_val, held_out)
                    X_val, y_val = X_val[in_dist], y_val[in_dist]
                classes = classes[~np.isin(classes, held_out)]
            if params.get("label") is not None:
                # one consistent label for every OOD point: a class the model learns
                classes = np.union1d(classes, [params["label"]])
        elif t["name"] == "RepeatWithNoise":
            # copies are stacked copy by copy: row r copies row r mod n_before
            copies = len(y_pool) // n_before
            source = np.tile(np.arange(n_before) if source is None else source, copies)
            ood_mask = None if ood_mask is None else np.tile(ood_mask, copies)
        elif len(y_pool) != n_before:
            ood_mask = source = None
    return TrialData(X_pool, y_pool, X_test, y_test, classes, X_val, y_val, ood_mask, source)


def validation_source(config: dict[str, Any]) -> str | None:
    """Where the validation set of ``config`` comes from, in words (None without one).

    Examples
    --------
    >>> validation_source({"dataset": {"name": "digits", "validation_size": 100}})
    '100 labelled points held out of the pool (not counted in n_labelled)'
    """
    spec = config["dataset"]
    size = spec.get("validation_size")
    if not size:
        return None
    if spec["name"] == "mnist":
        return f"{size} labelled points of MNIST's validation split (not counted in n_labelled)"
    return f"{size} labelled points held out of the pool (not counted in n_labelled)"
