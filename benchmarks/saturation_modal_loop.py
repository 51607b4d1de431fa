"""A forest's BatchBALD in a real modAL loop: ExtraTrees(50), 3 seeds, 6 rounds of 10.

The pool arrives sorted by class (as folder-per-class data does). Before spent batches
were detected, BatchBALD's batches followed pool order once 50 trees were spent, and it
took 91 of its 180 labels from class 0. Needs modAL's learners (scikit-learn < 1.8)::

    PYTHONPATH=. .venv-modal/bin/python benchmarks/saturation_modal_loop.py power
    PYTHONPATH=. .venv-modal/bin/python benchmarks/saturation_modal_loop.py continue

The argument is BatchBALD's ``on_saturation``; it prints each strategy's test accuracy
after the last round and its labels from class 0.
"""
import sys, warnings
import numpy as np
from modAL.models import ActiveLearner
from sklearn.datasets import load_digits
from sklearn.ensemble import ExtraTreesClassifier
from skal_power import BALD, BatchBALD, RandomSampling
warnings.simplefilter("ignore")
X, y = load_digits(return_X_y=True)
policy = sys.argv[1] if len(sys.argv) > 1 else "power"
for name in ["RandomSampling", "BALD", "BatchBALD"]:
    accs, zeros = [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(y))
        test, rest = order[:500], order[500:]
        init = rest[:20]; pool = rest[20:]
        pool = pool[np.argsort(y[pool], kind="stable")]
        strategy = {"RandomSampling": RandomSampling(random_state=seed), "BALD": BALD(),
                    "BatchBALD": BatchBALD(random_state=seed, on_saturation=policy)}[name]
        learner = ActiveLearner(ExtraTreesClassifier(50, random_state=seed), strategy,
                                X_training=X[init], y_training=y[init])
        taken = []
        for r in range(6):
            idx, _ = learner.query(X[pool], n_instances=10)
            learner.teach(X[pool[idx]], y[pool[idx]])
            taken += list(y[pool[idx]]); pool = np.delete(pool, idx)
        accs.append(learner.score(X[test], y[test])); zeros.append(int(np.sum(np.array(taken) == 0)))
    print(f"{name:15s} policy={policy:8s} acc {np.mean(accs):.3f} labels from class 0: {sum(zeros)} of 180")
