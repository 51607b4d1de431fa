import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skal_power.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = {
    "name": "cli-small",
    "dataset": {"name": "digits", "test_size": 300},
    "model": {"name": "extra_trees", "params": {"n_estimators": 10}},
    "strategies": ["RandomSampling", "BALD", {"name": "PowerBALD", "params": {"alpha": 5}}],
    "initial": 10,
    "batch_size": 10,
    "budget": 20,
    "seeds": [0, 1],
}


def test_run_plot_report_end_to_end(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps(SMALL))
    results = tmp_path / "r.csv"
    assert main(["run", "--config", str(config), "-o", str(results), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "| PowerBALD | " in out and "30 labels" in out
    assert main(["plot", str(results), "-o", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert main(["report", str(results), "--at", "10", "30", "--metric", "nll"]) == 0
    table = capsys.readouterr().out.splitlines()[1:]
    assert table[0] == "| strategy | 10 labels | 30 labels |"
    assert [line.split(" | ")[0] for line in table[2:]] == [
        "| BALD", "| PowerBALD", "| RandomSampling"]
    assert all(line.count("(n=2)") == 2 for line in table[2:])


def test_console_entry_point_runs_a_preset_with_flags(tmp_path):
    results = tmp_path / "demo.csv"
    completed = subprocess.run(
        [sys.executable, "-m", "skal_power.cli", "run", "--preset", "digits-demo",
         "--budget", "10", "--seeds", "0", "--strategies", "BALD", "-o", str(results)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "| BALD | " in completed.stdout and "30 labels" in completed.stdout


@pytest.mark.parametrize("change, message", [
    ({"strategies": ["NoSuchBALD"]}, "unknown strategy 'NoSuchBALD'"),
    ({"budget": 5}, "budget (5) must be at least batch_size (10)"),
    ({"budget": None}, "missing config field 'budget'"),
])
def test_bad_config_one_line_exit_2(tmp_path, capsys, change, message):
    config = {**SMALL, **change}
    config = {k: v for k, v in config.items() if v is not None}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    assert main(["run", "--config", str(path), "-o", str(tmp_path / "r.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "r.csv").exists()


def test_unparsable_config_and_missing_results(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert main(["run", "--config", str(path)]) == 2
    assert main(["report", str(tmp_path / "none.csv")]) == 2
    assert main(["run", "--config", str(tmp_path / "none.json")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3 and all(e.startswith("skal-power: error: ") for e in errors)
