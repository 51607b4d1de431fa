"""BatchBALD speed, agreement and memory against batchbald_redux and baal.

Everything is measured in the same run on the same input: log-probs of shape
(N, K, C) with K = 20, C = 10, float64, log-softmax of N(0, 3^2) logits
(float32 for the N = 10^6 memory case, to keep the input itself at 800 MB).
Each measurement runs in a fresh process, one thread unless ``--threads``.

Cases (issue 17's bars)
-----------------------
* **exact** (N = 10^4, B = 5): batchbald_redux ``get_batchbald_batch`` with
  ``num_samples = 10^5`` keeps its joint entropies exact for this batch size
  (C^4 = 10^4 configurations <= 10^5). skal_power runs with
  ``max_exact_size = K C^4`` (exact at every step) and with its defaults
  (exact while C^b <= M = 16384, so exact here too); both must make the same
  picks with the same scores. Bar: >= 20x batchbald_redux.
* **sampled** (N = 2,000, B = 10): both sample their last steps
  (batchbald_redux from step 6 with M = 10^5 configurations, skal_power from
  step 5 with M = 16384). Each batch is then scored by one independent
  large-M estimate (M = 2^20 configurations, skal_power's unbiased sampled
  estimator, with its standard error): skal_power's picks pass when their
  information is within the 95% CI of batchbald_redux's picks (or above).
  Bar: >= 20x.
* **BatchEvaluationBALD** (N = 4,000, K = 100, B = 50, two independent
  posteriors M and M'): the library against the code of the day issue 17 was
  filed (``--old-code``, a checkout of commit 6bebeb6: ``git worktree add
  /tmp/old17 6bebeb6`` and ``python setup.py build_ext --inplace`` there), same
  input. Bar: <= 1/5 of its time.
* **scale** (N = 10^5, B = 50): skal_power alone, bar <= 5 minutes.
* **memory** (N = 10^6, B = 50): a fresh process builds the float32 input,
  then runs ``batch_bald``; reported is the process's peak resident memory
  (``VmHWM``). Bar: < 3 GB.
* **baal** ``BatchBALD(num_samples=5)`` and **scikit-activeml**
  ``batch_bald`` (the function behind its ``BatchBALD``, ``n_MC_samples =
  10^5``) at N = 10^3, B = 5, where they fit in memory and time (baal holds an
  (N, C, K, draws) array; at N = 10^4 it was killed for lack of memory).

Baselines run with their address space capped (``--baseline-memory``, GiB), so
that one that would exhaust the machine fails fast instead; with
``--device cuda`` (a GPU machine) the exact and sampled cases run on the GPU
for both libraries (skal_power with ``max_memory = 2^30``: its 8 MiB default
is sized for CPU caches; the code of 6bebeb6 likewise) and the CPU-only cases are
skipped.

Run (in an environment with the baselines: ``pip install --no-deps -t
/tmp/baselines batchbald_redux scikit-activeml baal==2.1.0 toma makefun
"structlog<23" "torchmetrics>=1.7.3,<2" lightning-utilities``)::

    PYTHONPATH=.:/tmp/baselines python benchmarks/bench_batch.py --threads 1 \
        --old-code /tmp/old17 --out benchmarks/results/batch.md

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


def make_log_probs(n_points: int, dtype=np.float64, seed: int = 0,
                   n_samples: int = K) -> np.ndarray:
    """Normalised log-probs built in blocks (low set-up memory)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_points, n_samples, C), dtype=dtype)
    block = 50_000
    for start in range(0, n_points, block):
        shape = (min(block, n_points - start), n_samples, C)
        logits = rng.standard_normal(shape).astype(dtype) * 3
        logits -= logits.max(axis=-1, keepdims=True)
        logits -= np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        out[start:start + len(logits)] = logits
    return out


# --------------------------------------------------------------------------- runners
def run_ours(log_probs, batch_size, **kwargs):
    from skal_power.batch import batch_bald

    start = time.perf_counter()
    # the raw objective, as the reference code has it: picks are compared one for one
    indices, scores = batch_bald(log_probs, batch_size, random_state=0,
                                 on_saturation="continue", **kwargs)
    return time.perf_counter() - start, [int(i) for i in indices], [float(s) for s in scores]


def run_evaluation(log_probs, batch_size, **kwargs):
    """BatchEvaluationBALD on M = ``log_probs`` and an independent M' (seed 1)."""
    from skal_power.batch import batch_evaluation_bald

    distilled = make_log_probs(log_probs.shape[0], log_probs.dtype.type, seed=1,
                               n_samples=log_probs.shape[1])
    start = time.perf_counter()
    indices, scores = batch_evaluation_bald(log_probs, distilled, batch_size, random_state=0,
                                            on_saturation="continue", **kwargs)
    return time.perf_counter() - start, [int(i) for i in indices], [float(s) for s in scores]


def run_redux(log_probs, batch_size, num_samples=100_000, device="cpu"):
    import torch
    from batchbald_redux.batchbald import get_batchbald_batch

    tensor = torch.from_numpy(log_probs).to(device)
    start = time.perf_counter()
    batch = get_batchbald_batch(tensor, batch_size, num_samples, dtype=torch.double,
                                device=device)
    if device != "cpu":
        torch.cuda.synchronize()
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


def batch_information(log_probs, indices, n_configurations=2**20, seed=12345):
    """``I[y_batch; ω]`` of a fixed batch by skal_power's sampled estimator, with its SE.

    :func:`skal_power.batch.batch_information`, sampled from the second point on
    (``max_exact_size=1``): one independent draw of ``n_configurations``
    configurations, whoever picked the batch, so every method's batch is scored alike.
    """
    from skal_power.batch import batch_information as information

    return information(log_probs, indices, max_exact_size=1, n_configurations=n_configurations,
                       max_memory=2**28, random_state=seed, return_std=True)


def child(args) -> None:
    """Run one measurement in this (fresh) process and print it as JSON."""
    if args.child_path:  # another checkout of skal_power (the code of an earlier day)
        sys.path.insert(0, args.child_path)
    if args.child != "ours" and args.child != "evaluation" and args.child_memory_gib:
        import resource

        limit = int(args.child_memory_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import torch

    torch.set_num_threads(args.threads)
    dtype = np.float32 if args.child_dtype == "float32" else np.float64
    log_probs = make_log_probs(args.child_n, dtype, n_samples=args.child_k)
    input_kib = _status_kib("VmRSS")
    runner = {"ours": run_ours, "evaluation": run_evaluation, "redux": run_redux,
              "baal": run_baal, "skactiveml": run_skactiveml}[args.child]
    kwargs = json.loads(args.child_kwargs)
    seconds, indices, scores = runner(log_probs, args.child_b, **kwargs)
    import skal_power

    print(json.dumps({"seconds": seconds, "indices": indices, "scores": scores,
                      "peak_mib": _status_kib("VmHWM") / 1024,
                      "before_mib": input_kib / 1024,
                      "input_mib": log_probs.nbytes / 2**20,
                      "skal_power": os.path.dirname(skal_power.__file__)}))


def measure(args, who: str, n: int, b: int, *, dtype="float64", limit=None, k=K,
            path=None, **kwargs):
    """Run ``who`` in a subprocess; None when it ran past ``limit`` seconds."""
    command = [sys.executable, __file__, "--child", who, "--child-n", str(n), "--child-b",
               str(b), "--child-dtype", dtype, "--child-kwargs", json.dumps(kwargs),
               "--child-k", str(k), "--threads", str(args.threads)]
    if path:
        command += ["--child-path", path]
    if args.device == "cpu":
        command += ["--child-memory-gib", str(args.baseline_memory)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit,
                              check=True)
    except subprocess.TimeoutExpired:
        print(f"  {who:10s} N={n:>9,} B={b:>3}: stopped after {limit:.0f} s", flush=True)
        return None
    except subprocess.CalledProcessError as error:
        if who in ("ours", "evaluation"):
            raise RuntimeError(f"{who} N={n} B={b} failed:\n{error.stderr[-3000:]}") from None
        # baselines that hold (N, M, C)- or (N, C, K, draws)-sized arrays run out of memory
        print(f"  {who:10s} N={n:>9,} B={b:>3}: failed with exit status {error.returncode}: "
              f"{error.stderr.strip().splitlines()[-1][:200] if error.stderr.strip() else ''}",
              flush=True)
        return {"failed": error.returncode}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {who:10s} N={n:>9,} B={b:>3} {kwargs or ''}: {result['seconds']:8.2f} s, "
          f"peak {result['peak_mib']:.0f} MiB ({result['skal_power']})", flush=True)
    return result


def ok(result) -> bool:
    return result is not None and "failed" not in result


def why_not(result, limit) -> str:
    if result is None:
        return f"stopped after {limit:.0f} s"
    return (f"failed, exit status {result['failed']} (-9: killed; 1: out of memory under "
            "the address-space cap)")


def ratio(base, this):
    return base["seconds"] / this["seconds"] if ok(base) and ok(this) else None


# ----------------------------------------------------------------------------- cases
def case_exact(args, rows, n, device_kwargs):
    print(f"exact: N = {n:,}, B = 5", flush=True)
    redux = measure(args, "redux", n, 5, **device_kwargs.get("redux", {}))
    exact = measure(args, "ours", n, 5, max_exact_size=K * C ** 4, **device_kwargs["ours"])
    default = measure(args, "ours", n, 5, **device_kwargs["ours"])
    rows.append(("batchbald_redux `get_batchbald_batch` (M = 10^5)", n, 5,
                 redux["seconds"] if ok(redux) else None, 1.0 if ok(redux) else None,
                 "exact at every step" if ok(redux) else why_not(redux, None)))
    for name, mine in (("exact at every step", exact), ("defaults", default)):
        same = ok(redux) and redux["indices"] == mine["indices"]
        gap = (float(np.max(np.abs(np.subtract(redux["scores"], mine["scores"]))))
               if ok(redux) else float("nan"))
        rows.append((f"**skal_power `batch_bald`**, {name}", n, 5, mine["seconds"],
                     ratio(redux, mine), f"same picks as batchbald_redux: **{same}**; "
                     f"max score gap {gap:.1e} nats; bar: same picks, >= 20x"))


def case_sampled(args, rows, notes, n, limit, device_kwargs):
    print(f"sampled: N = {n:,}, B = 10", flush=True)
    redux = measure(args, "redux", n, 10, limit=limit, **device_kwargs.get("redux", {}))
    mine = measure(args, "ours", n, 10, **device_kwargs["ours"])
    log_probs = make_log_probs(n)
    mine_info, mine_se = batch_information(log_probs, mine["indices"])
    rows.append(("batchbald_redux `get_batchbald_batch` (M = 10^5)", n, 10,
                 redux["seconds"] if ok(redux) else None, 1.0 if ok(redux) else None,
                 "sampled from step 6" if ok(redux) else why_not(redux, limit)))
    if ok(redux):
        redux_info, redux_se = batch_information(log_probs, redux["indices"])
        # 1e-9 nats of slack: batches at the ceiling log K agree to rounding with SE 0
        margin = 1.96 * float(np.hypot(mine_se, redux_se)) + 1e-9
        within = mine_info >= redux_info - margin
        verdict = (f"its picks' information {mine_info:.6f} ± {1.96 * mine_se:.6f} against "
                   f"batchbald_redux's {redux_info:.6f} ± {1.96 * redux_se:.6f} nats, "
                   f"difference {mine_info - redux_info:+.1e} (one "
                   f"independent M = 2^20 estimate each): within the CI or above: "
                   f"**{within}**; bar: within, >= 20x")
        notes.append(f"Sampled case: {sum(i in redux['indices'] for i in mine['indices'])} "
                     f"of the 10 picks shared with batchbald_redux; the scores each library "
                     f"reports for its own last pick: batchbald_redux {redux['scores'][-1]:.4f}"
                     f", skal_power {mine['scores'][-1]:.4f} nats.")
    else:
        verdict = f"its picks' information {mine_info:.4f} ± {1.96 * mine_se:.4f} nats"
    rows.append(("**skal_power `batch_bald`**, defaults", n, 10, mine["seconds"],
                 ratio(redux, mine), verdict))


def case_evaluation(args, rows, n, limit, device_kwargs):
    print(f"BatchEvaluationBALD: N = {n:,}, K = 100, B = 50", flush=True)
    old = (measure(args, "evaluation", n, 50, k=100, path=args.old_code, limit=limit,
                   **device_kwargs["ours"]) if args.old_code else None)
    new = measure(args, "evaluation", n, 50, k=100, **device_kwargs["ours"])
    if old is not None and ok(old):
        rows.append(("skal_power `batch_evaluation_bald` at commit 6bebeb6 (issue 17 filed)",
                     n, 50, old["seconds"], None, "K = 100, defaults of that day"))
        rows.append(("**skal_power `batch_evaluation_bald`**, now", n, 50, new["seconds"],
                     None, f"**{old['seconds'] / new['seconds']:.1f}x** faster than "
                     f"6bebeb6; bar: >= 5x"))
    else:
        rows.append(("**skal_power `batch_evaluation_bald`**, now", n, 50, new["seconds"],
                     None, "K = 100" + ("" if old is None and not args.old_code else
                                        "; 6bebeb6: " + why_not(old, limit))))


def case_small(args, rows, n, limit):
    print(f"baal and scikit-activeml where they fit: N = {n:,}, B = 5", flush=True)
    tiny = {who: measure(args, who, n, 5, limit=limit)
            for who in ("redux", "ours", "skactiveml", "baal")}
    redux = tiny["redux"]
    rows.append(("batchbald_redux `get_batchbald_batch` (M = 10^5)", n, 5, redux["seconds"],
                 1.0, "exact at every step"))
    rows.append(("**skal_power `batch_bald`**, defaults", n, 5, tiny["ours"]["seconds"],
                 ratio(redux, tiny["ours"]),
                 f"same picks: {tiny['ours']['indices'] == redux['indices']}"))
    sk = tiny["skactiveml"]
    if ok(sk):
        gap = float(np.max(np.abs(np.subtract(sk["scores"], redux["scores"]))))
        rows.append(("scikit-activeml `batch_bald` (n_MC_samples = 10^5)", n, 5,
                     sk["seconds"], ratio(redux, sk),
                     f"numpy port of batchbald_redux; same picks: "
                     f"{sk['indices'] == redux['indices']}; max score gap {gap:.1e}"))
    else:
        rows.append(("scikit-activeml `batch_bald`", n, 5, None, None, why_not(sk, limit)))
    baal = tiny["baal"]
    if ok(baal):
        overlap = len(set(baal["indices"]) & set(redux["indices"]))
        rows.append(("baal `BatchBALD(num_samples=5)`", n, 5, baal["seconds"],
                     ratio(redux, baal), f"its own approximation; {overlap}/5 picks shared "
                     f"with batchbald_redux; peak {baal['peak_mib']:.0f} MiB"))
    else:
        rows.append(("baal `BatchBALD(num_samples=5)`", n, 5, None, None, why_not(baal, limit)))


# ----------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="write the markdown table here")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda on a GPU machine")
    parser.add_argument("--old-code", help="a checkout of 6bebeb6 (BatchEvaluationBALD case)")
    parser.add_argument("--redux-limit", type=float, default=1800.0)
    parser.add_argument("--baal-limit", type=float, default=300.0)
    parser.add_argument("--baseline-memory", type=float, default=16.0,
                        help="address-space cap of baseline processes, GiB (CPU only)")
    parser.add_argument("--memory-batch", type=int, default=50)
    parser.add_argument("--cases", default="exact,sampled,evaluation,small,scale,memory")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-b", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-k", type=int, default=K, help=argparse.SUPPRESS)
    parser.add_argument("--child-dtype", default="float64", help=argparse.SUPPRESS)
    parser.add_argument("--child-kwargs", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--child-path", help=argparse.SUPPRESS)
    parser.add_argument("--child-memory-gib", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    scale = 10 if args.quick else 1
    limit = 120.0 if args.quick else args.redux_limit
    cases = set(args.cases.split(","))
    if args.device != "cpu":
        cases &= {"exact", "sampled", "evaluation"}
        device_kwargs = {"ours": {"device": args.device, "max_memory": 2**30},
                         "redux": {"device": args.device}}
    else:
        device_kwargs = {"ours": {}}
    rows, notes = [], []
    load = os.getloadavg()
    started = time.perf_counter()
    if "exact" in cases:
        case_exact(args, rows, 10_000 // scale, device_kwargs)
    if "sampled" in cases:
        case_sampled(args, rows, notes, 2_000 // scale, limit, device_kwargs)
    if "evaluation" in cases:
        case_evaluation(args, rows, 4_000 // scale, limit, device_kwargs)
    if "small" in cases:
        case_small(args, rows, 1_000 // scale, 60.0 if args.quick else args.baal_limit)
    if "scale" in cases:
        n = 100_000 // scale
        print(f"scale: N = {n:,}, B = 50", flush=True)
        mine = measure(args, "ours", n, 50)
        rows.append(("**skal_power `batch_bald`**, defaults", n, 50, mine["seconds"], None,
                     f"bar: <= 300 s; peak {mine['peak_mib']:.0f} MiB"))
    if "memory" in cases:
        n = 1_000_000 // scale
        print(f"memory: N = {n:,} float32, B = {args.memory_batch}", flush=True)
        huge = measure(args, "ours", n, args.memory_batch, dtype="float32")
        rows.append(("**skal_power `batch_bald`**, defaults, float32 input", n,
                     args.memory_batch, huge["seconds"], None,
                     f"peak {huge['peak_mib']:.0f} MiB in total, input "
                     f"{huge['input_mib']:.0f} MiB (bar: < 3 GB)"))

    import torch

    where = (torch.cuda.get_device_name() if args.device != "cpu" else
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    header = [
        "# BatchBALD: skal_power against batchbald_redux and baal", "",
        f"K = {K}, C = {C}, float64 unless stated; torch {torch.__version__}, "
        f"{args.threads} thread(s), device {args.device} ({where}); load average at the "
        "start: " + ", ".join(f"{x:.1f}" for x in load) + ". Each run in a fresh process, "
        f"one run each; the whole run took {(time.perf_counter() - started) / 60:.1f} min.",
        "", "Command: `PYTHONPATH=.:/tmp/baselines python benchmarks/bench_batch.py "
        + " ".join(sys.argv[1:]) + "`", "",
        "| method | N | B | seconds | batchbald_redux ÷ this | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines = list(header)
    for name, n, b, seconds, speedup, note in rows:
        seconds_text = "–" if seconds is None else f"{seconds:.2f}"
        ratio_text = "" if speedup is None else f"{speedup:.1f}×"
        lines.append(f"| {name} | {n:,} | {b} | {seconds_text} | {ratio_text} | {note} |")
    lines += ["", *notes, ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
