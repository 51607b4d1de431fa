"""Joint entropy of a growing batch plus one candidate, for every candidate.

For one model with K posterior samples, the batch ``x_1..x_b`` so far is
summarised by a table ``P[k, m] = Π_i p(y_i = m_i | x_i, ω_k)`` over M label
configurations m. Adding candidate x with label c gives the joint

    P(m, c) = mean_k P[k, m] p(c | x, ω_k)

i.e. one matrix product ``Pᵀ (M×K) @ p_x (K×C)`` per candidate, batched over
candidates.

* **Exact**: the M = C^b configurations are enumerated while ``C^b · K``
  stays at most ``max_exact_size``; ``H = −Σ_{m,c} P(m,c) log P(m,c)``.
* **Sampled**: beyond that bound, M = ``n_configurations`` configurations are
  drawn from the batch's joint (draw k uniformly, then each ``y_i ~ p(·|x_i,
  ω_k)``) and ``H ≈ −(1/M) Σ_s Σ_c P(s,c)/P(s) log P(s,c)`` — an importance
  estimate whose proposal is the joint itself. Its standard error is about
  ``sd/sqrt(M)``; with the default ``M = 4096`` it is ~1e-2 nats for C = 10.

Work is chunked over candidates so the ``(M, chunk, C)`` joint stays under
``max_memory`` bytes whatever N is. All joint quantities are float64.
"""

from __future__ import annotations

import numpy as np

__all__ = ["JointEntropyTracker"]


class JointEntropyTracker:
    """Joint-entropy state of one model's batch (see module docstring).

    Parameters
    ----------
    probs : torch.Tensor of shape (N, K, C), float32 or float64
        Probabilities (not logs) of every pool point.
    max_exact_size : int
        Largest ``C^b · K`` handled exactly.
    n_configurations : int
        Number M of sampled configurations in the sampled regime.
    max_memory : int
        Bytes allowed for one chunk's joint table.
    rng : numpy.random.Generator
        Source of the sampled configurations.
    """

    def __init__(self, torch, probs, *, max_exact_size: int, n_configurations: int,
                 max_memory: int, rng: np.random.Generator) -> None:
        self.torch = torch
        self.probs = probs
        n_points, n_samples, n_classes = probs.shape
        self.n_samples, self.n_classes = n_samples, n_classes
        self.max_exact_size = max_exact_size
        self.n_configurations = n_configurations
        self.max_memory = max_memory
        self.rng = rng
        # P[k, m]: product of the batch's per-sample label probabilities.
        self.table = torch.ones((n_samples, 1), dtype=torch.float64, device=probs.device)
        self.sampled = False
        self.sample_k = None  # (M,) posterior sample each configuration was drawn from

    # ------------------------------------------------------------------ scoring
    def candidate_entropies(self, candidates) -> np.ndarray:
        """``H[y_batch, y_x]`` for each candidate index, float64 numpy array."""
        torch = self.torch
        n_configs = self.table.shape[1]
        per_candidate = n_configs * self.n_classes * 8 * 3
        chunk = max(1, int(self.max_memory // max(per_candidate, 1)))
        out = np.empty(len(candidates), dtype=np.float64)
        table_t = self.table.T.contiguous()  # (M, K)
        weights = None
        if self.sampled:
            weights = 1.0 / table_t.mean(dim=1)  # 1 / P(s)
        for start in range(0, len(candidates), chunk):
            index = candidates[start:start + chunk]
            rows = len(index)
            probs = self.probs[index].to(torch.float64)  # (n, K, C)
            probs = probs.permute(1, 0, 2).reshape(self.n_samples, rows * self.n_classes)
            joint = (table_t @ probs).div_(self.n_samples)  # (M, n*C)
            plogp = torch.special.xlogy(joint, joint).view(n_configs, rows, self.n_classes)
            if weights is None:
                entropy = -plogp.sum(dim=(0, 2))
            else:
                entropy = -(weights[:, None] * plogp.sum(dim=2)).mean(dim=0)
            out[start:start + rows] = entropy.cpu().numpy()
        return out

    # ---------------------------------------------------------------- updating
    def add(self, index: int) -> None:
        """Extend the batch with pool point ``index``."""
        torch = self.torch
        point = self.probs[index].to(torch.float64)  # (K, C)
        if self.sampled:
            self._extend_sampled(point)
            return
        n_configs = self.table.shape[1]
        if n_configs * self.n_classes * self.n_samples <= self.max_exact_size:
            self.table = (self.table[:, :, None] * point[:, None, :]).reshape(self.n_samples, -1)
        else:
            self._switch_to_sampled()
            self._extend_sampled(point)

    def _switch_to_sampled(self) -> None:
        """Draw M configurations of the current batch from its exact joint."""
        torch = self.torch
        n_draws = self.n_configurations
        sample_k = self.rng.integers(0, self.n_samples, size=n_draws)
        table = self.table.cpu().numpy()
        cumulative = np.cumsum(table, axis=1)
        cumulative /= cumulative[:, -1:]
        uniforms = self.rng.random(n_draws)
        configs = np.empty(n_draws, dtype=np.int64)
        for k in np.unique(sample_k):
            rows = np.flatnonzero(sample_k == k)
            configs[rows] = np.searchsorted(cumulative[k], uniforms[rows], side="right")
        configs = np.minimum(configs, table.shape[1] - 1)
        self.table = self.table[:, torch.from_numpy(configs).to(self.table.device)]
        self.sample_k = sample_k
        self.sampled = True

    def _extend_sampled(self, point) -> None:
        """Draw the new label of every configuration from its own posterior sample."""
        torch = self.torch
        per_sample = point.cpu().numpy()[self.sample_k]  # (M, C)
        cumulative = np.cumsum(per_sample, axis=1)
        cumulative /= cumulative[:, -1:]
        uniforms = self.rng.random(len(self.sample_k))[:, None]
        labels = np.minimum((uniforms > cumulative).sum(axis=1), self.n_classes - 1)
        label_t = torch.from_numpy(labels).to(self.table.device)
        self.table = self.table * point[:, label_t]
