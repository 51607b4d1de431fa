"""Which machine computed a study's rows: one JSON line per run in ``*.sessions.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["machine_record", "record_session", "sessions_path", "source_revision"]


def sessions_path(output: Any) -> Path:
    """Where ``run_experiment`` records the machine of each run of ``output``.

    Examples
    --------
    >>> sessions_path("results/demo.csv").as_posix()
    'results/demo.sessions.jsonl'
    """
    output = Path(output)
    return output.with_name(output.stem + ".sessions.jsonl")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def source_revision(path: Any = None) -> str | None:
    """The git commit of the skal_power source a run computes with, or None.

    ``<commit>-dirty`` when tracked files under ``path`` differ from that commit
    (a study's own results files, elsewhere in the checkout, do not count);
    None when ``path`` is not in a git checkout (an installed wheel) or git is
    missing. ``path`` defaults to the package's folder.

    Examples
    --------
    >>> import tempfile
    >>> source_revision(tempfile.gettempdir()) is None
    True
    """
    import subprocess

    folder = Path(__file__).resolve().parents[1] if path is None else Path(path)

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True,
                                  text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return None
    changes = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    return commit + ("-dirty" if changes else "")


def machine_record() -> dict[str, Any]:
    """The machine and library versions a run computes with (for ``*.sessions.jsonl``).

    Floating-point results of training can differ between CPUs (libraries pick
    kernels by instruction set) and between library versions, so a study that
    resumes on another machine can hold rows of two numerical environments.
    Recording each run's environment makes that visible; ``source`` is the git
    commit of the skal_power code itself (:func:`source_revision`).

    Examples
    --------
    >>> record = machine_record()
    >>> sorted(record)[:3], "numpy" in record["versions"]
    (['cpu', 'cpu_capability', 'machine'], True)
    """
    import platform
    from importlib import metadata

    versions = {}
    for name in ("skal_power", "numpy", "scipy", "scikit-learn", "torch", "skorch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    capability = None
    if "torch" in versions:
        import torch

        capability = torch.backends.cpu.get_cpu_capability()
    return {"cpu": _cpu_name(), "cpu_capability": capability, "machine": platform.machine(),
            "python": platform.python_version(), "source": source_revision(),
            "versions": versions}


def record_session(output: Any, rows_before: int, pending: int, n_jobs: int) -> None:
    """Append this run's machine, with where the results file stood, to its sessions file."""
    import datetime

    record = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "rows_before": rows_before, "pending_trials": pending,
        "n_jobs": n_jobs, **machine_record()}
    with open(sessions_path(output), "a") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
