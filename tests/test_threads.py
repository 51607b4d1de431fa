"""Tests for skal_power.threads: the one thread policy."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import skal_power
from skal_power._kernels import kernel_threads
from skal_power.threads import (available_cpus, limit_threads, thread_settings,
                                threads_per_worker)


def _blas_threads():
    return {info["internal_api"]: info["num_threads"] for info in threadpool_info()}


def test_threads_per_worker_divides_the_cpus():
    cpus = available_cpus()
    assert threads_per_worker(1) == cpus
    assert threads_per_worker(cpus) == 1
    assert threads_per_worker(10 * cpus) == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_counts_are_rejected(bad):
    with pytest.raises(ValueError, match="n_workers"):
        threads_per_worker(bad)
    with pytest.raises(ValueError, match="n_threads"):
        with limit_threads(bad):
            pass


def test_limit_threads_caps_every_library_and_restores(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("SKAL_POWER_NUM_THREADS", "3")
    torch_before, blas_before = torch.get_num_threads(), _blas_threads()
    with limit_threads(1):
        assert kernel_threads() == 1  # beats the environment variable
        assert torch.get_num_threads() == 1
        assert set(_blas_threads().values()) <= {1}
        with limit_threads(2):  # nested: the innermost cap wins
            assert kernel_threads() == 2
        assert kernel_threads() == 1
    assert kernel_threads() == 3
    assert torch.get_num_threads() == torch_before
    assert _blas_threads() == blas_before


def test_limit_threads_restores_after_an_error():
    with pytest.raises(RuntimeError):
        with limit_threads(1):
            raise RuntimeError("inside")
    from skal_power.threads import kernel_thread_cap

    assert kernel_thread_cap() is None


def test_scores_under_a_cap_equal_scores_without():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3000, 8, 10))
    log_probs = (logits - np.log(np.exp(logits).sum(-1, keepdims=True))).astype(np.float32)
    free = skal_power.scores.bald(log_probs)
    with limit_threads(1):
        capped = skal_power.scores.bald(log_probs)
    np.testing.assert_allclose(capped, free, rtol=0, atol=1e-12)


def test_thread_settings_reports_the_libraries():
    settings = thread_settings()
    assert settings["cpus"] == available_cpus()
    assert settings["skal_power kernels"] == kernel_threads()
    assert any(key.startswith(("blas", "openmp")) for key in settings)


def test_runner_trials_run_single_threaded(monkeypatch, tmp_path):
    """Each trial holds every library to one thread (parallel trials never oversubscribe)."""
    from skal_power.experiments import _runner

    seen = []
    original = _runner._run_trial

    def spy(*args, **kwargs):
        seen.append((kernel_threads(), set(_blas_threads().values())))
        return original(*args, **kwargs)

    monkeypatch.setattr(_runner, "_run_trial", spy)
    config = {"strategies": ["RandomSampling"], "budget": 10, "seeds": [0],
              "model": {"name": "extra_trees", "params": {"n_estimators": 3}}}
    _runner.run_experiment(config, tmp_path / "r.csv")
    assert seen == [(1, {1})] or seen == [(1, set())]
