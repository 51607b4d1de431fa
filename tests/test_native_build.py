"""The compiled kernel is optional: an install without a C compiler still works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="the compiler is switched off through CC")
def test_install_without_a_compiler_falls_back_to_the_python_kernels(tmp_path):
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "setup.cfg", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "skal_power", source / "skal_power",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    target = tmp_path / "site"
    env = dict(os.environ, CC=str(tmp_path / "no-such-compiler"), PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
         "--no-cache-dir", "--target", str(target), str(source)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not list((target / "skal_power").glob("_native*.so"))
    check = (
        "import sys\n"
        # an editable install of the checkout (this test environment's) would win otherwise
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)]\n"
        "import numpy as np\n"
        "import skal_power\n"
        f"assert skal_power.__file__.startswith({str(target)!r}), skal_power.__file__\n"
        "from skal_power._kernels import native_or_none\n"
        "from skal_power.scores import bald\n"
        "assert native_or_none() is None\n"
        "agree = np.log(np.full((1, 2, 2), 0.5))\n"
        "print(float(bald(agree)[0]))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    env.pop("SKAL_POWER_BACKEND", None)
    ran = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert float(ran.stdout) == 0.0
