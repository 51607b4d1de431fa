"""ThompsonBALD: one posterior sample per batch slot."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_log_probs
from ..sampling import draw_slot_samples, pick_per_slot, sample_kl_to_mean
from ._base import PosteriorStrategy

__all__ = ["ThompsonBALD"]


class ThompsonBALD(PosteriorStrategy):
    """Thompson-style batch: slot b draws ω_k and takes the unpicked arg-max of KL(p_k ‖ p̄).

    BALD is the mean over k of ``KL(p(·|x, ω_k) ‖ p̄(·|x))``; scoring each slot
    with a single sample instead spreads the batch over what different
    posterior samples find informative.

    Parameters
    ----------
    n_samples : int, default=20
        Posterior samples K for stochastic models.
    chunk_size : int, default=8192
        Pool rows processed at a time.
    random_state : None, int, RandomState or Generator
    progress : bool, default=False
        Show a tqdm bar over the pool chunks scored (as the experiment runner's).

    See Also
    --------
    skal_power.sampling.thompson_sample : the same rule on a log-prob array.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skal_power import ThompsonBALD
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:100], y[:100])
    >>> indices, scores = ThompsonBALD(random_state=0)(forest, X[100:], n_instances=4)
    >>> len(set(indices.tolist()))
    4
    """

    min_samples = 2

    def __init__(self, *, n_samples: int = 20, chunk_size: int = 8192,
                 random_state: Any = None, progress: bool = False) -> None:
        self.n_samples = n_samples
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.progress = progress

    def _query(self, classifier, X_pool, n_instances, *, seed, round_index, **kwargs):
        seeds = self._query_seeds(seed)  # the slots' samples are its selection
        rng = np.random.default_rng(seeds.selection)
        chunks, unique, columns = [], None, None
        for _, log_probs in self.iter_log_probs(classifier, X_pool, seed=seeds.model):
            log_probs = check_log_probs(log_probs, min_samples=2)
            if unique is None:
                unique, columns = draw_slot_samples(rng, log_probs.shape[1], n_instances)
            chunks.append(sample_kl_to_mean(log_probs, unique))
        return pick_per_slot(np.concatenate(chunks), columns)
