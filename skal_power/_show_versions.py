"""``show_versions``: what am I running? For bug reports and install checks."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from typing import Any, TextIO

__all__ = ["active_kernel", "show_versions", "versions"]

# distribution name -> label. Versions come from the installed metadata: nothing is
# imported, so show_versions works (and stays fast) whatever is broken.
_DEPENDENCIES = {
    "numpy": "numpy", "scipy": "scipy", "scikit-learn": "sklearn", "pandas": "pandas",
    "joblib": "joblib", "threadpoolctl": "threadpoolctl", "torch": "torch",
    "skorch": "skorch", "dask": "dask", "distributed": "distributed",
    "modAL-python": "modAL", "matplotlib": "matplotlib", "tqdm": "tqdm",
}


def active_kernel() -> str:
    """Name of the scoring kernel in use: ``"native"``, ``"torch"`` or ``"numpy"``.

    ``native`` is the compiled extension built at install time, the default
    where it exists; ``SKAL_POWER_BACKEND`` forces one. :func:`show_versions`
    also says why this one was chosen.

    Examples
    --------
    >>> import skal_power
    >>> skal_power.active_kernel() in ("native", "torch", "numpy")
    True
    """
    from ._kernels import active_kernel as kernel_and_reason

    return kernel_and_reason()[0]


def versions() -> dict[str, dict[str, Any]]:
    """The facts that :func:`show_versions` prints, as nested dictionaries.

    Keys ``"system"``, ``"dependencies"`` (installed version or ``None``),
    ``"kernel"`` (``name`` and ``reason``) and ``"threads"``
    (:func:`skal_power.threads.thread_settings`).

    Examples
    --------
    >>> from skal_power._show_versions import versions
    >>> info = versions()
    >>> sorted(info)
    ['dependencies', 'kernel', 'system', 'threads']
    >>> info["dependencies"]["numpy"] is not None
    True
    """
    from ._version import __version__
    from ._kernels import active_kernel as kernel_and_reason
    from .threads import thread_settings

    dependencies: dict[str, Any] = {}
    for distribution, label in _DEPENDENCIES.items():
        try:
            dependencies[label] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            dependencies[label] = None
    name, reason = kernel_and_reason()
    return {
        "system": {"skal_power": __version__, "python": sys.version.replace("\n", " "),
                   "executable": sys.executable, "machine": platform.platform()},
        "dependencies": dependencies,
        "kernel": {"name": name, "reason": reason},
        "threads": thread_settings(),
    }


def show_versions(file: TextIO | None = None) -> None:
    """Print skal_power's version, its dependencies, the active kernel and thread settings.

    Paste its output into bug reports. The command line equivalent is
    ``python -c "import skal_power; skal_power.show_versions()"``.

    Parameters
    ----------
    file : file-like, optional
        Where to write (default ``sys.stdout``).

    Examples
    --------
    >>> import io, skal_power
    >>> out = io.StringIO()
    >>> skal_power.show_versions(file=out)
    >>> "scoring kernel" in out.getvalue() and "Threads" in out.getvalue()
    True
    """
    file = sys.stdout if file is None else file
    info = versions()
    sections = [("System", info["system"]),
                ("Dependencies", {k: (v if v is not None else "not installed")
                                  for k, v in info["dependencies"].items()}),
                ("Scoring kernel", {"scoring kernel": info["kernel"]["name"],
                                    "why": info["kernel"]["reason"]}),
                ("Threads (per library, now)", {k: ("not imported" if v is None else v)
                                                for k, v in info["threads"].items()})]
    for title, values in sections:
        file.write(f"\n{title}:\n")
        width = max(len(str(key)) for key in values)
        for key, value in values.items():
            file.write(f"{str(key):>{width}}: {value}\n")
