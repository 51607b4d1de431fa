"""Schedules for the sharpness of stochastic acquisition (α or β per round)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable, Union

import numpy as np

from .._validation import check_non_negative

__all__ = ["LinearSchedule", "Exponent", "resolve_exponent"]


@dataclass(frozen=True)
class LinearSchedule:
    """Exponent that moves linearly from ``start`` to ``stop`` over ``n_rounds`` rounds.

    Useful for cold starts: α = 0 samples uniformly while the model knows
    nothing, a large α approaches top-B once its scores mean something.

    Parameters
    ----------
    start : float
        Value at round 0.
    stop : float
        Value from round ``n_rounds`` on.
    n_rounds : int
        Number of rounds over which to interpolate.

    Examples
    --------
    >>> schedule = LinearSchedule(0.0, 8.0, n_rounds=4)
    >>> [schedule(r) for r in range(6)]
    [0.0, 2.0, 4.0, 6.0, 8.0, 8.0]
    """

    start: float = 0.0
    stop: float = 8.0
    n_rounds: int = 10

    def __call__(self, round_index: int) -> float:
        if self.n_rounds <= 0:
            return float(self.stop)
        fraction = min(max(round_index, 0) / self.n_rounds, 1.0)
        return float(self.start + fraction * (self.stop - self.start))


Exponent = Union[float, Callable[[int], float]]


def resolve_exponent(value: Any, round_index: int, *, name: str) -> float:
    """Return the exponent to use at ``round_index``; checks it is finite and >= 0.

    Examples
    --------
    >>> resolve_exponent(5, 0, name="alpha")
    5.0
    >>> resolve_exponent(LinearSchedule(0, 4, 2), 1, name="alpha")
    2.0
    >>> resolve_exponent(-1, 0, name="alpha")
    Traceback (most recent call last):
    ...
    ValueError: alpha must be a finite number >= 0; got -1.
    """
    if callable(value) and not isinstance(value, numbers.Real):
        produced = value(int(round_index))
        return check_non_negative(produced, name=f"{name} (from its schedule at round {round_index})")
    if isinstance(value, np.generic):
        value = value.item()
    return check_non_negative(value, name=name)
