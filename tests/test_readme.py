"""The README's Python snippets run as written, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_its_snippets():
    blocks = snippets()
    assert len(blocks) == 3
    assert "load_digits" in blocks[0] and "ActiveLearner" in blocks[1]


@pytest.mark.parametrize("upto", range(len(snippets())))
def test_readme_snippet_runs(upto):
    blocks = snippets()
    if "modAL" in blocks[upto]:
        pytest.importorskip("modAL", reason="the snippet needs modAL-python")
    namespace: dict = {}
    for block in blocks[: upto + 1]:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    if upto == 0:
        assert len(namespace["indices"]) == 10 and len(set(namespace["indices"])) == 10
    if upto == 1:
        assert len(namespace["query_idx"]) == 10
