import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skal_power.experiments import (
    ConfigError,
    ResultsFileError,
    check_config,
    load_results,
    plot_curves,
    report_table,
    run_experiment,
    summarize,
)

ROOT = Path(__file__).resolve().parents[1]

SMALL = {
    "name": "test-small",
    "dataset": {"name": "digits", "test_size": 300},
    "model": {"name": "extra_trees", "params": {"n_estimators": 10}},
    "strategies": ["RandomSampling", "BALD"],
    "initial": 10,
    "batch_size": 10,
    "budget": 40,
    "seeds": [0, 1],
}


def test_rows_per_round_and_seeding(tmp_path):
    out = run_experiment(SMALL, tmp_path / "r.csv")
    frame = load_results(out)
    assert len(frame) == 2 * 2 * 5
    for (_, seed), trial in frame.groupby(["strategy", "seed"]):
        assert trial["round"].tolist() == list(range(5))
        assert trial["n_labelled"].tolist() == [10, 20, 30, 40, 50]
        acquired = [int(i) for a in trial["acquired"].dropna() for i in str(a).split()]
        assert len(acquired) == len(set(acquired)) == 40
    # same seed -> same initial set and data: round-0 metrics agree across strategies
    first = frame[frame["round"] == 0].set_index(["strategy", "seed"])["accuracy"]
    assert first["BALD", 0] == first["RandomSampling", 0]
    # a second identical run gives a byte-identical file
    again = run_experiment(SMALL, tmp_path / "r2.csv")
    assert again.read_bytes() == out.read_bytes()


def test_parallel_trials_same_file_as_sequential(tmp_path):
    one = run_experiment(SMALL, tmp_path / "one.csv", n_jobs=1)
    two = run_experiment(SMALL, tmp_path / "two.csv", n_jobs=2)
    assert one.read_bytes() == two.read_bytes()


_SCRIPT = """
import sys
from skal_power.experiments import run_experiment
import json
run_experiment(json.loads(sys.argv[1]), sys.argv[2])
"""


def test_sigkill_then_resume_gives_identical_file(tmp_path):
    config = dict(SMALL, budget=300, seeds=[0, 1], strategies=["BALD"])
    reference = run_experiment(config, tmp_path / "ref.csv")
    out = tmp_path / "killed.csv"
    process = subprocess.Popen([sys.executable, "-c", _SCRIPT, json.dumps(config), str(out)],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if out.exists() and out.read_text().count("\n") >= 6:  # header + >= 4 rows
            break
        if process.poll() is not None:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the run finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = out.read_text().count("\n") - 2
    assert 0 < partial < 2 * 31
    # a torn final write (killed mid-line) is dropped on resume
    with open(out, "a") as handle:
        handle.write("BALD,1,99,12")
    run_experiment(config, out)
    assert out.read_bytes() == reference.read_bytes()


def test_foreign_or_corrupt_results_file_refused_untouched(tmp_path):
    out = run_experiment(SMALL, tmp_path / "r.csv")
    before = out.read_bytes()
    other = dict(SMALL, budget=50)
    with pytest.raises(ResultsFileError, match="another config"):
        run_experiment(other, out)
    assert out.read_bytes() == before
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ResultsFileError, match="not a skal-power results file"):
        run_experiment(SMALL, junk)
    assert junk.read_text() == "a,b,c\n1,2,3\n"
    broken = tmp_path / "broken.csv"
    broken.write_bytes(before.replace(b"BALD,0,1,", b"BALD,0,", 1))
    with pytest.raises(ResultsFileError, match="corrupt"):
        run_experiment(SMALL, broken)


def test_cold_start_with_alpha_schedule(tmp_path):
    config = dict(SMALL, initial=0, seeds=[0], strategies=[
        {"name": "PowerBALD",
         "params": {"alpha": {"schedule": "linear", "start": 0.0, "stop": 5.0, "n_rounds": 3}}}])
    frame = load_results(run_experiment(config, tmp_path / "cold.csv"))
    assert frame["n_labelled"].tolist() == [0, 10, 20, 30, 40]
    assert np.isnan(frame["accuracy"].iloc[0]) and frame["accuracy"].iloc[1:].notna().all()


def test_training_data_reaches_evaluation_strategies(tmp_path):
    config = dict(SMALL, seeds=[0], budget=10, strategies=[
        {"name": "EvaluationBALD", "params": {"eval_size": 50}}])
    frame = load_results(run_experiment(config, tmp_path / "eval.csv"))
    assert frame["n_labelled"].tolist() == [10, 20]


@pytest.mark.parametrize("change, message", [
    ({"strategies": ["NoSuchBALD"]}, "unknown strategy 'NoSuchBALD'"),
    ({"budget": 5}, "budget \\(5\\) must be at least batch_size \\(10\\)"),
    ({"budget": None}, "missing config field 'budget'"),
    ({"seeds": []}, "seeds"),
    ({"dataset": {"name": "cifar"}}, "dataset name"),
    ({"colour": "red"}, "unknown config field"),
    ({"strategies": ["BALD", "BALD"]}, "distinct"),
])
def test_bad_configs(change, message):
    config = {**SMALL, **change}
    if change.get("budget", 0) is None:
        del config["budget"]
    with pytest.raises(ConfigError, match=message):
        check_config(config)


def test_summary_ci_matches_student_t():
    from scipy import stats

    values = np.array([0.5, 0.55, 0.7, 0.62, 0.58])
    frame = pd.DataFrame({"strategy": "A", "n_labelled": 10, "accuracy": values})
    row = summarize(frame).iloc[0]
    expected = stats.t.ppf(0.975, 4) * values.std(ddof=1) / np.sqrt(5)
    assert row["mean"] == pytest.approx(values.mean())
    assert row["ci95"] == pytest.approx(expected)
    assert "0.590 ±" in report_table(frame, at=[10])


def test_plot_png_and_svg(tmp_path):
    frame = load_results(run_experiment(dict(SMALL, seeds=[0, 1]), tmp_path / "r.csv"))
    for suffix in ("png", "svg"):
        path = plot_curves(frame, tmp_path / f"c.{suffix}")
        assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="png or .svg"):
        plot_curves(frame, tmp_path / "c.pdf")


def test_claims_benchmark_miniature(tmp_path):
    import importlib.util

    path = ROOT / "benchmarks" / "claims" / "claims.py"
    spec = importlib.util.spec_from_file_location("claims_benchmark", path)
    claims = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(claims)
    page = tmp_path / "claims.md"
    verdicts = claims.main(["--mini", "--output-dir", str(tmp_path), "--page", str(page)])
    assert len(verdicts) == 5
    assert set(verdicts) <= {"held", "not held", "inconclusive", "not run"}
    text = page.read_text()
    assert text.count("## Claim ") == 5 and "reduced run" in text
    for setting in ("small", "large"):
        frame = load_results(tmp_path / f"claims-{setting}-batch.csv")
        assert frame["strategy"].nunique() >= 7
        assert (tmp_path / f"claims-{setting}-batch.png").stat().st_size > 1000
