"""Seconds of the consecutive steps of a query (the strategies' ``timings_``)."""

from __future__ import annotations

import time

__all__ = ["StepTimer"]


class StepTimer:
    """Times consecutive steps: each call closes the step begun at the previous call
    (or at construction) and names it.

    Examples
    --------
    >>> timer = StepTimer()
    >>> timer("pool pass")
    >>> timer("greedy")
    >>> list(timer.seconds), all(s >= 0 for s in timer.seconds.values())
    (['pool pass', 'greedy'], True)
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.perf_counter()

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = now - self._mark
        self._mark = now
