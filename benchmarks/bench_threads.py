"""One distill() with a thread per core against one thread (the docs' install page).

Run: ``for n in 2 1; do OMP_NUM_THREADS=$n OPENBLAS_NUM_THREADS=$n python -W ignore
benchmarks/bench_threads.py; done`` — each call prints the seconds one distillation took.
"""
import time, numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from skal_power.distill import distill
X, y = load_digits(return_X_y=True)
rng = np.random.default_rng(0); order = rng.permutation(len(X))
Xt, yt, Xp = X[order[:150]], y[order[:150]], X[order[150:350]]
model = LogisticRegression(max_iter=300, C=1.0).fit(Xt, yt)
t = time.perf_counter(); distill(model, Xt, yt, Xp, random_state=0); print(f"{time.perf_counter()-t:.2f} s")
