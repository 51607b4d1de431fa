"""Diagnostic: how much of BatchEvaluationBALD's second-model work an exact bound could skip.

A candidate's BatchEvaluationBALD gain is its gain under M minus its gain under M′,
and M′'s gain is never below 0 (up to the sampled draw's weights, a K-term
correction). So a candidate whose gain under M is below the best score of the step
cannot be picked, and M′'s joint entropies need not be computed for it. At the first
pick the gains are single-point scores: BALD_M against EvaluationBALD = BALD_M − BALD_M′.

This prints, for round 0 of seed 0 of the claims protocol (``claims-large-batch.json``,
K = 100, the default warm M′), the share of the pool whose BALD_M is below the best
EvaluationBALD: the share of M′'s kernel an exact bound would skip at that step.

Run from the repository root (about a minute on one thread)::

    PYTHONPATH=. python benchmarks/evaluation_prune_bound.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_second_model import claims_data, claims_model  # noqa: E402

from skal_power.adapters import sampled_log_proba  # noqa: E402
from skal_power.scores import bald  # noqa: E402
from skal_power.strategies import PowerEvaluationBALD  # noqa: E402


def main() -> float:
    torch.set_num_threads(1)
    config, data, labelled, unlabelled = claims_data()
    model = claims_model(config, data).fit(data.X_pool[labelled], data.y_pool[labelled])
    X_pool = data.X_pool[unlabelled]
    strategy = PowerEvaluationBALD(n_samples=100, random_state=0)  # for its M′ alone
    strategy(model, X_pool, config["batch_size"], X_training=data.X_pool[labelled],
             y_training=data.y_pool[labelled])
    bald_m = bald(sampled_log_proba(model, X_pool, n_samples=100, random_state=1))
    bald_m2 = bald(sampled_log_proba(strategy.distilled_, X_pool, n_samples=100,
                                     random_state=2))
    best = float(np.max(bald_m - bald_m2))
    share = float(np.mean(bald_m < best))
    print(f"pool {len(X_pool)}; best EvaluationBALD {best:.4f} nats; BALD_M below it "
          f"(M′ not needed at the first pick): {share:.1%}; mean BALD_M′ / BALD_M "
          f"{bald_m2.mean() / bald_m.mean():.3f}")
    return share


if __name__ == "__main__":
    main()
