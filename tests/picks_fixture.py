"""The fixed instances of ``tests/data/picks.json``: every named strategy's picks.

``python tests/picks_fixture.py`` rewrites the file; the composition refactor
(score × selector) must leave every pick unchanged (tests/test_composition.py).

The greedy batch entries were rewritten with the saturation policy: 8 trees are
spent after one or two picks, and the rest of each batch, which used to follow
pool order, is now power sampling on the single-point score (``on_saturation=
"power"``), or with ``-raw`` the seed's raw objective with seeded tie-breaks.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PICKS = HERE / "data" / "picks.json"

#: name -> constructor parameters (every named strategy, non-default parameters too)
STRATEGIES = {
    "RandomSampling": {},
    "BALD": {},
    "MaxEntropy": {},
    "PowerBALD": {"alpha": 2.0},
    "PowerEntropy": {},
    "SoftmaxBALD": {"beta": 20.0},
    "SoftrankBALD": {"beta": 1.5},
    "UniformTopBALD": {"factor": 3},
    "ThompsonBALD": {},
    "BatchBALD": {},
    "EIG": {"eval_size": 40},
    "EvaluationBALD": {"eval_size": 40},
    "PowerEIG": {"eval_size": 40},
    "PowerEvaluationBALD": {"eval_size": 40, "alpha": 3.0},
    "BatchEIG": {"eval_size": 40},
    "BatchEvaluationBALD": {"eval_size": 40},
    # the seed's raw greedy objective, past the point where K = 8 trees are spent
    "BatchBALD-raw": {"on_saturation": "continue"},
    "BatchEvaluationBALD-raw": {"eval_size": 40, "on_saturation": "continue"},
    "BatchEPIG": {"target_size": 5},
}


def instance():
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_digits(return_X_y=True)
    X_train, y_train, X_pool = X[:60], y[:60], X[60:260]
    forest = RandomForestClassifier(n_estimators=8, random_state=0).fit(X_train, y_train)
    return forest, X_train, y_train, X_pool


def picks() -> dict:
    import skal_power

    forest, X_train, y_train, X_pool = instance()
    out = {}
    for name, params in STRATEGIES.items():
        cls = getattr(skal_power, name.split("-")[0])
        for seed in (0, 1):
            strategy = cls(random_state=seed, **params)
            kwargs = {}
            if "X_training" in cls.query_keywords():
                kwargs = {"X_training": X_train, "y_training": y_train}
            rounds = []
            for _ in range(2):  # two queries: the per-query seeds differ
                with warnings.catch_warnings():  # spent greedy batches say so
                    warnings.simplefilter("ignore")
                    indices, scores = strategy(forest, X_pool, n_instances=5, **kwargs)
                rounds.append([indices.tolist(), np.round(scores, 10).tolist()])
            out[f"{name}/{seed}"] = rounds
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    PICKS.parent.mkdir(exist_ok=True)
    result = picks()
    PICKS.write_text("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}"
                                       for k, v in result.items()) + "\n}\n")
    print(f"wrote {PICKS}")
