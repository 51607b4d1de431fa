"""One version: skal_power/_version.py, read by the build without importing the package."""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

import skal_power

ROOT = Path(__file__).resolve().parents[1]


def test_the_build_reads_the_version_without_importing_the_package():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    attr = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "skal_power._version.__version__"
    # What setuptools does while building: a static read, so a build needs no dependency.
    code = ("import sys\n"
            "from setuptools.config.expand import read_attr\n"
            f"print(read_attr({attr!r}, root_dir={str(ROOT)!r}))\n"
            "print(sorted(m for m in sys.modules if m.startswith('skal_power')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out == [skal_power.__version__, "[]"]


def test_the_package_the_console_script_and_show_versions_say_that_version(capsys):
    from skal_power import _show_versions, _version
    from skal_power.cli import main

    assert skal_power.__version__ == _version.__version__
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == f"skal-power {_version.__version__}\n"
    assert _show_versions.versions()["system"]["skal_power"] == _version.__version__


def test_installed_metadata_equals_the_package_version():
    try:
        installed = importlib.metadata.version("skal_power")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        pytest.skip("skal_power is not installed in this environment (only on the path)")
    assert installed == skal_power.__version__
