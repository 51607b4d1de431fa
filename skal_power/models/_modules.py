"""Ready torch modules with dropout for :class:`~skal_power.models.MCDropoutClassifier`.

Both return logits (use ``CrossEntropyLoss``). ``n_features`` and ``n_classes``
are filled in from the training data by the classifier when left unset.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

__all__ = ["MLP", "MaxPool2x2", "MNISTConvNet"]


def _require(value, name: str, module: str) -> int:
    if value is None:
        raise ValueError(
            f"{module} needs {name}; MCDropoutClassifier sets it from the data in fit, "
            f"or pass module__{name}=..."
        )
    return int(value)


class MLP(nn.Module):
    """Multi-layer perceptron: ``[Linear, ReLU, Dropout] * len(hidden_units)``, then Linear.

    Parameters
    ----------
    n_features : int
        Input size (set from X by the classifier).
    n_classes : int
        Number of output logits (set from y by the classifier).
    hidden_units : sequence of int, default=(512, 256)
        Width of each hidden layer.
    dropout : float, default=0.5
        Dropout probability after every hidden layer.

    Examples
    --------
    >>> import torch
    >>> MLP(n_features=4, n_classes=3, hidden_units=(8,))(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    #: A plain chain: sampling may run the layers before the first dropout once per row.
    mc_dropout_expand_first = True

    def __init__(self, n_features: int | None = None, n_classes: int | None = None,
                 hidden_units: Sequence[int] = (512, 256), dropout: float = 0.5) -> None:
        super().__init__()
        width = _require(n_features, "n_features", "MLP")
        layers: list[nn.Module] = []
        for units in hidden_units:
            layers += [nn.Linear(width, int(units)), nn.ReLU(), nn.Dropout(dropout)]
            width = int(units)
        layers.append(nn.Linear(width, _require(n_classes, "n_classes", "MLP")))
        self.layers = nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.layers(X.reshape(X.shape[0], -1))


class MaxPool2x2(nn.MaxPool2d):
    """``nn.MaxPool2d(2)`` whose forward pass without gradients avoids ``max_pool2d``.

    On CPU, torch's ``max_pool2d`` kernel is several times slower than taking the
    maximum of the four strided views of each 2×2 window. The maximum of the same
    four values is the same value, so predictions are bit for bit those of
    ``nn.MaxPool2d(2)`` (an odd last row or column is dropped, as there). When a
    gradient is needed, training runs torch's kernel, so fits are unchanged too.

    Examples
    --------
    >>> import torch
    >>> x = torch.randn(2, 3, 7, 6)
    >>> with torch.no_grad():
    ...     torch.equal(MaxPool2x2()(x), nn.MaxPool2d(2)(x))
    True
    """

    def __init__(self) -> None:
        super().__init__(2)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and X.requires_grad:
            return super().forward(X)
        rows, cols = X.shape[-2] // 2 * 2, X.shape[-1] // 2 * 2
        top = torch.maximum(X[..., 0:rows:2, 0:cols:2], X[..., 0:rows:2, 1:cols:2])
        bottom = torch.maximum(X[..., 1:rows:2, 0:cols:2], X[..., 1:rows:2, 1:cols:2])
        return torch.maximum(top, bottom)


class MNISTConvNet(nn.Module):
    """The small CNN of MC-dropout MNIST experiments (BatchBALD, Repeated MNIST).

    ``conv(32, k) → max-pool 2 → ReLU → Dropout2d``, ``conv(64, k) → max-pool 2
    → ReLU → Dropout2d``, ``Linear(128) → ReLU → Dropout``, ``Linear(n_classes)``.
    Flat rows (e.g. 784 pixels) are reshaped to ``input_shape``.

    Parameters
    ----------
    n_classes : int
        Number of output logits (set from y by the classifier).
    input_shape : tuple of int, default=(1, 28, 28)
        ``(channels, height, width)`` of one image.
    kernel_size : int, default=5
    dropout : float, default=0.5
        Dropout probability of every dropout layer.

    Examples
    --------
    >>> import torch
    >>> MNISTConvNet(n_classes=10)(torch.zeros(2, 784)).shape
    torch.Size([2, 10])
    """

    #: A plain chain: sampling may run the layers before the first dropout once per row.
    mc_dropout_expand_first = True

    def __init__(self, n_classes: int | None = None, input_shape: Sequence[int] = (1, 28, 28),
                 kernel_size: int = 5, dropout: float = 0.5) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.features = nn.Sequential(
            nn.Conv2d(self.input_shape[0], 32, kernel_size), MaxPool2x2(), nn.ReLU(),
            nn.Dropout2d(dropout),
            nn.Conv2d(32, 64, kernel_size), MaxPool2x2(), nn.ReLU(), nn.Dropout2d(dropout),
        )
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, *self.input_shape)).numel()
        self.head = nn.Sequential(
            nn.Linear(n_flat, 128), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(128, _require(n_classes, "n_classes", "MNISTConvNet")),
        )

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        images = X.reshape(X.shape[0], *self.input_shape)
        return self.head(self.features(images).flatten(1))
