"""Chunked GEMM kernel for EPIG, the expected predictive information gain.

For pool log-probs of shape ``(N, K, C)`` and target log-probs of shape
``(M, K, C)`` on the same K posterior samples, with ``P = exp(pool)`` and
``T = exp(target)``, the joint predictive of a pool point ``x_n`` and a
target point ``x*_m`` is

    J[n, m, c, d] = (1/K) Σ_k P[n, k, c] T[m, k, d]

and ``EPIG(x_n) = (1/M) Σ_m KL[J[n, m] || p̄_n ⊗ p̄*_m]`` with the marginals
``p̄_n = mean_k P[n, k]`` and ``p̄*_m = mean_k T[m, k]``. The KL splits as

    Σ_{m,c,d} J log J  −  Σ_{m,c,d} J log p̄_n(c)  −  Σ_{m,c,d} J log p̄*_m(d).

The first sum is the whole cost: for a pool chunk of n points and a target
chunk of m points the joints of all n·m pairs are one GEMM of shapes
``(n·C, K) × (K, m·C)``, followed by one ``log`` and one row-wise dot product
per element. The two cross sums need no joint at all: the sum over ``d`` of
``J`` is ``(1/K) Σ_k P[n, k, c] t[m, k]`` with ``t`` the row sums of ``T``, so
both reduce to K-vectors of the targets,

    cross(n) = (1/K) Σ_k ( a[n, k] · S[k] + s[n, k] · B[k] ),

with ``a[n, k] = Σ_c P[n, k, c] log p̄_n(c)``, ``s`` the row sums of ``P``,
``S[k] = Σ_{m,d} T[m, k, d]`` and ``B[k] = Σ_{m,d} T[m, k, d] log p̄*_m(d)``.
Nothing here assumes that rows sum to exactly 1, so the result is the formula
above for the given numbers, not an identity that holds only after
normalisation. Everything is float64; ``0 log 0 = 0``. The cost is
``O(N·M·K·C²)`` for the GEMMs and ``N·M·C²`` logarithms.

Memory: the buffers of one block (the joints and their logs, the chunks'
probabilities) take at most ``max_memory`` bytes in all worker threads
together, whatever N and M are (the output and a few K-vectors aside). The
pool is split into one contiguous range per worker (``SKAL_POWER_NUM_THREADS``
or :func:`skal_power.threads.limit_threads`, as for the entropy kernels); each
worker loops over target chunks and, inside, over its pool chunks, so every
target chunk is exponentiated once per worker and every pool chunk once per
target chunk (``K / (m·C)`` exponentials per joint element, under 1% at the
default sizes). The GEMMs run on numpy's BLAS with the caller's BLAS threads.
"""

from __future__ import annotations

import math

import numpy as np

from ._kernels import (_ROW_SUM_HIGH, _ROW_SUM_LOW, JOINT_WIDTH_MULTIPLE, _map_in_threads,
                       _padded_width, joint_plogp_kernel, pad_configurations)
from ._validation import raise_for_bad_values
from .threads import kernel_threads

__all__ = ["DEFAULT_MAX_MEMORY", "block_shape", "epig_scores"]

#: Default bytes for the buffers of one block (all worker threads together). A block of
#: 8 MiB stays in the cache of one core (the same default as :mod:`skal_power.batch`).
DEFAULT_MAX_MEMORY = 2**23

#: Most target points per block: enough that re-exponentiating the pool chunks costs
#: ``K / (m·C)`` exponentials per joint element, under 1% at K = 20, C = 10.
MAX_TARGET_ROWS = 256

_ITEMSIZE = 8  # float64
_TINY = np.finfo(np.float64).tiny


def _block_bytes(n_rows: int, m_rows: int, n_samples: int, n_classes: int) -> int:
    """Bytes of the buffers of one block of ``n_rows`` pool and ``m_rows`` target points."""
    joint = 2 * n_rows * m_rows * n_classes * n_classes  # joints and their logs
    chunks = 2 * (n_rows + m_rows) * n_samples * n_classes  # probabilities, GEMM layouts
    return _ITEMSIZE * (joint + chunks)


def block_shape(n_pool: int, n_target: int, n_samples: int, n_classes: int,
                max_memory: int) -> tuple[int, int]:
    """Pool and target points per block so that one block's buffers fit ``max_memory``.

    Up to :data:`MAX_TARGET_ROWS` target points, then as many pool points as
    fit. A single pair that does not fit gives ``(1, 1)``, the smallest block.

    Parameters
    ----------
    n_pool, n_target : int
        Pool points N and target points M.
    n_samples, n_classes : int
        K and C.
    max_memory : int
        Bytes for the buffers of one block.

    Returns
    -------
    (int, int)
        Pool points and target points per block, each at least 1.

    Examples
    --------
    >>> block_shape(10**5, 1000, 20, 10, 2**23)
    (18, 256)
    >>> block_shape(10**5, 1000, 20, 10, 1)
    (1, 1)
    """
    per_target = _block_bytes(1, 1, n_samples, n_classes) - _block_bytes(1, 0, n_samples,
                                                                         n_classes)
    m_rows = min(max(n_target, 1), MAX_TARGET_ROWS,
                 max(1, (max_memory - _block_bytes(1, 0, n_samples, n_classes)) // per_target))
    fixed = _block_bytes(0, m_rows, n_samples, n_classes)
    per_pool = _block_bytes(1, m_rows, n_samples, n_classes) - fixed
    n_rows = min(max(n_pool, 1), max(1, (max_memory - fixed) // per_pool))
    return int(n_rows), int(m_rows)


def _probabilities(log_probs_chunk: np.ndarray, name: str, offset: int) -> np.ndarray:
    """``exp`` of a chunk in float64, after checking that its rows normalise."""
    probs = np.exp(log_probs_chunk, dtype=np.float64)
    row_sums = probs.sum(axis=-1)
    if not (row_sums.min() >= _ROW_SUM_LOW and row_sums.max() <= _ROW_SUM_HIGH):
        raise_for_bad_values(log_probs_chunk, name=name, offset=offset)
    return probs


def _marginal_terms(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row sums ``s[n, k]`` and ``a[n, k] = Σ_c P[n, k, c] log p̄_n(c)`` of a chunk.

    Where ``p̄_n(c) = 0`` every ``P[n, k, c]`` is 0, and ``0 · log(tiny) = 0``.
    """
    log_mean = np.log(np.maximum(probs.mean(axis=1), _TINY))  # (n, C)
    weighted = np.einsum("nkc,nc->nk", probs, log_mean)
    return probs.sum(axis=-1), weighted


def _target_vectors(target: np.ndarray, chunk_rows: int, name: str) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """``S[k] = Σ_{m,d} T[m, k, d]`` and ``B[k] = Σ_{m,d} T[m, k, d] log p̄*_m(d)``.

    Also checks every target value (one pass, chunked).
    """
    n_samples = target.shape[1]
    sums = np.zeros(n_samples, dtype=np.float64)
    weighted = np.zeros(n_samples, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, target.shape[0], chunk_rows):
            probs = _probabilities(target[start:start + chunk_rows], name, start)
            row_sums, terms = _marginal_terms(probs)
            sums += row_sums.sum(axis=0)
            weighted += terms.sum(axis=0)
    return sums, weighted


def _pool_cross_terms(pool: np.ndarray, start: int, stop: int, chunk_rows: int,
                      target_sums: np.ndarray, target_weighted: np.ndarray,
                      name: str) -> np.ndarray:
    """``K · cross(n)`` for pool points ``start:stop``; checks their values."""
    out = np.empty(stop - start, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for low in range(start, stop, chunk_rows):
            high = min(low + chunk_rows, stop)
            row_sums, terms = _marginal_terms(_probabilities(pool[low:high], name, low))
            out[low - start:high - start] = terms @ target_sums + row_sums @ target_weighted
    return out


def _row_sums(joint: np.ndarray, logs: np.ndarray, rows: int) -> np.ndarray:
    """``Σ J log J`` per pool point; in float32 the products are summed in float64."""
    if joint.dtype == np.float64:
        return np.einsum("ij,ij->i", joint.reshape(rows, -1), logs.reshape(rows, -1))
    np.multiply(joint, logs, out=logs)
    return logs.reshape(rows, -1).sum(axis=1, dtype=np.float64)


def _exp_and_columns(log_probs: np.ndarray, buffer: np.ndarray, dtype, *, scale: float = 1.0,
                     transpose: tuple[int, int, int] = (1, 0, 2)):
    """A C-contiguous copy of ``scale · exp(log_probs)`` with axes ``transpose``d.

    Both the probabilities and the copy are written into the front of
    ``buffer`` (twice ``log_probs.size`` elements): nothing is allocated.
    """
    size = log_probs.size
    probs = buffer[:size].reshape(log_probs.shape)
    np.exp(log_probs, out=probs, dtype=dtype)
    if scale != 1.0:
        probs *= dtype(scale)
    layout = probs.transpose(transpose)
    columns = buffer[size:2 * size].reshape(layout.shape)
    np.copyto(columns, layout)
    return columns


def _joint_entropy_sums(pool: np.ndarray, target: np.ndarray, start: int, stop: int,
                        n_rows: int, m_rows: int, dtype=np.float64) -> np.ndarray:
    """``Σ_{m,c,d} J log J`` for pool points ``start:stop`` (inputs already checked).

    ``dtype`` is that of the joints and their logs (the GEMMs and the N·M·C²
    logarithms); the sums are float64 either way.
    """
    n_target, n_samples, n_classes = target.shape
    tiny = np.finfo(dtype).tiny
    out = np.zeros(stop - start, dtype=np.float64)
    joint_buffer = np.empty(n_rows * n_classes * m_rows * n_classes, dtype=dtype)
    log_buffer = np.empty_like(joint_buffer)
    # the chunks' probabilities and their GEMM layouts live in buffers too: a fresh array
    # per chunk would coexist with the previous chunk's until rebound, past max_memory
    target_buffer = np.empty(2 * m_rows * n_samples * n_classes, dtype=dtype)
    pool_buffer = np.empty(2 * n_rows * n_samples * n_classes, dtype=dtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for t_low in range(0, n_target, m_rows):
            t_high = min(t_low + m_rows, n_target)
            # (K, m·C): column (m, d) holds T[m, :, d]
            right = _exp_and_columns(target[t_low:t_high], target_buffer, dtype).reshape(
                n_samples, -1)
            for low in range(start, stop, n_rows):
                high = min(low + n_rows, stop)
                rows = high - low
                # (n·C, K): row (n, c) holds P[n, :, c] / K
                left = _exp_and_columns(pool[low:high], pool_buffer, dtype,
                                        scale=1.0 / n_samples, transpose=(0, 2, 1)).reshape(
                    rows * n_classes, n_samples)
                size = rows * n_classes * right.shape[1]
                joint = joint_buffer[:size].reshape(rows * n_classes, right.shape[1])
                logs = log_buffer[:size].reshape(joint.shape)
                np.matmul(left, right, out=joint)  # row (n, c), column (m, d)
                np.log(joint, out=logs)
                sums = _row_sums(joint, logs, rows)
                if np.isnan(sums).any():
                    # a joint probability of 0 gave 0 · log 0 = NaN: redo the block with
                    # log(max(J, tiny)), whose product with J = 0 is exactly 0
                    np.maximum(joint, tiny, out=logs)
                    np.log(logs, out=logs)
                    sums = _row_sums(joint, logs, rows)
                out[low - start:high - start] += sums
    return out


def _native_block_rows(n_pool: int, m_rows: int, n_samples: int, n_classes: int,
                       max_memory: int) -> int:
    """Pool points per call of the fused kernel within ``max_memory`` (one worker).

    The fused kernel stores no joint: a block holds the target chunk's float32
    probabilities twice (as read and as the (K, m·C) layout), the padded
    table made from them and, per pool point, its float32 probabilities twice
    (as read and as (K, n·C) columns) and its C float64 sums.
    """
    table = 4 * n_samples * (3 * m_rows * n_classes + JOINT_WIDTH_MULTIPLE)
    per_row = 2 * 4 * n_samples * n_classes + 8 * n_classes
    return int(min(max(n_pool, 1), max(1, (max_memory - table) // per_row)))


def _native_joint_entropy_sums(kernel, pool: np.ndarray, target: np.ndarray, start: int,
                               stop: int, n_rows: int, m_rows: int) -> np.ndarray:
    """``Σ_{m,c,d} J log J`` by the fused float32 kernel (inputs already checked).

    The joints are never stored: for a target chunk's (K, m·C) table and a
    pool chunk's (K, n·C) columns the kernel forms each joint in float32
    registers, takes its ``J log J`` and sums, in float64 past blocks of 64.
    """
    n_target, n_samples, n_classes = target.shape
    out = np.zeros(stop - start, dtype=np.float64)
    # every per-chunk array lives in a buffer: fresh ones would coexist with the previous
    # chunk's until rebound, past max_memory
    width = min(m_rows, n_target) * n_classes
    table_buffer = np.empty(n_samples * _padded_width(width), dtype=np.float32)
    target_buffer = np.empty(2 * width * n_samples, dtype=np.float32)
    pool_buffer = np.empty(2 * n_rows * n_samples * n_classes, dtype=np.float32)
    sums_buffer = np.empty(n_rows * n_classes, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for t_low in range(0, n_target, m_rows):
            chunk = target[t_low:t_low + m_rows]
            # (K, m·C): column (m, d) holds T[m, :, d], zero-padded to the kernel's width
            right = _exp_and_columns(chunk, target_buffer, np.float32).reshape(n_samples, -1)
            table = pad_configurations(right, out=table_buffer)
            for low in range(start, stop, n_rows):
                high = min(low + n_rows, stop)
                rows = high - low
                # (K, n·C): column (n, c) holds P[n, :, c]
                columns = _exp_and_columns(pool[low:high], pool_buffer, np.float32).reshape(
                    n_samples, rows * n_classes)
                sums = sums_buffer[:rows * n_classes]
                kernel(table, columns, sums, 1.0 / n_samples)
                out[low - start:high - start] += sums.reshape(rows, n_classes).sum(axis=1)
    return out


def epig_scores(pool: np.ndarray, target: np.ndarray, *, max_memory: int = DEFAULT_MAX_MEMORY,
                precision: str = "double", pool_name: str = "log_probs_pool",
                target_name: str = "log_probs_target") -> np.ndarray:
    """EPIG of every pool point against the mean over the target points.

    Parameters
    ----------
    pool : numpy.ndarray of shape (N, K, C)
        Structurally checked pool log-probabilities (float32 or float64).
    target : numpy.ndarray of shape (M, K, C)
        Structurally checked target log-probabilities, ``M >= 1``, the same K
        posterior samples and C classes.
    max_memory : int
        Bytes for one block's buffers, all worker threads together.
    precision : {"double", "single"}
        Storage of the joints and their logarithms (the whole cost); sums are
        float64 either way.
    pool_name, target_name : str
        Parameter names for error messages.

    Returns
    -------
    numpy.ndarray of shape (N,)
        EPIG in nats, float64, clamped at 0 (it is non-negative up to rounding).

    Raises
    ------
    ValueError
        If a value is NaN or +inf, or a row does not normalise.

    Examples
    --------
    >>> import numpy as np
    >>> one_hot = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]])  # two samples disagree
    >>> epig_scores(one_hot, one_hot).round(6)  # y = y*: I = H[y] = log 2
    array([0.693147])
    """
    n_pool, n_samples, n_classes = pool.shape
    n_target = target.shape[0]
    n_rows, m_rows = block_shape(n_pool, n_target, n_samples, n_classes, max_memory)
    workers = max(1, min(kernel_threads(), math.ceil(n_pool / n_rows)))
    if workers > 1:  # the memory bound covers all workers together
        n_rows, m_rows = block_shape(n_pool, n_target, n_samples, n_classes,
                                     max(1, max_memory // workers))
    target_sums, target_weighted = _target_vectors(target, m_rows, target_name)
    if n_pool == 0:
        return np.zeros(0, dtype=np.float64)
    bounds = np.linspace(0, n_pool, workers + 1).round().astype(int)
    ranges = [(int(low), int(high)) for low, high in zip(bounds[:-1], bounds[1:]) if high > low]
    # first check every pool value (and get the cross terms), then do the expensive part
    cross = np.concatenate(_map_in_threads(
        lambda span: _pool_cross_terms(pool, *span, n_rows, target_sums, target_weighted,
                                       pool_name), ranges))
    if n_samples == 1:
        # one sample: the joint is exactly the product of the marginals
        return np.zeros(n_pool, dtype=np.float64)
    kernel = joint_plogp_kernel() if precision == "single" else None
    if kernel is not None:
        native_rows = _native_block_rows(n_pool, m_rows, n_samples, n_classes,
                                         max(1, max_memory // workers))
        joint_terms = np.concatenate(_map_in_threads(
            lambda span: _native_joint_entropy_sums(kernel, pool, target, *span, native_rows,
                                                    m_rows), ranges))
    else:
        dtype = np.float32 if precision == "single" else np.float64
        joint_terms = np.concatenate(_map_in_threads(
            lambda span: _joint_entropy_sums(pool, target, *span, n_rows, m_rows, dtype),
            ranges))
    scores = (joint_terms - cross / n_samples) / n_target
    return np.maximum(scores, 0.0)
