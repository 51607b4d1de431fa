import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skal_power.cli import main
from skal_power.experiments import load_results

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
    assert "| " not in out, "run prints where the results are, not a second copy of report"
    assert f"results: {results} (18 rows: 3 strategies × 2 seeds)" in out
    assert main(["plot", str(results), "-o", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").stat().st_size > 1000
    # beside the curves: the acquired classes and the gains over RandomSampling
    assert (tmp_path / "c.classes.png").stat().st_size > 1000
    assert (tmp_path / "c.gains.png").stat().st_size > 1000
    assert f"figure: {tmp_path / 'c.gains.png'}" in capsys.readouterr().out
    assert main(["plot", str(results), "-o", str(tmp_path / "b.svg"), "--baseline", "BALD"]) == 0
    assert (tmp_path / "b.gains.svg").stat().st_size > 1000
    capsys.readouterr()
    assert main(["report", str(results), "--at", "10", "30", "--metric", "nll"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Protocol: digits, model extra_trees; initial labels: 10 drawn")
    assert "validation: none" in lines[0]
    lines = lines[2:]
    assert lines[0] == "Test nll: mean ± 95% CI (Student t over the n seeds in brackets)."
    table = lines[2:7]
    assert table[0] == "| strategy | 10 labels | 30 labels |"
    assert [line.split(" | ")[0] for line in table[2:]] == [
        "| BALD", "| PowerBALD", "| RandomSampling"]
    assert all(line.count("(n=2)") == 2 for line in table[2:])
    assert lines[8].startswith("Gain over RandomSampling (nll, lower is better)")
    gains = lines[10:14]
    assert gains[0] == "| strategy | 10 labels | 30 labels | whole curve |"
    assert [line.split(" | ")[0] for line in gains[2:]] == ["| BALD", "| PowerBALD"]
    # every trial starts from the same labels: no gain at the initial label count
    assert all(line.split(" | ")[1].startswith("+0.000") for line in gains[2:])
    # which classes each strategy acquired: 10 per class columns, 3 strategies
    assert lines[15].startswith("Whole-curve nll gain over RandomSampling (paired 95% CI, 2 seeds)")
    assert lines[17].startswith("Acquired labels by class")
    histogram = lines[19:24]
    assert histogram[0] == "| strategy | " + " | ".join(map(str, range(10))) + " | rarest |"
    counts = [float(v) for v in histogram[2].split(" | ")[1:11]]
    assert sum(counts) == pytest.approx(SMALL["budget"])
    # what each strategy cost, from the timings file beside the results
    assert lines[25].startswith("Cost per strategy: wall-clock seconds")
    costs = lines[27:]
    assert costs[0].startswith("| strategy | rounds | fit (s per round) | query (s per round)")
    assert [line.split(" | ")[:2] for line in costs[2:]] == [
        ["| BALD", "6"], ["| PowerBALD", "6"], ["| RandomSampling", "6"], ["| all", "18"]]


def test_plot_defaults_next_to_the_csv_and_titles_the_experiment(tmp_path, capsys,
                                                                  monkeypatch):
    from skal_power.experiments import _curves

    config = tmp_path / "c.json"
    config.write_text(json.dumps({**SMALL, "strategies": ["RandomSampling"], "seeds": [0]}))
    results = tmp_path / "small.csv"
    assert main(["run", "--config", str(config), "-o", str(results), "--no-progress"]) == 0
    titles = []
    original = _curves.plot_curves
    monkeypatch.setattr("skal_power.experiments.plot_curves",  # the cli imports it on use
                        lambda *a, **k: titles.append(k["title"]) or original(*a, **k))
    assert main(["plot", str(results)]) == 0
    assert (tmp_path / "small.png").stat().st_size > 1000
    assert not (tmp_path / "small.gains.png").exists()  # no other strategy to compare
    assert titles == ["digits · extra_trees · 1 seed\ntest accuracy: mean and 95% CI"]


def test_plot_and_report_name_a_missing_results_file_first(tmp_path, capsys):
    missing = tmp_path / "none.csv"
    assert main(["plot", str(missing), "-o", str(tmp_path / "bad.suffix")]) == 2
    assert main(["report", str(missing)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2
    assert all("none.csv' does not exist; create it with `skal-power run`" in e for e in errors)


def test_version_and_run_help_describe_the_tool(capsys):
    import skal_power

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"skal-power {skal_power.__version__}"
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    for field in ("dataset", "model", "strategies", "initial", "batch_size", "budget", "seeds",
                  "docs/experiments.rst"):
        assert field in text


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["plot", "--help"],
                                  ["report", "--help"]])
def test_help_texts_show_a_single_percent_sign(argv, capsys):
    # `report --help` printed "95%%": argparse formats help strings but not descriptions.
    with pytest.raises(SystemExit):
        main(argv)
    text = capsys.readouterr().out
    assert "%%" not in text
    if argv[0] in ("--help", "report"):
        assert "95%" in text


def test_help_imports_no_experiment_machinery():
    # `skal-power --help` took 2 s: it imported scikit-learn, SciPy, pandas and matplotlib.
    code = ("import sys\n"
            "from skal_power.cli import _parser\n"
            "for command in ([], ['run'], ['plot'], ['report']):\n"
            "    try:\n"
            "        _parser().parse_args(command + ['--help'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "print(sorted(m for m in ('sklearn', 'scipy', 'pandas', 'matplotlib', 'torch',\n"
            "                         'skal_power.strategies', 'skal_power.experiments')\n"
            "             if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.splitlines()[-1] == "[]"


def test_the_defaults_the_parser_states_are_the_library_defaults(capsys):
    from skal_power.cli import _DEFAULT_BASELINE
    from skal_power.experiments import PRESETS
    from skal_power.experiments._gain import DEFAULT_BASELINE

    assert _DEFAULT_BASELINE == DEFAULT_BASELINE
    with pytest.raises(SystemExit) as exited:
        main(["run", "--preset", "no-such-preset"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "unknown preset 'no-such-preset'" in error
    assert all(name in error for name in PRESETS)


def test_the_config_example_of_the_docs_is_valid(tmp_path):
    import re

    from skal_power.experiments import load_config

    page = (ROOT / "docs" / "experiments.rst").read_text()
    block = re.search(r".. code-block:: toml\n\n((?:   .*\n|\n)+)", page).group(1)
    path = tmp_path / "example.toml"
    path.write_text("\n".join(line[3:] for line in block.splitlines()))
    config = load_config(path)
    assert config["dataset"]["transforms"][0]["name"] == "RepeatWithNoise"


def test_console_entry_point_runs_a_preset_with_flags(tmp_path):
    results = tmp_path / "demo.csv"
    completed = subprocess.run(
        [sys.executable, "-m", "skal_power.cli", "run", "--preset", "digits-demo",
         "--budget", "10", "--seeds", "0", "--strategies", "BALD", "-o", str(results)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "(2 rows: 1 strategy × 1 seed)" in completed.stdout


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


@pytest.mark.parametrize("change, message", [
    ({"model": {"name": "extra_trees", "params": {"n_estimatorz": 10}}},
     "model 'extra_trees' params: got an unexpected keyword argument 'n_estimatorz'"),
    ({"budget": 1500}, "budget 1500 and 10 initial labels need more than the 1497 pool points"),
])
def test_a_config_that_fails_when_run_is_still_a_one_line_error(tmp_path, capsys, change,
                                                                message):
    # Found by the runner, not when the config is read: still the user's error.
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**SMALL, **change}))
    results = tmp_path / "r.csv"
    assert main(["run", "--config", str(path), "-o", str(results), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert len(load_results(results)) == 0  # stopped before the first round


def test_a_bad_figure_path_is_a_one_line_error(tmp_path, capsys):
    results = tmp_path / "r.csv"
    results.write_text("")
    assert main(["plot", str(results), "-o", str(tmp_path / "curves.pdf")]) == 2
    assert capsys.readouterr().err == (
        f"skal-power: error: --output must end in .png or .svg; got "
        f"{str(tmp_path / 'curves.pdf')!r}.\n")


@pytest.mark.parametrize("command, target", [
    ("run", "skal_power.experiments.run_experiment"),
    ("report", "skal_power.experiments.load_results"),
])
@pytest.mark.parametrize("error", [ValueError, TypeError])
def test_an_error_inside_the_library_keeps_its_traceback(tmp_path, monkeypatch, command,
                                                         target, error):
    # main used to catch every ValueError/TypeError and print one line, so a bug in the
    # library read as a mistake of the user's.
    def broken(*args, **kwargs):
        raise error("a bug inside skal_power")

    monkeypatch.setattr(target, broken)  # the cli imports these on use
    config, results = tmp_path / "c.json", tmp_path / "r.csv"
    config.write_text(json.dumps(SMALL))
    results.write_text("")
    argv = (["run", "--config", str(config), "-o", str(results), "--no-progress"]
            if command == "run" else ["report", str(results)])
    with pytest.raises(error, match="a bug inside skal_power"):
        main(argv)
