"""Thread policy: one rule for BLAS, OpenMP, torch and skal_power's own kernels.

Numerical libraries each start one thread per core by default. Nested inside
parallel workers (joblib trial processes, Dask tasks, pytest workers) that
oversubscribes the machine: on 2 cores a small ``LogisticRegression`` fit ran
13× slower with default threads than with one. skal_power follows one rule:

* **Where skal_power starts workers, each worker runs one thread** of every
  library: the experiment runner's trials (:func:`skal_power.experiments.run_experiment`,
  so that results also do not depend on ``n_jobs``) and the partition tasks of a
  Dask query on a local scheduler (:mod:`skal_power.distributed`; the workers
  of a ``dask.distributed`` cluster already start with one BLAS thread).
* **Everything else runs in the caller's process with the caller's settings**:
  one query, a distillation inside it, a fit. Wrap such work in
  :func:`limit_threads` to cap it, or set ``OMP_NUM_THREADS``,
  ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` (and ``SKAL_POWER_NUM_THREADS``
  for skal_power's kernels) before Python starts.

:func:`thread_settings` reports what is in force; :func:`skal_power.show_versions`
prints it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Any, Iterator

__all__ = ["available_cpus", "kernel_threads", "limit_threads", "thread_settings",
           "threads_per_worker"]

_lock = threading.Lock()
# Process-wide cap on skal_power's kernel thread pools, set by limit_threads.
_kernel_cap: list[int] = []


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one).

    Examples
    --------
    >>> available_cpus() >= 1
    True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def threads_per_worker(n_workers: int) -> int:
    """Threads each of ``n_workers`` parallel workers may use without oversubscribing.

    Parameters
    ----------
    n_workers : int
        Number of workers that run at the same time (>= 1).

    Returns
    -------
    int
        ``max(1, available_cpus() // n_workers)``.

    Examples
    --------
    >>> threads_per_worker(10**6)
    1
    >>> threads_per_worker(1) == available_cpus()
    True
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1; got {n_workers!r}.")
    return max(1, available_cpus() // n_workers)


def kernel_thread_cap() -> int | None:
    """The innermost :func:`limit_threads` cap in force, or ``None`` (private helper)."""
    return _kernel_cap[-1] if _kernel_cap else None


@contextlib.contextmanager
def limit_threads(n_threads: int = 1) -> Iterator[None]:
    """Cap BLAS/OpenMP (threadpoolctl), torch and skal_power kernel threads in a block.

    The previous settings are restored on exit. The caps are process-wide (the
    libraries offer nothing finer), so use this around whole units of work, not
    inside code that other threads run at the same time.

    Parameters
    ----------
    n_threads : int, default=1
        Threads each library may use inside the block (>= 1).

    Examples
    --------
    >>> from skal_power.threads import limit_threads, thread_settings
    >>> with limit_threads(1):
    ...     thread_settings()["skal_power kernels"]
    1
    """
    if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
        raise ValueError(f"n_threads must be an integer >= 1; got {n_threads!r}.")
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    torch_before = torch.get_num_threads() if torch is not None else None
    with _lock:
        _kernel_cap.append(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            if torch is not None:
                torch.set_num_threads(n_threads)
            yield
    finally:
        with _lock:
            _kernel_cap.pop()
        if torch is not None and torch_before is not None:
            torch.set_num_threads(torch_before)


def thread_settings() -> dict[str, Any]:
    """Threads each library would use now, as a dictionary.

    Keys: ``"cpus"`` (available to this process), ``"skal_power kernels"``,
    ``"torch"`` (``None`` if torch is not imported), one entry per BLAS/OpenMP
    library that threadpoolctl finds loaded (``"<user_api> <internal_api>"``),
    and the thread environment variables that are set.

    Examples
    --------
    >>> settings = thread_settings()
    >>> settings["cpus"] >= 1 and settings["skal_power kernels"] >= 1
    True
    """
    from threadpoolctl import threadpool_info


    torch = sys.modules.get("torch")
    settings: dict[str, Any] = {
        "cpus": available_cpus(),
        "skal_power kernels": kernel_threads(),
        "torch": torch.get_num_threads() if torch is not None else None,
    }
    for info in threadpool_info():
        key = f"{info.get('user_api')} {info.get('internal_api')}"
        settings[key] = max(settings.get(key, 0), int(info.get("num_threads", 0)))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "SKAL_POWER_NUM_THREADS"):
        if os.environ.get(name):
            settings[name] = os.environ[name]
    return settings


def kernel_threads() -> int:
    """Threads for the native and numpy kernels.

    The cap of an enclosing :func:`skal_power.threads.limit_threads`, else
    ``SKAL_POWER_NUM_THREADS``, else one per CPU this process may run on.

    Examples
    --------
    >>> kernel_threads() >= 1
    True
    """
    cap = kernel_thread_cap()
    if cap is not None:
        return cap
    value = os.environ.get("SKAL_POWER_NUM_THREADS", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"SKAL_POWER_NUM_THREADS must be an integer >= 1; got {value!r}.")
        return int(value)
    return available_cpus()
