"""
An MC-dropout network as the posterior (skorch)
===============================================

A neural network with dropout becomes a Bayesian posterior if dropout stays on
at prediction time: every dropout mask is one posterior sample
:math:`\\omega_k` (Gal and Ghahramani, 2016).
:class:`~skal_power.models.MCDropoutClassifier` is a skorch classifier that
does this *consistently*: sample :math:`k` uses the same masks for every pool
point, however the pool is split into mini-batches — which BatchBALD's joint
entropies require, and which makes scores reproducible across chunks.
"""

# %%
# Fit a small network on 100 digits
# ---------------------------------
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skal_power import BALD, PowerBALD, RandomSampling
from skal_power.adapters import sampled_log_proba
from skal_power.models import MCDropoutClassifier
from skal_power.scores import bald, entropy

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=500, random_state=0,
                                                  stratify=y)


def make_net(seed):
    # Each epoch resamples 1,024 points from the labelled set (the BatchBALD schedule,
    # ResampledLoader), so every fit is 10 x 1024 / 64 = 160 Adam steps: a fraction of a
    # second, on 40 labels as on 160.
    return MCDropoutClassifier(module__hidden_units=(128,), module__dropout=0.5,
                               max_epochs=10, iterator_train__samples_per_epoch=1024,
                               lr=3e-3, batch_size=64, classes=np.arange(10),
                               random_state=seed)


rng = np.random.default_rng(0)
labelled = rng.choice(len(X_rest), 100, replace=False)
pool = np.setdiff1d(np.arange(len(X_rest)), labelled)
net = make_net(0).fit(X_rest[labelled], y_rest[labelled])
print(f"test accuracy with 100 labels: {net.score(X_test, y_test):.3f}")

# %%
# Posterior samples
# -----------------
# ``predict_proba_samples`` draws K dropout masks; :func:`sampled_log_proba`
# (what every strategy calls) returns the same thing in log space.
log_probs = sampled_log_proba(net, X_rest[pool], n_samples=20, random_state=0)
print("log_probs shape (N, K, C):", log_probs.shape)

scores = bald(log_probs)
confident, disputed = np.argmin(entropy(log_probs)), np.argmax(scores)
fig, axes = plt.subplots(2, 2, figsize=(9, 4.5), gridspec_kw={"width_ratios": [1, 4]})
for row, index, name in [(0, confident, "confident"), (1, disputed, "highest BALD")]:
    axes[row, 0].imshow(X_rest[pool][index].reshape(8, 8), cmap="gray_r")
    axes[row, 0].set_title(f"{name}\n(label {y_rest[pool][index]})", fontsize=9)
    axes[row, 0].axis("off")
    probs = np.exp(log_probs[index, :8])  # the first 8 posterior samples
    width = 0.8 / len(probs)
    for k, p in enumerate(probs):
        axes[row, 1].bar(np.arange(10) + (k - 3.5) * width, p, width=width,
                         color=plt.cm.tab10(k))
    axes[row, 1].set(xticks=range(10), ylim=(0, 1), ylabel="p(y | x, ω_k)",
                     title=f"BALD = {scores[index]:.2f} nats")
axes[1, 1].set_xlabel("class (one bar per dropout mask)")
fig.tight_layout()

# %%
# The samples agree on the confident digit and disagree on the other: that
# disagreement is what BALD measures.
#
# Consistent masks
# ----------------
# The pool is scored in chunks (``chunk_size`` in every strategy). With
# consistent masks, the samples of a point do not depend on the chunk it is
# in, so chunked scores equal whole-pool scores:
whole = sampled_log_proba(net, X_rest[pool], n_samples=20, random_state=1)
chunks = np.concatenate([sampled_log_proba(net, part, n_samples=20, random_state=1)
                         for part in np.array_split(X_rest[pool], 7)])
print("chunked == whole pool:", bool(np.allclose(whole, chunks, atol=1e-5)))

# %%
# Active learning with the network
# --------------------------------
# Six rounds of 20 queries from 40 labels (four per class), two seeds,
# retraining the network from scratch each round: 43 fits in all. Each fit is
# kept short (160 Adam steps, see ``make_net`` above; an earlier version of
# this page trained 7,680 steps per fit and took minutes) so that the example
# runs in seconds. The
# :doc:`modAL tutorial <plot_modal_skorch_mc_dropout>` runs the same kind of
# network inside a modAL ``ActiveLearner``.
strategies = {
    "PowerBALD (α=5)": lambda seed: PowerBALD(alpha=5.0, n_samples=20, random_state=seed),
    "BALD (top-B)": lambda seed: BALD(n_samples=20, random_state=seed),
    "Random": lambda seed: RandomSampling(random_state=seed),
}
n_rounds, batch_size, seeds = 6, 20, [0, 1]
curves = {name: [] for name in strategies}
for name, make_strategy in strategies.items():
    for seed in seeds:
        rng = np.random.default_rng(seed)
        labelled = list(np.concatenate(  # four labelled digits per class to start with
            [rng.choice(np.flatnonzero(y_rest == c), 4, replace=False) for c in range(10)]))
        pool = np.setdiff1d(np.arange(len(X_rest)), labelled)
        strategy = make_strategy(seed)
        net = make_net(seed).fit(X_rest[labelled], y_rest[labelled])
        accuracy = [net.score(X_test, y_test)]
        for _ in range(n_rounds):
            query, _ = strategy(net, X_rest[pool], n_instances=batch_size)
            labelled += list(pool[query])
            pool = np.delete(pool, query)
            net = make_net(seed).fit(X_rest[labelled], y_rest[labelled])
            accuracy.append(net.score(X_test, y_test))
        curves[name].append(accuracy)

n_labels = 40 + batch_size * np.arange(n_rounds + 1)
fig, ax = plt.subplots(figsize=(7, 4))
for name, runs in curves.items():
    runs = np.asarray(runs)
    ax.plot(n_labels, runs.mean(axis=0), "o-", label=name)
    ax.fill_between(n_labels, runs.min(axis=0), runs.max(axis=0), alpha=0.2)
ax.set(xlabel="number of labelled digits", ylabel="test accuracy",
       title="Digits, MC-dropout MLP (mean and range of 2 seeds)")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# With batches of 20 from a pool without duplicates, top-B BALD still falls
# behind: the highest-BALD digits of one round resemble each other, so a batch
# of them teaches less than its scores promise. PowerBALD keeps BALD's
# preference for informative digits but spreads the batch out (two seeds here,
# so read the gap as an illustration; :doc:`/benchmarks` has the measured
# comparison).
