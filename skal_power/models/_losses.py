"""Soft-target KL losses for distillation (see :func:`skal_power.distill.distill`)."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["SoftTargetKLLoss", "SoftTargetNLLKLLoss", "soft_criterion_for"]


def _as_distribution(target: torch.Tensor, n_classes: int, dtype) -> torch.Tensor:
    if target.dim() == 1:  # hard class indices
        return torch.nn.functional.one_hot(target.long(), n_classes).to(dtype)
    return target.to(dtype)


def _kl(target: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    target = _as_distribution(target, log_q.shape[-1], log_q.dtype)
    # KL(t ‖ q) = Σ t log t − t log q, with 0 log 0 = 0 and 0 · log 0 = 0.
    cross = torch.where(target > 0, target * log_q, torch.zeros_like(log_q))
    return (torch.xlogy(target, target) - cross).sum(-1).mean()


class SoftTargetKLLoss(torch.nn.CrossEntropyLoss):
    """``mean_n KL(t_n ‖ softmax(logits_n))`` for probability rows (or class indices) t.

    Subclasses ``CrossEntropyLoss`` so skorch still turns logits into
    probabilities in ``predict_proba``. Class weights and label smoothing are
    not used.

    Examples
    --------
    >>> import torch
    >>> loss = SoftTargetKLLoss()
    >>> logits = torch.log(torch.tensor([[0.25, 0.75]]))
    >>> round(loss(logits, torch.tensor([[0.25, 0.75]])).item(), 6)
    0.0
    """

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _kl(target, torch.log_softmax(input, dim=-1))


class SoftTargetNLLKLLoss(torch.nn.NLLLoss):
    """The same KL for modules that output probabilities (skorch passes their log).

    Examples
    --------
    >>> import torch
    >>> probs = torch.tensor([[0.5, 0.5]])
    >>> round(SoftTargetNLLKLLoss()(torch.log(probs), torch.tensor([[1.0, 0.0]])).item(), 4)
    0.6931
    """

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _kl(target, input)


def soft_criterion_for(criterion: Any) -> type:
    """The soft-target loss matching a skorch net's criterion (class or instance).

    Examples
    --------
    >>> import torch
    >>> soft_criterion_for(torch.nn.CrossEntropyLoss).__name__
    'SoftTargetKLLoss'
    """
    kind = criterion if isinstance(criterion, type) else type(criterion)
    if issubclass(kind, torch.nn.CrossEntropyLoss):
        return SoftTargetKLLoss
    if issubclass(kind, torch.nn.NLLLoss):
        return SoftTargetNLLKLLoss
    raise TypeError(
        f"distill supports skorch nets trained with CrossEntropyLoss (logits) or NLLLoss "
        f"(probabilities); got criterion {kind.__name__}."
    )
