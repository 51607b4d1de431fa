"""Batch selection rules on acquisition scores.

The selectors :class:`Top`, :class:`Power`, :class:`Softmax`, :class:`Softrank`
and :class:`UniformTop` are the objects strategies compose with a score; the
functions below are the same rules on a plain score vector.

Stochastic rules sample a batch without replacement via Gumbel-top-B, with
the noise of each point derived from ``(seed, index)`` alone, so a pool split
into chunks gives exactly the batch of the whole pool (:func:`top_keys` per
part, then :func:`merge_candidates`). A selector's partition contract
(:meth:`Selector.partition_candidates`, :meth:`Selector.merged_batch`) is all a
Dask pool needs of it.
"""

from ._candidates import Candidates, best_candidates, merge_candidates
from ._gumbel import acquisition_keys, gumbel_noise, tie_keys, top_keys
from ._rules import (
    AcquisitionWarning,
    power_log_weights,
    power_sample,
    random_sample,
    sample_from_log_weights,
    softmax_log_weights,
    softmax_sample,
    softrank_log_weights,
    softrank_sample,
    top_sample,
    uniform_top_sample,
)
from ._schedules import LinearSchedule, resolve_exponent
from ._selectors import Power, Selector, Softmax, Softrank, Top, UniformTop
from ._thompson import draw_slot_samples, pick_per_slot, sample_kl_to_mean, thompson_sample

__all__ = [
    "AcquisitionWarning",
    "Candidates",
    "LinearSchedule",
    "Power",
    "Selector",
    "Softmax",
    "Softrank",
    "Top",
    "UniformTop",
    "acquisition_keys",
    "best_candidates",
    "draw_slot_samples",
    "gumbel_noise",
    "merge_candidates",
    "pick_per_slot",
    "power_log_weights",
    "power_sample",
    "random_sample",
    "resolve_exponent",
    "sample_from_log_weights",
    "sample_kl_to_mean",
    "softmax_log_weights",
    "softmax_sample",
    "softrank_log_weights",
    "softrank_sample",
    "thompson_sample",
    "tie_keys",
    "top_keys",
    "top_sample",
    "uniform_top_sample",
]
