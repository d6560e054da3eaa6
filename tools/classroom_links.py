"""nbgitpuller links that open a chapter of the course on a JupyterHub.

Usage: ``python -m tools.classroom_links https://hub.your-university.edu`` prints one link
per notebook. A student who follows one gets the repository copied into ``~/softmax-lab``
on first use (later: new commits merged, their own changes kept), and JupyterLab opens on
that chapter. The repository is ``[project.urls] Homepage`` of pyproject.toml.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlencode

from tools.notebooks import find
from tools.project import home_url

ROOT = Path(__file__).resolve().parent.parent
TARGET = "softmax-lab"  # the folder in each student's home


def link(
    hub: str,
    notebook: str,
    repo: str | None = None,
    branch: str | None = "main",
    target: str = TARGET,
) -> str:
    """The hub link that pulls ``repo`` into ``~/target`` and opens ``notebooks/notebook``."""
    query = {"repo": repo or home_url()}
    if branch:
        query["branch"] = branch
    query["targetPath"] = target
    query["urlpath"] = f"lab/tree/{target}/notebooks/{notebook}"
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{urlencode(query)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hub", help="the hub's address, e.g. https://hub.your-university.edu")
    parser.add_argument("--branch", default="main")
    parser.add_argument("--repo", help="the git repository (default: pyproject's Homepage)")
    args = parser.parse_args(argv)
    for path in find():
        print(f"{path.stem}: {link(args.hub, path.name, args.repo, args.branch)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
