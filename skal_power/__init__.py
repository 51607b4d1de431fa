"""skal_power: information-theoretic and stochastic active-learning query strategies.

Strategies follow modAL's ``query_strategy(classifier, X_pool, n_instances)``
contract and return ``(indices, scores_of_selected)``.
"""

from .strategies import (
    BALD,
    BatchBALD,
    BatchEIG,
    BatchEPIG,
    BatchEvaluationBALD,
    EIG,
    EPIG,
    EvaluationBALD,
    MaxEntropy,
    PowerBALD,
    PowerEIG,
    PowerEPIG,
    PowerEntropy,
    PowerEvaluationBALD,
    QueryStrategy,
    RandomSampling,
    SoftmaxBALD,
    SoftrankBALD,
    ThompsonBALD,
    UniformTopBALD,
)

from . import distributed as _distributed  # noqa: F401  (registers Dask pools)
from ._show_versions import active_kernel, show_versions

__version__ = "0.1.0"

__all__ = [
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
    "__version__",
    "active_kernel",
    "show_versions",
]
