"""Ready torch modules with dropout for :class:`~skal_power.models.MCDropoutClassifier`.

Both return logits (use ``CrossEntropyLoss``). ``n_features`` and ``n_classes``
are filled in from the training data by the classifier when left unset.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

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
    Flat rows (e.g. 784 pixels) are reshaped to ``input_shape``. MC-dropout
    samples run the second convolution once per row (:meth:`forward_samples`).

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
    #: Floats of the largest intermediate table of :meth:`forward_samples` (64 MiB).
    sample_table_floats = 1 << 24
    #: Fewest samples for which :meth:`forward_samples` beats the stacked forward pass
    #: (it reads a table 32 times a row's output once per row; measured on one CPU thread).
    samples_per_channel_from = 8

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

    @property
    def forward_samples_from(self) -> int | None:
        """From how many samples the classifier calls :meth:`forward_samples`.

        None (never) when the network is no longer the one :meth:`forward_samples`
        was written for: a subclass with its own ``forward``, or layers
        replaced or changed (other types, strides, padding, a dropout with p = 0).
        Then sampling stacks the rows through ``forward``, which is always right.
        """
        return self.samples_per_channel_from if self._is_plain() else None

    def _is_plain(self) -> bool:
        if type(self).forward is not MNISTConvNet.forward or len(self.features) != 8 \
                or len(self.head) != 4:
            return False
        kinds = (nn.Conv2d, nn.MaxPool2d, nn.ReLU, nn.Dropout2d) * 2 \
            + (nn.Linear, nn.ReLU, nn.Dropout, nn.Linear)
        layers = list(self.features) + list(self.head)
        if any(type(layer) is not kind and not (kind is nn.MaxPool2d and type(layer) is
                                                 MaxPool2x2) for layer, kind in zip(layers, kinds)):
            return False
        conv = self.features[4]
        pools = (self.features[1], self.features[5])
        return (conv.stride == (1, 1) and conv.padding == (0, 0) and conv.dilation == (1, 1)
                and conv.groups == 1 and conv.bias is not None
                and all(pool.kernel_size in (2, (2, 2)) and pool.stride in (2, (2, 2))
                        and pool.padding in (0, (0, 0)) and pool.dilation in (1, (1, 1))
                        and not pool.ceil_mode for pool in pools)
                and all(layer.p > 0 for layer in (self.features[3], self.features[7],
                                                   self.head[2])))

    @torch.no_grad()
    def forward_samples(self, X: torch.Tensor,
                        masks: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """Logits of B rows under S dropout masks, shape ``(S, B, n_classes)``.

        What ``forward`` computes on the rows stacked S times with mask s on
        sample s, but the second convolution, about 85% of the work, runs once
        per row rather than once per row and sample. The first dropout drops
        whole channels of the second convolution's input and one mask serves
        every row, so that convolution is a sum over input channels
        ``Σ_c m_sc (W_c ⋆ h_c)``: the per-channel terms ``W_c ⋆ h_c`` are
        computed once per row and each sample only weights them by its mask (a
        product with an ``(S, channels)`` matrix). The values equal the stacked
        forward pass up to float rounding (the sum runs in another order).

        For predictions only: it runs without gradients
        (:meth:`~skal_power.models.MCDropoutClassifier.predict_log_proba_samples`
        calls it from ``forward_samples_from`` samples on, below which the
        stacked pass is faster). The intermediate tables stay under
        ``sample_table_floats`` floats, whatever B and S are.

        Parameters
        ----------
        X : tensor of shape (B, ...)
            Rows, reshaped to ``input_shape``.
        masks : callable
            ``masks(dropout_layer, output)`` returns that layer's S masks for
            the rows' ``output``, shape ``(S, *mask_shape)``
            (:meth:`~skal_power.models.ConsistentDropout.selected`).

        Examples
        --------
        >>> import torch
        >>> from skal_power.models import ConsistentDropout, dropout_layers
        >>> net = MNISTConvNet(n_classes=3).eval()
        >>> X = torch.randn(4, 784)
        >>> masks = ConsistentDropout(dropout_layers(net), seed=0, n_samples=2)
        >>> masks.select(0, 2)
        >>> per_channel = net.forward_samples(X, masks.selected)
        >>> with masks, torch.no_grad():  # the same masks on the rows stacked twice
        ...     stacked = net(X.repeat(2, 1)).view(2, 4, 3)
        >>> per_channel.shape, bool(torch.allclose(per_channel, stacked, atol=1e-5))
        (torch.Size([2, 4, 3]), True)
        """
        conv1, pool1, relu1, drop1, conv2, pool2, relu2, drop2 = self.features
        hidden = relu1(pool1(conv1(X.reshape(X.shape[0], *self.input_shape))))
        mask1 = masks(drop1, hidden)  # (S, channels, 1, 1)
        n_masks, n_rows = mask1.shape[0], hidden.shape[0]
        out_shape = [size - k + 1 for size, k in zip(hidden.shape[2:], conv2.kernel_size)]
        row_floats = conv2.out_channels * out_shape[0] * out_shape[1]
        step = max(1, self.sample_table_floats // (row_floats * max(n_masks, conv2.in_channels)))
        logits = []
        for start in range(0, n_rows, step):
            part = self._second_conv_per_sample(hidden[start:start + step], mask1, conv2,
                                                out_shape)
            part = relu2(pool2(part))
            part = part.view(n_masks, -1, *part.shape[1:]) * masks(drop2, part)[:, None]
            part = self.head[1](self.head[0](part.flatten(2)))  # (S, rows, hidden)
            part = part * masks(self.head[2], part[0])[:, None]
            logits.append(self.head[3](part))
        return torch.cat(logits, dim=1)

    @staticmethod
    def _second_conv_per_sample(hidden: torch.Tensor, mask: torch.Tensor, conv: nn.Conv2d,
                                out_shape: list[int]) -> torch.Tensor:
        """``conv(mask_s * hidden)`` for every mask s, rows stacked sample-major.

        The result is laid out channels last (a permuted view), which spares a
        transposing copy of the largest table; the layers after it do not mind.
        """
        n_rows, channels = hidden.shape[:2]
        taps = conv.kernel_size[0] * conv.kernel_size[1]
        patches = F.unfold(hidden, conv.kernel_size)  # (B, channels * taps, positions)
        patches = patches.view(n_rows, channels, taps, -1).permute(1, 0, 3, 2)
        weight = conv.weight.reshape(conv.out_channels, channels, taps).permute(1, 2, 0)
        # per_channel[c] = (rows · positions, out_channels); a last "channel" holds the bias
        per_channel = torch.empty(channels + 1, n_rows * patches.shape[2], conv.out_channels,
                                  dtype=hidden.dtype, device=hidden.device)
        torch.bmm(patches.reshape(channels, -1, taps), weight, out=per_channel[:channels])
        per_channel[channels] = conv.bias
        mask = torch.cat([mask.reshape(-1, channels), mask.new_ones(mask.shape[0], 1)], dim=1)
        mixed = mask @ per_channel.view(channels + 1, -1)  # (S, rows · positions · out)
        return mixed.view(-1, *out_shape, conv.out_channels).permute(0, 3, 1, 2)
