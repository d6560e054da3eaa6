"""Check that every notebook is committed fully executed, in order, without stray errors.

nbval compares only cells that carry an execution count, so a stripped or half-run
notebook would pass it vacuously. This check closes that gap: every code cell must
have run, the counts must read 1, 2, ..., n from a single fresh kernel, and an error
output is allowed only in a cell tagged ``raises-exception``.

Usage: ``python -m tools.check_notebooks notebooks`` (part of ``make test``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

RAISES_TAG = "raises-exception"


def problems(path: Path) -> list[str]:
    """Return a description of each way the notebook at ``path`` is not cleanly executed."""
    nb = nbformat.read(path, as_version=4)
    found = []
    expected = 1
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"cell {index}"
        if not cell.source.strip():
            found.append(f"{where} is an empty code cell (delete it)")
            continue
        count = cell.get("execution_count")
        if count is None:
            found.append(f"{where} was not executed")
        elif count != expected:
            found.append(
                f"{where} has execution count {count}, expected {expected} (run out of order)"
            )
        expected = (count or expected) + 1
        tags = cell.metadata.get("tags", [])
        for output in cell.get("outputs", []):
            if output.output_type == "error" and RAISES_TAG not in tags:
                found.append(f"{where} stores an error: {output.ename}: {output.evalue}")
    return found


def main(argv: list[str] | None = None) -> int:
    roots = [Path(arg) for arg in (argv if argv is not None else sys.argv[1:])] or [
        Path("notebooks")
    ]
    paths = sorted(p for root in roots for p in (root.glob("*.ipynb") if root.is_dir() else [root]))
    if not paths:
        print("no notebooks found in " + ", ".join(map(str, roots)))
        return 1
    failed = 0
    for path in paths:
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
