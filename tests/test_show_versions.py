"""Tests for skal_power.show_versions and skal_power.active_kernel."""

from __future__ import annotations

import io

import pytest

import skal_power
from skal_power._show_versions import versions


def test_show_versions_names_package_dependencies_kernel_and_threads():
    out = io.StringIO()
    skal_power.show_versions(file=out)
    text = out.getvalue()
    for needle in ("skal_power: " + skal_power.__version__, "python:", "numpy:", "sklearn:",
                   "torch:", "skorch:", "dask:", "modAL:", "scoring kernel: ", "why: ",
                   "Threads", "skal_power kernels: "):
        assert needle in text, needle


def test_show_versions_prints_to_stdout_by_default(capsys):
    skal_power.show_versions()
    assert "scoring kernel" in capsys.readouterr().out


@pytest.mark.parametrize("backend_name", ["numpy", "torch", "native"])
def test_active_kernel_follows_the_backend_choice(monkeypatch, backend_name):
    from skal_power._kernels import native_or_none, torch_or_none

    monkeypatch.setenv("SKAL_POWER_BACKEND", backend_name)
    if backend_name == "torch" and torch_or_none() is None:
        pytest.skip("torch is not installed")
    if backend_name == "native":
        try:
            native_or_none()
        except ImportError:
            with pytest.raises(ImportError, match="not built"):
                skal_power.active_kernel()
            return
    assert skal_power.active_kernel() == backend_name
    assert versions()["kernel"] == {"name": backend_name,
                                    "reason": f"SKAL_POWER_BACKEND={backend_name} chose it"}


def test_active_kernel_by_default_is_the_one_entropy_terms_uses(monkeypatch):
    from skal_power._kernels import native_or_none, torch_or_none

    monkeypatch.delenv("SKAL_POWER_BACKEND", raising=False)
    expected = ("native" if native_or_none() is not None
                else "torch" if torch_or_none() is not None else "numpy")
    assert skal_power.active_kernel() == expected


def test_missing_dependencies_are_reported_not_raised(monkeypatch):
    from skal_power import _show_versions

    monkeypatch.setitem(_show_versions._DEPENDENCIES, "no-such-distribution-xyz", "xyz")
    assert versions()["dependencies"]["xyz"] is None
    out = io.StringIO()
    skal_power.show_versions(file=out)
    assert "xyz: not installed" in out.getvalue()
