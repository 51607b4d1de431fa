"""A user's labelled data for the experiment runner: read, checked, never executed.

Files are data, never code: ``.npz`` archives are opened with
``np.load(..., allow_pickle=False)`` (an object array is refused, not
unpickled), ``.csv`` with :func:`pandas.read_csv` and ``.parquet`` with
:func:`pandas.read_parquet`. Every problem (an unreadable file, a missing label
column, non-numeric or missing feature values, a single class) raises
:class:`DataFileError` naming the file and the field, before any training.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np

__all__ = ["DataFileError", "LabelledData", "SUFFIXES", "check_labelled", "data_digest",
           "read_labelled"]

#: File types the runner reads.
SUFFIXES = (".npz", ".csv", ".parquet")


class DataFileError(ValueError):
    """A user's labelled data cannot be used (the message names the file and the field).

    Examples
    --------
    >>> issubclass(DataFileError, ValueError)
    True
    """


class LabelledData(NamedTuple):
    """Features, integer labels and the original label of each code.

    ``y`` holds codes ``0 .. C-1`` in the sorted order of the original labels
    (``label_names[y]`` gives them back) unless the labels were integers, which
    are kept as they are.

    Examples
    --------
    >>> data = LabelledData(np.zeros((2, 1)), np.array([1, 0]), np.array(["a", "b"]))
    >>> data.label_names[data.y].tolist()
    ['b', 'a']
    """

    X: np.ndarray
    y: np.ndarray
    label_names: np.ndarray


def read_labelled(path: Any, *, label: str = "y",
                  features: str | Sequence[str] | None = None) -> LabelledData:
    """Read and check a labelled data file (``.npz``, ``.csv`` or ``.parquet``).

    Parameters
    ----------
    path : str or path
        The file. An ``.npz`` archive holds a 2-D feature array and a 1-D label
        array; a table holds one row per point, a label column and feature
        columns.
    label : str, default="y"
        The label array's key (``.npz``) or the label column (tables).
    features : str or list of str, optional
        ``.npz``: the feature array's key (default ``"X"``, or the only other
        array). Tables: the feature columns (default: every column but
        ``label``).

    Returns
    -------
    LabelledData

    Raises
    ------
    DataFileError
        Naming the file and the field: unreadable or pickled content, a missing
        key or column, non-numeric or missing features, missing labels,
        fewer than two classes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cells.csv"
    >>> _ = path.write_text("size,shape,kind\\n1.0,2,a\\n2.5,1,b\\n0.5,3,a\\n")
    >>> data = read_labelled(path, label="kind")
    >>> data.X.tolist(), data.y.tolist(), data.label_names.tolist()
    ([[1.0, 2.0], [2.5, 1.0], [0.5, 3.0]], [0, 1, 0], ['a', 'b'])
    >>> read_labelled(path, label="type")
    Traceback (most recent call last):
    ...
    skal_power.experiments._user_data.DataFileError: ...cells.csv: no label column 'type'; its columns are ['size', 'shape', 'kind'] (set the label column with --label or dataset.label).
    """
    path = Path(path)
    if not isinstance(label, str) or not label:
        raise DataFileError(f"{path}: label must be a non-empty column name or key; "
                            f"got {label!r}.")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataFileError(f"{path}: unsupported file type {path.suffix!r}; "
                            f"give one of {', '.join(SUFFIXES)}.")
    if not path.is_file():
        raise DataFileError(f"{path}: no such file.")
    if suffix == ".npz":
        return _read_npz(path, label, features)
    return _read_table(path, suffix, label, features)


def _read_npz(path: Path, label: str, features: Any) -> LabelledData:
    if features is not None and not isinstance(features, str):
        raise DataFileError(f"{path}: features of an .npz file is one array's key; "
                            f"got {features!r}.")
    if not zipfile.is_zipfile(path):  # np.load would try it as a pickle (and refuse)
        raise DataFileError(f"{path}: not a readable .npz archive (not a zip file; write it "
                            "with numpy.savez).")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            if label not in keys:
                raise DataFileError(f"{path}: no label array {label!r}; its arrays are {keys} "
                                    "(set the label key with --label or dataset.label).")
            feature_key = features if features is not None else _feature_key(path, keys, label)
            if feature_key not in keys:
                raise DataFileError(f"{path}: no feature array {feature_key!r}; its arrays "
                                    f"are {keys} (set the key with --features).")
            X, y = archive[feature_key], archive[label]
    except DataFileError:
        raise
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise DataFileError(f"{path}: holds an object (pickled) array; skal_power reads "
                                "numeric arrays only and never unpickles a data file.") \
                from None
        raise DataFileError(f"{path}: not a readable .npz archive ({error}).") from None
    except Exception as error:  # noqa: BLE001 - zipfile, OSError, EOFError: a malformed file
        raise DataFileError(f"{path}: not a readable .npz archive "
                            f"({type(error).__name__}: {error}).".splitlines()[0]) from None
    return check_labelled(X, y, source=str(path), feature_field=f"array {feature_key!r}",
                          label_field=f"array {label!r}")


def _feature_key(path: Path, keys: list[str], label: str) -> str:
    if "X" in keys:
        return "X"
    others = [key for key in keys if key != label]
    if len(others) != 1:
        raise DataFileError(f"{path}: no feature array 'X' and {len(others)} other arrays "
                            f"{others}; name the feature array with --features.")
    return others[0]


def _listing(names: list[str], limit: int = 12) -> str:
    """``['a', 'b', ...]`` with at most ``limit`` names and the count of the rest."""
    shown = repr(names[:limit])
    return shown if len(names) <= limit else f"{shown[:-1]}, ... ({len(names)} in all)]"


def _read_table(path: Path, suffix: str, label: str, features: Any) -> LabelledData:
    import pandas as pd

    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        else:
            frame = pd.read_parquet(path)
    except ImportError as error:
        raise DataFileError(f"{path}: reading parquet needs pyarrow or fastparquet "
                            f"(pip install pyarrow): {error}".splitlines()[0]) from None
    except Exception as error:  # noqa: BLE001 - every parser error is a malformed file
        kind = "CSV" if suffix == ".csv" else "parquet"
        raise DataFileError(f"{path}: not a readable {kind} file "
                            f"({type(error).__name__}: {error})".splitlines()[0] + ".") from None
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if label not in columns:
        raise DataFileError(f"{path}: no label column {label!r}; its columns are "
                            f"{_listing(columns)} "
                            "(set the label column with --label or dataset.label).")
    if features is None:
        chosen = [c for c in columns if c != label]
    else:
        chosen = [features] if isinstance(features, str) else [str(c) for c in features]
        missing = [c for c in chosen if c not in columns]
        if missing:
            raise DataFileError(f"{path}: no feature column(s) {missing}; its columns are "
                                f"{_listing(columns)}.")
        if label in chosen:
            raise DataFileError(f"{path}: the label column {label!r} is among the features.")
    if not chosen:
        raise DataFileError(f"{path}: no feature columns besides the label {label!r}.")
    text = [c for c in chosen if not (pd.api.types.is_numeric_dtype(frame[c])
                                      or pd.api.types.is_bool_dtype(frame[c]))]
    if text:
        raise DataFileError(f"{path}: non-numeric feature column(s) {text[:5]}"
                            f"{' ...' if len(text) > 5 else ''} (e.g. {frame[text[0]].iloc[0]!r}"
                            "); encode them as numbers first, or leave them out with "
                            "--features.")
    missing_rows = frame[chosen].isna()
    if missing_rows.to_numpy().any():
        column = missing_rows.any(axis=0).idxmax()
        row = int(np.flatnonzero(missing_rows[column].to_numpy())[0])
        raise DataFileError(f"{path}: feature column {column!r} has a missing value (data row "
                            f"{row + 1}); fill or drop such rows first.")
    X = frame[chosen].to_numpy(dtype=np.float64)
    return check_labelled(X, frame[label].to_numpy(), source=str(path), feature_names=chosen,
                          feature_field="features", label_field=f"column {label!r}")


def check_labelled(X: Any, y: Any, *, source: str = "data",
                   feature_names: Sequence[str] | None = None, feature_field: str = "X",
                   label_field: str = "y") -> LabelledData:
    """Check labelled arrays and turn the labels into integer codes.

    Parameters
    ----------
    X : array-like of shape (n_points, n_features)
        Finite numbers (bools count as 0/1).
    y : array-like of shape (n_points,)
        Class labels: integers (kept), strings or bools (coded ``0 .. C-1`` in
        sorted order) or integral floats; at least two classes, none missing.
    source : str, default="data"
        Where the arrays come from, for the error messages.

    Returns
    -------
    LabelledData

    Examples
    --------
    >>> data = check_labelled([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], ["no", "yes", "no"])
    >>> data.y.tolist(), data.label_names.tolist()
    ([0, 1, 0], ['no', 'yes'])
    >>> check_labelled([[0.0], [1.0]], [1.5, 2.5], source="my arrays")
    Traceback (most recent call last):
    ...
    skal_power.experiments._user_data.DataFileError: my arrays: y holds non-integer numbers (e.g. 1.5); the runner compares classifiers, give class labels.
    """
    X = _numeric_features(X, source, feature_field, feature_names)
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataFileError(f"{source}: {label_field} must be one label per point (1-D); "
                            f"got shape {y.shape}.")
    if len(y) != len(X):
        raise DataFileError(f"{source}: {label_field} has {len(y)} labels for {len(X)} points.")
    codes, names = _label_codes(y, source, label_field)
    if len(names) < 2:
        raise DataFileError(f"{source}: {label_field} holds {len(names)} class(es) "
                            f"{names.tolist()}; active learning needs at least two.")
    return LabelledData(X, codes, names)


def _numeric_features(X: Any, source: str, field: str,
                      names: Sequence[str] | None) -> np.ndarray:
    array = np.asarray(X)
    if array.dtype == bool:
        array = array.astype(np.float64)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise DataFileError(f"{source}: {field} must be numeric; got dtype {array.dtype} "
                            "(encode text or categories as numbers first).")
    if array.ndim != 2 or array.shape[0] < 2 or array.shape[1] < 1:
        raise DataFileError(f"{source}: {field} must be a 2-D array of at least 2 points and "
                            f"1 feature; got shape {array.shape}.")
    array = array.astype(np.float64, copy=False)
    finite = np.isfinite(array)
    if not finite.all():
        row, column = (int(i[0]) for i in np.nonzero(~finite))
        where = repr(names[column]) if names is not None else f"{column}"
        raise DataFileError(f"{source}: {field} holds {array[row, column]} in feature "
                            f"{where}, point {row}; fill or drop such points first.")
    return array


def _label_codes(y: np.ndarray, source: str, field: str) -> tuple[np.ndarray, np.ndarray]:
    if np.issubdtype(y.dtype, np.integer):
        return y.astype(np.int64), np.unique(y)
    if np.issubdtype(y.dtype, np.floating):
        if np.isnan(y).any():
            raise DataFileError(f"{source}: {field} has a missing label at point "
                                f"{int(np.flatnonzero(np.isnan(y))[0])}.")
        if not np.all(np.isfinite(y) & (y == np.round(y))):
            bad = y[~(np.isfinite(y) & (y == np.round(y)))][0]
            raise DataFileError(f"{source}: {field} holds non-integer numbers (e.g. {bad}); the "
                                "runner compares classifiers, give class labels.")
        return y.astype(np.int64), np.unique(y.astype(np.int64))
    missing = np.array([value is None or (isinstance(value, float) and np.isnan(value))
                        for value in y.tolist()], dtype=bool)
    if missing.any():
        raise DataFileError(f"{source}: {field} has a missing label at point "
                            f"{int(np.flatnonzero(missing)[0])}.")
    try:
        names, codes = np.unique(y.astype(str) if y.dtype == object else y, return_inverse=True)
    except TypeError as error:
        raise DataFileError(f"{source}: {field} mixes label types ({error}).") from None
    return codes.astype(np.int64).reshape(-1), names


def data_digest(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 (16 hex digits) of the features and labels: what a results file ran on.

    Examples
    --------
    >>> a = data_digest(np.zeros((2, 1)), np.array([0, 1]))
    >>> a == data_digest(np.zeros((2, 1)), np.array([0, 1])) != data_digest(
    ...     np.ones((2, 1)), np.array([0, 1]))
    True
    """
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(X, dtype=np.float64),
                  np.ascontiguousarray(y, dtype=np.int64)):
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]
