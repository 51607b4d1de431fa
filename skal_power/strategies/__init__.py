"""User-facing query strategies (modAL ``query_strategy`` contract)."""

from ._base import PosteriorStrategy, QueryStrategy
from ._batch import BatchBALD, BatchEIG, BatchEvaluationBALD
from ._evaluation import EIG, EvaluationBALD, PowerEIG, PowerEvaluationBALD
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
    "BALD",
    "BatchBALD",
    "BatchEIG",
    "BatchEvaluationBALD",
    "EIG",
    "EvaluationBALD",
    "MaxEntropy",
    "PosteriorStrategy",
    "PowerBALD",
    "PowerEntropy",
    "PowerEIG",
    "PowerEvaluationBALD",
    "QueryStrategy",
    "RandomSampling",
    "SoftmaxBALD",
    "SoftrankBALD",
    "ThompsonBALD",
    "UniformTopBALD",
]
