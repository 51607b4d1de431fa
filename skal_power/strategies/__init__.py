"""User-facing query strategies (modAL ``query_strategy`` contract).

A strategy is one score × one selector: :class:`Acquisition` (single-point
scores) and :class:`EvaluationAcquisition` (EIG, EvaluationBALD) compose any
score with any selector of :mod:`skal_power.sampling`; the named classes are
fixed compositions. Greedy batch scores (BatchBALD, ...), Thompson batches and
random sampling are strategies of their own.
"""

from ._acquisition import Acquisition
from ._base import PosteriorStrategy, QueryStrategy, register_pool_type
from ._batch import BatchBALD, BatchEIG, BatchEPIG, BatchEvaluationBALD
from ._epig import EPIG, PowerEPIG, TargetAcquisition
from ._evaluation import EIG, EvaluationAcquisition, EvaluationBALD, PowerEIG, PowerEvaluationBALD
from ._random import RandomSampling
from ._single_point import (
    BALD,
    MaxEntropy,
    PowerBALD,
    PowerEntropy,
    SoftmaxBALD,
    SoftrankBALD,
    UniformTopBALD,
)
from ._thompson import ThompsonBALD

__all__ = [
    "Acquisition",
    "BALD",
    "BatchBALD",
    "BatchEIG",
    "BatchEPIG",
    "BatchEvaluationBALD",
    "EIG",
    "EPIG",
    "EvaluationAcquisition",
    "EvaluationBALD",
    "MaxEntropy",
    "PosteriorStrategy",
    "PowerBALD",
    "PowerEntropy",
    "PowerEIG",
    "PowerEPIG",
    "PowerEvaluationBALD",
    "QueryStrategy",
    "RandomSampling",
    "SoftmaxBALD",
    "SoftrankBALD",
    "TargetAcquisition",
    "ThompsonBALD",
    "UniformTopBALD",
    "register_pool_type",
]
