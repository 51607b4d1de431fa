"""The MNIST anchor study: does acquisition beat random under the BatchBALD protocol?

Run (hours on 2 CPU cores, detached and resumable; see ``run.sh``)::

    bash benchmarks/mnist/run.sh

Then write the page ``benchmarks/results/mnist-cnn.md`` (and its figures) from
whatever the results CSV holds so far, without running anything::

    python benchmarks/mnist/mnist_study.py

Its diagnostics run the same way, each from its config beside this script, into
``results/`` (the page picks up whatever has run), for example BALD with one label
per round (about 26 core-minutes a seed on CPU)::

    python -m skal_power.cli run --config benchmarks/mnist/mnist-cnn-b1.json \\
        --output benchmarks/mnist/results/mnist-cnn-b1.csv --no-progress
    python benchmarks/mnist/batch_information.py

``--mini`` runs a seconds-long miniature (digits, a small MLP, the same
protocol options) and writes its page, so that the test suite keeps this
script working.

The page reports, per strategy, the paired gain over RandomSampling (mean ±
95% Student-t CI of the per-seed difference of the whole learning curve), the
labels needed to reach 90% and 95% test accuracy (quartiles over seeds) beside
the numbers of the BatchBALD authors' code, the acquired labels by class, and
the cost in core-minutes (from the timings file).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from skal_power.cli import protocol_text  # noqa: E402
from skal_power.experiments import (  # noqa: E402
    complete_seeds,
    cost_table,
    gain_table,
    histogram_table,
    load_config,
    load_results,
    plot_class_histogram,
    plot_curves,
    plot_gains,
    report_table,
    run_experiment,
)

sys.path.insert(0, str(ROOT / "benchmarks" / "reference"))
from batchbald_runs import load_runs  # noqa: E402

CONFIG = HERE / "mnist-cnn.json"
RESULTS = HERE / "results" / "mnist-cnn.csv"
PAGE = ROOT / "benchmarks" / "results" / "mnist-cnn.md"
TARGETS = (0.90, 0.95)

#: Labels needed (25% / 50% / 75%) as printed by the authors' notebook
#: ``notebooks/paper/visualizations.ipynb`` from the same logs; its loader credits each
#: batch's accuracy from the batch's first label, so it prints one batch fewer than
#: counting the labels the model was trained on (as this page does).
NOTEBOOK = {
    "BatchBALD": {0.90: (70, 90, 110), 0.95: (190, 200, 230)},
    "BALD": {0.90: (120, 120, 170), 0.95: (250, 250, np.inf)},
}

#: Diagnostic runs of the same protocol, one change each (their configs beside CONFIG).
#: They ran on a GPU machine (NVIDIA H200, torch 2.11, 16 trials at a time), so their
#: Random rows are not those of the CPU study; each is paired within its own file.
DIAGNOSTICS = (
    ("mnist-cnn-k100", "K = 100 MC-dropout samples for BALD against K = 20 (and Random), "
     "everything else as above"),
    ("mnist-cnn-long", "a budget of 230 acquired labels (250 in all) instead of 150, BALD "
     "with K = 20 against Random"),
)

MINI = {
    "name": "mnist-cnn-mini",
    "dataset": {"name": "digits", "test_size": 300, "validation_size": 100,
                "normalize": {"mean": 0.3, "std": 0.4}},
    "model": {"name": "mc_dropout",
              "params": {"module": "MLP", "module__hidden_units": [32], "max_epochs": 4,
                         "iterator_train__samples_per_epoch": 256},
              "early_stopping": {"patience": 2, "monitor": "valid_acc"}},
    "initial": {"per_class": 1},
    "test_samples": 3,
    "budget": 20,
    "batch_size": 10,
    "seeds": [0, 1],
    "strategies": ["RandomSampling", {"name": "BALD", "params": {"n_samples": 5}},
                   {"name": "BatchBALD", "params": {"n_samples": 5}},
                   {"name": "PowerBALD", "params": {"n_samples": 5}}],
}


def labels_to_reach(results, target: float):
    """Per strategy, the labels each seed needed to reach ``target`` (inf: not reached)."""
    needed = {}
    for (strategy, seed), trial in results.groupby(["strategy", "seed"]):
        trial = trial.sort_values("n_labelled")
        reached = trial[trial["accuracy"] >= target]["n_labelled"]
        needed.setdefault(strategy, []).append(float(reached.iloc[0]) if len(reached)
                                               else np.inf)
    return needed


def _quartiles(values) -> str:
    # "lower": an observed value (never inf - inf); with 5 seeds the 2nd, 3rd and 4th
    quartiles = np.quantile(np.asarray(values, dtype=float), [0.25, 0.5, 0.75], method="lower")
    return " / ".join(">max" if np.isinf(q) else f"{q:.0f}" for q in quartiles)


def _notebook(strategy: str, target: float) -> str:
    if strategy not in NOTEBOOK:
        return "–"
    return " / ".join(">300" if np.isinf(q) else f"{q:.0f}" for q in NOTEBOOK[strategy][target])


def _area(frame, strategy: str, baseline: str) -> str:
    """``mean ± CI (verdict)`` of the whole-curve gain of ``strategy`` over ``baseline``."""
    from skal_power.experiments import paired_gains

    gains = paired_gains(frame, baseline=baseline)
    row = gains[(gains["strategy"] == strategy) & (gains["n_labelled"] == "area")]
    if row.empty:
        return "not run"
    mean, ci = float(row["mean"].iloc[0]), float(row["ci95"].iloc[0])
    verdict = ("CI above 0" if mean - ci > 0 else "CI below 0" if mean + ci < 0
               else "CI includes 0")
    return f"{mean:+.3f} ± {ci:.3f} ({verdict})"


def _summary_lines(done, authors) -> list[str]:
    """What the page shows, in a few sentences whose numbers come from the rows."""
    from skal_power.experiments import summarize

    strategies = sorted(set(done["strategy"]) - {"RandomSampling"})
    if "RandomSampling" not in set(done["strategy"]) or not strategies:
        return []
    last = int(done["n_labelled"].max())
    gains = "; ".join(f"{s} {_area(done, s, 'RandomSampling')}" for s in strategies)
    lines = ["## Summary", "",
             f"Whole-curve gain over RandomSampling, paired by seed (up to {last} labels): "
             f"{gains}."]
    authors = authors[authors["n_labelled"] <= last]
    if "BALD" not in strategies or authors.empty:
        return lines + [""]

    def bald_at(frame, n):
        table = summarize(frame[frame["strategy"] == "BALD"])
        row = table[table["n_labelled"] == n]
        return f"{float(row['mean'].iloc[0]):.3f}" if len(row) else "–"

    at = [n for n in (100, last) if n in set(authors["n_labelled"])]
    compared = ", ".join(f"{bald_at(done, n)} here and {bald_at(authors, n)} in theirs at "
                         f"{n} labels" for n in at)
    return lines + [
        "", f"Top-10 BALD here learns as the BatchBALD authors' own top-10 BALD ({compared}), "
        "and in their runs too it trails BALD with one label per round and BatchBALD "
        "(section \"The BatchBALD authors' own runs\"). Their logs hold no Random run on "
        "plain MNIST. Random's learning curve does not depend on the pool's size (its "
        "picks from 10,000 or 60,000 images are draws from the same distribution), and "
        "top-10 BALD's curve here matches theirs from a pool of 60,000, so their runs give "
        "no reason to expect a larger margin at their scale. BALD's margin over Random "
        "here is that of top-10 BALD under this protocol, not a defect of this library's "
        "scores; with batches, use the batch-aware forms (BatchBALD, PowerBALD).", ""]


def _reach_lines(done, authors) -> list[str]:
    """Labels-to-90%/95% table: this study, the authors' runs and their notebook."""
    last = int(done["n_labelled"].max())
    lines = ["Quartiles over seeds (25% / 50% / 75%, numpy's `lower` method: with 10 seeds "
             f"the 3rd, 5th and 8th smallest; `>max`: not reached within {last} labels), "
             "counting the labels the model was trained on. *Authors' runs*: the same count "
             "over the BatchBALD authors' logs of their MNIST runs (6 seeds, pool of 60,000, "
             "K = 100, 300-label budget; `>max`: not reached within it; see the section on "
             "their runs below). *Authors' notebook*: the numbers their notebook prints from "
             "those logs (BlackHC/BatchBALD, `notebooks/paper/visualizations.ipynb`), the "
             "likely source of the paper's Table 1. The notebook credits each batch's "
             "accuracy from the batch's first label (`expand_samples_I_values_I` and "
             "`get_marks` in `src/al_notebook/results_loader.py`), so it prints one batch (10 "
             "labels) fewer than the count of the labels trained on, and it takes quartiles "
             "by nearest rank.", "",
             "| strategy | 90%: here | 90%: authors' runs | 90%: authors' notebook | "
             "95%: here | 95%: authors' runs | 95%: authors' notebook |",
             "|---|---|---|---|---|---|---|"]
    ours = {t: labels_to_reach(done, t) for t in TARGETS}
    theirs = {t: labels_to_reach(authors, t) for t in TARGETS}
    for strategy in sorted(set(ours[TARGETS[0]]) | set(theirs[TARGETS[0]])):
        cells = []
        for target in TARGETS:
            cells += [_quartiles(ours[target][strategy]) if strategy in ours[target] else "–",
                      _quartiles(theirs[target][strategy]) if strategy in theirs[target]
                      else "–", _notebook(strategy, target)]
        lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
    return lines


def _authors_lines(done, authors) -> list[str]:
    """BALD against its batch-of-1 form and BatchBALD, in the authors' runs and here."""
    last = int(done["n_labelled"].max())
    authors = authors[authors["n_labelled"] <= last]
    if authors.empty:
        return []
    counts = set(authors["n_labelled"]) & set(done["n_labelled"])
    at = [n for n in (30, 40, 50, 100, last) if n in counts]
    ours = done[done["strategy"] != "RandomSampling"]
    return ["## The BatchBALD authors' own runs", "",
            "The BatchBALD repository keeps the log of every run behind the paper's figures "
            "(`laaos_results/paper/`); `python benchmarks/reference/batchbald_runs.py "
            "<clone>` reads them into `benchmarks/reference/batchbald-runs.csv`. On MNIST "
            "they hold 6 seeds each of BALD with acquisition batches of 10 and of 1, and of "
            "BatchBALD with batches of 10 (K = 100, a pool of 60,000, the same 20 initial "
            "labels in every seed, the training protocol above). They hold no Random run on "
            "plain MNIST, and the notebook's MNIST figures filter Random out, so the "
            "authors' material gives no Random baseline for BALD under this protocol. What "
            "it does give is the cost of BALD's batch, below as the gain over BALD (batches "
            f"of 10), paired by seed, up to {last} labels.", "",
            "Their test accuracy (mean ± 95% CI over their seeds), to set beside this "
            "page's learning curves:", "",
            report_table(authors, [n for n in (20, 50, 100, last) if n in counts]), "",
            "Gain over top-10 BALD in their runs:", "", gain_table(authors, at, baseline="BALD"),
            "",
            "Gain over top-10 BALD in this study (K = 20, a pool of 10,000; BALD with "
            f"batches of 1 is the `{SINGLE}` section below):", "",
            gain_table(ours, at, baseline="BALD"), "",
            _batch_cost_sentence(authors, ours), "",
            *_profile_lines(authors, done, last - int(done["n_labelled"].min()))]


def _acquired_classes(frame) -> dict:
    """Per (strategy, seed): the classes of the acquired labels in order, and per batch."""
    found = {}
    for (strategy, seed), trial in frame.groupby(["strategy", "seed"]):
        batches = [[int(v) for v in str(labels).split()]
                   for labels in trial.sort_values("round")["acquired_labels"]]
        found[strategy, seed] = [batch for batch in batches if batch]
    return found


def _profile_lines(authors, done, total: int) -> list[str]:
    """Which classes each strategy acquires, in the authors' runs and here."""
    first = 40
    rows = []
    for source, frame in (("authors", authors), ("here", done)):
        per_strategy: dict[str, list] = {}
        for (strategy, _), batches in _acquired_classes(frame).items():
            flat = [label for batch in batches for label in batch]
            if len(flat) < total:
                continue  # a run stopped early (the authors' runs stop at 96%)
            early = [len(set(batch)) for batch in batches[:EARLY_ROUNDS]]
            per_strategy.setdefault(strategy, []).append(
                (len(set(flat[:first])), np.bincount(flat[:total], minlength=10).min(),
                 np.mean(early) if len(batches[0]) > 1 else np.nan))
        for strategy in sorted(per_strategy):
            values = np.array(per_strategy[strategy], dtype=float)
            per_batch = ("–" if np.isnan(values[:, 2]).all()
                         else f"{np.nanmean(values[:, 2]):.2f}")
            rows.append(f"| {source} | {strategy} | {len(values)} | "
                        f"{values[:, 0].mean():.1f} | {values[:, 1].mean():.1f} | {per_batch} |")
    if not rows:
        return []
    return ["Which classes each strategy acquired, per run (mean over runs): the classes "
            f"among its first {first} acquired labels, the count of its rarest class among "
            f"its first {total}, and the distinct classes per batch in its first "
            f"{EARLY_ROUNDS} batches. The authors' picks are indices of MNIST's training "
            "set, labelled here from the offline MNIST in its original order (checked "
            "against the classes their Repeated-MNIST logs name).", "",
            "| study | strategy | runs | classes in first "
            f"{first} | rarest class in first {total} | classes per batch |",
            "|---|---|---|---|---|---|", *rows, ""]


def _batch_cost_sentence(authors, ours) -> str:
    """Whole-curve gains over top-10 BALD, theirs and ours, in one sentence."""
    return (f"Whole curve over top-10 BALD: BatchBALD {_area(authors, 'BatchBALD', 'BALD')} "
            f"in the authors' runs and {_area(ours, 'BatchBALD', 'BALD')} here; BALD with "
            f"batches of 1 {_area(authors, 'BALD (b=1)', 'BALD')} in theirs. So the authors' "
            "own top-10 BALD loses what one label per round or a joint batch score gains, "
            "the price of scoring a batch of 10 as 10 independent points; their K = 100 and "
            "six-times larger pool may explain why BatchBALD's margin is larger there.")


#: Rounds whose batches enter the batch-diversity table (the cold start).
EARLY_ROUNDS = 4


def _diversity_lines(results, config: dict, seeds: list) -> list[str]:
    """How diverse each strategy's first batches are, per strategy (complete seeds).

    Per batch: the number of distinct classes among its labels, and the mean
    distance from each picked image to its nearest neighbour in the same batch,
    divided by the mean distance between random pool pairs of that seed.
    """
    from skal_power.experiments import make_data

    found: dict[str, list[tuple[float, int]]] = {}
    for seed in seeds:
        data = make_data(config, int(seed))
        X = data.X_pool.reshape(len(data.X_pool), -1)
        rng = np.random.default_rng(0)
        left, right = rng.integers(0, len(X), (2, 2000))
        typical = float(np.linalg.norm(X[left] - X[right], axis=1).mean())
        trial_rows = results[(results["seed"] == seed) & (results["round"] < EARLY_ROUNDS)]
        for _, row in trial_rows.iterrows():
            if not isinstance(row["acquired"], str) or not row["acquired"].strip():
                continue
            picked = np.array([int(i) for i in row["acquired"].split()])
            if len(picked) < 2:
                continue
            gaps = np.linalg.norm(X[picked][:, None] - X[picked][None], axis=2)
            np.fill_diagonal(gaps, np.inf)
            labels = {int(v) for v in str(row["acquired_labels"]).split()}
            found.setdefault(row["strategy"], []).append(
                (float(gaps.min(axis=1).mean()) / typical, len(labels)))
    if not found:
        return []
    lines = ["## Batch diversity at the cold start", "",
             f"The first {EARLY_ROUNDS} batches of every complete seed: distinct classes "
             "among a batch's labels, and the mean distance (pixels, Euclidean) from each "
             "picked image to its nearest neighbour in the same batch, relative to the "
             "mean distance between random pool pairs. Fewer classes and nearer neighbours "
             "mean a more redundant batch.", "",
             "| strategy | batches | distinct classes per batch | nearest-neighbour distance |",
             "|---|---|---|---|"]
    for strategy in sorted(found):
        values = np.array(found[strategy])
        lines.append(f"| {strategy} | {len(values)} | {values[:, 1].mean():.2f} | "
                     f"{values[:, 0].mean():.3f} |")
    return lines + [""]


#: Written by ``batch_information.py`` beside the study's results.
INFORMATION_NAME = "batch-information.csv"


def _information_lines(folder: Path, results) -> list[str]:
    """The batch-information diagnostic (``batch_information.py``), if it has run.

    ``results`` are the study's rows, whose round-0 accuracies the determinism
    check compares.
    """
    path = folder / INFORMATION_NAME
    if not path.is_file():
        return []
    import pandas as pd

    from skal_power.experiments import t_interval

    frame = pd.read_csv(path)
    reference = frame[frame["strategy"] == "BALD"].set_index(["seed", "round"])
    lines = ["## Information in each batch", "",
             "Made by `python benchmarks/mnist/batch_information.py` "
             f"(`{INFORMATION_NAME}`). At each seed and chosen round, BALD's state in "
             "the study (its labelled set, and the model the runner trained on it, same "
             "seed) is rebuilt, and every strategy picks a batch of 10 from that one state. "
             "Each batch is scored on an independent set of MC-dropout samples (500 by "
             "default, `--k-score`): `I[batch; ω]` is the information its labels carry about "
             "the model (`skal_power.batch.batch_information`, from sampled configurations; "
             f"mean standard error {frame['standard_error'].mean():.4f} nats) and `Σ BALD` "
             "what top-k scoring counts it as. With K samples no batch can carry more than "
             "log K (6.21 nats at 500), so the gap between the two columns mixes information "
             "the picks share with that ceiling: compare batches by `I[batch; ω]`. Mean ± 95% "
             "CI over seeds; the last column is paired by seed against BALD's batch from the "
             "same state.", "",
             "| labels | strategy | seeds | I[batch; ω] (nats) | Σ BALD (nats) "
             "| distinct classes | I[batch; ω] − BALD's |",
             "|---|---|---|---|---|---|---|"]
    order = {"RandomSampling": 0, "BALD": 1, "BatchBALD": 2, "PowerBALD": 3}
    for (n_labelled, strategy), group in sorted(
            frame.groupby(["n_labelled", "strategy"]),
            key=lambda item: (item[0][0], order.get(item[0][1], 9), item[0][1])):
        cells = []
        for column in ("information", "bald_sum"):
            mean, ci = t_interval(group[column].to_numpy())
            cells.append(f"{mean:.3f} ± {ci:.3f}")
        paired = "–"
        if strategy != "BALD":
            keyed = group.set_index(["seed", "round"])
            common = keyed.index.intersection(reference.index)
            if len(common) > 1:
                mean, ci = t_interval((keyed.loc[common, "information"]
                                        - reference.loc[common, "information"]).to_numpy())
                paired = f"{mean:+.3f} ± {ci:.3f}" + (" *" if abs(mean) > ci else "")
        lines.append(f"| {int(n_labelled)} | {strategy} | {len(group)} | " + " | ".join(cells)
                     + f" | {group['distinct_classes'].mean():.2f} | {paired} |")
    checked = frame[frame["reproduced"].notna()]
    failed = checked[checked["reproduced"] == 0]
    lines += ["", f"Determinism check: {int(checked['reproduced'].sum())} of {len(checked)} "
              "recomputed batches (BALD's at every state, every strategy's at round 0, where "
              "all share one state) equal the batches in the study's results, with the same "
              "test accuracy."]
    if len(failed):
        seeds = sorted({int(s) for s in failed["seed"]})
        lines[-1] += (f" The others are in seeds {seeds}."
                      + _round0_note(results))
    return lines + [""]


def _round0_note(results) -> str:
    """Seeds whose round-0 rows disagree: one model seed, so they should be equal."""
    first = results[results["round"] == 0].groupby("seed")["accuracy"]
    split = {int(seed): sorted(set(values)) for seed, values in first
             if len(set(values)) > 1}
    if not split:
        return ""
    described = "; ".join(f"seed {seed}: {', '.join(f'{v:.4f}' for v in values)}"
                          for seed, values in split.items())
    return (" The study's own round-0 rows, where every strategy trains the same model from "
            "the same seed, disagree for some seeds as well "
            f"({described}): rows of one study were computed on machines whose "
            "floating-point kernels differ (oneDNN picks them per CPU), and a model "
            "retrained on one machine is the same every time.")


#: BALD with batches of one for the first labels (its config beside CONFIG).
SINGLE = "mnist-cnn-b1"
SINGLE_AT = (30, 40, 50)


def _single_point_lines(folder: Path, results, study_config: dict) -> list[str]:
    """BALD one label per round against the study's BALD (batches of 10) and Random."""
    path = folder / f"{SINGLE}.csv"
    if not path.is_file():
        return []
    from skal_power.experiments import t_interval

    config = load_config(json.loads((HERE / f"{SINGLE}.json").read_text()))
    single = load_results(path)
    seeds = sorted(set(complete_seeds(single, config))
                   & set(complete_seeds(results, study_config)))
    lines = [f"### `{SINGLE}`: BALD acquiring one label per round", "",
             f"`{SINGLE}.json`: the protocol above with batches of 1 up to "
             f"{config['budget']} acquired labels, BALD only; compared with this study's "
             "BALD (batches of 10) and Random at the same label counts, paired by seed (a "
             "seed fixes the data and the initial labels). Top-10 BALD scores every point "
             "once per batch; one label per round rescores after every label, so the gap "
             "between the two is what the batch costs BALD. Run on CPU, the same protocol "
             f"as the main study. Complete seeds: {seeds or 'none yet'}.", ""]
    if not seeds:
        return lines

    def accuracy(frame, strategy, n):
        rows = frame[(frame["strategy"] == strategy) & (frame["n_labelled"] == n)]
        return rows.set_index("seed").loc[seeds, "accuracy"].to_numpy()

    def cell(values):
        if len(values) < 2:  # one seed: its difference, no interval
            return f"{values[0]:+.3f} (n=1)"
        mean, ci = t_interval(values)
        return f"{mean:+.3f} ± {ci:.3f} (n={len(values)})" + (" *" if abs(mean) > ci else "")

    lines += ["| labels | BALD, batches of 1 − Random | BALD, batches of 10 − Random | "
              "batches of 1 − batches of 10 |", "|---|---|---|---|"]
    for n in SINGLE_AT:
        one, ten = accuracy(single, "BALD", n), accuracy(results, "BALD", n)
        random = accuracy(results, "RandomSampling", n)
        lines.append(f"| {n} | {cell(one - random)} | {cell(ten - random)} | "
                     f"{cell(one - ten)} |")
    return lines + [""]


def _diagnostic_runs(folder: Path) -> list[tuple[str, str, list[int], object]]:
    """``(name, what, complete seeds, their rows)`` of each diagnostic run in ``folder``."""
    runs = []
    for name, what in DIAGNOSTICS:
        if (folder / f"{name}.csv").is_file():
            config = load_config(json.loads((HERE / f"{name}.json").read_text()))
            results = load_results(folder / f"{name}.csv")
            seeds = complete_seeds(results, config)
            runs.append((name, what, seeds, results[results["seed"].isin(seeds)]))
    return runs


def _plot_gain_panels(done, page: Path, runs) -> Path:
    """The whole-curve gains of this study and of each diagnostic run, a panel each."""
    panels = {f"{page.stem} ({done['seed'].nunique()} seeds)": done}
    for name, _, seeds, rows in runs:
        if seeds:
            panels[f"{name} ({len(seeds)} seeds)"] = rows
    return plot_gains(panels, page.with_name(page.stem + ".gains.png"))


def _diagnostic_lines(runs) -> list[str]:
    """Gain tables of the diagnostic runs (:func:`_diagnostic_runs`)."""
    if not runs:
        return []
    lines = ["## Diagnostics: where BALD gains and where it loses", "",
             "Each run below changes one thing in the protocol above and compares BALD with "
             "Random on the same seeds (paired within the run). They ran on a GPU machine "
             "(NVIDIA H200, torch 2.11 with cuDNN, so not bit-for-bit the CPU runs), with "
             "their configs in `benchmarks/mnist/` and results in "
             "`benchmarks/mnist/results/`. Read the columns left to right: the gain at few "
             "labels against the gain at many.", ""]
    for name, what, seeds, done in runs:
        counts = sorted({int(n) for n in done["n_labelled"].unique()})
        at = [n for n in counts if n in (30, 50, 80, 100, 170, 250)]
        lines += [f"### `{name}`: {what}", "", f"{len(seeds)} complete seeds.", "",
                  gain_table(done, at), ""]
    return lines


def write_page(results_path: Path, config: dict, page: Path, *, command: str) -> dict:
    """Write the study page from the results so far; returns the whole-curve gains."""
    results = load_results(results_path)
    seeds = complete_seeds(results, config)
    page.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# {config['name']}: acquisition against random under the BatchBALD protocol",
             "", f"Produced by `{command}` from `{results_path.relative_to(ROOT) if results_path.is_relative_to(ROOT) else results_path.name}`.",
             "", protocol_text(config), ""]
    lines += ["Deviations from the BatchBALD code's MNIST runs (the pool, K and the test "
              "predictions to fit 2 CPU cores): a pool of "
              "10,000 images (theirs: the training set, about 59,000), K = 20 MC-dropout "
              "samples for acquisition (theirs: 100), test predictions averaged over 5 "
              "samples on 5,000 test images (theirs: up to 100 samples, the 10,000), the "
              "validation set drawn from MNIST's own validation split, and 2 initial "
              "labels per class drawn afresh for each seed (their logged runs all start "
              "from the same 20 images). As in their code: "
              "MNISTConvNet with dropout 0.5, Adam (lr 1e-3), batch 64, epochs of 5,056 "
              "resampled points, at most 30 epochs, early stopping on validation accuracy "
              "with patience 3 and the best weights restored, acquisition batches of 10.",
              ""]
    n_trials = results.groupby(["strategy", "seed"]).ngroups
    lines += [f"Progress: {len(results)} rounds in {n_trials} trials; seeds complete for "
              f"every strategy: {seeds or 'none yet'} of {config['seeds']}. Only complete "
              "seeds enter the tables below (paired by seed).", ""]
    gains = {}
    runs = _diagnostic_runs(results_path.parent)  # read once: the gains figure and tables
    if seeds:
        done = results[results["seed"].isin(seeds)]
        authors = load_runs("mnist")  # the BatchBALD authors' runs
        lines += _summary_lines(done, authors)
        curves = page.with_name(page.stem + ".png")
        plot_curves(done, curves, title=f"{config['name']}: test accuracy, mean and 95% CI "
                    f"({len(seeds)} seeds)")
        classes = page.with_name(page.stem + ".classes.png")
        plot_class_histogram(done, classes)
        gain_figure = _plot_gain_panels(done, page, runs)
        at = sorted({int(n) for n in done["n_labelled"].unique()})
        at = [n for n in at if n in (at[0], 50, 100, at[-1])]
        lines += ["## Learning curves", "", f"![learning curves]({curves.name})", "",
                  report_table(done, at), "",
                  "## Gain over RandomSampling (paired by seed)", "",
                  "Mean ± 95% CI (Student t) of the per-seed accuracy difference; the last "
                  "column is the whole curve (the difference averaged over every label count, "
                  "i.e. the normalised area between the curves). `*`: the CI excludes 0. "
                  "The figure sets the whole-curve gains beside those of the diagnostic runs "
                  "below (each against its own Random).", "",
                  f"![whole-curve gains]({gain_figure.name})", "", gain_table(done, at), "",
                  "## Labels needed to reach 90% and 95% accuracy", "",
                  *_reach_lines(done, authors), "",
                  "## Acquired labels by class", "",
                  "Mean count per trial of the labels each strategy acquired (the initial "
                  "labels not included).", "", f"![classes]({classes.name})", "",
                  histogram_table(done), ""]
        from skal_power.experiments import paired_gains

        table = paired_gains(done)
        for _, row in table[table["n_labelled"] == "area"].iterrows():
            gains[row["strategy"]] = (float(row["mean"]), float(row["ci95"]))
    if seeds:
        lines += _authors_lines(done, authors)
        lines += _diversity_lines(results, config, seeds)
    lines += _information_lines(results_path.parent, results)
    lines += _diagnostic_lines(runs)
    if seeds:
        lines += _single_point_lines(results_path.parent, results, config)
    cost = cost_table(results_path)
    if cost:
        lines += ["## Cost", "", "Seconds measured by the runner (fit: training and test "
                  "evaluation; query: the strategy), per round and summed over every round "
                  "run so far, each trial on one thread.", "", cost]
    page.write_text("\n".join(lines) + "\n")
    return gains


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mini", action="store_true", help="seconds-long miniature (tests)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--page", type=Path, default=PAGE)
    args = parser.parse_args(argv)
    command = "python benchmarks/mnist/mnist_study.py" + (" --mini" if args.mini else "")
    if args.mini:
        config = load_config(MINI)
        run_experiment(config, args.results)
    else:
        config = load_config(CONFIG)
        saved = args.results.with_name(args.results.stem + ".config.json")
        if saved.is_file() and json.loads(saved.read_text())["name"] != config["name"]:
            raise SystemExit(f"{saved} is not the config of {CONFIG}")
    return write_page(args.results, config, args.page, command=command)


if __name__ == "__main__":
    for strategy, (mean, ci) in main().items():
        print(f"{strategy}: whole-curve gain over RandomSampling {mean:+.4f} ± {ci:.4f}")
