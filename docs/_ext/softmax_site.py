"""Sphinx extension for the course website (``make site``).

* Cells tagged ``solution`` are collapsed behind a "Show the solution" toggle: the tag is
  mapped to myst-nb's ``hide-cell`` while the notebook is read (the committed notebooks
  are not touched).
* ``{chapter-map}`` renders the chapter list from the notebooks' own ``# NN · Title``
  headings and ``**Question:**`` lines, through ``tools.navigation``.
* ``.. softmax-api:: MODULE`` documents a module's public names from their docstrings.
* Every chapter page gets a launch menu: Binder, and ``make lab`` on your own computer.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
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
SOLUTION_TAG = "solution"
RUN_PAGE, RUN_ANCHOR = "run", "on-your-computer-make-lab"

if str(ROOT) not in sys.path:  # tools/ lives at the repository root
    sys.path.insert(0, str(ROOT))

from tools import navigation, project  # noqa: E402

# --------------------------------------------------------------------------- the project
# The home URL, the Binder links and the chapter list each have one source in tools/:
# tools.project ([project.urls] Homepage in pyproject.toml) and tools.navigation (each
# notebook's own "# NN · Title" heading and **Question:** line).


def repository_url() -> str:
    return project.home_url().rstrip("/")


def chapters(folder: Path) -> list[navigation.Chapter]:
    try:
        return navigation.chapters(folder)
    except SystemExit as error:  # navigation's way of naming every notebook that breaks the rules
        raise ExtensionError(f"chapter map: {error}") from None


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
    """Notebook JSON with every ``solution`` cell also tagged ``hide-cell`` (input and output folded)."""
    notebook = json.loads(source)
    changed = False
    for cell in notebook.get("cells", []):
        metadata = cell.setdefault("metadata", {})
        tags = metadata.get("tags", [])
        if SOLUTION_TAG in tags and "hide-cell" not in tags:
            metadata["tags"] = [*tags, "hide-cell"]
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
                    "url": project.binder_url(notebook),
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
    # env_version: bump it whenever what on_source_read does changes, or an incremental build
    # keeps the pages read the old way (2: solutions fold their outputs too, hide-cell)
    return {
        "version": "1",
        "env_version": 2,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
