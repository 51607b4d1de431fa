"""
What α does: the sampling distribution and batch diversity
==========================================================

:class:`~skal_power.PowerBALD` draws a batch **without replacement** with
probability proportional to :math:`\\mathrm{BALD}(x)^{\\alpha}`. The exponent α
moves it between two extremes: α = 0 is uniform random sampling, α → ∞ is
top-B. This example shows, on a pool where every point appears four times,

1. which points each α tends to pick (the sampling distribution), and
2. why sampling beats top-B on redundant pools: the batch covers more distinct
   points.
"""

# %%
# A small problem and its posterior
# ---------------------------------
# Three Gaussian classes in 2-D, 12 labelled points, and a bagged logistic
# regression as the posterior: its 50 bags are the posterior samples
# :math:`\omega_k`. The pool repeats each of 250 points four times with a
# little noise, like the *Repeated MNIST* benchmark.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from sklearn.datasets import make_blobs
from sklearn.ensemble import BaggingClassifier
from sklearn.linear_model import LogisticRegression

from skal_power import BALD, PowerBALD
from skal_power.adapters import sampled_log_proba
from skal_power.sampling import power_sample
from skal_power.scores import bald

rng = np.random.default_rng(0)
X, y = make_blobs(n_samples=262, centers=[[-2, 0], [2, 0], [0, 2.5]], cluster_std=1.2,
                  random_state=0)
labelled = np.concatenate([np.flatnonzero(y == c)[:4] for c in range(3)])
originals = np.setdiff1d(np.arange(len(X)), labelled)
copies = 4
pool_source = np.repeat(originals, copies)  # which original each pool point copies
X_pool = X[pool_source] + rng.normal(scale=0.03, size=(len(pool_source), 2))

posterior = BaggingClassifier(LogisticRegression(C=10.0), n_estimators=50, random_state=0)
posterior.fit(X[labelled], y[labelled])

log_probs = sampled_log_proba(posterior, X_pool)  # (N, K, C): one sample per bag
scores = bald(log_probs)
print(f"pool of {len(X_pool)} points, log_probs shape {log_probs.shape}")

# %%
# The sampling distribution
# -------------------------
# Draw a batch of 20 from the same scores with 400 different seeds and count
# how often each point is picked (points never picked are not shown on the
# log scale). With α = 0 every point has the same chance, 20/1000; as α grows, the
# probability moves to the highest-scoring points; top-B (α = ∞) always picks
# the same 20 and never any other.
batch_size, n_draws = 20, 400
alphas = [0.0, 1.0, 2.0, 5.0, 8.0]
order = np.argsort(-scores)
inclusion = {}
for alpha in alphas:
    counts = np.zeros(len(scores))
    for seed in range(n_draws):
        counts[power_sample(scores, batch_size, alpha=alpha, random_state=seed)] += 1
    inclusion[alpha] = counts / n_draws
top = np.zeros(len(scores))
top[order[:batch_size]] = 1.0

fig, (ax_scores, ax_prob) = plt.subplots(1, 2, figsize=(11, 4))
ax_scores.hist(scores, bins=40, color="gray")
ax_scores.set(xlabel="BALD (nats)", ylabel="number of pool points",
              title="Most of the pool scores low, a few points high")
colors = plt.cm.viridis(np.linspace(0, 0.9, len(alphas)))
for alpha, color in zip(alphas, colors):
    ax_prob.plot(scores[order], inclusion[alpha][order], ".", ms=3, color=color,
                 label=f"α = {alpha:g}")
ax_prob.axvline(scores[order[batch_size - 1]], color="crimson", ls="--", lw=1,
                label="top-B (α = ∞) takes\nthe points right of this")
ax_prob.set(yscale="log", ylim=(1e-3, 1.5), xlabel="BALD (nats)",
            ylabel=f"P(picked in a batch of {batch_size})",
            title=f"How often each point is picked ({n_draws} draws)")
ax_prob.legend(markerscale=4, fontsize=9, loc="upper left")
fig.tight_layout()

# %%
# Note the copies: the four copies of a high-scoring point have almost the same
# score, so top-B takes all four of them. Sampling treats each copy as a
# separate draw, so a batch rarely contains all four.
#
# What the batches look like
# --------------------------
# The pool coloured by BALD (high near the class boundaries and far from the
# labelled points, where the bags disagree), with the batch of top-B and of PowerBALD for α = 1 and α = 5.
# The strategies are the same objects you would hand to modAL.
batches = {
    "top-B (BALD)": BALD()(posterior, X_pool, n_instances=batch_size)[0],
    "PowerBALD, α = 1": PowerBALD(alpha=1.0, random_state=1)(posterior, X_pool, batch_size)[0],
    "PowerBALD, α = 5": PowerBALD(alpha=5.0, random_state=1)(posterior, X_pool, batch_size)[0],
}
pool_cmap = ListedColormap(plt.cm.Blues(np.linspace(0.2, 1.0, 256)))  # no white points
fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), sharex=True, sharey=True,
                         layout="constrained")
for ax, (name, batch) in zip(axes, batches.items()):
    points = ax.scatter(*X_pool.T, c=scores, s=8, cmap=pool_cmap)
    ax.scatter(*X[labelled].T, c=np.array(["tab:orange", "tab:green", "tab:purple"])[
        y[labelled]], marker="s", s=40, edgecolor="k", label="labelled (colour = class)")
    ax.scatter(*X_pool[batch].T, marker="o", s=80, facecolor="none", edgecolor="crimson",
               linewidth=1.5, label="batch")
    distinct = len(np.unique(pool_source[batch]))
    ax.set_title(f"{name}\n{distinct} distinct points of {batch_size}")
axes[0].legend(loc="lower left", fontsize=8)
_ = fig.colorbar(points, ax=axes, label="BALD (nats)", shrink=0.9)

# %%
# Batch diversity against α
# -------------------------
# The number of distinct original points in a batch of 20, averaged over 100
# seeds. Top-B wastes most of the batch on copies; small α gives diverse but
# uninformative batches; α between 2 and 8 keeps both diversity and
# informativeness. α = 5 is this project's default (its design brief suggests
# 5–8); what α = 1, 5 and 10 did to a forest's learning curves on digits is in
# ``benchmarks/results/forest-alpha.md``, and what PowerBALD at α = 5 did
# against BatchBALD on MNIST in :ref:`choosing`.
alpha_grid = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0])
distinct_mean, bald_mean = [], []
for alpha in alpha_grid:
    batches_ = [power_sample(scores, batch_size, alpha=alpha, random_state=seed)
                for seed in range(100)]
    distinct_mean.append(np.mean([len(np.unique(pool_source[b])) for b in batches_]))
    bald_mean.append(np.mean([scores[b].mean() for b in batches_]))
top_batch = order[:batch_size]

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(alpha_grid, distinct_mean, "o-", label="PowerBALD")
ax.axhline(len(np.unique(pool_source[top_batch])), color="crimson", ls="--",
           label="top-B (BALD)")
ax.set(xlabel="α", ylabel=f"distinct points in a batch of {batch_size}",
       ylim=(0, batch_size + 1), title="Diversity of the batch")
ax2 = ax.twinx()
ax2.plot(alpha_grid, bald_mean, "s:", color="gray", label="mean BALD of the batch")
ax2.set_ylabel("mean BALD of the batch (nats)", color="gray")
lines = ax.get_legend_handles_labels()
lines2 = ax2.get_legend_handles_labels()
ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="lower left", fontsize=9)
fig.tight_layout()
plt.show()

# %%
# Cold starts: α on a schedule
# ----------------------------
# Early on, with a handful of labels, the scores mean little and random
# sampling is hard to beat. ``alpha`` also takes a schedule such as
# :class:`~skal_power.sampling.LinearSchedule`, evaluated at the strategy's
# round counter: here α ramps from 0 to 5 over the first four queries and then
# stays at 5.
from skal_power.sampling import LinearSchedule

schedule = LinearSchedule(start=0.0, stop=5.0, n_rounds=4)
print([round(float(schedule(r)), 2) for r in range(7)])
strategy = PowerBALD(alpha=schedule, random_state=0)

# sphinx_gallery_thumbnail_number = 2
