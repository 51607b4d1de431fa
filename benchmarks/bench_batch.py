"""BatchBALD speed, agreement and memory against batchbald_redux and baal.

Everything is measured in the same run on the same input: log-probs of shape
(N, K, C) with K = 20, C = 10, float64, log-softmax of N(0, 3^2) logits
(float32 for the N = 10^6 memory case, to keep the input itself at 800 MB).

Cases
-----
* **agreement** (N = 10^4, B = 5): batchbald_redux ``get_batchbald_batch``
  with ``num_samples = 10^5`` keeps its joint entropies exact for this batch
  size (C^4 = 10^4 configurations <= 10^5). skal_power runs twice: with its
  defaults (exact while C^b <= M = 16384, then M fresh sampled configurations
  per step; exact here too) and with ``max_exact_size = K C^(B-1)`` so that
  both are exact at every step; the exact run must pick the same indices with
  the same scores.
* **speed** (N = 10^4, B = 10): batchbald_redux in its sampled regime is run
  with a time limit (``--redux-limit``, default 600 s; it needs ~50 minutes
  on 2 cores); if it does not finish, the ratio is reported as a lower bound.
* **scale** (N = 10^5, B = 50): skal_power alone, bar <= 5 minutes.
* **memory** (N = 10^6, B = ``--memory-batch``): a fresh subprocess builds the
  float32 input, then runs ``batch_bald``; reported is the process's peak
  resident memory (``VmHWM``) in total and above the input. Every sampled
  step holds the same (M, K) table and the same chunk of joint probabilities
  (``max_memory``), so the peak does not grow with B once sampling starts;
  the script checks that by measuring B = 6 and B = 12 at N = 10^5.
* **scikit-activeml** ``skactiveml.pool._bald.batch_bald`` (the function
  behind its ``BatchBALD`` query strategy, ``n_MC_samples = 10^5``) and
* **baal** ``BatchBALD(num_samples=5)`` at N = 10^4, B = 5 (its own
  approximation: 500 draws from the batch history; reported for time and
  overlap only; stopped after ``--baal-limit`` seconds, default 300), both
  also at N = 10^3 where they fit in memory and time.

Run (in an environment with the baselines: ``pip install torch==2.13.0 numpy scipy
scikit-learn baal``, then ``pip install --no-deps batchbald_redux scikit-activeml`` and
their imports ``toma tqdm makefun``)::

    PYTHONPATH=. python benchmarks/bench_batch.py --out benchmarks/results/batch.md

``--quick`` shrinks every case (N / 10, short limits) to check the script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
from bench_scores import _status_kib  # this folder is on sys.path when run as a script

K, C = 20, 10


def make_log_probs(n_points: int, dtype=np.float64, seed: int = 0) -> np.ndarray:
    """Normalised log-probs built in blocks (low set-up memory)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_points, K, C), dtype=dtype)
    block = 50_000
    for start in range(0, n_points, block):
        logits = rng.standard_normal((min(block, n_points - start), K, C)).astype(dtype) * 3
        logits -= logits.max(axis=-1, keepdims=True)
        logits -= np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        out[start:start + len(logits)] = logits
    return out


# --------------------------------------------------------------------------- runners
def run_ours(log_probs, batch_size, **kwargs):
    from skal_power.batch import batch_bald

    start = time.perf_counter()
    indices, scores = batch_bald(log_probs, batch_size, random_state=0, **kwargs)
    return time.perf_counter() - start, [int(i) for i in indices], [float(s) for s in scores]


def run_redux(log_probs, batch_size, num_samples=100_000):
    import torch
    from batchbald_redux.batchbald import get_batchbald_batch

    tensor = torch.from_numpy(log_probs)
    start = time.perf_counter()
    batch = get_batchbald_batch(tensor, batch_size, num_samples, dtype=torch.double)
    return time.perf_counter() - start, list(batch.indices), [float(s) for s in batch.scores]


def run_baal(log_probs, batch_size):
    from baal.active.heuristics import BatchBALD

    probs = np.exp(log_probs).transpose(0, 2, 1).copy()  # baal's (N, C, K) layout
    heuristic = BatchBALD(num_samples=batch_size)
    start = time.perf_counter()
    ranks = heuristic(probs)
    return time.perf_counter() - start, [int(i) for i in ranks[:batch_size]], []


def run_skactiveml(log_probs, batch_size, num_samples=100_000):
    from skactiveml.pool._bald import batch_bald as skactiveml_batch_bald

    probs = np.exp(log_probs).transpose(1, 0, 2).copy()  # its (K, N, C) layout
    start = time.perf_counter()
    utilities = skactiveml_batch_bald(probs, batch_size, n_MC_samples=num_samples,
                                      random_state=0)
    seconds = time.perf_counter() - start
    indices = [int(np.nanargmax(row)) for row in utilities]
    scores = [float(np.nanmax(row)) for row in utilities]
    return seconds, indices, scores


def child(args) -> None:
    """Run one measurement in this (fresh) process and print it as JSON."""
    import torch

    torch.set_num_threads(args.threads)
    dtype = np.float32 if args.child_dtype == "float32" else np.float64
    log_probs = make_log_probs(args.child_n, dtype)
    input_kib = _status_kib("VmRSS")
    runner = {"ours": run_ours, "redux": run_redux, "baal": run_baal,
              "skactiveml": run_skactiveml}[args.child]
    kwargs = json.loads(args.child_kwargs)
    seconds, indices, scores = runner(log_probs, args.child_b, **kwargs)
    print(json.dumps({"seconds": seconds, "indices": indices, "scores": scores,
                      "peak_mib": _status_kib("VmHWM") / 1024,
                      "before_mib": input_kib / 1024,
                      "input_mib": log_probs.nbytes / 2**20}))


def measure(args, who: str, n: int, b: int, *, dtype="float64", limit=None, **kwargs):
    """Run ``who`` in a subprocess; None when it ran past ``limit`` seconds."""
    command = [sys.executable, __file__, "--child", who, "--child-n", str(n), "--child-b",
               str(b), "--child-dtype", dtype, "--child-kwargs", json.dumps(kwargs),
               "--threads", str(args.threads)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit,
                              check=True)
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as error:
        if who == "ours":
            raise RuntimeError(f"{who} N={n} B={b} failed:\n{error.stderr[-3000:]}") from None
        # baselines that hold (N, M, C)- or (N, C, K, draws)-sized arrays run out of memory
        print(f"  {who:5s} N={n:>8,} B={b:>3}: failed with exit status {error.returncode}",
              flush=True)
        return {"failed": error.returncode}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {who:5s} N={n:>8,} B={b:>3} {kwargs or ''}: {result['seconds']:8.2f} s, "
          f"peak {result['peak_mib']:.0f} MiB", flush=True)
    return result


# ----------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="write the markdown table here")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--redux-limit", type=float, default=600.0)
    parser.add_argument("--baal-limit", type=float, default=300.0)
    parser.add_argument("--memory-batch", type=int, default=8)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-b", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-dtype", default="float64", help=argparse.SUPPRESS)
    parser.add_argument("--child-kwargs", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    scale = 10 if args.quick else 1
    limit = 60.0 if args.quick else args.redux_limit
    n_small, n_large, n_huge = 10_000 // scale, 100_000 // scale, 1_000_000 // scale
    rows, notes = [], []
    load = os.getloadavg()
    print("agreement, both exact: N =", n_small, "B = 5", flush=True)
    redux5 = measure(args, "redux", n_small, 5, limit=None if not args.quick else limit)
    exact5 = measure(args, "ours", n_small, 5, max_exact_size=K * C ** 4)
    ours5 = measure(args, "ours", n_small, 5)
    baal5 = measure(args, "baal", n_small, 5, limit=60.0 if args.quick else args.baal_limit)
    same = redux5["indices"] == exact5["indices"]
    score_gap = float(np.max(np.abs(np.subtract(redux5["scores"], exact5["scores"]))))
    default_gap = float(np.max(np.abs(np.subtract(redux5["scores"], ours5["scores"]))))
    rows += [
        ("batchbald_redux `get_batchbald_batch` (M = 10^5)", n_small, 5, redux5["seconds"], 1.0,
         "exact at every step"),
        ("**skal_power `batch_bald`**, exact at every step", n_small, 5, exact5["seconds"],
         redux5["seconds"] / exact5["seconds"],
         f"same picks: {same}; max score gap {score_gap:.1e} nats"),
        ("**skal_power `batch_bald`**, defaults", n_small, 5, ours5["seconds"],
         redux5["seconds"] / ours5["seconds"],
         f"picks equal: {ours5['indices'] == redux5['indices']};"
         f" max score gap {default_gap:.1e} nats"),
    ]
    if baal5 is None or "failed" in baal5:
        why = (f"stopped after {args.baal_limit:.0f} s" if baal5 is None else
               f"failed, exit status {baal5['failed']} (-9: killed, out of memory)")
        rows.append(("baal `BatchBALD(num_samples=5)`", n_small, 5, None, None, why))
    else:
        overlap = len(set(baal5["indices"]) & set(redux5["indices"]))
        rows.append(("baal `BatchBALD(num_samples=5)`", n_small, 5, baal5["seconds"],
                     redux5["seconds"] / baal5["seconds"],
                     f"its own 500-draw approximation; {overlap}/5 picks shared"))

    n_tiny = n_small // 10
    print("baal where it fits in memory: N =", n_tiny, "B = 5", flush=True)
    tiny = {who: measure(args, who, n_tiny, 5, limit=limit)
            for who in ("redux", "ours", "skactiveml", "baal")}
    if tiny["skactiveml"] is not None and "failed" not in tiny["skactiveml"]:
        sk = tiny["skactiveml"]
        gap = float(np.max(np.abs(np.subtract(sk["scores"], tiny["redux"]["scores"]))))
        rows.append(("scikit-activeml `batch_bald` (n_MC_samples = 10^5)", n_tiny, 5,
                     sk["seconds"], tiny["redux"]["seconds"] / sk["seconds"],
                     f"numpy port of batchbald_redux; picks equal to it: "
                     f"{sk['indices'] == tiny['redux']['indices']}; max score gap {gap:.1e}; "
                     f"peak {sk['peak_mib']:.0f} MiB"))
    if tiny["baal"] is not None and "failed" not in tiny["baal"]:
        overlap = len(set(tiny["baal"]["indices"]) & set(tiny["redux"]["indices"]))
        rows += [
            ("batchbald_redux `get_batchbald_batch` (M = 10^5)", n_tiny, 5,
             tiny["redux"]["seconds"], 1.0, "exact at every step"),
            ("**skal_power `batch_bald`**, defaults", n_tiny, 5, tiny["ours"]["seconds"],
             tiny["redux"]["seconds"] / tiny["ours"]["seconds"],
             f"picks equal: {tiny['ours']['indices'] == tiny['redux']['indices']}"),
            ("baal `BatchBALD(num_samples=5)`", n_tiny, 5, tiny["baal"]["seconds"],
             tiny["redux"]["seconds"] / tiny["baal"]["seconds"],
             f"own approximation; {overlap}/5 picks shared with batchbald_redux; "
             f"peak {tiny['baal']['peak_mib']:.0f} MiB"),
        ]

    print("speed, sampled regime: N =", n_small, "B = 10", flush=True)
    ours10 = measure(args, "ours", n_small, 10)
    redux10 = measure(args, "redux", n_small, 10, limit=limit)
    if redux10 is None:
        rows.append(("batchbald_redux `get_batchbald_batch` (M = 10^5)", n_small, 10, None,
                     None, f"stopped after {limit:.0f} s"))
        rows.append(("**skal_power `batch_bald`**, defaults", n_small, 10, ours10["seconds"],
                     limit / ours10["seconds"], "ratio is a lower bound (baseline stopped)"))
    elif "failed" in redux10:
        rows.append(("batchbald_redux `get_batchbald_batch` (M = 10^5)", n_small, 10, None,
                     None, f"failed, exit status {redux10['failed']} (-9: killed, out of "
                     "memory: its sampled step holds an (N, M, C) array)"))
        rows.append(("**skal_power `batch_bald`**, defaults", n_small, 10, ours10["seconds"],
                     None, f"peak {ours10['peak_mib']:.0f} MiB"))
    else:
        gap = float(np.max(np.abs(np.subtract(redux10["scores"], ours10["scores"]))))
        rows.append(("batchbald_redux `get_batchbald_batch` (M = 10^5)", n_small, 10,
                     redux10["seconds"], 1.0, "sampled from step 6"))
        rows.append(("**skal_power `batch_bald`**, defaults", n_small, 10, ours10["seconds"],
                     redux10["seconds"] / ours10["seconds"],
                     f"max score gap {gap:.1e} nats (both sampled from step 5/6)"))

    print("scale: N =", n_large, "B = 50", flush=True)
    ours50 = measure(args, "ours", n_large, 50)
    rows.append(("**skal_power `batch_bald`**, defaults", n_large, 50, ours50["seconds"], None,
                 f"bar: <= 300 s; peak {ours50['peak_mib']:.0f} MiB"))

    print("memory: does the peak grow with B in the sampled regime?", flush=True)
    peaks = {b: measure(args, "ours", n_large, b)["peak_mib"] for b in (6, 12)}
    notes.append(f"Peak resident memory at N = {n_large:,}: B = 6 → {peaks[6]:.0f} MiB, "
                 f"B = 12 → {peaks[12]:.0f} MiB (sampled from b = 4 on).")
    print("memory: N =", n_huge, "float32, B =", args.memory_batch, flush=True)
    huge = measure(args, "ours", n_huge, args.memory_batch, dtype="float32")
    rows.append(("**skal_power `batch_bald`**, defaults, float32 input", n_huge,
                 args.memory_batch, huge["seconds"], None,
                 f"peak {huge['peak_mib']:.0f} MiB in total, input {huge['input_mib']:.0f} MiB "
                 "(bar: < 3 GB)"))

    import torch

    header = [
        "# BatchBALD: skal_power against batchbald_redux and baal", "",
        f"K = {K}, C = {C}, float64 unless stated; torch {torch.__version__}, "
        f"{args.threads} thread(s), {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores (load average at the start: "
        + ", ".join(f"{x:.1f}" for x in load) + "). Each run in a fresh process, one run each.",
        "", "Command: `PYTHONPATH=. python benchmarks/bench_batch.py " + " ".join(sys.argv[1:])
        + "`", "",
        "| method | N | B | seconds | batchbald_redux ÷ this | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines = list(header)
    for name, n, b, seconds, ratio, note in rows:
        seconds_text = "–" if seconds is None else f"{seconds:.2f}"
        ratio_text = "" if ratio is None else f"{ratio:.1f}×"
        lines.append(f"| {name} | {n:,} | {b} | {seconds_text} | {ratio_text} | {note} |")
    lines += ["", *notes, ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
