"""Chunked, fused kernels for per-point entropies of sampled predictions.

One pass over ``log_probs`` of shape ``(N, K, C)`` gives, for every point,

* ``predictive_entropy`` ``H[p̄(y|x)]`` with ``p̄ = mean_k p(y|x, ω_k)``, and
* ``expected_entropy`` ``mean_k H[p(y|x, ω_k)]``,

from which entropy, BALD, EIG and EvaluationBALD follow. Each chunk of rows
is exponentiated once (the cost of the whole computation is one ``exp`` per
element); the row sums needed for validation are taken from the same
probabilities, so checking the input costs no extra transcendental work.

Three backends compute the same values, chosen in this order unless the
environment variable ``SKAL_POWER_BACKEND`` names one (``native``, ``torch``
or ``numpy``):

* ``native``: the compiled extension :mod:`skal_power._native` (built at
  install time when a C compiler is present), one fused pass that reads each
  element once, with a vectorised ``exp`` and every sum in float64; chunks of
  points run on a thread pool with the GIL released.
* ``torch`` (when installed): the chunk loop on all intra-op threads with SIMD
  ``exp``.
* ``numpy``: the chunk loop on a thread pool.

Chunks are sized so that the working set stays in cache and peak extra memory
is bounded by ``chunk_bytes`` per worker whatever N is. The thread pools of the
native and numpy backends use ``SKAL_POWER_NUM_THREADS`` threads if set, else
one per CPU this process may run on.
"""

from __future__ import annotations

import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from ._validation import NORMALISATION_ATOL, raise_for_bad_values
from .threads import kernel_threads  # noqa: F401  (re-exported: the kernels' thread count)

__all__ = ["EntropyTerms", "active_kernel", "entropy_terms", "default_chunk_rows", "kernel_threads",
           "joint_plogp_kernel", "mixture_plogp_kernel", "native_or_none",
           "pad_configurations", "torch_or_none"]

_BACKENDS = ("native", "torch", "numpy")

#: Working-set size of one chunk; small enough to stay in L2/L3 cache.
DEFAULT_CHUNK_BYTES = 2**22

# exp(x) underflows to 0 below about -745 (float64) and -104 (float32); clamping
# -inf to this value keeps p * log p = 0 instead of NaN without changing p.
_LOG_FLOOR = -1e4

_ROW_SUM_LOW = math.exp(-NORMALISATION_ATOL)
_ROW_SUM_HIGH = math.exp(NORMALISATION_ATOL)


class EntropyTerms(NamedTuple):
    """Per-point entropies in nats, float64 arrays of shape ``(N,)``."""

    predictive_entropy: np.ndarray
    expected_entropy: np.ndarray


def _backend_choice() -> str:
    """The backend named by ``SKAL_POWER_BACKEND`` (lower case), or ``""`` for automatic."""
    choice = os.environ.get("SKAL_POWER_BACKEND", "").strip().lower()
    if choice and choice not in _BACKENDS:
        raise ValueError(f"SKAL_POWER_BACKEND must be one of {', '.join(_BACKENDS)} or unset; "
                         f"got {choice!r}.")
    return choice


def native_or_none():
    """Return the compiled kernel module if it is built and not switched off, else ``None``.

    ``SKAL_POWER_BACKEND=native`` insists on it: an ``ImportError`` then says it is missing.
    """
    choice = _backend_choice()
    if choice in ("torch", "numpy"):
        return None
    try:
        from . import _native
    except ImportError as error:
        if choice == "native":
            raise ImportError(
                "SKAL_POWER_BACKEND=native but the compiled kernel skal_power._native is not "
                "built; reinstall skal_power where a C compiler is available "
                "(pip install --force-reinstall --no-deps skal_power)."
            ) from error
        return None
    return _native


#: The native joint kernel steps through configurations 32 at a time: its tables are
#: zero-padded to a multiple of this width.
JOINT_WIDTH_MULTIPLE = 32


def joint_plogp_kernel():
    """The compiled fused ``Σ q log q`` kernel for joint tables, or ``None``.

    ``kernel(table, columns, out, scale)`` fills ``out[j]`` with
    ``Σ_s q log q`` over ``q = scale · Σ_k table[k, s] · columns[k, j]`` for a
    float32 ``table`` of shape (K, W), W a multiple of
    :data:`JOINT_WIDTH_MULTIPLE`, and float32 ``columns`` of shape (K, J): the
    matrix product, the logarithm and the sum in one pass that never writes
    the (W, J) product to memory. Products and ``q log q`` are float32 (q
    below the smallest normal float32 counts as that value), each of 16
    lanes sums at most 64 terms, then the sums are float64; subnormal
    products are flushed to zero during the call (on x86 they would cost
    ~100 cycles each, and they only arise where ``q`` counts as the smallest
    normal anyway), and the GIL is released. ``None`` where the extension is
    not built, predates the kernel, or another backend is chosen
    (``SKAL_POWER_BACKEND``).

    Examples
    --------
    >>> import numpy as np
    >>> kernel = joint_plogp_kernel()
    >>> if kernel is not None:
    ...     table = np.zeros((2, 32), dtype=np.float32)
    ...     table[:, :2] = 0.5                      # two configurations, each 1/2
    ...     out = np.empty(1)
    ...     kernel(table, np.ones((2, 1), dtype=np.float32), out, 0.5)
    ...     bool(abs(out[0] + np.log(2)) < 1e-6)   # Σ q log q = -log 2
    ... else:
    ...     True
    True
    """
    native = native_or_none()
    return None if native is None else getattr(native, "joint_plogp", None)


def mixture_plogp_kernel():
    """The compiled ``Σ q log q`` kernel for sparse mixture weights, or ``None``.

    ``kernel(indptr, rows, weights, columns, out)`` fills ``out[j]`` with
    ``Σ_s q log q`` over ``q = Σ_e weights[e] · columns[rows[e], j]``, the
    entries e of configuration s being ``indptr[s] <= e < indptr[s + 1]`` (a
    CSR matrix: int64 ``indptr``, int32 ``rows``, float32 ``weights``), for
    float32 ``columns`` (K, J) with J a multiple of 64. Its cost is the number
    of stored weights times J, instead of configurations × K × J for the
    dense :func:`joint_plogp_kernel`; the float32 arithmetic and the sums are
    the same. ``None`` where :func:`joint_plogp_kernel` is ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> kernel = mixture_plogp_kernel()
    >>> if kernel is not None:
    ...     indptr = np.array([0, 1, 2])                  # two configurations, one weight each
    ...     rows = np.array([0, 1], dtype=np.int32)
    ...     weights = np.array([0.5, 0.5], dtype=np.float32)
    ...     columns = np.zeros((2, 64), dtype=np.float32)
    ...     columns[:, 0] = 1.0                           # q = 1/2 in both configurations
    ...     out = np.empty(64)
    ...     kernel(indptr, rows, weights, columns, out)
    ...     bool(abs(out[0] + np.log(2)) < 1e-6)
    ... else:
    ...     True
    True
    """
    native = native_or_none()
    return None if native is None else getattr(native, "mixture_plogp", None)


def _padded_width(width: int) -> int:
    """``width`` rounded up to a multiple of :data:`JOINT_WIDTH_MULTIPLE`."""
    return -(-width // JOINT_WIDTH_MULTIPLE) * JOINT_WIDTH_MULTIPLE


def pad_configurations(table: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A float32 C-contiguous copy of ``table`` (K, W), zero-padded to the native width.

    ``out``, a flat float32 buffer of at least ``K`` times the padded width,
    receives the copy in its front (a view of it is returned), so that a loop
    over tables allocates nothing.

    Examples
    --------
    >>> pad_configurations(np.ones((2, 3))).shape
    (2, 32)
    >>> buffer = np.full(100, np.nan, dtype=np.float32)
    >>> padded = pad_configurations(np.ones((2, 3)), out=buffer)
    >>> padded.shape, float(padded.sum()), np.shares_memory(padded, buffer)
    ((2, 32), 6.0, True)
    """
    n_rows, width = table.shape
    padded = _padded_width(width)
    if out is None:
        out = np.zeros((n_rows, padded), dtype=np.float32)
    else:
        out = out[:n_rows * padded].reshape(n_rows, padded)
        out[:, width:] = 0.0
    out[:, :width] = table
    return out


def torch_or_none():
    """Return the torch module if it can be imported, else ``None``."""
    if _backend_choice() == "numpy":
        return None
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised in environments without torch
        return None
    return torch


def active_kernel() -> tuple[str, str]:
    """The entropy kernel that scores use now, and why it was chosen.

    Returns
    -------
    name : {"native", "torch", "numpy"}
    reason : str
        One sentence: the ``SKAL_POWER_BACKEND`` choice, or what was (not) found.

    Examples
    --------
    >>> name, reason = active_kernel()
    >>> name in ("native", "torch", "numpy") and len(reason) > 0
    True
    """
    choice = _backend_choice()
    if choice:
        if choice == "native":
            native_or_none()  # raises ImportError with the fix if it is not built
        elif choice == "torch" and torch_or_none() is None:
            raise ImportError("SKAL_POWER_BACKEND=torch but torch is not installed.")
        return choice, f"SKAL_POWER_BACKEND={choice} chose it"
    if native_or_none() is not None:
        return "native", "the compiled extension skal_power._native is built (the default)"
    if torch_or_none() is not None:
        return "torch", ("skal_power._native is not built (no C compiler at install time); "
                         "torch is installed")
    return "numpy", "skal_power._native is not built and torch is not installed"


def _map_in_threads(work, items):
    """``list(map(work, items))`` on up to :func:`kernel_threads` threads."""
    items = list(items)
    threads = min(len(items), kernel_threads())
    if threads <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(work, items))


def default_chunk_rows(n_samples: int, n_classes: int, itemsize: int,
                       chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> int:
    """Rows of ``(K, C)`` per chunk so that one chunk takes about ``chunk_bytes``.

    Examples
    --------
    >>> default_chunk_rows(20, 10, 4)
    5242
    """
    return max(1, chunk_bytes // max(1, n_samples * n_classes * itemsize))


def _entropy_of_mean(mean_probs: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) along the last axis, with 0 log 0 = 0."""
    mean_probs = mean_probs.astype(np.float64, copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = mean_probs * np.log(mean_probs)
    terms[mean_probs <= 0] = 0.0
    return -terms.sum(axis=-1)


def entropy_terms(log_probs: np.ndarray, *, chunk_rows: int | None = None,
                  name: str = "log_probs") -> EntropyTerms:
    """Predictive and expected entropy of every point, one fused pass.

    Parameters
    ----------
    log_probs : numpy.ndarray of shape (N, K, C)
        Structurally checked log-probabilities (see
        :func:`skal_power._validation.check_log_probs`).
    chunk_rows : int, optional
        Points per chunk; defaults to about 4 MiB of input per chunk.
    name : str
        Parameter name for error messages.

    Returns
    -------
    EntropyTerms
        ``predictive_entropy`` and ``expected_entropy``, float64 of shape (N,).

    Raises
    ------
    ValueError
        If a value is NaN or +inf, or a row does not normalise.

    Examples
    --------
    >>> import numpy as np
    >>> terms = entropy_terms(np.log(np.full((2, 3, 4), 0.25)))
    >>> np.allclose(terms.predictive_entropy, np.log(4))
    True
    """
    n_points, n_samples, n_classes = log_probs.shape
    native = native_or_none()
    torch = None if native is not None else torch_or_none()
    if chunk_rows is None:
        # torch runs each operation on all threads: bigger chunks amortise its per-call
        # overhead (measured ~10% faster at K = 20, C = 10; buffers stay ~2% of 1 GB input)
        chunk_bytes = DEFAULT_CHUNK_BYTES * (4 if torch is not None else 1)
        chunk_rows = default_chunk_rows(n_samples, n_classes, log_probs.dtype.itemsize,
                                        chunk_bytes)
    predictive = np.empty(n_points, dtype=np.float64)
    expected = np.empty(n_points, dtype=np.float64)
    if n_points == 0:
        return EntropyTerms(predictive, expected)
    if native is not None:
        _native_loop(native, log_probs, chunk_rows, predictive, expected, name)
    elif torch is not None:
        _torch_loop(torch, log_probs, chunk_rows, predictive, expected, name)
    else:
        _numpy_loop(log_probs, chunk_rows, predictive, expected, name)
    return EntropyTerms(predictive, expected)


#: Largest ``C + K`` for which one GEMM gives both the sums over K and the row sums.
_MAX_FUSED_COLUMNS = 64


def _sum_matrix(torch, n_samples, n_classes, dtype):
    """0/1 matrix ``W`` of shape ``(K*C, C+K)``: ``p.view(n, K*C) @ W`` gives, per point,
    the sum over samples of each class (first C columns) and the sum over classes of
    each sample (last K columns, the row sums checked for normalisation)."""
    weights = torch.zeros((n_samples * n_classes, n_classes + n_samples), dtype=dtype)
    flat = torch.arange(n_samples * n_classes)
    weights[flat, flat % n_classes] = 1
    weights[flat, n_classes + flat // n_classes] = 1
    return weights


def _torch_loop(torch, log_probs, chunk_rows, predictive, expected, name):
    # Per chunk: one exp, one small GEMM for the sums over K and the row sums (or a sum
    # and a matmul when C + K is large), one in-place product p * log p and one sum.
    # 0 * -inf = NaN marks exactly the terms with p = 0 (NaN and +inf inputs were
    # rejected by the row-sum check first), so only rows whose sum is NaN are summed
    # again with nansum: 0 log 0 = 0 without a clamping pass over every element.
    # Work is in the input's dtype (float32 stays float32, float64 stays float64).
    n_points, n_samples, n_classes = log_probs.shape
    with warnings.catch_warnings():
        # read-only input (dask blocks, memmaps) is fine: the kernel never writes to it
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        source = torch.from_numpy(_native_order(log_probs))
    dtype = source.dtype
    fused = n_classes + n_samples <= _MAX_FUSED_COLUMNS
    work_prob = torch.empty((chunk_rows, n_samples, n_classes), dtype=dtype)
    if fused:
        weights = _sum_matrix(torch, n_samples, n_classes, dtype)
        sums_out = torch.empty((chunk_rows, n_classes + n_samples), dtype=dtype)
    else:
        ones = torch.ones((n_classes, 1), dtype=dtype)
        row_sums_out = torch.empty((chunk_rows * n_samples, 1), dtype=dtype)
        class_sums_out = torch.empty((chunk_rows, n_classes), dtype=dtype)
    predictive_t = torch.from_numpy(predictive)
    expected_t = torch.from_numpy(expected)
    with torch.no_grad():
        for start in range(0, n_points, chunk_rows):
            stop = min(start + chunk_rows, n_points)
            rows = stop - start
            logs, probs = source[start:stop], work_prob[:rows]
            torch.exp(logs, out=probs)
            if fused:
                sums = torch.mm(probs.view(rows, -1), weights, out=sums_out[:rows])
                # contiguous copy (1/K of the chunk): log on a strided view is slow
                class_sums, row_sums = sums[:, :n_classes].contiguous(), sums[:, n_classes:]
            else:
                row_sums = torch.mm(probs.view(-1, n_classes), ones,
                                    out=row_sums_out[:rows * n_samples])
                class_sums = torch.sum(probs, dim=1, out=class_sums_out[:rows])
            low, high = torch.aminmax(row_sums)
            if not (low.item() >= _ROW_SUM_LOW and high.item() <= _ROW_SUM_HIGH):
                raise_for_bad_values(log_probs[start:stop], name=name, offset=start)
            mean = class_sums.div_(n_samples)
            predictive_t[start:stop] = (mean * torch.log(mean)).nansum(-1)
            terms = probs.mul_(logs).view(rows, -1)
            totals = terms.sum(-1)
            undefined = torch.isnan(totals)
            if undefined.any():
                totals[undefined] = terms[undefined].nansum(-1)
            expected_t[start:stop] = totals
    predictive *= -1.0
    expected *= -1.0 / n_samples


def _native_order(log_probs: np.ndarray) -> np.ndarray:
    """C-contiguous, in this machine's byte order (torch and the C kernel need both)."""
    return np.ascontiguousarray(log_probs, dtype=log_probs.dtype.newbyteorder("="))


def _native_loop(native, log_probs, chunk_rows, predictive, expected, name):
    # Each task is one call into C (GIL released) over `chunk_rows` points; the C loop
    # works through them in cache-sized blocks. A row that does not normalise stops its
    # task; the first such point over all tasks is explained in float64.
    source = _native_order(log_probs)
    n_points = len(source)

    def work(start: int) -> int:
        stop = min(start + chunk_rows, n_points)
        bad = native.entropy_terms(source[start:stop], predictive[start:stop],
                                   expected[start:stop], _ROW_SUM_LOW, _ROW_SUM_HIGH)
        return -1 if bad < 0 else start + bad

    failed = [point for point in _map_in_threads(work, range(0, n_points, chunk_rows))
              if point >= 0]
    if failed:
        first = min(failed)
        raise_for_bad_values(source[first:first + 1], name=name, offset=first)


def _numpy_chunk(chunk: np.ndarray, name: str, offset: int):
    rows, n_samples, n_classes = chunk.shape
    logs = np.maximum(chunk, _LOG_FLOOR)
    with np.errstate(over="ignore", invalid="ignore"):
        probs = np.exp(logs)
    row_sums = probs.reshape(-1, n_classes).sum(axis=-1)
    if not (row_sums.min() >= _ROW_SUM_LOW and row_sums.max() <= _ROW_SUM_HIGH):
        raise_for_bad_values(chunk, name=name, offset=offset)
    mean_probs = probs.sum(axis=1) / n_samples
    logs *= probs
    expected = -logs.reshape(rows, -1).sum(axis=-1, dtype=np.float64) / n_samples
    return _entropy_of_mean(mean_probs), expected


def _numpy_loop(log_probs, chunk_rows, predictive, expected, name):
    n_points = log_probs.shape[0]

    def work(start: int) -> None:
        stop = min(start + chunk_rows, n_points)
        predictive[start:stop], expected[start:stop] = _numpy_chunk(
            log_probs[start:stop], name, start
        )

    _map_in_threads(work, range(0, n_points, chunk_rows))
