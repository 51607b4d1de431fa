"""
Five real-world flaws of a pool, on digits
==========================================

Benchmarks on clean MNIST flatter every acquisition function: the pool has no
duplicates, the oracle never errs, the classes are balanced and every image is
a digit. :mod:`skal_power.datasets` breaks each of these promises on purpose,
with seeded transforms ``transform(X, y) -> (X, y)`` that you apply to the
**pool only** (evaluate on clean test data):

====================================================  ======================================
transform                                             flaw
====================================================  ======================================
:class:`~skal_power.datasets.RepeatWithNoise`         repeated data (Repeated MNIST)
:class:`~skal_power.datasets.ClassImbalance`          rare classes
:class:`~skal_power.datasets.LabelNoise`              a noisy oracle
:class:`~skal_power.datasets.HeteroscedasticNoise`    input noise that depends on the class
:class:`~skal_power.datasets.OutOfDistribution`       images of no known class
====================================================  ======================================

:class:`~skal_power.datasets.Compose`                 chains them, and the experiment
runner (:doc:`plot_learning_curves`) builds them from a config.
"""

# %%
# The clean data
# --------------
# scikit-learn's 8x8 digits scaled to :math:`[0, 1]`
# (:func:`~skal_power.datasets.load_digits_data`): 1797 images, ten balanced
# classes.
import matplotlib.pyplot as plt
import numpy as np

from skal_power.datasets import (
    ClassImbalance,
    Compose,
    HeteroscedasticNoise,
    LabelNoise,
    OutOfDistribution,
    RepeatWithNoise,
    load_digits_data,
)

X, y = load_digits_data()
print(X.shape, X.dtype, "classes:", np.bincount(y).tolist())


def show(ax, image, title=None, **kwargs):
    """One 8x8 digit, no ticks."""
    ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize=9)


# %%
# 1. Repeated data
# ----------------
# ``RepeatWithNoise(k, noise_std)`` repeats every image ``k`` times and adds
# Gaussian noise to each copy, so no two rows are equal but the copies carry
# the same information. Rows come copy by copy: row ``i + j * n`` is copy
# ``j`` of image ``i``. Top-B acquisition spends its batch on such copies
# (:doc:`plot_batchbald_vs_bald`).
n = 5
X_rep, y_rep = RepeatWithNoise(k=4, noise_std=0.1, random_state=0)(X[:n], y[:n])
fig, axes = plt.subplots(n, 5, figsize=(6, 6.4))
for i in range(n):
    show(axes[i, 0], X[i], "original" if i == 0 else None)
    for j in range(4):
        show(axes[i, j + 1], X_rep[i + j * n], f"copy {j + 1}" if i == 0 else None)
fig.suptitle("RepeatWithNoise(k=4, noise_std=0.1)")
fig.tight_layout()

# %%
# 2. Class imbalance and 3. a noisy oracle
# ----------------------------------------
# ``ClassImbalance(ratios)`` keeps only a fraction of some classes: here 10% of
# the zeros, ones and twos. ``LabelNoise(rate)`` replaces each label, with
# probability ``rate``, by a different class drawn uniformly (a ``transition``
# matrix gives class-dependent noise instead). The confusion matrix of true
# against noisy labels shows 20% of every class spread over the other nine.
X_imb, y_imb = ClassImbalance({0: 0.1, 1: 0.1, 2: 0.1}, random_state=0)(X, y)
_, y_noisy = LabelNoise(rate=0.2, random_state=0)(X, y)
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y, y_noisy), 1)

fig, (ax_hist, ax_conf) = plt.subplots(1, 2, figsize=(11, 4.2))
ax_hist.bar(np.arange(10) - 0.2, np.bincount(y, minlength=10), 0.4, color="0.7",
            label="digits")
ax_hist.bar(np.arange(10) + 0.2, np.bincount(y_imb, minlength=10), 0.4,
            color="tab:blue", label="after ClassImbalance")
ax_hist.set(xticks=range(10), xlabel="class", ylabel="number of images", ylim=(0, 240),
            title="ClassImbalance({0: 0.1, 1: 0.1, 2: 0.1})")
ax_hist.legend(fontsize=9, ncol=2, loc="upper center")
image = ax_conf.imshow(confusion, cmap="Blues")
for (true, noisy), count in np.ndenumerate(confusion):
    ax_conf.text(noisy, true, count, ha="center", va="center", fontsize=7,
                 color="white" if count > 100 else "black")
ax_conf.set(xticks=range(10), yticks=range(10), xlabel="label the oracle gives",
            ylabel="true label", title="LabelNoise(rate=0.2)")
fig.colorbar(image, ax=ax_conf, shrink=0.8)
fig.tight_layout()
print(f"labels changed: {np.mean(y_noisy != y):.1%}")

# %%
# 4. Heteroscedastic input noise
# ------------------------------
# ``HeteroscedasticNoise(scales)`` adds Gaussian noise whose standard deviation
# depends on the class: here none for most digits, 0.15 for threes and 0.4
# for eights. A noisy class is hard to learn whatever you label, so a good
# acquisition function should not keep asking about it; BALD, which discounts
# the noise every posterior sample agrees on, is designed for that.
scales = {3: 0.15, 8: 0.4}
X_het, _ = HeteroscedasticNoise(scales, random_state=0)(X, y)
fig, axes = plt.subplots(3, 6, figsize=(7, 3.9))
for row, digit in zip(axes, [1, 3, 8]):
    for ax, index in zip(row, np.flatnonzero(y == digit)[:6]):
        show(ax, np.clip(X_het[index], 0, 1))
    row[0].set_ylabel(f"class {digit}\nstd {scales.get(digit, 0.0):g}", fontsize=9)
fig.suptitle("HeteroscedasticNoise({3: 0.15, 8: 0.4}), clipped to [0, 1] for display")
fig.tight_layout()

# %%
# 5. Out-of-distribution points
# -----------------------------
# ``OutOfDistribution`` makes part of the pool belong to no known class, in
# one of two ways: ``classes=[...]`` keeps held-out classes in the pool (their
# test images are dropped), or ``fraction=f`` replaces a fraction of the
# images by uniform noise. Either way the oracle, forced to answer, gives a
# label drawn uniformly from the known classes; labelling such a point only
# adds noise. Its ``ood_mask_`` marks the OOD rows. BALD often rates these
# points highly — they are unlike anything labelled — which is what
# EvaluationBALD and EIG correct (:doc:`plot_evaluation_bald`).
held_out = OutOfDistribution(classes=[9], random_state=0)
_, y_held = held_out(X, y)
corrupt = OutOfDistribution(fraction=0.05, random_state=0)
X_ood, y_ood = corrupt(X, y)
print(f"classes=[9]: {held_out.ood_mask_.sum()} OOD rows, labels given to them: "
      f"{np.bincount(y_held[held_out.ood_mask_], minlength=10).tolist()}")
print(f"fraction=0.05: {corrupt.ood_mask_.sum()} OOD rows")

fig, axes = plt.subplots(2, 6, figsize=(7, 3))
for ax, index in zip(axes[0], np.flatnonzero(held_out.ood_mask_)[:6]):
    show(ax, X[index], f"oracle: {y_held[index]}")
for ax, index in zip(axes[1], np.flatnonzero(corrupt.ood_mask_)[:6]):
    show(ax, X_ood[index], f"oracle: {y_ood[index]}")
axes[0, 0].set_ylabel("held-out\nclass 9", fontsize=9)
axes[1, 0].set_ylabel("uniform\nnoise", fontsize=9)
fig.suptitle("OutOfDistribution: points of no known class and the labels they get")
fig.tight_layout()

# %%
# All together
# ------------
# ``Compose`` applies transforms left to right; order matters (repeat *after*
# the label noise and every copy carries the same wrong label, as in a
# duplicated mislabelled image).
protocol = Compose([
    ClassImbalance({0: 0.1, 1: 0.1, 2: 0.1}, random_state=0),
    LabelNoise(rate=0.1, random_state=1),
    HeteroscedasticNoise({8: 0.2}, random_state=2),
    OutOfDistribution(fraction=0.05, random_state=3),
    RepeatWithNoise(k=3, noise_std=0.1, random_state=4),
])
X_pool, y_pool = protocol(X, y)
print("pool:", X_pool.shape, "class counts:", np.bincount(y_pool).tolist())
plt.show()

# %%
# In an experiment config the same protocol is a list of
# ``{"name": ..., **params}`` under ``dataset.transforms``, seeded per trial
# by :func:`skal_power.experiments.make_data`.

# sphinx_gallery_thumbnail_number = 1
