"""Composable, seeded transforms of ``(X, y)`` for the seed's real-world flaws.

Every transform is a callable ``transform(X, y) -> (X, y)`` with a
``random_state``; :class:`Compose` chains them. Apply them to the pool (the
training side) only and evaluate on clean test data.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._validation import check_non_negative, check_positive_int, check_seed


def _rng(random_state: Any) -> np.random.Generator:
    return np.random.default_rng(check_seed(random_state))


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            f"X must be 2-D and y 1-D of the same length; got X {X.shape} and y {y.shape}."
        )
    return X, y


class RepeatWithNoise:
    """Repeat every sample ``k`` times and add Gaussian noise (Repeated MNIST).

    Each copy gets its own noise, so duplicates are near-identical but no two
    rows are equal. Rows are ordered copy by copy (all of copy 0, then copy 1).
    After each call ``sample_indices_`` holds, for every output row, the input
    row it copies (as imbalanced-learn's samplers record theirs).

    Parameters
    ----------
    k : int, default=2
        Number of copies (MNIST×k).
    noise_std : float, default=0.1
        Standard deviation of the added noise.
    random_state : int, Generator or None

    Examples
    --------
    >>> X, y = np.zeros((3, 2)), np.arange(3)
    >>> Xr, yr = RepeatWithNoise(k=2, noise_std=0.1, random_state=0)(X, y)
    >>> Xr.shape, yr.tolist()
    ((6, 2), [0, 1, 2, 0, 1, 2])
    >>> repeat = RepeatWithNoise(k=2, random_state=0)
    >>> _ = repeat(X, y)
    >>> repeat.sample_indices_.tolist()
    [0, 1, 2, 0, 1, 2]
    """

    def __init__(self, k: int = 2, noise_std: float = 0.1, random_state: Any = None) -> None:
        self.k = k
        self.noise_std = noise_std
        self.random_state = random_state

    def __call__(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X, y = _check_xy(X, y)
        k = check_positive_int(self.k, name="k")
        std = check_non_negative(self.noise_std, name="noise_std")
        rng = _rng(self.random_state)
        Xr = np.tile(X, (k, 1)).astype(np.result_type(X.dtype, np.float32))
        Xr += rng.normal(0.0, std, size=Xr.shape).astype(Xr.dtype)
        self.sample_indices_ = np.tile(np.arange(len(y)), k)
        return Xr, np.tile(y, k)


class LabelNoise:
    """Noisy oracle: flip labels, symmetrically or with a class transition matrix.

    Parameters
    ----------
    rate : float, default=0.1
        Symmetric noise: each label is replaced, with probability ``rate``, by a
        different class drawn uniformly.
    transition : array-like of shape (C, C), optional
        Class-dependent noise: row ``c`` is the distribution of the noisy label
        of a point of class ``c`` (rows sum to 1). Overrides ``rate``.
    random_state : int, Generator or None

    Notes
    -----
    After each call ``flipped_`` marks the rows whose label changed, and
    ``sample_indices_`` maps each output row to its input row (the identity).

    Examples
    --------
    >>> y = np.repeat(np.arange(2), 500)
    >>> noise = LabelNoise(rate=0.2, random_state=0)
    >>> _, noisy = noise(np.zeros((1000, 1)), y)
    >>> 0.15 < float(np.mean(noisy != y)) < 0.25
    True
    >>> bool(np.array_equal(noise.flipped_, noisy != y))
    True
    """

    def __init__(self, rate: float = 0.1, transition: Any = None,
                 random_state: Any = None) -> None:
        self.rate = rate
        self.transition = transition
        self.random_state = random_state

    def __call__(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X, y = _check_xy(X, y)
        rng = _rng(self.random_state)
        classes, codes = np.unique(y, return_inverse=True)
        n_classes = len(classes)
        if self.transition is None:
            rate = check_non_negative(self.rate, name="rate")
            if rate > 1:
                raise ValueError(f"rate must be in [0, 1]; got {self.rate!r}.")
            flip = rng.random(len(y)) < rate
            shift = rng.integers(1, max(n_classes, 2), size=len(y))
            new_codes = np.where(flip, (codes + shift) % n_classes, codes)
        else:
            matrix = np.asarray(self.transition, dtype=np.float64)
            if (matrix.shape != (n_classes, n_classes) or (matrix < 0).any()
                    or not np.allclose(matrix.sum(axis=1), 1.0)):
                raise ValueError(
                    f"transition must be a ({n_classes}, {n_classes}) row-stochastic matrix; "
                    f"got shape {matrix.shape}."
                )
            cumulative = np.cumsum(matrix, axis=1)[codes]
            draws = rng.random(len(y))[:, None]
            new_codes = np.minimum((draws > cumulative).sum(axis=1), n_classes - 1)
        self.sample_indices_ = np.arange(len(y))
        self.flipped_ = new_codes != codes
        return X, classes[new_codes]


class ClassImbalance:
    """Subsample classes to given ratios (class imbalance).

    Parameters
    ----------
    ratios : dict or sequence of float
        Fraction of each class kept, in ``[0, 1]`` (a dict maps class → ratio,
        missing classes keep 1.0; a sequence is indexed by the sorted classes).
    random_state : int, Generator or None

    Notes
    -----
    After each call ``sample_indices_`` holds the input rows kept, in order.

    Examples
    --------
    >>> y = np.repeat([0, 1], 100)
    >>> imbalance = ClassImbalance({1: 0.1}, random_state=0)
    >>> _, yi = imbalance(np.zeros((200, 1)), y)
    >>> np.bincount(yi).tolist(), len(imbalance.sample_indices_)
    ([100, 10], 110)
    """

    def __init__(self, ratios: Any, random_state: Any = None) -> None:
        self.ratios = ratios
        self.random_state = random_state

    def __call__(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X, y = _check_xy(X, y)
        rng = _rng(self.random_state)
        classes = np.unique(y)
        if isinstance(self.ratios, dict):
            ratios = {c: 1.0 for c in classes.tolist()}
            ratios.update(self.ratios)
        else:
            values = list(self.ratios)
            if len(values) != len(classes):
                raise ValueError(
                    f"ratios must give one ratio per class ({len(classes)}); got {len(values)}."
                )
            ratios = dict(zip(classes.tolist(), values))
        keep = []
        for c in classes.tolist():
            ratio = float(ratios[c])
            if not 0.0 <= ratio <= 1.0:
                raise ValueError(f"ratios must lie in [0, 1]; got {ratio!r} for class {c!r}.")
            members = np.flatnonzero(y == c)
            keep.append(rng.permutation(members)[: int(round(ratio * len(members)))])
        keep = np.sort(np.concatenate(keep))
        self.sample_indices_ = keep
        return X[keep], y[keep]


class HeteroscedasticNoise:
    """Add Gaussian input noise whose scale depends on the class.

    Parameters
    ----------
    scales : dict or sequence of float
        Noise standard deviation per class (dict: class → std, missing classes
        get 0; a sequence is indexed by the sorted classes).
    random_state : int, Generator or None

    Notes
    -----
    After each call ``sample_indices_`` maps each output row to its input row
    (the identity: rows stay in place).

    Examples
    --------
    >>> y = np.repeat([0, 1], 500)
    >>> Xn, _ = HeteroscedasticNoise({1: 0.5}, random_state=0)(np.zeros((1000, 3)), y)
    >>> float(Xn[y == 0].std()), 0.45 < float(Xn[y == 1].std()) < 0.55
    (0.0, True)
    """

    def __init__(self, scales: Any, random_state: Any = None) -> None:
        self.scales = scales
        self.random_state = random_state

    def __call__(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X, y = _check_xy(X, y)
        rng = _rng(self.random_state)
        classes, codes = np.unique(y, return_inverse=True)
        if isinstance(self.scales, dict):
            per_class = np.array([float(self.scales.get(c, 0.0)) for c in classes.tolist()])
        else:
            per_class = np.asarray(self.scales, dtype=np.float64)
            if per_class.shape != (len(classes),):
                raise ValueError(
                    f"scales must give one std per class ({len(classes)}); got {per_class.shape}."
                )
        if (per_class < 0).any():
            raise ValueError(f"scales must be >= 0; got {per_class.tolist()}.")
        Xn = X.astype(np.result_type(X.dtype, np.float32), copy=True)
        Xn += (rng.standard_normal(X.shape) * per_class[codes][:, None]).astype(Xn.dtype)
        self.sample_indices_ = np.arange(len(y))
        return Xn, y


class OutOfDistribution:
    """Make part of the pool out-of-distribution.

    Two kinds:

    - ``classes=[...]``: points of these held-out classes stay in the pool as
      OOD points;
    - ``fraction=f`` (with ``classes=None``): a fraction ``f`` of the points are
      replaced by corrupted images (uniform noise in ``[X.min(), X.max()]``).

    **The oracle's answer for an OOD point** is, by default, a label drawn
    uniformly from the in-distribution classes (seeded): an annotator forced to
    pick a known class for an image that has none. Labelling OOD points thus
    only adds noise. With ``label=v`` every OOD point gets the one label ``v``
    instead, a consistent "none of these" class the model can learn (the
    irrelevant digits of the EPIG paper's Redundant MNIST); ``v`` must not be
    an in-distribution class. Evaluate on in-distribution test data. The mask
    of OOD rows is stored in ``ood_mask_`` after each call, and
    ``sample_indices_`` (every row stays in place) as for the other transforms.

    Parameters
    ----------
    classes : sequence, optional
        Held-out classes whose points become the OOD points.
    fraction : float, default=0.1
        With ``classes=None``: the share of points replaced by noise images.
    label : optional
        The one label of every OOD point; None draws a known class for each.
    random_state : None, int or Generator

    Examples
    --------
    >>> y = np.repeat([0, 1, 2], 10)
    >>> ood = OutOfDistribution(classes=[2], random_state=0)
    >>> _, yo = ood(np.zeros((30, 2)), y)
    >>> int(ood.ood_mask_.sum()), set(yo.tolist()) <= {0, 1}
    (10, True)
    >>> _, yn = OutOfDistribution(classes=[0, 2], label=9)(np.zeros((30, 2)), y)
    >>> sorted(set(yn.tolist()))
    [1, 9]
    """

    def __init__(self, classes: Sequence[Any] | None = None, fraction: float = 0.1,
                 label: Any = None, random_state: Any = None) -> None:
        self.classes = classes
        self.fraction = fraction
        self.label = label
        self.random_state = random_state

    def __call__(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X, y = _check_xy(X, y)
        rng = _rng(self.random_state)
        X = X.astype(np.result_type(X.dtype, np.float32), copy=True)
        if self.classes is not None:
            mask = np.isin(y, np.asarray(list(self.classes)))
            known = np.unique(y[~mask])
            if len(known) == 0:
                raise ValueError(f"classes={self.classes!r} leaves no in-distribution class.")
        else:
            fraction = check_non_negative(self.fraction, name="fraction")
            if fraction > 1:
                raise ValueError(f"fraction must be in [0, 1]; got {self.fraction!r}.")
            mask = np.zeros(len(y), dtype=bool)
            mask[rng.permutation(len(y))[: int(round(fraction * len(y)))]] = True
            known = np.unique(y)
            X[mask] = rng.uniform(X.min(), X.max(), size=(int(mask.sum()), X.shape[1]))
        y = y.copy()
        if self.label is None:
            y[mask] = rng.choice(known, size=int(mask.sum()))
        else:
            if np.isin(np.asarray([self.label]), known)[0]:  # compared uncast
                raise ValueError(f"label={self.label!r} is an in-distribution class; the OOD "
                                 "points need a label of their own (e.g. a new class index).")
            y = y.astype(np.result_type(y.dtype, np.asarray([self.label]).dtype))
            y[mask] = self.label
        self.ood_mask_ = mask
        self.sample_indices_ = np.arange(len(y))
        return X, y


class Normalize:
    """Standardise inputs: ``(X - mean) / std`` with scalar or per-feature statistics.

    Unlike the other transforms this one belongs on every split (pool,
    validation and test alike), and before noise transforms, so that noise is in
    normalised units as in Repeated MNIST (MNIST statistics: ``mean=0.1307,
    std=0.3081``, then noise of standard deviation 0.1).

    Parameters
    ----------
    mean : float or array-like of shape (n_features,)
    std : float or array-like of shape (n_features,)
        Strictly positive.

    Examples
    --------
    >>> X, y = np.array([[0.1307, 1.0]]), np.array([0])
    >>> Xn, yn = Normalize(mean=0.1307, std=0.3081)(X, y)
    >>> np.round(Xn, 4).tolist(), yn.tolist()
    ([[0.0, 2.8215]], [0])
    """

    def __init__(self, mean: Any = 0.0, std: Any = 1.0) -> None:
        self.mean = mean
        self.std = std

    def __call__(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        X, y = _check_xy(X, y)
        mean = np.asarray(self.mean, dtype=np.float64)
        std = np.asarray(self.std, dtype=np.float64)
        for name, value in (("mean", mean), ("std", std)):
            if value.ndim > 1 or (value.ndim == 1 and len(value) != X.shape[1]):
                raise ValueError(f"{name} must be a scalar or have one value per feature "
                                 f"({X.shape[1]}); got shape {value.shape}.")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{name} must be finite; got {self.__dict__[name]!r}.")
        if np.any(std <= 0):
            raise ValueError(f"std must be > 0; got {self.std!r}.")
        dtype = np.result_type(X.dtype, np.float32)
        return ((X - mean) / std).astype(dtype, copy=False), y


class Compose:
    """Apply transforms left to right.

    Examples
    --------
    >>> X, y = np.zeros((4, 2)), np.array([0, 0, 1, 1])
    >>> t = Compose([RepeatWithNoise(k=3, random_state=0), LabelNoise(rate=0.0)])
    >>> [a.shape for a in t(X, y)]
    [(12, 2), (12,)]
    """

    def __init__(self, transforms: Sequence[Any]) -> None:
        self.transforms = list(transforms)

    def __call__(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        for transform in self.transforms:
            X, y = transform(X, y)
        return X, y
