"""Selectors: what turns a vector of acquisition scores and a seed into a batch.

A strategy draws its batch with a selector (its ``get_selector()`` hook).
Each selector also has a *partition contract*, all a pool split into parts
(a Dask pool) needs of it: :meth:`Selector.partition_candidates` gives the
keys of some points as :class:`~skal_power.sampling.Candidates`,
:meth:`Selector.n_kept` how many each part keeps, and
:meth:`Selector.merged_batch` the batch from the merged candidates. For
``partition_merge == "keys"`` the keys of a point depend on its own score and
its global index only (Gumbel-top-B for the stochastic rules); Softrank needs
every score's rank, so it merges with one extra pass that sorts all scores.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from .._param_validation import Interval, Schedule, validate_parameter_constraints
from .._validation import check_seed
from ._candidates import Candidates
from ._gumbel import acquisition_keys, tie_keys, top_keys
from ._rules import (
    AcquisitionWarning,
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
    #: Whether each point's key is a non-decreasing function of its score and its
    #: position alone (tier first, then key; Top, Power and Softmax). An upper bound
    #: on a score then bounds the point's rank, and the evaluation strategies score
    #: with M′ only the candidates whose bound can reach the batch
    #: (:mod:`skal_power._bounded_batch`). A subclass whose keys fall as its score
    #: grows must set it to False.
    monotone_keys = False
    #: Whether ``select`` needs the number of classes C of the scored posterior.
    needs_n_classes = False
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

    # -- the partition contract: all a pool split into parts (Dask) needs of a selector --
    #: ``partition_candidates`` needs every score of the pool, sorted (global ranks).
    needs_sorted_scores = False

    def n_kept(self, n_instances: int, n_classes: int | None = None) -> int:
        """How many candidates each part of a pool keeps (and each merge of parts)."""
        return n_instances

    def partition_candidates(self, scores: np.ndarray, indices: np.ndarray, *, seed: int,
                             round_index: int = 0, positions: np.ndarray | None = None,
                             sorted_scores: np.ndarray | None = None) -> Candidates:
        """The keys of some points of the pool, as :class:`Candidates` (not yet cut).

        ``indices`` are the points' pool positions (what the batch returns),
        ``positions`` what their randomness is keyed by (the position among the
        scored candidates; defaults to ``indices``). The best
        :meth:`n_kept` of the union of every part's candidates, merged by
        :func:`~skal_power.sampling.merge_candidates`, are those of the whole pool.
        """
        raise NotImplementedError(f"{type(self).__name__} does not merge across partitions.")

    def merged_batch(self, merged: Candidates, n_instances: int, *, seed: int,
                     n_points: int, n_positive: int) -> tuple[np.ndarray, np.ndarray]:
        """The batch ``(indices, scores)`` from the merged candidates of every part.

        ``n_points`` and ``n_positive`` count the pool's points and those of
        positive weight (tier 1).
        """
        return merged.indices[:n_instances], merged.scores[:n_instances]


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
    monotone_keys = True

    def select(self, scores, n_instances, *, seed, round_index=0, n_classes=None):
        return top_sample(scores, n_instances, random_state=seed)

    def partition_candidates(self, scores, indices, *, seed, round_index=0, positions=None,
                             sorted_scores=None):
        """Each point keyed by its score, exact ties by :func:`tie_keys` (as ``select``)."""
        positions = indices if positions is None else positions
        return Candidates(indices, np.ones(len(scores), np.int8), scores, scores,
                          tie_keys(check_seed(seed), positions))


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

    def _partition_log_weights(self, scores, exponent, sorted_scores):
        return self.log_weights(scores, exponent)

    def partition_candidates(self, scores, indices, *, seed, round_index=0, positions=None,
                             sorted_scores=None):
        """Gumbel keys of the points' log-weights, the noise of each point's position."""
        positions = indices if positions is None else positions
        log_weights = self._partition_log_weights(scores, self.exponent(round_index),
                                                  sorted_scores)
        tiers, keys = acquisition_keys(log_weights, seed, positions)
        return Candidates.ranked(indices, tiers, keys, scores)

    def merged_batch(self, merged, n_instances, *, seed, n_points, n_positive):
        """The first ``n_instances``; warns as ``select`` when too few weights are positive."""
        if n_positive < n_instances:
            warnings.warn(
                f"Only {n_positive} of {n_points} pool points have a positive acquisition "
                f"weight; the other {n_instances - n_positive} points of the batch were drawn "
                "uniformly from the rest.",
                AcquisitionWarning,
                stacklevel=7,  # the user's call of the strategy on a Dask pool
            )
        return super().merged_batch(merged, n_instances, seed=seed, n_points=n_points,
                                    n_positive=n_positive)


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

    monotone_keys = True
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

    monotone_keys = True
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
    needs_sorted_scores = True
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

    def _partition_log_weights(self, scores, exponent, sorted_scores):
        return self.ranked_log_weights(scores, sorted_scores, exponent)


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

    @property
    def needs_n_classes(self) -> bool:
        """F defaults to the number of classes C."""
        return self.factor is None

    def candidates(self, n_instances: int, n_classes: int | None) -> int:
        """Size ``B · F`` of the candidate set."""
        factor = self.factor if self.factor is not None else n_classes
        if factor is None:
            raise ValueError("UniformTop needs factor= or the number of classes.")
        return n_instances * factor

    def select(self, scores, n_instances, *, seed, round_index=0, n_classes=None):
        factor = self.factor if self.factor is not None else n_classes
        return uniform_top_sample(scores, n_instances, factor=factor, random_state=seed)

    def n_kept(self, n_instances, n_classes=None):
        """The candidate set, ``B · F``."""
        return self.candidates(n_instances, n_classes)

    def partition_candidates(self, scores, indices, *, seed, round_index=0, positions=None,
                             sorted_scores=None):
        """Each point keyed by its score, ties in index order (as ``select``'s candidates)."""
        return Candidates.ranked(indices, np.ones(len(scores), np.int8), scores, scores)

    def merged_batch(self, merged, n_instances, *, seed, n_points, n_positive):
        """``n_instances`` drawn uniformly from the merged ``B · F`` candidates."""
        tiers, keys = acquisition_keys(np.zeros(len(merged.indices)), check_seed(seed),
                                       merged.indices)
        chosen = top_keys(np.arange(len(merged.indices)), tiers, keys, n_instances).indices
        return merged.indices[chosen], merged.scores[chosen]
