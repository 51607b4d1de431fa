"""Where the exact BatchBALD kernel's time goes, with and without the float32 screen.

An exploration script for issue 17 (not a results page). On the bench_batch
instance (N = 10^4, B = 5, K = 20, C = 10, float64) it prints:

1. ``batch_bald`` exact at every step with the float32 screen switched off (the
   float64 kernel): the total, and per greedy step the number of candidates lazy
   greedy evaluated and the seconds they took;
2. the same call with the screen (the library's default), and whether the picks
   and scores agree;
3. at the last step (10^4 configurations), ``candidate_entropies`` (float64)
   against ``screened_entropies`` (float32 product and log, blocked sums into
   float64): times, the largest error of the screen, its stated bound and how
   many candidates lie within twice the bound of the best (those the greedy
   step re-scores in float64).

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
        indices, _ = batch_bald(log_probs, 5, max_exact_size=20 * 10 ** 4,
                                on_saturation="continue")
        total = time.perf_counter() - start
    finally:
        _joint.JointEntropyTracker.candidate_entropies = original
    steps = collections.defaultdict(lambda: [0, 0.0])
    for configurations, count, seconds in calls:
        steps[configurations][0] += count
        steps[configurations][1] += seconds
    return indices, total, steps


def main() -> None:
    torch.set_num_threads(1)
    log_probs = make_log_probs(10_000)
    with limit_threads(1):
        minimum = _joint.SCREEN_MIN_CONFIGURATIONS
        _joint.SCREEN_MIN_CONFIGURATIONS = 10 ** 12  # the float64 kernel alone
        try:
            indices, total, steps = profile_steps(log_probs)
        finally:
            _joint.SCREEN_MIN_CONFIGURATIONS = minimum
        print(f"batch_bald exact, float64 kernel, 1 thread: {total:.2f} s, "
              f"picks {indices.tolist()}")
        for configurations, (count, seconds) in sorted(steps.items()):
            print(f"  step with {configurations:>6} configurations: {count} candidates "
                  f"evaluated, {seconds:.2f} s")
        start = time.perf_counter()
        screened_picks, _ = batch_bald(log_probs, 5, max_exact_size=20 * 10 ** 4,
                                       on_saturation="continue")
        print(f"batch_bald exact, float32 screen: {time.perf_counter() - start:.2f} s, "
              f"picks equal: {screened_picks.tolist() == indices.tolist()}")
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
        screened, bound = tracker.screened_entropies(candidates)
        seconds32 = time.perf_counter() - start
    near = int(np.sum(screened >= screened.max() - 2 * bound.max()))
    print(f"last step: float64 {seconds64:.2f} s, float32 screen {seconds32:.2f} s "
          f"({seconds64 / seconds32:.2f}x); largest screen error "
          f"{np.abs(screened - reference).max():.1e} nats, bound {bound.min():.1e}; "
          f"{near} candidate(s) to verify in float64")


if __name__ == "__main__":
    main()
