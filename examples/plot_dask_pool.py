"""
PowerBALD on a pool that lives on a Dask cluster
================================================

When the unlabelled pool no longer fits in memory, keep it where it is: pass
the ``dask.array`` (or ``dask.dataframe``) itself as ``X_pool``. Each
partition is scored on the worker that holds it, each keeps its local Gumbel
top-B, and the client only ever sees the final batch — the same batch, index
for index, as the in-memory call.
"""

# %%
# A small cluster and a pool in partitions
# ----------------------------------------
# Two single-thread workers; ``processes=False`` keeps them in this process so
# the example runs anywhere (a script would use worker processes, and a real
# deployment a :class:`distributed.Client` connected to its scheduler). The
# digits pool is split into 9 row partitions.
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier

from skal_power import BALD, PowerBALD, SoftrankBALD, ThompsonBALD

cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                       dashboard_address=":0")
client = Client(cluster)

X, y = load_digits(return_X_y=True)
order = np.random.default_rng(0).permutation(len(X))
train, pool = order[:100], order[100:]
forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(X[train], y[train])

X_pool = da.from_array(X[pool], chunks=(200, -1))
print(f"pool: {X_pool.shape[0]} rows in {X_pool.numblocks[0]} partitions")

# %%
# The same batch as in memory
# ---------------------------
# Every strategy whose batch is a per-point rule runs on the Dask pool. The
# Gumbel noise of point ``n`` depends only on ``(seed, n)``, so the merged
# per-partition top-B is exactly the in-memory top-B.
for strategy in (BALD(), PowerBALD(alpha=5.0, random_state=0),
                 SoftrankBALD(random_state=0), ThompsonBALD(random_state=0)):
    in_memory, _ = strategy(forest, X[pool], n_instances=10)
    on_dask, scores = strategy(forest, X_pool, n_instances=10)
    print(f"{type(strategy).__name__:>13}: {on_dask.tolist()} "
          f"identical={np.array_equal(in_memory, on_dask)}")

# %%
# Whatever the partitioning
# -------------------------
# Re-partition the pool: the batch does not move.
strategy = PowerBALD(alpha=5.0, random_state=0)
batches = {size: strategy(forest, X_pool.rechunk((size, -1)), n_instances=10)[0]
           for size in (1697, 400, 64)}
print("same batch for 1, 5 and 27 partitions:",
      all(np.array_equal(batches[1697], b) for b in batches.values()))

# %%
# Only the chosen rows travel
# ---------------------------
# Label the batch: index the Dask pool with the selected positions and compute
# just those rows.
chosen = np.sort(batches[1697])
X_batch = X_pool[chosen].compute()
print("rows brought to the client:", X_batch.shape)

# %%
# Looking at the scores where they live
# -------------------------------------
# :func:`skal_power.distributed.score_pool` gives the acquisition scores as a
# lazy ``dask.array``; reductions such as ``da.histogram`` run on the workers,
# so even a pool of billions of rows can be inspected from a laptop. Below: the
# distribution of BALD over the pool, where the PowerBALD batch falls in it,
# and the ten digits it chose.
import matplotlib.pyplot as plt

from skal_power.distributed import score_pool

lazy_scores = score_pool(BALD(), forest, X_pool, seed=0)
counts, edges = da.histogram(lazy_scores, bins=30, range=(0.0, float(np.log(10))))
counts = counts.compute()
chosen_scores = lazy_scores[chosen].compute()

fig = plt.figure(figsize=(10, 4.2), layout="constrained")
top, bottom = fig.subfigures(2, 1, height_ratios=[2.2, 1])
ax = top.subplots()
ax.stairs(counts, edges, fill=True, color="tab:blue", alpha=0.6, label="pool (on the workers)")
ax.plot(chosen_scores, np.zeros_like(chosen_scores), "v", color="crimson", ms=9,
        label="PowerBALD batch", clip_on=False)
ax.set(xlabel="BALD (nats)", ylabel="pool digits")
ax.legend()
for ax_digit, row in zip(bottom.subplots(1, 10), X_batch):
    ax_digit.imshow(row.reshape(8, 8), cmap="gray_r")
    ax_digit.axis("off")
plt.show()

client.close()
cluster.close()
