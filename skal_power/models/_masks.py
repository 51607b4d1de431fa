"""Consistent MC-dropout masks: mask k of every dropout layer is drawn once.

:class:`ConsistentDropout` patches the ``torch.nn.Dropout`` layers of any module
for the duration of a ``with`` block. The module runs in eval mode (dropout
off), and a forward hook on each dropout layer multiplies its output by a
fixed mask. Mask ``k`` of layer ``l`` is drawn from a generator seeded with
``(seed, l, k)`` alone and has the shape of *one row* (broadcast over the batch
dimension), so the prediction for a row never depends on which other rows
share its mini-batch.

Several samples are evaluated in one forward pass by stacking: the input batch
of ``B`` rows is repeated ``S`` times (sample-major, ``S * B`` rows) and each
hook views its activations as ``(S, B, ...)``, multiplying slice ``s`` by mask
``k0 + s``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

__all__ = ["ConsistentDropout", "dropout_layers", "n_rows", "repeat_rows"]

# Channel-wise dropout: one Bernoulli draw per channel, shared over the spatial dims.
_CHANNEL_DROPOUTS = (torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d)
_UNSUPPORTED_DROPOUTS = (torch.nn.AlphaDropout, torch.nn.FeatureAlphaDropout)


def dropout_layers(module: torch.nn.Module) -> list[torch.nn.Module]:
    """The dropout layers of ``module`` with ``p > 0``, in registration order.

    Raises
    ------
    TypeError
        For alpha dropout, whose noise is not a multiplicative mask.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.5),
    ...                           torch.nn.Dropout(0.0))
    >>> len(dropout_layers(net))
    1
    """
    layers = []
    for name, layer in module.named_modules():
        if isinstance(layer, _UNSUPPORTED_DROPOUTS):
            raise TypeError(
                f"Layer {name!r} is {type(layer).__name__}; consistent MC dropout supports "
                "torch.nn.Dropout and Dropout1d/2d/3d only."
            )
        if isinstance(layer, torch.nn.modules.dropout._DropoutNd) and layer.p > 0:
            layers.append(layer)
    return layers


def _sample_seed(seed: int, layer: int, sample: int) -> int:
    state = np.random.SeedSequence([seed, layer, sample]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


class ConsistentDropout:
    """Context manager that applies fixed, seeded dropout masks to a module.

    Parameters
    ----------
    layers : sequence of torch.nn.Module
        Dropout layers (see :func:`dropout_layers`).
    seed : int
        Seed of all masks.
    n_samples : int
        Number K of masks per layer.
    expand_first : bool, default=False
        Feed the module an *unstacked* batch of B rows and let the first dropout
        layer that runs stack it into ``S * B`` rows: the layers before it run
        once per row instead of once per sample. Only valid for modules that
        use nothing computed before that layer after it (e.g. a plain chain).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Dropout(0.5)).eval()
    >>> x = torch.ones(2, 4)
    >>> with ConsistentDropout(dropout_layers(net), seed=0, n_samples=3) as masks:
    ...     masks.select(0, 3)
    ...     out = net(x.repeat(3, 1)).view(3, 2, 4)
    >>> bool((out[:, 0] == out[:, 1]).all())  # same mask for every row
    True
    """

    def __init__(self, layers: Sequence[torch.nn.Module], *, seed: int, n_samples: int,
                 expand_first: bool = False) -> None:
        self.layers = list(layers)
        self.seed = int(seed)
        self.n_samples = int(n_samples)
        self.expand_first = bool(expand_first)
        self._expanded = False
        self._cache: dict[tuple, torch.Tensor] = {}
        self._handles: list = []
        self._start, self._stop = 0, 1

    def select(self, start: int, stop: int) -> None:
        """Use masks ``start:stop`` in the next forward pass (stacked sample-major)."""
        self._start, self._stop = int(start), int(stop)
        self._expanded = False

    def selected(self, layer: torch.nn.Module, like: torch.Tensor) -> torch.Tensor:
        """The selected masks of one dropout layer, shape ``(S, *mask_shape)``.

        ``like`` is the layer's output for a batch of rows (only its shape past
        the first axis, dtype and device are used); the masks are those the
        layer's hook would apply in the next forward pass, for a module that
        applies them itself (see ``forward_samples`` of
        :class:`~skal_power.models.MNISTConvNet`).

        Examples
        --------
        >>> import torch
        >>> drop = torch.nn.Dropout2d(0.5)
        >>> masks = ConsistentDropout([drop], seed=0, n_samples=4)
        >>> masks.select(1, 3)
        >>> masks.selected(drop, torch.zeros(5, 8, 3, 3)).shape
        torch.Size([2, 8, 1, 1])
        """
        index = next(i for i, known in enumerate(self.layers) if known is layer)
        return self._masks(index, layer, tuple(like.shape[1:]), like)[self._start:self._stop]

    def __enter__(self) -> "ConsistentDropout":
        for index, layer in enumerate(self.layers):
            self._handles.append(layer.register_forward_hook(self._hook(index)))
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._cache.clear()

    def _hook(self, index: int):
        def apply_mask(layer, inputs, output):
            n_stacked = self._stop - self._start
            if self.expand_first and not self._expanded:
                self._expanded = True
                output = output.unsqueeze(0).expand(n_stacked, *output.shape)
                output = output.reshape(-1, *output.shape[2:])
            if output.shape[0] % n_stacked:
                raise RuntimeError(
                    f"Dropout layer {index} received {output.shape[0]} rows, not a multiple of "
                    f"the {n_stacked} stacked samples; the module must keep the batch "
                    "dimension first."
                )
            masks = self._masks(index, layer, tuple(output.shape[1:]), output)
            stacked = output.reshape(n_stacked, -1, *output.shape[1:])
            return (stacked * masks[self._start:self._stop].unsqueeze(1)).reshape(output.shape)

        return apply_mask

    def _masks(self, index: int, layer, row_shape: tuple, like: torch.Tensor) -> torch.Tensor:
        key = (index, row_shape, like.dtype, like.device)
        masks = self._cache.get(key)
        if masks is None:
            masks = self._draw(index, layer, row_shape).to(dtype=like.dtype, device=like.device)
            self._cache[key] = masks
        return masks

    def _draw(self, index: int, layer, row_shape: tuple) -> torch.Tensor:
        if isinstance(layer, _CHANNEL_DROPOUTS) and len(row_shape) >= 2:
            mask_shape = (row_shape[0],) + (1,) * (len(row_shape) - 1)
        else:
            mask_shape = row_shape
        keep = 1.0 - float(layer.p)
        scale = 1.0 / keep if keep > 0 else 0.0
        masks = torch.empty((self.n_samples,) + mask_shape)
        for k in range(self.n_samples):
            generator = torch.Generator().manual_seed(_sample_seed(self.seed, index, k))
            masks[k] = torch.bernoulli(torch.full(mask_shape, keep), generator=generator)
        return masks * scale


def n_rows(Xi: Any) -> int:
    """Rows of a batch (a tensor, an array or a dict of them)."""
    if isinstance(Xi, dict):
        return len(next(iter(Xi.values())))
    return len(Xi)


def repeat_rows(Xi: Any, times: int) -> Any:
    """Stack ``times`` copies of a batch, sample-major (copy s is rows s*B:(s+1)*B)."""
    if times == 1:
        return Xi
    if isinstance(Xi, dict):
        return {key: repeat_rows(value, times) for key, value in Xi.items()}
    Xi = torch.as_tensor(Xi)
    return Xi.repeat(times, *([1] * (Xi.dim() - 1)))
