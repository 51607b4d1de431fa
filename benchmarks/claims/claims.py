"""Re-check the seed's five claims (DESIGN.md section 9) on Repeated MNIST.

Full run (hours on 2 CPU cores; resumable: rerun the same command after a kill)::

    python benchmarks/claims/claims.py --n-jobs 2

It runs ``claims-large-batch.json`` (batch 50) and then ``claims-small-batch.json``
(batch 10) into ``benchmarks/claims/results/``, plots the learning curves and
writes the verdict page ``benchmarks/results/claims.md``. The batch-50 setting
runs first because every claim has a batch-50 part and a batch-50 seed is about a
quarter of the rounds of a batch-10 seed, so each claim gets a verdict soonest;
``--settings small`` runs (or continues) one setting only. Options shrink the
scale (``--seeds``, ``--pool-size``, ``--budget``, ``--max-epochs``; the page
states the scale that was run); ``--mini`` is the seconds-long miniature the
test suite runs (digits, ExtraTrees) so this script cannot rot. ``--report-only``
writes the page from the rows run so far (only seeds complete for every strategy
count) and runs nothing.

The configs follow the BatchBALD protocol (``MNISTConvNet``, 2 initial labels per
class, 5,056 resampled points per epoch, early stopping on a 1,024-image validation
set, normalised inputs with noise σ = 0.1 in normalised units, test predictions
averaged over 5 samples). The runs under the old schedule (30 plain epochs of an
MLP) are kept as ``*-old-schedule.csv`` and ``benchmarks/results/claims-old-schedule.md``.

Verdicts compare the area under the learning curve (mean test accuracy over
all acquisition rounds) per seed, paired by seed: ``A > B`` is *held* when the
95% Student-t CI of the mean difference is above 0, *not held* when below 0,
else *inconclusive*; ``A ≈ B`` is *held* when that CI lies within ±``MARGIN``,
*not held* when it lies entirely outside, else *inconclusive*.

The rerun (issue 32), declared before its first row: both settings with every strategy the
claims compare and Random, 5 seeds, α = 5 for every Power* strategy (the seed writes
"α = 8 ... (α = 5)"; this study's earlier runs used 5), K = 100 for the greedy batch
strategies and 20 otherwise, the seed's evaluation set (the whole pool: ``eval_size``
unset), and the library's second model (``distill_refit="warm"``). BatchBALD and
BatchEvaluationBALD run as the seed defines them (``on_saturation="continue"``, labelled
``BatchBALD`` and ``BatchEvaluationBALD``: the claims are about these) and with the
library's default (``... (default)``: what users get). Batch 10 runs to a budget of 100
labels (the batch-50 setting to 200) so that both fit in the days of two cores. The ≈
margin is ±0.02 (``MARGIN``), not ±0.01: the per-seed spread of the AUC differences in
the batch-50 run before (4 complete seeds) was 0.013 (PowerEvaluationBALD − PowerBALD) and
0.021 (PowerEvaluationBALD − BatchEvaluationBALD), so a CI within ±0.01 would need 27-68
seeds, and within ±0.02 about 10 if the true difference is small. The ≈ parts get 10 seeds
(seeds 5-9 run for their strategies after the 5 of every strategy). Rows run with the
code before spent batches were detected are kept as ``*-before-spent-batches.csv``; the
extra seeds of the ≈ parts go to ``*-approx.csv`` (``approx_config``). A claim
is held when every part is held and not held when any part is not held; the
page also gives, by the same rule, each claim's verdict within each batch
setting, so that a finished setting can be read while the other runs. Claims 3 and 5 are
about large batches; their parts are also judged at batch 10 as contrasts (``CONTRASTS``),
each with a verdict that counts in the Bonferroni family but not in the claim's verdict.

α: the rerun declared α = 5; whether α matters is measured rather than assumed. The three
power strategies also run at α = 8 in the batch-50 setting, seeds 0-4 (``alpha_config``,
rows in ``claims-large-batch-alpha8.csv``, labelled ``... (α = 8)``), before the batch-10
setting; the page compares each with its α = 5 rows and gives every batch-50 part that
involves them under both.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

import skal_power  # noqa: E402
from skal_power.experiments import (  # noqa: E402
    acquired_fractions,
    acquired_rows,
    complete_seeds,
    cost_summary,
    copy_flags,
    cost_table,
    figure_target,
    fraction_table,
    gain_table,
    load_config,
    load_results,
    n_rounds,
    plot_curves,
    report_table,
    run_experiment,
    t_interval,
)

sys.path.insert(0, str(ROOT / "benchmarks" / "reference"))
from batchbald_runs import load_runs  # noqa: E402

CONFIGS = {"small": HERE / "claims-small-batch.json", "large": HERE / "claims-large-batch.json"}
#: The ≈ margin, declared before the rerun from the measured spread (module docstring).
MARGIN = 0.02

#: (claim text, parts); a part is (batch setting, A, relation, B).
CLAIMS = [
    ("BatchEvaluationBALD > BatchBALD",
     [(b, "BatchEvaluationBALD", ">", "BatchBALD") for b in ("small", "large")]),
    ("PowerEvaluationBALD ≈ PowerBALD ≈ BatchEvaluationBALD > BatchBALD, at a fraction of the cost",
     [(b, a, rel, c) for b in ("small", "large") for a, rel, c in (
         ("PowerEvaluationBALD", "≈", "PowerBALD"),
         ("PowerEvaluationBALD", "≈", "BatchEvaluationBALD"),
         ("PowerBALD", ">", "BatchBALD"),
         ("PowerEvaluationBALD", ">", "BatchBALD"))]),
    ("PowerEvaluationBALD > PowerBALD at large acquisition batch sizes",
     [("large", "PowerEvaluationBALD", ">", "PowerBALD")]),
    ("PowerEIG is the weakest of the three stochastic methods but beats BALD and BatchBALD",
     [(b, a, rel, c) for b in ("small", "large") for a, rel, c in (
         ("PowerBALD", ">", "PowerEIG"),
         ("PowerEvaluationBALD", ">", "PowerEIG"),
         ("PowerEIG", ">", "BALD"),
         ("PowerEIG", ">", "BatchBALD"))]),
    ("PowerBALD > UniformTopBALD > ThompsonBALD at larger batch sizes",
     [("large", "PowerBALD", ">", "UniformTopBALD"),
      ("large", "UniformTopBALD", ">", "ThompsonBALD")]),
]


#: Claims 3 and 5 are about large batches. Their parts at the small batch say whether the
#: batch size is what matters (issue 32 asks for every claim at both sizes): each gets a
#: verdict and counts in the Bonferroni family, but not in its claim's verdict.
CONTRASTS = {
    3: [("small", "PowerEvaluationBALD", ">", "PowerBALD")],
    5: [("small", "PowerBALD", ">", "UniformTopBALD"),
        ("small", "UniformTopBALD", ">", "ThompsonBALD")],
}


def scaled_config(setting: str, args: argparse.Namespace) -> dict:
    """The config of one batch setting, shrunk by the command-line options."""
    config = json.loads(CONFIGS[setting].read_text())
    if args.mini:
        config["dataset"] = {"name": "digits", "test_size": 300, "pool_size": 400,
                             "transforms": [{"name": "RepeatWithNoise", "k": 2, "noise_std": 0.1}]}
        config["model"] = {"name": "extra_trees", "params": {"n_estimators": 10}}
        config["initial"] = 10
        config["budget"] = 20
        config["batch_size"] = 10 if setting == "small" else 20
        config["seeds"] = [0, 1]
        for spec in config["strategies"]:
            params = spec.get("params", {})
            if "eval_size" in params:
                params["eval_size"] = 50
    if args.seeds:
        config["seeds"] = list(range(args.seeds))
    if args.pool_size:
        config["dataset"]["pool_size"] = args.pool_size
    if args.budget:
        config["budget"] = args.budget
    if args.max_epochs and config["model"]["name"] == "mc_dropout":
        config["model"]["params"]["max_epochs"] = args.max_epochs
    missing = [s["name"] for s in config["strategies"] if not hasattr(skal_power, s["name"])]
    config["strategies"] = [s for s in config["strategies"] if hasattr(skal_power, s["name"])]
    config["name"] += "-" + args.tag if args.tag else ""
    return load_config(config), missing


#: The strategies of the ≈ parts (by label), which get ``APPROX_EXTRA_SEEDS`` more seeds.
APPROX_LABELS = sorted({label for _, parts in CLAIMS for _, a, relation, b in parts
                        if relation == "≈" for label in (a, b)})
APPROX_EXTRA_SEEDS = 5


def approx_config(config: dict, args: argparse.Namespace) -> dict:
    """The extra seeds of the ≈ parts' strategies, as a config of their own.

    Seeds follow the main config's (5-9 after 0-4; one more in the miniature); the rows
    go to ``<name>-approx.csv``, and the ≈ parts pair them with the main rows.
    """
    extra = copy.deepcopy(config)
    first = max(config["seeds"]) + 1
    extra["name"] = config["name"] + "-approx"
    extra["seeds"] = list(range(first, first + (1 if args.mini else APPROX_EXTRA_SEEDS)))
    extra["strategies"] = [spec for spec in config["strategies"]
                           if spec["label"] in APPROX_LABELS]
    return load_config(extra)


#: The seed's other α ("α = 8 ... (α = 5)"), run at batch 50 beside the declared α = 5.
ALPHA_SENSITIVITY = 8.0
#: The key of those runs among the page's settings (configs, paths, frames).
ALPHA_SETTING = "large-alpha8"


def alpha_label(label: str) -> str:
    """The label of a power strategy's α = 8 rows."""
    return f"{label} (α = {ALPHA_SENSITIVITY:g})"


def alpha_config(config: dict) -> dict:
    """The power strategies of ``config`` with α = 8, as a config of their own.

    Same data, seeds and everything else; only ``alpha`` and the labels differ, and
    the rows go to ``<name>-alpha8.csv``.
    """
    extra = copy.deepcopy(config)
    extra["name"] = config["name"] + f"-alpha{ALPHA_SENSITIVITY:g}"
    specs = []
    for spec in config["strategies"]:
        if "alpha" in spec.get("params", {}):
            spec = copy.deepcopy(spec)
            spec["params"]["alpha"] = ALPHA_SENSITIVITY
            spec["label"] = alpha_label(spec["label"])
            specs.append(spec)
    extra["strategies"] = specs
    return load_config(extra)


def complete_trials(path: Path, config: dict):
    """The rows of seeds complete for every strategy (all rows after a full run)."""
    import pandas as pd

    from skal_power.experiments import COLUMNS

    if not path.is_file():
        return pd.DataFrame(columns=list(COLUMNS))
    frame = load_results(path)
    return frame[frame["seed"].isin(complete_seeds(frame, config))]


def progress_lines(paths, configs, frames) -> tuple[list[str], bool]:
    """How far each batch setting got (rounds, complete seeds), and whether all is done."""
    lines, finished = [], True
    for setting in ("small", "large", ALPHA_SETTING, "small-approx", "large-approx"):
        if setting not in configs:
            continue
        config, path = configs[setting], paths[setting]
        total = n_rounds(config) * len(config["strategies"]) * len(config["seeds"])
        done = len(load_results(path)) if path.is_file() else 0
        finished = finished and done >= total
        seeds = sorted(int(s) for s in frames[setting]["seed"].unique())
        which = (f" (the ≈ parts' extra seeds: {', '.join(APPROX_LABELS)})"
                 if setting.endswith("-approx") else
                 f" (α = {ALPHA_SENSITIVITY:g}: "
                 f"{', '.join(spec['label'] for spec in config['strategies'])})"
                 if setting == ALPHA_SETTING else "")
        lines.append(f"* batch {config['batch_size']}{which}: {done} of {total} rounds run; "
                     f"seeds complete for every strategy: {seeds or 'none'} of "
                     f"{config['seeds']}.")
    return lines, finished


def auc_by_seed(frame):
    """Each trial's area under the learning curve: mean accuracy over the acquisition rounds."""
    acquired = frame[frame["round"] > 0]
    return acquired.groupby(["strategy", "seed"])["accuracy"].mean()


def paired(frame, a: str, b: str, confidence: float = 0.95):
    """Per-seed AUC difference ``a - b``: mean and CI, or None if a side is missing."""
    auc = auc_by_seed(frame)
    if a not in auc.index.get_level_values(0) or b not in auc.index.get_level_values(0):
        return None
    diff = (auc[a] - auc[b]).dropna().to_numpy()
    mean, half = t_interval(diff, confidence)
    return mean, mean - half, mean + half, len(diff)


def direction(relation: str, stats_, a: str, b: str) -> str:
    """Which way a part that is not held fails ("" otherwise): a different finding each way."""
    if stats_ is None or verdict(relation, stats_) != "not held":
        return ""
    _, low, high, _ = stats_
    if relation == ">":
        return f": {b} is better"
    return f": {a} is better by more than {MARGIN}" if low > MARGIN else \
        f": {b} is better by more than {MARGIN}"


def verdict(relation: str, stats_) -> str:
    if stats_ is None:
        return "not run"
    _, low, high, _ = stats_
    if np.isnan(low):
        return "inconclusive"
    if relation == ">":
        return "held" if low > 0 else "not held" if high < 0 else "inconclusive"
    if -MARGIN < low and high < MARGIN:
        return "held"
    return "not held" if (low > MARGIN or high < -MARGIN) else "inconclusive"


def combine(verdicts: list[str]) -> str:
    if "not held" in verdicts:
        return "not held"
    if verdicts and all(v == "held" for v in verdicts):
        return "held"
    if all(v == "not run" for v in verdicts):
        return "not run"
    return "inconclusive"


def query_cost(results_path: Path) -> dict[str, float]:
    """Mean query seconds per round by strategy (from the timings file)."""
    return cost_summary(results_path)["query_per_round"].to_dict()


def authors_lines(last: int) -> list[str]:
    """BALD and BatchBALD against Random in the BatchBALD authors' Repeated-MNIST runs."""
    runs = load_runs("rmnist2", max_labels=last)
    if runs.empty:
        return []
    at = [n for n in (30, 50, 100, 170, last) if n in set(runs["n_labelled"])]
    return ["## What the BatchBALD authors measured on Repeated MNIST ×2", "",
            "The logs of the BatchBALD paper's runs (`laaos_results/paper/` of "
            "BlackHC/BatchBALD, read by `benchmarks/reference/batchbald_runs.py` into "
            "`benchmarks/reference/batchbald-runs.csv`) hold 6 seeds each of Random, BALD "
            "and BatchBALD on Repeated MNIST ×2 with noise, batches of 10 (K = 10, the "
            "60,000 training images twice, a validation set of 3,072, at most 40 epochs, the "
            "same 20 initial labels in every seed). Their gain over Random, paired by seed, "
            f"up to {last} labels, is the published reference for this page's batch-10 "
            "setting: on a redundant pool top-k BALD is expected to lose to Random, and "
            "BatchBALD to beat it.", "", gain_table(runs, at), "",
            "Their picks that copied an image picked before (in an earlier round or earlier in "
            "the same batch; the table read from their logs keeps the picks as MNIST indices "
            "but not the initial set, so copies of the 20 initial images are not counted and "
            "these are lower bounds), mean ± 95% CI over their seeds, to set beside this "
            "page's copies:", "",
            fraction_table(authors_copies(runs), column="copies"), ""]


def authors_copies(runs):
    """Per seed and strategy, the share of the authors' picks that copied an earlier pick."""
    import pandas as pd


    images = np.arange(60000)  # their logged picks are MNIST indices (modulo 60,000)
    fractions = {}
    for (strategy, seed), trial in runs.groupby(["strategy", "seed"]):
        flags = copy_flags(images, np.zeros(0, dtype=int), acquired_rows(trial))
        fractions.setdefault(strategy, {})[seed] = float(flags.mean())
    return pd.DataFrame(fractions).sort_index(axis=1)


def cost_lines(paths, configs) -> list[str]:
    """What the rounds run so far cost, and what the rounds left would, per setting."""
    lines = []
    for setting in ("small", "large", ALPHA_SETTING, "small-approx", "large-approx"):
        table = cost_table(paths[setting], configs[setting])
        if table:
            which = (f" (α = {ALPHA_SENSITIVITY:g})" if setting == ALPHA_SETTING else
                     " (the ≈ parts' extra seeds)" if setting.endswith("-approx") else "")
            lines += [f"Batch {configs[setting]['batch_size']}{which}:", "", table, ""]
    if not lines:
        return []
    return ["## Cost", "",
            "Seconds measured by the runner, each trial on one thread (fit: training and test "
            "evaluation; query: the strategy, with the distilled second model for the "
            "evaluation forms), over every round run so far; the last two columns are the "
            "rounds left and their minutes at each strategy's cost per round so far (`–`: "
            "no round measured yet). From commit 7078190 (2026-12-07, batch 10 under way) "
            "the M′ of PowerEvaluationBALD and PowerEIG scores only the candidates whose "
            "bound can reach the batch, with the same picks and scores to the last bit "
            "(`second-model.md`); their rounds after it cost less than those before, and "
            "the means here mix both.", "", *lines]


def settings_lines(configs) -> list[str]:
    """Each strategy's settings as run, read from the configs, beside the seed's."""
    large, small = configs["large"], configs["small"]
    rows = ["| strategy (label) | K | α | evaluation set | M′ | a spent batch |",
            "|---|---|---|---|---|---|"]
    for spec in large["strategies"]:
        spec = {"name": spec} if isinstance(spec, str) else spec
        params = spec.get("params", {})
        name = spec["name"]
        second = "Evaluation" in name or "EIG" in name
        greedy = name.startswith("Batch")
        rows.append(
            f"| {spec.get('label', name)} | {params.get('n_samples', '–')} | "
            f"{params.get('alpha', '–')} | "
            + (("the whole pool" if params.get("eval_size") is None
                else f"{params['eval_size']} pool points") if second else "–") + " | "
            + (params.get("distill_refit", "warm") if second else "–") + " | "
            + ((params.get("on_saturation", "power") + ("" if "on_saturation" in params
                                                        else " (the default)"))
               if greedy else "–") + " |")
    dataset = large["dataset"]
    specs = [{"name": spec} if isinstance(spec, str) else spec
             for config in (large, small) for spec in config["strategies"]]
    alphas = sorted({float(spec.get("params", {}).get("alpha", 5.0)) for spec in specs
                     if spec["name"].startswith("Power")})
    refits = sorted({spec.get("params", {}).get("distill_refit", "warm") for spec in specs
                     if "Evaluation" in spec["name"] or "EIG" in spec["name"]})
    alpha_text = " and ".join(f"{a:g}" for a in alphas)
    return ["## Settings, and where they differ from the seed's", "",
            "The seed (DESIGN.md section 9): Repeated MNIST (MNIST×2), MC dropout, ≥ 5 trials, "
            "95% CIs, 100 MC samples for the batch variants and 20 otherwise, α = 5–8. As run "
            "(read from `claims-large-batch.json` and `claims-small-batch.json`):", "",
            *rows, "",
            f"* **α = {alpha_text}** for the power strategies, in the seed's range 5–8"
            + (f"; α = {ALPHA_SENSITIVITY:g} runs beside it at batch "
               f"{large['batch_size']} (section \"α = {ALPHA_SENSITIVITY:g} against α = 5\")."
               if ALPHA_SENSITIVITY not in alphas else "."),
            "* **Evaluation set: the whole pool**, the seed's choice. **M′: "
            + ", ".join(refits) + "**" + (" (the library's default: a copy of M trained on "
                                          "for a short schedule), not the seed's full refit: "
                                          "`second-model.md` measures how close it comes."
                                          if "full" not in refits else "."),
            "* **BatchBALD and BatchEvaluationBALD** run twice: as the seed defines them "
            "(`continue`: the raw greedy objective; the claims are about these rows) and with "
            "the library's default (`power`: a spent batch is filled by power sampling; what "
            "users get), labelled `(default)`.",
            f"* **Scale:** a {dataset['name']} pool of {dataset.get('pool_size', 'all')} "
            f"points, each twice with noise, {small['budget']} labels at batch {small['batch_size']} and "
            f"{large['budget']} at batch {large['batch_size']}, seeds {large['seeds']} "
            f"(the seed's scale is the full MNIST ×2, which these 2 cores cannot run).",
            f"* **≈ margin ±{MARGIN}**, with 5 more seeds for the ≈ parts (module docstring: "
            "the measured spread makes ±0.01 need 27–68 seeds).", ""]


def accuracy_and_cost_lines(frames, paths, configs) -> list[str]:
    """The compute claim's table: each strategy's query cost beside its accuracy, and
    how many of its rounds were timed."""
    lines = []
    for setting in ("small", "large"):
        frame = frames[setting]
        summary = cost_summary(paths[setting])
        if not len(frame) or summary.empty:
            continue
        auc = auc_by_seed(frame)
        every_row = load_results(paths[setting])
        rows_run = every_row.groupby("strategy").size()  # round 0 (the initial fit) too
        table = ["| strategy | AUC (mean over seeds) | query (s per round) | "
                 "fit (s per round) | rounds timed / run |", "|---|---|---|---|---|"]
        order = auc.groupby(level=0).mean().sort_values(ascending=False).index
        for strategy in order:
            timed = int(summary["rounds"].get(strategy, 0))
            query = summary["query_per_round"].get(strategy, float("nan"))
            fit = summary["fit_per_round"].get(strategy, float("nan"))
            table.append(f"| {strategy} | {auc[strategy].mean():.4f} | {query:.2f} | "
                         f"{fit:.1f} | {timed} / {int(rows_run.get(strategy, 0))} |")
        lines += [f"Batch {configs[setting]['batch_size']} (AUC over the complete seeds, "
                  "costs over every timed round):", "",
                  *table, ""]
    if not lines:
        return []
    return ["## Accuracy beside query cost", "",
            "The seed's compute claim is that the stochastic strategies cost a fraction of "
            "the greedy batch ones for comparable accuracy: each strategy's area under the "
            "learning curve (mean accuracy over the acquisition rounds, the verdicts' "
            "measure) beside its mean seconds per query and per fit of the model. The last "
            "column counts the rounds timed against the rounds in the results (the initial "
            "fit and query of round 0 included), every seed run so far.", "",
            *lines]


def _ci_text(stats_) -> str:
    return ("–" if stats_ is None else
            f"{stats_[0]:+.4f} [{stats_[1]:+.4f}, {stats_[2]:+.4f}] (n={stats_[3]})")


def alpha_comparison(frames, configs):
    """α = 8 against α = 5 on the seeds complete in both runs, or None before any is.

    Returns the seeds, each power strategy's ``(label, AUC at 5, AUC at 8, paired
    difference)``, and each batch-50 claim part that involves one as ``(a, relation,
    b, stats at 5, verdict at 5, stats at 8, verdict at 8)``.
    """
    labels = {spec["label"]: spec["label"][:-len(alpha_label(""))]
              for spec in configs[ALPHA_SETTING]["strategies"]}
    eight, five = frames[ALPHA_SETTING], frames["large"]
    if not len(eight) or not len(five):
        return None
    import pandas as pd

    seeds = sorted(set(five["seed"]) & set(eight["seed"]))  # paired: the same seeds in both
    five, eight = five[five["seed"].isin(seeds)], eight[eight["seed"].isin(seeds)]
    both = pd.concat([five, eight], ignore_index=True)
    auc = auc_by_seed(both)
    strategies = [(label5, auc[label5].mean(), auc[label8].mean(), paired(both, label8, label5))
                  for label8, label5 in labels.items() if label8 in auc.index]
    # the α = 8 rows in place of the α = 5 ones, under the α = 5 names
    swapped = pd.concat([five[~five["strategy"].isin(labels.values())],
                         eight.assign(strategy=eight["strategy"].map(labels))],
                        ignore_index=True)
    parts = []
    for _, claim_parts in CLAIMS:
        for setting, a, relation, b in claim_parts:
            if setting == "large" and {a, b} & set(labels.values()):
                at5, at8 = paired(five, a, b), paired(swapped, a, b)
                parts.append((a, relation, b, at5, verdict(relation, at5), at8,
                              verdict(relation, at8)))
    return [int(seed) for seed in seeds], strategies, parts


def alpha_notes(comparison, claim_parts, batch_size: int) -> list[str]:
    """Under a claim's table: its parts whose verdict α = 8 changes, and which way."""
    if comparison is None:
        return []
    notes = []
    for a, relation, b, at5, v5, at8, v8 in comparison[2]:
        if ("large", a, relation, b) in claim_parts and v5 != v8:
            sign = ("the same sign" if np.sign(at5[0]) == np.sign(at8[0]) else "the other sign")
            wider = at8[2] - at8[1] > at5[2] - at5[1]
            notes.append(f"With α = {ALPHA_SENSITIVITY:g} instead of 5, batch {batch_size}, "
                         f"{a} {relation} "
                         f"{b} is {v8}: {_ci_text(at8)}, against {_ci_text(at5)} at α = 5 "
                         f"({sign}, {'a wider' if wider else 'a narrower'} CI).")
    return notes + [""] if notes else []


def alpha_lines(comparison, config) -> list[str]:
    """The page's section: α = 8 against α = 5 at batch 50, each power strategy's AUC
    and the claim parts that involve one."""
    heading = [f"## α = {ALPHA_SENSITIVITY:g} against α = 5 (batch {config['batch_size']})",
               ""]
    if comparison is None:
        return heading + [f"Not run yet: no seed is complete for every α = "
                          f"{ALPHA_SENSITIVITY:g} strategy.", ""]
    seeds, strategies, parts = comparison
    rows = [f"| strategy | AUC, α = 5 | AUC, α = {ALPHA_SENSITIVITY:g} | "
            f"α = {ALPHA_SENSITIVITY:g} − α = 5, 95% CI |", "|---|---|---|---|"]
    rows += [f"| {label} | {auc5:.4f} | {auc8:.4f} | {_ci_text(s)} |"
             for label, auc5, auc8, s in strategies]
    table = ["| part | α = 5: difference, 95% CI | verdict | α = "
             f"{ALPHA_SENSITIVITY:g}: difference, 95% CI | verdict |", "|---|---|---|---|---|"]
    changed = []
    for a, relation, b, at5, v5, at8, v8 in parts:
        if v5 != v8:
            changed.append(f"{a} {relation} {b} ({v5} → {v8})")
        table.append(f"| {a} {relation} {b} | {_ci_text(at5)} | {v5} | {_ci_text(at8)} | {v8} |")
    summary = ("α changes no verdict of these parts." if not changed else
               "α changes the verdict of " + "; ".join(changed) + ".")
    return heading + [
        f"The declared α is 5. The three power strategies also ran at α = "
        f"{ALPHA_SENSITIVITY:g} (the seed's other value) on the same data (rows in "
        f"`{config['name']}.csv`). Everything below uses the seeds complete in both runs, "
        f"{seeds}. Each strategy's AUC under both, paired by seed:",
        "", *rows, "",
        f"The batch-{config['batch_size']} claim parts that involve a power strategy, with "
        f"its α = 5 rows and with its α = {ALPHA_SENSITIVITY:g} rows (the verdict rule as "
        f"above, 95%). {summary}", "", *table, ""]


VERDICT_COLOURS = {"held": "tab:green", "not held": "tab:red", "inconclusive": "0.45"}


def plot_parts(parts: list[tuple[str, str, tuple | None, str]], path: Path) -> Path | None:
    """One row per claim part that has a number: its AUC difference and 95% CI.

    ``parts`` holds ``(row label, relation, stats, verdict)`` with ``stats`` as
    returned by :func:`paired`; the colour is the verdict, and the ±``MARGIN``
    band that decides an ``≈`` part is shaded. ``None`` (and no file) when no
    part has been run.
    """
    drawn = [(label, relation, s, v) for label, relation, s, v in parts if s is not None]
    if not drawn:
        return None
    plt, path = figure_target(path)
    figure, axis = plt.subplots(figsize=(9.0, 1.6 + 0.3 * len(drawn)))
    axis.axvspan(-MARGIN, MARGIN, color="0.9", label=f"≈ band (±{MARGIN})")
    axis.axvline(0.0, color="0.5", linewidth=0.8)
    for row, (label, relation, (mean, low, high, n), v) in enumerate(drawn):
        colour = VERDICT_COLOURS[v]
        if not np.isnan(low):
            axis.plot([low, high], [row, row], color=colour, linewidth=1.5)
        axis.plot([mean], [row], "D" if relation == "≈" else "o", color=colour)
    axis.set_yticks(range(len(drawn)), [label for label, *_ in drawn], fontsize=8)
    axis.invert_yaxis()
    for v, colour in VERDICT_COLOURS.items():
        axis.plot([], [], "o", color=colour, label=v)
    axis.legend(fontsize=7, loc="lower right", framealpha=0.9)
    axis.grid(alpha=0.3, axis="x")
    axis.set_xlabel("AUC difference A − B: mean accuracy over the acquisition rounds,\n"
                    "paired by seed", fontsize=8)
    axis.set_title("The claims' parts: mean and 95% CI over seeds\n"
                   "(colour: the part's verdict; diamond: an ≈ part)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def write_page(frames, configs, missing, paths, page: Path, args) -> list[str]:
    """Write the verdict page; returns the five claim verdicts."""
    lines = ["# The seed's claims on Repeated MNIST", ""]
    small = configs["small"]
    scale = (f"dataset {json.dumps(small['dataset'])}; model {json.dumps(small['model'])}; "
             f"initial {small['initial']}, budget {small['budget']}, batch sizes "
             f"{configs['small']['batch_size']} and {configs['large']['batch_size']}, "
             f"seeds {small['seeds']}.")
    lines += [f"**Scale run:** {scale}", ""]
    if args.mini or args.tag:
        lines += [f"**This is a reduced run ({args.tag or 'mini'})**, not the full benchmark; "
                  "inconclusive verdicts are expected at this scale.", ""]
    if any(missing.values()):
        lines += ["**Strategies not available in this build (parts of claims using them are "
                  f"'not run'):** {sorted(set(sum(missing.values(), [])))}", ""]
    progress, finished = progress_lines(paths, configs, frames)
    if not finished:
        lines += ["**The run is not finished.** Only seeds complete for every strategy enter "
                  "the verdicts; `python benchmarks/claims/claims.py --n-jobs 2` continues it "
                  "(the runner resumes from the CSVs in `benchmarks/claims/results/`).", "",
                  *progress, ""]
    lines += settings_lines(configs)
    lines += ["Command: `" + " ".join(["python", "benchmarks/claims/claims.py", *args.argv])
              + "`", "", "Verdict rule: see the docstring of `benchmarks/claims/claims.py` "
              "(paired-by-seed difference of mean accuracy over the acquisition rounds, "
              f"Student-t 95% CI; ≈ means within ±{MARGIN}).", ""]
    verdicts, figure_rows, claims = [], [], []
    comparison = alpha_comparison(frames, configs)
    n_comparisons = sum(len(parts) + len(CONTRASTS.get(number, []))
                        for number, (_, parts) in enumerate(CLAIMS, start=1))
    family = 1 - 0.05 / n_comparisons  # Bonferroni: 95% for the whole family of parts
    changed = []
    for number, (text, parts) in enumerate(CLAIMS, start=1):
        rows = []
        part_verdicts, contrast_verdicts = [], []
        contrasts = CONTRASTS.get(number, [])
        for index, (setting, a, relation, b) in enumerate(parts + contrasts):
            contrast = index >= len(parts)
            label = f"batch {configs[setting]['batch_size']}" + (" (contrast)" if contrast
                                                                  else "")
            frame = frames[setting]
            if relation == "≈" and len(frames.get(f"{setting}-approx", ())):
                import pandas as pd

                frame = pd.concat([frame, frames[f"{setting}-approx"]], ignore_index=True)
            s = paired(frame, a, b)
            v = verdict(relation, s)
            corrected = verdict(relation, paired(frame, a, b, family))
            if corrected != v:
                changed.append(f"claim {number}, {label}, {a} {relation} {b}: {v} → "
                               f"{corrected}")
            (contrast_verdicts if contrast else part_verdicts).append(v)
            figure_rows.append((f"{number}. {label}: {a} {relation} {b}", relation, s, v))
            numbers = ("–" if s is None else
                       f"{s[0]:+.4f} [{s[1]:+.4f}, {s[2]:+.4f}] (n={s[3]})")
            rows.append(f"| {label} | {a} {relation} {b} | "
                        f"{numbers} | {v}{direction(relation, s, a, b)} | {corrected} |")
        overall = combine(part_verdicts)
        verdicts.append(overall)
        by_setting = {}  # the claim's verdict within each batch setting, in the parts' order
        for (setting, *_), v in zip(parts, part_verdicts):
            by_setting.setdefault(setting, []).append(v)
        within = [f"batch {configs[setting]['batch_size']}: {combine(vs)}"
                  for setting, vs in by_setting.items()]
        if contrasts:
            within.append(f"batch {configs[contrasts[0][0]]['batch_size']}, contrast: "
                          f"{combine(contrast_verdicts)}")
        per_setting = "" if len(within) < 2 else " (" + "; ".join(within) + ")"
        claims += [f"## Claim {number}: {text} — **{overall}**{per_setting}", "",
                   "| setting | part | AUC difference, 95% CI | verdict | verdict, "
                   f"Bonferroni ({n_comparisons} parts) |", "|---|---|---|---|---|",
                   *rows, ""]
        if contrasts:
            claims += ["The claim is about large batches, so its verdict rests on the batch-"
                       f"{configs['large']['batch_size']} parts; the contrast rows test the "
                       f"same relations at batch {configs[contrasts[0][0]]['batch_size']}, "
                       "to show whether the batch size is what makes the difference.", ""]
        claims += alpha_notes(comparison, parts, configs["large"]["batch_size"])
        if number == 2:
            for setting in ("small", "large"):
                if not len(frames[setting]):
                    continue
                cost = query_cost(paths[setting])
                parts_cost = [f"{k}: {cost[k]:.3f} s" for k in sorted(cost)]
                claims += [f"Mean query time per round, batch {configs[setting]['batch_size']}: "
                           + ", ".join(parts_cost), ""]
    lines += [f"**Multiple comparisons.** The page tests {n_comparisons} parts, each at 95%; "
              "the last column of each table applies the Bonferroni correction (each CI at "
              f"{100 * family:.2f}%, so that all {n_comparisons} hold together with 95% "
              "confidence). "
              + ("It changes no verdict." if not changed else
                 "It changes " + "; ".join(changed) + "."), ""]
    figure = plot_parts(figure_rows, page.parent / f"{page.stem}.parts.png")
    if figure is not None:
        lines += ["Every part that has been run, as a figure (the tables below give the "
                  "numbers):", "", f"![claim parts]({figure.name})", ""]
    lines += claims
    if (page.parent / "claims-saturation.md").is_file():
        lines += ["Why BatchEvaluationBALD collapses with batches of 50 (one recorded round "
                  "rebuilt, the joint information of its picks under both models): "
                  "`claims-saturation.md`, written by `benchmarks/claims/saturation.py`.", ""]
    for setting in ("small", "large"):
        frame = frames[setting]
        if not len(frame):
            continue
        counts = sorted(frame["n_labelled"].unique())
        at = [counts[len(counts) // 2], counts[-1]]
        lines += [f"## Accuracy, batch {configs[setting]['batch_size']}", "",
                  report_table(frame, at), "",
                  f"![learning curves, batch {configs[setting]['batch_size']}]"
                  f"({paths[setting].stem}.png)", ""]
        copies = acquired_fractions(frame, configs[setting], kind="copies")
        if copies is not None:
            lines += ["Share of the acquired labels that were copies: picks whose image (the "
                      "pool holds each image twice, each copy with its own noise) was already "
                      "labelled, in the initial set, an earlier round or earlier in the same "
                      f"batch (mean ± 95% CI over {len(copies)} seeds; the difference from "
                      "BALD's is paired by seed, in percentage points, `*`: its CI excludes 0). "
                      "This is the waste a redundant pool invites and batch-aware acquisition "
                      "should avoid.", "", fraction_table(copies, column="copies"), ""]
    lines += alpha_lines(comparison, configs[ALPHA_SETTING])
    lines += cost_lines(paths, configs)
    lines += accuracy_and_cost_lines(frames, paths, configs)
    if not args.mini:
        lines += authors_lines(int(configs["small"]["budget"]) + 20)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("\n".join(lines))
    return verdicts


def main(argv=None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--seeds", type=int, help="number of seeds (default: config, 5)")
    parser.add_argument("--pool-size", type=int, help="MNIST pool subsample before ×2")
    parser.add_argument("--budget", type=int)
    parser.add_argument("--max-epochs", type=int)
    parser.add_argument("--tag", help="suffix of the results names (reduced runs)")
    parser.add_argument("--mini", action="store_true", help="seconds-long miniature (tests)")
    parser.add_argument("--output-dir", type=Path, default=HERE / "results")
    parser.add_argument("--page", type=Path, default=ROOT / "benchmarks" / "results" / "claims.md")
    parser.add_argument("--settings", nargs="+", choices=("large", "small"),
                        default=["large", "small"],
                        help="the batch settings to run, in this order (the page reads both)")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--report-only", action="store_true",
                        help="write the page from the rows so far; run nothing")
    args = parser.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    if "torch" in sys.modules or not args.mini:
        import torch
        torch.set_num_threads(1)
    frames, configs, missing, paths = {}, {}, {}, {}
    for setting in ("small", "large"):
        config, missing[setting] = scaled_config(setting, args)
        configs[setting] = config
        paths[setting] = args.output_dir / f"{config['name']}.csv"
        configs[f"{setting}-approx"] = approx_config(config, args)
        paths[f"{setting}-approx"] = args.output_dir / f"{config['name']}-approx.csv"
    configs[ALPHA_SETTING] = alpha_config(configs["large"])
    paths[ALPHA_SETTING] = args.output_dir / f"{configs[ALPHA_SETTING]['name']}.csv"
    # every strategy's seeds first (batch 50's α = 8 runs right after batch 50), then the
    # ≈ parts' extra seeds
    order = [name for setting in dict.fromkeys(args.settings)
             for name in ([setting, ALPHA_SETTING] if setting == "large" else [setting])]
    extra = [f"{s}-approx" for s in dict.fromkeys(args.settings)]
    for setting in ([] if args.report_only else order + extra):
        run_experiment(configs[setting], paths[setting], n_jobs=args.n_jobs,
                       progress=args.progress)
    for setting, config in configs.items():
        frames[setting] = complete_trials(paths[setting], config)
        if len(frames[setting]) and setting in ("small", "large"):
            # figures live next to the page: the docs copy benchmarks/results/*.png with it
            plot_curves(frames[setting], args.page.parent / f"{paths[setting].stem}.png",
                        title=f"{config['name']}: accuracy, mean and 95% CI")
    return write_page(frames, configs, missing, paths, args.page, args)


if __name__ == "__main__":
    for claim, result in zip(CLAIMS, main()):
        print(f"{result:>12}: {claim[0]}")
