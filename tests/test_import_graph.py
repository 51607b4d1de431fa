"""scripts/import_graph.py: the edges, the cycles, and the longest chain inside a package."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
import_graph = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(import_graph)


def test_longest_chain_counts_modules_inside_the_package_only():
    graph = {("p", "p.a"), ("p", "p.c"), ("p.a", "p.b"), ("p.b", "p.c"),
             ("p.c", "q.x"), ("q.x", "q.y"),  # outside p: not counted
             ("p.b", "p.d"), ("p2", "p.a")}   # p2 is not inside p
    assert import_graph.longest_chain(graph, "p") == ["p", "p.a", "p.b", "p.c"]
    assert import_graph.longest_chain(graph, "q") == ["q.x", "q.y"]
    assert import_graph.longest_chain(set(), "p") == []


def _tree(root, files):
    for name, text in files.items():
        path = root / "skal_power" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_depth_prints_the_chain_and_max_depth_sets_the_exit_status(tmp_path, capsys):
    root = _tree(tmp_path, {
        "__init__.py": "",
        "sub/__init__.py": "from ._a import A\nfrom ._c import C\n",
        "sub/_a.py": "from ._b import B\nfrom .. import other\n",
        "sub/_b.py": "def f():\n    from ._c import C  # deferred: still an edge\n",
        "sub/_c.py": "import numpy\n",
        "other.py": "from .sub._c import C\n",
    })
    argv = ["--root", str(root), "--depth", "skal_power.sub"]
    assert import_graph.main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        "skal_power.sub -> skal_power.sub._a -> skal_power.sub._b -> skal_power.sub._c",
        "skal_power.sub: longest import chain 4 modules"]
    assert import_graph.main(argv + ["--max-depth", "4"]) == 0
    assert import_graph.main(argv + ["--max-depth", "3"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        "skal_power.sub: longest import chain 4 modules (at most 3 allowed)")


def test_depth_fails_on_a_cycle_inside_the_package(tmp_path, capsys):
    root = _tree(tmp_path, {"__init__.py": "", "sub/__init__.py": "",
                            "sub/_a.py": "from ._b import B\n", "sub/_b.py": "from ._a import A\n"})
    assert import_graph.main(["--root", str(root), "--depth", "skal_power.sub"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "cycle: skal_power.sub._a <-> skal_power.sub._b",
        "skal_power.sub: no longest import chain, 1 cycle(s)"]


@pytest.mark.parametrize("argv, message", [
    (["--max-depth", "3"], "--max-depth needs --depth PACKAGE"),
    (["--depth", "skal_power.nothing"], "'skal_power.nothing' is not a module of skal_power"),
])
def test_depth_arguments_are_checked(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        import_graph.main(argv)
    assert exited.value.code == 2 and message in capsys.readouterr().err


def test_this_checkout_has_no_cycle_and_a_measurable_strategies_depth(capsys):
    assert import_graph.main([]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith(" 0 cycle(s)")
    assert import_graph.main(["--depth", "skal_power.strategies"]) == 0
    chain = capsys.readouterr().out.splitlines()[0].split(" -> ")
    assert chain[0] == "skal_power.strategies" and len(chain) >= 2


def test_strategies_import_chains_are_at_most_three_modules_deep(capsys):
    # issue 30: the chain was 6 modules deep across 10 files (strategies -> _batch -> _epig
    # -> _single_point -> _acquisition -> _base); the strategy modules now import _base only.
    assert import_graph.main(["--depth", "skal_power.strategies", "--max-depth", "3"]) == 0, \
        capsys.readouterr().out


def test_strategy_classes_are_at_most_four_classes_deep(capsys):
    # issue 30: PowerEvaluationBALD was 7 deep (five private bases, __init__ in a mixin)
    spec = importlib.util.spec_from_file_location("class_depth",
                                                  ROOT / "scripts" / "class_depth.py")
    class_depth = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(class_depth)
    assert class_depth.main(["--max-depth", "4"]) == 0, capsys.readouterr().out
    for name, chain, init_owner in class_depth.chains():
        # every public class has its own __init__: errors and reprs name it
        assert init_owner is chain[0] or name == "QueryStrategy", name
