"""PowerBALD on a Dask pool: client memory and per-worker throughput vs in memory.

The pool is ``N`` rows of 16 features generated inside each partition
(``dask.array`` random, seeded per block); the posterior is an ensemble of
K = 20 softmax-linear models with C = 10 classes, so the (N, K, C) log-probs
(8 GB at N = 10^7, float32) only ever exist a few thousand rows at a time on a
worker. The baseline is the same strategy call on an in-memory numpy pool, one thread
per process: the same log-prob generation, ``bald`` and ``power_sample`` work
per point, plus the time to draw the pool's features (which each Dask
partition does for itself). "On the same cores" runs one such process per
Dask worker at the same time, so both sides share the cores, caches and
memory bandwidth the same way; "alone" leaves the other cores idle.

Run::

    python benchmarks/bench_dask.py --n-points 10000000 --out benchmarks/results/dask.md
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

N_FEATURES, K, C = 16, 20, 10


class LinearEnsemble:
    """K softmax-linear members with fixed weights: log-probs of shape (n, K, C), float32."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.weights = rng.normal(scale=0.7, size=(N_FEATURES, K * C)).astype(np.float32)
        self.classes_ = np.arange(C)

    def predict_log_proba_samples(self, X, n_samples):
        logits = (np.asarray(X, dtype=np.float32) @ self.weights).reshape(len(X), K, C)
        peak = logits.max(axis=-1, keepdims=True)
        logits -= peak
        logits -= np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        return logits


def _max_rss_mib() -> float:
    scale = 1024 if platform.system() != "Darwin" else 1024 * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def dask_pool(n_points, partition_rows, seed=0):
    import dask.array as da

    rng = da.random.default_rng(seed)
    return rng.standard_normal((n_points, N_FEATURES), chunks=(partition_rows, N_FEATURES),
                               dtype=np.float32)


def run_dask(client, posterior, n_points, partition_rows, batch):
    import skal_power as sp

    X = dask_pool(n_points, partition_rows)
    strategy = sp.PowerBALD(alpha=5.0, random_state=0)
    tracemalloc.start()
    rss_before = _max_rss_mib()
    start = time.perf_counter()
    indices, _ = strategy(posterior, X, n_instances=batch)
    seconds = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return indices, seconds, traced_peak / 2**20, rss_before, _max_rss_mib()


def time_generation(n_points):
    """Time to draw the features of ``n_points`` rows in memory (the Dask pool draws its own)."""
    start = time.perf_counter()
    np.random.default_rng(1).standard_normal((n_points, N_FEATURES), dtype=np.float32)
    return time.perf_counter() - start


def run_in_memory(posterior, X, batch):
    import skal_power as sp

    start = time.perf_counter()
    indices, _ = sp.PowerBALD(alpha=5.0, random_state=0)(posterior, X, n_instances=batch)
    return indices, time.perf_counter() - start


def _concurrent_worker(args):
    """One in-memory baseline process: draw its pool (timed apart), then the strategy call."""
    seed, n_points, batch = args
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    with threadpool_limits(1):
        start = time.perf_counter()
        X = np.random.default_rng(seed).standard_normal((n_points, N_FEATURES), dtype=np.float32)
        generation_s = time.perf_counter() - start
        _, call_s = run_in_memory(LinearEnsemble(), X, batch)
    return generation_s, call_s


def run_in_memory_concurrently(n_processes, n_points, batch):
    """The in-memory call in ``n_processes`` single-thread processes at once: the same cores
    a Dask cluster of that many single-thread workers keeps busy."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(n_processes) as pool:
        return pool.map(_concurrent_worker, [(seed, n_points, batch)
                                             for seed in range(n_processes)])


def run_kernel_only(posterior, X, batch):
    """``bald`` + ``power_sample`` on log-probs computed beforehand (generation not timed)."""
    from skal_power.scores import bald
    from skal_power.sampling import power_sample

    log_probs = posterior.predict_log_proba_samples(X, K)
    start = time.perf_counter()
    power_sample(bald(log_probs), batch, alpha=5.0, random_state=0)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-points", type=int, default=10_000_000)
    parser.add_argument("--memory-points", type=int, default=1_000_000,
                        help="pool size of the in-memory baseline and the identity check")
    parser.add_argument("--partition-rows", type=int, default=100_000)
    parser.add_argument("--n-workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3,
                        help="timings are the best of this many runs (the cores are shared)")
    parser.add_argument("--out", default=None, help="write the markdown table here")
    args = parser.parse_args(argv)

    import torch
    from distributed import Client, LocalCluster
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    posterior = LinearEnsemble()
    with LocalCluster(n_workers=args.n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        # Warm-up on a small pool (imports, worker start-up), then the timed query.
        run_dask(client, posterior, 20_000, 10_000, 10)
        dask_runs = [run_dask(client, posterior, args.n_points, args.partition_rows, args.batch)
                     for _ in range(args.repeats)]
        dask_s = min(run[1] for run in dask_runs)
        traced_mib = max(run[2] for run in dask_runs)
        rss_before, rss_after = dask_runs[0][3], max(run[4] for run in dask_runs)
        # Identity on the pool the in-memory baseline can hold.
        small = dask_pool(args.memory_points, args.partition_rows)
        dask_small, _ = run_in_memory(posterior, small, args.batch)
        X_small = small.compute()

    with threadpool_limits(1):
        memory_indices, _ = run_in_memory(posterior, X_small, args.batch)
        memory_s = min(run_in_memory(posterior, X_small, args.batch)[1]
                       for _ in range(args.repeats))
        kernel_s = min(run_kernel_only(posterior, X_small[:200_000], args.batch)
                       for _ in range(args.repeats))
        generation_s = min(time_generation(args.memory_points) for _ in range(args.repeats))
    identical = bool(np.array_equal(memory_indices, dask_small))
    concurrent = min(
        (run_in_memory_concurrently(args.n_workers, args.memory_points, args.batch)
         for _ in range(args.repeats)),
        key=lambda runs: max(gen_s + call_s for gen_s, call_s in runs),
    )
    shared_rate = np.mean([args.memory_points / call_s for _, call_s in concurrent])
    shared_generated_rate = np.mean([args.memory_points / (gen_s + call_s)
                                     for gen_s, call_s in concurrent])

    memory_rate = args.memory_points / memory_s
    generated_rate = args.memory_points / (memory_s + generation_s)
    worker_rate = args.n_points / dask_s / args.n_workers
    kernel_rate = 200_000 / kernel_s
    rows = [
        ("pool N (Dask)", f"{args.n_points:,} rows in {-(-args.n_points // args.partition_rows)} "
                          f"partitions of {args.partition_rows:,}"),
        ("log-probs if materialised", f"{args.n_points * K * C * 4 / 1e9:.1f} GB (K={K}, C={C})"),
        ("PowerBALD batch", f"{args.batch:,}"),
        ("Dask wall time (best of runs)",
         f"{dask_s:.1f} s on {args.n_workers} workers x 1 thread"),
        ("client peak (tracemalloc, during query)", f"{traced_mib:.1f} MiB"),
        ("client max RSS before -> after query", f"{rss_before:.0f} -> {rss_after:.0f} MiB"),
        ("throughput per Dask worker", f"{worker_rate:,.0f} points/s"),
        (f"in-memory strategy call, 1 process alone (N={args.memory_points:,})",
         f"{memory_rate:,.0f} points/s ({generated_rate:,.0f} with pool generation)"),
        (f"in-memory strategy call, {args.n_workers} processes at once, per process",
         f"{shared_rate:,.0f} points/s ({shared_generated_rate:,.0f} with pool generation)"),
        ("ratio in-memory alone / per-worker", f"{generated_rate / worker_rate:.2f}"),
        ("**ratio in-memory on the same cores / per-worker** (target <= 1.5)",
         f"**{shared_generated_rate / worker_rate:.2f}**"),
        ("bald + power_sample alone, 1 thread (log-probs given)", f"{kernel_rate:,.0f} points/s"),
        (f"Dask batch == in-memory batch (N={args.memory_points:,})", str(identical)),
    ]
    table = "| quantity | value |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    command = " ".join(argv if argv is not None else sys.argv[1:])
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    header = (
        "# Dask pool benchmark\n\n"
        f"`python benchmarks/bench_dask.py {command}` on {os.cpu_count()} CPU cores shared with "
        f"other jobs, {stamp}; timings are the best of {args.repeats} runs. The client process "
        "also hosts the LocalCluster scheduler. Throughput per worker = N / (wall time x "
        "workers).\n\n"
    )
    text = header + table + "\n"
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
