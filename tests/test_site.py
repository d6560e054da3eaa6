"""The course website: its build (tools/build_site.py, docs/), its checker
(tools/site_check.py), and the files that publish and license it.

``make test-site`` runs this file, then the checker over the real build/site/. The
checker's own slow test opens a tiny broken site in headless Chromium and must fail on
each fault; it skips where Debian's chromium is not installed (``make test-site``
installs it). The extension's tests skip where Sphinx is not installed (the ``site``
extra, which ``make site`` installs).
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tools import build_site, site_check
from tools.project import home_url

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
# A 1x1 PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


# --- the build ----------------------------------------------------------------------------


def test_staging_holds_the_pages_every_notebook_and_the_licences() -> None:
    files = build_site.stage_files()
    assert "index.md" in files and "api.rst" in files
    assert "conf.py" not in files and not any(name.startswith("_ext") for name in files)
    notebooks = {f"notebooks/{path.name}" for path in NOTEBOOKS.glob("*.ipynb")}
    assert notebooks and notebooks <= files.keys()
    assert {"LICENSE", "LICENSE-CONTENT"} <= files.keys()


def test_sync_copies_what_changed_and_removes_what_is_gone(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.md").write_text("a")
    stage = tmp_path / "stage"
    (stage / "old").mkdir(parents=True)
    (stage / "old" / "gone.md").write_text("stale")
    build_site.sync({"a.md": source / "a.md", "sub/b.md": source / "a.md"}, stage)
    assert sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*")) == [
        "a.md",
        "sub",
        "sub/b.md",
    ]
    before = (stage / "a.md").stat().st_mtime_ns
    build_site.sync({"a.md": source / "a.md"}, stage)
    assert (stage / "a.md").stat().st_mtime_ns == before  # unchanged: not copied again


@pytest.fixture(scope="module")
def extension():
    pytest.importorskip("sphinx", reason="the site extra is not installed (make site installs it)")
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        yield importlib.import_module("softmax_site")
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))


def test_solution_cells_are_hidden_behind_a_toggle(extension) -> None:
    notebook = {
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "x = 1"},
            {"cell_type": "code", "metadata": {"tags": ["other"]}, "source": "y = 2"},
            {"cell_type": "code", "metadata": {}, "source": "z = 3"},
        ]
    }
    hidden = json.loads(extension.hide_solutions(json.dumps(notebook)))["cells"]
    assert hidden[0]["metadata"]["tags"] == ["solution", "hide-cell"]  # input and output
    assert hidden[0]["metadata"]["mystnb"]["code_prompt_show"] == "Show the solution"
    assert hidden[1]["metadata"] == {"tags": ["other"]}
    assert hidden[2]["metadata"] == {}
    untouched = json.dumps({"cells": [notebook["cells"][2]]})
    assert extension.hide_solutions(untouched) == untouched


def test_the_chapter_map_lists_every_notebook_by_its_own_heading(extension) -> None:
    found = extension.chapters(NOTEBOOKS)
    assert [c.file for c in found] == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    for chapter in found:
        first = json.loads((NOTEBOOKS / chapter.file).read_text())["cells"][0]["source"]
        assert "".join(first).startswith(f"# {chapter.number} · {chapter.title}")
        assert chapter.question


def test_public_names_follow_all_or_the_public_functions_and_classes(extension) -> None:
    import softmax_lab

    names = extension.public_names(softmax_lab)
    assert "softmax" in names and "log_softmax" in names
    assert all(not name.startswith("_") for name in names)
    assert all(callable(getattr(softmax_lab, name)) for name in names)


def test_the_site_takes_its_urls_and_chapters_from_the_one_source(extension) -> None:
    from tools import navigation, project

    assert extension.repository_url() == home_url()
    assert extension.project is project and extension.navigation is navigation


# --- the checker: pure parts --------------------------------------------------------------


def test_raw_tex_is_found_and_typeset_text_is_not() -> None:
    assert site_check.raw_tex("so $$x^2$$ it is")[0] == "so $$x^2$$ it is"
    assert site_check.raw_tex(r"p = \frac{e^z}{Z}")
    assert site_check.raw_tex(r"inline \(x\) left")
    assert site_check.raw_tex("costs $5 and 3 $ later; fractions such as 1/2") == []


def test_pages_leave_out_the_theme_partials(tmp_path: Path) -> None:
    for name in ("index.html", "notebooks/01.html", "_static/macros.html", "_sources/x.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("<html></html>")
    assert site_check.find_pages(tmp_path) == ["index.html", "notebooks/01.html"]


def test_links_to_missing_files_and_anchors_fail_external_ones_are_skipped(tmp_path) -> None:
    (tmp_path / "a.html").write_text('<h1 id="top">A</h1>')
    (tmp_path / "img.png").write_bytes(PIXEL)
    base = "http://127.0.0.1:8000/"
    links = [
        base + "a.html#top",
        base + "a.html",
        base + "img.png",
        base,  # index.html, known below
        base + "a.html#nowhere",
        base + "b.html",
        "https://mybinder.org/v2/gh/x/y/HEAD",
        "mailto:someone@softmax-lab.invalid",
    ]
    failures = site_check.link_failures("p.html", links, base, tmp_path, {"index.html": set()})
    assert failures == [
        "p.html: link to a missing file: index.html",
        "p.html: link to a missing anchor: a.html#nowhere",
        "p.html: link to a missing file: b.html",
    ]


def test_a_notebook_page_must_show_its_figures_and_collapse_its_solutions(tmp_path) -> None:
    cells = [
        {
            "cell_type": "code",
            "metadata": {"tags": ["solution"]},
            "source": "plot()",
            "outputs": [{"output_type": "display_data", "data": {"image/png": "iVBOR"}}],
        }
    ]
    (tmp_path / "01_x.ipynb").write_text(json.dumps({"cells": cells}))
    [(page, wanted)] = site_check.notebook_expectations(tmp_path).items()
    assert page == "notebooks/01_x.html" and wanted["figures"] and wanted["solutions"] == 1
    good = {"images": 2, "collapsedSolutions": 1}
    assert site_check.expectation_failures(page, good, wanted) == []
    bad = site_check.expectation_failures(page, {"images": 0, "collapsedSolutions": 0}, wanted)
    assert len(bad) == 2 and "shows none" in bad[0] and "collapses 0" in bad[1]
    leaked = site_check.expectation_failures(page, {**good, "openSolutionOutputs": 1}, wanted)
    assert len(leaked) == 1 and "outside their toggle" in leaked[0]


def test_a_missing_site_is_an_error_not_a_pass(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no index.html"):
        site_check.main([str(tmp_path)])


# --- the checker in a real browser: it must fail on a broken page ---------------------------

GOOD = """<!doctype html><html><head><title>good</title></head><body>
<h1 id="top">Good</h1><p>Plain text, a price of $5, and a picture:</p>
<img src="pixel.png" alt="pixel"><a href="index.html">home</a> <a href="#top">top</a>
<pre>$$ \\frac{a}{b} $$ in code is fine</pre>
</body></html>"""

BAD = """<!doctype html><html><head><title>bad</title>
<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>
</head><body>
<h1>Bad</h1><p>Untypeset: $$x^2$$ and <span class="math">\\(\\frac{a}{b}\\)</span></p>
<img src="missing.png" alt="gone">
<script>console.error("deliberate console error");</script>
<script>undefinedFunctionForTheSiteCheck();</script>
</body></html>"""

INDEX = """<!doctype html><html><head><title>index</title></head><body>
<a href="good.html">good</a> <a href="bad.html">bad</a> <a href="good.html#top">top</a>
<a href="good.html#nowhere">dead anchor</a> <a href="missing.html">dead link</a>
<a href="https://github.com/softmax-lab/softmax-lab">external, not followed</a>
</body></html>"""


@pytest.fixture(scope="module")
def broken_site_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    if not site_check.CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (make test-site installs it)")
    site = tmp_path_factory.mktemp("site")
    (site / "index.html").write_text(INDEX)
    (site / "good.html").write_text(GOOD)
    (site / "bad.html").write_text(BAD)
    (site / "pixel.png").write_bytes(PIXEL)
    shots = tmp_path_factory.mktemp("shots")
    done = subprocess.run(
        [sys.executable, "-m", "tools.site_check", str(site), "--artifacts", str(shots)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return done.returncode, done.stdout + done.stderr, shots


@pytest.mark.slow
def test_the_checker_fails_a_broken_page_for_each_fault(broken_site_run) -> None:
    returncode, output, _ = broken_site_run
    assert returncode == 1, output
    for expected in (
        "bad.html: console error: deliberate console error",
        "bad.html: console error: uncaught ReferenceError: undefinedFunctionForTheSiteCheck",
        "bad.html: asked another host (blocked): https://cdn.jsdelivr.net/",
        "bad.html: maths not typeset:",
        "bad.html: raw TeX in the page text (4 places), the first: ...",
        "$$x^2$$",
        "bad.html: image did not load: missing.png",
        "index.html: link to a missing anchor: good.html#nowhere",
        "index.html: link to a missing file: missing.html",
    ):
        assert expected in output, f"{expected!r} not reported:\n{output}"
    assert "site-check: 1 passed, 2 failed" in output.splitlines(), output


@pytest.mark.slow
def test_the_checker_passes_a_good_page_and_screenshots_every_page(broken_site_run) -> None:
    _, output, shots = broken_site_run
    assert re.search(r"^  ok   good\.html ", output, re.MULTILINE), output
    assert {path.name for path in shots.iterdir()} == {"index.png", "good.png", "bad.png"}
    assert (shots / "good.png").read_bytes().startswith(b"\x89PNG")


# --- publishing and licences --------------------------------------------------------------


def test_the_pages_workflow_builds_the_site_and_deploys_it() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job.get("steps", [])]
    uses = [step.get("uses", "") for step in steps]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "make site" in runs
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "build/site"
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"


def test_licences_are_in_place_and_named_where_readers_look() -> None:
    mit = (ROOT / "LICENSE").read_text()
    assert mit.startswith("MIT License") and "Copyright (c) 2026 the softmax-lab authors" in mit
    content = (ROOT / "LICENSE-CONTENT").read_text()
    assert "CC BY 4.0" in content and "https://creativecommons.org/licenses/by/4.0/" in content
    readme = (ROOT / "README.md").read_text()
    assert "LICENSE" in readme and "LICENSE-CONTENT" in readme
    footer = (ROOT / "docs" / "_templates" / "licence-footer.html").read_text()
    assert "MIT" in footer and "CC BY 4.0" in footer
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"


def test_citation_file_is_cff_1_2_0_with_the_home_url() -> None:
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert citation[key], key
    assert citation["repository-code"] == home_url()
    assert citation["license"] == "MIT"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert str(citation["version"]) == project["version"]
