"""A spent greedy batch on a large pool: a forest's BatchBALD batch of 20 on 49,476 rows.

Digits repeated 28 times with noise, a 100-tree forest fitted on 30 labels: the batch is
spent after 3 picks. With ``on_saturation="power"`` the greedy stops scanning the pool
there; with ``"continue"`` every later step scans all of it for gains of zero::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/saturation_big_pool.py power continue
"""
import sys, time, warnings
import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from skal_power import BatchBALD
from skal_power.adapters import sampled_log_proba
from skal_power.batch import batch_bald
from skal_power.datasets import RepeatWithNoise
warnings.simplefilter("ignore")
X, y = load_digits(return_X_y=True)
forest = RandomForestClassifier(100, random_state=0).fit(X[:30], y[:30])
Xp, yp = RepeatWithNoise(k=28, noise_std=0.5, random_state=0)(X[30:], y[30:])
lp = sampled_log_proba(forest, Xp)
print("pool", lp.shape, flush=True)
for policy in sys.argv[1:]:
    t = time.perf_counter()
    idx, sc, tr = batch_bald(lp, 20, random_state=0, on_saturation=policy, return_info=True)
    print(policy, f"{time.perf_counter() - t:.1f} s", "spent at", tr.saturated_at, flush=True)
