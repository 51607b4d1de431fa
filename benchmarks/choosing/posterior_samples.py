"""How many posterior samples does BALD need? Forests of 3 to 100 trees on digits.

A modAL ``Committee`` of M learners, or a forest of M trees, gives BALD M
posterior samples. The first three posteriors hold the total number of trees at 90 and
change only the number of samples K. Migrating modAL users often start from a committee of 3, too few for
a mutual information to mean much. This script measures it with the library's own
runner: RandomSampling, BALD and PowerBALD (α = 5)  with committees of forests
and single forests as the posterior, on ``load_digits`` (500 test points, 20 initial
labels, 10 per round up to 120), 5 seeds, paired gains over random.

Run (about 5 core-minutes; resumes)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/choosing/posterior_samples.py --n-jobs 2

It writes one CSV per posterior to ``benchmarks/choosing/results/`` and the page
``benchmarks/results/posterior-samples.md``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

from skal_power.experiments import load_results, paired_gains, run_experiment, summarize

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the runner imports forest_committee as posterior_samples:...
PAGE = HERE.parent / "results" / "posterior-samples.md"
#: (name, model spec, posterior samples K, trees in all). The first three hold the total
#: number of trees at 90 and change only how many posterior samples BALD sees; the rest
#: are single forests of growing size.
POSTERIORS = [
    ("committee of 3 forests × 30 trees",
     {"name": "posterior_samples:forest_committee", "params": {"n_members": 3,
                                                             "trees_per_member": 30}}, 3, 90),
    ("committee of 10 forests × 9 trees",
     {"name": "posterior_samples:forest_committee", "params": {"n_members": 10,
                                                             "trees_per_member": 9}}, 10, 90),
    ("one forest of 90 trees", {"name": "random_forest", "params": {"n_estimators": 90}},
     90, 90),
    ("one forest of 3 trees", {"name": "random_forest", "params": {"n_estimators": 3}}, 3, 3),
    ("one forest of 10 trees", {"name": "random_forest", "params": {"n_estimators": 10}},
     10, 10),
    ("one forest of 30 trees", {"name": "random_forest", "params": {"n_estimators": 30}},
     30, 30),
]
STRATEGIES = ["RandomSampling", "BALD", {"name": "PowerBALD", "params": {"alpha": 5.0}}]


def forest_committee(n_members: int, trees_per_member: int, random_state: int = 0):
    """A soft-voting committee of random forests: each member is one posterior sample.

    skal_power reads a soft ``VotingClassifier`` as a committee (K = members), the way it
    reads a modAL ``Committee``; each member forest predicts with its own trees.
    """
    from sklearn.ensemble import RandomForestClassifier, VotingClassifier

    seeds = np.random.SeedSequence(random_state).generate_state(n_members)
    members = [(f"forest{i}", RandomForestClassifier(n_estimators=trees_per_member,
                                                     random_state=int(seed)))
               for i, seed in enumerate(seeds)]
    return VotingClassifier(members, voting="soft")


def config(name: str, model: dict, seeds: list[int]) -> dict:
    return {
        "name": name,
        "dataset": {"name": "digits", "test_size": 500},
        "model": model,
        "strategies": STRATEGIES, "initial": 20, "batch_size": 10, "budget": 100,
        "seeds": seeds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    lines = [
        "# How many posterior samples does BALD need?",
        "",
        "RandomSampling, BALD and PowerBALD (α = 5) on `load_digits`. The posterior is a "
        "soft-voting committee of random forests (K = members, as a modAL Committee of K "
        "learners gives) or one forest (K = trees): 500 test points, 20 initial labels, 10 "
        f"per round up to 120, {len(seeds)} seeds. Gain = per-seed difference in test accuracy against RandomSampling "
        "(mean ± 95% Student-t CI over seeds; * when the CI excludes 0); whole curve = the "
        "difference averaged over every label count from 20 to 120.",
        "",
        "Command: `OMP_NUM_THREADS=1 python benchmarks/choosing/posterior_samples.py "
        f"--n-jobs {args.n_jobs} --seeds {len(seeds)}`",
        "",
        "| posterior | samples K | trees | Random at 120 | BALD at 120 | PowerBALD at 120 "
        "| BALD gain, whole curve | PowerBALD gain, whole curve |",
        "|---|---|---|---|---|---|---|---|",
    ]
    started = time.perf_counter()
    ran = False
    for label, model, n_samples, n_trees in POSTERIORS:
        name = re.sub(r"[^a-z0-9]+", "-", label.replace("×", "x")).strip("-")
        output = HERE / "results" / f"{name}.csv"
        output.parent.mkdir(parents=True, exist_ok=True)
        rows_before = len(load_results(output)) if output.exists() else 0
        run_experiment(config(name, model, seeds), output, n_jobs=args.n_jobs)
        results = load_results(output)
        ran = ran or len(results) > rows_before
        summary = summarize(results)
        final = summary[summary["n_labelled"] == summary["n_labelled"].max()].set_index(
            "strategy")
        gains = paired_gains(results).set_index(["strategy", "n_labelled"])

        def at_end(label):
            row = final.loc[label]
            return f"{row['mean']:.3f} ± {row['ci95']:.3f}"

        def whole(label):
            row = gains.loc[(label, "area")]
            star = " *" if abs(row["mean"]) > row["ci95"] else ""
            return f"{row['mean']:+.3f} ± {row['ci95']:.3f}{star}"

        lines.append(f"| {label} | {n_samples} | {n_trees} | {at_end('RandomSampling')} | "
                     f"{at_end('BALD')} | "
                     f"{at_end('PowerBALD')} | {whole('BALD')} | {whole('PowerBALD')} |")
    if ran:
        lines += ["", f"Wall time of this run: {time.perf_counter() - started:.0f} s "
                  f"({args.n_jobs} worker process(es), one thread each)."]
    else:
        lines += ["", "Every trial was already in `benchmarks/choosing/results/`: this call "
                  "read them (the runner's seconds per round are in the `.timings.csv` files "
                  "there)."]
    PAGE.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
