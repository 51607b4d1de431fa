"""
A small experiment: learning curves with confidence intervals
=============================================================

Comparing acquisition functions needs repeated trials: one run of active
learning is a noisy curve. :func:`skal_power.experiments.run_experiment` runs
every (strategy, seed) trial of a config, appending one row per acquisition
round to a results CSV (a killed run resumes where it stopped and gives the
same numbers), and :func:`~skal_power.experiments.plot_curves` and
:func:`~skal_power.experiments.report_table` turn the rows into mean learning
curves with Student-t 95% confidence intervals over seeds.

The same from the command line: ``skal-power run --config config.json
--output results.csv``, then ``skal-power plot results.csv -o curves.png``
and ``skal-power report results.csv``. Here, a tiny version of the papers' *Repeated MNIST*
experiment on digits, small enough to run while this page builds.
"""

# %%
# The config
# ----------
# Digits (500 clean test images; a pool of 400 others, each repeated three
# times with noise), an extra-trees model refitted every round, 20 initial
# labels, then batches of 20 up to 100 acquired labels, for three strategies and
# three seeds. Transforms are seeded per trial, so every strategy of a seed
# sees the same pool and starts from the same labels.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from skal_power.experiments import load_results, plot_curves, report_table, run_experiment

config = {
    "name": "repeated-digits-demo",
    "dataset": {"name": "digits", "test_size": 500, "pool_size": 400,
                "transforms": [{"name": "RepeatWithNoise", "k": 3, "noise_std": 0.1}]},
    "model": {"name": "extra_trees", "params": {"n_estimators": 20}},
    "strategies": ["RandomSampling", "BALD",
                   {"name": "PowerBALD", "params": {"alpha": 5.0}}],
    "initial": 20,
    "batch_size": 20,
    "budget": 100,
    "seeds": [0, 1, 2],
}

# %%
# Run it
# ------
# Into a temporary directory here; give a real path to keep the results (and
# to resume a run that was interrupted). ``n_jobs`` runs trials in parallel
# processes.
workdir = Path(tempfile.mkdtemp())
output = run_experiment(config, workdir / "results.csv", n_jobs=1)
results = load_results(output)
print(results.drop(columns="acquired").head(8).to_string(index=False))
print(f"... {len(results)} rows: strategies x seeds x rounds")

# %%
# The results file is plain CSV with one commented header line that holds
# the hash of the config, so a file can never be resumed by a different
# experiment. Next to it, ``results.timings.csv`` records the seconds spent
# fitting and querying in every round.
print(output.read_text().splitlines()[0][:72], "...")
print(sorted(p.name for p in workdir.iterdir()))

# %%
# Learning curves
# ---------------
# :func:`~skal_power.experiments.plot_curves` writes a PNG or SVG file (for
# reports and the ``benchmarks/results/`` pages); we show the file here. The
# shaded bands are 95% confidence intervals of the mean over the three seeds.
curves = plot_curves(results, workdir / "accuracy.png",
                     title="Repeated digits (×3): accuracy, mean and 95% CI")
fig, ax = plt.subplots(figsize=(7, 4.7))
ax.imshow(plt.imread(curves))
ax.set_axis_off()
fig.tight_layout(pad=0)

# %%
# The test negative log-likelihood is recorded too (``metric="nll"``): lower
# is better.
curves_nll = plot_curves(results, workdir / "nll.png", metric="nll",
                         title="Repeated digits (×3): test NLL, mean and 95% CI")
fig, ax = plt.subplots(figsize=(7, 4.7))
ax.imshow(plt.imread(curves_nll))
ax.set_axis_off()
fig.tight_layout(pad=0)
plt.show()

# %%
# The table
# ---------
# :func:`~skal_power.experiments.report_table` gives the Markdown table of the
# benchmark pages: mean ± CI half-width (and the number of seeds) at chosen
# label counts.
print(report_table(results, at=[40, 80, 120]))

# %%
# How to read it
# --------------
# With three seeds and a hundred labels, the intervals are wide: a difference
# that stays inside them is no evidence either way, and this toy run is not
# evidence for or against any claim. The checks of the papers' claims in
# :ref:`benchmarks` use the same runner with more seeds, larger budgets and
# MC-dropout networks on Repeated MNIST.

# sphinx_gallery_thumbnail_number = 1
