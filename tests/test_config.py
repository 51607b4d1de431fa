"""The typed, frozen experiment config: the same checked table, the same hash."""

import copy
import dataclasses
import json
import pickle
from pathlib import Path

import pytest

from skal_power.experiments import (
    PRESETS,
    ConfigError,
    DatasetSpec,
    ExperimentConfig,
    InitialSpec,
    ModelSpec,
    StrategySpec,
    check_config,
    config_hash,
    load_config,
)
from skal_power.experiments._results import file_config_hash

ROOT = Path(__file__).resolve().parent.parent
#: Every config the benchmarks ship or saved beside a results file.
BENCHMARK_CONFIGS = sorted((ROOT / "benchmarks").rglob("*.json"))


def _raw(path: Path) -> dict:
    return json.loads(path.read_text())


def test_there_are_benchmark_configs():
    assert len(BENCHMARK_CONFIGS) >= 20


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_round_trips_to_the_checked_table(name):
    typed = ExperimentConfig.from_dict(PRESETS[name])
    assert typed.to_dict() == check_config(PRESETS[name])
    assert config_hash(typed.to_dict()) == config_hash(load_config(name))


@pytest.mark.parametrize("path", BENCHMARK_CONFIGS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_benchmark_config_keeps_its_hash(path):
    """to_dict is the table today's code hashes, so every results file still resumes."""
    raw = _raw(path)
    typed = ExperimentConfig.from_dict(raw)
    assert typed.to_dict() == check_config(raw)
    assert config_hash(typed.to_dict()) == config_hash(check_config(raw))
    assert ExperimentConfig.from_dict(typed.to_dict()) == typed
    results = path.with_name(path.name.replace(".config.json", ".csv"))
    if path.name.endswith(".config.json") and results.exists():
        assert config_hash(typed.to_dict()) == file_config_hash(results)


def test_saved_configs_beside_results_are_checked():
    """The header check above runs for the studies' results files, not for none."""
    beside = [p for p in BENCHMARK_CONFIGS if p.name.endswith(".config.json")
              and p.with_name(p.name.replace(".config.json", ".csv")).exists()]
    assert len(beside) >= 15


def test_fields_are_typed():
    config = ExperimentConfig.from_dict({
        "strategies": ["BALD", {"name": "PowerBALD", "label": "p", "params": {"alpha": 2.0}}],
        "budget": 20, "initial": 5, "test_samples": 3,
        "dataset": {"name": "digits", "validation_size": 50,
                    "transforms": [{"name": "LabelNoise", "rate": 0.1}]},
        "model": "random_forest"})
    assert isinstance(config.dataset, DatasetSpec) and isinstance(config.model, ModelSpec)
    assert config.dataset.validation_size == 50 and config.dataset.pool_size is None
    assert config.dataset.transforms[0].name == "LabelNoise"
    assert config.dataset.transforms[0].params == {"rate": 0.1}
    assert config.model.name == "random_forest" and config.model.params == {}
    assert config.strategies[1] == StrategySpec("PowerBALD", "p", {"alpha": 2.0})
    assert config.strategy("p").params["alpha"] == 2.0
    assert config.initial == InitialSpec(5) and config.seeds == (0, 1, 2)
    assert config.test_samples == 3 and config.batch_size == 10
    assert "test_samples" in config.to_dict()
    assert "test_samples" not in ExperimentConfig.from_dict(
        {"strategies": ["BALD"], "budget": 20}).to_dict()


def test_frozen_all_the_way_down():
    config = ExperimentConfig.from_dict(PRESETS["digits-demo"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.budget = 5
    with pytest.raises(TypeError, match="frozen"):
        config.strategies[2].params["alpha"] = 1.0
    with pytest.raises(TypeError, match="frozen"):
        config.model.params["n_estimators"] = 1
    # to_dict gives a copy: changing it leaves the config as it was
    table = config.to_dict()
    table["model"]["params"]["n_estimators"] = 1
    assert config.model.params["n_estimators"] == 30
    # the input is copied too
    raw = copy.deepcopy(PRESETS["digits-demo"])
    typed = ExperimentConfig.from_dict(raw)
    raw["strategies"][2]["params"]["alpha"] = 1.0
    assert typed.strategies[2].params["alpha"] == 5.0


def test_pickles_for_parallel_trials():
    config = ExperimentConfig.from_dict(PRESETS["digits-demo"])
    again = pickle.loads(pickle.dumps(config))
    assert again == config and again.to_dict() == config.to_dict()
    with pytest.raises(TypeError, match="frozen"):
        again.model.params["n_estimators"] = 1


def test_given_fields_only():
    """A field the config gave as null stays in the table (and in the hash)."""
    raw = {"strategies": ["BALD"], "budget": 20,
           "dataset": {"name": "digits", "validation_size": None}}
    typed = ExperimentConfig.from_dict(raw)
    assert typed.to_dict()["dataset"] == {"name": "digits", "validation_size": None}
    assert config_hash(typed.to_dict()) == config_hash(check_config(raw))


def test_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"strategies\[1\]: unknown strategy 'Nope'"):
        ExperimentConfig.from_dict({"strategies": ["BALD", "Nope"], "budget": 20})
    with pytest.raises(ConfigError, match=r"strategies\[0\]\.params\.alpha"):
        ExperimentConfig.from_dict({"strategies": [{"name": "PowerBALD",
                                                    "params": {"alpha": -1.0}}], "budget": 20})
    with pytest.raises(ConfigError, match="missing config field 'budget'"):
        ExperimentConfig.from_dict({"strategies": ["BALD"]})


def test_load_and_check_take_the_typed_config():
    typed = ExperimentConfig.from_dict(PRESETS["digits-demo"])
    assert load_config(typed) == check_config(typed) == check_config(PRESETS["digits-demo"])
    assert ExperimentConfig.from_dict(typed) is typed


def test_tuples_and_lists_come_back_as_given():
    raw = {"strategies": ["BALD"], "budget": 20,
           "model": {"name": "extra_trees", "params": {"a": (1, 2), "b": [1, [2]]}}}
    params = ExperimentConfig.from_dict(raw).to_dict()["model"]["params"]
    assert params == {"a": (1, 2), "b": [1, [2]]}
    assert type(params["a"]) is tuple and type(params["b"][1]) is list


def test_runner_saves_and_hashes_the_checked_table(tmp_path):
    """The runner types the config once; the file it writes is the dict code's, byte for byte
    (compared by hand against the code before the typed config, for digits with transforms
    and for arrays; here against check_config's table)."""
    from skal_power.experiments import load_results, run_experiment

    raw = {"name": "t", "strategies": ["RandomSampling"], "budget": 4, "batch_size": 2,
           "seeds": [0], "initial": 5, "dataset": {"name": "digits", "test_size": 200,
                                                   "pool_size": 100,
                                                   "transforms": [{"name": "LabelNoise",
                                                                   "rate": 0.1}]},
           "model": {"name": "extra_trees", "params": {"n_estimators": 3}}}
    out = run_experiment(ExperimentConfig.from_dict(raw), tmp_path / "t.csv")
    assert file_config_hash(out) == config_hash(check_config(raw))
    saved = (tmp_path / "t.config.json").read_text()
    assert saved == json.dumps(check_config(raw), indent=2, sort_keys=True, default=str)
    again = run_experiment(raw, tmp_path / "t.csv")  # the dict resumes the typed run's file
    assert load_results(again)["n_labelled"].tolist() == [5, 7, 9]


def test_report_helpers_take_the_typed_config(tmp_path):
    import pandas as pd

    from skal_power.cli import protocol_text
    from skal_power.experiments import complete_seeds, experiment_title, n_rounds

    table = check_config(PRESETS["digits-demo"])
    typed = ExperimentConfig.from_dict(table)
    frame = pd.DataFrame({"strategy": ["BALD"] * 11, "seed": [0] * 11})
    assert experiment_title(typed, frame) == experiment_title(table, frame)
    assert protocol_text(typed) == protocol_text(table)
    assert n_rounds(typed) == n_rounds(table) == 11
    assert complete_seeds(frame, typed) == complete_seeds(frame, table) == []
