"""Benchmark: what the second model M′ of the evaluation-oriented strategies costs, and its quality.

PowerEvaluationBALD, PowerEIG, BatchEvaluationBALD, ... distil a second model M′ on
``D_train ∪ D_eval`` every query (:func:`skal_power.distill.distill`). Its ``refit``
says where M′ starts: ``"full"`` (a fresh clone fitted with M's whole schedule, the
code before issue 34), ``"warm"`` (a copy of M trained on for a short schedule) or
``"head"`` (a copy of M whose last layer alone is trained on). For each option, on two
instances, in one run:

* the query time of PowerEvaluationBALD against PowerBALD's (same model, same pool);
* the quality of its M′ against the full refit's: the mean ``KL(p̄_M ‖ p̄_M′)`` over
  the pool, the share of the pool's BALD left by M′ (mean BALD_M′ / mean BALD_M), the
  overlap of the EvaluationBALD picks (power sampling, α = 5, the same Gumbel noise;
  and top-B) with the full refit's, and M′'s test accuracy. A second full refit with
  another seed gives the noise floor of these numbers;
* on the claims protocol, the BatchEvaluationBALD query (K = 100) with the default
  against the full refit;
* the fit of M under the claims schedule with what issue 34 asked to try: a
  channels-last module and skorch's ``compile=True`` (torch.compile).

Instances: digits (``MCDropoutClassifier()`` with the default MLP, 100 labels, a
1,500-point pool, K = 20, B = 50) and the claims protocol
(``benchmarks/claims/claims-large-batch.json``: MNISTConvNet, Repeated MNIST, 20
initial labels, its 3,980-point pool, the evaluation set of the claims config (the whole pool
unless it says ``eval_size``), B = 50; round 0 of seed 0).

Run from the repository root (about 15 minutes on one loaded thread)::

    PYTHONPATH=. python benchmarks/bench_second_model.py --output benchmarks/results/second-model.md
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from skal_power.adapters import sampled_log_proba
from skal_power.datasets import load_digits_data
from skal_power.distill import distill, predictive_mean
from skal_power.experiments import initial_indices, load_config, make_data, make_model
from skal_power.models import MCDropoutClassifier, MNISTConvNet
from skal_power.sampling import Power, Top
from skal_power.scores import bald
from skal_power.strategies import BatchEvaluationBALD, PowerBALD, PowerEvaluationBALD

CLAIMS = Path(__file__).parent / "claims" / "claims-large-batch.json"
#: (label, distill_refit, distill_params) of every M′ measured.
OPTIONS = [
    ("full refit (before issue 34)", "full", None),
    ("warm, 1 epoch", "warm", None),
    ("warm, 2 epochs", "warm", {"max_epochs": 2}),
    ("warm, 1 epoch of 1,024 points", "warm", {"iterator_train__samples_per_epoch": 1024}),
    ("head, 1 epoch", "head", None),
    ("head, 3 epochs", "head", {"max_epochs": 3}),
]
DEFAULT = PowerEvaluationBALD().distill_refit


class EveryCandidate(PowerEvaluationBALD):
    """PowerEvaluationBALD whose M′ scores every candidate (the code before the bounds)."""

    part_is_nonnegative = False


def bounded_against_every(model, X_pool, n_instances, kwargs, *, n_samples, eval_size,
                          repeats):
    """The default query (M′ scores what its bounds cannot rule out) against M′ scoring
    every candidate: best-of times, the rows M′ scored, and whether picks and scores agree."""
    times = {"bounded": [], "every": []}
    results = {}
    for _ in range(repeats):  # interleaved, so a change of load hits both
        for name, klass in (("bounded", PowerEvaluationBALD), ("every", EveryCandidate)):
            strategy = klass(alpha=5.0, n_samples=n_samples, eval_size=eval_size,
                             random_state=0)
            seconds, picked = timed(lambda: strategy(model, X_pool, n_instances, **kwargs))
            times[name].append(seconds)
            results[name] = (strategy, picked)
    bounded, (bounded_picks, bounded_scores) = results["bounded"]
    every, (every_picks, every_scores) = results["every"]
    return {
        "bounded": min(times["bounded"]), "every": min(times["every"]),
        "rows": bounded.second_pass_rows_, "candidates": every.second_pass_rows_,
        "same": bool(np.array_equal(bounded_picks, every_picks)
                     and np.array_equal(bounded_scores, every_scores)),
        "steps": bounded.timings_,
    }


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def best_of(repeats, function):
    return min(timed(function)[0] for _ in range(repeats))


def quality(model, second, X_pool, X_test, y_test, *, n_samples, n_instances):
    """KL(p̄_M ‖ p̄_M′), BALD_M′/BALD_M, power and top-B EvaluationBALD picks, test accuracy."""
    log_m = sampled_log_proba(model, X_pool, n_samples=n_samples, random_state=11)
    log_2 = sampled_log_proba(second, X_pool, n_samples=n_samples, random_state=12)
    p, q = predictive_mean(log_m), predictive_mean(log_2)
    kl = float(np.mean(np.sum(p * (np.log(np.clip(p, 1e-12, None))
                                   - np.log(np.clip(q, 1e-12, None))), axis=1)))
    bald_m, bald_2 = bald(log_m), bald(log_2)
    scores = bald_m - bald_2
    return {
        "kl": kl,
        "left": float(bald_2.mean() / bald_m.mean()),
        "power": Power(5.0).select(scores, n_instances, seed=13),
        "top": Top().select(scores, n_instances, seed=13),
        "accuracy": float(np.mean(second.predict(X_test) == y_test)),
    }


def measure_instance(name, model, X_train, y_train, X_pool, X_test, y_test, *, n_samples,
                     n_instances, eval_size, batch_samples=None, repeats=3):
    """Rows of the option table of one instance and its target ratios."""
    kwargs = dict(X_training=X_train, y_training=y_train)
    power_bald = best_of(repeats, lambda: PowerBALD(alpha=5.0, n_samples=n_samples,
                                                    random_state=0)(model, X_pool, n_instances))
    rows, results = [], {}
    for label, refit, params in OPTIONS:
        strategy = PowerEvaluationBALD(alpha=5.0, n_samples=n_samples, eval_size=eval_size,
                                       distill_refit=refit, distill_params=params,
                                       random_state=0)
        seconds, _ = timed(lambda: strategy(model, X_pool, n_instances, **kwargs))
        results[label] = (seconds, quality(model, strategy.distilled_, X_pool, X_test, y_test,
                                           n_samples=n_samples, n_instances=n_instances))
        print(f"{name}: {label}: {seconds:.2f} s", file=sys.stderr, flush=True)
        if refit == "full":
            eval_rows = X_pool[strategy.eval_indices_]
    # the noise floor: the same full refit with another seed (soft targets, init, shuffling)
    other = distill(model, X_train, y_train, eval_rows, n_samples=n_samples, refit="full",
                    random_state=1)
    results["full refit, another seed"] = (None, quality(
        model, other, X_pool, X_test, y_test, n_samples=n_samples, n_instances=n_instances))
    full = results[OPTIONS[0][0]][1]
    for label, (seconds, q) in results.items():
        power = len(np.intersect1d(q["power"], full["power"])) / n_instances
        top = len(np.intersect1d(q["top"], full["top"])) / n_instances
        rows.append([label, "–" if seconds is None else f"{seconds:.2f}",
                     "–" if seconds is None else f"{seconds / power_bald:.1f}×",
                     f"{q['kl']:.4f}", f"{q['left']:.3f}", f"{power:.0%}", f"{top:.0%}",
                     f"{q['accuracy']:.3f}"])
    default_label = next(label for label, refit, params in OPTIONS
                         if refit == DEFAULT and params is None)
    bounds = bounded_against_every(model, X_pool, n_instances, kwargs, n_samples=n_samples,
                                   eval_size=eval_size, repeats=repeats)
    print(f"{name}: bounded {bounds}", file=sys.stderr, flush=True)
    targets = {
        "power_bald": power_bald,
        "full": results[OPTIONS[0][0]][0] / power_bald,
        "default": bounds["bounded"] / power_bald,
        "default_label": default_label,
        "quality": (full, results[default_label][1]),
        "bounds": bounds,
    }
    if batch_samples:
        times, steps = {}, {}
        for refit in ("full", DEFAULT):
            strategy = BatchEvaluationBALD(n_samples=batch_samples, eval_size=eval_size,
                                           distill_refit=refit, random_state=0)
            times[refit], _ = timed(lambda: strategy(model, X_pool, n_instances, **kwargs))
            steps[refit] = strategy.timings_
            print(f"{name}: BatchEvaluationBALD {refit}: {times[refit]:.1f} s "
                  f"{strategy.timings_}", file=sys.stderr, flush=True)
        targets["batch"], targets["batch_steps"] = times, steps
    return rows, targets


def digits_instance(args):
    X, y = load_digits_data()
    order = np.random.default_rng(0).permutation(len(X))
    train, pool, test = order[:100], order[100:1600], order[1600:]
    fit_seconds, model = timed(lambda: MCDropoutClassifier(random_state=0).fit(X[train],
                                                                               y[train]))
    rows, targets = measure_instance(
        "digits", model, X[train], y[train], X[pool], X[test], y[test], n_samples=20,
        n_instances=50, eval_size=None, repeats=args.repeats)
    return fit_seconds, rows, targets


def claims_data(seed=0):
    config = load_config(str(CLAIMS))
    data = make_data(config, seed)
    labelled = initial_indices(config, seed, data.y_pool)
    unlabelled = np.setdiff1d(np.arange(len(data.y_pool)), labelled)
    return config, data, labelled, unlabelled


def claims_model(config, data, *, seed=0, **params):
    model = make_model(config, seed, classes=data.classes,
                       validation=(data.X_validation, data.y_validation))
    return model.set_params(**params) if params else model


def claims_instance(args):
    config, data, labelled, unlabelled = claims_data()
    model = claims_model(config, data)
    fit_seconds, _ = timed(lambda: model.fit(data.X_pool[labelled], data.y_pool[labelled]))
    strategy = next(s for s in config["strategies"] if s["name"] == "PowerEvaluationBALD")
    rows, targets = measure_instance(
        "claims", model, data.X_pool[labelled], data.y_pool[labelled], data.X_pool[unlabelled],
        data.X_test, data.y_test, n_samples=strategy["params"]["n_samples"],
        n_instances=config["batch_size"], eval_size=strategy["params"].get("eval_size"),
        batch_samples=None if args.no_batch else 100, repeats=args.repeats)
    targets["eval_size"] = strategy["params"].get("eval_size")
    return fit_seconds, rows, targets


class ChannelsLastConvNet(MNISTConvNet):
    """MNISTConvNet whose images run channels-last (NHWC) through the convolutions."""

    def forward(self, X):
        images = X.reshape(X.shape[0], *self.input_shape)
        features = self.features(images.contiguous(memory_format=torch.channels_last))
        return self.head(features.flatten(1))


def _fit_once(claims, fit_epochs, threads, params=None, flush_denormal=False):
    """One claims-schedule fit in this process on ``claims`` (what :func:`claims_data`
    returns): its seconds and test accuracy."""
    torch.set_num_threads(threads)
    config, data, labelled, _ = claims
    model = claims_model(config, data, max_epochs=fit_epochs, callbacks=None, **(params or {}))
    torch.set_flush_denormal(flush_denormal)  # off is torch's default
    try:
        seconds, _ = timed(lambda: model.fit(data.X_pool[labelled], data.y_pool[labelled]))
    finally:
        torch.set_flush_denormal(False)
    return seconds, float(np.mean(model.predict(data.X_test) == data.y_test))


def _warm_fit(fit_epochs, threads):
    """A fit in a fresh worker, timed after one untimed fit: the first fit of a process
    pays one-off costs (about 1.7 s of first calls) that a study's worker pays once."""
    claims = claims_data()
    _fit_once(claims, 1, threads)
    return _fit_once(claims, fit_epochs, threads)


def _concurrent_fits(fit_epochs):
    """Two 1-thread fits at once in two processes: the study's 2 workers × 1 thread."""
    from joblib import Parallel, delayed

    return Parallel(n_jobs=2)(delayed(_warm_fit)(fit_epochs, 1) for _ in range(2))


def fit_tries(args):
    """One claims-schedule fit of M (``--fit-epochs`` epochs of 5,056 resampled images,
    batch 64, the validation pass each epoch, no early stop) with each change tried.

    Returns the rows of the table and the layout's measurements: one fit with two
    threads against two one-thread fits at once (the study's layout), both with the
    two cores to themselves.
    """
    tries = [("today", {}, False),
             ("channels-last module", {"module": ChannelsLastConvNet}, False),
             ("denormals flushed to zero (torch.set_flush_denormal)", {}, True),
             ("fused Adam (optimizer__fused=True)", {"optimizer__fused": True}, False),
             ("skorch compile=True (torch.compile, inductor)", {"compile": True}, False)]
    claims = claims_data()
    results = []
    for label, params, flush in tries:
        try:
            seconds, accuracy = _fit_once(claims, args.fit_epochs, args.threads, params, flush)
            results.append((label, seconds, accuracy))
        except Exception as error:  # noqa: BLE001 - report what failed, keep the rest
            results.append((label, None, f"failed: {type(error).__name__}: {error}"[:120]))
        print(f"fit: {label}: {results[-1][1]}", file=sys.stderr, flush=True)
    two_threads = _fit_once(claims, args.fit_epochs, 2)  # this process is warm by now
    torch.set_num_threads(args.threads)
    concurrent = _concurrent_fits(args.fit_epochs)
    print(f"fit: 2 threads {two_threads[0]:.1f} s; 2 at once "
          f"{[round(s, 1) for s, _ in concurrent]}", file=sys.stderr, flush=True)
    return results, {"two_threads": two_threads, "concurrent": concurrent}


def eval_text(targets):
    size = targets.get("eval_size")
    return "the whole pool as evaluation set" if size is None else f"eval_size {size}"


def layout_text(layout, today):
    """The worker × thread layout on 2 cores, in fits per minute."""
    two, _ = layout["two_threads"]
    each = [seconds for seconds, _ in layout["concurrent"]]
    per_minute_two = 60 / two
    per_minute_pair = 2 * 60 / max(each)
    return (
        f"Worker × thread layout on the 2 cores: one fit with 2 threads took {two:.1f} s "
        f"({today / two:.2f}× one thread; {per_minute_two:.1f} fits per minute); two "
        f"1-thread fits at once (the study's 2 workers × 1 thread) took "
        f"{' and '.join(f'{s:.1f}' for s in each)} s ({per_minute_pair:.1f} fits per "
        f"minute). The study's layout gives {per_minute_pair / per_minute_two:.2f}× the "
        "throughput of one 2-thread worker.")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


HEADER = ["M′", "PowerEvaluationBALD query (s)", "/ PowerBALD", "mean KL(M‖M′)",
          "BALD_M′ / BALD_M", "power picks ∩ full", "top-B picks ∩ full", "M′ test acc."]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="PowerBALD timed best of")
    parser.add_argument("--fit-epochs", type=int, default=2)
    parser.add_argument("--no-batch", action="store_true", help="skip BatchEvaluationBALD")
    parser.add_argument("--no-claims", action="store_true", help="digits only (a smoke run)")
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())

    digits_fit, digits_rows, digits = digits_instance(args)
    lines = [
        "# The second model M′: cost and quality of each refit",
        "",
        f"`PYTHONPATH=. python benchmarks/bench_second_model.py {' '.join(sys.argv[1:])}`",
        "",
        f"torch {torch.__version__}, torch.set_num_threads({args.threads}), "
        f"{os.cpu_count()} CPUs shared with other jobs (load average before: {load}). "
        f"The strategies' default: `distill_refit={DEFAULT!r}` ({digits['default_label']}). "
        "Picks ∩ full: the share of the batch also picked with the full refit's M′ (the "
        "same M samples, the same Gumbel noise). \"full refit, another seed\" is the noise "
        "floor: the code before issue 34 refitted with another seed.",
        "",
    ]
    if not args.no_claims:
        claims_fit, claims_rows, claims = claims_instance(args)
        tries, layout = fit_tries(args)
    targets = [["PowerEvaluationBALD / PowerBALD query, digits", "≤ 5× (moonshot ≤ 2×)",
                f"{digits['default']:.2f}× (full refit: {digits['full']:.1f}×)"]]
    quality_rows = [("digits", digits)]
    if not args.no_claims:
        targets.append(["PowerEvaluationBALD / PowerBALD query, claims protocol",
                        "≤ 2× (moonshot ≤ 1.3×)",
                        f"{claims['default']:.2f}× (full refit: {claims['full']:.1f}×)"])
        if "batch" in claims:
            batch = claims["batch"]
            targets.append(["BatchEvaluationBALD query, claims protocol, B = 50, K = 100",
                            "≤ 1/5 of the full refit's",
                            f"{batch[DEFAULT]:.1f} s / {batch['full']:.1f} s = "
                            f"{batch[DEFAULT] / batch['full']:.2f}"])
        today = next(seconds for label, seconds, _ in tries if label == "today")
        best = min((seconds, label) for label, seconds, _ in tries[1:] if seconds)
        targets.append(["one claims-protocol fit of M, same schedule",
                        "≥ 1.25× faster, or the tries on the page",
                        f"best try {best[1]}: {today / best[0]:.2f}× (see section 3)"])
        quality_rows.append(("claims", claims))
    for name, result in quality_rows:
        full, default = result["quality"]
        targets.append([f"M′ quality, {name}: KL / BALD left, default vs full refit",
                        "within 10%",
                        f"KL {default['kl']:.4f} vs {full['kl']:.4f}; BALD left "
                        f"{default['left']:.3f} vs {full['left']:.3f}"])
    lines += ["## Targets of issue 34 (ratios within this run)", ""]
    lines += table(["measure", "target", "measured"], targets)
    lines += ["", "## M′ scores only the candidates its bounds cannot rule out", "",
              f"PowerEvaluationBALD with the default M′, best of {args.repeats} interleaved "
              "queries each: as released (M′ scores the candidates whose bound, M's BALD, can "
              "reach the batch) and with `part_is_nonnegative = False` (M′ scores every "
              "candidate, the code before). Same seeds, so picks and scores must agree to "
              "the last bit.", ""]
    lines += table(
        ["instance", "query (s)", "every candidate (s)", "speed-up", "rows M′ scored",
         "picks and scores identical", "first pass (M) (s)", "fit M′ (s)",
         "second pass (M′) (s)", "/ PowerBALD"],
        [[name, f"{b['bounded']:.2f}", f"{b['every']:.2f}", f"{b['every'] / b['bounded']:.2f}×",
          f"{b['rows']:,} of {b['candidates']:,}", "yes" if b["same"] else "**no**"]
         + [f"{b['steps'][step]:.2f}" for step in b["steps"]]
         + [f"{result['default']:.2f}×"]
         for name, result in quality_rows for b in [result["bounds"]]])
    lines += ["", "## 1. Digits", "",
              f"`MCDropoutClassifier()` (MLP 64-512-256-10, 8 epochs of 4,096 resampled "
              f"points), 100 labels, a 1,500-point pool (the evaluation set), 197 test points, "
              f"K = 20, B = 50. M fitted in {digits_fit:.1f} s; PowerBALD query "
              f"{digits['power_bald']:.2f} s (best of {args.repeats}).", ""]
    lines += table(HEADER, digits_rows)
    if not args.no_claims:
        lines += ["", "## 2. Claims protocol", "",
                  f"`{CLAIMS.name}`, seed 0, round 0: MNISTConvNet on the 20 initial labels "
                  f"(early stopping on 1,024 validation images, fitted in {claims_fit:.1f} s), "
                  f"a pool of 3,980 Repeated-MNIST images, {eval_text(claims)}, K = 20, B = 50, "
                  f"2,000 test images. PowerBALD query {claims['power_bald']:.2f} s (best of "
                  f"{args.repeats}).", ""]
        lines += table(HEADER, claims_rows)
        if "batch" in claims:
            batch = claims["batch"]
            lines += ["", f"BatchEvaluationBALD (K = 100, {eval_text(claims)}, B = 50), "
                      "each step of the query (its `timings_`):", ""]
            steps = claims["batch_steps"]
            names = list(next(iter(steps.values())))
            lines += table(["M′", "query (s)"] + [f"{step} (s)" for step in names], [
                [f"`distill_refit={refit!r}`", f"{batch[refit]:.1f}"]
                + [f"{steps[refit][step]:.1f}" for step in names] for refit in batch])
            default = steps[DEFAULT]
            floor = sum(seconds for step, seconds in default.items() if step != "greedy")
            goal = 0.2 * batch["full"]
            needed = (f"so the target needs a greedy of at most {goal - floor:.1f} s instead of "
                      f"{default['greedy']:.1f} s ({default['greedy'] / (goal - floor):.1f}× "
                      "faster)" if goal > floor else
                      "so the target is out of reach even with a greedy that costs nothing")
            lines += ["", f"Without the greedy, the default's query costs {floor:.1f} s (two "
                      f"K = 100 pool passes and the fit of M′): {floor / batch['full']:.2f} of "
                      f"the full refit's whole query, against the target's 0.20; {needed}."]
        lines += ["", "## 3. One fit of M under the claims schedule", "",
                  f"{args.fit_epochs} epochs of 5,056 resampled images, batch 64, the "
                  "1,024-image validation pass each epoch, 20 labels, no early stop; test "
                  "accuracy with dropout off.", ""]
        lines += table(["fit", "seconds", "vs today", "test acc."], [
            [label, "–" if seconds is None else f"{seconds:.1f}",
             "–" if seconds is None else f"{today / seconds:.2f}×",
             accuracy if isinstance(accuracy, str) else f"{accuracy:.3f}"]
            for label, seconds, accuracy in tries])
        lines += ["", layout_text(layout, today)]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.output:
        Path(args.output).write_text(report)


if __name__ == "__main__":
    main()
