"""BALD and PowerBALD's α with a random forest, on a balanced and a 20×-imbalanced pool.

The decision pages advise on α and on class imbalance; the other studies ran α = 5
only, and their imbalanced pool (flawed-pools.md) is 10× with an MC-dropout network.
This script measures both with the library's own runner and a plain scikit-learn
posterior, a fully grown random forest of 100 trees (K = 100 posterior samples, each
tree one-hot): RandomSampling, BALD (top-B) and PowerBALD with α = 1, 5 and 10 on
``load_digits`` (500 test points, 20 initial labels drawn uniformly, 10 per round up to
120), paired gains over random, and the acquired classes. The imbalanced pool keeps 5%
of the points of digits 5-9 (``ClassImbalance``); the test split stays balanced.

Run (about 15 core-minutes; resumes)::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/choosing/forest_alpha.py --n-jobs 1 --seeds 10

It writes one CSV per pool to ``benchmarks/choosing/results/`` and the page
``benchmarks/results/forest-alpha.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from skal_power.experiments import (gain_summary, gain_table, histogram_table, load_results,
                                    report_table, run_experiment)

HERE = Path(__file__).resolve().parent
PAGE = HERE.parent / "results" / "forest-alpha.md"
RARE = 0.05
POOLS = [
    ("balanced", "digits as it is", []),
    ("imbalanced-20x", f"digits 5-9 kept at {RARE:.0%} (20× rarer than 0-4)",
     [{"name": "ClassImbalance", "ratios": [1] * 5 + [RARE] * 5}]),
]
STRATEGIES = ["RandomSampling", "BALD"] + [
    {"name": "PowerBALD", "params": {"alpha": alpha}, "label": f"PowerBALD α={alpha:g}"}
    for alpha in (1.0, 5.0, 10.0)]


def config(name: str, transforms: list, seeds: list[int]) -> dict:
    return {
        "name": f"forest-alpha-{name}",
        "dataset": {"name": "digits", "test_size": 500, "transforms": transforms},
        "model": {"name": "random_forest", "params": {"n_estimators": 100}},
        "strategies": STRATEGIES, "initial": 20, "batch_size": 10, "budget": 100,
        "seeds": seeds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    lines = [
        "# α and class imbalance with a random forest",
        "",
        "RandomSampling, BALD (top-B) and PowerBALD (α = 1, 5, 10) on `load_digits` with a "
        "fully grown `RandomForestClassifier(n_estimators=100)` as the posterior (K = 100 "
        "trees, each predicting one-hot, so BALD equals the entropy of the vote): 500 test "
        f"points (balanced), 20 initial labels drawn uniformly, 10 per round up to 120, "
        f"{len(seeds)} seeds. Gains are paired by seed (each seed's trials share the data "
        "and the initial labels); mean ± 95% Student-t CI, `*` when it excludes 0; whole "
        "curve = the difference averaged over every label count from 20 to 120.",
        "",
        "Command: `OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/choosing/forest_alpha.py "
        f"--n-jobs {args.n_jobs} --seeds {len(seeds)}`",
    ]
    started = time.perf_counter()
    for name, description, transforms in POOLS:
        output = HERE / "results" / f"forest-alpha-{name}.csv"
        output.parent.mkdir(parents=True, exist_ok=True)
        run_experiment(config(name, transforms, seeds), output, n_jobs=args.n_jobs)
        results = load_results(output)
        lines += [
            "", f"## {name}: {description}", "",
            "Test accuracy (mean ± 95% CI over seeds):", "",
            report_table(results, [20, 50, 120]), "",
            "Gain over RandomSampling:", "",
            gain_table(results, [50, 120]), "",
            "Gain over BALD:", "",
            gain_table(results, [50, 120], baseline="BALD"), "",
            gain_summary(results), "",
            "Acquired labels by class (mean count per trial, initial labels not included; "
            "'rarest' is the least-asked class):", "",
            histogram_table(results),
        ]
    lines += ["", f"Wall time of this call: {time.perf_counter() - started:.0f} s "
              f"({args.n_jobs} worker process(es), one thread each; trials already in the "
              "CSVs are read, not rerun)."]
    PAGE.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
