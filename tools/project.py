"""The project's one home URL, and the links made from it.

The URL is set once, as ``Homepage`` in the ``[project.urls]`` table of pyproject.toml.
README's Binder badge and notebook 00's launch link are generated from it by
``python -m tools.navigation --fix``; a site build (docs/) can import the same functions::

    from tools.project import binder_url, home_url

    home_url()                                  # https://github.com/softmax-lab/softmax-lab
    binder_url("03_numerical_stability.ipynb")  # opens that notebook on mybinder.org

``placeholders()`` finds what a template left behind (an account name in capitals in a
URL, an example domain: ``PLACEHOLDER``) in the tracked files; a test keeps it empty.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from functools import cache
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
NOTEBOOKS_FOLDER = "notebooks"  # relative to the repository root, as Binder sees it
BINDER = "https://mybinder.org/v2/gh"
GITHUB = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+?)/?$")

# Written so that this file does not match itself.
PLACEHOLDER = re.compile(
    r"\bOWN(?:ER)\b|\bUSER(?:NAME)\b|\byour[-_](?:org|user|name|account)|\bYOUR_[A-Z]"
    r"|\bexample\.(?:com|org|net)\b",
)


@cache
def home_url(pyproject: Path = PYPROJECT) -> str:
    """``[project.urls] Homepage`` from pyproject.toml: the repository on GitHub."""
    with pyproject.open("rb") as file:
        urls = tomllib.load(file).get("project", {}).get("urls", {})
    url = urls.get("Homepage")
    if not url or not GITHUB.match(url):
        raise ValueError(
            f"{pyproject}: [project.urls] Homepage must be https://github.com/<owner>/<repo>, "
            f"found {url!r}"
        )
    return url


def github_repository() -> str:
    """``owner/name`` of the repository, as Binder and GitHub URLs spell it."""
    owner, name = GITHUB.match(home_url()).groups()
    return f"{owner}/{name}"


def binder_url(notebook: str = "00_start_here.ipynb", ref: str = "HEAD") -> str:
    """The mybinder.org link that opens ``notebook`` in JupyterLab.

    ``notebook`` is a file name in notebooks/ or a path from the repository root.
    """
    path = PurePosixPath(notebook)
    if path.parts[0] != NOTEBOOKS_FOLDER:
        path = PurePosixPath(NOTEBOOKS_FOLDER) / path
    return f"{BINDER}/{github_repository()}/{ref}?urlpath=lab/tree/{path}"


def _text_of_notebook(raw: str) -> str:
    """Sources and text outputs of a notebook (figures' base64 could match by chance)."""
    nb = json.loads(raw)
    parts = []
    for cell in nb.get("cells", []):
        parts.append("".join(cell.get("source", "")))
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            for kind, value in output.get("data", {}).items():
                if kind.startswith("text/"):
                    parts.append("".join(value))
    return "\n".join(parts)


def placeholders(root: Path = ROOT) -> list[str]:
    """``file: line`` for each placeholder left in a file tracked by git."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    found = []
    for name in sorted(filter(None, listed.split("\0"))):
        path = root / name
        if not path.is_file():  # deleted in the working tree
            continue
        raw = path.read_bytes()
        if b"\0" in raw:
            continue
        text = raw.decode("utf-8", errors="replace")
        if path.suffix == ".ipynb":
            text = _text_of_notebook(text)
        for line in text.splitlines():
            if PLACEHOLDER.search(line):
                found.append(f"{name}: {line.strip()[:120]}")
    return found
