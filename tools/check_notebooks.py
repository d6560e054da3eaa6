"""Check that every notebook is committed fully executed, in order, without stray errors.

nbval compares only cells that carry an execution count, so a stripped or half-run
notebook would pass it vacuously. This check closes that gap with the rules of
``tools.notebooks.problems`` (the browser check applies the same ones after a run):
every code cell has run, the counts read 1, 2, ..., n from a single fresh kernel, no code
cell is empty, and an error output is allowed only in a cell tagged ``raises-exception``.
Cells are numbered as nbval numbers them (code cells from 0).

Usage: ``python -m tools.check_notebooks notebooks`` (part of ``make test``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from tools import notebooks


def problems(path: Path) -> list[str]:
    """Each way the notebook file at ``path`` is not cleanly executed."""
    return notebooks.problems(nbformat.read(path, as_version=4))


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    failed = 0
    for path in notebooks.find(args or [notebooks.NOTEBOOKS]):
        found = problems(path)
        if found:
            failed += 1
            print(f"NOT CLEANLY EXECUTED {path}:")
            for problem in found:
                print(f"  - {problem}")
            print(f"  fix: make notebooks NB={path}")
        else:
            print(f"executed in order: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
