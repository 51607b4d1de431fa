"""Greedy batch strategies: BatchBALD, BatchEIG and BatchEvaluationBALD."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._passes import pool_log_probs
from .._pool import pool_size, take_rows
from .._second_model import (FIRST_PASS, FIT, SECOND_PASS, evaluation_rows, fit_second_model,
                             training_data)
from .._targets import target_inputs
from .._timings import StepTimer
from .._validation import check_batch_size
from ..batch import batch_bald, batch_eig, batch_epig, batch_evaluation_bald
from ..batch._greedy import (
    DEFAULT_MAX_EXACT_SIZE,
    DEFAULT_MAX_MEMORY,
    DEFAULT_N_CONFIGURATIONS,
)
from ..distill import predictive_mean
from ..scores import bald, entropy
from ._base import PosteriorStrategy, SecondModelStrategy

__all__ = ["BatchBALD", "BatchEIG", "BatchEPIG", "BatchEvaluationBALD"]

_RECORDED = """
    Attributes
    ----------
    saturated_at_ : int or None
        Greedy picks made when the batch was found spent (None if it never was).
    gains_, gain_errors_ : numpy.ndarray
        Each greedy pick's information gain under the model, and its standard error.
    trace_ : skal_power.batch.GreedyTrace
        The whole record of the last query.
    timings_ : dict
        Seconds the last query spent on each step: %s and ``"greedy"``
        (the batch)."""

#: The steps of :attr:`timings_` before the greedy, by kind of strategy.
_POSTERIOR_STEPS = '``"pool pass"``'
_SECOND_MODEL_STEPS = ", ".join(f'``"{step}"``' for step in (FIRST_PASS, FIT, SECOND_PASS))
_TARGET_STEPS = '``"pool pass"``, ``"target pass"``'


def _greedy_kwargs(strategy: PosteriorStrategy, seed: int) -> dict:
    """The keywords of the greedy kernels, from a batch strategy's parameters."""
    return dict(max_exact_size=strategy.max_exact_size,
                n_configurations=strategy.n_configurations, max_memory=strategy.max_memory,
                device=strategy.device, random_state=seed, progress=strategy.progress,
                on_saturation=strategy.on_saturation,
                saturation_alpha=strategy.saturation_alpha, return_info=True)


def _timed_greedy(strategy: PosteriorStrategy, timer: StepTimer, greedy: Any, *args: Any,
                  **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Run the greedy kernel as the ``timer``'s last step, record its trace and the
    timer's seconds as fitted attributes; return (indices, scores)."""
    result = greedy(*args, **kwargs)
    timer("greedy")
    strategy.timings_ = timer.seconds
    return _record(strategy, result)


def _record(strategy: PosteriorStrategy, result: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Keep the trace of a greedy query as fitted attributes; return (indices, scores)."""
    indices, scores, trace = result
    strategy.trace_ = trace
    strategy.saturated_at_ = trace.saturated_at
    strategy.gains_ = trace.gains
    strategy.gain_errors_ = trace.gain_errors
    return indices, scores


class BatchBALD(PosteriorStrategy):
    """Greedy BatchBALD: the batch with (approximately) maximal joint mutual information.

    Unlike top-B BALD it rarely spends two labels on points that carry the
    same information (e.g. duplicates): a copy of a picked point adds little to
    the joint information. With K posterior samples that information cannot
    exceed log K; once the batch reaches it the rest is filled by power
    sampling on BALD (``on_saturation``). The whole pool's log-probs are held
    in memory; for very large pools pre-filter with :class:`PowerBALD`.

    Parameters
    ----------
    n_samples : int, default=100
        Posterior samples K for stochastic models (the seed uses 100 for batch
        methods); ensembles and committees use their members.
    max_exact_size, n_configurations, max_memory, device, progress
        See :func:`skal_power.batch.batch_bald`.
    lazy : bool, default=True
        Lazy greedy evaluation (same picks while joint entropies are exact);
        see :func:`skal_power.batch.batch_bald`.
    on_saturation : {"power", "continue", "warn", "raise"}, default="power"
        What happens once the batch's information reaches what K samples can
        tell (see :ref:`when-a-batch-is-spent`): by default a warning and the
        rest of the batch by power sampling on BALD; ``"continue"`` is the
        seed's raw objective.
    saturation_alpha : float, default=5.0
        Power exponent of that fill.
    chunk_size : int, default=8192
        Pool rows predicted at a time.
    random_state : None, int, RandomState or Generator

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import BatchBALD
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=50, min_samples_leaf=3,
    ...                                 random_state=0).fit(X[:100], y[:100])
    >>> strategy = BatchBALD(random_state=0)
    >>> indices, scores = strategy(forest, X[100:400], n_instances=3)
    >>> len(set(indices.tolist())), bool((scores[1:] >= scores[:-1]).all())
    (3, True)
    >>> strategy.saturated_at_ is None  # 3 picks are far from log 50 = 3.91 nats
    True
    """

    min_samples = 2

    def __init__(self, *, n_samples: int = 100, max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
                 n_configurations: int = DEFAULT_N_CONFIGURATIONS,
                 max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
                 progress: bool = False, lazy: bool = True, on_saturation: str = "power",
                 saturation_alpha: float = 5.0, chunk_size: int = 8192,
                 random_state: Any = None) -> None:
        self.n_samples = n_samples
        self.max_exact_size = max_exact_size
        self.n_configurations = n_configurations
        self.max_memory = max_memory
        self.device = device
        self.progress = progress
        self.lazy = lazy
        self.on_saturation = on_saturation
        self.saturation_alpha = saturation_alpha
        self.chunk_size = chunk_size
        self.random_state = random_state

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
        seeds = self._query_seeds(seed)
        timer = StepTimer()
        log_probs = np.concatenate(
            [chunk for _, chunk in self.iter_log_probs(classifier, X_pool, seed=seeds.model)])
        timer("pool pass")
        return _timed_greedy(self, timer, batch_bald, log_probs, n_instances, lazy=self.lazy,
                             **_greedy_kwargs(self, seeds.selection))


def _second_model_greedy(strategy: SecondModelStrategy, greedy: Any, classifier: Any,
                         X_pool: Any, n_instances: int, *, seed: int, X_training: Any = None,
                         y_training: Any = None,
                         distilled_estimator: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """The query of BatchEIG and BatchEvaluationBALD: M′ distilled once (or passed as
    ``distilled_estimator=``), then the greedy kernel ``greedy`` on both models' samples."""
    seeds = strategy._query_seeds(seed)
    rows = evaluation_rows(pool_size(X_pool), strategy.eval_size,
                           exclude=bool(strategy.exclude_eval), seed=seeds.eval_subset)
    n_instances = check_batch_size(n_instances, len(rows.candidates))
    passes = dict(n_samples=strategy.n_samples, chunk_size=strategy.chunk_size,
                  progress=strategy._progress("pool pass"))
    timer = StepTimer()
    log_probs = pool_log_probs(classifier, X_pool, seed=seeds.model,
                               min_samples=strategy.min_samples, owner=type(strategy).__name__,
                               **passes)
    timer(FIRST_PASS)
    if distilled_estimator is None:
        distilled_estimator = fit_second_model(
            classifier, training_data(classifier, X_training, y_training),
            take_rows(X_pool, rows.eval_indices),
            predictive_mean(log_probs[rows.eval_indices]), n_samples=strategy.n_samples,
            refit=strategy.distill_refit, params=strategy.distill_params, seed=seeds.distill)
    strategy._remember_second_model(rows.eval_indices, distilled_estimator)
    timer(FIT)
    log_probs_distilled = pool_log_probs(distilled_estimator, X_pool,
                                         seed=seeds.second_model, **passes)
    timer(SECOND_PASS)
    picked, scores = _timed_greedy(
        strategy, timer, greedy, log_probs[rows.candidates],
        log_probs_distilled[rows.candidates], n_instances,
        **_greedy_kwargs(strategy, seeds.selection))
    return rows.candidates[picked], scores


class BatchEIG(SecondModelStrategy):
    """Greedy BatchEIG: maximise ``H_M[y_batch] − H_M′[y_batch]``.

    M′ is distilled once per query (:func:`skal_power.distill.distill`), or
    passed at call time as ``distilled_estimator=``. Works with point
    estimates (K = 1).

    Parameters
    ----------
    n_samples, eval_size, exclude_eval, distill_refit, distill_params
        As in :class:`EIG`.
    max_exact_size, n_configurations, max_memory, device, progress, on_saturation,
    saturation_alpha
        See :func:`skal_power.batch.batch_eig`; a spent batch is filled by
        power sampling on EIG.
    chunk_size, random_state
        As in :class:`BALD`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import BatchEIG
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> indices, _ = BatchEIG(random_state=0)(forest, X[100:300], n_instances=3,
    ...                                         X_training=X[:100], y_training=y[:100])
    >>> len(set(indices.tolist()))
    3
    """

    def __init__(self, *, n_samples: int = 100, eval_size: Any = None,
                 exclude_eval: bool = False, distill_refit: str = "warm",
                 distill_params: dict | None = None,
                 max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
                 n_configurations: int = DEFAULT_N_CONFIGURATIONS,
                 max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
                 progress: bool = False, on_saturation: str = "power",
                 saturation_alpha: float = 5.0, chunk_size: int = 8192,
                 random_state: Any = None) -> None:
        self.n_samples = n_samples
        self.eval_size = eval_size
        self.exclude_eval = exclude_eval
        self.distill_refit = distill_refit
        self.distill_params = distill_params
        self.max_exact_size = max_exact_size
        self.n_configurations = n_configurations
        self.max_memory = max_memory
        self.device = device
        self.progress = progress
        self.on_saturation = on_saturation
        self.saturation_alpha = saturation_alpha
        self.chunk_size = chunk_size
        self.random_state = random_state

    def _score_part(self, log_probs: np.ndarray) -> np.ndarray:
        """M's (or M′'s) predictive entropy (the fill of a spent batch)."""
        return entropy(log_probs)

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index,
               X_training=None, y_training=None, distilled_estimator=None, **kwargs):
        return _second_model_greedy(
            self, batch_eig, classifier, X_pool, n_instances, seed=seed, X_training=X_training,
            y_training=y_training, distilled_estimator=distilled_estimator)


class BatchEvaluationBALD(SecondModelStrategy):
    """Greedy BatchEvaluationBALD: maximise ``BatchBALD_M − BatchBALD_M′``.

    Parameters
    ----------
    n_samples, eval_size, exclude_eval, distill_refit, distill_params
        As in :class:`EvaluationBALD`.
    max_exact_size, n_configurations, max_memory, device, progress, on_saturation,
    saturation_alpha
        See :func:`skal_power.batch.batch_evaluation_bald`; a spent batch is
        filled by power sampling on EvaluationBALD, and no greedy pick is a
        point uninformative under M (the seed's raw objective:
        ``on_saturation="continue"``).
    chunk_size, random_state
        As in :class:`BALD`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import BatchEvaluationBALD
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> indices, _ = BatchEvaluationBALD(random_state=0)(
    ...     forest, X[100:300], n_instances=3, X_training=X[:100], y_training=y[:100])
    >>> len(set(indices.tolist()))
    3
    """

    def __init__(self, *, n_samples: int = 100, eval_size: Any = None,
                 exclude_eval: bool = False, distill_refit: str = "warm",
                 distill_params: dict | None = None,
                 max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
                 n_configurations: int = DEFAULT_N_CONFIGURATIONS,
                 max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
                 progress: bool = False, on_saturation: str = "power",
                 saturation_alpha: float = 5.0, chunk_size: int = 8192,
                 random_state: Any = None) -> None:
        self.n_samples = n_samples
        self.eval_size = eval_size
        self.exclude_eval = exclude_eval
        self.distill_refit = distill_refit
        self.distill_params = distill_params
        self.max_exact_size = max_exact_size
        self.n_configurations = n_configurations
        self.max_memory = max_memory
        self.device = device
        self.progress = progress
        self.on_saturation = on_saturation
        self.saturation_alpha = saturation_alpha
        self.chunk_size = chunk_size
        self.random_state = random_state

    min_samples = 2

    def _score_part(self, log_probs: np.ndarray) -> np.ndarray:
        """M's (or M′'s) BALD."""
        return bald(log_probs)

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index,
               X_training=None, y_training=None, distilled_estimator=None, **kwargs):
        return _second_model_greedy(
            self, batch_evaluation_bald, classifier, X_pool, n_instances, seed=seed, X_training=X_training,
            y_training=y_training, distilled_estimator=distilled_estimator)


class BatchEPIG(PosteriorStrategy):
    """Greedy BatchEPIG: the batch whose joint labels say most about the target labels.

    ``mean_j I[y_batch; y*_j]`` over the target points (the joint form of
    :class:`EPIG`), maximised one point at a time (:func:`skal_power.batch.batch_epig`).
    Each step costs about ``M + 1`` BatchBALD steps for M targets: keep
    ``target_size`` small.

    Parameters
    ----------
    X_target : array-like or callable, optional
        Target inputs, a sampler ``rng -> rows``, or (None) ``target_size``
        points of the pool, as in :class:`~skal_power.strategies.TargetAcquisition`.
    target_size : int, default=20
    n_samples : int, default=100
        Posterior samples K for stochastic models.
    max_exact_size, n_configurations, max_memory, device, progress, on_saturation,
    saturation_alpha
        See :func:`skal_power.batch.batch_bald`; a spent batch is filled by
        power sampling on EPIG.
    chunk_size : int, default=8192
    random_state : None, int, RandomState or Generator

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power.strategies import BatchEPIG
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=50, min_samples_leaf=3,
    ...                                 random_state=0).fit(X[:100], y[:100])
    >>> indices, scores = BatchEPIG(target_size=5, random_state=0)(forest, X[100:300], 3)
    >>> len(set(indices.tolist())), bool((scores[1:] >= scores[:-1] - 1e-9).all())
    (3, True)
    """

    min_samples = 2
    _seed_layout = "targets"

    def __init__(self, *, X_target: Any = None, target_size: int = 20, n_samples: int = 100,
                 max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
                 n_configurations: int = DEFAULT_N_CONFIGURATIONS,
                 max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
                 progress: bool = False, on_saturation: str = "power",
                 saturation_alpha: float = 5.0, chunk_size: int = 8192,
                 random_state: Any = None) -> None:
        self.X_target = X_target
        self.target_size = target_size
        self.n_samples = n_samples
        self.max_exact_size = max_exact_size
        self.n_configurations = n_configurations
        self.max_memory = max_memory
        self.device = device
        self.progress = progress
        self.on_saturation = on_saturation
        self.saturation_alpha = saturation_alpha
        self.chunk_size = chunk_size
        self.random_state = random_state

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
        seeds = self._query_seeds(seed)
        targets = target_inputs(self.X_target, self.target_size, X_pool, seeds.targets)
        timer = StepTimer()
        log_probs = np.concatenate(
            [chunk for _, chunk in self.iter_log_probs(classifier, X_pool, seed=seeds.model)])
        timer("pool pass")
        log_probs_target = np.concatenate(
            [chunk for _, chunk in self.iter_log_probs(classifier, targets, seed=seeds.model)])
        timer("target pass")
        return _timed_greedy(self, timer, batch_epig, log_probs, log_probs_target,
                             n_instances, **_greedy_kwargs(self, seeds.selection))


for _class, _steps in ((BatchBALD, _POSTERIOR_STEPS), (BatchEIG, _SECOND_MODEL_STEPS),
                       (BatchEvaluationBALD, _SECOND_MODEL_STEPS), (BatchEPIG, _TARGET_STEPS)):
    # the recorded attributes, before the Examples section of each docstring
    _class.__doc__ = _class.__doc__.replace(
        "\n    Examples\n", _RECORDED % _steps + "\n\n    Examples\n", 1)
del _class, _steps
