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
from typing import Any, Callable, Iterator

import numpy as np
from sklearn.base import BaseEstimator

from .._bounded_batch import BoundedBatch
from .._passes import sampled_pass
from .._pool import as_row_pool, pool_size, take_rows
from .._pool_types import register_pool_type, registered_query
from .._second_model import evaluation_scores, training_data
from .._seeds import QuerySeeds, query_seeds
from .._validation import check_batch_size, check_seed, query_seed
from ..adapters import n_classes_of
from ..sampling import Selector

__all__ = ["QueryStrategy", "PosteriorStrategy", "SecondModelStrategy", "check_selector",
           "register_pool_type"]


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
    seeds_ : QuerySeeds
        The named seeds of the last query (posterior samples, selection, ...),
        for rebuilding what it drew.

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

    @classmethod
    def parameter_constraints(cls, *, strict: bool = True) -> dict[str, list]:
        """The constraint list of each ``__init__`` parameter, by name.

        ``strict=False`` leaves out a parameter with no constraint (a strategy of
        one's own may have some) instead of raising ``KeyError``.

        Examples
        --------
        >>> from skal_power import PowerBALD
        >>> print(PowerBALD.parameter_constraints()["n_samples"])
        [<Interval: an int in the range [1, inf)>]
        """
        from .._strategy_parameters import constraints_for

        return constraints_for(cls, strict=strict)

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

        # not strict: a strategy of one's own may have parameters the table does not
        # know; the common checks (skal_power.testing) are strict about them
        validate_parameter_constraints(self.parameter_constraints(strict=False),
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

    #: The layout of this strategy's per-query seeds (:func:`skal_power._seeds.query_seeds`).
    _seed_layout = "posterior"

    def _query_seeds(self, seed: int) -> QuerySeeds:
        """The named seeds of a query, kept as ``seeds_`` (what each random draw used)."""
        self.seeds_ = query_seeds(seed, self._seed_layout)
        return self.seeds_


def check_selector(selector: Any, *, name: str = "selector") -> Selector:
    """``selector`` checked (``None`` is :class:`~skal_power.sampling.Top`)."""
    from ..sampling import Top

    if selector is None:
        return Top()
    if not isinstance(selector, Selector):
        raise TypeError(f"{name} must be a skal_power.sampling.Selector (Top(), Power(5.0), "
                        f"...); got {selector!r}.")
    selector.check()
    return selector


class PosteriorStrategy(QueryStrategy):
    """A strategy that scores pool points from sampled predictions, then selects a batch.

    The pool is processed ``chunk_size`` rows at a time, with the same posterior
    samples for every chunk, so memory is bounded by the chunk, not by N. A
    subclass names its two parts with hooks: ``_score_log_probs(log_probs)``
    (``(N, K, C) -> (N,)``, higher is better) and either ``get_selector()`` (a
    :class:`~skal_power.sampling.Selector`) or ``_select(scores, n_instances, *,
    seed, round_index)``.

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

    def _progress(self, what: str = "pool") -> str | None:
        """The description of this strategy's bars, or None when ``progress`` is off."""
        return f"{type(self).__name__} {what}" if getattr(self, "progress", False) else None

    def _sampled_pass(self, estimator: Any, X_pool: Any, rows: Any = None, *, seed: int,
                      what: str = "pool", check: bool = True):
        """:func:`skal_power._passes.sampled_pass` with this strategy's settings."""
        return sampled_pass(estimator, X_pool, rows, n_samples=self.n_samples,
                            chunk_size=self.chunk_size, seed=seed,
                            progress=self._progress(what),
                            min_samples=self.min_samples if check else 1,
                            owner=type(self).__name__)

    def iter_log_probs(self, classifier: Any, X_pool: Any, *,
                       seed: int) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(start, log_probs_chunk)`` over the pool, chunk by chunk."""
        for start, _, log_probs in self._sampled_pass(classifier, as_row_pool(X_pool),
                                                      seed=seed):
            yield start, log_probs

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

    def get_selector(self) -> Selector:
        """The selector this strategy draws its batch with."""
        raise NotImplementedError(f"{type(self).__name__} names no selector: implement "
                                  "get_selector() or _select().")

    def _select(self, scores: np.ndarray, n_instances: int, *, seed: int,
                round_index: int) -> np.ndarray:
        raise NotImplementedError

    def _select_batch(self, classifier: Any, X_pool: Any, scores: np.ndarray,
                      n_instances: int, *, seed: int, round_index: int) -> np.ndarray:
        """The batch: ``_select`` if the class defines one, else its selector's draw."""
        if type(self)._select is not PosteriorStrategy._select:
            return self._select(scores, n_instances, seed=seed, round_index=round_index)
        selector = self.get_selector()
        n_classes = None
        if selector.needs_n_classes:
            n_classes = n_classes_of(classifier, take_rows(X_pool, np.arange(1)))
        return selector.select(scores, n_instances, seed=seed, round_index=round_index,
                               n_classes=n_classes)

    def _candidate_scores(self, classifier: Any, X_pool: Any, seeds: QuerySeeds,
                          **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        """The pool positions that may join the batch, and their scores."""
        scores = self.score_pool(classifier, X_pool, seed=seeds.model, **kwargs)
        return np.arange(len(scores)), scores

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
        seeds = self._query_seeds(seed)
        candidates, scores = self._candidate_scores(classifier, X_pool, seeds, **kwargs)
        return self._drawn_batch(classifier, X_pool, candidates, scores, n_instances,
                                 seeds=seeds, round_index=round_index)

    def _drawn_batch(self, classifier, X_pool, candidates, scores, n_instances, *, seeds,
                     round_index):
        """The batch the selection draws from the scored candidates, and its scores."""
        n_instances = check_batch_size(n_instances, len(candidates))
        picked = self._select_batch(classifier, X_pool, scores, n_instances,
                                    seed=seeds.selection, round_index=round_index)
        return candidates[picked], scores[picked]


class SecondModelStrategy(PosteriorStrategy):
    """A strategy whose score compares the model M with the pool-augmented model M′.

    EIG, EvaluationBALD, their power and batch forms. Each query distils exactly
    one M′ (:func:`skal_power.distill.distill`) on ``D_train ∪ D_eval`` and keeps
    it as ``distilled_``; the steps and their seeds are those of
    :mod:`skal_power._second_model`. The hook ``_score_part(log_probs)`` is one
    model's part of the score (M's minus M′'s is the score).

    The training data of M comes from a modAL ``ActiveLearner`` (its
    ``X_training`` and ``y_training``) or from the call's ``X_training`` and
    ``y_training`` keywords, which win.

    Examples
    --------
    A strategy of one's own: softmax sampling on how much M′ lowers the
    expected entropy (the aleatoric part), a score with no named class:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_power.sampling import Softmax
    >>> from skal_power.scores import expected_entropy
    >>> from skal_power.strategies import SecondModelStrategy
    >>> class NoiseDrop(SecondModelStrategy):
    ...     def _score_part(self, log_probs):
    ...         return expected_entropy(log_probs)
    ...     def get_selector(self):
    ...         return Softmax(beta=10.0)
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=1000).fit(X[::10], y[::10])
    >>> strategy = NoiseDrop(eval_size=50, random_state=0)
    >>> indices, _ = strategy(model, X, 3, X_training=X[::10], y_training=y[::10])
    >>> indices.shape, len(strategy.eval_indices_)
    ((3,), 50)
    """

    _seed_layout = "second_model"
    #: Whether ``_score_part`` is never negative (an entropy, a clamped BALD). M's part
    #: then bounds each score from above, and with a selector of monotone keys (Top,
    #: Power, Softmax) a query's pass of M′ scores only the candidates that can join
    #: the batch: the same batch, at a fraction of the pass (``second_pass_rows_``).
    part_is_nonnegative = False

    def __init__(self, *, n_samples: int = 20, eval_size: Any = None,
                 exclude_eval: bool = False, distill_refit: str = "warm",
                 distill_params: dict | None = None, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.n_samples = n_samples
        self.eval_size = eval_size
        self.exclude_eval = exclude_eval
        self.distill_refit = distill_refit
        self.distill_params = distill_params
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    def _score_part(self, log_probs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _check_params(self) -> None:
        super()._check_params()
        if self.exclude_eval and self.eval_size is None:  # the one rule across parameters
            raise ValueError(
                "exclude_eval=True needs eval_size: with the whole pool as evaluation set no "
                "candidate would be left."
            )

    def score_pool(self, classifier: Any, X_pool: Any, *, seed: int | None = None,
                   X_training: Any = None, y_training: Any = None,
                   **kwargs: Any) -> np.ndarray:
        """Score every pool point (distils M′ on the evaluation set first).

        Parameters
        ----------
        classifier : fitted posterior or modAL ActiveLearner
        X_pool : array-like of shape (N, n_features)
        seed : int, optional
            The query's seed (:func:`skal_power._seeds.query_seeds`, layout
            ``"second_model"``); drawn from ``random_state`` if omitted.
        X_training, y_training : array-like, optional
            The training data of M (taken from a modAL learner if omitted).

        Returns
        -------
        numpy.ndarray of shape (N,)
        """
        self._check_params()
        seed = check_seed(self.random_state) if seed is None else seed
        return self._second_model_scores(classifier, X_pool, query_seeds(seed, "second_model"),
                                         X_training, y_training, exclude=False).scores

    def _candidate_scores(self, classifier, X_pool, seeds, X_training=None, y_training=None,
                          **kwargs):
        result = self._second_model_scores(classifier, X_pool, seeds, X_training, y_training,
                                           exclude=bool(self.exclude_eval))
        return result.candidates, result.scores

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index, X_training=None,
               y_training=None, **kwargs):
        if not self._bounds_can_settle_batch():
            return super()._query(classifier, X_pool, n_instances, seed=seed,
                                  round_index=round_index, X_training=X_training,
                                  y_training=y_training, **kwargs)
        seeds = self._query_seeds(seed)
        batch = BoundedBatch(self.get_selector(), n_instances, seeds.selection, round_index)
        result = self._second_model_scores(classifier, X_pool, seeds, X_training, y_training,
                                           exclude=bool(self.exclude_eval), batch=batch)
        if result.picked is None:  # the bounds could not decide: every candidate was scored
            return self._drawn_batch(classifier, X_pool, result.candidates, result.scores,
                                     n_instances, seeds=seeds, round_index=round_index)
        return result.candidates[result.picked], result.scores[result.picked]

    def _bounds_can_settle_batch(self) -> bool:
        """Whether M′ may score only the candidates whose bound can reach the batch: a
        part that is never negative, the inherited candidates and selection, and a
        selector with monotone keys."""
        klass = type(self)
        return (self.part_is_nonnegative and klass._select is PosteriorStrategy._select
                and klass._candidate_scores is SecondModelStrategy._candidate_scores
                and self.get_selector().monotone_keys)

    def _second_model_scores(self, classifier, X_pool, seeds, X_training, y_training, *,
                             exclude, batch=None):
        training = training_data(classifier, X_training, y_training)
        result = evaluation_scores(
            classifier, as_row_pool(X_pool), training, score_part=self._score_part,
            seeds=seeds, eval_size=self.eval_size, exclude=exclude, n_samples=self.n_samples,
            chunk_size=self.chunk_size, refit=self.distill_refit, params=self.distill_params,
            progress=self._progress("pool pass"), min_samples=self.min_samples,
            owner=type(self).__name__, batch=batch)
        self._remember_second_model(result.eval_indices, result.distilled)
        self.timings_ = result.timings
        self.second_pass_rows_ = result.n_scored
        return result

    def _remember_second_model(self, eval_indices: np.ndarray, distilled: Any) -> None:
        """Keep the query's evaluation rows and M′ as fitted attributes (every path)."""
        self.eval_indices_ = eval_indices
        self.distilled_ = distilled
