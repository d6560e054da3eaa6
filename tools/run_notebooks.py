"""Execute notebooks in place from a fresh kernel and store clean, reproducible outputs.

Usage: ``python -m tools.run_notebooks notebooks`` or ``... notebooks/03_x.ipynb``
(what ``make notebooks`` runs).

Each notebook runs top to bottom in a new kernel started in its own folder, with the
environment of ``tools.notebooks.KERNEL_ENV``. Run noise that would make git see a change
where nothing changed is removed before writing: per-cell execution timestamps, stored
widget state and widget model ids.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from tools.notebooks import find, kernel_env

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what varies between two runs of an unchanged notebook."""
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
            output.get("metadata", {}).pop(WIDGET_VIEW, None)
    return nb


def execute(path: Path, timeout: int = 600) -> float:
    """Run one notebook in place; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.resolve())}},
        store_widget_state=True,  # nbclient needs it for Output widgets; clean() drops the state
        coalesce_streams=True,
    )
    start = time.perf_counter()
    client.execute(env=kernel_env())
    seconds = time.perf_counter() - start
    nbformat.write(clean(nb), path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of notebooks")
    args = parser.parse_args(argv)
    status = 0
    for path in find(args.paths):
        try:
            seconds = execute(path)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            print(f"FAILED {path}: {type(error).__name__}\n{error}", file=sys.stderr)
            status = 1
            continue
        print(f"executed {path} in {seconds:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
