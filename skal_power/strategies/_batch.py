"""Greedy batch strategies: BatchBALD, BatchEIG and BatchEvaluationBALD."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._pool import pool_size, take_rows
from .._validation import (
    check_batch_size,
    check_bool,
    check_non_negative,
    check_optional_positive_int,
    check_positive_int,
    split_seed,
)
from ..adapters import sampled_log_proba
from ..batch import batch_bald, batch_eig, batch_epig, batch_evaluation_bald
from ..batch._greedy import (
    DEFAULT_MAX_EXACT_SIZE,
    DEFAULT_MAX_MEMORY,
    DEFAULT_N_CONFIGURATIONS,
)
from ..batch._saturation import check_on_saturation
from ..distill import eval_subset, predictive_mean
from ._base import PosteriorStrategy
from ._epig import check_targets, target_inputs
from ._evaluation import _EvaluationBase
from ._second_model import training_data

__all__ = ["BatchBALD", "BatchEIG", "BatchEPIG", "BatchEvaluationBALD"]


class _GreedySettings:
    """Settings of the greedy batch kernels, and what a query of them recorded.

    After a query, ``saturated_at_`` is the number of greedy picks when the
    batch was found spent (None if it never was), ``gains_`` and
    ``gain_errors_`` each greedy pick's information gain under the model and
    its standard error, and ``trace_`` the whole
    :class:`~skal_power.batch.GreedyTrace`.
    """

    _constraints = {"n_configurations": check_positive_int,
                    "max_memory": check_optional_positive_int,
                    "max_exact_size": check_optional_positive_int, "lazy": check_bool,
                    "on_saturation": check_on_saturation,
                    "saturation_alpha": check_non_negative}

    def _greedy_kwargs(self, seed: int) -> dict:
        return dict(max_exact_size=self.max_exact_size, n_configurations=self.n_configurations,
                    max_memory=self.max_memory, device=self.device, random_state=seed,
                    progress=self.progress, on_saturation=self.on_saturation,
                    saturation_alpha=self.saturation_alpha, return_info=True)

    def _record(self, result):
        """Keep the trace of a greedy query as fitted attributes; return (indices, scores)."""
        indices, scores, trace = result
        self.trace_ = trace
        self.saturated_at_ = trace.saturated_at
        self.gains_ = trace.gains
        self.gain_errors_ = trace.gain_errors
        return indices, scores


class BatchBALD(_GreedySettings, PosteriorStrategy):
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
        super().__init__(n_samples=n_samples, chunk_size=chunk_size, random_state=random_state)
        self.max_exact_size = max_exact_size
        self.n_configurations = n_configurations
        self.max_memory = max_memory
        self.device = device
        self.progress = progress
        self.lazy = lazy
        self.on_saturation = on_saturation
        self.saturation_alpha = saturation_alpha


    def _query(self, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
        model_seed, greedy_seed = split_seed(seed, 2)
        log_probs = np.concatenate(
            [chunk for _, chunk in self.iter_log_probs(classifier, X_pool, seed=model_seed)]
        )
        return self._record(batch_bald(log_probs, n_instances, lazy=self.lazy,
                                       **self._greedy_kwargs(greedy_seed)))


class _BatchEvaluation(_GreedySettings, _EvaluationBase):
    """BatchEIG / BatchEvaluationBALD: distil M′ once, then greedy on both models."""

    _kernel = None

    def __init__(self, *, n_samples: int = 100, eval_size: Any = None,
                 exclude_eval: bool = False, distill_refit: str = "warm",
                 distill_params: dict | None = None,
                 max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
                 n_configurations: int = DEFAULT_N_CONFIGURATIONS,
                 max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
                 progress: bool = False, on_saturation: str = "power",
                 saturation_alpha: float = 5.0, chunk_size: int = 8192,
                 random_state: Any = None) -> None:
        super().__init__(n_samples=n_samples, eval_size=eval_size, exclude_eval=exclude_eval,
                         distill_refit=distill_refit, distill_params=distill_params,
                         chunk_size=chunk_size, random_state=random_state)
        self.max_exact_size = max_exact_size
        self.n_configurations = n_configurations
        self.max_memory = max_memory
        self.device = device
        self.progress = progress
        self.on_saturation = on_saturation
        self.saturation_alpha = saturation_alpha


    def _query(self, classifier, X_pool, n_instances, *, seed, round_index,
               X_training=None, y_training=None, distilled_estimator=None, **kwargs):
        model_seed, second_seed, distill_seed, eval_seed, greedy_seed = split_seed(seed, 5)
        n_pool = pool_size(X_pool)
        eval_indices = eval_subset(n_pool, self.eval_size, random_state=eval_seed)
        candidates = (np.setdiff1d(np.arange(n_pool), eval_indices)
                      if self.exclude_eval else np.arange(n_pool))
        n_instances = check_batch_size(n_instances, len(candidates))
        log_probs = self._log_probs(classifier, X_pool, model_seed)
        self._check_sample_count(classifier, log_probs)
        if distilled_estimator is None:
            training = training_data(classifier, X_training, y_training)
            targets = predictive_mean(log_probs[eval_indices])
            X_eval = take_rows(X_pool, eval_indices)
            distilled_estimator = self._second_model(classifier, training, X_eval, targets,
                                                     distill_seed)
        self.eval_indices_ = eval_indices
        self.distilled_ = distilled_estimator
        log_probs_distilled = self._log_probs(distilled_estimator, X_pool, second_seed)
        picked, scores = self._record(type(self)._kernel(
            log_probs[candidates], log_probs_distilled[candidates], n_instances,
            **self._greedy_kwargs(greedy_seed),
        ))
        return candidates[picked], scores

    def _log_probs(self, estimator, X_pool, seed):
        return np.concatenate([
            sampled_log_proba(estimator, rows, n_samples=self.n_samples, random_state=seed)
            for _, _, rows in self._chunks(X_pool, np.arange(pool_size(X_pool)))
        ])



class BatchEIG(_BatchEvaluation):
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

    score = "eig"
    _kernel = staticmethod(batch_eig)


class BatchEvaluationBALD(_BatchEvaluation):
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

    score = "evaluation_bald"
    _kernel = staticmethod(batch_evaluation_bald)


class BatchEPIG(_GreedySettings, PosteriorStrategy):
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
    _constraints = {"X_target": check_targets, "target_size": check_positive_int}

    def __init__(self, *, X_target: Any = None, target_size: int = 20, n_samples: int = 100,
                 max_exact_size: int | None = DEFAULT_MAX_EXACT_SIZE,
                 n_configurations: int = DEFAULT_N_CONFIGURATIONS,
                 max_memory: int | None = DEFAULT_MAX_MEMORY, device: Any = "cpu",
                 progress: bool = False, on_saturation: str = "power",
                 saturation_alpha: float = 5.0, chunk_size: int = 8192,
                 random_state: Any = None) -> None:
        super().__init__(n_samples=n_samples, chunk_size=chunk_size, random_state=random_state)
        self.X_target = X_target
        self.target_size = target_size
        self.max_exact_size = max_exact_size
        self.n_configurations = n_configurations
        self.max_memory = max_memory
        self.device = device
        self.progress = progress
        self.on_saturation = on_saturation
        self.saturation_alpha = saturation_alpha

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
        model_seed, target_seed, greedy_seed = split_seed(seed, 3)
        targets = target_inputs(self.X_target, self.target_size, X_pool, target_seed)
        log_probs = np.concatenate(
            [chunk for _, chunk in self.iter_log_probs(classifier, X_pool, seed=model_seed)])
        log_probs_target = np.concatenate(
            [chunk for _, chunk in self.iter_log_probs(classifier, targets, seed=model_seed)])
        return self._record(batch_epig(log_probs, log_probs_target, n_instances,
                                       **self._greedy_kwargs(greedy_seed)))
