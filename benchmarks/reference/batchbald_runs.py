"""The BatchBALD authors' own MNIST and Repeated-MNIST runs, as a results table.

The repository of the BatchBALD paper (github.com/BlackHC/BatchBALD) keeps the
per-round log of each run behind the paper's figures in ``laaos_results/paper/``:
one Python file per run that fills a dict ``store`` (the run's arguments, then one
``store['iterations'].append({...})`` line per acquisition round with the test
accuracy of the model trained on the labels so far). This script reads those logs
(as literals, never executing them) and writes the rounds of the families that
match our studies to ``batchbald-runs.csv`` beside it, in the columns of a
skal-power results file (``strategy, seed, n_labelled, accuracy, nll, acquired,
acquired_labels``) plus the run's family (its log is ``<family>_<seed>.py``), so
that the study pages compare our curves with theirs using the same paired tables
(:func:`skal_power.experiments.gain_table`).

Nothing is downloaded: give a clone of the repository (a work tree or a bare git
directory; the commit read is recorded in the CSV)::

    git clone https://github.com/BlackHC/BatchBALD /tmp/BatchBALD
    python benchmarks/reference/batchbald_runs.py /tmp/BatchBALD

The committed CSV was made from commit ``2ab8d749`` (2021-08-28).

Their protocol, read from each run's ``store['args']``: MNIST's 60,000 training
images as the pool (Repeated MNIST: the same, repeated with Gaussian noise), a
validation set of 1,024 (3,072 on Repeated MNIST), the same 20 initial labels (2 per
class) in every run, epochs of 5,056 resampled points, early stopping with patience 3,
and the K and acquisition size in the family's name.
"""

from __future__ import annotations

import argparse
import ast
import csv
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "batchbald-runs.csv"
FOLDER = "laaos_results/paper"

#: Run families (file-name prefix in ``laaos_results/paper``) → (study, strategy label).
#: ``mnist``: plain MNIST, K = 100; ``rmnist2``: Repeated MNIST ×2 with noise, K = 10.
FAMILIES = {
    "mnist_independent_bald_k100_b1": ("mnist", "BALD (b=1)"),
    "mnist_independent_bald_k100_b10": ("mnist", "BALD"),
    "mnist_multibald_bald_k100_b10": ("mnist", "BatchBALD"),
    "repeated_mnist_w_noise2_independent_random_k10_b10": ("rmnist2", "RandomSampling"),
    "repeated_mnist_w_noise2_independent_bald_k10_b10": ("rmnist2", "BALD"),
    "repeated_mnist_w_noise2_multibald_bald_k10_b10": ("rmnist2", "BatchBALD"),
}
COLUMNS = ["study", "strategy", "seed", "round", "n_labelled", "accuracy", "nll",
           "acquisition_size", "n_samples", "family", "acquired", "acquired_labels"]


class _Checkout:
    """Read files of a work tree, or of a bare git directory at HEAD."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tree = (self.path / FOLDER).is_dir()
        self.commit = self._git("rev-parse", "HEAD").strip()

    def _git(self, *args: str) -> str:
        where = ["-C", str(self.path)] if self.tree else ["--git-dir", str(self.path)]
        return subprocess.run(["git", *where, *args], check=True, capture_output=True,
                              text=True).stdout

    def names(self) -> list[str]:
        listing = self._git("ls-tree", "--name-only", "HEAD", f"{FOLDER}/")
        return sorted(Path(line).name for line in listing.splitlines())

    def read(self, name: str) -> str:
        if self.tree:
            return (self.path / FOLDER / name).read_text()
        return self._git("show", f"HEAD:{FOLDER}/{name}")


def parse_run(text: str) -> tuple[dict, list[dict]]:
    """The arguments and the rounds of one run log, read as literals.

    Examples
    --------
    >>> log = ("store = {}\\nstore['args']={'seed': 3, 'available_sample_k': 10}\\n"
    ...        "store['iterations']=[]\\n"
    ...        "store['iterations'].append({'test_metrics': {'accuracy': 0.5, 'nll': 1.0}})\\n")
    >>> args, rounds = parse_run(log)
    >>> args["seed"], rounds[0]["test_metrics"]["accuracy"]
    (3, 0.5)
    """
    args, rounds = None, []
    for line in text.splitlines():
        if line.startswith("store['args']="):
            args = ast.literal_eval(line.split("=", 1)[1])
        elif line.startswith("store['iterations'].append("):
            rounds.append(ast.literal_eval(line[len("store['iterations'].append("):-1]))
    if args is None:
        raise ValueError("not a BatchBALD run log: no store['args'] line")
    return args, rounds


def family_of(name: str) -> str | None:
    """The family a log file belongs to (its name less ``_<seed>.py``), if one we use."""
    stem = name[:-len(".py")].rsplit("_", 1)[0]
    return stem if stem in FAMILIES else None


def mnist_labels():
    """Labels of MNIST's 60,000 training images in their original order.

    The offline ``mnist.pkl.gz`` (``skal_power.datasets.load_mnist``) splits them
    into its first 50,000 (train) and last 10,000 (validation), in order.
    """
    import numpy as np

    from skal_power.datasets import load_mnist

    return np.concatenate([load_mnist("train")[1], load_mnist("validation")[1]])


def extract(checkout: Path, labels=None) -> tuple[str, list[list]]:
    """The commit read and one row per round of every run of :data:`FAMILIES`.

    ``acquired`` holds the round's picks as indices of MNIST's training set (the
    logs' ``chosen_samples``; modulo 60,000 on Repeated MNIST), ``acquired_labels``
    their classes: the logged ``chosen_targets`` where a run kept them, else
    ``labels[index]`` (``labels``: MNIST's training labels; omitted: left empty).
    """
    source = _Checkout(checkout)
    rows = []
    for name in source.names():
        family = family_of(name)
        if family is None:
            continue
        study, strategy = FAMILIES[family]
        args, rounds = parse_run(source.read(name))
        size, initial = args["available_sample_k"], len(args["initial_samples"])
        for index, record in enumerate(rounds):
            # round i: the model trained on the initial labels and i acquired batches
            metrics = record["test_metrics"]
            chosen = record.get("chosen_samples", [])
            chosen = [int(i) % 60000 for i in (chosen if isinstance(chosen, list)
                                               else [chosen])]
            if "chosen_targets" in record:
                classes = [int(v) for v in record["chosen_targets"]]
            elif labels is not None:
                classes = [int(labels[i]) for i in chosen]
            else:
                classes = []
            rows.append([study, strategy, args["seed"], index, initial + index * size,
                         metrics["accuracy"], metrics["nll"], size,
                         args["num_inference_samples"], family,
                         " ".join(map(str, chosen)), " ".join(map(str, classes))])
    return source.commit, rows


def load_runs(study: str, *, max_labels: int | None = None, path: Path = OUTPUT):
    """The rows of one study (``"mnist"`` or ``"rmnist2"``) as a results frame."""
    import pandas as pd

    frame = pd.read_csv(path, comment="#", dtype={"acquired": str, "acquired_labels": str},
                        keep_default_na=False)
    frame = frame[frame["study"] == study]
    if max_labels is not None:
        frame = frame[frame["n_labelled"] <= max_labels]
    return frame.reset_index(drop=True)


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path,
                        help="a clone of github.com/BlackHC/BatchBALD (work tree or bare)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--no-labels", action="store_true",
                        help="leave acquired_labels empty where the logs lack them (no MNIST)")
    args = parser.parse_args(argv)
    commit, rows = extract(args.checkout, labels=None if args.no_labels else mnist_labels())
    with open(args.output, "w", newline="") as handle:
        handle.write(f"# BlackHC/BatchBALD {commit} {FOLDER}: made by "
                     "benchmarks/reference/batchbald_runs.py\n")
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    print(f"{len(rows)} rounds from commit {commit[:8]} -> {args.output}")
    return args.output


if __name__ == "__main__":
    main()
