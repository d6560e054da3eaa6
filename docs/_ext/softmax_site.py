"""Sphinx extension for the course website (``make site``).

* Cells tagged ``solution`` are collapsed behind a "Show the solution" toggle: the tag is
  mapped to myst-nb's ``hide-input`` while the notebook is read (the committed notebooks
  are not touched).
* ``{chapter-map}`` renders the chapter list from the notebooks' own ``# NN · Title``
  headings (via ``tools.navigation`` where it offers them).
* ``.. softmax-api:: MODULE`` documents a module's public names from their docstrings.
* Every chapter page gets a launch menu: Binder, and ``make lab`` on your own computer.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SOLUTION_TAG = "solution"
HEADING = re.compile(r"^#\s+(\d{2})\s+·\s+(.+?)\s*$")
BINDER = "https://mybinder.org"
RUN_PAGE, RUN_ANCHOR = "run", "on-your-computer-make-lab"

if str(ROOT) not in sys.path:  # tools/ lives at the repository root
    sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------- the project


def repository_url() -> str:
    """The project's one home URL: tools.project where it exists, else pyproject's [project.urls]."""
    try:
        project = importlib.import_module("tools.project")
    except ImportError:
        project = None
    for name in ("HOME_URL", "REPOSITORY_URL", "home_url", "repository_url"):
        value = getattr(project, name, None)
        value = value() if callable(value) else value
        if isinstance(value, str) and value:
            return value.rstrip("/")
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("urls", {})
    for key in ("Homepage", "Repository", "Source", "homepage", "repository", "source"):
        if urls.get(key):
            return urls[key].rstrip("/")
    raise RuntimeError("pyproject.toml has no [project.urls] Homepage for the site to link to")


def binder_url(notebook: str) -> str:
    """Binder link that opens ``notebook`` (a path from the repository root) in JupyterLab."""
    try:
        project = importlib.import_module("tools.project")
        helper = getattr(project, "binder_url", None)
    except ImportError:
        helper = None
    if callable(helper):
        return helper(notebook)
    owner_repo = repository_url().split("github.com/", 1)[-1]
    return f"{BINDER}/v2/gh/{owner_repo}/HEAD?urlpath=lab/tree/{notebook}"


# --------------------------------------------------------------------------- chapters


@dataclass(frozen=True)
class Chapter:
    file: str  # 01_softmax_formula.ipynb
    number: str  # 01
    title: str  # The softmax formula
    question: str  # the question it answers


def heading(notebook: dict[str, Any]) -> tuple[str, str] | None:
    """``("01", "The softmax formula")`` from the first ``# NN · Title`` line of a notebook."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = "".join(cell.get("source", ""))
        for line in source.splitlines():
            match = HEADING.match(line)
            if match:
                return match.group(1), match.group(2)
        return None  # only the first markdown cell may carry the heading
    return None


QUESTION = re.compile(r"^\*\*Question:\*\*\s+(\S.*?)\s*$", re.MULTILINE)


def question(notebook: dict[str, Any]) -> str:
    """The ``**Question:** ...`` line of the first markdown cell, else its opening sentence."""
    cell = next(c for c in notebook["cells"] if c.get("cell_type") == "markdown")
    text = "".join(cell.get("source", ""))
    asked = QUESTION.search(text)
    if asked:
        return asked.group(1)
    paragraphs = text.split("\n\n")
    opening = " ".join(paragraphs[1].split()) if len(paragraphs) > 1 else ""
    return re.split(r"(?<=[.?!])\s", opening, maxsplit=1)[0]


def chapters(folder: Path = NOTEBOOKS) -> list[Chapter]:
    """Every ``NN_*.ipynb`` in ``folder``, in order, as its own first cell states it.

    tools.navigation is the one source of the chapter list; this reads the headings itself
    only where that module does not offer ``chapters()``.
    """
    try:
        navigation = importlib.import_module("tools.navigation")
        listed = navigation.chapters
    except (ImportError, AttributeError):
        listed = None
    if listed is not None:
        try:
            return [Chapter(c.file, c.number, c.title, c.question) for c in listed(folder)]
        except SystemExit as error:  # its way of naming every notebook that breaks the rules
            raise ExtensionError(f"chapter map: {error}") from None
    found = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        head = heading(notebook)
        if head is None:
            raise ExtensionError(f"{path.name} does not start with a '# NN · Title' heading")
        found.append(Chapter(path.name, head[0], head[1], question(notebook)))
    return found


class ChapterMap(SphinxDirective):
    """A table of the chapters: number, linked title, the question it answers."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        folder = Path(self.env.srcdir) / "notebooks"
        found = chapters(folder)
        for chapter in found:
            self.env.note_dependency(str(folder / chapter.file))
        table = nodes.table(classes=["chapter-map"])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (8, 40, 52):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += self._row([nodes.Text("#"), nodes.Text("chapter"), nodes.Text("the question")])
        group += head
        body = nodes.tbody()
        for chapter in found:
            link = addnodes.pending_xref(
                "",
                nodes.inline("", chapter.title),
                refdomain="std",
                reftype="doc",
                reftarget=f"/notebooks/{Path(chapter.file).stem}",
                refexplicit=True,
                refdoc=self.env.docname,
            )
            body += self._row([nodes.Text(chapter.number), link, nodes.Text(chapter.question)])
        group += body
        return [table]

    @staticmethod
    def _row(cells: list[nodes.Node]) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", cell)
            row += entry
        return row


# --------------------------------------------------------------------------- solutions


def hide_solutions(source: str) -> str:
    """Notebook JSON with every ``solution`` cell also tagged ``hide-input``."""
    notebook = json.loads(source)
    changed = False
    for cell in notebook.get("cells", []):
        metadata = cell.setdefault("metadata", {})
        tags = metadata.get("tags", [])
        if SOLUTION_TAG in tags and "hide-input" not in tags:
            metadata["tags"] = [*tags, "hide-input"]
            metadata.setdefault("mystnb", {}).update(
                code_prompt_show="Show the solution", code_prompt_hide="Hide the solution"
            )
            changed = True
    return json.dumps(notebook) if changed else source


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    if app.env.doc2path(docname).suffix == ".ipynb":
        source[0] = hide_solutions(source[0])


# --------------------------------------------------------------------------- API page


def public_names(module: Any) -> list[str]:
    """``__all__``, or else the public functions and classes bound in the module, in order."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
        ]
    return list(names)


class SoftmaxApi(SphinxDirective):
    """Autodoc of a module's public names (``:submodules:`` adds each submodule too)."""

    required_arguments = 1
    option_spec = {"submodules": directives.flag}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        module = importlib.import_module(name)
        lines = [f".. automodule:: {name}", "   :no-members:", ""]
        if "submodules" in self.options:
            lines += self._members(module, name)
            for info in pkgutil.iter_modules(module.__path__):
                if info.name.startswith("_"):
                    continue
                sub = f"{name}.{info.name}"
                lines += [f".. rubric:: {sub}", "", f".. automodule:: {sub}", "   :members:", ""]
        else:
            lines += self._members(module, name)
        container = nodes.container(classes=["softmax-api"])
        self.state.nested_parse(StringList(lines, source=f"<softmax-api {name}>"), 0, container)
        return container.children

    @staticmethod
    def _members(module: Any, name: str) -> list[str]:
        names = public_names(module)
        lines = [f".. currentmodule:: {name}", "", ".. autosummary::", "   :nosignatures:", ""]
        lines += [f"   {member}" for member in names] + [""]
        for member in names:
            value = getattr(module, member)
            kind = "autoclass" if inspect.isclass(value) else "autofunction"
            lines += [f".. {kind}:: {name}.{member}"]
            if inspect.isclass(value):
                lines += ["   :members:"]
            lines += [""]
        return lines


# --------------------------------------------------------------------------- launch menu


def add_launch_menu(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """A rocket menu on each chapter: open it on Binder, or on your computer with make lab."""
    if not pagename.startswith("notebooks/") or "header_buttons" not in context:
        return
    notebook = f"{pagename}.ipynb"
    context["header_buttons"].append(
        {
            "type": "group",
            "tooltip": "Run this chapter",
            "icon": "fas fa-rocket",
            "label": "launch-buttons",
            "buttons": [
                {
                    "type": "link",
                    "text": "Binder",
                    "tooltip": "Run this chapter on mybinder.org (nothing to install)",
                    "icon": "_static/images/logo_binder.svg",
                    "url": binder_url(notebook),
                },
                {
                    "type": "link",
                    "text": "Your computer: make lab",
                    "tooltip": "Run it on your computer: clone the repository, then make lab",
                    "icon": "fas fa-laptop-code",
                    "url": f"{context['pathto'](RUN_PAGE)}#{RUN_ANCHOR}",
                },
            ],
        }
    )


# --------------------------------------------------------------------------- MathJax


def prune_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Drop the MathJax bundles the pages never load (about 14 MB of the site's 35).

    sphinx-mathjax-offline copies all of MathJax; the pages load one combined bundle
    (``mathjax_path``), which fetches what else it needs from the component folders
    (input/, output/, ui/, a11y/, sre/), kept whole. This runs after that copy.
    """
    folder = Path(app.outdir) / "_static" / "mathjax"
    if exception is not None or not folder.is_dir():
        return
    used = Path(app.config.mathjax_path).name  # tex-chtml.js
    for bundle in folder.glob("*.js"):
        if bundle.name != used and bundle.name not in ("core.js", "loader.js", "startup.js"):
            bundle.unlink()


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("source-read", on_source_read)
    app.connect("html-page-context", add_launch_menu, priority=502)
    app.add_directive("chapter-map", ChapterMap)
    app.add_directive("softmax-api", SoftmaxApi)
    app.connect("build-finished", prune_mathjax, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
