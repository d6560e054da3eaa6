"""Sphinx configuration of the course website: ``make site`` builds it into build/site/.

The pages come from the committed notebooks (``docs/notebooks`` links to ``../notebooks``)
and their stored outputs: nothing is executed. MathJax is served from the site itself
(sphinx-mathjax-offline), so the pages typeset their maths with no network.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "_ext"), str(HERE.parent)]

from softmax_site import repository_url  # noqa: E402

REPOSITORY = repository_url()

project = "softmax-lab"
author = "the softmax-lab authors"
copyright = "2026, the softmax-lab authors"  # noqa: A001 (Sphinx's name)

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/mathjax
    "softmax_site",
]

root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "_ext"]
templates_path = ["_templates"]

# --- notebooks: stored outputs only -----------------------------------------------------
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "substitution"]
myst_heading_anchors = 3
myst_substitutions = {"repository": REPOSITORY}
suppress_warnings = ["mystnb.unknown_mime_type"]  # widget views: live readers only

# --- API page -----------------------------------------------------------------------------
autosummary_generate = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = False
napoleon_numpy_docstring = True

# --- HTML -----------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "softmax-lab"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_copy_source = True  # the .ipynb download button serves _sources/
html_context = {"default_mode": "auto"}  # without it the theme logs "invalid theme mode"
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": "main",
    "use_repository_button": True,
    "use_download_button": True,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "footer_content_items": ["copyright.html", "licence-footer.html"],
}
