"""User-facing query strategies (modAL ``query_strategy`` contract).

Every named strategy is a flat class with its own keyword-only ``__init__``
over one of three bases: :class:`QueryStrategy` (the modAL call contract),
:class:`PosteriorStrategy` (scores from sampled predictions, then a selector)
and :class:`SecondModelStrategy` (scores that compare M with the
pool-augmented M′). A strategy names its parts with hooks: the score it uses
(``_score_log_probs``, or ``_score_part`` for one model's part) and the
selector it draws with (``get_selector``). :class:`Acquisition`,
:class:`TargetAcquisition` and :class:`EvaluationAcquisition` compose any score
of their kind with any selector of :mod:`skal_power.sampling`.
"""

from ._base import PosteriorStrategy, QueryStrategy, SecondModelStrategy, register_pool_type
from ._batch import BatchBALD, BatchEIG, BatchEPIG, BatchEvaluationBALD
from ._epig import EPIG, PowerEPIG, TargetAcquisition
from ._evaluation import EIG, EvaluationAcquisition, EvaluationBALD, PowerEIG, PowerEvaluationBALD
from ._random import RandomSampling
from ._single_point import (
    BALD,
    Acquisition,
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
    "SecondModelStrategy",
    "SoftmaxBALD",
    "SoftrankBALD",
    "TargetAcquisition",
    "ThompsonBALD",
    "UniformTopBALD",
    "register_pool_type",
]
