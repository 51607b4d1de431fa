"""The seed's section 3 study: evaluation- and prediction-oriented acquisition on flawed pools.

Six MNIST pools, each with one flaw of :mod:`skal_power.datasets`, under the
BatchBALD protocol of ``benchmarks/mnist/`` (MNISTConvNet, 2 labels per class,
5,056 resampled points per epoch, early stopping on 1,024 validation images,
normalised inputs, test predictions averaged over 5 samples):

* ``imbalance``: classes 5–9 kept at 10% in the pool (the test set stays balanced);
* ``ood``: 30% of the pool replaced by noise images, labelled at random by the oracle;
* ``ood-classes``: the digits 7, 8 and 9 (about 30% of the pool) left out of the test
  distribution (test and validation sets hold 0–6 only) but kept in the pool, where
  the oracle labels them at random among 0–6: real digits the model cannot place,
  closer to the irrelevant inputs of the EPIG paper's argument than the noise
  images of ``ood``;
* ``noise``: Gaussian input noise of standard deviation 1 (normalised units) on
  classes 5–9;
* ``irrelevant``: the EPIG paper's Redundant MNIST (``config/data/mnist/
  redundant_pool.yaml`` of fbickfordsmith/epig): only 1s and 7s are in the test
  distribution (test, validation and so EPIG's targets), and every other digit,
  about 80% of the pool, carries one consistent label, a "neither" class (10)
  the model has an output for; 5,000 validation images leave about 1,000 ones
  and sevens for early stopping and as EPIG's targets (the paper's 1,000); the
  paper's runs go to 300 labels over 20 seeds, these to 100 labels over 5 like
  the other flaws;
* ``repeated``: the pool repeated 3 times with noise σ = 0.1 (Repeated MNIST).

Strategies: RandomSampling, BALD, PowerBALD, EvaluationBALD, PowerEvaluationBALD,
EPIG and PowerEPIG (targets: the validation images' inputs, unlabelled use).

Run (days of core time on 2 cores; detached and resumable, one flaw after the other,
in the order below)::

    python benchmarks/flawed_pools/flawed_pools.py --n-jobs 2

``--report-only`` writes ``benchmarks/results/flawed-pools.md`` from the rows run
so far (only seeds complete for every strategy count); ``--flaws ood`` runs one
flaw; ``--mini`` is the seconds-long miniature the tests run (digits, extra trees).
``--flaws irrelevant --single`` runs the flaw's one-label-per-round diagnostic
(BALD and EPIG with batches of 1 up to 50 labels, as the EPIG paper acquires;
:data:`SINGLE`), which the page compares with the batches of 10.

The page opens with a figure and table of every flaw's whole-curve gains over
RandomSampling and BALD (paired by seed, 95% Student-t CI), then gives per flaw
its learning curves, the gains at the budget, the acquired labels by class (a
figure and a table), for the OOD pools the fraction of acquired points that were
out of distribution, and the cost. The figures are PNGs beside the page.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from skal_power.experiments import (  # noqa: E402
    acquired_fractions,
    complete_seeds,
    cost_table,
    fraction_table,
    gain_cell,
    gain_table,
    histogram_table,
    load_config,
    load_results,
    n_rounds,
    paired_gains,
    plot_class_histogram,
    plot_curves,
    plot_gains,
    run_experiment,
)

PAGE = ROOT / "benchmarks" / "results" / "flawed-pools.md"
RESULTS = HERE / "results"
#: Written by ``ood_scores.py`` beside the study's results: where OOD rows sit in the scores.
OOD_SCORES = "ood-scores.csv"
#: α of the study's PowerBALD, PowerEvaluationBALD and PowerEPIG (their default).
POWER_ALPHA = 5.0

BASE = {
    "dataset": {"name": "mnist", "pool_size": 5000, "test_size": 5000, "validation_size": 1024,
                "normalize": {"mean": 0.1307, "std": 0.3081}},
    "model": {"name": "mc_dropout",
              "params": {"module": "MNISTConvNet", "max_epochs": 30, "batch_size": 64,
                         "lr": 0.001, "iterator_train__samples_per_epoch": 5056},
              "early_stopping": {"patience": 3, "monitor": "valid_acc"}},
    "initial": {"per_class": 2},
    "test_samples": 5,
    "budget": 100,
    "batch_size": 10,
    "seeds": [0, 1, 2, 3, 4],
    "strategies": [
        {"name": "RandomSampling"},
        {"name": "BALD", "params": {"n_samples": 20}},
        {"name": "PowerBALD", "params": {"n_samples": 20}},
        {"name": "EvaluationBALD", "params": {"n_samples": 20, "eval_size": 1000}},
        {"name": "PowerEvaluationBALD", "params": {"n_samples": 20, "eval_size": 1000}},
        {"name": "EPIG", "params": {"n_samples": 20, "X_target": "validation"}},
        {"name": "PowerEPIG", "params": {"n_samples": 20, "X_target": "validation"}},
    ],
}

FLAWS = {
    "imbalance": {"transforms": [{"name": "ClassImbalance",
                                  "ratios": [1, 1, 1, 1, 1, 0.1, 0.1, 0.1, 0.1, 0.1]}]},
    "ood": {"transforms": [{"name": "OutOfDistribution", "fraction": 0.3}]},
    "ood-classes": {"transforms": [{"name": "OutOfDistribution", "classes": [7, 8, 9]}]},
    "noise": {"transforms": [{"name": "HeteroscedasticNoise",
                              "scales": [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]}]},
    "irrelevant": {"validation_size": 5000,  # about 1,000 ones and sevens, as the paper's targets
                   "transforms": [{"name": "OutOfDistribution",
                                   "classes": [0, 2, 3, 4, 5, 6, 8, 9], "label": 10}]},
    "repeated": {"pool_size": 1700,
                 "transforms": [{"name": "RepeatWithNoise", "k": 3, "noise_std": 0.1}]},
}


#: Diagnostics acquiring one label per round, as the EPIG paper does: the flaw's
#: protocol with batches of 1 up to ``budget`` acquired labels, for the strategies named
#: (``--single`` runs them; the page compares them with the flaw's batches of 10).
SINGLE = {"irrelevant": {"budget": 50, "strategies": ["BALD", "EPIG"]}}
#: The suffix of a diagnostic's name and of its strategies' labels on the page.
SINGLE_SUFFIX = "b1"


def flaw_config(flaw: str, *, mini: bool = False) -> dict:
    """The config of one flawed pool (the miniature: digits, extra trees, 2 seeds)."""
    return load_config(_flaw_dict(flaw, mini=mini))


def single_config(flaw: str, *, mini: bool = False) -> dict:
    """The one-label-per-round diagnostic of ``flaw`` (see :data:`SINGLE`)."""
    config = _flaw_dict(flaw, mini=mini)
    change = SINGLE[flaw]
    config["name"] = f"flawed-{flaw}-{SINGLE_SUFFIX}" + ("-mini" if mini else "")
    config["batch_size"] = 1
    config["budget"] = min(change["budget"], config["budget"]) if mini else change["budget"]
    config["strategies"] = [spec for spec in config["strategies"]
                            if spec["name"] in change["strategies"]]
    return load_config(config)


def _flaw_dict(flaw: str, *, mini: bool) -> dict:
    config = copy.deepcopy(BASE)
    config["name"] = f"flawed-{flaw}" + ("-mini" if mini else "")
    change = copy.deepcopy(FLAWS[flaw])
    config["dataset"].update(change)
    if mini:
        config["dataset"] = {"name": "digits", "test_size": 300, "validation_size": 100,
                             "pool_size": 600 if flaw != "repeated" else 200,
                             "transforms": change["transforms"]}
        config["model"] = {"name": "extra_trees", "params": {"n_estimators": 10}}
        config["initial"], config["budget"], config["seeds"] = {"per_class": 1}, 20, [0, 1]
        config["test_samples"] = 0
        for spec in config["strategies"]:
            if "eval_size" in spec.get("params", {}):
                spec["params"]["eval_size"] = 100
    return config


def fraction_lines(fractions, what: str, column: str, note: str = "") -> list[str]:
    """The share of each strategy's picks that were ``what``, and its difference from BALD's."""
    intro = (f"Fraction of acquired points that were {what} (mean ± 95% CI over seeds, "
             f"n={len(fractions)}; the difference from BALD's is paired by seed, in percentage "
             "points, `*`: its CI excludes 0):")
    return ([note, ""] if note else []) + [intro, "", fraction_table(fractions, column=column), ""]


def score_lines(folder: Path, flaw: str) -> list[str]:
    """The page's table for one flaw (mean over seeds), if its rows exist."""
    import pandas as pd

    path = folder / OOD_SCORES
    if not path.is_file():
        return []
    frame = pd.read_csv(path)
    frame = frame[frame["flaw"] == flaw]
    if frame.empty:
        return []
    lines = ["Where the OOD points sit in the scores (`python "
             "benchmarks/flawed_pools/ood_scores.py`: BALD's state rebuilt at each seed and "
             "round, its unlabelled pool scored; mean over seeds). *top-k*: OOD fraction "
             "among the k highest scores, what top-k acquisition takes; "
             f"*p ∝ score^{POWER_ALPHA:g}*: the OOD share of the power distribution, the "
             "chance that a stochastic pick is OOD.", "",
             "| labels | score | seeds | OOD in pool | mean score OOD / in | top-10 OOD | "
             f"top-100 OOD | p ∝ score^{POWER_ALPHA:g} on OOD |",
             "|---|---|---|---|---|---|---|---|"]
    for (n, score), group in frame.groupby(["n_labelled", "score"]):
        lines.append(f"| {n} | {score} | {len(group)} | {group['pool_ood_fraction'].mean():.0%} "
                     f"| {group['mean_ood'].mean():.3f} / {group['mean_in'].mean():.3f} | "
                     f"{group['top10_ood'].mean():.0%} | {group['top100_ood'].mean():.0%} | "
                     f"{group['power_ood'].mean():.0%} |")
    return lines + [""]


def summary_lines(configs: dict, frames: dict, page: Path) -> list[str]:
    """One figure and table for every flaw run so far: whole-curve gains over Random and BALD.

    ``frames`` maps each flaw to its results (None: not run). The figure is
    written beside ``page`` as ``<page stem>.gains.png``.
    """
    columns, gains, panels = [], {}, {}
    for flaw, config in configs.items():
        frame = frames[flaw]
        seeds = [] if frame is None else complete_seeds(frame, config)
        if len(seeds) < 2:
            continue
        complete = frame[frame["seed"].isin(seeds)]
        columns.append(f"{flaw} (n={len(seeds)})")
        panels[columns[-1]] = complete
        for baseline in ("RandomSampling", "BALD"):
            table = paired_gains(complete, baseline=baseline)
            for _, row in table[table["n_labelled"] == "area"].iterrows():
                gains.setdefault(baseline, {}).setdefault(row["strategy"], {})[
                    columns[-1]] = gain_cell(row, count=False)  # the column names n
    if not columns:
        return []
    lines = ["## Summary", "",
             "Whole-curve accuracy gain (mean over label counts of the per-seed difference, "
             "95% Student-t CI, `*`: excludes 0) of each strategy, for every flaw with at "
             "least two seeds complete for every strategy (n: those seeds). The sections "
             "below give the gains at the budget, the acquired classes and the cost.", ""]
    figure = plot_gains(panels, page.with_name(page.stem + ".gains.png"))
    lines += [f"![whole-curve gains over RandomSampling]({figure.name})", ""]
    for baseline, title in (("RandomSampling", "over RandomSampling"), ("BALD", "over BALD")):
        lines += [f"Gain {title}:", "", "| strategy | " + " | ".join(columns) + " |",
                  "|---" * (len(columns) + 1) + "|"]
        for strategy, cells in sorted(gains.get(baseline, {}).items()):
            if strategy == "RandomSampling":
                continue  # the baseline of both tables
            lines.append(f"| {strategy} | "
                         + " | ".join(cells.get(c, "–") for c in columns) + " |")
        lines.append("")
    return lines


def cost_lines(path: Path, config: dict) -> list[str]:
    """The cost table of one flaw, with the rounds left and their estimated minutes."""
    cost = cost_table(path, config)
    if not cost:
        return []
    return ["Cost (seconds measured by the runner, each trial on one thread; fit: training "
            "and test evaluation, query: the strategy, with the distilled second model for "
            "the evaluation forms; every round run so far; the last two columns: the rounds "
            "left and their minutes at the cost per round so far):", "", cost, ""]


def single_lines(flaw: str, frame, config: dict, folder: Path, page: Path) -> list[str]:
    """The one-label-per-round diagnostic of ``flaw`` against the flaw's batches of 10.

    Both start from the same data and initial labels for a seed, so the
    comparison is paired by seed, at the label counts both have (the
    diagnostic's budget bounds the batch-10 curves too).
    """
    import pandas as pd

    single = single_config(flaw, mini="mini" in config["name"])
    path = folder / f"{single['name']}.csv"
    if not path.is_file():
        return []
    rows = load_results(path)
    seeds = sorted(set(complete_seeds(rows, single)) & set(complete_seeds(frame, config)))
    names = ", ".join(spec["label"] for spec in single["strategies"])
    lines = [f"### One label per round: `{single['name']}`", "",
             f"The EPIG paper acquires one label at a time. `{single['name']}` runs "
             f"{names} with batches of 1 up to {single['budget']} acquired labels on this "
             "pool (`--single`); labelled `(b1)` below, compared with the batches of 10 "
             "above at the label counts both have, paired by seed (a seed fixes the data "
             "and the initial labels). Top-k acquisition scores every point once per batch; "
             "one label per round rescores after each label, so the difference is what the "
             "batch costs each score. RandomSampling's batches of 10 are the baseline: a "
             "uniform draw does not depend on the batch size. Complete seeds: "
             f"{seeds or 'none yet'} of {single['seeds']}.", ""]
    if not seeds:
        return lines + cost_lines(path, single)
    top = int(rows["n_labelled"].max())
    labels = [spec["label"] for spec in single["strategies"]]
    tens = frame[frame["seed"].isin(seeds) & (frame["n_labelled"] <= top)
                 & frame["strategy"].isin(["RandomSampling", *labels])]
    complete = rows[rows["seed"].isin(seeds)]
    ones = complete[complete["n_labelled"].isin(set(tens["n_labelled"]))].assign(
        strategy=lambda f: f["strategy"] + f" ({SINGLE_SUFFIX})")
    combined = pd.concat([tens, ones], ignore_index=True)
    counts = sorted(int(n) for n in combined["n_labelled"].unique())
    at = sorted({counts[1], counts[len(counts) // 2], counts[-1]})
    curves = plot_curves(combined, page.with_name(f"{page.stem}.{single['name']}.png"),
                         title=f"{flaw}: batches of 1 (b1) and of 10, mean and 95% CI "
                         f"({len(seeds)} seeds)")
    b1 = [f"{label} ({SINGLE_SUFFIX})" for label in labels]
    # each b1 strategy against Random, the b1 strategies against the first (BALD), each
    # against its own batches of 10, and the batches of 10 against Random
    pairs = [(one, "RandomSampling") for one in b1]
    pairs += [(one, b1[0]) for one in b1[1:]]
    pairs += list(zip(b1, labels))
    pairs += [(label, "RandomSampling") for label in labels]
    by_baseline = {baseline: paired_gains(combined, baseline=baseline).set_index("strategy")
                   for baseline in {baseline for _, baseline in pairs}}
    lines += [f"![{flaw}: one label per round]({curves.name})", "",
              "Paired differences (accuracy; mean ± 95% CI over seeds, `*`: excludes 0; "
              f"whole curve: the mean over the label counts up to {top} that both have):", "",
              "| difference | " + " | ".join(f"{n} labels" for n in at) + " | whole curve |",
              "|---" * (len(at) + 2) + "|"]
    for strategy, baseline in pairs:
        gains = by_baseline[baseline].loc[[strategy]].set_index("n_labelled")
        cells = [gain_cell(gains.loc[n]) if n in gains.index else "–" for n in [*at, "area"]]
        lines.append(f"| {strategy} − {baseline} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += ["Acquired labels by class with batches of 1 (mean per trial):", "",
              histogram_table(complete), ""]
    return lines + cost_lines(path, single)


def write_page(configs: dict, paths: dict, page: Path, command: str) -> None:
    lines = ["# Evaluation- and prediction-oriented acquisition on flawed pools", "",
             f"Produced by `{command}`. Protocol: "
             "`benchmarks/flawed_pools/flawed_pools.py` (docstring).", ""]
    frames = {flaw: load_results(path) if path.is_file() else None
              for flaw, path in paths.items()}  # read once, for the summary and the sections
    lines += summary_lines(configs, frames, page)
    for flaw, config in configs.items():
        path, frame = paths[flaw], frames[flaw]
        total = n_rounds(config) * len(config["strategies"]) * len(config["seeds"])
        done = 0 if frame is None else len(frame)
        seeds = [] if frame is None else complete_seeds(frame, config)
        lines += [f"## {flaw}: {config['dataset'].get('transforms')}", "",
                  f"{done} of {total} rounds run; seeds complete for every strategy: "
                  f"{seeds or 'none yet'} of {config['seeds']}. Only complete seeds enter "
                  "the tables.", ""]
        if not seeds:
            lines += cost_lines(path, config)
            continue
        complete = frame[frame["seed"].isin(seeds)]
        curves = plot_curves(complete, page.with_name(f"{page.stem}.{flaw}.png"),
                             title=f"{flaw}: test accuracy, mean and 95% CI "
                             f"({len(seeds)} seeds)")
        classes = plot_class_histogram(complete, page.with_name(f"{page.stem}.{flaw}.classes.png"),
                                       title=f"{flaw}: acquired labels by class (mean per trial)")
        lines += [f"![{flaw}: learning curves]({curves.name})", "",
                  "Gain over RandomSampling (accuracy; mean ± 95% CI of the per-seed "
                  "difference; whole curve = mean over label counts; `*`: CI excludes 0):",
                  "", gain_table(complete), "",
                  "Gain over BALD (the same, paired against BALD: where the evaluation- and "
                  "prediction-oriented scores and the stochastic rule help over BALD, and by "
                  "how much):", "", gain_table(complete, baseline="BALD"), "",
                  "Acquired labels by class (mean per trial):", "",
                  f"![{flaw}: acquired labels by class]({classes.name})", "",
                  histogram_table(complete), ""]
        fractions = acquired_fractions(complete, config, kind="ood")
        if fractions is not None:
            lines += fraction_lines(fractions, "out of distribution", "OOD fraction")
            lines += score_lines(path.parent, flaw)
        copies = acquired_fractions(complete, config, kind="copies")
        if copies is not None:
            lines += fraction_lines(
                copies, "copies of an image already labelled", "copies",
                note="Every image is in the pool several times, each copy with its own noise. "
                "A pick is a copy when another copy of its image was labelled before it: in "
                "the initial set, in an earlier round, or earlier in the same batch. Its label "
                "teaches the model almost nothing new.")
        lines += cost_lines(path, config)
        if flaw in SINGLE:
            lines += single_lines(flaw, frame, config, path.parent, page)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("\n".join(lines) + "\n")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--flaws", nargs="+", choices=sorted(FLAWS), default=list(FLAWS),
                        help="the flaws to run (the page always shows every flaw run so far)")
    parser.add_argument("--single", action="store_true",
                        help="run the one-label-per-round diagnostics of the chosen flaws "
                        f"that have one ({', '.join(SINGLE)}) instead of the flaws themselves")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--mini", action="store_true")
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    parser.add_argument("--page", type=Path, default=PAGE)
    args = parser.parse_args(argv)
    configs = {flaw: flaw_config(flaw, mini=args.mini) for flaw in FLAWS}
    paths = {flaw: args.output_dir / f"{config['name']}.csv" for flaw, config in configs.items()}
    if not args.report_only:
        for flaw in args.flaws:
            if args.single:
                if flaw in SINGLE:
                    config = single_config(flaw, mini=args.mini)
                    run_experiment(config, args.output_dir / f"{config['name']}.csv",
                                   n_jobs=args.n_jobs)
            else:
                run_experiment(configs[flaw], paths[flaw], n_jobs=args.n_jobs)
    command = "python benchmarks/flawed_pools/flawed_pools.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    write_page(configs, paths, args.page, command.strip())
    return paths


if __name__ == "__main__":
    main()
