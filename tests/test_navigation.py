"""tools.navigation keeps the map in 00 and every "Next:" link in step with the notebooks.

The first tests work on a temporary folder of small fake notebooks; the last two check
the real notebooks/ folder (run ``python -m tools.navigation --fix`` when they fail).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools import navigation

START, FORMULA, NUMPY, STABILITY = (
    "00_start_here.ipynb",
    "01_softmax_formula.ipynb",
    "02_numpy_softmax.ipynb",
    "03_numerical_stability.ipynb",
)


def fake_notebook(folder: Path, name: str, *extra_markdown: str) -> Path:
    cells = [new_markdown_cell(f"# {name[:2]} · a fake chapter"), new_code_cell("x = 1")]
    cells += [new_markdown_cell(text) for text in extra_markdown]
    path = folder / name
    nbformat.write(new_notebook(cells=cells), path)
    return path


def last_cell(path: Path) -> str:
    return nbformat.read(path, as_version=4).cells[-1].source


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """00, 01 and 03 exist; 02 is still 'coming'."""
    for name in (START, FORMULA, STABILITY):
        fake_notebook(tmp_path, name)
    return tmp_path


def test_check_reports_missing_map_and_next_links(folder: Path) -> None:
    assert navigation.check(folder) == [
        f"{START}: has no curriculum map cell",
        f"{START}: does not end with a link to the next notebook",
        f"{FORMULA}: does not end with a link to the next notebook",
        f"{STABILITY}: does not end with a link to the next notebook",
    ]


def test_fix_makes_check_clean_and_is_idempotent(folder: Path) -> None:
    assert navigation.fix(folder) == [START, FORMULA, STABILITY]
    assert navigation.check(folder) == []
    assert navigation.broken_links(folder) == []
    assert navigation.fix(folder) == []  # nothing left to change


def test_fixed_links_skip_missing_chapters_and_the_last_goes_back_to_the_map(
    folder: Path,
) -> None:
    navigation.fix(folder)
    assert f"**Next:** [01 · The softmax formula]({FORMULA})" in last_cell(folder / START)
    # 02 does not exist yet: 01 points past it to 03.
    assert f"**Next:** [03 · Numerical stability]({STABILITY})" in last_cell(folder / FORMULA)
    assert f"Back to the map: [00 · Start here]({START})" in last_cell(folder / STABILITY)
    map_cell = nbformat.read(folder / START, as_version=4).cells[1].source
    assert map_cell.startswith(navigation.MAP_MARKER)
    assert f"| 01 | [The softmax formula]({FORMULA}) |" in map_cell
    assert "| 02 | A NumPy softmax *(coming)* |" in map_cell
    assert "| 10 | Softmax at scale *(coming)* |" in map_cell


def test_a_new_notebook_makes_the_map_and_a_next_link_out_of_date(folder: Path) -> None:
    navigation.fix(folder)
    fake_notebook(folder, NUMPY)
    assert navigation.check(folder) == [
        f"{START}: curriculum map is out of date",
        f"{FORMULA}: link to the next notebook is out of date",
        f"{NUMPY}: does not end with a link to the next notebook",
    ]
    navigation.fix(folder)
    assert navigation.check(folder) == []
    assert f"({NUMPY})" in last_cell(folder / FORMULA)


def test_a_hand_edited_next_link_is_reported(folder: Path) -> None:
    navigation.fix(folder)
    nb = nbformat.read(folder / FORMULA, as_version=4)
    nb.cells[-1].source = nb.cells[-1].source.replace("Numerical stability", "Stability")
    nbformat.write(nb, folder / FORMULA)
    assert navigation.check(folder) == [f"{FORMULA}: link to the next notebook is out of date"]


def test_broken_links_finds_a_link_to_a_missing_notebook(folder: Path) -> None:
    fake_notebook(
        folder,
        NUMPY,
        f"Needs: [01]({FORMULA}) and [03, section 2]({STABILITY}#2-overflow).",
        "See [attention](07_attention.ipynb) and [the docs](https://example.org/x.ipynb).",
    )
    assert navigation.broken_links(folder) == [
        f"{NUMPY} cell 3: link to missing 07_attention.ipynb"
    ]


def test_a_notebook_missing_from_the_curriculum_map_is_refused(folder: Path) -> None:
    fake_notebook(folder, "11_extra.ipynb")
    with pytest.raises(SystemExit, match="11_extra.ipynb"):
        navigation.check(folder)


# --- the real notebooks/ folder ---------------------------------------------------------


def test_real_notebooks_navigation_is_up_to_date() -> None:
    assert (navigation.NOTEBOOKS / START).exists(), "notebooks/00_start_here.ipynb is missing"
    assert navigation.check() == [], "run: python -m tools.navigation --fix"


def test_real_notebooks_have_no_broken_links() -> None:
    assert (navigation.NOTEBOOKS / START).exists(), "notebooks/00_start_here.ipynb is missing"
    assert navigation.broken_links() == []
