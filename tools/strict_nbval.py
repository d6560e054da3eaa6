"""Strict nbval over the notebooks, exactly as ``make nbval`` (and so CI) runs it.

Usage: ``python -m tools.strict_nbval [pytest flags] notebooks`` (flags such as ``-rA`` or
``-x`` go to pytest).

Runs, from the repository root, in the kernel environment of ``tools.notebooks``::

    python -m pytest -p no:cacheprovider --nbval --nbval-current-env \\
        --nbval-sanitize-with tools/nbval_sanitize.cfg -o addopts="" -o testpaths="" NOTEBOOKS

where NOTEBOOKS are the paths given (default: notebooks/), checked first with
``tools.notebooks.find`` like every other tool's (an empty folder is an error, not a pass).
pytest then collects the same files: it too searches folders recursively and skips
``.ipynb_checkpoints``. Folders are passed as folders because pytest loses a notebook's
name from its test ids when the file lies outside the repository.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools.notebooks import NOTEBOOKS, ROOT, find, kernel_env

SANITIZE = Path(__file__).resolve().with_name("nbval_sanitize.cfg")


def command(paths: list[Path], pytest_flags: list[str] | None = None) -> list[str]:
    """The pytest command line for strict nbval over ``paths`` (notebooks or folders)."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--nbval",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        str(SANITIZE.relative_to(ROOT)),
        "-o",
        "addopts=",
        "-o",
        "testpaths=",
        *(pytest_flags or []),
        *(str(Path(path).resolve()) for path in _checked(paths or [NOTEBOOKS])),
    ]


def _checked(paths: list[Path]) -> list[Path]:
    find(paths)  # raises SystemExit for a wrong path or a folder without notebooks
    return paths


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    flags = [arg for arg in args if arg.startswith("-")]
    paths = [Path(arg) for arg in args if not arg.startswith("-")]
    return subprocess.run(command(paths, flags), cwd=ROOT, env=kernel_env()).returncode


if __name__ == "__main__":
    sys.exit(main())
