"""Joint entropy of a growing batch plus one candidate, for every candidate.

For one model with K posterior samples, a label configuration m of the batch
``x_1..x_b`` has the per-sample likelihoods ``P[k, m] = Π_i p(y_i = m_i | x_i,
ω_k)`` and the marginal ``P(m) = mean_k P[k, m]``. Adding candidate x with
label c gives the joint ``P(m, c) = mean_k P[k, m] p(c | x, ω_k)``.

* **Exact**: the C^b configurations are enumerated while ``C^b · K`` stays at
  most ``max_exact_size`` (by default ``K · n_configurations``);
  ``H = −Σ_{m,c} P(m,c) log P(m,c)``, one matrix product
  ``Pᵀ (M×K) @ p_x (K×C)`` per candidate, batched over candidates.
* **Sampled**: beyond that bound, M = ``n_configurations`` configurations
  are drawn **afresh at every greedy step** from the batch's joint (draw k
  uniformly, then each ``y_i ~ p(·|x_i, ω_k)``; stratified, M/K per sample),
  as batchbald_redux does.
  Configurations are never carried from one step to the next, so a pick that
  maximised its estimate on one draw does not bias the next estimate (the
  winner's curse that carried-forward configurations pile up).

  The likelihood table is kept in log space, ``L[k, s] = Σ_i log p(y_i^s |
  x_i, ω_k)``, so it cannot underflow however long the batch grows. From it
  come the posterior weights of each configuration, ``w[s, k] = softmax_k
  L[k, s]``, and, with ``k_s`` the sample configuration s was drawn from,

      H[y_batch] ≈ mean_s (log K + log w[s, k_s]) + Σ_i mean_k H[y_i | ω_k]

  (``log K + log w[s, k_s] = log p(s | ω_{k_s}) − log P(s)``, whose mean is
  ``I[y_batch; ω]``; the exact conditional entropies enter as a control
  variate, so the estimate's spread is that of the mutual information, not
  of ``−log P(s)``). Every term ``log K + log w[s, k_s]`` is at most log K, so
  an estimated BatchBALD can never exceed the entropy of K equally weighted
  samples. A candidate adds ``H[y_x | y_batch] ≈ mean_s H[q(·|s)]`` with
  ``q(c|s) = Σ_k w[s, k] p(c | x, ω_k)``, a convex mix of probabilities that
  is safe in float32.

  The batch's own estimate comes with its standard error,
  ``sd_s(log w[s, k_s]) / sqrt(M)`` (:meth:`JointEntropyTracker.batch_entropy`).

  As the batch grows the weights concentrate (each configuration is explained
  by few posterior samples). Once at most ``SPARSE_DENSITY`` of them are at
  least ``SPARSE_WEIGHT`` (= τ), the compiled kernel forms each ``q(·|s)`` from
  those alone: a cost of (stored weights) × n·C instead of M·K·n·C. Dropping
  at most δ = K·τ of each row's weight changes each ``H[q(·|s)]`` by at most
  ``δ (1 + log(C / δ))`` nats (2e-6 at K = 100, C = 10), far below the
  estimate's sampling error.

Work is chunked over candidates (and, when drawing, over batch points) so
that no table exceeds ``max_memory`` bytes whatever N and B are.

The tables are torch tensors when the tracker is given torch (any device), and
numpy arrays when it is given ``None`` (torch is not installed, or
``SKAL_POWER_BACKEND=numpy``): the same arithmetic in the same precision, on
the CPU, with the compiled kernel where it is built; the picks are the same.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp, xlogy

from .._kernels import (_map_in_threads, joint_plogp_kernel, mixture_plogp_kernel,
                        pad_configurations)
from ..threads import kernel_threads

__all__ = ["JointEntropyTracker"]


def _as_numpy(array):
    """A CPU table as a numpy array (a torch tensor's memory is shared, not copied)."""
    return array if isinstance(array, np.ndarray) else array.numpy()

_TINY64 = np.finfo(np.float64).tiny
#: Unit roundoff of float32.
_UNIT32 = 2.0 ** -24
#: Terms per float32 partial sum of the screening pass (then summed in float64).
_SCREEN_BLOCK = 64
#: Fewest configurations for which the float32 screen is worth a verification step.
SCREEN_MIN_CONFIGURATIONS = 100
#: Sampled regime: posterior weights below this are dropped when the sparse kernel runs.
SPARSE_WEIGHT = 1e-9
#: Sampled regime: the sparse kernel runs when at most this share of the weights remain.
SPARSE_DENSITY = 0.25
#: The sparse kernel steps through candidate columns 64 at a time.
_MIXTURE_COLUMNS = 64


class JointEntropyTracker:
    """Joint-entropy state of one model's batch (see module docstring).

    Parameters
    ----------
    torch : module or None
        The torch module, or None for numpy tables (CPU only).
    probs : torch.Tensor or numpy.ndarray of shape (K, N, C), float32 or float64
        Probabilities (not logs) of every pool point, posterior sample first:
        a chunk of candidates is then a (K, n·C) matrix without copying. A
        numpy array when ``torch`` is None.
    expected_entropy : numpy.ndarray of shape (N,)
        ``mean_k H[y_n | ω_k]`` of every pool point (the control variate).
    max_exact_size : int or None
        Largest ``C^b · K`` handled exactly; None: ``K · n_configurations``.
    n_configurations : int
        Number M of configurations drawn at each step of the sampled regime
        (rounded up to a multiple of K: the draw is stratified over samples).
    max_memory : int
        Bytes allowed for one chunk's tables.
    rng : numpy.random.Generator
        Source of the sampled configurations.
    """

    def __init__(self, torch, probs, expected_entropy=None, *, max_exact_size: int | None,
                 n_configurations: int, max_memory: int, rng: np.random.Generator) -> None:
        self.torch = torch
        self.probs = probs
        n_samples, _, n_classes = probs.shape
        self.n_samples, self.n_classes = n_samples, n_classes
        # numpy tables live on the CPU; torch's wherever probs does
        self._on_cpu = torch is None or probs.device.type == "cpu"
        self._float32, self._float64 = ((np.float32, np.float64) if torch is None
                                        else (torch.float32, torch.float64))
        if expected_entropy is None and torch is None:
            expected_entropy = -xlogy(probs, probs).sum(axis=2).mean(axis=0)
        elif expected_entropy is None:
            plogp = torch.special.xlogy(probs, probs).sum(dim=2)  # (K, N)
            expected_entropy = (-plogp.mean(dim=0)).to(torch.float64).cpu().numpy()
        self.expected_entropy = np.asarray(expected_entropy, dtype=np.float64)
        if max_exact_size is None:  # exact while enumerating costs no more than sampling
            max_exact_size = n_samples * n_configurations
        self.max_exact_size = max_exact_size
        self.n_configurations = n_configurations
        self.max_memory = max_memory
        self.rng = rng
        self.batch: list[int] = []
        # exact regime: P[k, m], product of the batch's per-sample label probabilities
        self.table = (np.ones((n_samples, 1)) if torch is None else
                      torch.ones((n_samples, 1), dtype=torch.float64, device=probs.device))
        self.sampled = False
        self._draw = None  # sampled regime: (weights, batch entropy, its standard error)
        self._sparse = None  # the draw's weights as a CSR matrix, False when dense (per draw)

    # ------------------------------------------------------------------ scoring
    def candidate_entropies(self, candidates) -> np.ndarray:
        """``H[y_batch, y_x]`` for each candidate index, float64 numpy array."""
        if self.sampled:
            return self._sampled_entropies(candidates)
        torch = self.torch
        n_configs = self.table.shape[1]
        on_cpu = self._on_cpu
        table_t = (np.ascontiguousarray(self.table.T) if torch is None
                   else self.table.T.contiguous())  # (M, K)
        threads = kernel_threads() if on_cpu else 1
        # the memory bound covers the chunks of every thread together
        chunk = max(1, self._chunk(n_configs, 8) // threads)
        ones = np.ones(n_configs) if on_cpu else None
        out = np.empty(len(candidates), dtype=np.float64)

        def work(start: int) -> None:
            index = candidates[start:start + chunk]
            rows = len(index)
            joint = (table_t @ self._candidate_matrix(index, self._float64))
            joint /= self.n_samples  # (M, n*C)
            if on_cpu:
                # numpy's vectorised log is several times faster than torch's xlogy on
                # CPUs; log(max(J, tiny)) makes 0 · log 0 exactly 0
                values = _as_numpy(joint)
                plogp = np.log(np.maximum(values, _TINY64))
                plogp *= values
                totals = ones @ plogp  # over configurations, one BLAS pass
                out[start:start + rows] = -totals.reshape(rows, self.n_classes).sum(axis=1)
            else:
                plogp = torch.special.xlogy(joint, joint).sum(dim=0)  # over configurations
                out[start:start + rows] = (
                    -plogp.view(rows, self.n_classes).sum(dim=1)).cpu().numpy()

        _map_in_threads(work, range(0, len(candidates), chunk))
        return out

    def screened_entropies(self, candidates) -> tuple[np.ndarray, np.ndarray]:
        """Fast ``H[y_batch, y_x]`` for each candidate, with a bound on each one's error.

        In the exact regime, with at least ``SCREEN_MIN_CONFIGURATIONS``
        configurations, the joint is formed in float32, its ``p log p`` is
        computed in float32 and summed in float32 blocks of at most 64 terms,
        then in float64. On CPUs with the compiled kernel built, one fused
        pass does all three without writing the joint to memory
        (:func:`skal_power._kernels.joint_plogp_kernel`); elsewhere a float32
        torch matrix product and log. Both are several times faster than the
        float64 pass of :meth:`candidate_entropies`. Numpy tables without the
        compiled kernel take the float64 pass itself, with zero errors.

        Each value is within ``4 (K + 75) u (|H| + 1) + 4e-9`` of the float64
        value, with ``u = 2^-24``. The terms are:

        * the rounding of the inputs, the K-term product and the 1/K scale,
          ``(K + 3) u`` relative to each joint entry;
        * the float32 log, ``8 u`` relative (the native kernel's own series;
          torch's is within ``3 u``), plus a truncation below ``1e-9``;
        * the block sums, ``64 u``;
        * a safety factor of 4.

        Callers re-score in float64 every candidate within the bounds of the
        best, so the picks are those of the float64 kernel. Otherwise (sampled
        regime, or few configurations) this returns
        :meth:`candidate_entropies` with zero errors.
        """
        n_configs = None if self.sampled else self.table.shape[1]
        if n_configs is None or n_configs < SCREEN_MIN_CONFIGURATIONS:
            values = self.candidate_entropies(candidates)
            return values, np.zeros_like(values)
        kernel = joint_plogp_kernel() if self._on_cpu else None
        if kernel is not None:
            out = self._native_screen(kernel, candidates)
        elif self.torch is None:
            values = self.candidate_entropies(candidates)
            return values, np.zeros_like(values)
        else:
            out = self._torch_screen(candidates, n_configs)
        errors = 4.0 * (self.n_samples + 75) * _UNIT32 * (np.abs(out) + 1.0) + 4e-9
        return out, errors

    def _native_screen(self, kernel, candidates) -> np.ndarray:
        """Screened joint entropies by the fused native kernel (CPU tables)."""
        table = pad_configurations(_as_numpy(self.table))  # (K, W), float32
        return -self._native_sums(kernel, table, candidates, 1.0 / self.n_samples)

    def _torch_screen(self, candidates, n_configs: int) -> np.ndarray:
        """Screened joint entropies by a float32 torch product and log (any device)."""
        torch = self.torch
        width = -(-n_configs // _SCREEN_BLOCK) * _SCREEN_BLOCK  # zero-padded configurations
        table = torch.zeros((self.n_samples, width), dtype=torch.float32,
                            device=self.table.device)
        table[:, :n_configs] = self.table / self.n_samples
        threads = kernel_threads() if table.device.type == "cpu" else 1
        chunk = max(1, self._chunk(width, 4) // threads)
        tiny = torch.finfo(torch.float32).tiny
        out = np.empty(len(candidates), dtype=np.float64)

        def work(start: int) -> None:
            index = candidates[start:start + chunk]
            rows = len(index)
            columns = self._candidate_matrix(index, torch.float32)  # (K, n*C)
            joint = (columns.T @ table).clamp_min_(tiny)  # (n*C, width); 0 log 0 stays 0
            plogp = torch.log(joint).mul_(joint)
            partial = plogp.view(rows * self.n_classes, width // _SCREEN_BLOCK,
                                 _SCREEN_BLOCK).sum(dim=2)
            totals = partial.sum(dim=1, dtype=torch.float64).view(rows, self.n_classes)
            out[start:start + rows] = (-totals.sum(dim=1)).cpu().numpy()

        _map_in_threads(work, range(0, len(candidates), chunk))
        return out

    def batch_entropy(self) -> tuple[float, float]:
        """``H[y_batch]`` of the batch so far and its standard error (0 while exact)."""
        if self.sampled:
            _, entropy, standard_error = self._current_draw()
            return entropy, standard_error
        if self.torch is None:
            marginal = self.table.mean(axis=0)
            return float(-xlogy(marginal, marginal).sum()), 0.0
        marginal = self.table.mean(dim=0)
        return float(-self.torch.special.xlogy(marginal, marginal).sum()), 0.0

    def _sampled_entropies(self, candidates) -> np.ndarray:
        """``H[y_batch] + mean_s H[q(·|s)]`` on this step's configurations.

        ``q(c | s) = Σ_k w[s, k] p(c | x, ω_k)`` is a convex mix of
        probabilities, computed in float32: its rounding (~1e-6 nats) is far
        below the estimate's sampling error. On CPUs with the compiled kernel
        the mix, its ``q log q`` and the sums over configurations are one
        fused pass (:func:`skal_power._kernels.joint_plogp_kernel`).
        """
        weights, batch_entropy, _ = self._current_draw()
        n_configs = weights.shape[0]
        kernel = joint_plogp_kernel() if self._on_cpu else None
        sparse = self._sparse_weights(weights) if kernel is not None else None
        if sparse is not None:
            sums = self._native_mixture_sums(mixture_plogp_kernel(), sparse, candidates)
        elif kernel is not None:
            table = pad_configurations(_as_numpy(weights).T)  # (K, M)
            sums = self._native_sums(kernel, table, candidates, 1.0)
        elif self.torch is None:
            sums = self._numpy_sampled_sums(weights, candidates)
        else:
            sums = self._torch_sampled_sums(weights, candidates)
        return -sums / n_configs + batch_entropy

    def _sparse_weights(self, weights):
        """This draw's weights of at least ``SPARSE_WEIGHT`` as a CSR matrix, or None.

        None when the sparse kernel is not built or more than ``SPARSE_DENSITY``
        of the weights would remain (the dense kernel is then faster). Computed
        once per draw.
        """
        if self._sparse is None:
            self._sparse = False
            if mixture_plogp_kernel() is not None:
                values = _as_numpy(weights)
                keep = values >= SPARSE_WEIGHT
                counts = keep.sum(axis=1)
                if counts.sum() <= SPARSE_DENSITY * values.size:
                    indptr = np.zeros(len(values) + 1, dtype=np.int64)
                    np.cumsum(counts, out=indptr[1:])
                    rows = np.nonzero(keep)[1].astype(np.int32)
                    self._sparse = (indptr, rows, values[keep])
        return self._sparse or None

    def _native_sums(self, kernel, table: np.ndarray, candidates, scale: float) -> np.ndarray:
        """``Σ_{s,c} q log q`` per candidate, ``q = scale · table[:, s] · p(c|x, ω)``."""
        def sums(columns: np.ndarray) -> np.ndarray:
            out = np.empty(columns.shape[1], dtype=np.float64)
            kernel(table, columns, out, scale)
            return out

        return self._column_sums(candidates, sums)

    def _native_mixture_sums(self, kernel, sparse, candidates) -> np.ndarray:
        """``Σ_{s,c} q log q`` per candidate from sparse weights (the compiled kernel)."""
        def sums(columns: np.ndarray) -> np.ndarray:
            width = columns.shape[1]
            padded = np.zeros((self.n_samples, -(-width // _MIXTURE_COLUMNS) * _MIXTURE_COLUMNS),
                              dtype=np.float32)
            padded[:, :width] = columns
            out = np.empty(padded.shape[1], dtype=np.float64)
            kernel(*sparse, padded, out)
            return out[:width]

        return self._column_sums(candidates, sums)

    def _column_sums(self, candidates, sums) -> np.ndarray:
        """Per candidate, ``sums(columns)`` added over its C classes, on the kernel threads.

        ``sums`` maps a chunk's (K, n·C) float32 columns to n·C float64 values.
        The fused kernels store no (configurations × candidates) table, so a
        chunk is only its columns: ``max_memory`` bounds them over all threads.
        """
        threads = kernel_threads()
        per_candidate = self.n_samples * self.n_classes * 4
        chunk = max(1, min(-(-len(candidates) // threads),
                           int(self.max_memory // (per_candidate * threads))))
        out = np.empty(len(candidates), dtype=np.float64)

        def work(start: int) -> None:
            index = candidates[start:start + chunk]
            rows = len(index)
            columns = _as_numpy(self._candidate_matrix(index, self._float32))
            out[start:start + rows] = sums(columns).reshape(rows, self.n_classes).sum(axis=1)

        _map_in_threads(work, range(0, len(candidates), chunk))
        return out

    def _torch_sampled_sums(self, weights, candidates) -> np.ndarray:
        """``Σ_{s,c} q log q`` per candidate by float32 torch products (any device)."""
        torch = self.torch
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
            out[start:start + rows] = total.to(torch.float64).cpu().numpy()
        return out

    def _numpy_sampled_sums(self, weights: np.ndarray, candidates) -> np.ndarray:
        """``Σ_{s,c} q log q`` per candidate by float32 numpy products (no compiled kernel)."""
        n_configs = weights.shape[0]
        chunk = self._chunk(n_configs, 4)
        tiny = np.finfo(np.float32).tiny
        ones = np.ones(n_configs, dtype=np.float32)
        out = np.empty(len(candidates), dtype=np.float64)
        for start in range(0, len(candidates), chunk):
            index = candidates[start:start + chunk]
            rows = len(index)
            mixed = weights @ self._candidate_matrix(index, np.float32)  # (M, n*C)
            np.maximum(mixed, tiny, out=mixed)  # q = 0 only where p = 0: 0 · log 0 stays ~0
            plogp = np.log(mixed)
            plogp *= mixed
            total = (ones @ plogp).reshape(rows, self.n_classes).sum(axis=1)  # over M
            out[start:start + rows] = total.astype(np.float64)
        return out

    def _chunk(self, n_configs: int, itemsize: int) -> int:
        """Candidates per chunk so the (M, chunk, C) tables stay under ``max_memory``."""
        per_candidate = n_configs * self.n_classes * itemsize * 3
        return max(1, int(self.max_memory // max(per_candidate, 1)))

    def _candidate_matrix(self, index, dtype):
        """Probabilities of the candidates as a (K, n·C) matrix."""
        probs = self.probs[:, index]  # (K, n, C), contiguous
        probs = probs.astype(dtype, copy=False) if self.torch is None else probs.to(dtype)
        return probs.reshape(self.n_samples, len(index) * self.n_classes)

    # ---------------------------------------------------------------- updating
    def add(self, index: int) -> None:
        """Extend the batch with pool point ``index``."""
        self.batch.append(int(index))
        if self.sampled:
            self._draw = None  # the next score draws fresh configurations
            return
        n_configs = self.table.shape[1]
        if n_configs * self.n_classes * self.n_samples <= self.max_exact_size:
            point = self.probs[:, index]  # (K, C)
            point = (point.astype(np.float64) if self.torch is None
                     else point.to(self.torch.float64))
            self.table = (self.table[:, :, None] * point[:, None, :]).reshape(self.n_samples, -1)
        else:
            self.sampled, self.table, self._draw = True, None, None

    def _current_draw(self):
        if self._draw is None:
            self._draw, self._sparse = self._draw_configurations(), None
        return self._draw

    def _draw_configurations(self):
        """Draw configurations of the whole batch from its joint, in log space.

        Stratified over posterior samples: ``S = ceil(M / K)`` configurations
        from each ω_k (so ``K·S >= M`` in all), each label by inverse CDF.
        Returns the posterior weights ``w`` (K·S, K) in float32, the batch's
        entropy estimate and its standard error.
        """
        if self.torch is None:
            return self._draw_configurations_numpy()
        torch = self.torch
        n_samples, n_classes = self.n_samples, self.n_classes
        per_sample = -(-self.n_configurations // n_samples)
        n_draws = per_sample * n_samples
        device = self.probs.device
        batch = torch.as_tensor(self.batch, device=device)
        log_table = torch.zeros((n_draws, n_samples), dtype=torch.float64, device=device)
        # batch points per chunk: per point and configuration a uniform (and its
        # transposed copy), a label and two flat indices, 8 bytes each; the (M, K) table
        # itself is the same for any chunk. One point per chunk would make the gathers
        # below a loop of b small calls.
        chunk = max(1, int(self.max_memory // (n_draws * 5 * 8)))
        for start in range(0, len(self.batch), chunk):
            points = batch[start:start + chunk]
            n_points = len(points)
            probs = self.probs[:, points].to(torch.float64)  # (K, b, C)
            cumulative = probs.cumsum(dim=2)
            cumulative /= cumulative[:, :, -1:].clone()
            # uniforms drawn point by point: the stream does not depend on the chunk size
            uniforms = self.rng.random((n_points, n_samples, per_sample))
            uniforms = torch.from_numpy(uniforms).to(device).transpose(0, 1).contiguous()
            labels = torch.searchsorted(cumulative, uniforms, right=True)  # (K, b, S)
            labels.clamp_max_(n_classes - 1)
            # flat index i·C + y of each (point, configuration), configurations k-major
            offsets = torch.arange(n_points, device=device)[:, None] * n_classes
            flat = labels.permute(1, 0, 2).reshape(n_points, n_draws) + offsets
            # rows of K log-probabilities, one per (point, label); summed per
            # configuration without materialising the (b, K·S, K) gather
            log_probs = torch.log(probs).permute(1, 2, 0).reshape(n_points * n_classes,
                                                                  n_samples)
            log_table += torch.nn.functional.embedding_bag(  # -inf only where p = 0
                flat.T.contiguous(), log_probs, mode="sum")
        log_table = log_table.T  # (K, K·S)
        log_weights = log_table - torch.logsumexp(log_table, dim=0, keepdim=True)  # (K, K·S)
        own = log_weights.view(n_samples, n_samples, per_sample)  # [k', k, s]
        own = own[torch.arange(n_samples), torch.arange(n_samples)]  # log w[(k, s), k]: (K, S)
        values = own + math.log(n_samples)  # each at most log K
        conditional = float(self.expected_entropy[self.batch].sum())
        entropy = float(values.mean()) + conditional
        if per_sample > 1:  # stratified: mean of the K strata's variances over K·S
            standard_error = math.sqrt(float(values.var(dim=1).mean()) / n_draws)
        else:
            standard_error = float(values.std()) / math.sqrt(n_draws)
        weights = log_weights.T.exp().to(torch.float32).contiguous()
        return weights, entropy, standard_error

    def _draw_configurations_numpy(self):
        """:meth:`_draw_configurations` on numpy tables: the same draws, stream and sums."""
        n_samples, n_classes = self.n_samples, self.n_classes
        per_sample = -(-self.n_configurations // n_samples)
        n_draws = per_sample * n_samples
        batch = np.asarray(self.batch, dtype=np.intp)
        log_table = np.zeros((n_draws, n_samples), dtype=np.float64)
        # as the torch path, plus one (K, b, S) comparison per class for the labels
        chunk = max(1, int(self.max_memory // (n_draws * 6 * 8)))
        for start in range(0, len(batch), chunk):
            points = batch[start:start + chunk]
            n_points = len(points)
            probs = self.probs[:, points].astype(np.float64)  # (K, b, C)
            cumulative = probs.cumsum(axis=2)
            cumulative /= cumulative[:, :, -1:].copy()
            uniforms = self.rng.random((n_points, n_samples, per_sample))
            uniforms = np.ascontiguousarray(uniforms.transpose(1, 0, 2))  # (K, b, S)
            # searchsorted(right=True): the number of cumulative values <= u
            labels = np.zeros(uniforms.shape, dtype=np.intp)
            for label in range(n_classes):
                labels += cumulative[:, :, label:label + 1] <= uniforms
            np.minimum(labels, n_classes - 1, out=labels)
            offsets = np.arange(n_points)[:, None] * n_classes
            flat = labels.transpose(1, 0, 2).reshape(n_points, n_draws) + offsets
            with np.errstate(divide="ignore"):  # -inf only where p = 0
                log_probs = np.log(probs).transpose(1, 2, 0).reshape(n_points * n_classes,
                                                                      n_samples)
            bag = log_probs[flat[0]]  # per configuration, summed over the chunk's points
            for row in flat[1:]:
                bag += log_probs[row]
            log_table += bag
        log_table = log_table.T  # (K, K·S)
        log_weights = log_table - logsumexp(log_table, axis=0, keepdims=True)
        own = log_weights.reshape(n_samples, n_samples, per_sample)  # [k', k, s]
        own = own[np.arange(n_samples), np.arange(n_samples)]  # log w[(k, s), k]: (K, S)
        values = own + math.log(n_samples)
        conditional = float(self.expected_entropy[self.batch].sum())
        entropy = float(values.mean()) + conditional
        if per_sample > 1:
            standard_error = math.sqrt(float(values.var(axis=1, ddof=1).mean()) / n_draws)
        else:
            standard_error = float(values.std(ddof=1)) / math.sqrt(n_draws)
        weights = np.ascontiguousarray(np.exp(log_weights.T).astype(np.float32))
        return weights, entropy, standard_error
