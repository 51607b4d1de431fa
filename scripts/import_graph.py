"""Print the import graph of ``skal_power``: one ``module -> module`` edge per line.

Every ``import`` inside the package is counted, at module level or inside a
function (a deferred import is still a dependency), between modules of the
package only; edges to a module's own ancestor packages are left out (importing
a module imports them anyway), as are compiled extensions (``_native``). Cycles (strongly connected components of more than one module)
are listed after the edges; the script exits 1 if there is one.

    python scripts/import_graph.py            # edges between modules
    python scripts/import_graph.py --packages # edges between subpackages
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="checkout to read (default: this one)")
    parser.add_argument("--packages", action="store_true",
                        help="collapse modules into their subpackage (skal_power.strategies)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    modules = {module_name(p, root): p for p in sorted((root / PACKAGE).rglob("*.py"))}
    graph = edges(modules)
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
