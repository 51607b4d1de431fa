"""
EPIG on a pool with out-of-distribution images
==============================================

BALD scores a point by how much its label would tell us about the model's
*parameters*. Corrupted images, which no class fits, can be where the
posterior samples disagree most; then BALD asks for their labels, and the
oracle can only answer them with noise. Whether they are depends on the
model: with this example's extra trees on digits BALD spends about half of its
labels on them (printed below), while with an MNIST network top-10 BALD took
none (0% of its labels; ``benchmarks/results/flawed-pools.md``, section
``ood``). Measure it on your pool
(:func:`~skal_power.experiments.acquired_fractions`). EPIG (Bickford Smith et al., 2023) scores a point
by how much its label would tell us about the labels at **target inputs**, the
inputs we will be tested on:

.. math::

   \\mathrm{EPIG}(x) = \\mathbb{E}_{x_*}\\big[\\mathrm{I}(y; y_* \\mid x, x_*)\\big].

A corrupted image says little about the labels of clean digits, so EPIG does
not seek it out: here it asks for noise images about as often as random
sampling does, and less than BALD. Here 30% of a digits pool is replaced by noise images
(:class:`skal_power.datasets.OutOfDistribution`); the targets are 100 clean,
unlabelled digits.
"""

# %%
# The contaminated pool and the loop
# ----------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import ExtraTreesClassifier

from skal_power import BALD, EPIG, RandomSampling
from skal_power.datasets import OutOfDistribution, load_digits_data

X, y = load_digits_data()
rng = np.random.default_rng(0)
order = rng.permutation(len(y))
test, targets, pool = order[:400], order[400:500], order[500:]
ood = OutOfDistribution(fraction=0.3, random_state=0)
X_pool, y_pool = ood(X[pool], y[pool])
is_ood = ood.ood_mask_
X_target = X[targets]  # unlabelled, test-like inputs


def run(strategy, rounds=8, batch=10, seed=0):
    labelled = list(np.random.default_rng(seed).choice(np.flatnonzero(~is_ood), 20,
                                                       replace=False))
    accuracy, ood_asked = [], 0
    for _ in range(rounds):
        model = ExtraTreesClassifier(n_estimators=30, random_state=seed)
        model.fit(X_pool[labelled], y_pool[labelled])
        accuracy.append(model.score(X[test], y[test]))
        unlabelled = np.setdiff1d(np.arange(len(y_pool)), labelled)
        picked, _ = strategy(model, X_pool[unlabelled], n_instances=batch)
        ood_asked += int(is_ood[unlabelled[picked]].sum())
        labelled.extend(unlabelled[picked].tolist())
    return np.array(accuracy), ood_asked / (rounds * batch)


strategies = {"RandomSampling": RandomSampling(random_state=0), "BALD": BALD(random_state=0),
              "EPIG": EPIG(X_target=X_target, random_state=0)}
results = {name: run(strategy) for name, strategy in strategies.items()}
for name, (accuracy, ood_fraction) in results.items():
    print(f"{name:>15}: {ood_fraction:.0%} of its labels on noise images, "
          f"test accuracy {accuracy[-1]:.3f} at {20 + 10 * (len(accuracy) - 1)} labels")

# %%
# Learning curves
# ---------------
# One seed, to keep the gallery fast; the flawed-pool study under
# ``benchmarks/`` is where the confidence intervals belong.
figure, axes = plt.subplots(figsize=(6, 3.5))
for name, (accuracy, ood_fraction) in results.items():
    axes.plot(20 + 10 * np.arange(len(accuracy)), accuracy,
              label=f"{name} ({ood_fraction:.0%} OOD asked)")
axes.set_xlabel("labelled points")
axes.set_ylabel("test accuracy (clean digits)")
axes.legend()
axes.grid(alpha=0.3)
figure.tight_layout()
plt.show()

# %%
# Which target inputs?
# --------------------
# ``EPIG(X_target=...)`` takes any inputs you care about: a held-out unlabelled
# sample of the deployment data (as here), a sampler ``rng -> rows``, or, by
# default, ``target_size`` points of the pool itself, which on a contaminated
# pool includes the noise. EvaluationBALD answers the same question with a
# second, distilled model (:doc:`/auto_examples/plot_evaluation_bald`); EPIG
# needs none, at a cost of ``O(N · M · K · C²)`` for N pool points and M targets.
