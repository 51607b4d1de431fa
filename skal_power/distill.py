"""The pool-augmented second model M′: self-distillation on the evaluation set.

EIG and EvaluationBALD compare a model M, trained on ``D_train``, with "the model
trained on ``D_train ∪ D_eval``". The eval labels are unknown, so M′ is
*self-distilled*: a fresh clone of the estimator fitted on ``D_train`` with its
hard labels plus ``D_eval`` with M's predictive distribution
``p̄(y|x) = mean_k p(y|x, ω_k)`` as soft targets, minimising
``KL(p̄ ‖ p_M′)``.

How the soft targets are fitted:

* skorch ``NeuralNetClassifier`` (including
  :class:`~skal_power.models.MCDropoutClassifier`): the criterion is swapped for
  a soft-target KL loss; hard labels become one-hot rows.
* sklearn classifiers whose ``fit`` takes ``sample_weight`` (and
  ``VotingClassifier`` of them): each eval point becomes C rows ``(x, c)``
  weighted ``p̄_c``, the same objective for log-loss models.
* a ``Pipeline`` ending in either: its transformers are refitted once on
  ``D_train ∪ D_eval``, every row once (supervised transformers get the hard
  labels of ``D_train`` and M's most probable label of each eval row); only
  the final classifier sees the soft targets (expanded rows or KL loss).

Where M′ starts (``refit``): a full refit from scratch with M's own schedule
(``"full"``, the seed's construction), or a copy of M trained on for a short
schedule, all of it (``"warm"``) or its last layer only (``"head"``); see
:func:`distill` and ``benchmarks/results/second-model.md`` for what each costs and
how close it comes to the full refit.
"""

from __future__ import annotations

import contextlib
import copy
import numbers
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ._pool import pool_size, take_rows
from ._validation import as_numpy, check_positive_int, check_seed
from .adapters import posterior_classes, sampled_log_proba

__all__ = ["check_refit", "distill", "eval_subset", "last_layer", "predictive_mean",
           "soft_targets"]

#: Eval rows scored at a time when computing soft targets (bounds memory).
_CHUNK_ROWS = 8192

#: Where M′ starts: from scratch with M's schedule, from M (all layers trained on),
#: from M with only its last layer trained on.
REFITS = ("full", "warm", "head")

#: Epochs of a skorch M′ that starts from M (``refit="warm"`` or ``"head"``) unless
#: ``clone_params`` sets ``max_epochs``. Chosen from ``benchmarks/results/second-model.md``.
SHORT_EPOCHS = 1


def check_refit(value: Any, *, name: str = "refit") -> str:
    """Check a refit mode: one of ``REFITS`` (``"full"``, ``"warm"``, ``"head"``).

    Examples
    --------
    >>> check_refit("warm")
    'warm'
    """
    if not isinstance(value, str) or value not in REFITS:
        raise ValueError(f"{name} must be one of {list(REFITS)}; got {value!r}.")
    return value


def eval_subset(n_eval: int, eval_size: Any = None, *, random_state: Any = None) -> np.ndarray:
    """Sorted indices of a uniform random subset of ``range(n_eval)``.

    Parameters
    ----------
    n_eval : int
        Size of the candidate evaluation set (usually the pool).
    eval_size : None, int or float, default=None
        ``None``: everything; an int ``>= 1``: that many points (at most
        ``n_eval``); a float in ``(0, 1]``: that fraction, rounded up.
    random_state : None, int, RandomState or Generator

    Examples
    --------
    >>> eval_subset(5).tolist()
    [0, 1, 2, 3, 4]
    >>> len(eval_subset(10, 0.3, random_state=0)), len(eval_subset(10, 4, random_state=0))
    (3, 4)
    """
    if eval_size is None:
        return np.arange(n_eval)
    if isinstance(eval_size, (bool, np.bool_)) or not isinstance(eval_size, numbers.Real):
        raise TypeError(f"eval_size must be None, an int or a float; got {eval_size!r}.")
    if isinstance(eval_size, numbers.Integral):
        size = check_positive_int(eval_size, name="eval_size")
    elif 0 < eval_size <= 1:
        size = max(1, int(np.ceil(eval_size * n_eval)))
    else:
        raise ValueError(f"A float eval_size must be in (0, 1]; got {eval_size!r}.")
    if size >= n_eval:
        return np.arange(n_eval)
    rng = np.random.default_rng(check_seed(random_state))
    return np.sort(rng.choice(n_eval, size=size, replace=False))


def predictive_mean(log_probs: Any) -> np.ndarray:
    """``p̄(y|x) = mean_k p(y|x, ω_k)`` of sampled log-probs, renormalised, float64 ``(N, C)``.

    The soft targets of M′: the one place they are computed from log-probs.

    Examples
    --------
    >>> import numpy as np
    >>> predictive_mean(np.log([[[0.75, 0.25], [0.25, 0.75]]])).tolist()
    [[0.5, 0.5]]
    """
    probs = np.exp(np.asarray(log_probs, dtype=np.float64)).mean(axis=1)
    return probs / probs.sum(axis=1, keepdims=True)


def soft_targets(estimator: Any, X_eval: Any, *, n_samples: int = 20,
                 random_state: Any = None) -> np.ndarray:
    """M's predictive distribution ``p̄(y|x) = mean_k p(y|x, ω_k)``, shape ``(N, C)``, float64.

    The eval set is processed in chunks with the same posterior samples.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=500).fit(X, y)
    >>> soft_targets(model, X[:2]).shape
    (2, 3)
    """
    seed = check_seed(random_state)
    n_eval = pool_size(X_eval)
    parts = []
    for start in range(0, n_eval, _CHUNK_ROWS):
        chunk = _rows(X_eval, np.arange(start, min(start + _CHUNK_ROWS, n_eval)))
        log_probs = sampled_log_proba(estimator, chunk, n_samples=n_samples, random_state=seed)
        parts.append(predictive_mean(log_probs))
    return np.concatenate(parts)


def distill(estimator: Any, X_train: Any, y_train: Any, X_eval: Any, *,
            n_samples: int = 20, eval_size: Any = None, targets: Any = None,
            refit: str = "full", clone_params: dict | None = None,
            random_state: Any = None) -> Any:
    """Fit M′, the self-distilled model of ``D_train ∪ D_eval``.

    Parameters
    ----------
    estimator : fitted classifier
        The model M. A skorch ``NeuralNetClassifier`` (CrossEntropyLoss or
        NLLLoss criterion), an sklearn classifier whose ``fit`` takes
        ``sample_weight``, or a ``Pipeline`` ending in one of them.
    X_train, y_train : array-like
        The labelled training data of M (hard labels, kept as they are).
    X_eval : array-like of shape (N_eval, n_features)
        The evaluation set, usually the unlabelled pool.
    n_samples : int, default=20
        Posterior samples K used for M's predictive distribution.
    eval_size : None, int or float, default=None
        Use a random subset of ``X_eval`` of this size (see :func:`eval_subset`).
    targets : array-like of shape (N_eval, C), optional
        M's predictive distribution on every row of ``X_eval`` (columns in
        ``classes_`` order) when the caller has already computed it, e.g. while
        scoring the pool; otherwise it is computed with :func:`soft_targets`.
    refit : {"full", "warm", "head"}, default="full"
        Where M′ starts and what is trained.

        * ``"full"``: a fresh clone of M fitted from scratch with M's own
          schedule (the seed's M′; the most expensive: a whole fit of M).
        * ``"warm"``: a copy of M, all layers trained on for a short schedule,
          ``SHORT_EPOCHS`` (one) epochs unless ``clone_params`` sets
          ``max_epochs``, with a fresh optimizer.
        * ``"head"``: as ``"warm"``, but only the module's last layer with
          parameters (last in registration order: the output ``Linear`` of
          :class:`~skal_power.models.MLP` and
          :class:`~skal_power.models.MNISTConvNet`) is trained; the features
          are M's, frozen, and the backward pass stops at that layer.

        ``"warm"`` and ``"head"`` are for skorch nets, and keep a
        ``Pipeline``'s fitted transformers (they are part of M). Other
        estimators (sklearn's ``sample_weight`` path) are refitted in full
        whatever ``refit`` says: ensembles' ``warm_start`` adds members rather
        than continuing a fit, and a warm-started linear model stops within
        its tolerance of M, which leaves EIG at the level of rounding. This
        function keeps ``"full"`` as its default; the strategies
        (``distill_refit``) default to ``"warm"``, chosen from the cost and
        quality measured in ``benchmarks/results/second-model.md``.
    clone_params : dict, optional
        Parameters set on M′ before fitting, e.g. ``{"max_epochs": 5}``.
    random_state : None, int, RandomState or Generator
        Seeds M's posterior samples, the eval subset and, when given, the
        clone's own ``random_state``.

    Returns
    -------
    estimator
        A fitted clone (``"full"``) or copy of ``estimator``; M itself is never
        modified. For skorch nets its criterion is the soft-target KL loss
        (which also accepts hard labels).

    Raises
    ------
    TypeError
        If the estimator accepts neither soft targets (skorch) nor
        ``sample_weight``.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``X_eval`` and ``X_train`` differ in their number of features, or
        ``y_train`` holds labels unknown to the estimator.

    Notes
    -----
    Minimises ``Σ_train −log p_M′(y_n|x_n) + Σ_eval KL(p̄(·|x) ‖ p_M′(·|x))``.
    The sample-weight expansion holds ``N_eval × C`` rows; use ``eval_size`` for
    big pools.

    Cost: with :class:`~skal_power.models.MCDropoutClassifier`'s resampled
    epochs an epoch is a fixed number of steps, so a fit costs its epochs,
    whatever ``eval_size`` is: ``"full"`` costs what fitting M cost, ``"warm"``
    ``SHORT_EPOCHS`` (one) epochs, ``"head"`` the same epochs with the forward
    pass only below the last layer.

    What is fitted on what, for a ``Pipeline``: the transformers are refitted
    once on ``D_train ∪ D_eval``, each row once (a scaler's mean is that of
    the union; supervised transformers get the hard labels of ``D_train`` and
    M's most probable label of each eval row). Only the final classifier sees
    the soft targets: the expanded, weighted rows or the KL loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_power.distill import distill
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=1000).fit(X[::10], y[::10])
    >>> second = distill(model, X[::10], y[::10], X, random_state=0)
    >>> second.predict_proba(X).shape
    (150, 3)
    """
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    check_refit(refit)
    _check_fitted(estimator)
    _check_features(estimator, X_train, X_eval)
    seed_eval, seed_targets, seed_clone = _split(random_state)
    classes = posterior_classes(estimator)
    y_train = np.asarray(y_train)
    unknown = np.setdiff1d(y_train, classes)
    if unknown.size:
        raise ValueError(
            f"y_train holds labels {unknown.tolist()} unknown to the estimator "
            f"(classes_ = {classes.tolist()})."
        )
    if _is_skorch(estimator):  # torch modules want float32
        X_train, X_eval = _as_float32(X_train), _as_float32(X_eval)
    n_eval = pool_size(X_eval)
    chosen = eval_subset(n_eval, eval_size, random_state=seed_eval)
    X_eval = _rows(X_eval, chosen)
    if targets is None:
        targets = soft_targets(estimator, X_eval, n_samples=n_samples, random_state=seed_targets)
    else:
        targets = _check_targets(targets, n_eval, len(classes))[chosen]

    if not (_is_skorch(final) or _accepts_sample_weight(final)):
        _raise_no_soft_targets(final)
    start_from_m = refit != "full" and _continues(final)
    model = _start(estimator, start_from_m, clone_params)
    if random_state is not None and "random_state" in model.get_params():
        model.set_params(random_state=seed_clone % 2**32)
    data = (X_train, y_train, X_eval, targets, classes)
    if not _is_skorch(final):
        return _fit_weighted(model, *data)
    model = _fit_skorch(model, *data, from_m=start_from_m, head=refit == "head")
    if start_from_m:  # M′ is fitted: give it back M's own warm_start
        (model[-1] if isinstance(model, Pipeline) else model).set_params(
            warm_start=final.warm_start)
    return model


def _raise_no_soft_targets(final: Any) -> None:
    raise TypeError(
        f"distill cannot fit soft targets with {type(final).__name__}: it is not a skorch "
        "NeuralNetClassifier and its fit method takes no sample_weight. Use an estimator "
        "that supports one of them."
    )


def _continues(final: Any) -> bool:
    """Whether M′ can start from M: skorch nets only (see ``refit`` in :func:`distill`)."""
    return _is_skorch(final)


def _start(estimator: Any, from_m: bool, clone_params: dict | None) -> Any:
    """M′ before fitting: a clone of M, or a copy of fitted M set to continue."""
    if not from_m:
        model = clone(estimator)
        if clone_params:
            model.set_params(**clone_params)
        return model
    model = copy.deepcopy(estimator)
    final = model[-1] if isinstance(model, Pipeline) else model
    final.set_params(warm_start=True, max_epochs=SHORT_EPOCHS)
    if clone_params:
        fixed = [key for key in clone_params if "module" in key.split("__")]
        if fixed:
            raise ValueError(
                f"clone_params {fixed} would change the module of M′, which starts from M's "
                "weights; use refit='full' to change the network."
            )
        # skorch applies iterator/criterion/optimizer parameters of an initialised net at
        # once (and rejects some); on this copy they take effect when M′ is fitted.
        final.initialized_ = False
        try:
            model.set_params(**clone_params)
        finally:
            final.initialized_ = True
    return model


def _accepts_sample_weight(estimator: Any) -> bool:
    # VotingClassifier.fit(X, y, **fit_params) passes sample_weight on to its members.
    if isinstance(estimator, VotingClassifier):
        return all(
            _accepts_sample_weight(member)
            for _, member in estimator.estimators if member not in (None, "drop")
        )
    return has_fit_parameter(estimator, "sample_weight")


def _check_targets(targets: Any, n_rows: int, n_classes: int) -> np.ndarray:
    targets = np.asarray(as_numpy(targets), dtype=np.float64)
    if targets.shape != (n_rows, n_classes):
        raise ValueError(
            f"targets must have shape (N_eval, C) = ({n_rows}, {n_classes}), one row per "
            f"row of X_eval; got {targets.shape}."
        )
    if not np.all(np.isfinite(targets)) or np.any(targets < 0) or not np.allclose(
        targets.sum(axis=1), 1.0, atol=1e-3
    ):
        raise ValueError("targets must hold probability rows (non-negative, summing to 1).")
    return targets / targets.sum(axis=1, keepdims=True)


def _split(random_state: Any) -> list[int]:
    seed = check_seed(random_state)
    states = np.random.SeedSequence(seed).generate_state(3, np.uint64)
    return [int(s >> np.uint64(1)) for s in states]


def _check_fitted(estimator: Any) -> None:
    try:
        check_is_fitted(estimator)
    except TypeError as error:
        raise TypeError(
            f"distill needs a fitted scikit-learn-style estimator; got "
            f"{type(estimator).__name__}."
        ) from error


def _check_features(estimator: Any, X_train: Any, X_eval: Any) -> None:
    n_train, n_eval = _n_features(X_train), _n_features(X_eval)
    if n_train is not None and n_eval is not None and n_train != n_eval:
        raise ValueError(
            f"X_eval has {n_eval} features but X_train has {n_train}; both must have the "
            "features the estimator was fitted on."
        )
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and n_eval is not None and n_eval != expected:
        raise ValueError(
            f"X_eval has {n_eval} features but the estimator was fitted on {expected}."
        )


def _n_features(X: Any) -> int | None:
    shape = getattr(X, "shape", None)
    if shape is None:
        shape = np.shape(X)
    return int(shape[1]) if len(shape) >= 2 else None


def _rows(X: Any, indices: np.ndarray) -> Any:
    """Rows of X; lists and tensors become arrays, so they stack with the training rows."""
    if not (hasattr(X, "iloc") or hasattr(X, "tocsr")) and pool_size(X) != len(indices):
        X = as_numpy(X)
    return take_rows(X, indices)


def _stack(first: Any, second: Any) -> Any:
    if hasattr(first, "iloc") and hasattr(second, "iloc"):
        import pandas as pd

        return pd.concat([first, second], ignore_index=True)
    if hasattr(first, "tocsr") or hasattr(second, "tocsr"):
        import scipy.sparse as sp

        return sp.vstack([first, second]).tocsr()
    return np.concatenate([as_numpy(first), as_numpy(second)])


def _as_float32(X: Any) -> Any:
    if hasattr(X, "iloc") or hasattr(X, "tocsr"):
        return X
    array = as_numpy(X)
    return array.astype(np.float32) if array.dtype.kind == "f" else array


def _is_skorch(estimator: Any) -> bool:
    try:
        from skorch import NeuralNet
    except ImportError:  # pragma: no cover - skorch is optional
        return False
    return isinstance(estimator, NeuralNet)


def _fit_transformers(model, X_train, y_train, X_eval, targets, classes):
    """Fit a pipeline's transformers on ``D_train ∪ D_eval`` once; return both transformed.

    Each row is seen once. Supervised transformers get the hard labels of
    ``D_train`` and the most probable label under M of each eval row; the
    soft targets themselves are for the final classifier only.
    """
    if not isinstance(model, Pipeline) or len(model) == 1:
        return X_train, X_eval
    transformers = model[:-1]  # shares the step objects with ``model``
    y_eval = np.asarray(classes)[np.argmax(targets, axis=1)]
    transformers.fit(_stack(X_train, X_eval), np.concatenate([y_train, y_eval]))
    return transformers.transform(X_train), transformers.transform(X_eval)


def _transformed(model, X_train, y_train, X_eval, targets, classes, *, from_m):
    """Inputs of the final step: M's transformers (M′ starts from M) or refitted ones."""
    if not from_m:
        return _fit_transformers(model, X_train, y_train, X_eval, targets, classes)
    if not isinstance(model, Pipeline) or len(model) == 1:
        return X_train, X_eval
    return model[:-1].transform(X_train), model[:-1].transform(X_eval)


def _fit_weighted(model, X_train, y_train, X_eval, targets, classes):
    X_train, X_eval = _fit_transformers(model, X_train, y_train, X_eval, targets, classes)
    n_eval, n_classes = targets.shape
    weights = targets.ravel()
    keep = weights > 0
    row_of = np.repeat(np.arange(n_eval), n_classes)[keep]
    X_all = _stack(X_train, _rows(X_eval, row_of))
    y_all = np.concatenate([y_train, np.tile(classes, n_eval)[keep]])
    w_all = np.concatenate([np.ones(len(y_train)), weights[keep]])
    final = model[-1] if isinstance(model, Pipeline) else model
    final.fit(X_all, y_all, sample_weight=w_all)
    return model


def _fit_skorch(model, X_train, y_train, X_eval, targets, classes, *, from_m=False,
                head=False):
    X_train, X_eval = _transformed(model, X_train, y_train, X_eval, targets, classes,
                                   from_m=from_m)
    lookup = {label: column for column, label in enumerate(classes.tolist())}
    hard = np.zeros((len(y_train), len(classes)), dtype=np.float32)
    hard[np.arange(len(y_train)), [lookup[label] for label in y_train.tolist()]] = 1.0
    all_targets = np.concatenate([hard, targets.astype(np.float32)])
    X_all = _stack(X_train, X_eval)
    final = model[-1] if isinstance(model, Pipeline) else model
    if from_m:
        with _continued(final, head=head):
            fitted = _fit_skorch_net(final, X_all, all_targets, classes)
    else:
        fitted = _fit_skorch_net(final, X_all, all_targets, classes)
    return model if isinstance(model, Pipeline) else fitted


def _fit_skorch_net(net, X_all, targets, classes):
    from .models._losses import soft_criterion_for

    net.set_params(criterion=soft_criterion_for(net.criterion))
    if net.warm_start and net.initialized_:  # a copy of M: set_params left M's criterion_
        net.initialize_criterion()
        net.initialize_optimizer()
    if hasattr(net, "_fit_soft_targets"):
        return net._fit_soft_targets(X_all, targets, classes)
    net.set_params(train_split=None, classes=list(classes.tolist()))
    X_all = np.asarray(as_numpy(X_all), dtype=np.float32)
    return net.fit(X_all, targets)


@contextlib.contextmanager
def _continued(net, *, head: bool):
    """A copy of M trained on: its own history; with ``head`` every parameter but
    the last layer's frozen (``requires_grad`` is restored after)."""
    net.initialize_history()
    frozen = []
    if head:
        last = last_layer(net.module_)
        frozen = [p for p in net.module_.parameters()
                  if p.requires_grad and not any(p is q for q in last.parameters())]
        for parameter in frozen:
            parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in frozen:
            parameter.requires_grad_(True)


def last_layer(module: Any) -> Any:
    """The last submodule (in registration order) that holds parameters of its own.

    What ``refit="head"`` trains.

    Examples
    --------
    >>> from skal_power.models import MLP
    >>> last_layer(MLP(n_features=4, n_classes=3, hidden_units=(8,)))
    Linear(in_features=8, out_features=3, bias=True)
    """
    last = None
    for submodule in module.modules():
        if next(submodule.parameters(recurse=False), None) is not None:
            last = submodule
    if last is None:
        raise ValueError(
            f"refit='head' needs a module with parameters; {type(module).__name__} has none."
        )
    return last
