"""Single-point acquisition scores on sampled predictions.

Every function takes log-probabilities of shape ``(N, K, C)`` (numpy array or
torch tensor; ``N`` pool points, ``K`` posterior samples, ``C`` classes) and
returns a float64 numpy array of shape ``(N,)`` in nats. The work is chunked,
so memory stays bounded for any N (see :mod:`skal_power._kernels`).

With ``p̄(y|x) = mean_k p(y|x, ω_k)`` and ``H`` the Shannon entropy:

====================  =====================================================
``entropy``           ``H[p̄]``
``expected_entropy``  ``mean_k H[p(·|x, ω_k)]``
``bald``              ``H[p̄] − mean_k H[p(·|x, ω_k)]``, clamped at 0
``eig``               ``H_M[p̄] − H_M′[p̄]``, may be negative
``evaluation_bald``   ``BALD_M − BALD_M′``, may be negative
``epig``              ``mean_m I[y; y* | x, x*_m]`` over the M targets
====================  =====================================================

M′ is the pool-augmented (self-distilled) model of :func:`skal_power.distill.distill`.
``epig`` also takes the log-probabilities of M target points on the same K
posterior samples, shape ``(M, K, C)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._epig_kernel import DEFAULT_MAX_MEMORY, epig_scores
from ._kernels import entropy_terms
from ._validation import check_log_probs, check_log_probs_pair, check_positive_int

__all__ = ["entropy", "expected_entropy", "bald", "eig", "evaluation_bald", "epig"]


def entropy(log_probs: Any) -> np.ndarray:
    """Predictive entropy ``H[p̄(y|x)]`` of every pool point.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (N, K, C)
        Sampled log-probabilities ``log p(y=c | x_n, ω_k)``. ``K = 1`` (a
        point estimate) is fine.

    Returns
    -------
    numpy.ndarray of shape (N,)
        Entropy in nats, between 0 and ``log C``.

    See Also
    --------
    bald : the part of the entropy due to disagreement between samples.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.scores import entropy
    >>> uniform = np.log(np.full((1, 4, 3), 1 / 3))
    >>> entropy(uniform).round(6)
    array([1.098612])
    """
    checked = check_log_probs(log_probs)
    return entropy_terms(checked).predictive_entropy


def expected_entropy(log_probs: Any) -> np.ndarray:
    """Expected entropy ``mean_k H[p(y|x, ω_k)]`` (aleatoric part) of every point.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.scores import expected_entropy
    >>> confident = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]])  # log of one-hot rows
    >>> expected_entropy(confident)
    array([0.])
    """
    checked = check_log_probs(log_probs)
    return entropy_terms(checked).expected_entropy


def bald(log_probs: Any) -> np.ndarray:
    """BALD: mutual information ``I[y; ω | x]`` between label and parameters.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (N, K, C)
        Sampled log-probabilities with ``K >= 2`` posterior samples.

    Returns
    -------
    numpy.ndarray of shape (N,)
        ``H[p̄] − mean_k H[p_k]`` in nats, clamped at 0 (it is non-negative up
        to rounding).

    Raises
    ------
    ValueError
        If ``K < 2`` (a single model cannot disagree with itself), or the
        values are not valid log-probabilities.

    Notes
    -----
    BALD is zero exactly when all K samples agree, and at most ``log C``.

    References
    ----------
    Houlsby et al., "Bayesian Active Learning for Classification and
    Preference Learning", 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.scores import bald
    >>> agree = np.log(np.full((1, 2, 2), 0.5))
    >>> disagree = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]])  # log of one-hot rows
    >>> bald(np.concatenate([agree, disagree])).round(6)
    array([0.      , 0.693147])
    """
    checked = check_log_probs(log_probs, min_samples=2)
    terms = entropy_terms(checked)
    return _clamped_difference(terms.predictive_entropy, terms.expected_entropy)


def eig(log_probs: Any, log_probs_distilled: Any) -> np.ndarray:
    """EIG, Evaluation Information Gain: how much surer M′ is about ``y`` than M.

    ``EIG(x) = H_M[y | x] − H_M′[y | x]``: the predictive entropy under the
    model M minus that under the pool-augmented model M′. The name is the
    seed's (PowerEvaluationBALD); in the wider literature "expected information
    gain" means BALD itself. With an exact posterior conditioned on the
    evaluation labels the difference would be the information ``y`` carries
    about the evaluation-set predictions; with M′ one self-distilled model it is
    a heuristic for it, and unlike a mutual information it can be negative.

    Parameters
    ----------
    log_probs : array-like of shape (N, K, C)
        Log-probabilities of the model M (``K = 1`` is fine).
    log_probs_distilled : array-like of shape (N, K', C)
        Log-probabilities of the distilled model M′ on the same points.

    Returns
    -------
    numpy.ndarray of shape (N,)
        May be negative.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.scores import eig
    >>> m = np.log(np.array([[[0.5, 0.5]]]))
    >>> m_prime = np.log(np.array([[[0.9, 0.1]]]))
    >>> eig(m, m_prime).round(4)
    array([0.3681])
    """
    first, second = check_log_probs_pair(log_probs, log_probs_distilled)
    return (
        entropy_terms(first).predictive_entropy
        - entropy_terms(second, name="log_probs_distilled").predictive_entropy
    )


def evaluation_bald(log_probs: Any, log_probs_distilled: Any) -> np.ndarray:
    """EvaluationBALD: ``BALD_M(x) − BALD_M′(x)``.

    Positive where M′ (which has seen the evaluation set) is surer about the
    parameters than M; negative on points that contradict the evaluation set.
    With M′ one self-distilled model this is a heuristic for the information
    about the evaluation-set predictions, not an estimate of it: a mutual
    information cannot be negative, this difference can.

    Parameters
    ----------
    log_probs, log_probs_distilled : array-like of shape (N, K, C) and (N, K', C)
        Log-probabilities of M and M′, each with at least two samples.

    Returns
    -------
    numpy.ndarray of shape (N,)
        May be negative.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.scores import evaluation_bald
    >>> m = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]])  # log of one-hot rows
    >>> m_prime = np.log(np.full((1, 2, 2), 0.5))
    >>> evaluation_bald(m, m_prime).round(6)
    array([0.693147])
    """
    first, second = check_log_probs_pair(log_probs, log_probs_distilled, min_samples=2)
    terms_m = entropy_terms(first)
    terms_m2 = entropy_terms(second, name="log_probs_distilled")
    return _clamped_difference(
        terms_m.predictive_entropy, terms_m.expected_entropy
    ) - _clamped_difference(terms_m2.predictive_entropy, terms_m2.expected_entropy)


def epig(log_probs_pool: Any, log_probs_target: Any, *,
         max_memory: int = DEFAULT_MAX_MEMORY, precision: str = "double") -> np.ndarray:
    """EPIG: expected predictive information gain about the target points.

    ``EPIG(x) = mean_m I[y; y* | x, x*_m]``, the mutual information between the
    label of a pool point and the label of a target point, averaged over the M
    target points. With ``p(y, y* | x, x*) = mean_k p(y|x, ω_k) p(y*|x*, ω_k)``
    (a C × C joint) and ``p̄ = mean_k p(·|·, ω_k)``,

    ``I[y; y* | x, x*] = KL[p(y, y* | x, x*) || p̄(y|x) p̄(y*|x*)]``.

    Unlike BALD, which rewards any information about the parameters, EPIG
    rewards only information that changes predictions on the target points.

    Parameters
    ----------
    log_probs_pool : array-like or torch.Tensor of shape (N, K, C)
        Sampled log-probabilities ``log p(y=c | x_n, ω_k)`` of the pool points.
    log_probs_target : array-like or torch.Tensor of shape (M, K, C)
        Log-probabilities of the target points (``M >= 1``) under the *same*
        K posterior samples, in the same order, and the same C classes.
    max_memory : int, default=2**23
        Bytes for the working buffers of one block of pool × target pairs
        (all kernel threads together); bounds peak memory whatever N and M
        are. Any value gives the same scores up to rounding; the default
        (8 MiB) keeps a block in cache.
    precision : {"double", "single"}, default="double"
        Storage of the N·M·C² joint probabilities and their logarithms,
        which are the whole cost. ``"single"`` is within ~1e-7 nats of
        ``"double"`` (sums are float64 either way) and, with the compiled
        kernel, about 4x as fast: the joints are formed, logged and summed in
        registers without being stored (``benchmarks/results/epig.md``).

    Returns
    -------
    numpy.ndarray of shape (N,)
        EPIG in nats, float64, clamped at 0 (it is non-negative up to
        rounding). At most ``BALD(x)`` and at most the mean BALD of the
        targets; exactly 0 when ``K = 1``.

    Raises
    ------
    ValueError
        If either input is not 3-D, the two differ in K or in C, there are no
        target points, a value is NaN or +inf, or a row does not normalise.

    See Also
    --------
    bald : the information about the parameters, an upper bound of EPIG.

    Notes
    -----
    The joints of all pairs of a pool chunk and a target chunk are one GEMM of
    shapes ``(n·C, K) × (K, m·C)``, so the cost is ``O(N·M·K·C²)`` and
    ``N·M·C²`` logarithms, in float64, with ``0 log 0 = 0``; see
    ``skal_power._epig_kernel``. The kernel threads follow
    ``SKAL_POWER_NUM_THREADS`` and :func:`skal_power.threads.limit_threads`.

    References
    ----------
    Bickford Smith, Kirsch, Farquhar, Gal, Foster and Rainforth,
    "Prediction-Oriented Bayesian Active Learning", AISTATS 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.scores import epig
    >>> disagree = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]])  # log of one-hot rows
    >>> agree = np.log(np.full((1, 2, 2), 0.5))
    >>> epig(np.concatenate([disagree, agree]), disagree).round(6)
    array([0.693147, 0.      ])
    """
    pool, target = _check_pool_and_target(log_probs_pool, log_probs_target)
    max_memory = check_positive_int(max_memory, name="max_memory")
    if precision not in ("double", "single"):
        raise ValueError(f"precision must be 'double' or 'single'; got {precision!r}.")
    return epig_scores(pool, target, max_memory=max_memory, precision=precision)


def _check_pool_and_target(log_probs_pool: Any,
                           log_probs_target: Any) -> tuple[np.ndarray, np.ndarray]:
    """Structure of the pool and target log-probs: both (·, K, C) with the same K and C."""
    pool = check_log_probs(log_probs_pool, name="log_probs_pool")
    target = check_log_probs(log_probs_target, name="log_probs_target", allow_empty=False)
    if pool.shape[1] != target.shape[1]:
        raise ValueError(
            "log_probs_pool and log_probs_target must come from the same K posterior samples "
            f"(axis 1); got K = {pool.shape[1]} and K = {target.shape[1]} "
            f"(shapes {pool.shape} and {target.shape})."
        )
    if pool.shape[2] != target.shape[2]:
        raise ValueError(
            "log_probs_pool and log_probs_target must have the same C classes (axis 2); "
            f"got C = {pool.shape[2]} and C = {target.shape[2]} "
            f"(shapes {pool.shape} and {target.shape})."
        )
    return pool, target


def _clamped_difference(predictive: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return np.maximum(predictive - expected, 0.0)
