"""Greedy batch acquisition with exact or sampled joint entropies.

:func:`batch_bald`, :func:`batch_eig` and :func:`batch_evaluation_bald` take
``(N, K, C)`` log-probabilities (and, for the evaluation forms, those of the
pool-augmented model M′) and return ``(indices, scores)``. They need torch.
"""

from ._greedy import batch_bald, batch_eig, batch_evaluation_bald

__all__ = ["batch_bald", "batch_eig", "batch_evaluation_bald"]
