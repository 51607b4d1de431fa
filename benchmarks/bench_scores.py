"""BALD and PowerBALD speed and memory against baal, batchbald_redux and plain numpy.

Everything is measured in the same run on the same input: log-probs of shape
(N, K, C) = (10^6, 20, 10), float32 (800 MB), log-softmax of N(0, 3^2) logits.

* ``one reduction pass``: the fastest of ``numpy.sum``, ``numpy.max`` and
  ``torch.sum`` over the whole array, the floor for anything that reads it.
* ``plain numpy``: the textbook vectorised BALD (``exp``, mean over K,
  ``xlogy``), no chunking.
* ``baal``: ``baal.active.heuristics.BALD().compute_score`` on probabilities
  of shape (N, C, K), its layout; the transposition is done before timing.
* ``batchbald_redux``: ``batchbald_redux.batchbald.get_bald_batch`` (the
  scores plus a top-k), on a torch tensor of log-probs.
* ``skal_power``: :func:`skal_power.scores.bald` with each of its kernels, chosen
  with ``SKAL_POWER_BACKEND``: the compiled one (``native``, the default where the
  package was built with a C compiler), and the ``torch`` and ``numpy`` fallbacks.

Times are the best of ``--repeats`` runs (one run for the slow baselines).
PowerBALD is ``bald`` followed by ``power_sample(..., 100, alpha=1)``. The
speed-up is skal_power's default kernel against the fastest baseline.

``--threads`` sets torch's intra-op threads and ``SKAL_POWER_NUM_THREADS`` (the
native and numpy kernels' pool) alike; OpenBLAS is held to one thread so that
its idle workers do not spin on the cores being measured.

Peak extra memory is measured in a fresh subprocess per backend: the input is
built and touched, the kernel's peak resident-set counter is reset
(``/proc/self/clear_refs`` ← 5), ``bald`` runs, and the extra memory is
``VmHWM − VmRSS`` read from ``/proc/self/status`` (Linux only); it covers
numpy, torch and any other allocation of the process.

Run (in an environment with the baselines: ``pip install torch==2.13.0 numpy scipy
scikit-learn baal``, then ``pip install --no-deps batchbald_redux`` and its imports
``toma tqdm``)::

    PYTHONPATH=. python benchmarks/bench_scores.py --repeats 5 --out benchmarks/results/scores.md
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time

# before numpy loads OpenBLAS: its idle worker threads would spin on the measured cores
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def make_log_probs(n_points: int, n_samples: int, n_classes: int, seed: int = 0) -> np.ndarray:
    """Normalised float32 log-probs, built in blocks to keep the set-up memory low."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_points, n_samples, n_classes), dtype=np.float32)
    block = 50_000
    for start in range(0, n_points, block):
        logits = rng.standard_normal((min(block, n_points - start), n_samples, n_classes),
                                     dtype=np.float32) * 3
        logits -= logits.max(axis=-1, keepdims=True)
        logits -= np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        out[start:start + len(logits)] = logits
    return out


def plain_numpy_bald(log_probs: np.ndarray) -> np.ndarray:
    """The textbook vectorised BALD on (N, K, C) log-probs."""
    from scipy.special import xlogy

    probs = np.exp(log_probs)
    mean_probs = probs.mean(axis=1)
    predictive = -xlogy(mean_probs, mean_probs).sum(axis=-1)
    expected = -xlogy(probs, probs).sum(axis=(1, 2)) / log_probs.shape[1]
    return predictive - expected


def float64_reference_bald(log_probs: np.ndarray) -> np.ndarray:
    """BALD of float32 log-probs computed in float64 throughout (the accuracy yardstick)."""
    from scipy.special import xlogy

    probs = np.exp(log_probs.astype(np.float64))
    mean_probs = probs.mean(axis=1)
    predictive = -xlogy(mean_probs, mean_probs).sum(axis=-1)
    expected = -(probs * log_probs).sum(axis=(1, 2)) / log_probs.shape[1]
    return predictive - expected


def best_time(function, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def memory_probe(args) -> None:
    """Child process: peak extra resident memory of one ``bald`` call, printed as JSON."""
    import torch

    torch.set_num_threads(args.threads)
    from skal_power.scores import bald

    log_probs = make_log_probs(args.n_points, args.n_samples, args.n_classes)
    bald(log_probs[:1000])  # import and warm up everything outside the measurement
    gc.collect()
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    before = _status_kib("VmRSS")
    bald(log_probs)
    peak = _status_kib("VmHWM")
    print(json.dumps({"extra_bytes": (peak - before) * 1024, "input_bytes": log_probs.nbytes}))


def measure_memory(args, backend: str) -> float | None:
    if platform.system() != "Linux":
        return None
    env = dict(os.environ)
    env["SKAL_POWER_BACKEND"] = backend
    command = [sys.executable, __file__, "--memory-probe", "--threads", str(args.threads),
               "--n-points", str(args.n_points), "--n-samples", str(args.n_samples),
               "--n-classes", str(args.n_classes)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["extra_bytes"] / result["input_bytes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-points", type=int, default=1_000_000)
    parser.add_argument("--n-samples", type=int, default=20)
    parser.add_argument("--n-classes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--bbr-points", type=int, default=None,
                        help="run batchbald_redux on this many points and extrapolate "
                             "linearly to N (default: all N points, no extrapolation)")
    parser.add_argument("--accuracy-points", type=int, default=100_000,
                        help="points on which every method is compared with a float64 BALD")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help="write the markdown table here")
    args = parser.parse_args()
    os.environ["SKAL_POWER_NUM_THREADS"] = str(args.threads)
    if args.memory_probe:
        memory_probe(args)
        return

    import torch

    torch.set_num_threads(args.threads)
    from skal_power.sampling import power_sample
    from skal_power.scores import bald

    n, k, c = args.n_points, args.n_samples, args.n_classes
    log_probs = make_log_probs(n, k, c)
    rows: list[tuple[str, float, str]] = []

    tensor = torch.from_numpy(log_probs)
    reductions = {
        "numpy.sum": lambda: log_probs.sum(),
        "numpy.max": lambda: log_probs.max(),
        "torch.sum": lambda: tensor.sum(),
    }
    reduction_name, reduction_time = min(
        ((name, best_time(f, args.repeats)[0]) for name, f in reductions.items()),
        key=lambda item: item[1],
    )

    from skal_power import active_kernel

    bald(log_probs[:1000])  # warm-up (imports, thread pool)
    ours, ours_scores = best_time(lambda: bald(log_probs), args.repeats)
    default_kernel = active_kernel()[0]  # the kernel bald() just used
    reference = float64_reference_bald(log_probs[:args.accuracy_points])
    errors: dict[str, float] = {}

    def record_error(name: str, scores: np.ndarray) -> None:
        errors[name] = float(np.abs(scores[:len(reference)] - reference).max())

    record_error("skal_power default", ours_scores)
    kernel_times, max_diff = {}, 0.0
    for backend in ("native", "torch", "numpy"):
        if backend == "native" and default_kernel != "native":
            print("native kernel not measured: skal_power._native is not built",
                  file=sys.stderr)
            continue
        os.environ["SKAL_POWER_BACKEND"] = backend
        kernel_times[backend], scores = best_time(lambda: bald(log_probs), args.repeats)
        max_diff = max(max_diff, float(np.abs(ours_scores - scores).max()))
        record_error(f"skal_power {backend}", scores)
        del scores
    del os.environ["SKAL_POWER_BACKEND"]

    select, _ = best_time(
        lambda: power_sample(ours_scores, args.batch_size, alpha=1.0, random_state=0),
        args.repeats,
    )
    power_total = ours + select

    numpy_time, numpy_scores = best_time(lambda: plain_numpy_bald(log_probs),
                                         max(1, args.repeats - 1))
    max_diff = max(max_diff, float(np.abs(ours_scores - numpy_scores).max()))
    record_error("plain numpy", numpy_scores)
    del numpy_scores
    rows.append(("plain numpy BALD", numpy_time, ""))

    try:
        from baal.active.heuristics import BALD as BaalBALD

        probs_n_c_k = np.ascontiguousarray(np.exp(log_probs).transpose(0, 2, 1))
        heuristic = BaalBALD()
        baal_time, baal_scores = best_time(lambda: heuristic.compute_score(probs_n_c_k), 1)
        max_diff = max(max_diff, float(np.abs(ours_scores - baal_scores).max()))
        record_error("baal", baal_scores)
        del probs_n_c_k, baal_scores
        rows.append(("baal `BALD().compute_score`", baal_time, ""))
    except ImportError as error:
        print(f"baal not measured: {error}", file=sys.stderr)

    try:
        import functools

        import batchbald_redux.batchbald as bbr_module
        from batchbald_redux.batchbald import get_bald_batch

        # its progress bars are not part of the computation
        bbr_module.tqdm = functools.partial(bbr_module.tqdm, disable=True)

        bbr_n = min(args.bbr_points or n, n)
        subset = tensor[:bbr_n]
        bbr_time, _ = best_time(lambda: get_bald_batch(subset, args.batch_size), 1)
        note = ""
        if bbr_n < n:
            bbr_time *= n / bbr_n
            note = f"measured on N = {bbr_n:,}, extrapolated linearly ×{n / bbr_n:g}"
        rows.append(("batchbald_redux `get_bald_batch`", bbr_time, note))
    except ImportError as error:
        print(f"batchbald_redux not measured: {error}", file=sys.stderr)

    fastest_baseline = min(seconds for _, seconds, _ in rows)
    memory = {}
    if not args.skip_memory:
        for backend in kernel_times:
            memory[backend] = measure_memory(args, backend)

    def memory_note(backend):
        share = memory.get(backend)
        return "" if share is None else f"peak extra memory {share:.1%} of the input"

    labels = {"native": "compiled kernel", "torch": "torch kernel", "numpy": "numpy kernel"}
    table = [
        ("one reduction pass (" + reduction_name + ")", reduction_time, "floor"),
        (f"**skal_power `bald`** (default: {labels[default_kernel]})", ours,
         memory_note(default_kernel)),
        *((f"skal_power `bald`, `SKAL_POWER_BACKEND={backend}`", seconds, memory_note(backend))
          for backend, seconds in kernel_times.items()),
        (f"skal_power PowerBALD: `bald` + `power_sample` (B = {args.batch_size})", power_total,
         f"selection alone {select:.3f} s; {power_total / ours:.2f}× the scores"),
        *rows,
    ]
    from importlib import metadata

    versions = []
    for package in ("baal", "batchbald_redux"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    command = "PYTHONPATH=. " + " ".join([os.path.basename(sys.executable)] + sys.argv)
    lines = [
        "# Single-point scores: BALD and PowerBALD",
        "",
        f"Command: `{command}`",
        "",
        f"N = {n:,}, K = {k}, C = {c}, float32 ({log_probs.nbytes / 2**20:.0f} MiB); "
        f"torch {torch.__version__}, {args.threads} threads, numpy {np.__version__}, "
        f"{', '.join(versions)}; "
        f"{os.cpu_count()} CPUs ({platform.machine()}). Best of {args.repeats} "
        "(slow baselines: one run).",
        "",
        "| method | seconds | time ÷ skal_power's default "
        "| ÷ one reduction pass | notes |",
        "|---|---:|---:|---:|---|",
    ]
    for name, seconds, note in table:
        lines.append(f"| {name} | {seconds:.3f} | {seconds / ours:.1f}× | "
                     f"{seconds / reduction_time:.1f}× | {note} |")
    lines += [
        "",
        f"Speed-up over the fastest baseline: **{fastest_baseline / ours:.1f}×** "
        "(bar: ≥ 10×).",
        f"PowerBALD batch / scores: **{power_total / ours:.2f}×** (bar: ≤ 1.5×).",
    ]
    if memory:
        lines.append("Peak extra memory / input size: "
                     + ", ".join(f"{b} **{s:.1%}**" for b, s in memory.items() if s is not None)
                     + " (bar: ≤ 25%; VmHWM − VmRSS of a fresh process, see the script).")
    lines.append(f"Largest |difference| between the BALD scores of all methods measured "
                 f"on all N: {max_diff:.2e} nats.")
    lines.append(f"Largest |error| against BALD computed in float64 from the same float32 input "
                 f"(first {len(reference):,} points): "
                 + ", ".join(f"{name} {error:.1e}" for name, error in errors.items())
                 + " nats (batchbald_redux returns only its batch).")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text)


if __name__ == "__main__":
    main()
