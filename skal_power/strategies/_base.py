"""Base classes shared by every query strategy.

A strategy is a small scikit-learn-style object (parameters stored untouched in
``__init__``, ``get_params``/``set_params``/``clone`` work) that is also a
callable with modAL's ``query_strategy`` signature::

    indices, scores = strategy(classifier, X_pool, n_instances=10)

It always returns a 2-tuple, so modAL's ``query`` unpacks it on the first call
and never calls the strategy twice.
"""

from __future__ import annotations

import copy
import inspect
import sys
from typing import Any, Callable, Iterator

import numpy as np
from sklearn.base import BaseEstimator

from .._pool import as_row_pool, pool_size, row_slice
from .._pool_types import register_pool_type, registered_query
from .._validation import (
    check_batch_size,
    check_bool,
    check_positive_int,
    check_seed,
    query_seed,
    split_seed,
)
from ..adapters import sampled_log_proba, too_few_samples

__all__ = ["QueryStrategy", "PosteriorStrategy", "pool_size", "pool_rows", "register_pool_type",
           "split_seed"]

#: Rows ``start:stop`` of a pool (the name strategies have always used).
pool_rows = row_slice


class _Summary:
    """Stands in for a bulky parameter in a strategy's repr: its repr is a short text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _summarised(value: Any) -> Any:
    """``value``, or a one-line summary of it if it holds rows (arrays, tensors, frames)."""
    shape = getattr(value, "shape", None)
    if not isinstance(shape, tuple) or len(shape) == 0:
        return value
    dtype = getattr(value, "dtype", None)
    shape_text = "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
    return _Summary(f"<{type(value).__name__} of shape {shape_text}"
                    + (f", {dtype}>" if dtype is not None else ">"))


class QueryStrategy(BaseEstimator):
    """Base class of all strategies: modAL call contract and input checks.

    Subclasses implement ``_query(classifier, X_pool, n_instances, seed,
    round_index, **kwargs) -> (indices, scores)``.

    Attributes
    ----------
    n_queries_ : int
        Number of completed queries; the default round index of schedules.

    Examples
    --------
    A strategy that queries the first rows of the pool:

    >>> import numpy as np
    >>> from skal_power import QueryStrategy
    >>> class FirstRows(QueryStrategy):
    ...     def __init__(self, random_state=None):
    ...         self.random_state = random_state
    ...     def _query(self, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
    ...         return np.arange(n_instances), np.zeros(n_instances)
    >>> FirstRows()(None, np.zeros((5, 2)), n_instances=2)
    (array([0, 1]), array([0., 0.]))
    """

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        """scikit-learn's repr, with array parameters (``X_target``) as their type and shape.

        Examples
        --------
        >>> import numpy as np
        >>> from skal_power import EPIG
        >>> EPIG(X_target=np.zeros((300, 64)), random_state=0)
        EPIG(X_target=<ndarray of shape (300, 64), float64>, random_state=0)
        """
        params = self.get_params(deep=False)
        shown = {name: _summarised(value) for name, value in params.items()}
        if all(shown[name] is params[name] for name in params):
            return super().__repr__(N_CHAR_MAX)
        stand_in = copy.copy(self)
        for name, value in shown.items():
            setattr(stand_in, name, value)
        return BaseEstimator.__repr__(stand_in, N_CHAR_MAX)

    def __call__(self, classifier: Any, X_pool: Any, n_instances: int = 1,
                 **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        """Select ``n_instances`` points of ``X_pool`` to label.

        Parameters
        ----------
        classifier : estimator, modAL learner or committee
            A fitted posterior (see :func:`skal_power.adapters.sampled_log_proba`).
        X_pool : array-like of shape (N, n_features)
            The unlabelled pool; it is never modified. A ``dask.array.Array``
            or ``dask.dataframe.DataFrame`` is scored partition by partition
            where it lives (see :mod:`skal_power.distributed`).
        n_instances : int, default=1
            Batch size, ``1 <= n_instances <= N``.
        **kwargs
            ``round`` overrides the round index used by α/β schedules;
            other keywords are strategy specific.

        Returns
        -------
        indices : numpy.ndarray of shape (n_instances,)
            Positions in ``X_pool``, in selection order.
        scores : numpy.ndarray of shape (n_instances,)
            The acquisition score of each selected point.
        """
        self._check_keywords(kwargs)
        query = registered_query(self, X_pool)
        if query is None:
            query = self._query
            X_pool = as_row_pool(X_pool)
            n_instances = check_batch_size(n_instances, pool_size(X_pool))
        n_queries = getattr(self, "n_queries_", 0)
        round_index = kwargs.pop("round", None)
        if round_index is None:
            round_index = n_queries
        self._check_params()
        seed = query_seed(self.random_state, n_queries)
        indices, scores = query(
            classifier, X_pool, n_instances, seed=seed, round_index=int(round_index), **kwargs
        )
        self.n_queries_ = getattr(self, "n_queries_", 0) + 1
        return np.asarray(indices, dtype=np.intp), np.asarray(scores, dtype=np.float64)

    #: Former per-class parameter checks; unused: every ``__init__`` parameter is
    #: checked against :data:`skal_power.strategies._parameters.PARAMETER_CONSTRAINTS`.
    _constraints: dict[str, Callable] = {}

    @classmethod
    def parameter_constraints(cls) -> dict[str, list]:
        """The constraint list of each ``__init__`` parameter, by name.

        Examples
        --------
        >>> from skal_power import PowerBALD
        >>> print(PowerBALD.parameter_constraints()["n_samples"])
        [<Interval: an int in the range [1, inf)>]
        """
        from ._parameters import constraints_for

        return constraints_for(cls)

    @classmethod
    def parameter_checks(cls) -> dict[str, Callable]:
        """A check ``check(value, name=name)`` of every ``__init__`` parameter, by name.

        Each raises :class:`~skal_power._param_validation.InvalidParameterError`
        (a ``ValueError`` and a ``TypeError``) naming the parameter and the class.

        Examples
        --------
        >>> from skal_power import PowerBALD
        >>> sorted(PowerBALD.parameter_checks())
        ['alpha', 'chunk_size', 'n_samples', 'progress', 'random_state']
        >>> PowerBALD.parameter_checks()["alpha"](-1, name="alpha")
        Traceback (most recent call last):
        ...
        skal_power._param_validation.InvalidParameterError: The 'alpha' parameter of PowerBALD must be a float in the range [0, inf) or a callable (a schedule round -> value); got -1.
        """
        from .._param_validation import validate_parameter_constraints

        def check_for(constraints: list) -> Callable:
            def check(value: Any, *, name: str) -> None:
                validate_parameter_constraints({name: constraints}, {name: value}, cls.__name__)
            return check

        return {name: check_for(constraints)
                for name, constraints in cls.parameter_constraints().items()}

    def _check_params(self) -> None:
        """Validate constructor parameters (called at query time, sklearn style)."""
        from .._param_validation import validate_parameter_constraints

        validate_parameter_constraints(self.parameter_constraints(),
                                       self.get_params(deep=False), type(self).__name__)

    @classmethod
    def query_keywords(cls) -> list[str]:
        """Keywords a call of this strategy accepts besides ``n_instances``.

        ``round`` for every strategy, plus the named keyword parameters of its
        ``_query`` (and, when ``_query`` passes ``**kwargs`` on, of ``score_pool``).

        Examples
        --------
        >>> from skal_power import EIG, PowerBALD
        >>> PowerBALD.query_keywords()
        ['round']
        >>> EIG.query_keywords()
        ['X_training', 'round', 'y_training']
        """
        fixed = {"self", "classifier", "X_pool", "n_instances", "seed", "round_index"}
        names = {"round"}
        for method in (cls._query, getattr(cls, "score_pool", None)):
            if method is None:
                continue
            parameters = inspect.signature(method).parameters.values()
            names |= {p.name for p in parameters
                      if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)} - fixed
            if not any(p.kind is p.VAR_KEYWORD for p in parameters) or method is not cls._query:
                break
        return sorted(names)

    def _check_keywords(self, kwargs: dict) -> None:
        unknown = sorted(set(kwargs) - set(self.query_keywords()))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s) "
                f"{', '.join(map(repr, unknown))}; it accepts n_instances and "
                f"{', '.join(map(repr, self.query_keywords()))}."
            )

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
        raise NotImplementedError


class PosteriorStrategy(QueryStrategy):
    """A strategy that scores pool points from sampled predictions.

    The pool is processed ``chunk_size`` rows at a time, with the same posterior
    samples for every chunk, so memory is bounded by the chunk, not by N.
    Subclasses implement ``_score_log_probs`` and ``_select``.

    Examples
    --------
    A strategy that queries the points the posterior samples are surest about:

    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power.scores import expected_entropy
    >>> from skal_power.strategies import PosteriorStrategy
    >>> class LeastNoise(PosteriorStrategy):
    ...     def _score_log_probs(self, log_probs):
    ...         return -expected_entropy(log_probs)
    ...     def _select(self, scores, n_instances, *, seed, round_index):
    ...         return np.argsort(-scores, kind="stable")[:n_instances]
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    >>> indices, scores = LeastNoise()(forest, X, n_instances=3)
    >>> indices.shape, bool((scores <= 0).all())
    ((3,), True)
    """

    #: Fewest posterior samples the score needs (2 for BALD-family scores).
    min_samples = 1

    def __init__(self, *, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    _constraints = {"n_samples": check_positive_int, "chunk_size": check_positive_int,
                    "progress": check_bool}

    def _progress_bar(self, total: int, what: str = "pool"):
        """A tqdm bar over ``total`` pool rows when ``progress`` is on, else None.

        The form of the experiment runner's bars: ``tqdm.auto``, on stderr, not
        left behind once done.
        """
        if not getattr(self, "progress", False):
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=f"{type(self).__name__} {what}", unit="row",
                    leave=False, file=sys.stderr)

    def iter_log_probs(self, classifier: Any, X_pool: Any, *,
                       seed: int) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(start, log_probs_chunk)`` over the pool, chunk by chunk."""
        X_pool = as_row_pool(X_pool)
        n_pool = pool_size(X_pool)
        bar = self._progress_bar(n_pool)
        try:
            for start in range(0, n_pool, self.chunk_size):
                chunk = pool_rows(X_pool, start, min(start + self.chunk_size, n_pool))
                log_probs = sampled_log_proba(
                    classifier, chunk, n_samples=self.n_samples, random_state=seed
                )
                self._check_sample_count(classifier, log_probs)
                yield start, log_probs
                if bar is not None:
                    bar.update(len(log_probs))
        finally:
            if bar is not None:
                bar.close()

    def _check_sample_count(self, classifier: Any, log_probs: np.ndarray) -> None:
        """Refuse fewer posterior samples than the score needs, naming the model and the fix.

        Scores that average over samples would otherwise quietly give 0 everywhere
        (EPIG with K = 1), and the batch would be the seeded tie-break.
        """
        n_samples = log_probs.shape[1] if np.ndim(log_probs) == 3 else None
        if n_samples is not None and n_samples < self.min_samples:
            raise ValueError(too_few_samples(classifier, n_samples, self.min_samples,
                                             type(self).__name__))

    def score_pool(self, classifier: Any, X_pool: Any, *, seed: int | None = None,
                   **kwargs: Any) -> np.ndarray:
        """Acquisition score of every pool point, shape ``(N,)``.

        Parameters
        ----------
        classifier : fitted posterior
        X_pool : array-like of shape (N, n_features)
        seed : int, optional
            Seed of the posterior samples; drawn from ``random_state`` if omitted.
        """
        if seed is None:
            seed = check_seed(self.random_state)
        self._check_params()
        scores = np.empty(pool_size(X_pool), dtype=np.float64)
        for start, log_probs in self.iter_log_probs(classifier, X_pool, seed=seed):
            scores[start:start + len(log_probs)] = self._score_log_probs(log_probs)
        return scores

    def _score_log_probs(self, log_probs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _select(self, scores: np.ndarray, n_instances: int, *, seed: int,
                round_index: int) -> np.ndarray:
        raise NotImplementedError

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
        model_seed, selection_seed = split_seed(seed, 2)
        scores = self.score_pool(classifier, X_pool, seed=model_seed, **kwargs)
        indices = self._select(scores, n_instances, seed=selection_seed, round_index=round_index)
        return indices, scores[indices]
