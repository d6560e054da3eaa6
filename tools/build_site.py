"""Build the course website into build/site/ (what ``make site`` runs).

Usage: ``python -m tools.build_site [--out build/site]``.

Sphinx reads its configuration from docs/ (conf.py, the extension in docs/_ext, templates,
static files) and its pages from a staging folder, build/site-src/, that holds the pages of
docs/, a copy of every notebook in notebooks/ and the licence files. (A symbolic link from
docs/ to notebooks/ would do without the copy, but Sphinx resolves links, so every link
between two notebooks would then point outside the source folder and go dead.) The
notebooks are not executed: the pages show their stored outputs. Any Sphinx warning (a
dead link between notebooks, a docstring that does not parse) fails the build.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from tools.notebooks import find

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BUILD = ROOT / "build"
STAGE = BUILD / "site-src"
DOCTREES = BUILD / "site-doctrees"
SITE = BUILD / "site"
# docs/ entries that configure the build rather than being pages
CONFIG_ONLY = {"conf.py", "_ext", "_static", "_templates", "__pycache__"}
LICENCES = ("LICENSE", "LICENSE-CONTENT")


def stage_files(root: Path = ROOT) -> dict[str, Path]:
    """``{path in the staging folder: source file}`` for every page, notebook and licence."""
    files: dict[str, Path] = {}
    docs = root / "docs"
    for path in sorted(docs.rglob("*")):
        relative = path.relative_to(docs)
        if path.is_file() and relative.parts[0] not in CONFIG_ONLY:
            files[relative.as_posix()] = path
    for path in find([root / "notebooks"]):
        files[f"notebooks/{path.name}"] = path
    for name in LICENCES:
        files[name] = root / name
    return files


def sync(files: dict[str, Path], stage: Path) -> None:
    """Make ``stage`` hold exactly ``files``; unchanged copies keep their times (so Sphinx
    rebuilds only what changed), stale ones are removed."""
    stage.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        target = stage / name
        stat = source.stat()
        if target.exists():
            copied = target.stat()
            if copied.st_size == stat.st_size and copied.st_mtime_ns == stat.st_mtime_ns:
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    wanted = {stage / name for name in files}
    for path in sorted(stage.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def folder_size(folder: Path) -> tuple[int, int]:
    """(bytes, files) under ``folder``."""
    sizes = [path.stat().st_size for path in folder.rglob("*") if path.is_file()]
    return sum(sizes), len(sizes)


def build(out: Path = SITE, *, strict: bool = True) -> int:
    from sphinx.cmd.build import build_main

    sync(stage_files(), STAGE)
    arguments = ["-b", "html", "-q", "-c", str(DOCS), "-d", str(DOCTREES)]
    if strict:
        arguments += ["-W", "--keep-going"]
    return build_main([*arguments, str(STAGE), str(out)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SITE, help="output folder (build/site)")
    parser.add_argument(
        "--no-strict", action="store_true", help="let Sphinx warnings pass (they fail by default)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    start = time.perf_counter()
    status = build(args.out, strict=not args.no_strict)
    seconds = time.perf_counter() - start
    if status != 0:
        print(f"site: the build failed after {seconds:.1f} s (Sphinx's messages above)")
        return status
    size, count = folder_size(args.out)
    pages = sum(1 for _ in args.out.rglob("*.html"))
    where = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(
        f"site: {where}/index.html, {pages} pages, {count} files, "
        f"{size / 2**20:.1f} MiB, built in {seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
