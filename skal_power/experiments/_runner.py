"""The active-learning loop (DESIGN.md section 8): resumable trials, run in parallel."""

from __future__ import annotations

import importlib
import json
import inspect
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..threads import limit_threads
from ._config import (ConfigError, ExperimentConfig, StrategySpec, _resolve_params, _thaw,
                      config_field, config_hash, initial_spec, legacy_config_hash, load_config,
                      model_spec, n_rounds, strategy_class)
from ._costs import timings_path
from ._data import (USER_DATASETS, TrialData, derive_seed, make_data, user_arrays,  # noqa: F401
                    validation_source)
from ._user_data import data_digest
from ._results import (TIMING_COLUMNS, ResultRow, ResultsWriter, TimingRow, file_config_hash,
                       retag)
from ._sessions import record_session

_MODELS = {
    "extra_trees": "sklearn.ensemble:ExtraTreesClassifier",
    "random_forest": "sklearn.ensemble:RandomForestClassifier",
    "mc_dropout": "skal_power.models:MCDropoutClassifier",
}
#: Names usable for the ``module`` of an ``mc_dropout`` model in a config.
_MODULES = {"MLP": "skal_power.models:MLP", "MNISTConvNet": "skal_power.models:MNISTConvNet"}


def _resolve_class(value: Any, names: dict[str, str]) -> Any:
    if not isinstance(value, str):
        return value
    module_name, _, attr = names.get(value, value).partition(":")
    if not attr:
        raise ConfigError(f"cannot resolve {value!r}: give one of {sorted(names)} or "
                          "'package.module:Name'.")
    return getattr(importlib.import_module(module_name), attr)


def make_model(config: dict[str, Any], seed: int, *, classes: Any = None,
               validation: tuple | None = None):
    """A fresh, seeded model from ``config["model"]``.

    ``name`` is ``extra_trees``, ``random_forest``, ``mc_dropout``
    (:class:`skal_power.models.MCDropoutClassifier`) or an import path
    ``module:Class``; ``params`` go to its constructor with ``random_state=seed``
    unless given. For ``mc_dropout``, ``params["module"]`` may name a module
    (``"MLP"``, ``"MNISTConvNet"`` or ``"package.module:Name"``), ``classes``
    (all labels of the dataset) is passed so that the net has every output
    from the first round, and ``early_stopping`` (``{"patience": 3}``) adds
    skorch's ``EarlyStopping(load_best=True)`` on ``validation = (X, y)``
    (``"monitor": "valid_acc"`` stops on validation accuracy, as the BatchBALD
    code does; the default is ``valid_loss``).

    Examples
    --------
    >>> make_model({"model": {"name": "extra_trees", "params": {"n_estimators": 5}}}, 0)
    ExtraTreesClassifier(n_estimators=5, random_state=0)
    """
    spec = model_spec(config)
    factory = _resolve_class(spec.name, _MODELS)
    params = _thaw(spec.params)  # a fresh table
    params.setdefault("random_state", seed)
    if "module" in params:
        params["module"] = _resolve_class(params["module"], _MODULES)
    if classes is not None and _takes(factory, "classes") and "classes" not in params:
        params["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
    if spec.early_stopping:
        if validation is None:
            raise ConfigError("early_stopping needs a validation set (dataset validation_size).")
        from skorch.callbacks import EarlyStopping

        from ..models import ValidationSet

        stopping = spec.early_stopping
        monitor = stopping.get("monitor", "valid_loss")
        params["train_split"] = ValidationSet(*validation)
        params["callbacks"] = list(params.get("callbacks") or []) + [EarlyStopping(
            monitor=monitor, patience=stopping.get("patience", 3),
            lower_is_better=not monitor.endswith("_acc"), load_best=True, sink=_silent)]
    _check_model_params(factory, params, spec.name)
    return factory(**params)


def _check_model_params(factory: Any, params: dict[str, Any], name: Any) -> None:
    """A config's model params that the model's constructor does not take: a ConfigError
    (a model that takes ``**kwargs``, as skorch nets do, checks them itself)."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # no signature to check against
        return
    try:
        signature.bind(**params)
    except TypeError as error:
        raise ConfigError(f"model {name!r} params: {error}.") from None


def _takes(factory: Any, name: str) -> bool:
    """Whether ``factory`` or a base class takes the constructor argument ``name``
    (skorch nets pass ``classes`` on through ``**kwargs``)."""
    for cls in getattr(factory, "__mro__", (factory,)):
        init = getattr(cls, "__init__", None)
        try:
            if init is not None and name in inspect.signature(init).parameters:
                return True
        except (TypeError, ValueError):
            continue
    return False


def _silent(*args: Any, **kwargs: Any) -> None:
    """EarlyStopping's sink: trials print nothing."""


def make_strategy(spec: dict[str, Any], seed: int, *, validation_inputs: Any = None):
    """A seeded strategy object from its config entry.

    ``name`` is a named strategy or a generic composition (``Acquisition``,
    ``EvaluationAcquisition``, ``TargetAcquisition``, with ``"selector":
    {"name": "Softrank", "beta": 2.0}``). ``"X_target": "validation"`` gives
    EPIG the validation set's inputs (unlabelled use) as targets.

    Examples
    --------
    >>> make_strategy({"name": "PowerBALD", "params": {"alpha": 5.0}}, seed=3)
    PowerBALD(random_state=3)
    >>> make_strategy({"name": "Acquisition", "params": {"score": "entropy",
    ...                "selector": {"name": "Softrank", "beta": 2.0}}}, seed=0)
    Acquisition(random_state=0, score='entropy', selector=Softrank(beta=2.0))
    """
    spec = _strategy_of(spec)
    params = _resolve_params(_thaw(spec.params))
    params["random_state"] = seed
    if params.get("X_target") == "validation":
        if validation_inputs is None:
            raise ConfigError('X_target "validation" needs dataset validation_size.')
        params["X_target"] = validation_inputs
    return strategy_class(spec.name)(**params)


def _strategy_of(spec: StrategySpec | dict[str, Any]) -> StrategySpec:
    """A strategy entry as a :class:`StrategySpec` (a table's ``label`` defaults to its name)."""
    if isinstance(spec, StrategySpec):
        return spec
    return StrategySpec(spec["name"], spec.get("label", spec["name"]), spec.get("params", {}))


def _wants_training_data(strategy: Any) -> bool:
    return "X_training" in strategy.query_keywords()


def evaluate(model: Any, X: np.ndarray, y: np.ndarray, classes: np.ndarray, *,
             n_samples: int = 0, random_state: Any = None) -> tuple[float, float]:
    """Test accuracy and NLL of ``model``; with ``n_samples`` MC-averaged predictions.

    ``n_samples = 0`` uses ``predict_proba`` (for MC dropout: dropout off).
    ``n_samples = K > 0`` averages the probabilities of K posterior samples
    (:func:`skal_power.adapters.sampled_log_proba`) for models that sample;
    ensembles and others use their ``predict_proba`` either way.

    Examples
    --------
    >>> from sklearn.ensemble import ExtraTreesClassifier
    >>> from skal_power.datasets import load_digits_data
    >>> X, y = load_digits_data()
    >>> model = ExtraTreesClassifier(n_estimators=10, random_state=0).fit(X[:500], y[:500])
    >>> accuracy, nll = evaluate(model, X[500:], y[500:], np.arange(10))
    >>> 0.8 < accuracy <= 1.0 and nll > 0
    True
    """
    from ..adapters import posterior_classes, sampled_log_proba

    proba = np.zeros((len(y), len(classes)))
    columns = np.searchsorted(classes, posterior_classes(model))
    if n_samples and (hasattr(model, "predict_proba_samples")
                      or hasattr(model, "predict_log_proba_samples")):
        log_probs = sampled_log_proba(model, X, n_samples=n_samples, random_state=random_state,
                                      dtype=np.float64)
        proba[:, columns] = np.exp(log_probs).mean(axis=1)
    else:
        proba[:, columns] = model.predict_proba(X)
    accuracy = float(np.mean(classes[np.argmax(proba, axis=1)] == y))
    truth = proba[np.arange(len(y)), np.searchsorted(classes, y)]
    nll = float(-np.mean(np.log(np.clip(truth, 1e-12, None))))
    return accuracy, nll


def train_round(config: dict[str, Any], data: TrialData, seed: int, round_index: int,
                labelled: Any) -> tuple[Any, float, float]:
    """The model of one round, fitted on the labelled pool rows, and its test scores.

    The runner's own training step: a fresh model seeded for ``(seed,
    round_index)`` (:func:`make_model`, with the dataset's classes and its
    validation set), fitted on ``data.X_pool[labelled]`` and tested by
    :func:`evaluate` with the config's ``test_samples``. Rebuilding a recorded
    round from its labelled set gives the recorded model and accuracy.

    Returns
    -------
    model : estimator
    accuracy, nll : float

    Examples
    --------
    >>> config = load_config("digits-demo")  # extra trees on digits, 2 labels per class
    >>> data = make_data(config, seed=0)
    >>> labelled = initial_indices(config, 0, data.y_pool)
    >>> model, accuracy, _ = train_round(config, data, 0, 0, labelled)
    >>> len(labelled), model.n_estimators, 0.0 < accuracy < 1.0
    (20, 30, True)
    """
    validation = None if data.X_validation is None else (data.X_validation, data.y_validation)
    model = make_model(config, derive_seed(seed, round_index, "model"), classes=data.classes,
                       validation=validation)
    model.fit(data.X_pool[labelled], data.y_pool[labelled])
    accuracy, nll = evaluate(model, data.X_test, data.y_test, data.classes,
                             n_samples=config_field(config, "test_samples", 0),
                             random_state=derive_seed(seed, round_index, "test"))
    return model, accuracy, nll


def query_round(spec: dict[str, Any], data: TrialData, seed: int, round_index: int,
                model: Any, labelled: Any, n_instances: int) -> np.ndarray:
    """The pool indices a strategy acquires in one round, as the runner picks them.

    ``spec`` is a checked strategy entry (``config["strategies"][i]``). The
    strategy is seeded for ``(seed, round_index)`` and queries the pool rows
    not in ``labelled``; strategies that take the training set get it. With no
    model (an empty initial set), the batch is drawn uniformly.

    Examples
    --------
    >>> config = load_config("digits-demo")
    >>> bald = next(s for s in config["strategies"] if s["name"] == "BALD")
    >>> data = make_data(config, seed=0)
    >>> labelled = initial_indices(config, 0, data.y_pool)
    >>> model, _, _ = train_round(config, data, 0, 0, labelled)
    >>> picked = query_round(bald, data, 0, 0, model, labelled, n_instances=5)
    >>> len(picked), bool(np.isin(picked, labelled).any())
    (5, False)
    """
    unlabelled = np.setdiff1d(np.arange(len(data.y_pool)), np.asarray(labelled, dtype=np.intp))
    if model is None:  # cold start: nothing to score with, draw uniformly
        rng = np.random.default_rng(derive_seed(seed, round_index, "cold"))
        picked = rng.choice(len(unlabelled), size=n_instances, replace=False)
    else:
        strategy = make_strategy(spec, derive_seed(seed, round_index, "strategy"),
                                 validation_inputs=data.X_validation)
        kwargs = {"round": round_index}
        if _wants_training_data(strategy):
            kwargs.update(X_training=data.X_pool[labelled], y_training=data.y_pool[labelled])
        picked, _ = strategy(model, data.X_pool[unlabelled], n_instances=n_instances, **kwargs)
    return unlabelled[np.asarray(picked)]


def labelled_before(config: dict[str, Any], results: Any, label: str, seed: int,
                    round_index: int, y_pool: np.ndarray) -> list[int] | None:
    """The labelled pool rows of a recorded trial at the start of ``round_index``.

    The trial's initial set (:func:`initial_indices`) and the batches its rows
    record before ``round_index``: with :func:`train_round` and
    :func:`query_round`, what a diagnostic needs to rebuild a recorded state.
    ``None`` if the results hold fewer than ``round_index`` of those rows.

    Examples
    --------
    >>> import pandas as pd
    >>> config = load_config("digits-demo")
    >>> y_pool = make_data(config, seed=0).y_pool
    >>> rows = pd.DataFrame({"strategy": ["BALD"], "seed": [0], "round": [0],
    ...                      "acquired": ["5 7"]})
    >>> len(labelled_before(config, rows, "BALD", 0, 1, y_pool))  # 20 initial, 2 acquired
    22
    >>> labelled_before(config, rows, "BALD", 0, 2, y_pool) is None
    True
    """
    trial = results[(results["strategy"] == label) & (results["seed"] == seed)
                    & (results["round"] < round_index)]
    if len(trial) < round_index:
        return None
    return _labelled_after(initial_indices(config, seed, y_pool),
                           trial.sort_values("round")["acquired"])


def _labelled_after(initial: np.ndarray, acquired_cells: Any) -> list[int]:
    """The initial rows followed by those of each recorded batch (space-separated cells)."""
    labelled = [int(i) for i in initial]
    for cell in acquired_cells:
        labelled.extend(int(i) for i in str(cell).split())
    return labelled


def initial_indices(config: dict[str, Any], seed: int, y_pool: np.ndarray) -> np.ndarray:
    """The initial labelled set of a trial, seeded by the trial seed.

    ``initial = n`` draws n pool points uniformly; ``initial = {"per_class": n}``
    draws n points of every class (by the oracle's labels), as the BatchBALD
    experiments do, so that the first model has seen every class.

    Examples
    --------
    >>> y = np.repeat(np.arange(3), 10)
    >>> np.sort(y[initial_indices({"initial": {"per_class": 2}}, 0, y)]).tolist()
    [0, 0, 1, 1, 2, 2]
    """
    rng = np.random.default_rng(derive_seed(seed, 0, "initial"))
    initial = initial_spec(config)
    if not initial.per_class:
        return rng.permutation(len(y_pool))[:initial.size]
    per_class = int(initial.size)
    picked = []
    for label in np.unique(y_pool):
        members = np.flatnonzero(y_pool == label)
        if len(members) < per_class:
            raise ConfigError(f"initial per_class={per_class}: class {label.item()!r} has only "
                              f"{len(members)} pool points.")
        picked.append(rng.choice(members, size=per_class, replace=False))
    return rng.permutation(np.concatenate(picked))


def run_trial(config: dict[str, Any], label: str, seed: int, output: Any, *,
              progress: bool = False, position: int = 0, data: Any = None) -> None:
    """Run (or resume) one trial, appending one row per round to ``output``.

    The trial runs on one thread of every library (BLAS, OpenMP, torch,
    skal_power's kernels; see :mod:`skal_power.threads`): parallel trials never
    oversubscribe the machine, and results do not depend on ``n_jobs``.
    """
    config = ExperimentConfig.from_dict(config)
    if config.model.name == "mc_dropout":
        import torch  # noqa: F401  (imported first so that limit_threads caps it)
    with limit_threads(1):
        _run_trial(config, label, seed, output, progress=progress, position=position, data=data)


def _run_trial(config: ExperimentConfig, label, seed, output, *, progress, position,
               data=None):
    digest = config_hash(config)
    spec = config.strategy(label)
    # the run repaired torn lines before starting workers; never rewrite under them
    writer = ResultsWriter(output, digest, repair=False)
    timings = ResultsWriter(timings_path(output), digest, TIMING_COLUMNS, repair=False)
    done = sorted((r for r in writer.rows if r.strategy == label and int(r.seed) == seed),
                  key=lambda r: int(r.round))
    data = make_data(config, seed, data=data)
    y_pool = data.y_pool
    initial = initial_indices(config, seed, y_pool)
    _check_pool_size(config, initial, y_pool, seed)
    n_initial = len(initial)
    labelled = _labelled_after(initial, (row.acquired for row in done))
    total = n_rounds(config)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=total, initial=len(done), desc=f"{label} seed={seed}",
                   position=position, leave=False, file=sys.stderr)
    for round_index in range(len(done), total):
        n_acquired = len(labelled) - n_initial
        start = time.perf_counter()
        model = None
        accuracy = nll = float("nan")
        if labelled:
            model, accuracy, nll = train_round(config, data, seed, round_index, labelled)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        acquired = np.zeros(0, dtype=np.intp)
        if n_acquired < config.budget:
            batch = min(config.batch_size, config.budget - n_acquired)
            acquired = query_round(spec, data, seed, round_index, model, labelled, batch)
        query_seconds = time.perf_counter() - start
        writer.append(ResultRow(
            strategy=label, seed=seed, round=round_index, n_labelled=len(labelled),
            accuracy=accuracy, nll=nll, acquired=" ".join(str(int(i)) for i in acquired),
            acquired_labels=" ".join(str(v) for v in y_pool[acquired].tolist())))
        timings.append(TimingRow(strategy=label, seed=seed, round=round_index,
                                 fit_seconds=fit_seconds, query_seconds=query_seconds))
        labelled.extend(int(i) for i in acquired)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()


def config_path(output: Any) -> Path:
    """Where ``run_experiment`` saves the config of the results file ``output``.

    Examples
    --------
    >>> config_path("results/demo.csv").as_posix()
    'results/demo.config.json'
    """
    output = Path(output)
    return output.with_name(output.stem + ".config.json")


def _adopt_seed_hashed_files(config: dict, digest: str, output: Any) -> None:
    """Retag results files written when the hash still covered ``seeds``.

    Such a file is this study's if its header is the old hash of this config, or
    of the config saved beside it when that config differs from this one only in
    its seeds (``digest`` is this config's hash). Anything else is left for
    :class:`ResultsWriter` to judge.
    """
    found = file_config_hash(output)
    if found is None or found == digest:
        return
    ours = found == legacy_config_hash(config)
    saved_path = config_path(output)
    if not ours and saved_path.exists():
        try:
            saved = json.loads(saved_path.read_text())
        except (OSError, ValueError):
            return
        ours = (isinstance(saved, dict) and found == legacy_config_hash(saved)
                and config_hash(saved) == digest)
    if ours:
        for path in (Path(output), timings_path(output)):
            if file_config_hash(path) == found:
                retag(path, digest)


def _sort_key(row):
    return (row.strategy, int(row.seed), int(row.round))


def _own_data(config: ExperimentConfig, data: Any) -> tuple[tuple | None, ExperimentConfig]:
    """Read and check a user's data once, before any training; record its digest.

    Returns the ``(X, y)`` every trial uses (None for the shipped datasets) and
    the config with the data's ``sha256`` (unchanged for the shipped datasets). A
    bad file, a too-large test split, a class too small for the initial set or
    a budget larger than the pool raises here, before a results file is touched.
    """
    name = config.dataset.name
    if name not in USER_DATASETS:
        if data is not None:
            raise ValueError('data=(X, y) needs the config\'s dataset {"name": "arrays"}; '
                             f"got dataset {name!r}.")
        return None, config
    if name == "arrays" and data is None:
        raise ValueError('dataset "arrays" needs data=(X, y): run_experiment(config, output, '
                         "data=(X, y)).")
    arrays = user_arrays(config.dataset, data)
    given = config.dataset.given + (() if "sha256" in config.dataset.given else ("sha256",))
    config = replace(config, dataset=replace(config.dataset, sha256=data_digest(*arrays),
                                             given=given))
    for seed in config.seeds:
        trial = make_data(config, seed, data=arrays)
        _check_pool_size(config, initial_indices(config, seed, trial.y_pool), trial.y_pool,
                         seed)
    return arrays, config


def _check_pool_size(config: ExperimentConfig, initial: np.ndarray, y_pool: np.ndarray,
                     seed: int) -> None:
    """A budget that the pool cannot supply is the config's error, found before training."""
    if len(initial) + config.budget > len(y_pool):
        raise ConfigError(f"budget {config.budget} and {len(initial)} initial labels "
                          f"need more than the {len(y_pool)} pool points of seed "
                          f"{seed}; lower budget or test_size.")


def run_experiment(config: Any, output: Any, *, n_jobs: int = 1,
                   progress: bool = False, data: Any = None) -> Path:
    """Run every (strategy, seed) trial of ``config``, resuming from ``output``.

    Parameters
    ----------
    config : dict
        See :func:`check_config` (validated here).
    output : path
        The results CSV (created, or resumed if it holds this config's rows; a
        file of another config or a corrupt one raises and is left untouched).
        Timings go to ``<output stem>.timings.csv``; each call with work to do
        appends its machine and library versions to
        ``<output stem>.sessions.jsonl`` (:func:`~skal_power.experiments.machine_record`).
    n_jobs : int, default=1
        Trials run in this many processes (joblib).
    progress : bool, default=False
        One tqdm bar per trial.
    data : tuple (X, y), optional
        Your own labelled data, with ``config["dataset"] = {"name": "arrays"}``
        (see :func:`make_data` for the split). A dataset ``{"name": "file",
        "path": ...}`` is read here instead. Either is checked before any
        training, and its content's digest joins the config (and its hash), so
        that rows of other data never resume the results file.

    Returns
    -------
    pathlib.Path
        ``output``, rewritten sorted by (strategy, seed, round).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> cfg = {"strategies": ["RandomSampling"], "budget": 10, "seeds": [0],
    ...        "model": {"name": "extra_trees", "params": {"n_estimators": 5}}}
    >>> out = run_experiment(cfg, pathlib.Path(tempfile.mkdtemp()) / "r.csv")
    >>> from skal_power.experiments import load_results
    >>> load_results(out)["n_labelled"].tolist()
    [20, 30]
    """
    from joblib import Parallel, delayed

    config = ExperimentConfig._from_checked(load_config(config))  # checked once, typed
    arrays, config = _own_data(config, data)
    table = config.to_dict()  # what the hash, and the saved config, are of
    digest = config_hash(table)
    _adopt_seed_hashed_files(table, digest, output)
    writer = ResultsWriter(output, digest)  # refuses foreign/corrupt files up front
    config_path(output).write_text(json.dumps(table, indent=2, sort_keys=True, default=str))
    ResultsWriter(timings_path(output), digest, TIMING_COLUMNS)
    total = n_rounds(config)
    counts: dict[tuple[str, int], int] = {}
    for row in writer.rows:
        trial = (row.strategy, int(row.seed))
        counts[trial] = counts.get(trial, 0) + 1
    # seed-major: a run stopped early leaves whole seeds, paired across strategies
    pending = [(s.label, seed) for seed in config.seeds for s in config.strategies
               if counts.get((s.label, seed), 0) < total]
    if pending:
        record_session(output, len(writer.rows), len(pending), n_jobs)
    if n_jobs == 1 or len(pending) <= 1:
        for position, (label, seed) in enumerate(pending):
            run_trial(config, label, seed, output, progress=progress, position=0, data=arrays)
    else:
        Parallel(n_jobs=n_jobs)(
            delayed(run_trial)(config, label, seed, output, progress=progress,
                               position=position % max(n_jobs, 1), data=arrays)
            for position, (label, seed) in enumerate(pending)
        )
    writer.finalize(_sort_key)
    ResultsWriter(timings_path(output), digest, TIMING_COLUMNS).finalize(_sort_key)
    return Path(output)


