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
  It is computed as ``−mean_s log P(s) + mean_s H[q(·|s)]`` with the
  candidate's label distribution ``q`` under the configuration's posterior
  weights, in float32 (see :meth:`JointEntropyTracker._sampled_entropies`).

Work is chunked over candidates so the ``(M, chunk, C)`` joint stays under
``max_memory`` bytes whatever N is. Exact joint quantities are float64.
"""

from __future__ import annotations

import numpy as np

__all__ = ["JointEntropyTracker"]


class JointEntropyTracker:
    """Joint-entropy state of one model's batch (see module docstring).

    Parameters
    ----------
    probs : torch.Tensor of shape (K, N, C), float32 or float64
        Probabilities (not logs) of every pool point, posterior sample first:
        a chunk of candidates is then a (K, n·C) matrix without copying.
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
        n_samples, _, n_classes = probs.shape
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
        if self.sampled:
            return self._sampled_entropies(candidates)
        torch = self.torch
        n_configs = self.table.shape[1]
        chunk = self._chunk(n_configs, 8)
        out = np.empty(len(candidates), dtype=np.float64)
        table_t = self.table.T.contiguous()  # (M, K)
        for start in range(0, len(candidates), chunk):
            index = candidates[start:start + chunk]
            rows = len(index)
            joint = (table_t @ self._candidate_matrix(index, torch.float64))
            joint = joint.div_(self.n_samples)  # (M, n*C)
            plogp = torch.special.xlogy(joint, joint).sum(dim=0)  # over configurations
            out[start:start + rows] = (-plogp.view(rows, self.n_classes).sum(dim=1)).cpu().numpy()
        return out

    def _sampled_entropies(self, candidates) -> np.ndarray:
        """Importance estimate, split so that nothing underflows and float32 suffices.

        With ``P(s) = mean_k P[k, s]`` and the posterior weights
        ``w[s, k] = P[k, s] / Σ_k P[k, s]`` of configuration s, the candidate's
        conditional label distribution is ``q(c | s) = Σ_k w[s, k] p(c | x, ω_k)``
        and ``H ≈ −mean_s log P(s) + mean_s H[q(· | s)]``. The first term does
        not depend on the candidate (float64, once); the second is a convex
        mix of probabilities, safe in float32, whose rounding (~1e-6 nats) is far
        below the estimate's sampling error.
        """
        torch = self.torch
        table_t = self.table.T  # (M, K) float64
        totals = table_t.sum(dim=1, keepdim=True)
        batch_entropy = float(-torch.log(totals / self.n_samples).mean())
        weights = (table_t / totals).to(torch.float32).contiguous()
        n_configs = weights.shape[0]
        chunk = self._chunk(n_configs, 4)
        tiny = torch.finfo(torch.float32).tiny
        ones = torch.ones(n_configs, dtype=torch.float32, device=weights.device)
        buffer = None
        out = np.empty(len(candidates), dtype=np.float64)
        for start in range(0, len(candidates), chunk):
            index = candidates[start:start + chunk]
            rows = len(index)
            mixed = weights @ self._candidate_matrix(index, torch.float32)  # (M, n*C)
            mixed.clamp_min_(tiny)  # q = 0 only where p = 0: 0 · log 0 stays ~0
            if buffer is None or buffer.shape != mixed.shape:
                buffer = torch.empty_like(mixed)
            plogp = torch.log(mixed, out=buffer).mul_(mixed)
            total = (ones @ plogp).view(rows, self.n_classes).sum(dim=1)  # BLAS sum over M
            out[start:start + rows] = (-total.to(torch.float64) / n_configs).cpu().numpy()
        return out + batch_entropy

    def _chunk(self, n_configs: int, itemsize: int) -> int:
        """Candidates per chunk so the (M, chunk, C) tables stay under ``max_memory``."""
        per_candidate = n_configs * self.n_classes * itemsize * 3
        return max(1, int(self.max_memory // max(per_candidate, 1)))

    def _candidate_matrix(self, index, dtype):
        """Probabilities of the candidates as a (K, n·C) matrix."""
        probs = self.probs[:, index].to(dtype)  # (K, n, C), contiguous
        return probs.reshape(self.n_samples, len(index) * self.n_classes)

    # ---------------------------------------------------------------- updating
    def add(self, index: int) -> None:
        """Extend the batch with pool point ``index``."""
        torch = self.torch
        point = self.probs[:, index].to(torch.float64)  # (K, C)
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
