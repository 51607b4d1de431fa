"""Where the out-of-distribution points sit in BALD's and EPIG's scores.

A diagnostic of the flawed-pool study (``flawed_pools.py``), for its two OOD
flaws: at chosen rounds of each seed it rebuilds BALD's state in the study (the
labelled set its trial had, and the model the runner trained on it, same seed:
:func:`skal_power.experiments.train_round`), scores the unlabelled pool with
BALD and with EPIG (the validation images as targets, as in the study), and
records how the OOD rows compare with the others:

* the mean score of OOD and of in-distribution rows;
* the OOD fraction among the top 10 and the top 100 (what top-k acquisition takes);
* the OOD share of the power distribution ``p ∝ score^α`` (α = 5, as in the
  study's PowerBALD and PowerEPIG), which is the chance that a stochastic pick is
  OOD.

Run after (or while) the study runs; it appends to ``results/ood-scores.csv`` and
skips states already there::

    python benchmarks/flawed_pools/ood_scores.py            # about 40 s a state, 1 core
    python benchmarks/flawed_pools/flawed_pools.py --report-only   # the page shows it

Round 0 is the same state for every strategy; a later round needs the BALD
trial's rows up to it (states whose rows are missing are skipped).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from flawed_pools import OOD_SCORES, POWER_ALPHA, RESULTS, flaw_config  # noqa: E402

from skal_power.experiments import (  # noqa: E402
    derive_seed,
    initial_indices,
    labelled_before,
    load_results,
    make_data,
    make_strategy,
    train_round,
)

COLUMNS = ["flaw", "seed", "round", "n_labelled", "score", "pool_ood_fraction",
           "mean_ood", "mean_in", "top10_ood", "top100_ood", "power_ood"]
SCORES = ("BALD", "EPIG")


def power_share(scores: np.ndarray, mask: np.ndarray, alpha: float = POWER_ALPHA) -> float:
    """The OOD share of ``p ∝ score^alpha`` (scores clipped at 0).

    Examples
    --------
    >>> round(power_share(np.array([1.0, 1.0, 2.0]), np.array([True, False, False]), 1.0), 2)
    0.25
    """
    weights = np.clip(scores, 0.0, None) ** alpha
    return float(weights[mask].sum() / weights.sum())


def state_rows(flaw: str, config: dict, results, seed: int, round_index: int) -> list[list]:
    """Rows of COLUMNS for BALD's state at ``round_index`` of ``seed`` (or none)."""
    data = make_data(config, seed)
    if round_index == 0:  # every strategy's state: no rows needed
        labelled = [int(i) for i in initial_indices(config, seed, data.y_pool)]
    else:
        labelled = labelled_before(config, results, "BALD", seed, round_index, data.y_pool)
        if labelled is None:
            return []
    model, _, _ = train_round(config, data, seed, round_index, labelled)
    unlabelled = np.setdiff1d(np.arange(len(data.y_pool)), labelled)
    mask = data.ood_mask[unlabelled]
    rows = []
    for name in SCORES:
        spec = next(s for s in config["strategies"] if s["label"] == name)
        strategy = make_strategy(spec, derive_seed(seed, round_index, "strategy"),
                                 validation_inputs=data.X_validation)
        scores = strategy.score_pool(model, data.X_pool[unlabelled])
        order = np.argsort(-scores, kind="stable")
        rows.append([flaw, seed, round_index, len(labelled), name, float(mask.mean()),
                     float(scores[mask].mean()), float(scores[~mask].mean()),
                     float(mask[order[:10]].mean()), float(mask[order[:100]].mean()),
                     power_share(scores, mask)])
    return rows


def _done(path: Path) -> set[tuple]:
    if not path.is_file():
        return set()
    with open(path) as handle:
        return {(r["flaw"], int(r["seed"]), int(r["round"])) for r in csv.DictReader(handle)}


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flaws", nargs="+", default=["ood", "ood-classes", "irrelevant"])
    parser.add_argument("--rounds", nargs="+", type=int, default=[0, 5])
    parser.add_argument("--mini", action="store_true", help="digits miniature (tests)")
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    output = args.output_dir / OOD_SCORES
    done = _done(output)
    import torch

    torch.set_num_threads(1)
    for flaw in args.flaws:
        config = flaw_config(flaw, mini=args.mini)
        path = args.output_dir / f"{config['name']}.csv"
        results = load_results(path) if path.is_file() else None
        for seed in config["seeds"]:
            for round_index in args.rounds:
                if (flaw, seed, round_index) in done or (results is None and round_index):
                    continue
                rows = state_rows(flaw, config, results, seed, round_index)
                if not rows:
                    continue
                new = not output.is_file()
                with open(output, "a", newline="") as handle:
                    writer = csv.writer(handle)
                    if new:
                        writer.writerow(COLUMNS)
                    writer.writerows(rows)
                print(f"{flaw} seed {seed} round {round_index}: "
                      + ", ".join(f"{r[4]} top-10 OOD {r[8]:.0%}, power {r[10]:.0%}"
                                  for r in rows), flush=True)
    return output


if __name__ == "__main__":
    main()
