"""Greedy batch acquisition with exact or sampled joint entropies.

:func:`batch_bald`, :func:`batch_eig` and :func:`batch_evaluation_bald` take
``(N, K, C)`` log-probabilities (and, for the evaluation forms, those of the
pool-augmented model M′) and return ``(indices, scores)``; :func:`batch_epig`
takes those of the pool and of target points; :func:`batch_information`
scores a given batch by ``I[y_1..y_b; ω]``. They run on torch where it is
installed and on numpy (with the compiled kernel where built) without it, with
the same picks; ``device="cuda"`` needs torch.

With K posterior samples a batch's information is at most ``log K``; once a
greedy batch reaches it the batch is *spent*, and ``on_saturation`` says what
happens next (:class:`GreedyTrace` records it; see ``_saturation``).
"""

from ._epig import batch_epig
from ._greedy import (
    DEFAULT_N_CONFIGURATIONS,
    batch_bald,
    batch_eig,
    batch_evaluation_bald,
    default_max_memory,
)
from ._information import batch_information
from ._saturation import SATURATION_POLICIES, BatchSpentError, GreedyTrace

__all__ = ["BatchSpentError", "DEFAULT_N_CONFIGURATIONS", "GreedyTrace", "SATURATION_POLICIES",
           "batch_bald", "batch_eig",
           "batch_epig", "batch_evaluation_bald", "batch_information", "default_max_memory"]
