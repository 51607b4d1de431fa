"""What a study cost so far and what its rounds left would cost (skal_power.experiments._costs)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from skal_power.experiments import (
    check_config,
    cost_summary,
    cost_table,
    n_rounds,
    remaining_cost,
    run_experiment,
    timings_path,
)

CONFIG = {
    "name": "test-costs",
    "dataset": {"name": "digits", "test_size": 300},
    "model": {"name": "extra_trees", "params": {"n_estimators": 5}},
    "strategies": ["RandomSampling", "BALD", "PowerBALD"],
    "initial": 10,
    "batch_size": 10,
    "budget": 20,
    "seeds": [0, 1, 2],
}


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    """Seed 0 run for every strategy; then PowerBALD's timings dropped, as if unmeasured."""
    config = check_config(CONFIG)
    out = tmp_path_factory.mktemp("costs") / "r.csv"
    run_experiment({**config, "seeds": [0]}, out)
    timings = pd.read_csv(timings_path(out), comment="#")
    header = timings_path(out).read_text().splitlines()[0]
    kept = timings[timings["strategy"] != "PowerBALD"]
    timings_path(out).write_text(header + "\n" + kept.to_csv(index=False))
    return config, out


def test_rounds_left_count_every_seed_less_the_rows_run(partial):
    config, out = partial
    left = remaining_cost(out, config)
    assert list(left.index) == ["RandomSampling", "BALD", "PowerBALD"]  # config order
    assert left["rounds_left"].tolist() == [2 * n_rounds(config)] * 3


def test_minutes_left_are_rounds_left_at_the_mean_cost_so_far(partial):
    config, out = partial
    left = remaining_cost(out, config)
    summary = cost_summary(out)
    per_round = summary.loc["BALD", "fit_per_round"] + summary.loc["BALD", "query_per_round"]
    assert math.isclose(left.loc["BALD", "minutes_left"],
                        left.loc["BALD", "rounds_left"] * per_round / 60)
    assert math.isnan(left.loc["PowerBALD", "minutes_left"])  # no timing yet


def test_table_names_the_unmeasured_rounds(partial):
    config, out = partial
    plain = cost_table(out)
    assert "rounds left" not in plain and "PowerBALD" not in plain
    table = cost_table(out, config).splitlines()
    assert table[0].endswith("| rounds left | left (min, est.) |")
    power = next(line for line in table if line.startswith("| PowerBALD |"))
    assert power == f"| PowerBALD | 0 | – | – | 0.0 | {2 * n_rounds(config)} | – |"
    assert table[-1].endswith(f"| {6 * n_rounds(config)} | "
                              f"{remaining_cost(out, config)['minutes_left'].sum():.1f} "
                              f"+ {2 * n_rounds(config)} unmeasured rounds |")


def test_a_finished_study_has_nothing_left(partial, tmp_path):
    config, _ = partial
    done = {**config, "seeds": [0]}
    out = run_experiment(done, tmp_path / "done.csv")
    assert remaining_cost(out, done)["rounds_left"].sum() == 0
    assert cost_table(out, done).splitlines()[-1].endswith("| 0 | 0.0 |")
    nothing = remaining_cost(tmp_path / "absent.csv", done)
    assert nothing["rounds_left"].tolist() == [n_rounds(done)] * 3
    assert cost_table(tmp_path / "absent.csv", done) == ""
