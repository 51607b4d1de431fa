"""
Quickstart with modAL
=====================

Every skal_power strategy is a modAL ``query_strategy``: hand it to an
``ActiveLearner`` and call ``query``. This example runs a short pool-based
active-learning loop on scikit-learn's digits with a random forest as the
posterior (its trees are the posterior samples BALD needs), and compares
:class:`~skal_power.PowerBALD`, top-B :class:`~skal_power.BALD` and
:class:`~skal_power.RandomSampling`.

.. note::

   modAL 0.4.2.1 calls ``check_X_y(..., force_all_finite=...)`` in
   ``ActiveLearner.teach`` and ``fit``, a keyword that scikit-learn 1.8
   removed (see :doc:`/install`). Constructing a learner with training data,
   ``query`` and ``score`` work on every version, so this loop builds a fresh
   learner on the grown labelled set each round instead of calling ``teach``.
   With ``scikit-learn<1.8`` the two lines marked below can be replaced by
   ``learner.teach(X_pool[query_idx], y_pool[query_idx])``.
"""

# %%
# The data: a small labelled seed set and a pool
# ----------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from modAL.models import ActiveLearner
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from skal_power import BALD, PowerBALD, RandomSampling

X, y = load_digits(return_X_y=True)
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=500, random_state=0,
                                                  stratify=y)


def make_forest(seed):
    return RandomForestClassifier(n_estimators=50, random_state=seed, n_jobs=1)


# %%
# One query, step by step
# -----------------------
# Twenty labelled digits (two per class) to start with; the rest is the pool.
rng = np.random.default_rng(0)
start = np.concatenate([rng.choice(np.flatnonzero(y_rest == c), 2, replace=False)
                        for c in range(10)])
learner = ActiveLearner(
    estimator=make_forest(0),
    query_strategy=PowerBALD(alpha=5.0, random_state=0),
    X_training=X_rest[start],
    y_training=y_rest[start],
)
X_pool = np.delete(X_rest, start, axis=0)
query_idx, query_inst = learner.query(X_pool, n_instances=10)
print("queried pool indices:", query_idx)
print(f"accuracy with {len(start)} labels: {learner.score(X_test, y_test):.3f}")

# %%
# ``query`` returns the indices and the rows of the pool. The strategy itself
# returns ``(indices, scores)``: the BALD score of every selected digit.
indices, scores = PowerBALD(alpha=5.0, random_state=0)(learner, X_pool, n_instances=10)
print("BALD of the selected digits (nats):", scores.round(3))

fig, axes = plt.subplots(1, 10, figsize=(10, 1.9), layout="constrained")
for ax, index, score in zip(axes, indices, scores):
    ax.imshow(X_pool[index].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{score:.2f}", fontsize=9)
    ax.axis("off")
fig.suptitle("The first PowerBALD batch, titled with each digit's BALD (nats)")

# %%
# The loop
# --------
# Eight rounds of ten queries, three seeds per strategy. The oracle is the
# known label ``y_pool``.
strategies = {
    "PowerBALD (α=5)": lambda seed: PowerBALD(alpha=5.0, random_state=seed),
    "BALD (top-B)": lambda seed: BALD(random_state=seed),
    "Random": lambda seed: RandomSampling(random_state=seed),
}
n_rounds, batch_size, seeds = 8, 10, [0, 1, 2]
curves = {name: [] for name in strategies}
for name, make_strategy in strategies.items():
    for seed in seeds:
        rng = np.random.default_rng(seed)
        labelled = list(np.concatenate(
            [rng.choice(np.flatnonzero(y_rest == c), 2, replace=False) for c in range(10)]))
        pool = np.setdiff1d(np.arange(len(X_rest)), labelled)
        strategy = make_strategy(seed)
        learner = ActiveLearner(estimator=make_forest(seed), query_strategy=strategy,
                                X_training=X_rest[labelled], y_training=y_rest[labelled])
        accuracy = [learner.score(X_test, y_test)]
        for _ in range(n_rounds):
            query_idx, _ = learner.query(X_rest[pool], n_instances=batch_size)
            labelled += list(pool[query_idx])                     # the oracle labels them
            pool = np.delete(pool, query_idx)
            learner = ActiveLearner(estimator=make_forest(seed),  # sklearn < 1.8: teach
                                    query_strategy=strategy,
                                    X_training=X_rest[labelled], y_training=y_rest[labelled])
            accuracy.append(learner.score(X_test, y_test))
        curves[name].append(accuracy)

n_labels = 20 + batch_size * np.arange(n_rounds + 1)
fig, ax = plt.subplots(figsize=(7, 4))
for name, runs in curves.items():
    runs = np.asarray(runs)
    ax.plot(n_labels, runs.mean(axis=0), "o-", label=name)
    ax.fill_between(n_labels, runs.min(axis=0), runs.max(axis=0), alpha=0.2)
ax.set(xlabel="number of labelled digits", ylabel="test accuracy",
       title="Digits, random forest posterior (mean and range of 3 seeds)")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# On digits, both BALD strategies overtake random sampling within a few
# rounds. With batches this small and a pool without duplicates, top-B and
# PowerBALD are close; the :doc:`α example <plot_alpha_sampling>` shows where
# they part ways. The :doc:`methods tutorial </tutorials/methods>` explains
# the scores.

# sphinx_gallery_thumbnail_number = 2
