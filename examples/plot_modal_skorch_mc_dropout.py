"""
modAL + skorch MC dropout
=========================

The library's central use: a network with Monte-Carlo dropout
(:class:`~skal_power.models.MCDropoutClassifier`, a skorch classifier) as the
estimator of a modAL ``ActiveLearner``, and a skal_power strategy as its
``query_strategy``. This page runs the loop with three of them:

* :class:`~skal_power.PowerBALD` — BALD scores, batch sampled with
  :math:`p(x) \\propto \\mathrm{BALD}(x)^{\\alpha}`;
* :class:`~skal_power.BatchBALD` — the greedy batch that maximises the joint
  mutual information (consistent dropout masks make the joint entropies
  computable);
* :class:`~skal_power.PowerEvaluationBALD` — BALD minus the BALD of a
  distilled second network :math:`M'` trained on the labelled set plus the
  pool with the network's own predictions as soft targets, which the
  strategy builds at every query from the learner's training data.

.. note::

   modAL 0.4.2.1's ``ActiveLearner.teach`` (and ``fit``) pass
   ``force_all_finite=`` to scikit-learn's ``check_X_y``, a keyword that
   scikit-learn 1.8 removed (see :doc:`/install`); constructing a learner,
   ``query`` and ``score`` work on every version. The ``teach`` function
   below calls ``learner.teach`` and, where modAL's raises that
   ``TypeError``, does what ``teach`` does by hand: append the new labels to
   the learner's training data and fit its estimator on all of it. With
   ``scikit-learn<1.8`` modAL's own ``teach`` runs; both train the network
   on the same labels, and this page gives the same numbers with either (run
   with scikit-learn 1.7.2 and 1.9.1). The page says which one its build used.
"""

# %%
# The network and the data
# ------------------------
# Digits scaled to [0, 1], 500 of them held out for testing. Each fit is short
# (10 epochs of 768 points resampled from the labelled set, 120 Adam steps),
# so the whole page runs in well under a minute on one CPU thread; ``classes``
# gives the network an output for every digit from the first round on.
import matplotlib.pyplot as plt
import numpy as np
import torch
from modAL.models import ActiveLearner
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skal_power import BatchBALD, PowerBALD, PowerEvaluationBALD
from skal_power.models import MCDropoutClassifier

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=500, random_state=0,
                                                  stratify=y)


def make_net(seed):
    return MCDropoutClassifier(module__hidden_units=(128,), module__dropout=0.5,
                               max_epochs=10, iterator_train__samples_per_epoch=768,
                               lr=3e-3, batch_size=64, classes=np.arange(10),
                               random_state=seed)


def start_set(seed):
    """Two labelled digits per class; the rest of ``X_rest`` is the pool."""
    rng = np.random.default_rng(seed)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y_rest == c), 2, replace=False)
                               for c in range(10)])
    return labelled, np.setdiff1d(np.arange(len(X_rest)), labelled)


TEACH_USED = set()


def teach(learner, X_new, y_new):
    """``learner.teach(X_new, y_new)``, or the same by hand where modAL's fails."""
    try:
        learner.teach(X_new, y_new)
        TEACH_USED.add("modAL's ActiveLearner.teach")
    except TypeError as error:  # scikit-learn >= 1.8: check_X_y(force_all_finite=...)
        if "force_all_finite" not in str(error):
            raise
        learner.X_training = np.concatenate([learner.X_training, X_new])
        learner.y_training = np.concatenate([learner.y_training, y_new])
        learner.estimator.fit(learner.X_training, learner.y_training)
        TEACH_USED.add("the workaround (append the labels, fit the estimator)")


# %%
# One round, step by step
# -----------------------
# The learner holds the network and the strategy. ``query`` hands the learner
# itself to the strategy, which draws K = 20 dropout masks per pool digit
# (the same masks for every digit), scores the pool and returns the batch.
labelled, pool = start_set(0)
learner = ActiveLearner(
    estimator=make_net(0),
    query_strategy=BatchBALD(n_samples=20, random_state=0),
    X_training=X_rest[labelled], y_training=y_rest[labelled],
)
print(f"accuracy with {len(labelled)} labels: {learner.score(X_test, y_test):.3f}")
query_idx, query_rows = learner.query(X_rest[pool], n_instances=10)
print("BatchBALD's batch (pool positions):", query_idx)
teach(learner, X_rest[pool[query_idx]], y_rest[pool[query_idx]])  # the oracle's labels
pool = np.delete(pool, query_idx)
print(f"accuracy with {len(learner.y_training)} labels: {learner.score(X_test, y_test):.3f}")
print("taught with:", ", ".join(sorted(TEACH_USED)))

# %%
# The distilled second model
# --------------------------
# PowerEvaluationBALD needs the learner's training data (modAL's
# ``X_training``/``y_training``) to build :math:`M'` at each query; here the
# evaluation set is a random 300-digit subset of the pool (``eval_size``), and
# :math:`M'` is a fresh network of the same kind fitted on the labelled digits
# plus those 300 with the learner's predictive distribution as soft targets.
# After the query the strategy keeps :math:`M'` as ``distilled_``.
strategy = PowerEvaluationBALD(alpha=5.0, n_samples=20, eval_size=300, random_state=0)
learner.query_strategy = strategy
query_idx, _ = learner.query(X_rest[pool], n_instances=10)
second = strategy.distilled_
print(f"M′: {type(second).__name__} with criterion {second.criterion.__name__}, "
      f"fitted on {len(learner.y_training)} labels + {len(strategy.eval_indices_)} "
      f"soft-labelled pool digits; test accuracy M {learner.score(X_test, y_test):.3f}, "
      f"M′ {second.score(X_test, y_test):.3f}")

# %%
# The loop
# --------
# Five rounds of ten queries from 20 labels, two seeds, for each strategy.
# Each round refits the network on all the labels (``teach`` refits from
# scratch: a skorch net re-initialises in ``fit``).
strategies = {
    "PowerBALD (α=5)": lambda seed: PowerBALD(alpha=5.0, n_samples=20, random_state=seed),
    "BatchBALD": lambda seed: BatchBALD(n_samples=20, random_state=seed),
    "PowerEvaluationBALD (α=5)": lambda seed: PowerEvaluationBALD(
        alpha=5.0, n_samples=20, eval_size=300, random_state=seed),
}
n_rounds, batch_size, seeds = 5, 10, [0, 1]
curves = {name: [] for name in strategies}
for name, make_strategy in strategies.items():
    for seed in seeds:
        labelled, pool = start_set(seed)
        learner = ActiveLearner(estimator=make_net(seed), query_strategy=make_strategy(seed),
                                X_training=X_rest[labelled], y_training=y_rest[labelled])
        accuracy = [learner.score(X_test, y_test)]
        for _ in range(n_rounds):
            query_idx, _ = learner.query(X_rest[pool], n_instances=batch_size)
            teach(learner, X_rest[pool[query_idx]], y_rest[pool[query_idx]])
            pool = np.delete(pool, query_idx)
            accuracy.append(learner.score(X_test, y_test))
        curves[name].append(accuracy)
print("taught with:", ", ".join(sorted(TEACH_USED)))

n_labels = 20 + batch_size * np.arange(n_rounds + 1)
fig, ax = plt.subplots(figsize=(7, 4))
for name, runs in curves.items():
    runs = np.asarray(runs)
    ax.plot(n_labels, runs.mean(axis=0), "o-", label=name)
    ax.fill_between(n_labels, runs.min(axis=0), runs.max(axis=0), alpha=0.2)
ax.set(xlabel="number of labelled digits", ylabel="test accuracy",
       title="modAL ActiveLearner, MC-dropout MLP (mean and range of 2 seeds)")
ax.legend()
fig.tight_layout()
plt.show()

for name, runs in curves.items():
    print(f"{name:>27}: accuracy at {n_labels[-1]} labels "
          f"{np.mean(np.asarray(runs)[:, -1]):.3f} (seeds {seeds})")

# %%
# The loop is the same for every strategy: only ``query_strategy`` changes,
# and PowerEvaluationBALD finds what it needs (the training data) on the
# learner. Two seeds and five rounds show the mechanics, not which strategy is
# better; :doc:`plot_skorch_mc_dropout` compares PowerBALD, BALD and random
# sampling on more rounds, and :doc:`/benchmarks` has the measured
# comparisons.
