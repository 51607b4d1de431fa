"""Experiment configuration: validation, defaults, presets and the identifying hash."""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import TRANSFORMS

#: Configuration keys with their defaults (``None``: required).
_DEFAULTS: dict[str, Any] = {
    "name": "experiment",
    "dataset": {"name": "digits"},
    "model": {"name": "extra_trees"},
    "strategies": None,
    "initial": 20,
    "batch_size": 10,
    "budget": None,
    "seeds": [0, 1, 2],
}
#: Optional keys: absent from a config unless given, so older configs keep their hash.
_OPTIONAL: dict[str, Any] = {"test_samples": 0}
_DATASET_KEYS = ("name", "pool_size", "test_size", "validation_size", "normalize", "transforms")
#: Fields of a user's own data (``name`` "file" or "arrays"); ``sha256`` is the runner's
#: record of the data's content, so that rows of another file never resume a results file.
_USER_DATA_KEYS = ("path", "label", "features", "sha256")
_MODEL_KEYS = ("name", "params", "early_stopping")
_DATASETS = ("digits", "mnist", "file", "arrays")

#: Named configurations shipped with the package.
PRESETS: dict[str, dict[str, Any]] = {
    "digits-demo": {
        "name": "digits-demo",
        "dataset": {"name": "digits", "test_size": 500},
        "model": {"name": "extra_trees", "params": {"n_estimators": 30}},
        "strategies": ["RandomSampling", "BALD",
                       {"name": "PowerBALD", "params": {"alpha": 5.0}}],
        "initial": {"per_class": 2},
        "batch_size": 10,
        "budget": 100,
        "seeds": list(range(10)),
    },
}


class ConfigError(ValueError):
    """A bad experiment configuration (the message is one line).

    Examples
    --------
    >>> issubclass(ConfigError, ValueError)
    True
    """


def load_config(source: Any) -> dict[str, Any]:
    """Read a config from a preset name, a JSON/TOML file, a dict or an
    :class:`ExperimentConfig` and validate it (the checked table of :func:`check_config`).

    Examples
    --------
    >>> load_config("digits-demo")["budget"]
    100
    """
    if isinstance(source, ExperimentConfig):
        return source.to_dict()
    if isinstance(source, dict):
        raw = copy.deepcopy(source)
    elif isinstance(source, str) and source in PRESETS:
        raw = copy.deepcopy(PRESETS[source])
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(
                f"config {str(source)!r} is neither a file nor a preset "
                f"(presets: {', '.join(sorted(PRESETS))})."
            )
        text = path.read_text()
        try:
            if path.suffix == ".toml":
                import tomllib
                raw = tomllib.loads(text)
            else:
                raw = json.loads(text)
        except Exception as error:  # noqa: BLE001 - any parse error is a config error
            raise ConfigError(f"cannot parse config {str(path)!r}: {error}".splitlines()[0]) \
                from None
    return check_config(raw)


def _strategy_spec(spec: Any, index: int = 0) -> dict[str, Any]:
    field = f"strategies[{index}]"
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or "name" not in spec:
        raise ConfigError(f"{field}: each strategy must be a name or a table with 'name'; "
                          f"got {spec!r}.")
    strategy = strategy_class(str(spec["name"]))
    if strategy is None:
        raise ConfigError(f"{field}: unknown strategy {spec['name']!r}; known: "
                          f"{', '.join(known_strategies())}.")
    params = spec.get("params", {})
    if not isinstance(params, dict):
        raise ConfigError(f"{field}.params of strategy {spec['name']!r} must be a table; "
                          f"got {params!r}.")
    try:
        resolved = _resolve_params(params)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{field}.params: strategy {spec['name']!r}: {error}"
                          .splitlines()[0]) from None
    _check_strategy_params(strategy, params, resolved, f"{field}.params")
    try:
        strategy(**resolved)._check_params()  # the rules across parameters too
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{field}: strategy {spec['name']!r}: {error}".splitlines()[0]) \
            from None
    return {"name": str(spec["name"]), "label": str(spec.get("label", spec["name"])),
            "params": params}


def _check_strategy_params(strategy: type, raw: dict[str, Any], params: dict[str, Any],
                           field: str) -> None:
    """Refuse unknown names and values outside a parameter's constraints, naming the field.

    The constraints are the strategies' own
    (:meth:`~skal_power.strategies.QueryStrategy.parameter_constraints`), so a
    config is refused when it is read for what a query would refuse.
    """
    from skal_power._param_validation import (
        InvalidParameterError,
        validate_parameter_constraints,
    )

    constraints = strategy.parameter_constraints()
    for key, value in params.items():
        if key not in constraints:
            raise ConfigError(f"{field}.{key}: {strategy.__name__} has no parameter {key!r}; "
                              f"its parameters are {', '.join(sorted(constraints))}.")
        if key == "X_target" and isinstance(value, str) and value == "validation":
            continue  # the runner puts the validation set's inputs there
        checks = [(f"{field}.{key}", {key: constraints[key]}, {key: value}, strategy.__name__)]
        if key == "selector" and isinstance(raw[key], dict):  # a table: name its own fields
            checks = [(f"{field}.{key}.{name}", type(value)._parameter_constraints,
                       {name: inner}, type(value).__name__)
                      for name, inner in value.get_params(deep=False).items()] + checks
        for where, table, values, owner in checks:
            try:
                validate_parameter_constraints(table, values, owner)
            except InvalidParameterError as error:
                raise ConfigError(f"{where}: {error}") from None


def known_strategies() -> list[str]:
    """Names a config may give: the named strategies and the generic compositions."""
    import skal_power
    import skal_power.strategies as strategies
    from skal_power.strategies import PosteriorStrategy, QueryStrategy

    names = set(getattr(skal_power, "__all__", [])) | set(strategies.__all__)
    return sorted(n for n in names
                  if isinstance(getattr(strategies, n, getattr(skal_power, n, None)), type)
                  and issubclass(getattr(strategies, n, getattr(skal_power, n, None)),
                                 QueryStrategy)
                  and n not in ("QueryStrategy", PosteriorStrategy.__name__))


def strategy_class(name: str):
    """The strategy class a config names, or None."""
    import skal_power.strategies as strategies

    return getattr(strategies, name) if name in known_strategies() else None


def _resolve_params(params: dict[str, Any]) -> dict[str, Any]:
    """Config values to objects: ``{"schedule": "linear", ...}`` is a
    :class:`LinearSchedule`, ``"selector": {"name": "Power", "alpha": 5}`` a selector."""
    from skal_power import sampling
    from skal_power.sampling import LinearSchedule, Selector

    out = {}
    for key, value in params.items():
        if isinstance(value, dict) and value.get("schedule") == "linear":
            kwargs = {k: v for k, v in value.items() if k != "schedule"}
            value = LinearSchedule(**kwargs)
        elif key == "selector" and isinstance(value, dict):
            selector = getattr(sampling, str(value.get("name")), None)
            if not (isinstance(selector, type) and issubclass(selector, Selector)):
                raise ValueError(f"unknown selector {value.get('name')!r}; known: Top, Power, "
                                 "Softmax, Softrank, UniformTop.")
            value = selector(**_resolve_params({k: v for k, v in value.items()
                                                if k != "name"}))
        out[key] = value
    return out


def _positive_int(raw: dict[str, Any], key: str, *, minimum: int = 1) -> int:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key} must be an integer >= {minimum}; got {value!r}.")
    return value


def check_config(raw: Any) -> dict[str, Any]:
    """Validate a config dict, fill defaults and return a normalised copy.

    An :class:`ExperimentConfig` gives its table (:meth:`ExperimentConfig.to_dict`);
    :meth:`ExperimentConfig.from_dict` checks with these rules and types the result.

    Raises
    ------
    ConfigError
        With a one-line message naming the field.

    Examples
    --------
    >>> cfg = check_config({"strategies": ["BALD"], "budget": 20})
    >>> cfg["batch_size"], cfg["strategies"][0]["label"]
    (10, 'BALD')
    >>> check_config({"strategies": ["BALD"]})
    Traceback (most recent call last):
    ...
    skal_power.experiments._config.ConfigError: missing config field 'budget'.
    """
    if isinstance(raw, ExperimentConfig):
        return raw.to_dict()
    if not isinstance(raw, dict):
        raise ConfigError(f"config must be a table/object; got {type(raw).__name__}.")
    allowed = set(_DEFAULTS) | set(_OPTIONAL)
    unknown = sorted(set(raw) - allowed - {"n_jobs"})
    if unknown:
        raise ConfigError(f"unknown config field(s) {unknown}; allowed: {sorted(allowed)}.")
    config = copy.deepcopy(_DEFAULTS)
    config.update(copy.deepcopy({k: v for k, v in raw.items() if k != "n_jobs"}))
    for key, value in config.items():
        if value is None:
            raise ConfigError(f"missing config field {key!r}.")
    _check_initial(config)
    _check_counts(config)
    dataset = config["dataset"] = _dataset_entry(config["dataset"])
    config["model"] = _model_entry(config["model"], dataset)
    config["strategies"] = _strategy_entries(config["strategies"], dataset)
    return config


def _check_counts(config: dict[str, Any]) -> None:
    """``test_samples``, ``batch_size``, ``budget`` and ``seeds``."""
    if "test_samples" in config:
        _positive_int(config, "test_samples", minimum=0)
    batch = _positive_int(config, "batch_size")
    budget = _positive_int(config, "budget")
    if budget < batch:
        raise ConfigError(f"budget ({budget}) must be at least batch_size ({batch}).")
    seeds = config["seeds"]
    if (not isinstance(seeds, list) or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
            or len(set(seeds)) != len(seeds)):
        raise ConfigError("seeds must be a non-empty list of distinct integers >= 0; "
                          f"got {seeds!r}.")


def _dataset_entry(dataset: Any) -> dict[str, Any]:
    """The checked ``dataset`` table (a name alone is ``{"name": name}``)."""
    if isinstance(dataset, str):
        dataset = {"name": dataset}
    if not isinstance(dataset, dict) or dataset.get("name") not in _DATASETS:
        raise ConfigError(f"dataset name must be one of {list(_DATASETS)}; got {dataset!r}.")
    _check_dataset(dataset)
    for transform in dataset.get("transforms", []):
        if not isinstance(transform, dict) or transform.get("name") not in TRANSFORMS:
            raise ConfigError(f"transform must be a table with name in {list(TRANSFORMS)}; "
                              f"got {transform!r}.")
    return dataset


def _model_entry(model: Any, dataset: dict[str, Any]) -> dict[str, Any]:
    """The checked ``model`` table (a name alone is ``{"name": name}``)."""
    if isinstance(model, str):
        model = {"name": model}
    if not isinstance(model, dict) or "name" not in model:
        raise ConfigError(f"model must be a name or a table with 'name'; got {model!r}.")
    _check_model(model, dataset)
    return model


def _strategy_entries(strategies: Any, dataset: dict[str, Any]) -> list[dict[str, Any]]:
    """The checked strategy entries, ``{"name", "label", "params"}`` each."""
    if isinstance(strategies, (str, dict)):
        strategies = [strategies]
    if not isinstance(strategies, list) or not strategies:
        raise ConfigError(f"strategies must be a non-empty list; got {strategies!r}.")
    entries = [_strategy_spec(s, i) for i, s in enumerate(strategies)]
    if any(s["params"].get("X_target") == "validation" for s in entries) \
            and not dataset.get("validation_size"):
        raise ConfigError('X_target "validation" needs a validation set: set dataset '
                          "validation_size.")
    labels = [s["label"] for s in entries]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"strategy labels must be distinct (add 'label'); got {labels}.")
    return entries


def _check_initial(config: dict[str, Any]) -> None:
    initial = config["initial"]
    if isinstance(initial, dict):
        if set(initial) != {"per_class"}:
            raise ConfigError("initial must be an integer or {\"per_class\": n}; "
                              f"got {initial!r}.")
        _positive_int(initial, "per_class", minimum=1)
    else:
        _positive_int(config, "initial", minimum=0)


def _check_dataset(dataset: dict[str, Any]) -> None:
    own = dataset["name"] in ("file", "arrays")
    allowed = _DATASET_KEYS + (_USER_DATA_KEYS if own else ())
    unknown = sorted(set(dataset) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown dataset field(s) {unknown}; allowed: {list(allowed)}.")
    if own:
        _check_user_data(dataset)
    for key in ("pool_size", "test_size", "validation_size"):
        if own and key == "test_size" and isinstance(dataset.get(key), float):
            if not 0 < dataset[key] < 1:
                raise ConfigError(f"dataset test_size must be an integer >= 1 or a fraction "
                                  f"in (0, 1); got {dataset[key]!r}.")
        elif dataset.get(key) is not None:
            _positive_int(dataset, key)
    normalize = dataset.get("normalize")
    if normalize is not None:
        if not isinstance(normalize, dict) or set(normalize) != {"mean", "std"}:
            raise ConfigError("dataset normalize must be {\"mean\": m, \"std\": s} "
                              f"(scalars or per-feature lists); got {normalize!r}.")
        from skal_power.datasets import Normalize
        try:
            Normalize(**normalize)(np.zeros((1, _n_values(normalize))), np.zeros(1))
        except ValueError as error:
            raise ConfigError(f"dataset normalize: {error}") from None


def _check_user_data(dataset: dict[str, Any]) -> None:
    """The fields of a user's own data: ``path`` (files), ``label``, ``features``."""
    if dataset["name"] == "file":
        path = dataset.get("path")
        if not isinstance(path, str) or not path:
            raise ConfigError('dataset "file" needs path: the .npz, .csv or .parquet file of '
                              f"labelled data; got {path!r}.")
    elif "path" in dataset:
        raise ConfigError('dataset "arrays" takes no path (the arrays are given to '
                          'run_experiment); use name "file" for a file.')
    label = dataset.get("label", "y")
    if not isinstance(label, str) or not label:
        raise ConfigError(f"dataset label must be a column name or key; got {label!r}.")
    features = dataset.get("features")
    if features is not None and not (isinstance(features, str) or (
            isinstance(features, list) and features
            and all(isinstance(f, str) for f in features))):
        raise ConfigError("dataset features must be a column name or key, or a list of "
                          f"column names; got {features!r}.")


def _n_values(normalize: dict[str, Any]) -> int:
    sizes = [len(v) for v in normalize.values() if isinstance(v, (list, tuple))]
    return sizes[0] if sizes else 1


def _check_model(model: dict[str, Any], dataset: dict[str, Any]) -> None:
    unknown = sorted(set(model) - set(_MODEL_KEYS))
    if unknown:
        raise ConfigError(f"unknown model field(s) {unknown}; allowed: {list(_MODEL_KEYS)}.")
    stopping = model.get("early_stopping")
    if stopping is None:
        return
    if not isinstance(stopping, dict) or not set(stopping) <= {"patience", "monitor"}:
        raise ConfigError("model early_stopping must be {\"patience\": n} (optionally "
                          f"\"monitor\"); got {stopping!r}.")
    _positive_int({"patience": stopping.get("patience", 3)}, "patience")
    if stopping.get("monitor", "valid_loss") not in ("valid_loss", "valid_acc"):
        raise ConfigError("model early_stopping monitor must be 'valid_loss' or 'valid_acc'; "
                          f"got {stopping['monitor']!r}.")
    if not dataset.get("validation_size"):
        raise ConfigError("model early_stopping needs a validation set: set dataset "
                          "validation_size.")
    if model["name"] != "mc_dropout":
        raise ConfigError("model early_stopping works with the skorch model 'mc_dropout' only; "
                          f"got model {model['name']!r}.")


def config_hash(config: dict[str, Any] | ExperimentConfig) -> str:
    """Short SHA-256 of the canonical JSON of ``config`` without its ``seeds``.

    The hash identifies a results file (a typed config hashes as its
    :meth:`~ExperimentConfig.to_dict`). ``seeds`` is left out because a trial's
    rows depend only on its own seed: adding seeds to a study (to narrow its
    confidence intervals) resumes the same file, and the new seeds' trials run.
    Any other change (a strategy's parameters, the model, the budget) gives
    another hash, so rows of different protocols never mix.

    Examples
    --------
    >>> len(config_hash({"a": 1}))
    16
    >>> config_hash({"a": 1, "seeds": [0]}) == config_hash({"a": 1, "seeds": [0, 1, 2]})
    True
    """
    if isinstance(config, ExperimentConfig):
        config = config.to_dict()
    return _hash({key: value for key, value in config.items() if key != "seeds"})


def legacy_config_hash(config: dict[str, Any]) -> str:
    """The hash results files were written with before it left out ``seeds``.

    Examples
    --------
    >>> legacy_config_hash({"a": 1, "seeds": [0]}) == config_hash({"a": 1, "seeds": [0]})
    False
    """
    return _hash(config)


def _hash(config: dict[str, Any]) -> str:
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def n_rounds(config: dict[str, Any] | ExperimentConfig) -> int:
    """Number of result rows of one trial: one per acquisition plus the final evaluation.

    Examples
    --------
    >>> n_rounds({"budget": 25, "batch_size": 10})
    4
    """
    return math.ceil(config_field(config, "budget") / config_field(config, "batch_size")) + 1


# --- the typed config ------------------------------------------------------------------------

class _FrozenDict(dict):
    """A read-only dict: the parameter tables of a typed config (still a ``dict``, so that
    JSON, ``isinstance`` checks and pickling see what they saw before)."""

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a typed config is frozen: build another with dataclasses.replace "
                        "or ExperimentConfig.from_dict.")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only  # type: ignore[assignment]

    def __reduce__(self):
        return (_FrozenDict, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(json.dumps(_thaw(self), sort_keys=True, default=str))


class _FrozenList(tuple):
    """A list of a config, frozen (a tuple that :func:`_thaw` turns back into a list)."""

    __slots__ = ()


def _freeze(value: Any) -> Any:
    """Tables to read-only dicts and lists to tuples, all the way down."""
    if isinstance(value, dict):
        return _FrozenDict({key: _freeze(inner) for key, inner in value.items()})
    if isinstance(value, list):
        return _FrozenList(_freeze(inner) for inner in value)
    if type(value) is tuple:
        return tuple(_freeze(inner) for inner in value)
    return value


def _thaw(value: Any) -> Any:
    """The plain dicts and lists of a frozen value: what the config gave (a list stays a
    list and a tuple a tuple)."""
    if isinstance(value, dict):
        return {key: _thaw(inner) for key, inner in value.items()}
    if isinstance(value, _FrozenList):
        return [_thaw(inner) for inner in value]
    if type(value) is tuple:
        return tuple(_thaw(inner) for inner in value)
    return value


@dataclass(frozen=True)
class TransformSpec:
    """One pool transform of a dataset: its name and its parameters.

    Examples
    --------
    >>> spec = TransformSpec.from_dict({"name": "LabelNoise", "rate": 0.1})
    >>> spec.name, dict(spec.params), spec.to_dict()
    ('LabelNoise', {'rate': 0.1}, {'name': 'LabelNoise', 'rate': 0.1})
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=_FrozenDict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "TransformSpec":
        """The spec of a checked transform table (``{"name": ..., **params}``)."""
        return cls(raw["name"], _freeze({k: v for k, v in raw.items() if k != "name"}))

    def to_dict(self) -> dict[str, Any]:
        """The transform's table, as a config gives it."""
        return {"name": self.name, **_thaw(self.params)}


@dataclass(frozen=True)
class DatasetSpec:
    """The data of an experiment (``config["dataset"]``): a shipped dataset or the user's own.

    A field a config leaves out is None (``transforms``: empty); ``given`` lists
    the fields the config gave, so that :meth:`to_dict` gives back the same
    table, and the same :func:`config_hash`.

    Examples
    --------
    >>> spec = DatasetSpec.from_dict({"name": "digits", "test_size": 500})
    >>> spec.name, spec.test_size, spec.validation_size, spec.transforms
    ('digits', 500, None, ())
    >>> spec.to_dict()
    {'name': 'digits', 'test_size': 500}
    """

    name: str
    pool_size: int | None = None
    test_size: int | float | None = None
    validation_size: int | None = None
    normalize: Mapping[str, Any] | None = None
    transforms: tuple[TransformSpec, ...] = ()
    path: str | None = None
    label: str | None = None
    features: str | tuple[str, ...] | None = None
    sha256: str | None = None
    given: tuple[str, ...] = ("name",)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "DatasetSpec":
        """The spec of a checked dataset table (see :func:`check_config`)."""
        values = {key: _freeze(value) for key, value in raw.items() if key != "transforms"}
        transforms = tuple(TransformSpec.from_dict(t) for t in raw.get("transforms") or ())
        return cls(**values, transforms=transforms, given=tuple(raw))

    def to_dict(self) -> dict[str, Any]:
        """The dataset's table, with the fields the config gave."""
        out = {}
        for key in self.given:
            if key == "transforms":
                out[key] = [t.to_dict() for t in self.transforms]
            else:
                out[key] = _thaw(getattr(self, key))
        return out


@dataclass(frozen=True)
class ModelSpec:
    """The model of an experiment (``config["model"]``): its name, parameters, early stopping.

    Examples
    --------
    >>> spec = ModelSpec.from_dict({"name": "extra_trees", "params": {"n_estimators": 30}})
    >>> spec.name, spec.params["n_estimators"], spec.early_stopping
    ('extra_trees', 30, None)
    >>> spec.to_dict()
    {'name': 'extra_trees', 'params': {'n_estimators': 30}}
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=_FrozenDict)
    early_stopping: Mapping[str, Any] | None = None
    given: tuple[str, ...] = ("name",)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "ModelSpec":
        """The spec of a checked model table (see :func:`check_config`)."""
        params = raw.get("params")
        return cls(raw["name"], _freeze(params) if params is not None else _FrozenDict(),
                   _freeze(raw.get("early_stopping")), given=tuple(raw))

    def to_dict(self) -> dict[str, Any]:
        """The model's table, with the fields the config gave."""
        return {key: _thaw(getattr(self, key)) for key in self.given}


@dataclass(frozen=True)
class StrategySpec:
    """One strategy of an experiment: its class name, its label in results, its parameters.

    Examples
    --------
    >>> spec = StrategySpec("PowerBALD", "PowerBALD", {"alpha": 5.0})
    >>> spec.params["alpha"], spec.to_dict()
    (5.0, {'name': 'PowerBALD', 'label': 'PowerBALD', 'params': {'alpha': 5.0}})
    """

    name: str
    label: str
    params: Mapping[str, Any] = field(default_factory=_FrozenDict)

    def __post_init__(self) -> None:
        if not isinstance(self.params, _FrozenDict):
            object.__setattr__(self, "params", _freeze(dict(self.params)))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "StrategySpec":
        """The spec of a checked strategy entry (``{"name", "label", "params"}``)."""
        return cls(raw["name"], raw["label"], _freeze(raw["params"]))

    def to_dict(self) -> dict[str, Any]:
        """The checked entry: ``{"name", "label", "params"}``."""
        return {"name": self.name, "label": self.label, "params": _thaw(self.params)}


@dataclass(frozen=True)
class InitialSpec:
    """The initial labelled set: ``size`` points drawn uniformly, or ``size`` of every class.

    Examples
    --------
    >>> InitialSpec.from_value({"per_class": 2})
    InitialSpec(size=2, per_class=True)
    >>> InitialSpec(20).to_value()
    20
    """

    size: int
    per_class: bool = False

    @classmethod
    def from_value(cls, raw: int | dict[str, int]) -> "InitialSpec":
        """The spec of a checked ``initial`` (``n`` or ``{"per_class": n}``)."""
        if isinstance(raw, dict):
            return cls(raw["per_class"], per_class=True)
        return cls(raw)

    def to_value(self) -> int | dict[str, int]:
        """``initial`` as a config gives it."""
        return {"per_class": self.size} if self.per_class else self.size


@dataclass(frozen=True)
class ExperimentConfig:
    """A checked experiment config, typed and frozen.

    :meth:`from_dict` checks a config table with :func:`check_config`'s rules
    (a :class:`ConfigError` names the bad field) and fills its defaults;
    :meth:`to_dict` gives back the checked table, whose :func:`config_hash`
    identifies a results file, so a typed config resumes the files its dict wrote.

    Examples
    --------
    >>> config = ExperimentConfig.from_dict(PRESETS["digits-demo"])
    >>> config.budget, config.model.name, config.initial
    (100, 'extra_trees', InitialSpec(size=2, per_class=True))
    >>> [s.label for s in config.strategies]
    ['RandomSampling', 'BALD', 'PowerBALD']
    >>> config_hash(config.to_dict()) == config_hash(check_config(PRESETS["digits-demo"]))
    True
    >>> ExperimentConfig.from_dict({"strategies": ["BALD"], "budget": 5})
    Traceback (most recent call last):
    ...
    skal_power.experiments._config.ConfigError: budget (5) must be at least batch_size (10).
    """

    name: Any
    dataset: DatasetSpec
    model: ModelSpec
    strategies: tuple[StrategySpec, ...]
    initial: InitialSpec
    batch_size: int
    budget: int
    seeds: tuple[int, ...]
    test_samples: int | None = None

    @classmethod
    def from_dict(cls, raw: Any) -> "ExperimentConfig":
        """Check a config table (see :func:`check_config`) and type it.

        Raises
        ------
        ConfigError
            With a one-line message naming the field.
        """
        if isinstance(raw, ExperimentConfig):
            return raw
        return cls._from_checked(check_config(raw))

    @classmethod
    def _from_checked(cls, config: dict[str, Any]) -> "ExperimentConfig":
        """Type a table that :func:`check_config` returned (no second check)."""
        return cls(
            name=config["name"],
            dataset=DatasetSpec.from_dict(config["dataset"]),
            model=ModelSpec.from_dict(config["model"]),
            strategies=tuple(StrategySpec.from_dict(s) for s in config["strategies"]),
            initial=InitialSpec.from_value(config["initial"]),
            batch_size=config["batch_size"],
            budget=config["budget"],
            seeds=tuple(config["seeds"]),
            test_samples=config.get("test_samples"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The checked config table (what :func:`check_config` returns), a fresh copy."""
        out = {
            "name": _thaw(self.name),
            "dataset": self.dataset.to_dict(),
            "model": self.model.to_dict(),
            "strategies": [s.to_dict() for s in self.strategies],
            "initial": self.initial.to_value(),
            "batch_size": self.batch_size,
            "budget": self.budget,
            "seeds": list(self.seeds),
        }
        if self.test_samples is not None:
            out["test_samples"] = self.test_samples
        return out

    def strategy(self, label: str) -> StrategySpec:
        """The strategy whose results carry ``label``."""
        for spec in self.strategies:
            if spec.label == label:
                return spec
        raise KeyError(f"no strategy labelled {label!r}; labels: "
                       f"{[s.label for s in self.strategies]}.")


# --- reading a section of a typed config or of a (possibly partial) config table -------------

def config_field(config: Any, key: str, default: Any = None) -> Any:
    """A top-level value (``budget``, ``seeds``, ...) of a typed config or a config table."""
    if isinstance(config, ExperimentConfig):
        value = getattr(config, key)
        return default if value is None else value
    return config.get(key, default)


def dataset_spec(config: Any) -> DatasetSpec:
    """The :class:`DatasetSpec` of a typed config, or of a table's ``dataset`` entry (its
    fields that a dataset has; others are ignored, as they were)."""
    if isinstance(config, ExperimentConfig):
        return config.dataset
    return _dataset_of(config["dataset"])


def _dataset_of(table: Any) -> DatasetSpec:
    if isinstance(table, DatasetSpec):
        return table
    known = set(_DATASET_KEYS) | set(_USER_DATA_KEYS)
    return DatasetSpec.from_dict({k: v for k, v in table.items() if k in known})


def model_spec(config: Any) -> ModelSpec:
    """The :class:`ModelSpec` of a typed config, or of a table's ``model`` entry."""
    if isinstance(config, ExperimentConfig):
        return config.model
    return ModelSpec.from_dict({k: v for k, v in config["model"].items() if k in _MODEL_KEYS})


def initial_spec(config: Any) -> InitialSpec:
    """The :class:`InitialSpec` of a typed config, or of a table's ``initial`` entry."""
    if isinstance(config, ExperimentConfig):
        return config.initial
    return InitialSpec.from_value(config["initial"])


def strategy_labels(config: Any) -> list[str]:
    """The strategies' labels of a typed config, or of a table's ``strategies`` entries."""
    if isinstance(config, ExperimentConfig):
        return [spec.label for spec in config.strategies]
    return [spec["label"] for spec in config["strategies"]]
