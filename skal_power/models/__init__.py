"""Bayesian models: skorch networks with consistent Monte-Carlo dropout.

:class:`MCDropoutClassifier` gives sampled predictions ``(N, K, C)`` through
``predict_proba_samples``/``predict_log_proba_samples``, which
:func:`skal_power.adapters.sampled_log_proba` picks up. :class:`MLP` and
:class:`MNISTConvNet` are ready modules; any module with ``torch.nn.Dropout``
layers works too. Needs ``torch`` and ``skorch`` (``pip install skal_power[torch]``).
"""

from ._losses import SoftTargetKLLoss, SoftTargetNLLKLLoss
from ._masks import ConsistentDropout, dropout_layers
from ._mc_dropout import MCDropoutClassifier
from ._modules import MLP, MNISTConvNet

__all__ = [
    "ConsistentDropout",
    "MCDropoutClassifier",
    "MLP",
    "MNISTConvNet",
    "SoftTargetKLLoss",
    "SoftTargetNLLKLLoss",
    "dropout_layers",
]
