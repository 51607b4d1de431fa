"""How much information about the model does each strategy's batch carry?

A diagnostic of the MNIST anchor study (``mnist_study.py``), run after it::

    python benchmarks/mnist/batch_information.py            # resumable, ~1 core-minute a state
    python benchmarks/mnist/mnist_study.py                  # the page shows the table

For each seed and each chosen round it rebuilds BALD's state in the study (the
initial labels plus the batches BALD acquired before that round), trains the
same model the runner trained (same seed), and lets every strategy of the
config pick its batch of 10 from that one state. Each batch is then scored by
``I[y_1..y_b; ω]`` (:func:`skal_power.batch.batch_information`) on an
independent set of ``--k-score`` MC-dropout samples (500), with ``Σ_i BALD(x_i)`` on
the same samples beside it: the difference is the information the picks share,
what top-k acquisition wastes.

Rebuilding the runner's state is also a check of its determinism: the
recomputed test accuracy and BALD's recomputed batch must be those in the
results file (and at round 0, where every strategy has the same state, every
strategy's batch). The CSV records the outcome of each check.
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

from skal_power.experiments import (  # noqa: E402
    labelled_before,
    load_config,
    load_results,
    make_data,
    query_round,
    train_round,
)

CONFIG = HERE / "mnist-cnn.json"
RESULTS = HERE / "results" / "mnist-cnn.csv"
#: The output's name, beside the study's results (``mnist_study.py`` reads it there).
OUTPUT_NAME = "batch-information.csv"
COLUMNS = ["seed", "round", "n_labelled", "strategy", "information", "standard_error",
           "bald_sum", "distinct_classes", "reproduced"]
REFERENCE = "BALD"


def _own_seed(seed: int, round_index: int, purpose: int) -> int:
    """Seeds of this diagnostic's own draws, apart from every seed the runner uses."""
    return int(np.random.SeedSequence([seed, round_index, 1000 + purpose]).generate_state(1)[0])


def _recorded(results, strategy: str, seed: int, round_index: int):
    row = results[(results["strategy"] == strategy) & (results["seed"] == seed)
                  & (results["round"] == round_index)]
    return None if row.empty else row.iloc[0]


def state_rows(config: dict, results, seed: int, round_index: int, *, k_score: int,
               n_configurations: int) -> list[list]:
    """Rows of COLUMNS for one (seed, round): every strategy's batch from BALD's state."""
    from skal_power.adapters import sampled_log_proba
    from skal_power.batch import batch_information
    from skal_power.scores import bald

    data = make_data(config, seed)
    X_pool, y_pool = data.X_pool, data.y_pool
    labelled = labelled_before(config, results, REFERENCE, seed, round_index, y_pool)
    if labelled is None:  # the reference trial has not reached this round
        return []
    # the runner's own round: the same model, and each strategy's batch from it
    model, accuracy, _ = train_round(config, data, seed, round_index, labelled)
    reference = _recorded(results, REFERENCE, seed, round_index)
    same_model = reference is not None and abs(float(reference["accuracy"]) - accuracy) < 1e-12
    batches = {spec["label"]: query_round(spec, data, seed, round_index, model, labelled,
                                          config["batch_size"])
               for spec in config["strategies"]}
    union = np.unique(np.concatenate(list(batches.values())))
    log_probs = sampled_log_proba(model, X_pool[union], n_samples=k_score, dtype=np.float64,
                                  random_state=_own_seed(seed, round_index, 0))
    singles = bald(log_probs)
    rows = []
    for label, batch in batches.items():
        positions = np.searchsorted(union, batch)
        information, error = batch_information(
            log_probs, positions, n_configurations=n_configurations, return_std=True,
            random_state=_own_seed(seed, round_index, 1))
        reproduced = ""
        if label == REFERENCE or round_index == 0:
            recorded = _recorded(results, label, seed, round_index)
            if recorded is not None:
                acquired = [int(i) for i in str(recorded["acquired"]).split()]
                reproduced = int(same_model and acquired == batch.tolist())
        rows.append([seed, round_index, len(labelled), label, information, error,
                     float(singles[positions].sum()), len(set(y_pool[batch].tolist())),
                     reproduced])
    return rows


def _done(path: Path) -> set[tuple[int, int]]:
    if not path.is_file():
        return set()
    import pandas as pd

    frame = pd.read_csv(path)
    return {(int(s), int(r)) for s, r in zip(frame["seed"], frame["round"])}


def _append(path: Path, rows: list[list]) -> None:
    new = not path.is_file()
    with open(path, "a") as handle:
        if new:
            handle.write(",".join(COLUMNS) + "\n")
        for row in rows:
            handle.write(",".join(f"{v:.10g}" if isinstance(v, float) else str(v)
                                  for v in row) + "\n")


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=CONFIG,
                        help="the study's config (JSON); with --mini, the miniature's")
    parser.add_argument("--mini", action="store_true",
                        help="the miniature of mnist_study.py --mini (tests)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--seeds", type=int, nargs="*", help="default: the config's")
    parser.add_argument("--rounds", type=int, nargs="*", default=[0, 3, 8],
                        help="rounds whose states are rebuilt (default 0 3 8: 20, 50, 100 "
                             "labels)")
    parser.add_argument("--k-score", type=int, default=500,
                        help="MC-dropout samples for scoring; the information is at most "
                             "log K (6.2 nats at 500), so a small K compresses it")
    parser.add_argument("--configurations", type=int, default=2**17)
    args = parser.parse_args(argv)
    if args.mini:
        sys.path.insert(0, str(HERE))
        from mnist_study import MINI

        config = load_config(MINI)
    else:
        config = load_config(json.loads(args.config.read_text()))
    results = load_results(args.results)
    output = args.results.parent / OUTPUT_NAME
    done = _done(output)
    from skal_power.threads import limit_threads

    try:
        import torch  # noqa: F401  (imported first so that limit_threads caps it)
    except ImportError:  # pragma: no cover
        pass
    with limit_threads(1):
        for seed in args.seeds if args.seeds is not None else config["seeds"]:
            for round_index in args.rounds:
                if (seed, round_index) in done:
                    continue
                rows = state_rows(config, results, seed, round_index, k_score=args.k_score,
                                  n_configurations=args.configurations)
                if not rows:
                    continue
                _append(output, rows)
                print(f"seed {seed} round {round_index}: " + ", ".join(
                    f"{row[3]} {row[4]:.3f}" for row in rows), flush=True)
    return output


if __name__ == "__main__":
    main()
