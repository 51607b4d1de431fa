"""The package version, in the one place that both the build and the package read.

pyproject.toml takes it with ``version = { attr = "skal_power._version.__version__" }``;
setuptools reads the literal below from this file without importing skal_power, so a build
needs none of the package's dependencies. ``skal_power.__version__`` re-exports it.
Change the version here only.
"""

__version__ = "0.1.0"
