"""
scikit-learn pipelines and ensembles as the posterior
=====================================================

BALD needs several plausible models — *posterior samples* — and compares their
predictions. In scikit-learn you already have them: the members of an
ensemble. :func:`skal_power.adapters.sampled_log_proba` turns any fitted
ensemble, pipeline, modAL learner or committee into log-probabilities of
shape ``(N, K, C)``, and every strategy calls it for you.
"""

# %%
# Three posteriors on digits
# --------------------------
# A random forest (each tree is a sample), a bagged logistic regression behind
# a scaling + PCA pipeline (each bag is a sample), and a soft-voting ensemble of
# different model families (each member is a sample).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import BaggingClassifier, RandomForestClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skal_power import BALD, MaxEntropy, PowerBALD
from skal_power.adapters import sampled_log_proba
from skal_power.scores import bald, entropy

X, y = load_digits(return_X_y=True)
rng = np.random.default_rng(0)
labelled = rng.choice(len(X), 60, replace=False)
pool = np.setdiff1d(np.arange(len(X)), labelled)
X_lab, y_lab, X_pool = X[labelled], y[labelled], X[pool]

posteriors = {
    "random forest": RandomForestClassifier(n_estimators=50, random_state=0),
    "pipeline: scaler, PCA, bagged logistic regression": make_pipeline(
        StandardScaler(),
        PCA(n_components=20, random_state=0),
        BaggingClassifier(LogisticRegression(max_iter=300), n_estimators=20,
                          random_state=0),
    ),
    "soft voting: logistic regression, k-NN, naive Bayes": VotingClassifier(
        [("lr", LogisticRegression(max_iter=300)),
         ("knn", KNeighborsClassifier(n_neighbors=3)),
         ("nb", GaussianNB())],
        voting="soft",
    ),
}
log_probs = {}
for name, model in posteriors.items():
    model.fit(X_lab, y_lab)
    log_probs[name] = sampled_log_proba(model, X_pool)
    print(f"{name:55s} -> log_probs {log_probs[name].shape}")

# %%
# The pipeline is handled by transforming the pool with every step but the
# last, then sampling the final step. Members are aligned on the ensemble's
# ``classes_`` (a bag that saw no example of a class gets probability 0 for
# it). Trees predict probabilities of exactly 0 all the time; they are stored
# as :math:`-\infty` in log space — valid input that gives finite scores.
forest_lp = log_probs["random forest"]
print(f"forest entries that are exactly -inf: {np.isneginf(forest_lp).mean():.0%}")
print("all BALD scores finite:", bool(np.isfinite(bald(forest_lp)).all()))

# %%
# Entropy and BALD are different questions
# ----------------------------------------
# Predictive entropy (x axis) is high wherever the averaged prediction is
# spread out. BALD (y axis) keeps only the part due to the members
# *disagreeing*; it can never exceed the entropy, and points on the diagonal
# are pure disagreement. Points far below it are ones where every member is
# unsure in the same way: a label would teach the model little.
#
# The random forest sits exactly on the diagonal: its fully grown trees put
# every training point in a pure leaf, so each tree is certain and all of the
# forest's uncertainty is disagreement. Such a posterior cannot express label
# noise; ``min_samples_leaf`` > 1 (or a bagged probabilistic model, middle)
# gives the members an uncertainty of their own.
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharex=True, sharey=True)
for ax, (name, lp) in zip(axes, log_probs.items()):
    h, b = entropy(lp), bald(lp)
    ax.scatter(h, b, s=4, alpha=0.5)
    ax.plot([0, np.log(10)], [0, np.log(10)], "k--", lw=0.8)
    ax.set_title(name.replace(": ", ":\n"), fontsize=10)
    ax.set_xlabel("predictive entropy (nats)")
axes[0].set_ylabel("BALD (nats)")
fig.tight_layout()

# %%
# The digits each posterior asks for
# ----------------------------------
# The same strategy object works with all three. Shown: the five digits
# top-B BALD picks from the pool for each posterior, titled with the label
# the oracle would give. Note the forest's batch: five near-identical sixes,
# the redundancy that top-B cannot see and that stochastic acquisition
# (:doc:`plot_alpha_sampling`) or BatchBALD avoid.
fig, axes = plt.subplots(3, 5, figsize=(7, 5))
for row, (name, model) in zip(axes, posteriors.items()):
    indices, scores = BALD()(model, X_pool, n_instances=5)
    for ax, index, score in zip(row, indices, scores):
        ax.imshow(X_pool[index].reshape(8, 8), cmap="gray_r")
        ax.set_title(f"y={y[pool][index]}, {score:.2f}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name.split(":")[0], fontsize=8)
fig.suptitle("Top-5 BALD queries (label, BALD in nats)")
fig.tight_layout()

# %%
# A single model is not a posterior
# ---------------------------------
# A plain classifier gives one prediction (``K = 1``), for which BALD is zero
# everywhere. Rather than return zeros, BALD-family strategies raise an error
# that says what to use instead. Entropy works with one model.
single = LogisticRegression(max_iter=300).fit(X_lab, y_lab)
print("K =", sampled_log_proba(single, X_pool[:5]).shape[1])
try:
    PowerBALD(random_state=0)(single, X_pool, n_instances=5)
except ValueError as error:
    print("ValueError:", error)
indices, scores = MaxEntropy()(single, X_pool, n_instances=5)
print("MaxEntropy picks", indices, "with entropies", scores.round(2))

# %%
# Turn any estimator into one with ``BaggingClassifier`` (as above), use a
# modAL ``Committee``, or, for neural networks, an MC-dropout net.
plt.show()

# sphinx_gallery_thumbnail_number = 2
