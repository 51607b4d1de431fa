"""
BatchBALD against top-B BALD on a pool full of copies
=====================================================

Top-B BALD scores every pool point once and takes the :math:`B` best. When
the pool holds near-copies of a point, the copies score alike and top-B
spends the batch on them — after the first label, the others teach nothing.
:class:`~skal_power.BatchBALD` scores the batch *as a whole*, through the
joint entropy of its labels, and picks the next point only if it adds
information to the points already chosen:

.. math::

   \\mathrm{I}[y_1, \\dots, y_b ; \\omega]
   = \\mathrm{H}[y_1, \\dots, y_b]
   - \\sum_{i=1}^{b} \\frac{1}{K}\\sum_{k=1}^{K} \\mathrm{H}[y_i \\mid x_i, \\omega_k].

This example builds a *Repeated digits* pool (every digit three times, with a
little noise, like Repeated MNIST) and counts how many **distinct** digits
each method puts in its batch. :class:`~skal_power.PowerBALD` — stochastic
acquisition at the cost of one BALD pass — sits in between. BatchBALD needs
torch.
"""

# %%
# A repeated pool and an extra-trees posterior
# --------------------------------------------
# 40 labelled digits fit an extra-trees ensemble; its 100 trees are the
# posterior samples :math:`\omega_k` (the BatchBALD authors' MNIST runs use 100
# MC-dropout samples). ``min_samples_leaf=10`` keeps every tree a little unsure,
# so no single point carries more than about half a nat. Fully grown trees
# (scikit-learn's default) would each predict one-hot: BALD would equal the
# predictive entropy, and the batch's joint information would reach its
# ceiling :math:`\log K` within a few picks (``benchmarks/results/
# one-hot-forest.md``: at the 4th pick with 100 trees), after which BatchBALD's
# picks are no longer chosen by information. The pool is 150 other digits, each
# repeated three times by :class:`skal_power.datasets.RepeatWithNoise`. Rows
# come copy by copy, so pool row ``i`` is a copy of digit ``i % 150``.
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.ensemble import ExtraTreesClassifier

from skal_power import BALD, BatchBALD, PowerBALD
from skal_power.adapters import sampled_log_proba
from skal_power.batch import batch_bald
from skal_power.datasets import RepeatWithNoise, load_digits_data
from skal_power.scores import bald

torch.set_num_threads(1)  # the gallery runs on a shared machine

X, y = load_digits_data()  # 8x8 digits scaled to [0, 1]
rng = np.random.default_rng(0)
order = rng.permutation(len(X))
labelled, originals = order[:40], order[40:190]
n_originals, copies = len(originals), 3
X_pool, y_pool = RepeatWithNoise(k=copies, noise_std=0.05, random_state=0)(
    X[originals], y[originals])
source = np.tile(np.arange(n_originals), copies)  # which original each pool row copies

posterior = ExtraTreesClassifier(n_estimators=100, min_samples_leaf=10, random_state=0)
posterior.fit(X[labelled], y[labelled])
log_probs = sampled_log_proba(posterior, X_pool)  # (N, K, C) = (450, 100, 10)
scores = bald(log_probs)
print(f"pool {X_pool.shape}, log_probs {log_probs.shape}")

# %%
# The copies of a digit get almost the same BALD score: the three copies
# of the five best digits, side by side.
top_originals = np.argsort(-scores[:n_originals])[:5]
fig, axes = plt.subplots(copies, 5, figsize=(7, 4.6))
for column, original in enumerate(top_originals):
    for row in range(copies):
        index = original + row * n_originals
        ax = axes[row, column]
        ax.imshow(X_pool[index].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"BALD {scores[index]:.3f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, column].set_title(f"digit {y_pool[original]}\nBALD {scores[original]:.3f}",
                              fontsize=9)
for row in range(copies):
    axes[row, 0].set_ylabel(f"copy {row + 1}")
fig.suptitle("Copies score alike: top-B cannot tell them apart")
fig.tight_layout()

# %%
# Three batches of ten
# --------------------
# The strategies are the objects you would hand to modAL. BatchBALD is greedy:
# each step adds the point that most increases the batch's joint mutual
# information, so a copy of a point already picked adds (almost) nothing and
# is passed over.
batch_size = 10
batches = {
    "top-B BALD": BALD()(posterior, X_pool, n_instances=batch_size)[0],
    "PowerBALD (α = 5)": PowerBALD(alpha=5.0, random_state=0)(
        posterior, X_pool, n_instances=batch_size)[0],
    "BatchBALD": BatchBALD(random_state=0)(posterior, X_pool, n_instances=batch_size)[0],
}
fig, axes = plt.subplots(3, batch_size, figsize=(10, 4.2))
for row, (name, batch) in zip(axes, batches.items()):
    seen = set()
    for ax, index in zip(row, batch):
        repeat = source[index] in seen
        seen.add(source[index])
        ax.imshow(X_pool[index].reshape(8, 8), cmap="Reds" if repeat else "gray_r")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"#{source[index]}", fontsize=8, color="crimson" if repeat else "k")
    row[0].set_ylabel(f"{name}\n{len(seen)} distinct", fontsize=9, rotation=0,
                      ha="right", va="center")
fig.suptitle("Batches of 10 (title: original digit; red: a copy of one already in the batch)")
fig.tight_layout()

# %%
# Distinct digits against batch size
# -----------------------------------
# Both top-B and greedy BatchBALD are nested — the batch of :math:`b + 1` is
# the batch of :math:`b` plus one point — so one run of each, to the largest
# batch, gives every batch size. Here BatchBALD is called as a function:
# :func:`skal_power.batch.batch_bald` takes the ``log_probs`` array and also
# returns the batch's score after each step. PowerBALD is the power rule on
# the same BALD scores (:func:`skal_power.sampling.power_sample`, what the
# strategy does), averaged over 20 seeds.
#
# The joint entropies are exact while the batch has at most as many label
# configurations, :math:`C^b`, as ``n_configurations`` (16384): here for
# batches of up to five. Beyond that each step draws 16384 fresh label
# configurations from the batch's joint, so each further step costs about
# the same, and the reported score never exceeds :math:`\log K`.
from skal_power.sampling import power_sample

max_batch = 20
batch_indices, joint_scores = batch_bald(log_probs, max_batch, random_state=0)
top_indices = np.argsort(-scores)[:max_batch]
sizes = np.arange(1, max_batch + 1)


def distinct(batch):
    """Number of different original digits among the batch's pool rows."""
    return len(np.unique(source[batch]))


power_distinct = [np.mean([distinct(power_sample(scores, b, alpha=5.0, random_state=seed))
                           for seed in range(20)]) for b in sizes]

fig, (ax_div, ax_score) = plt.subplots(1, 2, figsize=(11, 4))
ax_div.plot(sizes, sizes, ":", color="gray", label="all distinct")
ax_div.plot(sizes, [distinct(batch_indices[:b]) for b in sizes], "o-", label="BatchBALD")
ax_div.plot(sizes, power_distinct, "s-", label="PowerBALD (α = 5, mean of 20 seeds)")
ax_div.plot(sizes, [distinct(top_indices[:b]) for b in sizes], "^-", color="crimson",
            label="top-B BALD")
ax_div.set(xlabel="batch size B", ylabel="distinct digits in the batch",
           xticks=[1, 5, 10, 15, 20], title="How much of the batch is new information")
ax_div.legend(fontsize=9)

# The right panel: what each batch is worth. :func:`skal_power.batch.batch_information`
# scores any given batch by its joint information, whoever picked it.
from skal_power.batch import batch_information

top_joint = [batch_information(log_probs, top_indices[:b], random_state=0) for b in sizes]
ax_score.plot(sizes, np.cumsum(scores[top_indices]), "--", color="crimson",
              label="top-B batch: sum of its BALD scores")
ax_score.plot(sizes, top_joint, "^-", color="crimson", label="top-B batch: joint information")
ax_score.plot(sizes, joint_scores, "o-", label="BatchBALD batch: joint information")
ax_score.axhline(np.log(log_probs.shape[1]), color="gray", ls=":", label="log K")
ax_score.axvspan(0.5, 4.5, color="0.92", zorder=0)
ax_score.text(2.5, 0.97, "exact", ha="center", va="top", fontsize=9, color="0.4",
              transform=ax_score.get_xaxis_transform())
ax_score.text(8, 0.97, "sampled joint entropy", ha="left", va="top", fontsize=9,
              color="0.4", transform=ax_score.get_xaxis_transform())
ax_score.set(xlabel="batch size B", ylabel="nats", xlim=(0.5, max_batch + 0.5),
             xticks=[1, 5, 10, 15, 20], title="What the batch is worth: I[y_1..y_B; ω]")
ax_score.legend(fontsize=9, loc="center right")
fig.tight_layout()
plt.show()

# %%
# Left: top-B wastes a third to half of its batch on copies; BatchBALD keeps
# (almost) every pick distinct here, though a copy adds a little information
# and it does pick some (6% of its picks with batches of 50 on Repeated MNIST,
# ``benchmarks/results/claims.md``); PowerBALD, with no
# pairwise computation at all, lands close to BatchBALD. Each copy keeps its own weight, so the
# three copies of a digit carry three times the mass of one, but that is a
# small share of the whole pool's mass, from which the batch is drawn: all
# three are rarely drawn together.
#
# Right: top-B believes its batch is worth the sum of its scores (dashed), but
# copies add little information, so the joint information of that batch
# (:func:`~skal_power.batch.batch_information`) is much lower. BatchBALD
# maximises the joint information directly. Either curve must stay below
# :math:`\log K` — here :math:`\log 100 \approx 4.6` nats, the most that
# :math:`K` posterior samples can be told apart — and BatchBALD's flattens as
# it approaches it: with few samples, the greedy choice stops telling good
# batches from bad ones, one reason the BatchBALD authors use 100 samples and
# stochastic acquisition, at the cost of one scoring pass, for large batches.

# sphinx_gallery_thumbnail_number = 2
