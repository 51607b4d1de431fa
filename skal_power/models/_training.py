"""Training schedules for small labelled sets, the skorch way: an iterator and a split.

Active learning fits a network on tens of labels. A plain epoch over 20 points
is one gradient step, so "30 epochs" is 30 steps and the net barely leaves its
initialisation (its "uncertainty" then tracks how much ink an image has).
The BatchBALD experiments instead train on a fixed number of *resampled*
points per epoch and stop early on a validation set; these two pieces give
exactly that to any skorch net:

* :class:`ResampledLoader` — ``iterator_train=ResampledLoader``: each epoch
  draws ``samples_per_epoch`` training points with repetition (every point
  equally often, up to one), or one shuffled pass when the set is larger.
* :class:`ValidationSet` — ``train_split=ValidationSet(X_val, y_val)``: a
  fixed validation set, so skorch's ``EarlyStopping(load_best=True)`` callback
  can stop on ``valid_loss`` and restore the best weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

__all__ = ["MissingClassesWarning", "ResampledLoader", "ValidationSet"]


class _BalancedResampler(Sampler):
    """``n`` indices into a dataset of ``size``, each index ``n // size`` or one more times."""

    def __init__(self, size: int, n: int) -> None:
        self.size, self.n = int(size), int(n)

    def __len__(self) -> int:
        return max(self.n, self.size)

    def __iter__(self):
        if self.n <= self.size:  # never drop data: one shuffled pass
            return iter(torch.randperm(self.size).tolist())
        # a permutation of a length that is a multiple of size, cut to n: every
        # point appears n // size or n // size + 1 times, in random order
        total = self.n + (-self.n % self.size)
        return iter((torch.randperm(total)[: self.n] % self.size).tolist())


class ResampledLoader(DataLoader):
    """A training ``DataLoader`` whose epoch is ``samples_per_epoch`` resampled points.

    Use it as skorch's ``iterator_train`` (it is the default of
    :class:`~skal_power.models.MCDropoutClassifier`) and set the length with
    ``iterator_train__samples_per_epoch``. The draws use torch's global RNG, which
    a seeded :class:`~skal_power.models.MCDropoutClassifier` forks and seeds.

    Parameters
    ----------
    dataset : torch Dataset
    samples_per_epoch : int, default=4096
        Training points per epoch (with repetition). When the dataset has more
        points, an epoch is one shuffled pass over all of them.
    **kwargs
        Passed to :class:`torch.utils.data.DataLoader` (``batch_size``, ...);
        ``shuffle`` and ``sampler`` are ignored (the resampler replaces them).

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> data = TensorDataset(torch.arange(20.0))
    >>> loader = ResampledLoader(data, samples_per_epoch=256, batch_size=64)
    >>> len(loader), sum(len(batch[0]) for batch in loader)
    (4, 256)
    """

    def __init__(self, dataset: Any, samples_per_epoch: int = 4096, **kwargs: Any) -> None:
        if isinstance(samples_per_epoch, bool) or not isinstance(samples_per_epoch, int) \
                or samples_per_epoch < 1:
            raise ValueError(
                f"samples_per_epoch must be a positive integer; got {samples_per_epoch!r}.")
        kwargs.pop("shuffle", None)
        kwargs.pop("sampler", None)
        self.samples_per_epoch = samples_per_epoch
        super().__init__(dataset, sampler=_BalancedResampler(len(dataset), samples_per_epoch),
                         **kwargs)


class ValidationSet:
    """A fixed validation set as skorch's ``train_split``.

    With :class:`~skal_power.models.MCDropoutClassifier` the labels are
    encoded like the training labels, so they may be any labels of
    ``classes_``. Combine with ``callbacks=[EarlyStopping(patience=3,
    load_best=True)]`` (skorch) to stop on the validation loss and keep the
    best epoch's weights, as the BatchBALD experiments do.

    Parameters
    ----------
    X : array-like of shape (n, ...)
    y : array-like of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.callbacks import EarlyStopping
    >>> from sklearn.datasets import load_iris
    >>> from skal_power.models import MCDropoutClassifier, ValidationSet
    >>> X, y = load_iris(return_X_y=True)
    >>> net = MCDropoutClassifier(module__hidden_units=(16,), max_epochs=20,
    ...                           train_split=ValidationSet(X[1::2], y[1::2]),
    ...                           iterator_train__samples_per_epoch=256,
    ...                           callbacks=[EarlyStopping(patience=2, load_best=True,
    ...                                                    sink=lambda *a: None)],
    ...                           random_state=0).fit(X[::2], y[::2])
    >>> "valid_loss" in net.history[-1]
    True
    """

    def __init__(self, X: Any, y: Any) -> None:
        self.X = X
        self.y = y

    def __call__(self, dataset: Any, y: Any = None, **kwargs: Any):
        raise TypeError(
            "ValidationSet is a train_split for skal_power.models.MCDropoutClassifier, which "
            "encodes its labels; for other skorch nets use skorch.helper.predefined_split."
        )

    def __repr__(self) -> str:
        return f"ValidationSet(<{len(np.asarray(self.y))} rows>)"


class MissingClassesWarning(UserWarning):
    """The labelled set lacks some of the classifier's ``classes``.

    Examples
    --------
    >>> issubclass(MissingClassesWarning, UserWarning)
    True
    """
