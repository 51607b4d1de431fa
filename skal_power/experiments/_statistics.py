"""The one Student-t confidence interval of the experiment reports."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["t_half_width", "t_interval"]


def t_half_width(std: Any, n: Any, confidence: float = 0.95) -> np.ndarray:
    """Half-width of the Student-t interval of a mean: ``t_{n-1} · std / sqrt(n)``.

    Vectorised over ``std`` and ``n``; NaN where ``n < 2``.

    Parameters
    ----------
    std : array-like
        Sample standard deviations (``ddof=1``).
    n : array-like of int
        Sample sizes.
    confidence : float, default=0.95
        Two-sided confidence level.

    Returns
    -------
    numpy.ndarray of float

    Examples
    --------
    >>> import numpy as np
    >>> t_half_width(np.array([0.1, 0.1]), np.array([1, 3])).round(4).tolist()
    [nan, 0.2484]
    """
    from scipy import stats

    std = np.asarray(std, dtype=np.float64)
    n = np.asarray(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(n > 1, stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)), np.nan)
        return t * std / np.sqrt(n)


def t_interval(values: Any, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and Student-t half-width of the mean of ``values`` (NaN for fewer than two).

    Parameters
    ----------
    values : array-like of shape (n,)
        One value per seed, e.g. a paired difference.
    confidence : float, default=0.95
        Two-sided confidence level.

    Returns
    -------
    mean, half_width : float

    Examples
    --------
    >>> mean, half = t_interval([0.5, 0.6, 0.7])
    >>> round(mean, 3), round(half, 3)
    (0.6, 0.248)
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    mean = float(np.mean(values)) if n else float("nan")
    if n < 2:
        return mean, float("nan")
    return mean, float(t_half_width(np.std(values, ddof=1), n, confidence))
