"""Print the import graph of ``skal_power``: one ``module -> module`` edge per line.

Every ``import`` inside the package is counted, at module level or inside a
function (a deferred import is still a dependency), between modules of the
package only; edges to a module's own ancestor packages are left out (importing
a module imports them anyway), as are compiled extensions (``_native``). Cycles
(strongly connected components of more than one module) are listed after the
edges; the script exits 1 if there is one.

``--depth PACKAGE`` prints instead the longest import chain among the modules of
one subpackage (its ``__init__`` included), counted in modules: how many files a
reader of the package must hold in mind to follow one import path. With
``--max-depth N`` the script also exits 1 if that chain is longer than N modules.

    python scripts/import_graph.py            # edges between modules
    python scripts/import_graph.py --packages # edges between subpackages
    python scripts/import_graph.py --depth skal_power.strategies --max-depth 3
    git worktree add /tmp/old <commit> && python scripts/import_graph.py --root /tmp/old
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "skal_power"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _owner(target: str, modules: dict[str, Path]) -> str:
    """The longest prefix of ``target`` that is a module of the package ('' if none)."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target


def edges(modules: dict[str, Path]) -> set[tuple[str, str]]:
    found = set()
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [_owner(alias.name, modules) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = resolve(name, is_package, node)
                # "from .pkg import module" depends on the module, "from .mod import f" on mod
                targets = [_owner(f"{base}.{alias.name}", modules) for alias in node.names]
            else:
                continue
            # importing a module imports its ancestor packages anyway: no edge to them
            found |= {(name, t) for t in targets
                      if t and t != name and not name.startswith(t + ".")}
    return found


def cycles(graph: set[tuple[str, str]]) -> list[list[str]]:
    nodes = sorted({n for edge in graph for n in edge})
    successors = {n: sorted(b for a, b in graph if a == n) for n in nodes}
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for succ in successors[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in nodes:
        if node not in index:
            visit(node)
    return result


def longest_chain(graph: set[tuple[str, str]], package: str) -> list[str]:
    """The longest path of import edges among ``package`` and its modules.

    The graph restricted to those modules must have no cycle (check with
    :func:`cycles` first). Of equally long chains, the first in name order.
    """
    def inside(name):
        return name == package or name.startswith(package + ".")

    nodes = sorted({n for edge in graph for n in edge if inside(n)})
    successors = {n: sorted(b for a, b in graph if a == n and inside(b)) for n in nodes}
    memo: dict[str, list[str]] = {}

    def chain_from(node):  # the longest chain that starts at node
        if node not in memo:
            memo[node] = [node] + max((chain_from(s) for s in successors[node]),
                                      key=len, default=[])
        return memo[node]

    sys.setrecursionlimit(10_000)
    return max((chain_from(n) for n in nodes), key=len, default=[])


def _depth_report(graph: set[tuple[str, str]], package: str, max_depth: int | None) -> int:
    inner = {(a, b) for a, b in graph
             if all(n == package or n.startswith(package + ".") for n in (a, b))}
    found = cycles(inner)
    for component in found:
        print("cycle: " + " <-> ".join(component))
    if found:
        print(f"{package}: no longest import chain, {len(found)} cycle(s)")
        return 1
    chain = longest_chain(inner, package)
    print(" -> ".join(chain))
    print(f"{package}: longest import chain {len(chain)} modules"
          + ("" if max_depth is None else f" (at most {max_depth} allowed)"))
    return 1 if max_depth is not None and len(chain) > max_depth else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="checkout to read (default: this one)")
    parser.add_argument("--packages", action="store_true",
                        help="collapse modules into their subpackage (skal_power.strategies)")
    parser.add_argument("--depth", metavar="PACKAGE",
                        help="print the longest import chain inside this subpackage "
                        "(e.g. skal_power.strategies), counted in modules")
    parser.add_argument("--max-depth", type=int, metavar="N",
                        help="with --depth: exit 1 if that chain is longer than N modules")
    args = parser.parse_args(argv)
    if args.max_depth is not None and args.depth is None:
        parser.error("--max-depth needs --depth PACKAGE")
    root = args.root.resolve()
    modules = {module_name(p, root): p for p in sorted((root / PACKAGE).rglob("*.py"))}
    graph = edges(modules)
    if args.depth is not None:
        if args.depth not in modules:
            parser.error(f"--depth: {args.depth!r} is not a module of {PACKAGE} under {root}")
        return _depth_report(graph, args.depth, args.max_depth)
    if args.packages:
        def collapse(name):
            parts = name.split(".")
            return ".".join(parts[:2]) if len(parts) > 1 else name
        graph = {(collapse(a), collapse(b)) for a, b in graph if collapse(a) != collapse(b)}
    for a, b in sorted(graph):
        print(f"{a} -> {b}")
    found = cycles(graph)
    for component in found:
        print("cycle: " + " <-> ".join(component))
    print(f"{len(graph)} edges, {len(found)} cycle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
