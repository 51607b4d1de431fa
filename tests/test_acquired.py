"""What strategies spent labels on: TrialData.source, acquired_fractions, fraction_table."""

import json

import numpy as np
import pandas as pd
import pytest

from skal_power.cli import main
from skal_power.experiments import (
    acquired_fractions,
    fraction_table,
    initial_indices,
    load_config,
    make_data,
)


def _config(transforms, pool_size=60, initial=2):
    return {"dataset": {"name": "digits", "test_size": 300, "pool_size": pool_size,
                        "transforms": transforms}, "initial": initial}


def _rows(strategy, seed, batches):
    return pd.DataFrame({"strategy": strategy, "seed": seed, "round": range(len(batches)),
                         "acquired": [" ".join(map(str, batch)) for batch in batches]})


# ---------------------------------------------------------------- TrialData.source

def test_source_maps_every_copy_to_the_image_it_copies():
    data = make_data(_config([{"name": "RepeatWithNoise", "k": 3, "noise_std": 0.1}]), 0)
    assert len(data.y_pool) == 180
    np.testing.assert_array_equal(data.source, np.arange(180) % 60)
    # copies of one image differ by the noise only; different images by much more
    copy_gap = np.abs(data.X_pool[:60] - data.X_pool[60:120]).max()
    other_gap = np.abs(data.X_pool[:60] - data.X_pool[1:61]).max()
    assert copy_gap < 1.0 < other_gap
    np.testing.assert_array_equal(data.y_pool[:60], data.y_pool[120:])


@pytest.mark.parametrize("transforms", [
    [],
    [{"name": "HeteroscedasticNoise", "scales": [1.0] * 10}],
    [{"name": "RepeatWithNoise", "k": 2}, {"name": "OutOfDistribution", "fraction": 0.2}],
    [{"name": "RepeatWithNoise", "k": 2},
     {"name": "ClassImbalance", "ratios": [1, 1, 1, 1, 1, 0.2, 0.2, 0.2, 0.2, 0.2]}],
])
def test_no_source_without_copies_or_once_rows_are_no_longer_copies(transforms):
    assert make_data(_config(transforms), 0).source is None


def test_held_out_classes_keep_the_copies_and_the_ood_mask_follows_a_repeat():
    held_out = [{"name": "OutOfDistribution", "classes": [7, 8, 9]}]
    repeat = [{"name": "RepeatWithNoise", "k": 2}]
    # OOD classes after a repeat: the images are still copies
    after = make_data(_config(repeat + held_out), 0)
    np.testing.assert_array_equal(after.source, np.arange(120) % 60)
    # OOD classes before a repeat: each copy of an OOD image is OOD (it was dropped before)
    before = make_data(_config(held_out + repeat), 0)
    plain = make_data(_config(held_out), 0)
    np.testing.assert_array_equal(before.ood_mask, np.tile(plain.ood_mask, 2))
    assert before.ood_mask.any() and not before.ood_mask.all()


# ---------------------------------------------------------------- acquired_fractions

def test_copies_count_the_initial_set_earlier_rounds_and_the_same_batch():
    config = _config([{"name": "RepeatWithNoise", "k": 2}], initial=2)
    data = make_data(config, 0)
    first, second = (int(i) for i in initial_indices(config, 0, data.y_pool))
    fresh = [i for i in range(60) if i not in (first % 60, second % 60)]
    batches = [
        [(first + 60) % 120, fresh[0]],      # a copy of an initial image; a new image
        [fresh[0] + 60, fresh[1], fresh[1] + 60],  # an earlier round's; new; same batch's
        [fresh[2]],                          # new
    ]
    rows = pd.concat([_rows("A", 0, batches), _rows("B", 0, [[fresh[3], fresh[4]]])])
    fractions = acquired_fractions(rows, config, kind="copies")
    assert fractions.columns.tolist() == ["A", "B"]
    assert fractions.loc[0, "A"] == pytest.approx(3 / 6)
    assert fractions.loc[0, "B"] == 0.0


def test_copies_are_found_in_a_real_run_and_random_takes_few():
    config = load_config({
        "name": "copies", "dataset": {"name": "digits", "test_size": 300, "pool_size": 300,
                                      "transforms": [{"name": "RepeatWithNoise", "k": 3}]},
        "model": {"name": "extra_trees", "params": {"n_estimators": 10}},
        "strategies": ["RandomSampling", "BALD"], "initial": 10, "batch_size": 10,
        "budget": 30, "seeds": [0]})
    from skal_power.experiments import run_experiment, load_results
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = run_experiment(config, Path(folder) / "copies.csv")
        results = load_results(path)
    fractions = acquired_fractions(results, config, kind="copies")
    # brute force: the images labelled before each pick, from the rows themselves
    data = make_data(config, 0)
    for strategy in ("RandomSampling", "BALD"):
        trial = results[results["strategy"] == strategy].sort_values("round")
        seen = set((initial_indices(config, 0, data.y_pool) % 300).tolist())
        copies = picks = 0
        for cell in trial["acquired"].dropna():
            for row in map(int, cell.split()):
                copies += (row % 300) in seen
                picks += 1
                seen.add(row % 300)
        assert picks == 30
        assert fractions.loc[0, strategy] == pytest.approx(copies / picks)


def test_ood_fraction_is_the_mask_share_of_the_picks():
    config = _config([{"name": "OutOfDistribution", "fraction": 0.5}])
    mask = make_data(config, 1).ood_mask
    inside, outside = np.flatnonzero(~mask)[:3], np.flatnonzero(mask)[:1]
    rows = _rows("A", 1, [inside.tolist(), outside.tolist()])
    assert acquired_fractions(rows, config, kind="ood").loc[1, "A"] == pytest.approx(0.25)
    assert acquired_fractions(rows, config, kind="copies") is None


def test_a_pool_without_the_flaw_gives_none_and_a_bad_kind_fails():
    rows = _rows("A", 0, [[1, 2]])
    assert acquired_fractions(rows, _config([]), kind="ood") is None
    assert acquired_fractions(rows, _config([]), kind="copies") is None
    with pytest.raises(ValueError, match="kind must be one of"):
        acquired_fractions(rows, _config([]), kind="duplicates")


def test_fraction_table_pairs_by_seed_against_the_reference():
    fractions = pd.DataFrame({"BALD": [0.5, 0.6], "Other": [0.3, 0.5]}, index=[0, 1])
    table = fraction_table(fractions, column="copies").splitlines()
    assert table[0] == "| strategy | copies | minus BALD's |"
    assert table[2].startswith("| BALD | 55% ± ") and table[2].endswith("| – |")
    # paired differences −20 and −10 points: mean −15, half-width 12.706 · 5 = 64 points
    assert table[3] == "| Other | 40% ± 127% | -15 ± 64 pp |"
    one_seed = fraction_table(fractions.iloc[:1], reference="Missing").splitlines()
    assert one_seed[2:] == ["| BALD | 50% | – |", "| Other | 30% | – |"]


# ---------------------------------------------------------------- the report

def test_report_says_what_share_of_labels_went_to_copies(tmp_path, capsys):
    config = {"name": "rep", "dataset": {"name": "digits", "test_size": 300, "pool_size": 200,
                                         "transforms": [{"name": "RepeatWithNoise", "k": 2}]},
              "model": {"name": "extra_trees", "params": {"n_estimators": 10}},
              "strategies": ["RandomSampling", "BALD"], "initial": 10, "batch_size": 10,
              "budget": 20, "seeds": [0, 1]}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))
    results = tmp_path / "rep.csv"
    assert main(["run", "--config", str(path), "-o", str(results), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["report", str(results)]) == 0
    out = capsys.readouterr().out
    assert "Share of acquired labels that were copies" in out
    assert "| strategy | copies | minus RandomSampling's |" in out
    assert "out of distribution" not in out  # no OOD transform: no OOD table
