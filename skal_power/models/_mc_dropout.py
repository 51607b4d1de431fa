"""A skorch classifier whose dropout layers give consistent posterior samples."""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import warnings
from typing import Any, Iterator

import numpy as np
import torch
from scipy.sparse import issparse
from skorch import NeuralNetClassifier
from skorch.dataset import unpack_data
from skorch.utils import to_tensor
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import column_or_1d

from .._compat import validate_data
from .._validation import check_positive_int, check_seed
from ._masks import ConsistentDropout, dropout_layers, n_rows as _n_rows, repeat_rows as _repeat_rows
from ._modules import MLP
from ._training import MissingClassesWarning, ResampledLoader, ValidationSet

__all__ = ["MCDropoutClassifier"]


# True while a seeded fit is running, so nested calls (fit -> partial_fit) do not reseed.
_SEEDING = contextvars.ContextVar("skal_power_seeding", default=False)
# True while fit runs: skorch's fit calls partial_fit on data fit already prepared.
_PREPARED = contextvars.ContextVar("skal_power_prepared", default=False)


class MCDropoutClassifier(NeuralNetClassifier):
    """skorch classifier with consistent Monte-Carlo dropout samples.

    ``predict_proba`` is deterministic (dropout off). ``predict_proba_samples(X,
    n_samples)`` returns K posterior samples of shape ``(N, K, C)``, where sample
    k applies the same dropout masks to every row of X, whatever the batch size
    (consistent MC dropout, as BatchBALD's joint entropies require).

    Any module whose stochasticity comes from ``torch.nn.Dropout`` (or
    ``Dropout1d/2d/3d``) layers works: during sampling the module runs in eval
    mode and each dropout layer's output is multiplied by a fixed mask drawn from
    ``(seed, layer, k)``. Functional ``F.dropout`` calls are not seen. Several
    samples run in one stacked forward pass; a module with the class attribute
    ``mc_dropout_expand_first = True`` (the shipped :class:`MLP` and
    :class:`MNISTConvNet`) runs its layers before the first dropout once per row.
    A module may also compute all S samples of a batch itself with a method
    ``forward_samples(X, masks)`` returning ``(S, B, C)`` outputs, where
    ``masks(layer, output)`` gives a dropout layer's selected masks
    (:meth:`ConsistentDropout.selected`); it is used from the module's
    ``forward_samples_from`` samples on (never if that is None;
    :class:`MNISTConvNet` runs its second convolution once per row this way).

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=MLP
        The network; it should return logits (default criterion) or probabilities
        (with ``criterion=torch.nn.NLLLoss``). If it is a class whose ``__init__``
        takes ``n_features`` or ``n_classes``, these are set from the data unless
        given as ``module__n_features``/``module__n_classes``.
    criterion : torch criterion, default=torch.nn.CrossEntropyLoss
    optimizer : torch optimizer, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=8
    batch_size : int, default=64
    iterator_train : DataLoader class, default=ResampledLoader
        Each epoch is ``iterator_train__samples_per_epoch`` (default 4096)
        points resampled from the training set, whatever its size: with the
        defaults every fit takes 8 × 4096 / 64 = 512 Adam steps, on 20 labels as
        on 2,000 (the BatchBALD schedule; a plain epoch over 20 labels is one
        step). Pass ``iterator_train=torch.utils.data.DataLoader`` for plain epochs.
    train_split : callable or None, default=None
        No validation split by default: active-learning training sets are small.
        ``ValidationSet(X_val, y_val)`` gives a fixed validation set, for
        skorch's ``EarlyStopping(patience=3, load_best=True)`` callback.
    classes : array-like, optional
        All class labels. Give them in active learning: the net then has an
        output for every class from the first round, even for classes the
        labelled set does not contain yet (a :class:`MissingClassesWarning`
        says which). Without them the classes are those of the training labels.
    verbose : int, default=0
    sample_batch_size : int, default=4096
        Rows times stacked samples evaluated in one forward pass while sampling
        (and rows per pass in ``predict_proba``).
    random_state : None, int, RandomState or Generator, default=None
        Seeds weight initialisation, shuffling and training dropout (inside a
        forked torch RNG, so the global torch state is untouched), and the
        dropout masks of ``predict_*_samples`` when they get no ``random_state``.
    **kwargs
        Any other skorch parameter (``module__hidden_units=(128,)``, ``device``,
        callbacks, ...).

    Attributes
    ----------
    classes_ : numpy.ndarray
        The labels seen in ``fit`` (any integers or strings), sorted.
    label_encoder_ : sklearn.preprocessing.LabelEncoder
        Maps labels to the int64 class indices the network is trained on.
    n_features_in_ : int
        Number of features (columns) of X seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skal_power.models import MCDropoutClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> names = np.array(["setosa", "versicolor", "virginica"])[y]
    >>> net = MCDropoutClassifier(module__hidden_units=(32,), max_epochs=5,
    ...                           random_state=0).fit(X, names)
    >>> net.classes_.tolist()
    ['setosa', 'versicolor', 'virginica']
    >>> net.predict_proba_samples(X[:4], n_samples=8).shape
    (4, 8, 3)
    """

    def __init__(self, module: Any = MLP, *, criterion: Any = torch.nn.CrossEntropyLoss,
                 optimizer: Any = torch.optim.Adam, lr: float = 1e-3, max_epochs: int = 8,
                 batch_size: int = 64, iterator_train: Any = ResampledLoader,
                 train_split: Any = None, verbose: int = 0,
                 sample_batch_size: int = 4096, random_state: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(
            module, criterion=criterion, optimizer=optimizer, lr=lr, max_epochs=max_epochs,
            batch_size=batch_size, iterator_train=iterator_train, train_split=train_split,
            verbose=verbose, **kwargs,
        )
        self.sample_batch_size = sample_batch_size
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    @property
    def classes_(self) -> np.ndarray:
        try:
            return self.label_encoder_.classes_
        except AttributeError as error:
            raise AttributeError(
                f"{type(self).__name__} has no classes_ before fit."
            ) from error

    def __sklearn_is_fitted__(self) -> bool:
        return bool(getattr(self, "initialized_", False)) and hasattr(self, "label_encoder_")

    def fit(self, X: Any, y: Any, **fit_params: Any) -> "MCDropoutClassifier":
        """Fit the network on X and labels y (re-initialising it unless ``warm_start``).

        X may be a float64 array, a pandas DataFrame or anything skorch accepts;
        arrays are cast to float32. y may hold any integer or string labels.
        """
        keep = self.warm_start and self.__sklearn_is_fitted__()
        X, y = self._prepare_fit(X, y, reset=not keep)
        token = _PREPARED.set(True)
        try:
            with self._seeded():
                return super().fit(X, y, **fit_params)
        finally:
            _PREPARED.reset(token)

    def partial_fit(self, X: Any, y: Any = None, classes: Any = None,
                    **fit_params: Any) -> "MCDropoutClassifier":
        """Continue training; the first call fixes the classes (``classes`` or those of y)."""
        if not _PREPARED.get():
            X, y = self._prepare_fit(
                X, y, reset=not self.__sklearn_is_fitted__(), classes=classes
            )
        with self._seeded():
            return super().partial_fit(X, y, **fit_params)

    def initialize_module(self) -> "MCDropoutClassifier":
        """Initialise the module, filling ``n_features``/``n_classes`` from the data."""
        kwargs = self.get_params_for("module")
        if not isinstance(self.module, torch.nn.Module):
            kwargs = {**self._inferred_module_kwargs(), **kwargs}
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def _inferred_module_kwargs(self) -> dict:
        try:
            accepted = inspect.signature(self.module).parameters
        except (TypeError, ValueError):
            return {}
        inferred = {}
        if "n_features" in accepted and hasattr(self, "n_features_in_"):
            inferred["n_features"] = int(np.prod(self._row_shape_))
        if "n_classes" in accepted and hasattr(self, "label_encoder_"):
            inferred["n_classes"] = len(self.label_encoder_.classes_)
        return inferred

    def _prepare_fit(self, X, y, *, reset, classes=None):
        X = self._check_X(X, reset=reset)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = column_or_1d(np.asarray(y), warn=True)
        if y.dtype.kind in "fc":  # NaN labels: say so before sklearn casts them to int
            assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        if reset:
            if classes is None:
                classes = self.classes if self.classes is not None else y
            self.label_encoder_ = LabelEncoder().fit(np.asarray(classes))
        unknown = np.setdiff1d(y, self.label_encoder_.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()} unknown to the classifier "
                f"(classes_ = {self.label_encoder_.classes_.tolist()})."
            )
        missing = np.setdiff1d(self.label_encoder_.classes_, y)
        if reset and missing.size:
            warnings.warn(
                f"{type(self).__name__} is fitted on labels of "
                f"{len(self.label_encoder_.classes_) - missing.size} of its "
                f"{len(self.label_encoder_.classes_)} classes; classes {missing.tolist()} "
                "have outputs but no training examples yet.",
                MissingClassesWarning, stacklevel=3,
            )
        return X, self.label_encoder_.transform(y).astype(np.int64)

    def get_split_datasets(self, X, y=None, **fit_params):
        """Training data and, with a :class:`ValidationSet`, the encoded validation data."""
        if not isinstance(self.train_split, ValidationSet):
            return super().get_split_datasets(X, y, **fit_params)
        X_valid = self._check_X(self.train_split.X, reset=False)
        y_valid = self.label_encoder_.transform(column_or_1d(np.asarray(self.train_split.y)))
        return self.get_dataset(X, y), self.get_dataset(X_valid, y_valid.astype(np.int64))

    def _fit_soft_targets(self, X: Any, targets: np.ndarray, classes: np.ndarray):
        """Fit on probability targets of shape (N, C) (used by :func:`skal_power.distill`)."""
        X = self._check_X(X, reset=True)
        self.label_encoder_ = LabelEncoder().fit(np.asarray(classes))
        token = _PREPARED.set(True)
        try:
            with self._seeded():
                return NeuralNetClassifier.fit(self, X, np.asarray(targets, dtype=np.float32))
        finally:
            _PREPARED.reset(token)

    @contextlib.contextmanager
    def _seeded(self) -> Iterator[None]:
        if self.random_state is None or _SEEDING.get():
            yield
            return
        devices = [] if not torch.cuda.is_available() else None
        token = _SEEDING.set(True)
        try:
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(check_seed(self.random_state))
                yield
        finally:
            _SEEDING.reset(token)

    def _check_X(self, X: Any, *, reset: bool) -> Any:
        if isinstance(X, (torch.utils.data.Dataset, dict)) and not issparse(X):
            return X
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        X = validate_data(self, X, reset=reset, dtype=np.float32, allow_nd=True)
        if reset:
            self._row_shape_ = tuple(X.shape[1:])
        return X

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    # --------------------------------------------------------------- prediction
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log-probabilities with dropout off, shape ``(N, C)``, float64."""
        self._check_fitted()
        X = self._check_X(X, reset=False)
        self.module_.eval()
        with torch.no_grad():
            parts = [self._to_log_proba(self.infer(Xi)).cpu()
                     for Xi in self._sampling_batches(X, 1)]
        if not parts:
            return np.empty((0, len(self.classes_)))
        return torch.cat(parts).double().numpy()

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities with dropout off (deterministic), shape ``(N, C)``, float64."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable label of each row, from ``classes_``."""
        log_probs = self.predict_log_proba(X)
        return self.classes_[log_probs.argmax(axis=1)]

    def predict_proba_samples(self, X: Any, n_samples: int = 20,
                              random_state: Any = None) -> np.ndarray:
        """Probabilities under K consistent dropout masks, shape ``(N, K, C)``, float32.

        Parameters
        ----------
        X : array-like of shape (N, n_features)
        n_samples : int, default=20
            Number K of posterior samples (dropout masks).
        random_state : None, int, RandomState or Generator
            Seed of the masks; defaults to the estimator's ``random_state``.
            The same seed gives the same K masks, so row n's sample k does not
            depend on the other rows of X or on how X is chunked.

        Raises
        ------
        ValueError
            If ``n_samples > 1`` but the module has no dropout layer (the K
            samples would be identical).
        """
        return np.exp(self.predict_log_proba_samples(X, n_samples, random_state))

    def predict_log_proba_samples(self, X: Any, n_samples: int = 20,
                                  random_state: Any = None) -> np.ndarray:
        """Log-probabilities under K consistent dropout masks, shape ``(N, K, C)``, float32.

        See :meth:`predict_proba_samples`.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skal_power.models import MCDropoutClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> net = MCDropoutClassifier(module__hidden_units=(16,), max_epochs=2,
        ...                           random_state=0).fit(X, y)
        >>> whole = net.predict_log_proba_samples(X, 5, random_state=1)
        >>> part = net.predict_log_proba_samples(X[:7], 5, random_state=1)
        >>> bool(np.allclose(whole[:7], part, atol=1e-6))
        True
        """
        self._check_fitted()
        X = self._check_X(X, reset=False)
        n_samples = check_positive_int(n_samples, name="n_samples")
        check_positive_int(self.sample_batch_size, name="sample_batch_size")
        seed = check_seed(self.random_state if random_state is None else random_state)
        layers = dropout_layers(self.module_)
        if not layers and n_samples > 1:
            raise ValueError(
                f"The module {type(self.module_).__name__} has no dropout layer with p > 0, so "
                f"its n_samples={n_samples} MC-dropout samples would all be identical. Add "
                "torch.nn.Dropout layers to the module, or ask for n_samples=1."
            )
        self.module_.eval()
        expand = bool(layers) and bool(getattr(self.module_, "mc_dropout_expand_first", False))
        parts = []
        with ConsistentDropout(layers, seed=seed, n_samples=n_samples,
                               expand_first=expand) as masks, torch.no_grad():
            for Xi in self._sampling_batches(X, n_samples):
                parts.append(self._sample_batch(Xi, masks, n_samples))
        return np.concatenate(parts) if parts else np.empty((0, n_samples, len(self.classes_)),
                                                             dtype=np.float32)

    def _sample_batch(self, Xi: Any, masks: ConsistentDropout, n_samples: int) -> np.ndarray:
        n_rows = _n_rows(Xi)
        per_pass = max(1, min(n_samples, -(-self.sample_batch_size // max(n_rows, 1))))
        forward_samples = getattr(self.module_, "forward_samples", None)
        threshold = getattr(self.module_, "forward_samples_from", 2)
        if forward_samples is not None and threshold is not None and masks.expand_first \
                and not isinstance(Xi, dict) and n_samples >= threshold:
            per_pass, Xi = n_samples, to_tensor(Xi, device=self.device)  # one pass per row
        else:
            forward_samples = None
        out = None
        for start in range(0, n_samples, per_pass):
            stop = min(n_samples, start + per_pass)
            masks.select(start, stop)
            if forward_samples is not None:
                log_probs = self._to_log_proba(forward_samples(Xi, masks.selected))
            else:
                stacked = Xi if masks.expand_first else _repeat_rows(Xi, stop - start)
                log_probs = self._to_log_proba(self.infer(stacked))
            log_probs = log_probs.reshape(stop - start, n_rows, -1).transpose(0, 1)
            if out is None:
                out = np.empty((n_rows, n_samples, log_probs.shape[-1]), dtype=np.float32)
            out[:, start:stop] = log_probs.float().cpu().numpy()
        return out

    def _sampling_batches(self, X: Any, n_samples: int) -> Iterator[Any]:
        if isinstance(X, np.ndarray):
            rows = max(1, -(-self.sample_batch_size // n_samples))
            tensor = torch.from_numpy(X)
            for start in range(0, len(tensor), rows):
                yield tensor[start:start + rows]
            return
        for batch in self.get_iterator(self.get_dataset(X), training=False):
            yield unpack_data(batch)[0]

    def _to_log_proba(self, output: Any) -> torch.Tensor:
        if isinstance(output, tuple):
            output = output[0]
        if self.predict_nonlinearity == "auto" and isinstance(
            self.criterion_, torch.nn.CrossEntropyLoss
        ):
            _check_logits(output, self.module_)
            return torch.log_softmax(output.float(), dim=-1)
        probs = self._get_predict_nonlinearity()(output)
        return torch.log(probs.float())


def _check_logits(output: torch.Tensor, module: Any) -> None:
    """Refuse outputs that are already probabilities where logits are expected.

    CrossEntropyLoss (and prediction) apply softmax to the module's output; a
    module with a softmax inside would have it applied twice, which flattens
    every prediction towards uniform (BALD about 0 everywhere) without an error.
    """
    if output.ndim < 2 or output.numel() == 0 or output.shape[-1] < 2:
        return
    values = output.detach().float().reshape(-1, output.shape[-1])
    if bool((values >= 0).all()) and bool(
            torch.allclose(values.sum(dim=1), torch.ones(len(values)).to(values), atol=1e-4)):
        raise ValueError(
            f"The module {type(module).__name__} returns rows that are already probabilities "
            "(non-negative, summing to 1), but criterion=torch.nn.CrossEntropyLoss treats its "
            "output as logits and applies softmax again, which flattens every prediction. "
            "Remove the softmax from forward (return logits), or return log-probabilities "
            "(log_softmax) with criterion=torch.nn.NLLLoss."
        )
