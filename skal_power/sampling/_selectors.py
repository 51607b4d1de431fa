"""Selectors: what turns a vector of acquisition scores and a seed into a batch.

A strategy is one score × one selector (:class:`skal_power.strategies.Acquisition`).
Each selector also gives per-point *keys* from which the batch is the best
``B`` points; for ``partition_merge == "keys"`` the keys of a point depend on
its own score and its global index only, so a pool split into partitions gives
exactly the batch of the whole pool by merging each partition's best keys
(Gumbel-top-B for the stochastic rules). Softrank needs every score's rank,
so it merges with one extra pass that sorts all scores.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._param_validation import Interval, Schedule, validate_parameter_constraints
from .._validation import check_seed
from ._gumbel import acquisition_keys, tie_keys
from ._rules import (
    power_log_weights,
    sample_from_log_weights,
    softmax_log_weights,
    softrank_log_weights,
    top_sample,
    uniform_top_sample,
)
from ._schedules import resolve_exponent

__all__ = ["Selector", "Top", "Power", "Softmax", "Softrank", "UniformTop"]

#: A sharpness: a finite real >= 0, or a schedule ``round -> value`` (α and β).
_EXPONENT = [Interval(numbers.Real, 0, None, closed="left"),
             Schedule(Interval(numbers.Real, 0, None, closed="left"))]


class Selector(BaseEstimator):
    """Base class: ``select(scores, n_instances, seed=...)`` returns pool positions.

    Attributes
    ----------
    partition_merge : {"keys", "global_ranks", "candidates", None}
        How partitions of a pool merge exactly: ``"keys"`` (each point's key
        depends on its score and index alone), ``"global_ranks"`` (keys need
        every score's rank), ``"candidates"`` (the best-scored candidates merge,
        then one draw among them). ``None``: no exact merge; Dask pools are
        refused.

    Examples
    --------
    A selector of your own, usable with :class:`skal_power.strategies.Acquisition`
    on in-memory pools:

    >>> import numpy as np
    >>> from skal_power.sampling import Selector
    >>> class Lowest(Selector):
    ...     def select(self, scores, n_instances, *, seed, round_index=0, n_classes=None):
    ...         return np.argsort(scores, kind="stable")[:n_instances]
    >>> Lowest().select(np.array([0.3, 0.1, 0.2]), 2, seed=0).tolist()
    [1, 2]
    """

    partition_merge: str | None = None
    #: Constraint list of each parameter (see :mod:`skal_power._param_validation`).
    _parameter_constraints: dict[str, list] = {}

    def check(self) -> None:
        """Validate the parameters against ``_parameter_constraints``.

        Raises :class:`~skal_power._param_validation.InvalidParameterError` (a
        ``ValueError`` and a ``TypeError``) naming the parameter and the selector.

        Examples
        --------
        >>> from skal_power.sampling import Power
        >>> Power(alpha=-1).check()
        Traceback (most recent call last):
        ...
        skal_power._param_validation.InvalidParameterError: The 'alpha' parameter of Power must be a float in the range [0, inf) or a callable (a schedule round -> value); got -1.
        """
        params = {name: getattr(self, name) for name in self._parameter_constraints}
        validate_parameter_constraints(self._parameter_constraints, params, type(self).__name__)

    def select(self, scores: np.ndarray, n_instances: int, *, seed: int,
               round_index: int = 0, n_classes: int | None = None) -> np.ndarray:
        """Positions of the batch in ``scores``, in selection order."""
        raise NotImplementedError


class Top(Selector):
    """Top-B: the ``n_instances`` highest scores; exact ties broken by the seed.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import Top
    >>> Top().select(np.array([0.3, 0.9, 0.1, 0.5]), 2, seed=0).tolist()
    [1, 3]
    """

    partition_merge = "keys"

    def select(self, scores, n_instances, *, seed, round_index=0, n_classes=None):
        return top_sample(scores, n_instances, random_state=seed)

    def keys(self, scores: np.ndarray, seed: int, indices: np.ndarray,
             round_index: int = 0):
        """``(tiers, keys, ties)`` of each point: its score, ties by :func:`tie_keys`."""
        return (np.ones(len(scores), np.int8), scores,
                tie_keys(check_seed(seed), indices))


class _Weighted(Selector):
    """Sample without replacement with ``p(x) ∝ w(s(x))`` by Gumbel-top-B."""

    partition_merge = "keys"
    #: Name of the sharpness parameter.
    exponent_name = "alpha"

    def exponent(self, round_index: int = 0) -> float:
        """The sharpness at ``round_index`` (a schedule is evaluated there)."""
        return resolve_exponent(getattr(self, self.exponent_name), round_index,
                                name=self.exponent_name)

    def log_weights(self, scores: np.ndarray, exponent: float) -> np.ndarray:
        """``log w`` of every point (``-inf``: never drawn while others remain)."""
        raise NotImplementedError

    def select(self, scores, n_instances, *, seed, round_index=0, n_classes=None):
        return sample_from_log_weights(self.log_weights(scores, self.exponent(round_index)),
                                       n_instances, seed)

    def keys(self, scores, seed, indices, round_index=0):
        """``(tiers, keys, None)``: Gumbel keys of the points' log-weights."""
        tiers, keys = acquisition_keys(self.log_weights(scores, self.exponent(round_index)),
                                       seed, indices)
        return tiers, keys, None


class Power(_Weighted):
    """Power sampling, ``p(x) ∝ s(x)^α`` (PowerBALD; α = 0 is uniform, α → ∞ top-B).

    Parameters
    ----------
    alpha : float or callable, default=5.0
        α >= 0, or a schedule ``round -> α`` (:class:`LinearSchedule`).

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import Power
    >>> len(set(Power(alpha=1.0).select(np.array([1.0, 2.0, 3.0, 4.0]), 3, seed=0).tolist()))
    3
    """

    exponent_name = "alpha"
    _parameter_constraints = {"alpha": _EXPONENT}

    def __init__(self, alpha: Any = 5.0) -> None:
        self.alpha = alpha

    def log_weights(self, scores, exponent):
        return power_log_weights(scores, exponent)


class Softmax(_Weighted):
    """Softmax sampling, ``p(x) ∝ exp(β s(x))``.

    Parameters
    ----------
    beta : float or callable, default=1.0
        Inverse temperature β >= 0, or a schedule.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import Softmax
    >>> Softmax(beta=1e6).select(np.array([0.1, 0.5, 0.2]), 1, seed=0).tolist()
    [1]
    """

    exponent_name = "beta"
    _parameter_constraints = {"beta": _EXPONENT}

    def __init__(self, beta: Any = 1.0) -> None:
        self.beta = beta

    def log_weights(self, scores, exponent):
        return softmax_log_weights(scores, exponent)


class Softrank(_Weighted):
    """Softrank sampling, ``p(x) ∝ rank(x)^(−β)`` with rank 1 the best (scale-free).

    Parameters
    ----------
    beta : float or callable, default=1.0
        Rank exponent β >= 0, or a schedule.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import Softrank
    >>> Softrank(beta=50.0).select(np.array([0.1, 0.5, 0.2]), 2, seed=0).tolist()
    [1, 2]
    """

    partition_merge = "global_ranks"
    exponent_name = "beta"
    _parameter_constraints = {"beta": _EXPONENT}

    def __init__(self, beta: Any = 1.0) -> None:
        self.beta = beta

    def log_weights(self, scores, exponent):
        return softrank_log_weights(scores, exponent)

    @staticmethod
    def ranked_log_weights(scores: np.ndarray, all_sorted: np.ndarray,
                           exponent: float) -> np.ndarray:
        """Log-weights of some points given every score of the pool, sorted ascending.

        ``rank = #{greater} + (#{equal} + 1) / 2`` is what ``scipy.stats.rankdata``
        gives with ``method="average"`` on the negated scores, to the last bit.
        """
        right = np.searchsorted(all_sorted, scores, side="right")
        left = np.searchsorted(all_sorted, scores, side="left")
        ranks = (len(all_sorted) - right) + ((right - left) + 1) / 2.0
        return -exponent * np.log(ranks)


class UniformTop(Selector):
    """``B`` points drawn uniformly from the top ``B · F`` scores.

    Parameters
    ----------
    factor : int, optional
        F; defaults to the number of classes C of the scored posterior.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_power.sampling import UniformTop
    >>> picks = UniformTop(factor=2).select(np.arange(10.0), 3, seed=0)
    >>> bool(set(picks.tolist()) <= {4, 5, 6, 7, 8, 9})
    True
    """

    partition_merge = "candidates"
    _parameter_constraints = {"factor": [None, Interval(numbers.Integral, 1, None,
                                                         closed="left")]}

    def __init__(self, factor: int | None = None) -> None:
        self.factor = factor

    def candidates(self, n_instances: int, n_classes: int | None) -> int:
        """Size ``B · F`` of the candidate set."""
        factor = self.factor if self.factor is not None else n_classes
        if factor is None:
            raise ValueError("UniformTop needs factor= or the number of classes.")
        return n_instances * factor

    def select(self, scores, n_instances, *, seed, round_index=0, n_classes=None):
        factor = self.factor if self.factor is not None else n_classes
        return uniform_top_sample(scores, n_instances, factor=factor, random_state=seed)
