"""Bayesian models: skorch networks with consistent Monte-Carlo dropout.

:class:`MCDropoutClassifier` gives sampled predictions ``(N, K, C)`` through
``predict_proba_samples``/``predict_log_proba_samples``, which
:func:`skal_power.adapters.sampled_log_proba` picks up. :class:`MLP` and
:class:`MNISTConvNet` are ready modules; any module with ``torch.nn.Dropout``
layers works too. :class:`ResampledLoader` and :class:`ValidationSet` give the
training schedule of the BatchBALD experiments (resampled epochs, early stopping
on a validation set) the skorch way. Needs ``torch`` and ``skorch``, the ``torch``
extra: ``pip install ".[torch]"`` in a clone of the repository (see the README).
"""

try:
    import skorch as _skorch  # noqa: F401  (imports torch too)
except ImportError as _error:
    raise ImportError(
        f"skal_power.models needs torch and skorch ({_error}). They come with skal_power's "
        "'torch' extra: pip install \".[torch]\" in a clone of the skal_power repository "
        "(or pip install \"skal_power-<version>.whl[torch]\" for a built wheel), or "
        "pip install torch \"skorch>=1.0\" into this environment.",
        name=_error.name,  # the missing module, as ModuleNotFoundError says
    ) from _error

from ._losses import SoftTargetKLLoss, SoftTargetNLLKLLoss
from ._masks import ConsistentDropout, dropout_layers
from ._mc_dropout import MCDropoutClassifier
from ._training import MissingClassesWarning
from ._modules import MLP, MaxPool2x2, MNISTConvNet
from ._training import ResampledLoader, ValidationSet

__all__ = [
    "ConsistentDropout",
    "MCDropoutClassifier",
    "MLP",
    "MNISTConvNet",
    "MaxPool2x2",
    "MissingClassesWarning",
    "ResampledLoader",
    "SoftTargetKLLoss",
    "SoftTargetNLLKLLoss",
    "ValidationSet",
    "dropout_layers",
]
