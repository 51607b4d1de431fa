"""The API reference lists every public name, and every public name has an example.

Public names are the ``__all__`` of ``skal_power`` and of each public
submodule (no leading underscore). The reference is the ``autosummary`` lists
in ``docs/api/*.rst``. The site itself is built by ``scripts/build_docs.sh``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types
from pathlib import Path

import pytest

import skal_power

API_DIR = Path(__file__).resolve().parent.parent / "docs" / "api"
#: Optional dependencies: a module that needs a missing one is left out of both lists.
OPTIONAL = {"torch", "skorch", "dask", "distributed", "matplotlib"}


def _optional_missing(error: ImportError) -> bool:
    return (getattr(error, "name", None) or "").split(".")[0] in OPTIONAL


def public_modules() -> list[types.ModuleType]:
    modules = [skal_power]
    for info in pkgutil.walk_packages(skal_power.__path__, prefix="skal_power.",
                                      onerror=lambda name: None):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        try:
            modules.append(importlib.import_module(info.name))
        except ImportError as error:
            if not _optional_missing(error):
                raise
    return modules


def public_objects() -> dict[str, object]:
    """``{qualified name: object}`` for every name in a public ``__all__``."""
    found = {}
    for module in public_modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType) or name.startswith("__"):
                continue
            found.setdefault(id(obj), (f"{module.__name__}.{name}", obj))
    return dict(found.values())


def documented_objects() -> dict[str, object]:
    """Objects listed in the autosummary tables (or ``py:data``) of ``docs/api/*.rst``."""
    documented = {}
    for page in sorted(API_DIR.glob("*.rst")):
        module = "skal_power"
        in_autosummary = False
        for line in page.read_text().splitlines():
            current = re.match(r"\.\. currentmodule:: (\S+)", line)
            if current:
                module = current.group(1)
            data = re.match(r"\.\. py:data:: (\S+)", line)
            if data and available(f"{module}.{data.group(1)}"):
                documented[f"{module}.{data.group(1)}"] = resolve(f"{module}.{data.group(1)}")
            if line.startswith(".. "):
                in_autosummary = line.startswith(".. autosummary::")
                continue
            entry = re.match(r"^   ([A-Za-z_][\w.]*)\s*$", line)
            if in_autosummary and entry and available(f"{module}.{entry.group(1)}"):
                path = f"{module}.{entry.group(1)}"
                documented[path] = resolve(path)
    return documented


def available(path: str) -> bool:
    """False for a name in a module that needs an optional dependency not installed here."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            importlib.import_module(".".join(parts[:split]))
        except ImportError as error:
            if _optional_missing(error):
                return False
            continue
        return True
    return True


def resolve(path: str) -> object:
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(path)


def test_documented_names_exist():
    # resolve() raises for a listed name that the package does not have.
    assert len(documented_objects()) > 0


def test_every_public_name_is_in_the_api_reference():
    documented = {id(obj) for obj in documented_objects().values()}
    missing = sorted(name for name, obj in public_objects().items() if id(obj) not in documented)
    assert not missing, f"add these to docs/api/index.rst: {missing}"


@pytest.mark.parametrize("name", sorted(
    name for name, obj in documented_objects().items() if callable(obj)))
def test_every_documented_class_and_function_has_an_example(name):
    doc = inspect.getdoc(resolve(name)) or ""
    assert re.search(r"^Examples\n-{8}", doc, re.MULTILINE), (
        f"{name} has no numpydoc 'Examples' section")
    assert ">>>" in doc.split("Examples", 1)[1], f"{name}: Examples has no doctest"
