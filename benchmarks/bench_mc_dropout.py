"""MC-dropout sampling throughput: skal_power against baal and batchbald_redux.

The same ``MNISTConvNet`` weights (``conv(32) → pool → ReLU → Dropout2d →
conv(64) → pool → ReLU → Dropout2d → Linear(128) → ReLU → Dropout → Linear(10)``)
predict K posterior samples for every row of a pool:

* **skal_power** ``MCDropoutClassifier.predict_proba_samples`` (consistent masks;
  the layers before the first dropout run once per row, then the K samples are
  stacked, ``sample_batch_size`` rows × samples per forward pass);
* **baal** 2.1.0 ``MCDropoutModule`` + ``ModelWrapper.predict_on_batch`` (dropout
  kept on, the batch replicated K times in memory), batches of
  ``sample_batch_size / K`` rows so each forward pass has as many rows as ours;
* **batchbald_redux** ``BayesianModule`` with ``ConsistentMCDropout(2d)`` (the
  input expanded K times before the first layer), same batches;
* **skal_power, stacked**: skal_power with the rows stacked K times through the
  whole network (``forward_samples`` switched off), and **skal_power, stacked,
  torch's max_pool2d**: the same with ``nn.MaxPool2d(2)`` instead of
  :class:`~skal_power.models.MaxPool2x2` (how the library sampled before both);
  their samples must equal skal_power's to 1e-5 (bit for bit between the two
  stacked variants).

All three run in this process, one after the other, on one torch thread, on the
same pool; the table gives rows × samples per second and the ratio to baal.

Run (baselines installed beside the package, e.g.
``pip install --no-deps -t /tmp/baselines baal==2.1.0 batchbald_redux "structlog<23"
torchmetrics lightning-utilities``)::

    PYTHONPATH=.:/tmp/baselines python benchmarks/bench_mc_dropout.py --pool 20000 --samples 20 100
    PYTHONPATH=.:/tmp/baselines python benchmarks/bench_mc_dropout.py --quick

``--crossover`` instead times skal_power's two paths alone, the stacked pass and
``forward_samples`` forced on, for small K: where the second overtakes the first
is the ``MNISTConvNet.samples_per_channel_from`` the library uses::

    python benchmarks/bench_mc_dropout.py --crossover --pool 2000
"""

from __future__ import annotations

import argparse
import copy
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skal_power.models import MCDropoutClassifier, MNISTConvNet  # noqa: E402

SAMPLE_ROWS = 4096  # rows × samples per forward pass, for every method


def reference_module(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return MNISTConvNet(n_classes=10).eval()


def ours(module, X, n_samples, *, stacked=False, torch_pool=False, per_channel_from=None):
    net = MCDropoutClassifier(copy.deepcopy(module), max_epochs=0, classes=list(range(10)),
                              sample_batch_size=SAMPLE_ROWS, random_state=0)
    net.fit(X[:10], np.arange(10))  # zero epochs: initialise and encode the labels
    net.module_.load_state_dict(module.state_dict())
    if stacked:
        net.module_.forward_samples = None
    if per_channel_from is not None:
        net.module_.samples_per_channel_from = per_channel_from
    if torch_pool:
        for index, layer in enumerate(net.module_.features):
            if isinstance(layer, torch.nn.MaxPool2d):
                net.module_.features[index] = torch.nn.MaxPool2d(2)
    start = time.perf_counter()
    probs = net.predict_proba_samples(X, n_samples=n_samples, random_state=0)
    seconds = time.perf_counter() - start
    _LAST_SAMPLES[stacked, torch_pool] = probs
    return seconds, probs.shape


_LAST_SAMPLES: dict = {}


def ours_stacked(module, X, n_samples):
    return ours(module, X, n_samples, stacked=True)


def ours_stacked_torch_pool(module, X, n_samples):
    return ours(module, X, n_samples, stacked=True, torch_pool=True)


def baal(module, X, n_samples):
    from baal.bayesian.dropout import MCDropoutModule
    from baal.modelwrapper import ModelWrapper, TrainingArgs

    model = MCDropoutModule(copy.deepcopy(module))
    args = TrainingArgs(optimizer=None, batch_size=max(1, SAMPLE_ROWS // n_samples), epoch=0,
                        use_cuda=False, workers=0, collate_fn=None, regularizer=None,
                        criterion=None, replicate_in_memory=True)
    wrapper = ModelWrapper(model, args)
    rows = args.batch_size
    data = torch.from_numpy(X)
    start = time.perf_counter()
    shape = None
    for low in range(0, len(X), rows):
        logits = wrapper.predict_on_batch(data[low:low + rows], iterations=n_samples)
        probs = torch.softmax(logits, dim=1)  # (batch, C, K)
        shape = probs.shape
    return time.perf_counter() - start, (len(X), shape[2], shape[1])


def redux(module, X, n_samples):
    from batchbald_redux.consistent_mc_dropout import (BayesianModule, ConsistentMCDropout,
                                                       ConsistentMCDropout2d)

    class ReduxCNN(BayesianModule):
        def __init__(self, reference):
            super().__init__()
            self.conv1 = reference.features[0]
            self.conv2 = reference.features[4]
            self.fc1, self.fc2 = reference.head[0], reference.head[3]
            self.drop1, self.drop2 = ConsistentMCDropout2d(0.5), ConsistentMCDropout2d(0.5)
            self.drop3 = ConsistentMCDropout(0.5)

        def mc_forward_impl(self, x):
            x = x.reshape(-1, 1, 28, 28)
            x = self.drop1(torch.relu(torch.max_pool2d(self.conv1(x), 2)))
            x = self.drop2(torch.relu(torch.max_pool2d(self.conv2(x), 2)))
            x = self.drop3(torch.relu(self.fc1(x.flatten(1))))
            return torch.log_softmax(self.fc2(x), dim=1)

    model = ReduxCNN(copy.deepcopy(module)).eval()
    rows = max(1, SAMPLE_ROWS // n_samples)
    data = torch.from_numpy(X)
    start = time.perf_counter()
    shape = None
    with torch.no_grad():
        for low in range(0, len(X), rows):
            shape = model(data[low:low + rows], n_samples).shape
    return time.perf_counter() - start, (len(X), shape[1], shape[2])


def crossover(module, X, samples=(2, 4, 6, 8, 12, 16)) -> list[str]:
    """Stacked pass against ``forward_samples`` at small K (the library's threshold)."""
    lines = ["| K | stacked (s) | per channel (s) | stacked ÷ per channel | library uses |",
             "|---:|---:|---:|---:|---|"]
    threshold = MNISTConvNet.samples_per_channel_from
    for n_samples in samples:
        stacked, _ = ours(module, X, n_samples, stacked=True)
        per_channel, _ = ours(module, X, n_samples, per_channel_from=1)
        np.testing.assert_allclose(_LAST_SAMPLES[False, False], _LAST_SAMPLES[True, False],
                                   atol=1e-5)
        used = "per channel" if n_samples >= threshold else "stacked"
        lines.append(f"| {n_samples} | {stacked:.2f} | {per_channel:.2f} | "
                     f"{stacked / per_channel:.2f}× | {used} |")
    return lines


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", type=int, default=20_000)
    parser.add_argument("--samples", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--quick", action="store_true", help="pool 1,000, K = 20")
    parser.add_argument("--crossover", action="store_true",
                        help="skal_power's stacked pass against forward_samples, small K")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "mc-dropout.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.pool, args.samples = 1000, [20]
    torch.set_num_threads(1)
    X = np.random.default_rng(0).normal(size=(args.pool, 784)).astype(np.float32)
    module = reference_module()
    ours(module, X[:50], 2)  # warm up torch's kernels once
    if args.crossover:
        lines = ["# MC-dropout sampling: where forward_samples overtakes the stacked pass", "",
                 f"MNISTConvNet, pool of {args.pool:,} rows, torch {torch.__version__}, 1 "
                 f"thread, {platform.machine()}; skal_power only, {SAMPLE_ROWS} rows × samples "
                 "per forward pass.", "", "Command: `python benchmarks/bench_mc_dropout.py "
                 + " ".join(argv if argv is not None else sys.argv[1:]) + "`", "",
                 *crossover(module, X)]
        text = "\n".join(lines) + "\n"
        print(text)
        return text
    lines = ["# MC-dropout sampling: skal_power against baal and batchbald_redux", "",
             f"MNISTConvNet, pool of {args.pool:,} rows, torch {torch.__version__}, 1 thread, "
             f"{platform.machine()}; every method {SAMPLE_ROWS} rows × samples per forward "
             "pass, one run each, in this order in one process.", "",
             "Command: `python benchmarks/bench_mc_dropout.py "
             + " ".join(argv if argv is not None else sys.argv[1:]) + "`", "",
             "| K | method | seconds | rows × samples / s | ÷ baal | ÷ stacked, torch pool |",
             "|---:|---|---:|---:|---:|---:|"]
    for n_samples in args.samples:
        timings = {}
        for name, run in (("baal", baal), ("batchbald_redux", redux),
                          ("skal_power, stacked, torch's max_pool2d",
                           ours_stacked_torch_pool),
                          ("skal_power, stacked", ours_stacked), ("skal_power", ours)):
            try:
                seconds, shape = run(module, X, n_samples)
            except ImportError as error:
                lines.append(f"| {n_samples} | {name} | – | – | not installed ({error.name}) | – |")
                continue
            assert tuple(shape) == (args.pool, n_samples, 10), (name, shape)
            timings[name] = seconds
        assert np.array_equal(_LAST_SAMPLES[True, True], _LAST_SAMPLES[True, False])
        np.testing.assert_allclose(_LAST_SAMPLES[False, False], _LAST_SAMPLES[True, False],
                                   atol=1e-5)
        for name, seconds in timings.items():
            ratio = (f"{timings['baal'] / seconds:.2f}×" if "baal" in timings else "–")
            before = timings["skal_power, stacked, torch's max_pool2d"] / seconds
            lines.append(f"| {n_samples} | {name} | {seconds:.2f} | "
                         f"{args.pool * n_samples / seconds:,.0f} | {ratio} | {before:.2f}× |")
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return text


if __name__ == "__main__":
    main()
