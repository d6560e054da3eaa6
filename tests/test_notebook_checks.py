"""The notebook checks can fail: every vacuous-pass trap is shown closed by a test.

nbval compares only cells that carry an execution count, so ``tools.check_notebooks``
demands a full, in-order run without stray errors; strict nbval then catches a stale
output or a raising cell, and ``tools/nbval_sanitize.cfg`` forgives only what may vary.
Each notebook here is tiny and written to a temporary folder.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbval.plugin import get_sanitize_patterns

from tools import check_notebooks, notebooks, run_notebooks, strict_nbval

ROOT = Path(__file__).resolve().parent.parent
SANITIZE = strict_nbval.SANITIZE
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def stdout(text: str) -> nbformat.NotebookNode:
    return new_output("stream", name="stdout", text=text)


def code(source: str, count: int | None, outputs=(), tags=()) -> nbformat.NotebookNode:
    cell = new_code_cell(source, execution_count=count, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def write(path: Path, *cells: nbformat.NotebookNode) -> Path:
    nb = new_notebook(cells=[new_markdown_cell("# A tiny notebook"), *cells])
    nb.metadata["kernelspec"] = KERNELSPEC
    nbformat.write(nb, path)
    return path


def error(ename: str = "ValueError", evalue: str = "boom") -> nbformat.NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


# --- tools.check_notebooks.problems: executed, in order, no stray errors ---------------
# Cells are numbered as nbval numbers them: code cells only, from 0 (the markdown title
# that write() puts first is not counted).


def test_a_cleanly_executed_notebook_has_no_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ok.ipynb",
        code("x = 1", 1),
        code("print(x)", 2, [stdout("1\n")]),
    )
    assert check_notebooks.problems(path) == []


def test_a_stripped_notebook_fails(tmp_path: Path) -> None:
    path = write(tmp_path / "stripped.ipynb", code("x = 1", None), code("print(x)", None))
    assert check_notebooks.problems(path) == ["Cells 0, 1 were not executed"]


def test_a_half_run_notebook_fails(tmp_path: Path) -> None:
    path = write(tmp_path / "half.ipynb", code("x = 1", 1), code("print(x)", None))
    assert check_notebooks.problems(path) == ["Cell 1 was not executed"]


def test_out_of_order_counts_fail(tmp_path: Path) -> None:
    path = write(
        tmp_path / "shuffled.ipynb",
        code("x = 1", 2),
        code("print(x)", 1, [stdout("1\n")]),
    )
    found = check_notebooks.problems(path)
    assert found and all("run out of order" in line for line in found)
    assert found[0] == "Cell 0 has execution count 2, expected 1 (run out of order)"


def test_counts_from_a_reused_kernel_fail(tmp_path: Path) -> None:
    # In order but not from a fresh kernel: the notebook was run twice without a restart.
    path = write(tmp_path / "rerun.ipynb", code("x = 1", 5), code("print(x)", 6))
    assert check_notebooks.problems(path) == [
        "Cell 0 has execution count 5, expected 1 (run out of order)"
    ]


def test_a_stored_error_fails_unless_tagged_to_raise(tmp_path: Path) -> None:
    untagged = write(tmp_path / "error.ipynb", code("raise ValueError('boom')", 1, [error()]))
    assert check_notebooks.problems(untagged) == [
        "Cell 0 raised ValueError: boom  [raise ValueError('boom')]"
    ]
    tagged = write(
        tmp_path / "expected.ipynb",
        code("raise ValueError('boom')", 1, [error()], tags=["raises-exception"]),
    )
    assert check_notebooks.problems(tagged) == []


def test_an_empty_code_cell_fails(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.ipynb", code("x = 1", 1), code("   ", None))
    assert check_notebooks.problems(path) == ["Cell 1 is an empty code cell (delete it)"]


def test_a_long_list_of_cells_that_never_ran_is_cut_short(tmp_path: Path) -> None:
    path = write(tmp_path / "long.ipynb", *(code(f"x = {i}", None) for i in range(13)))
    assert check_notebooks.problems(path) == [
        "Cells 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 3 more were not executed"
    ]


def test_cell_numbers_are_the_ones_nbval_reports(tmp_path: Path) -> None:
    path = write(tmp_path / "numbers.ipynb", code("x = 1", 1), code("y = 2", None))
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(2, new_markdown_cell("between"))
    nbformat.write(nb, path)
    assert check_notebooks.problems(path) == ["Cell 1 was not executed"]
    # What nbval itself calls these cells (collecting starts no kernel).
    collected = subprocess.run(
        strict_nbval.command([path], ["--collect-only"]),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    names = re.findall(r"<IPyNbCell (Cell \d+)>", collected)
    assert (
        names == [notebooks.label(n) for n, _ in notebooks.code_cells(nb)] == ["Cell 0", "Cell 1"]
    )


def test_main_names_the_notebook_and_the_fix(tmp_path: Path, capsys) -> None:
    write(tmp_path / "a_good.ipynb", code("x = 1", 1))
    bad = write(tmp_path / "b_stripped.ipynb", code("x = 1", None))
    assert check_notebooks.main([str(tmp_path)]) == 1
    printed = capsys.readouterr().out
    assert f"executed in order: {tmp_path / 'a_good.ipynb'}" in printed
    assert f"NOT CLEANLY EXECUTED {bad}:" in printed
    assert f"fix: make notebooks NB={bad}" in printed


def test_main_passes_clean_notebooks_and_fails_on_none(tmp_path: Path) -> None:
    write(tmp_path / "good.ipynb", code("x = 1", 1))
    assert check_notebooks.main([str(tmp_path)]) == 0
    empty = tmp_path / "nothing_here"
    empty.mkdir()
    with pytest.raises(SystemExit, match="no notebooks in"):
        check_notebooks.main([str(empty)])


# --- tools/nbval_sanitize.cfg: what it rewrites, and what it leaves alone ---------------


def sanitized(text: str) -> str:
    """Apply the sanitize file the way nbval does (each pattern in turn, re.sub)."""
    for regex, replace in dict(get_sanitize_patterns(SANITIZE.read_text())).items():
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("device: cpu\n", "device: cuda\n"),
        ("device: cpu\n", "device: cuda:1\n"),
        ("device: mps\n", "device: cpu\n"),
        ("CUDA available: False\n", "CUDA available: True (NVIDIA H100)\n"),
        ("torch 2.13.0+cpu\n", "torch 2.13.0+cu128\n"),
        ("<object at 0x7f3a2b1c4d50>", "<object at 0x55d0c0ffee00>"),
    ],
)
def test_sanitize_forgives_what_may_vary(one: str, other: str) -> None:
    assert sanitized(one) == sanitized(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("p = 0.6590\n", "p = 0.6591\n"),
        ("torch 2.13.0\n", "torch 2.12.0\n"),
        ("accuracy: 0.97\n", "accuracy: 0.93\n"),
        ("device count: 1\n", "device count: 2\n"),
    ],
)
def test_sanitize_keeps_what_must_not_vary(one: str, other: str) -> None:
    assert sanitized(one) != sanitized(other)


# --- strict nbval, run the way `make nbval` runs it, on tiny notebooks -------------------

NBVAL_CASES = {
    # name: (cells, the outcome nbval must report)
    "good": ([code("print(1 + 1)", 1, [stdout("2\n")])], "PASSED"),
    "stale": ([code("print(1 + 1)", 1, [stdout("3\n")])], "FAILED"),
    "raises": ([code("raise ValueError('boom')", 1, [error()])], "FAILED"),
    "raises_tagged": (
        [code("raise ValueError('boom')", 1, [error()], tags=["raises-exception"])],
        "PASSED",
    ),
    "device": ([code("print('device: cuda')", 1, [stdout("device: cpu\n")])], "PASSED"),
}


@pytest.fixture(scope="module")
def nbval_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One pytest --nbval run over every case; the outcome of each notebook's cell."""
    folder = tmp_path_factory.mktemp("nbval")
    for name, (cells, _) in NBVAL_CASES.items():
        write(folder / f"{name}.ipynb", *cells)
    # Exactly what `make nbval` runs (tools.strict_nbval), with -rA to list each outcome.
    command = [sys.executable, "-m", "tools.strict_nbval", "-rA", str(folder)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    outcomes = {
        match.group(2): match.group(1)
        for match in re.finditer(r"^(PASSED|FAILED|ERROR) \S*?(\w+)\.ipynb::", result.stdout, re.M)
    }
    assert outcomes.keys() == NBVAL_CASES.keys(), result.stdout + result.stderr
    return outcomes


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NBVAL_CASES))
def test_strict_nbval(name: str, nbval_outcomes: dict[str, str]) -> None:
    """good passes; a stale output and an untagged raising cell fail; the tag and the
    sanitize file (``device: cuda`` run, ``device: cpu`` stored) are honoured."""
    assert nbval_outcomes[name] == NBVAL_CASES[name][1]


# --- tools.run_notebooks: clean, reproducible files -------------------------------------

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_clean_drops_timestamps_and_widget_state() -> None:
    cell = code("slider", 1)
    cell.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00.000Z"}
    cell.metadata["tags"] = ["solution"]
    cell.outputs = [
        new_output(
            "display_data",
            data={"text/plain": "IntSlider(value=3)", WIDGET_VIEW: {"model_id": "abc123"}},
        )
    ]
    nb = new_notebook(cells=[cell])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.metadata["kernelspec"] = KERNELSPEC

    run_notebooks.clean(nb)

    assert "widgets" not in nb.metadata
    assert nb.metadata["kernelspec"] == KERNELSPEC
    assert "execution" not in cell.metadata
    assert cell.metadata["tags"] == ["solution"]  # tags matter: they are kept
    assert cell.outputs[0]["data"] == {"text/plain": "IntSlider(value=3)"}


def test_the_kernel_environment_wins_over_the_callers() -> None:
    env = notebooks.kernel_env({"MPLBACKEND": "agg", "PYTHONHASHSEED": "random", "HOME": "/h"})
    assert env == {**notebooks.KERNEL_ENV, "HOME": "/h"}
    assert env["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"


@pytest.mark.slow
def test_execute_twice_gives_identical_files(tmp_path: Path, monkeypatch) -> None:
    # A reader's shell may say otherwise; the kernel still gets tools.notebooks.KERNEL_ENV.
    monkeypatch.setenv("MPLBACKEND", "agg")
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    path = write(
        tmp_path / "twice.ipynb",
        code("import numpy as np\nrng = np.random.default_rng(0)", None),
        code("print(rng.normal(size=3).round(4))", None),
        code("import os\nprint(os.environ['MPLBACKEND'], os.environ['PYTHONHASHSEED'])", None),
        code("import ipywidgets\nipywidgets.IntSlider(value=3)", None),
    )
    run_notebooks.execute(path)
    first = path.read_bytes()
    run_notebooks.execute(path)
    assert path.read_bytes() == first

    nb = nbformat.read(path, as_version=4)
    assert check_notebooks.problems(path) == []
    assert nb.cells[3].outputs[0]["text"] == "module://matplotlib_inline.backend_inline 0\n"
    assert "widgets" not in nb.metadata
    for cell in nb.cells:
        assert "execution" not in cell.metadata
    assert WIDGET_VIEW not in nb.cells[-1].outputs[0]["data"]


IGNORED = re.compile(r"^#\s*NBVAL_(IGNORE_OUTPUT|SKIP)\b", re.MULTILINE)
IGNORE_TAGS = {"nbval-ignore-output", "nbval-skip"}


def test_few_cells_escape_comparison_and_each_asserts_its_claim() -> None:
    """At most 6 cells in the course are not compared (NBVAL_IGNORE_OUTPUT / skip), and each
    of them asserts the claim it shows, so what nbval cannot compare is still checked."""
    escaped = []
    for path in notebooks.find():
        for number, cell in notebooks.code_cells(nbformat.read(path, as_version=4)):
            tags = set(cell.get("metadata", {}).get("tags", []))
            if IGNORED.search(cell.source) or tags & IGNORE_TAGS:
                escaped.append((path.name, number, cell.source))
    assert len(escaped) <= 6, [(name, number) for name, number, _ in escaped]
    for name, number, source in escaped:
        assert re.search(r"^\s*assert\b", source, re.MULTILINE), (
            f"{name} Cell {number} asserts nothing"
        )


def outcomes(first_cell: str) -> list[str]:
    """The bullets of a notebook's "**You will**" list (empty when it has none)."""
    if "**You will**" not in first_cell:
        return []
    block = first_cell.split("**You will**", 1)[1].split("**Needs", 1)[0]
    return [line for line in block.splitlines() if line.startswith("- ")]


def test_outcomes_counts_the_bullets_up_to_needs() -> None:
    first = "# 01 · X\n\n**You will**\n- a;\n- b\n  more of b;\n- c.\n\n**Needs:** 00\n- not one"
    assert outcomes(first) == ["- a;", "- b", "- c."]
    assert outcomes("# 01 · X\n\nno list") == []


@pytest.mark.parametrize("path", notebooks.find(), ids=lambda path: path.name[:2])
def test_each_notebook_has_the_style_guides_frame(path: Path) -> None:
    """NOTEBOOK_STYLE.md: a "You will" list of 3-5 outcomes a learner can check, and the
    takeaways as a section of their own, so a reader (and the site's contents) can find them."""
    cells = nbformat.read(path, as_version=4).cells
    assert 3 <= len(outcomes(cells[0].source)) <= 5, outcomes(cells[0].source)
    headings = [c.source.lstrip() for c in cells if c.cell_type == "markdown"]
    assert any(heading.startswith("## Takeaways") for heading in headings)
