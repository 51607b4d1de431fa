"""The data of one trial: pool, test split and validation set, all seeded by the trial seed."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .. import datasets as ds
from ..datasets._loaders import read_mnist
from ._config import ConfigError, DatasetSpec, _dataset_of, _thaw, dataset_spec
from ._user_data import check_labelled, read_labelled

__all__ = ["TrialData", "derive_seed", "make_data", "user_arrays", "validation_source"]

#: Dataset names for a user's own labelled data: a file, or arrays given to the runner.
USER_DATASETS = ("file", "arrays")
#: The test split of a user's data when ``test_size`` is not given: a quarter of it.
DEFAULT_TEST_FRACTION = 0.25

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


def make_data(config: dict[str, Any], seed: int, *, data: Any = None) -> TrialData:
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

    A user's own data (``dataset.name`` ``"file"`` or ``"arrays"``, see
    :func:`user_arrays`) is split like digits: a seeded test split
    (``test_size``: a count, or a fraction, by default 0.25), then the
    validation set, and the rest is the pool. ``data = (X, y)`` gives the
    arrays (required for ``"arrays"``; for ``"file"`` it saves rereading it).

    Examples
    --------
    >>> cfg = {"dataset": {"name": "digits", "test_size": 500, "pool_size": 300,
    ...                    "validation_size": 100}}
    >>> data = make_data(cfg, seed=0)
    >>> data.X_pool.shape, data.X_test.shape, data.X_validation.shape
    ((300, 64), (500, 64), (100, 64))
    >>> data.classes.tolist() == list(range(10))
    True
    >>> X, y = np.arange(40.0).reshape(20, 2), np.arange(20) % 2
    >>> own = make_data({"dataset": {"name": "arrays", "test_size": 0.25}}, 0, data=(X, y))
    >>> own.X_pool.shape, own.X_test.shape
    ((15, 2), (5, 2))
    """
    spec = dataset_spec(config)
    rng = np.random.default_rng(derive_seed(seed, 0, "data"))
    n_validation = int(spec.validation_size or 0)
    X_val = y_val = None
    if spec.name in USER_DATASETS:
        X, y = user_arrays(spec, data)
        n_test = _test_count(_given(spec.test_size, DEFAULT_TEST_FRACTION), len(y))
        X_pool, y_pool, X_test, y_test, X_val, y_val = _split(X, y, rng, n_test, n_validation,
                                                              "the data")
    elif spec.name == "digits":
        X, y = ds.load_digits_data()
        X_pool, y_pool, X_test, y_test, X_val, y_val = _split(
            X, y, rng, int(_given(spec.test_size, 500)), n_validation, "digits")
    else:
        splits = read_mnist()  # one read of the file for all splits
        X_pool, y_pool = splits["train"]
        X_test, y_test = splits["test"]
        if spec.test_size:
            keep = rng.permutation(len(y_test))[: int(spec.test_size)]
            X_test, y_test = X_test[keep], y_test[keep]
        if n_validation:
            X_val, y_val = splits["validation"]
            keep = np.random.default_rng(derive_seed(seed, 0, "validation")).permutation(
                len(y_val))[:n_validation]
            X_val, y_val = X_val[np.sort(keep)], y_val[np.sort(keep)]
    if spec.pool_size:
        keep = np.sort(rng.permutation(len(y_pool))[: int(spec.pool_size)])
        X_pool, y_pool = X_pool[keep], y_pool[keep]
    classes = np.unique(np.concatenate([y_pool, y_test]))
    if spec.normalize:
        normalize = ds.Normalize(**_thaw(spec.normalize))
        X_pool, y_pool = normalize(X_pool, y_pool)
        X_test, y_test = normalize(X_test, y_test)
        if X_val is not None:
            X_val, y_val = normalize(X_val, y_val)
    ood_mask = source = None
    for number, t in enumerate(spec.transforms):
        params = _thaw(t.params)
        params.setdefault("random_state", derive_seed(seed, 1 + number, "data"))
        transform = ds.TRANSFORMS[t.name](**params)
        n_before = len(y_pool)
        X_pool, y_pool = transform(X_pool, y_pool)
        if isinstance(transform, ds.OutOfDistribution):
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
        elif isinstance(transform, ds.RepeatWithNoise):
            # the transform records the row each copy was made from
            rows = transform.sample_indices_
            source = rows if source is None else source[rows]
            ood_mask = None if ood_mask is None else ood_mask[rows]
        elif len(y_pool) != n_before:
            ood_mask = source = None
    return TrialData(X_pool, y_pool, X_test, y_test, classes, X_val, y_val, ood_mask, source)


def user_arrays(spec: dict[str, Any] | DatasetSpec,
                data: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """The features and integer labels of a user's dataset spec, checked.

    ``spec["name"]`` is ``"file"`` (``path``, ``label``, ``features``: see
    :func:`~skal_power.experiments.read_labelled`) or ``"arrays"``, whose
    ``data = (X, y)`` must be given. Labels that are not integers are coded
    ``0 .. C-1`` in sorted order.

    Examples
    --------
    >>> X, y = user_arrays({"name": "arrays"}, ([[0.0], [1.0], [2.0]], ["b", "a", "b"]))
    >>> y.tolist()
    [1, 0, 1]
    """
    spec = _dataset_of(spec)
    if data is not None:
        X, y = data
        labelled = check_labelled(X, y, source="the data arrays")
    elif spec.name == "file":
        labelled = read_labelled(spec.path, label=_given(spec.label, "y"),
                                 features=_thaw(spec.features))
    else:
        raise ValueError('dataset "arrays" needs the arrays: pass data=(X, y) '
                         "(run_experiment(config, output, data=(X, y))).")
    return labelled.X, labelled.y


def _given(value: Any, default: Any) -> Any:
    """A dataset field the config gave, or its default."""
    return default if value is None else value


def _split(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, n_test: int,
           n_validation: int, name: str) -> tuple:
    """Test split, validation set (held out next) and pool of one labelled set."""
    order = rng.permutation(len(y))
    if n_test >= len(y):
        raise ConfigError(f"test_size {n_test} leaves no pool: {name} has {len(y)} points.")
    X_test, y_test = X[order[:n_test]], y[order[:n_test]]
    rest = order[n_test:]
    X_val = y_val = None
    if n_validation:
        if n_validation >= len(rest):
            raise ConfigError(f"validation_size {n_validation} leaves no pool: {name} has "
                              f"{len(rest)} points after the test split.")
        X_val, y_val = X[rest[:n_validation]], y[rest[:n_validation]]
        rest = rest[n_validation:]
    return X[rest], y[rest], X_test, y_test, X_val, y_val


def _test_count(test_size: float | int, n_points: int) -> int:
    """Test points for ``test_size``: a count, or a fraction of the data (at least 1)."""
    if isinstance(test_size, float) and test_size < 1:
        return max(1, int(round(test_size * n_points)))
    return int(test_size)


def validation_source(config: dict[str, Any]) -> str | None:
    """Where the validation set of ``config`` comes from, in words (None without one).

    Examples
    --------
    >>> validation_source({"dataset": {"name": "digits", "validation_size": 100}})
    '100 labelled points held out of the pool (not counted in n_labelled)'
    """
    spec = dataset_spec(config)
    size = spec.validation_size
    if not size:
        return None
    if spec.name == "mnist":
        return f"{size} labelled points of MNIST's validation split (not counted in n_labelled)"
    return f"{size} labelled points held out of the pool (not counted in n_labelled)"
