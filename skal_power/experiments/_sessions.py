"""Which machine computed a study's rows: one JSON line per run in ``*.sessions.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["machine_record", "record_session", "sessions_path"]


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


def machine_record() -> dict[str, Any]:
    """The machine and library versions a run computes with (for ``*.sessions.jsonl``).

    Floating-point results of training can differ between CPUs (libraries pick
    kernels by instruction set) and between library versions, so a study that
    resumes on another machine can hold rows of two numerical environments.
    Recording each run's environment makes that visible.

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
            "python": platform.python_version(), "versions": versions}


def record_session(output: Any, rows_before: int, pending: int, n_jobs: int) -> None:
    """Append this run's machine, with where the results file stood, to its sessions file."""
    import datetime

    record = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "rows_before": rows_before, "pending_trials": pending,
        "n_jobs": n_jobs, **machine_record()}
    with open(sessions_path(output), "a") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
