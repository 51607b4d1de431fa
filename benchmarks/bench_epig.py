"""EPIG speed: skal_power.scores.epig against the direct torch implementation.

Everything is measured in the same run on the same input: pool log-probs of
shape (N, K, C) = (10^5, 20, 10) and target log-probs of shape (M, K, C) =
(1000, 20, 10), float32, log-softmax of N(0, 3^2) logits.

* ``skal_power``: :func:`skal_power.scores.epig` (chunked float64 GEMMs, bounded
  memory; see ``skal_power/_epig_kernel.py``), and with ``precision="single"``
  (float32 joints and logs, float64 sums).
* ``torch einsum, float64``: EPIG straight from the formula in the style of the
  authors' code (github.com/fbickfordsmith/epig, ``conditional_epig_from_probs``):
  per batch of pool points, the joint of all (pool, target) pairs in one
  ``einsum('nkc,mkd->nmcd') / K``, the product of the marginals, two
  ``xlogy`` sums over the C × C tables, the mean over targets. Run in float64
  so that it is a yardstick for the scores (they must agree to 1e-6).
* ``torch einsum, float32``: the same in float32 (the dtype the models give);
  timed, and its error reported.
* ``baal`` 2.1.0 ``EPIG.compute_score`` when baal is importable (its code is the
  authors' matmul variant in float32), per pool batch.
* ``torch matmul (entropy identity), float64``: the authors' faster variant
  (``epig_from_probs_using_matmul``): ``H[p̄(y|x)] + mean H[p̄(y*|x*)] −
  mean H[p(y, y*|x, x*)]`` with the joints from one batched matmul per pool
  batch.

The torch implementations hold (batch, M, C, C) tables and are far slower than
skal_power, so at the default size they run on the first ``--reference-points``
pool rows only and their time is scaled by ``N / reference-points`` (the work
is the same for every pool row); the table says where. Agreement is checked on
those rows. Times are the best of ``--repeats`` runs (the torch references:
``max(1, repeats - 1)``).

``--threads`` sets torch's intra-op threads and ``SKAL_POWER_NUM_THREADS`` (the
EPIG kernel's pool threads) alike; OpenBLAS (skal_power's GEMMs) is held to one
thread per kernel thread. ``--quick`` runs a small size to check the script.

Run (needs only this package's environment: numpy, torch)::

    PYTHONPATH=. python benchmarks/bench_epig.py --out benchmarks/results/epig.md
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import sys

# set before numpy loads OpenBLAS: skal_power's kernel threads each call a one-thread GEMM
_ENV_BEFORE = {name: os.environ[name] for name in
               ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "SKAL_POWER_NUM_THREADS") if name in os.environ}
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

# this folder is on sys.path when run as a script: the shared input maker and timer
from bench_scores import best_time, make_log_probs  # noqa: E402


def torch_einsum_epig(torch, log_probs_pool, log_probs_target, batch_size, dtype):
    """EPIG from the formula, the joint of all pairs of a pool batch in one einsum."""
    probs_pool = torch.from_numpy(log_probs_pool).to(dtype).exp()  # [N, K, C]
    probs_targ = torch.from_numpy(log_probs_target).to(dtype).exp()  # [M, K, C]
    n_samples = probs_pool.shape[1]
    mean_targ = probs_targ.mean(dim=1)  # [M, C]
    scores = []
    with torch.no_grad():
        for start in range(0, len(probs_pool), batch_size):
            batch = probs_pool[start:start + batch_size]  # [n, K, C]
            joint = torch.einsum("nkc,mkd->nmcd", batch, probs_targ) / n_samples  # [n, M, C, C]
            indep = batch.mean(dim=1)[:, None, :, None] * mean_targ[None, :, None, :]
            conditional = (torch.xlogy(joint, joint).sum(dim=(-2, -1))
                           - torch.xlogy(joint, indep).sum(dim=(-2, -1)))  # [n, M]
            scores.append(conditional.mean(dim=-1))
    return torch.cat(scores).double().numpy()


def torch_matmul_epig(torch, log_probs_pool, log_probs_target, batch_size, dtype):
    """EPIG by H[y] + E H[y*] − E H[y, y*], the joints from one matmul per pool batch."""
    probs_pool = torch.from_numpy(log_probs_pool).to(dtype).exp()  # [N, K, C]
    probs_targ = torch.from_numpy(log_probs_target).to(dtype).exp()  # [M, K, C]
    n_target, n_samples, n_classes = probs_targ.shape

    def entropy(probs):
        return -torch.xlogy(probs, probs).sum(dim=-1)

    entropy_targ = entropy(probs_targ.mean(dim=1)).mean()
    right = probs_targ.permute(1, 0, 2).reshape(n_samples, n_target * n_classes)  # [K, M*C]
    scores = []
    with torch.no_grad():
        for start in range(0, len(probs_pool), batch_size):
            batch = probs_pool[start:start + batch_size]  # [n, K, C]
            joint = batch.permute(0, 2, 1) @ right / n_samples  # [n, C, M*C]
            joint_entropy = -torch.xlogy(joint, joint).sum(dim=(-2, -1)) / n_target
            scores.append(entropy(batch.mean(dim=1)) + entropy_targ - joint_entropy)
    return torch.cat(scores).double().numpy()


def baal_epig(torch, log_probs_pool, log_probs_target, batch_size, dtype):
    """baal 2.1.0's ``EPIG.compute_score`` (float32: it builds ``torch.Tensor``s), per pool
    batch: on all N at once its (N, C, M·C) joint table would not fit in memory."""
    from baal.active.heuristics import EPIG

    heuristic = EPIG()
    targets = np.exp(log_probs_target.astype(np.float64)).transpose(0, 2, 1)  # [M, C, K]
    scores = []
    for start in range(0, len(log_probs_pool), batch_size):
        batch = np.exp(log_probs_pool[start:start + batch_size].astype(np.float64))
        scores.append(heuristic.compute_score(batch.transpose(0, 2, 1), targets))
    return np.concatenate(scores).astype(np.float64)


def command_line() -> str:
    python = sys.executable
    if python.startswith(os.getcwd() + os.sep):
        python = os.path.relpath(python)
    env = " ".join(f"{name}={value}" for name, value in _ENV_BEFORE.items())
    return " ".join(part for part in (env, "PYTHONPATH=.", python, *sys.argv) if part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-points", type=int, default=100_000)
    parser.add_argument("--n-targets", type=int, default=1000)
    parser.add_argument("--n-samples", type=int, default=20)
    parser.add_argument("--n-classes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-points", type=int, default=500,
                        help="pool rows the torch references run on; their time is scaled "
                             "per row to N (default 500)")
    parser.add_argument("--reference-batch", type=int, default=64,
                        help="pool points per batch of the torch references (default 64)")
    parser.add_argument("--quick", action="store_true",
                        help="small size to check the script: N = 5000, M = 200, "
                             "reference on 1000 rows")
    parser.add_argument("--out", default=None, help="write the markdown table here")
    args = parser.parse_args()
    if args.quick:
        args.n_points, args.n_targets, args.reference_points = 5000, 200, 1000
    os.environ["SKAL_POWER_NUM_THREADS"] = str(args.threads)

    import torch

    torch.set_num_threads(args.threads)
    from skal_power.scores import epig

    # the default block budget of the public function (bytes per block of log-prob rows)
    DEFAULT_MAX_MEMORY = inspect.signature(epig).parameters["max_memory"].default

    n, m, k, c = args.n_points, args.n_targets, args.n_samples, args.n_classes
    pool = make_log_probs(n, k, c, seed=0)
    target = make_log_probs(m, k, c, seed=1)
    ref_n = min(args.reference_points, n)
    scale = n / ref_n

    epig(pool[:100], target[:100])  # warm-up (imports, thread pool)
    ours, ours_scores = best_time(lambda: epig(pool, target), args.repeats)
    single, single_scores = best_time(lambda: epig(pool, target, precision="single"),
                                      args.repeats)
    single_gap = float(np.abs(single_scores - ours_scores).max())

    references = [
        ("torch einsum, float64 (the formula, authors' style)", torch_einsum_epig,
         torch.float64),
        ("torch einsum, float32", torch_einsum_epig, torch.float32),
        ("torch matmul, entropy identity, float64 (authors' `epig_from_probs_using_matmul`)",
         torch_matmul_epig, torch.float64),
    ]
    try:
        import baal.active.heuristics  # noqa: F401

        references.append(("baal 2.1.0 `EPIG.compute_score` (float32)", baal_epig, None))
    except ImportError:
        pass
    rows = []
    subset = pool[:ref_n]
    for name, function, dtype in references:
        seconds, scores = best_time(
            lambda: function(torch, subset, target, args.reference_batch, dtype),
            max(1, args.repeats - 1))
        difference = float(np.abs(scores - ours_scores[:ref_n]).max())
        rows.append((name, seconds * scale, difference))
    yardstick = rows[0][2]
    agree = yardstick <= 1e-6

    note = (f"measured on the first {ref_n:,} pool rows, scaled ×{scale:g} to N"
            if ref_n < n else "all N rows")
    table_width = args.reference_batch * m * c * c * 8
    lines = [
        "# EPIG: expected predictive information gain",
        "",
    ]
    if args.quick:
        lines += ["Quick run (`--quick`, a small size) to check the script; the default size "
                  "(N = 100,000, M = 1,000) was not run.", ""]
    lines += [
        f"Command: `{command_line()}`",
        "",
        f"Pool N = {n:,}, targets M = {m:,}, K = {k}, C = {c}, float32 log-probs; "
        f"{n * m * c * c:.3g} joint probabilities. torch {torch.__version__}, numpy "
        f"{np.__version__}, {args.threads} thread(s), {os.cpu_count()} CPUs "
        f"({platform.machine()}). Best of {args.repeats} (torch references: best of "
        f"{max(1, args.repeats - 1)}). skal_power `max_memory` = {DEFAULT_MAX_MEMORY:,} bytes "
        f"(default); the torch references hold (batch, M, C, C) tables of "
        f"{table_width / 2**20:.0f} MiB each (batch = {args.reference_batch}).",
        "",
        "| method | seconds for all N | time ÷ skal_power | max \\|score − skal_power\\| (nats) "
        "| notes |",
        "|---|---:|---:|---:|---|",
        f"| **skal_power `epig`** | {ours:.3f} | 1.0× | 0 | all N rows |",
        f"| **skal_power `epig(precision=\"single\")`** | {single:.3f} | "
        f"{single / ours:.2f}× | {single_gap:.1e} | all N rows |",
    ]
    for name, seconds, difference in rows:
        lines.append(f"| {name} | {seconds:.3f} | {seconds / ours:.1f}× | {difference:.1e} | "
                     f"{note} |")
    lines += [
        "",
        f"Speed-up over the float64 einsum reference: **{rows[0][1] / ours:.1f}×**; over the "
        f"fastest other implementation: **{min(r[1] for r in rows) / ours:.1f}×** (double), "
        f"**{min(r[1] for r in rows) / single:.1f}×** (single precision).",
        f"Scores agree with the float64 einsum reference to {yardstick:.1e} nats on the "
        f"{ref_n:,} rows compared (bar: ≤ 1e-6): **{'yes' if agree else 'NO'}**.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text)
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
