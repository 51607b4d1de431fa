"""Where the exact BatchBALD kernel's time goes, and a float32 screening prototype.

An exploration script for issue 17 (not a results page). On the bench_batch
instance (N = 10^4, B = 5, K = 20, C = 10, float64) it prints:

1. the total time of ``batch_bald`` exact at every step, and per greedy step the
   number of candidates lazy greedy evaluated and the seconds they took;
2. at the last step (10^4 configurations), the float64 kernel against a float32
   screening pass (float32 GEMM, torch log, blocked sums into float64), with the
   largest error of the screen, a conservative error bound
   ``4 (K + 70) u (H + 1)`` (u = 2^-24) and how many candidates lie within twice
   the bound of the best (those a float64 verification would re-score).

Run::

    PYTHONPATH=. python benchmarks/probe_exact_batchbald.py
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_batch import make_log_probs  # noqa: E402

from skal_power.batch import _joint, batch_bald  # noqa: E402
from skal_power.threads import limit_threads  # noqa: E402

UNIT = 2.0 ** -24


def profile_steps(log_probs):
    calls = []
    original = _joint.JointEntropyTracker.candidate_entropies

    def timed(self, candidates):
        start = time.perf_counter()
        values = original(self, candidates)
        calls.append((self.table.shape[1], len(candidates), time.perf_counter() - start))
        return values

    _joint.JointEntropyTracker.candidate_entropies = timed
    try:
        start = time.perf_counter()
        indices, _ = batch_bald(log_probs, 5, max_exact_size=20 * 10 ** 4)
        total = time.perf_counter() - start
    finally:
        _joint.JointEntropyTracker.candidate_entropies = original
    steps = collections.defaultdict(lambda: [0, 0.0])
    for configurations, count, seconds in calls:
        steps[configurations][0] += count
        steps[configurations][1] += seconds
    return indices, total, steps


def screened_entropies(tracker, candidates, block=64, max_memory=2 ** 23):
    n_samples, n_classes = tracker.n_samples, tracker.n_classes
    table = tracker.table
    width = -(-table.shape[1] // block) * block
    table32 = torch.zeros((n_samples, width), dtype=torch.float32)
    table32[:, :table.shape[1]] = table / n_samples
    chunk = max(1, max_memory // (width * n_classes * 8))
    tiny = torch.finfo(torch.float32).tiny
    out = np.empty(len(candidates))
    for start in range(0, len(candidates), chunk):
        index = candidates[start:start + chunk]
        rows = len(index)
        columns = tracker.probs[:, index].to(torch.float32).reshape(n_samples, rows * n_classes)
        joint = (columns.T @ table32).clamp_min_(tiny)  # (rows*C, width)
        plogp = torch.log(joint).mul_(joint)
        partial = plogp.view(rows * n_classes, width // block, block).sum(-1)
        totals = partial.sum(-1, dtype=torch.float64).view(rows, n_classes).sum(-1)
        out[start:start + rows] = -totals.numpy()
    return out


def main() -> None:
    torch.set_num_threads(1)
    log_probs = make_log_probs(10_000)
    with limit_threads(1):
        indices, total, steps = profile_steps(log_probs)
        print(f"batch_bald exact, 1 thread: {total:.2f} s, picks {indices.tolist()}")
        for configurations, (count, seconds) in sorted(steps.items()):
            print(f"  step with {configurations:>6} configurations: {count} candidates "
                  f"evaluated, {seconds:.2f} s")
        probs = torch.from_numpy(np.ascontiguousarray(np.moveaxis(log_probs, 1, 0))).exp()
        tracker = _joint.JointEntropyTracker(
            torch, probs, None, max_exact_size=20 * 10 ** 4, n_configurations=16384,
            max_memory=2 ** 23, rng=np.random.default_rng(0))
        for index in indices[:-1]:
            tracker.add(int(index))
        candidates = np.arange(len(log_probs))
        start = time.perf_counter()
        reference = tracker.candidate_entropies(candidates)
        seconds64 = time.perf_counter() - start
        start = time.perf_counter()
        screened = screened_entropies(tracker, candidates)
        seconds32 = time.perf_counter() - start
    bound = 4 * (tracker.n_samples + 70) * UNIT * (np.abs(screened) + 1)
    near = int(np.sum(screened >= screened.max() - 2 * bound.max()))
    print(f"last step: float64 {seconds64:.2f} s, float32 screen {seconds32:.2f} s "
          f"({seconds64 / seconds32:.2f}x); largest screen error "
          f"{np.abs(screened - reference).max():.1e} nats, bound {bound.min():.1e}; "
          f"{near} candidate(s) to verify in float64")


if __name__ == "__main__":
    main()
