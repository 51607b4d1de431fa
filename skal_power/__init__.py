"""skal_power: information-theoretic and stochastic active-learning query strategies.

Strategies follow modAL's ``query_strategy(classifier, X_pool, n_instances)``
contract and return ``(indices, scores_of_selected)``.

The names below load on first use (PEP 562), so that ``import skal_power`` and
the ``skal-power`` console script's ``--help`` do not import scikit-learn and
SciPy; ``from skal_power import PowerBALD`` works as with any module.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import _dask_pools  # noqa: F401  (registers Dask pools; imports neither Dask nor strategies)
from ._version import __version__

_STRATEGIES = (
    "BALD",
    "BatchBALD",
    "BatchEIG",
    "BatchEPIG",
    "BatchEvaluationBALD",
    "EIG",
    "EPIG",
    "EvaluationBALD",
    "MaxEntropy",
    "PowerBALD",
    "PowerEIG",
    "PowerEPIG",
    "PowerEntropy",
    "PowerEvaluationBALD",
    "QueryStrategy",
    "RandomSampling",
    "SoftmaxBALD",
    "SoftrankBALD",
    "ThompsonBALD",
    "UniformTopBALD",
)
#: Public name -> the module that defines it.
_LAZY = {**{name: "skal_power.strategies" for name in _STRATEGIES},
         "active_kernel": "skal_power._show_versions",
         "show_versions": "skal_power._show_versions"}

__all__ = [*_STRATEGIES, "__version__", "active_kernel", "show_versions"]


def __getattr__(name: str) -> Any:
    """Load a public name, or a submodule, on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if not name.startswith("__"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
