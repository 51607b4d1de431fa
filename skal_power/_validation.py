"""Validation at the public boundary: one vocabulary for every module.

Everything here raises ``ValueError``/``TypeError`` whose message names the
parameter, the value received and what is allowed. Inside the package, data
that passed these checks is trusted.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = [
    "NORMALISATION_ATOL",
    "as_numpy",
    "check_log_probs",
    "check_log_probs_pair",
    "check_scores",
    "check_batch_size",
    "check_non_negative",
    "check_positive_int",
    "check_seed",
    "raise_for_bad_values",
]

#: Largest accepted ``|logsumexp|`` of one row of log-probabilities.
NORMALISATION_ATOL = 1e-3


def as_numpy(array: Any) -> np.ndarray:
    """Return ``array`` as a numpy array without copying when possible.

    Torch tensors are detached and moved to the CPU (bfloat16, which numpy
    lacks, becomes float32); anything else goes through :func:`numpy.asarray`.
    """
    if type(array).__module__.startswith("torch"):
        tensor = array.detach().cpu()
        if str(tensor.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            tensor = tensor.float()
        return tensor.numpy()
    return np.asarray(array)


def check_log_probs(
    log_probs: Any,
    *,
    name: str = "log_probs",
    min_samples: int = 1,
    allow_empty: bool = True,
) -> np.ndarray:
    """Check the structure of sampled log-probabilities of shape ``(N, K, C)``.

    Values (NaN, +inf, rows that do not normalise) are checked by the kernels
    while they compute, so that validation costs no extra pass over the data;
    see :func:`raise_for_bad_values`.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (N, K, C)
        ``log p(y = c | x_n, omega_k)``.
    name : str
        Parameter name used in error messages.
    min_samples : int
        Smallest number K of posterior samples the caller can work with.
    allow_empty : bool
        Whether N = 0 is accepted.

    Returns
    -------
    numpy.ndarray
        A floating array (float32 stays float32, other dtypes become float64).

    Examples
    --------
    >>> import numpy as np
    >>> check_log_probs(np.log(np.full((2, 3, 4), 0.25))).shape
    (2, 3, 4)
    >>> check_log_probs(np.zeros((2, 4)))
    Traceback (most recent call last):
    ...
    ValueError: log_probs must have shape (N, K, C) = (pool points, posterior samples, classes); got an array of shape (2, 4).
    """
    array = as_numpy(log_probs)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold real numbers; got dtype {array.dtype}.")
    if array.ndim != 3:
        raise ValueError(
            f"{name} must have shape (N, K, C) = (pool points, posterior samples, "
            f"classes); got an array of shape {array.shape}."
        )
    n_points, n_samples, n_classes = array.shape
    if n_points == 0 and not allow_empty:
        raise ValueError(f"{name} is empty: the pool has no points (shape {array.shape}).")
    if n_classes < 1:
        raise ValueError(f"{name} has no classes (shape {array.shape}).")
    if n_samples < min_samples:
        raise ValueError(
            f"{name} has K = {n_samples} posterior sample(s) but at least {min_samples} are "
            "needed: BALD-family scores measure disagreement between posterior samples. Use an "
            "ensemble, a modAL Committee or an MC-dropout network "
            "(skal_power.models.MCDropoutClassifier) rather than a single predict_proba."
        )
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    return array


def check_log_probs_pair(
    log_probs: Any,
    log_probs_distilled: Any,
    *,
    min_samples: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Check the log-probs of a model M and of its pool-augmented model M'.

    Both must cover the same N points and C classes; each may have its own K.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.log(np.full((5, 3, 2), 0.5))
    >>> b = np.log(np.full((5, 1, 2), 0.5))
    >>> [x.shape for x in check_log_probs_pair(a, b)]
    [(5, 3, 2), (5, 1, 2)]
    """
    first = check_log_probs(log_probs, name="log_probs", min_samples=min_samples)
    second = check_log_probs(
        log_probs_distilled, name="log_probs_distilled", min_samples=min_samples
    )
    if first.shape[0] != second.shape[0] or first.shape[2] != second.shape[2]:
        raise ValueError(
            "log_probs and log_probs_distilled must describe the same N points and C classes; "
            f"got shapes {first.shape} and {second.shape} (N, K, C)."
        )
    return first, second


def raise_for_bad_values(log_probs_chunk: np.ndarray, *, name: str = "log_probs",
                         offset: int = 0) -> None:
    """Explain why a chunk of log-probabilities failed the kernels' value check.

    Called on the (rare) failure path only; always raises ``ValueError``.
    """
    chunk = np.asarray(log_probs_chunk, dtype=np.float64)
    nan_at = np.argwhere(np.isnan(chunk))
    if nan_at.size:
        n, k, c = nan_at[0]
        raise ValueError(
            f"{name} contains NaN (first at point {n + offset}, sample {k}, class {c}); "
            "predictions must be finite log-probabilities (-inf for a probability of 0 is fine)."
        )
    posinf_at = np.argwhere(np.isposinf(chunk))
    if posinf_at.size:
        n, k, c = posinf_at[0]
        raise ValueError(
            f"{name} contains +inf (first at point {n + offset}, sample {k}, class {c}); "
            "log-probabilities are at most 0."
        )
    with np.errstate(divide="ignore", over="ignore"):
        peak = chunk.max(axis=-1, keepdims=True)
        safe_peak = np.where(np.isfinite(peak), peak, 0.0)
        lse = np.log(np.exp(chunk - safe_peak).sum(axis=-1)) + safe_peak[..., 0]
    error = np.abs(lse)
    n, k = np.unravel_index(np.argmax(error), error.shape)
    raise ValueError(
        f"{name} rows must normalise (|logsumexp over classes| <= {NORMALISATION_ATOL}); "
        f"point {n + offset}, sample {k} has logsumexp {lse[n, k]:.6g}. Pass log-probabilities "
        "(e.g. log_softmax of logits), not logits or probabilities; skal_power never "
        "renormalises silently."
    )


def check_scores(scores: Any, *, name: str = "scores") -> np.ndarray:
    """Check a vector of acquisition scores: 1-D, finite, float64.

    Examples
    --------
    >>> check_scores([0.5, 0.1]).dtype
    dtype('float64')
    """
    array = as_numpy(scores)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of shape (N,); got shape {array.shape}.")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name} must hold real numbers; got dtype {array.dtype}.")
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; got NaN or infinite values.")
    return array


def check_positive_int(value: Any, *, name: str) -> int:
    """Return ``value`` as an int after checking it is an integer >= 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1; got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
    return int(value)


def check_bool(value: Any, *, name: str) -> bool:
    """Return ``value`` as a bool after checking it is ``True`` or ``False``.

    Examples
    --------
    >>> check_bool(True, name="lazy")
    True
    >>> check_bool("yes", name="lazy")
    Traceback (most recent call last):
    ...
    TypeError: lazy must be True or False; got 'yes'.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_batch_size(batch_size: Any, n_pool: int, *, name: str = "n_instances") -> int:
    """Check a batch size against the pool size.

    Examples
    --------
    >>> check_batch_size(3, 10)
    3
    >>> check_batch_size(11, 10)
    Traceback (most recent call last):
    ...
    ValueError: n_instances = 11 exceeds the pool size 10; ask for at most 10 points.
    """
    if n_pool < 1:
        raise ValueError("The pool is empty: there is nothing to query.")
    batch_size = check_positive_int(batch_size, name=name)
    if batch_size > n_pool:
        raise ValueError(
            f"{name} = {batch_size} exceeds the pool size {n_pool}; ask for at most {n_pool} points."
        )
    return batch_size


def check_non_negative(value: Any, *, name: str) -> float:
    """Return ``value`` as a float after checking it is finite and >= 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a non-negative number; got {value!r}.")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
    return float(value)


def split_seed(seed: int, n: int) -> list[int]:
    """Derive ``n`` independent 63-bit seeds from one seed.

    Examples
    --------
    >>> a, b = split_seed(0, 2)
    >>> a != b and split_seed(0, 2) == [a, b]
    True
    """
    states = np.random.SeedSequence(seed).generate_state(n, np.uint64)
    return [int(s >> np.uint64(1)) for s in states]


def check_optional_positive_int(value: Any, *, name: str) -> None:
    """``None`` or an integer >= 1."""
    if value is not None:
        check_positive_int(value, name=name)


def check_optional_dict(value: Any, *, name: str) -> None:
    """``None`` or a dict."""
    if value is not None and not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict or None; got {value!r}.")


def query_seed(random_state: Any, query_index: int) -> int:
    """The seed of query number ``query_index`` of a strategy with ``random_state``.

    The one place where a strategy's per-query randomness comes from. An int
    ``random_state`` gives a *sequence* of seeds, ``SeedSequence([seed,
    query_index])``: a fresh strategy with the same seed replays the same
    queries, and two queries in a row differ. A ``RandomState`` or
    ``Generator`` is advanced by each query; ``None`` is fresh entropy.

    Examples
    --------
    >>> query_seed(0, 0) == query_seed(0, 0) != query_seed(0, 1)
    True
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        check_seed(random_state)  # the same checks and messages
        state = np.random.SeedSequence([int(random_state), int(query_index)]).generate_state(
            1, np.uint64)[0]
        return int(state >> np.uint64(1))
    return check_seed(random_state)


def check_seed(random_state: Any) -> int:
    """Draw one 63-bit integer seed from ``random_state``.

    ``random_state`` follows scikit-learn: ``None`` (fresh entropy), an int (the
    same seed every call), a :class:`numpy.random.RandomState` or a
    :class:`numpy.random.Generator` (advanced by the draw).

    Examples
    --------
    >>> check_seed(0) == check_seed(0)
    True
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0; got {random_state!r}.")
        state = np.random.SeedSequence(int(random_state)).generate_state(1, np.uint64)[0]
        return int(state >> np.uint64(1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**63 - 1, dtype=np.int64))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1, dtype=np.int64))
    raise TypeError(
        "random_state must be None, an int, a numpy RandomState or a numpy Generator; "
        f"got {random_state!r}."
    )
