"""The one build step pyproject.toml cannot state stably: the optional compiled kernel.

All package metadata lives in pyproject.toml. ``skal_power/_native.c`` is plain C against
the CPython API (no numpy headers). ``optional=True``: where no C compiler is found the
install still succeeds, with a warning, and skal_power uses its torch or numpy kernel
(the same scores, slower; see docs/install.rst).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("skal_power._native", sources=["skal_power/_native.c"],
                             optional=True)])
