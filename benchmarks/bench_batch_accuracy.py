"""How right are BatchBALD's sampled estimates? Picks and scores against references.

Three measurements, all on one thread, all seeded:

* **picks, B = 5** on ``bench_batch.py``'s instance (N = 10^4, K = 20, C = 10,
  log-softmax of N(0, 3^2) logits): the exact greedy batch (``max_exact_size
  = K·C^4``; ``bench_batch.py`` shows batchbald_redux makes the same picks)
  against the default settings, whose last step is sampled, for several
  ``n_configurations`` and seeds;
* **picks, B = 10** on the same instance: defaults against a large-M
  reference (``n_configurations = 2^17``): picks shared and score gap;
* **scores, B = 15 and 50** on K = 16 instances: each reported score
  (with its standard error) against an independent plain Monte-Carlo
  estimate of the same batch with 10^5 draws (``tests/_reference.py``);
  ``log 16 = 2.773`` bounds both.

Run::

    PYTHONPATH=. python benchmarks/bench_batch_accuracy.py --out benchmarks/results/batch-accuracy.md
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "tests")]

from _reference import monte_carlo_batch_bald  # noqa: E402
from bench_batch import C, K, make_log_probs  # noqa: E402


def log_softmax_instance(seed: int, n: int, k: int, c: int, scale: float) -> np.ndarray:
    logits = scale * np.random.default_rng(seed).standard_normal((n, k, c))
    logits -= logits.max(axis=-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--configurations", type=int, nargs="+",
                        default=[1024, 2048, 4096, 8192, 16384])
    parser.add_argument("--reference-configurations", type=int, default=2**17)
    args = parser.parse_args()

    import torch

    from skal_power.batch import DEFAULT_N_CONFIGURATIONS, batch_bald

    torch.set_num_threads(1)
    lines = ["# BatchBALD's sampled regime: picks and scores against references", "",
             "Command: `PYTHONPATH=. python benchmarks/bench_batch_accuracy.py "
             + " ".join(sys.argv[1:]) + "`", "",
             f"torch {torch.__version__}, 1 thread; default `n_configurations` = "
             f"{DEFAULT_N_CONFIGURATIONS}.", ""]

    log_probs = make_log_probs(10_000)
    seconds, (exact, exact_scores) = timed(batch_bald, log_probs, 5, max_exact_size=K * C**4)
    print("exact B = 5:", exact.tolist(), f"{seconds:.1f} s", flush=True)
    lines += ["## Picks at N = 10^4, B = 5 against the exact greedy batch", "",
              f"Exact picks {exact.tolist()} in {seconds:.1f} s (exact at every step).", "",
              "Rows with `max_exact_size = K·C^3` sample the last step whatever M is; "
              "the default (`max_exact_size = None`) enumerates while C^b <= M.", "",
              "| n_configurations | max_exact_size | seeds with the exact picks | final "
              "score − exact (mean, max abs) | seconds per run |", "|---:|---|---:|---:|---:|"]
    for n_configurations, bound in ([(m, K * C**3) for m in args.configurations]
                                    + [(DEFAULT_N_CONFIGURATIONS, None)]):
        same, gaps, times = 0, [], []
        for seed in range(args.seeds):
            seconds, (picks, scores) = timed(batch_bald, log_probs, 5, random_state=seed,
                                             n_configurations=n_configurations,
                                             max_exact_size=bound)
            same += picks.tolist() == exact.tolist()
            gaps.append(scores[-1] - exact_scores[-1])
            times.append(seconds)
        bound_text = "None (default)" if bound is None else "K·C^3"
        row = (f"| {n_configurations} | {bound_text} | {same}/{args.seeds} | "
               f"{np.mean(gaps):+.1e}, "
               f"{np.max(np.abs(gaps)):.1e} | {np.mean(times):.2f} |")
        print(row, flush=True)
        lines.append(row)

    seconds, (reference, reference_scores) = timed(
        batch_bald, log_probs, 10, random_state=0,
        n_configurations=args.reference_configurations)
    print("reference B = 10:", reference.tolist(), f"{seconds:.1f} s", flush=True)
    lines += ["", "## Picks at N = 10^4, B = 10 against a large-M reference", "",
              f"Reference: `n_configurations = {args.reference_configurations}`, picks "
              f"{reference.tolist()}, {seconds:.1f} s.", "",
              "| n_configurations | picks shared with the reference (per seed) | seeds with "
              "the same order | final score − reference (max abs) | seconds per run |",
              "|---:|---|---:|---:|---:|"]
    for n_configurations in args.configurations:
        shared, same, gaps, times = [], 0, [], []
        for seed in range(args.seeds):
            seconds, (picks, scores) = timed(batch_bald, log_probs, 10, random_state=seed,
                                             n_configurations=n_configurations)
            shared.append(len(set(picks.tolist()) & set(reference.tolist())))
            same += picks.tolist() == reference.tolist()
            gaps.append(abs(scores[-1] - reference_scores[-1]))
            times.append(seconds)
        row = (f"| {n_configurations} | {', '.join(f'{n}/10' for n in shared)} | "
               f"{same}/{args.seeds} | {max(gaps):.1e} | {np.mean(times):.2f} |")
        print(row, flush=True)
        lines.append(row)

    lines += ["", "## Reported scores against an independent estimate (K = 16, N = 1000, "
              "C = 10, defaults)", "",
              "| logits scale | B | reported ± s.e. | independent (10^5 draws) ± s.e. | "
              "difference / combined s.e. |", "|---:|---:|---:|---:|---:|"]
    for scale in (3.0, 0.5):
        instance = log_softmax_instance(0, 1000, 16, 10, scale)
        picks, scores, errors = batch_bald(instance, 50, random_state=0, return_std=True,
                                           on_saturation="continue")
        for size in (15, 50):
            mean, error = monte_carlo_batch_bald(instance, picks[:size], 100_000,
                                                 np.random.default_rng(1))
            reported, reported_error = scores[size - 1], errors[size - 1]
            z = (reported - mean) / np.hypot(reported_error, error)
            row = (f"| {scale} | {size} | {reported:.4f} ± {reported_error:.4f} | "
                   f"{mean:.4f} ± {error:.4f} | {z:+.1f} |")
            print(row, flush=True)
            lines.append(row)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
