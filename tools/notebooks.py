"""The notebooks as every tool sees them: where they are, how their cells are numbered,
what "cleanly executed" means, and the environment their kernels run in.

One model, used by ``check_notebooks``, ``browser_check``, ``run_notebooks``,
``strict_nbval``, ``navigation`` and ``lab``:

* **Finding them:** :func:`find` (folders searched recursively, checkpoints left out).
* **Cell numbers are nbval's:** code cells only, counted from 0, so ``Cell 4`` in any
  message is the cell that ``make nbval`` reports as ``notebooks/03_....ipynb::Cell 4``
  (markdown cells are not counted).
* **The rules** (:func:`problems`): no empty code cell; every code cell executed; counts
  1, 2, ..., n (one fresh kernel, top to bottom); an error output only in a cell tagged
  ``raises-exception``. ``make check-notebooks`` applies them to the committed files, the
  browser check to what JupyterLab shows after "Run All Cells".
* **The kernel's environment** (:data:`KERNEL_ENV`): set here and nowhere else; every tool
  that starts a kernel or a server passes :func:`kernel_env` to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RAISES_TAG = "raises-exception"

# Stored outputs depend on these: the inline backend stores figures (under ``agg``,
# plt.show() stores nothing) and a fixed hash seed fixes the order of sets of strings.
KERNEL_ENV = {
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
}
MAX_LISTED = 10  # cells named in one "were not executed" line


def kernel_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with :data:`KERNEL_ENV` on top."""
    return {**(os.environ if base is None else base), **KERNEL_ENV}


def find(paths: Iterable[Path | str] = (NOTEBOOKS,)) -> list[Path]:
    """The notebooks named, folders searched recursively, ``.ipynb_checkpoints`` left out.

    Raises ``SystemExit`` for a path that is neither a notebook nor a folder, and when
    nothing is found (an empty run that passes would hide a wrong path).
    """
    paths = [Path(path) for path in paths]
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts
            )
        elif path.suffix == ".ipynb" and path.is_file():
            found.append(path)
        else:
            raise SystemExit(f"{path} is neither a notebook nor a folder")
    if not found:
        raise SystemExit(f"no notebooks in {' '.join(map(str, paths))}")
    return list(dict.fromkeys(found))


def source(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def code_cells(notebook: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """``(number, cell)`` for each code cell, numbered the way nbval labels them."""
    code = (cell for cell in notebook.get("cells", []) if cell.get("cell_type") == "code")
    yield from enumerate(code)


def label(number: int) -> str:
    return f"Cell {number}"


def _first_line(cell: Mapping[str, Any]) -> str:
    for line in source(cell).splitlines():
        if line.strip():
            return line.strip()[:80]
    return ""


def problems(notebook: Mapping[str, Any]) -> list[str]:
    """Each way a notebook (an nbformat dict or JupyterLab's model) is not cleanly executed.

    >>> problems({"cells": [{"cell_type": "code", "source": "x = 1", "execution_count": 2}]})
    ['Cell 0 has execution count 2, expected 1 (run out of order)']
    """
    found: list[str] = []
    not_executed: list[int] = []
    expected = 1
    for number, cell in code_cells(notebook):
        if not source(cell).strip():
            found.append(f"{label(number)} is an empty code cell (delete it)")
            continue
        count = cell.get("execution_count")
        if count is None:
            not_executed.append(number)
        elif count != expected:
            found.append(
                f"{label(number)} has execution count {count}, expected {expected} "
                "(run out of order)"
            )
        expected = (count or expected) + 1
        if RAISES_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                error = output.get("ename", "?")
                if output.get("evalue"):  # a bare `assert` has none
                    error += f": {output['evalue']}"
                found.append(f"{label(number)} raised {error}  [{_first_line(cell)}]")
    if not_executed:
        listed = ", ".join(str(n) for n in not_executed[:MAX_LISTED])
        more = len(not_executed) - MAX_LISTED
        if len(not_executed) == 1:
            found.append(f"Cell {listed} was not executed")
        else:
            found.append(
                f"Cells {listed}{f' and {more} more' if more > 0 else ''} were not executed"
            )
    return found
