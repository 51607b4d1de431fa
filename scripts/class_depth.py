"""Print each public strategy class's chain of skal_power bases and where its ``__init__`` is.

    python scripts/class_depth.py            # one line per class of skal_power.strategies
    python scripts/class_depth.py --max-depth 4   # exit 1 if a chain is longer

The depth counts the class itself and every skal_power class in its MRO (mixins
included), so ``PowerBALD -> PosteriorStrategy -> QueryStrategy`` is 3.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def chains() -> list[tuple[str, list[type], type]]:
    import skal_power.strategies as strategies

    found = []
    for name in strategies.__all__:
        cls = getattr(strategies, name)
        if not inspect.isclass(cls):
            continue
        chain = [k for k in cls.__mro__ if k.__module__.startswith("skal_power")]
        init_owner = next(k for k in cls.__mro__ if "__init__" in vars(k))
        found.append((name, chain, init_owner))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-depth", type=int, default=None)
    args = parser.parse_args(argv)
    worst = 0
    for name, chain, init_owner in chains():
        worst = max(worst, len(chain))
        print(f"{name:22s} depth {len(chain)}  __init__ in {init_owner.__name__:22s} "
              + " -> ".join(k.__name__ for k in chain))
    print(f"deepest: {worst}")
    return 1 if args.max_depth is not None and worst > args.max_depth else 0


if __name__ == "__main__":
    sys.exit(main())
