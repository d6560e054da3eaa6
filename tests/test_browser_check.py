"""The browser check (tools/browser_check.py): its pure parts, and that it can fail.

The slow tests start JupyterLab and Chromium on the fixture notebooks in tests/browser/:
raises.ipynb must fail with its exception named, warns.ipynb (a warning, a figure and a
cell tagged raises-exception) must pass. They skip where Debian's chromium is not
installed; ``make test-browser`` installs it and runs the real check over notebooks/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools import browser_check, notebooks
from tools.lab import lab_command
from tools.notebooks import NOTEBOOKS

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "browser"


def executed(*cells: nbformat.NotebookNode) -> dict:
    """A notebook model as JupyterLab's toJSON gives it, as a plain dict."""
    return json.loads(nbformat.writes(new_notebook(cells=list(cells))))


def code(source: str, count: int | None, *outputs: nbformat.NotebookNode, tags=()) -> dict:
    cell = new_code_cell(source, execution_count=count, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


ERROR = new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])
WARNING = new_output("stream", name="stderr", text="UserWarning: careful\n")
FIGURE = new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})


# --- pure parts -------------------------------------------------------------------------
# After "Run All Cells" the browser check applies tools.notebooks.problems (the rules of
# make check-notebooks) to JupyterLab's model: plain dicts, cells numbered as nbval does.


def test_a_clean_run_has_no_failures() -> None:
    model = executed(
        new_markdown_cell("# Title"),
        code("print('hi')", 1, new_output("stream", name="stdout", text="hi\n")),
        code("import warnings; warnings.warn('careful')", 2, WARNING),
    )
    assert notebooks.problems(model) == []


def test_an_error_output_names_the_nbval_cell_and_the_exception() -> None:
    model = executed(new_markdown_cell("# Title"), code("x = 1", 1), code("1 / 0", 2, ERROR))
    [failure] = notebooks.problems(model)
    # the second code cell: nbval's "Cell 1" (markdown cells are not counted, code from 0)
    assert failure == "Cell 1 raised ZeroDivisionError: division by zero  [1 / 0]"


def test_an_error_without_a_message_is_named_alone() -> None:
    failed_assert = new_output("error", ename="AssertionError", evalue="", traceback=[])
    model = executed(code("assert False", 1, failed_assert))
    assert notebooks.problems(model) == ["Cell 0 raised AssertionError  [assert False]"]


def test_a_cell_tagged_raises_exception_may_fail() -> None:
    model = executed(code("1 / 0", 1, ERROR, tags=["raises-exception"]), code("x = 1", 2))
    assert notebooks.problems(model) == []


def test_cells_that_never_ran_are_failures() -> None:
    model = executed(code("1 / 0", 1, ERROR), code("x = 1", None), code("y = 2", None))
    assert notebooks.problems(model) == [
        "Cell 0 raised ZeroDivisionError: division by zero  [1 / 0]",
        "Cells 1, 2 were not executed",
    ]


def test_a_model_with_source_as_a_list_of_lines_reads_the_same() -> None:
    model = executed(code("1 / 0", 1, ERROR))
    model["cells"][0]["source"] = ["# divide\n", "1 / 0"]
    assert notebooks.problems(model) == [
        "Cell 0 raised ZeroDivisionError: division by zero  [# divide]"
    ]


def test_stores_image_finds_a_stored_figure() -> None:
    assert browser_check.stores_image(executed(code("plot()", 1, FIGURE)))
    assert not browser_check.stores_image(executed(code("print(1)", 1, WARNING)))


def test_find_searches_folders_and_skips_checkpoints(tmp_path: Path) -> None:
    (tmp_path / "b.ipynb").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "b-checkpoint.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    assert notebooks.find([tmp_path]) == [tmp_path / "b.ipynb", tmp_path / "sub" / "a.ipynb"]
    # a notebook named twice (itself and through its folder) is checked once
    assert notebooks.find([tmp_path / "b.ipynb", tmp_path]) == notebooks.find([tmp_path])
    with pytest.raises(SystemExit, match="neither a notebook nor a folder"):
        notebooks.find([tmp_path / "notes.txt"])


def test_copies_go_to_the_temporary_root_with_their_folder(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    paths = browser_check.copy_notebooks(
        [FIXTURES / "raises.ipynb", FIXTURES / "warns.ipynb"], root
    )
    assert paths == ["browser/raises.ipynb", "browser/warns.ipynb"]
    assert (root / "browser" / "warns.ipynb").read_bytes() == (
        FIXTURES / "warns.ipynb"
    ).read_bytes()


def test_without_chromium_and_without_root_it_says_what_to_run(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(browser_check, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(browser_check.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(browser_check.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as stopped:
        browser_check.ensure_chromium()
    message = str(stopped.value)
    assert "apt-get install -y chromium" in message
    assert "\n" not in message


def test_lab_command_serves_another_root_only_when_asked(tmp_path: Path) -> None:
    assert f"--ServerApp.root_dir={NOTEBOOKS}" in lab_command(1, "t", open_browser=False)
    command = lab_command(1, "t", open_browser=False, root_dir=tmp_path)
    assert f"--ServerApp.root_dir={tmp_path}" in command
    assert f"--ServerApp.root_dir={NOTEBOOKS}" not in command


def test_the_fixtures_are_what_the_slow_test_relies_on() -> None:
    raises = nbformat.read(FIXTURES / "raises.ipynb", as_version=4)
    assert any("raise ValueError" in cell.source for cell in raises.cells)
    warns = nbformat.read(FIXTURES / "warns.ipynb", as_version=4)
    assert browser_check.stores_image(warns)  # so the check looks for a rendered image
    assert any("raises-exception" in cell.metadata.get("tags", []) for cell in warns.cells)


def test_a_folder_without_notebooks_is_an_error_not_a_pass(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="browser check: no notebooks in"):
        browser_check.main([str(tmp_path)])


class FakeLab:
    url, token = "http://127.0.0.1:1", "t"

    def start_session(self, path: str, kernel: str) -> None:
        pass

    def shutdown_sessions(self) -> None:
        pass


class FakePage:
    """A page whose wait for the kernel raises ``error``; everything else does nothing."""

    viewport_size = browser_check.VIEWPORT

    def __init__(self, error: Exception) -> None:
        self.error = error

    def wait_for_function(self, *args, **kwargs) -> None:
        raise self.error

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None


class FakeContext:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def new_page(self) -> FakePage:
        return FakePage(self.error)


def check_with(error: Exception, shots: Path) -> list[str]:
    source = FIXTURES / "warns.ipynb"
    result = browser_check.check_notebook(
        FakeContext(error), FakeLab(), "browser/warns.ipynb", source, shots, timeout_s=5
    )
    return result.failures


def test_playwrights_timeout_is_reported_as_the_step_that_timed_out(tmp_path: Path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    [failure] = check_with(PlaywrightTimeoutError("Timeout 5000ms exceeded."), tmp_path)
    assert failure.endswith(
        "timed out after 5 s while waiting for the kernel to be connected and idle "
        "(the limit per notebook; --timeout changes it)"
    )


def test_another_error_is_named_not_called_a_timeout(tmp_path: Path) -> None:
    class ServerTimeoutLikeError(Exception):  # a "Timeout" in the name is not Playwright's
        pass

    [failure] = check_with(ServerTimeoutLikeError("gone"), tmp_path)
    assert failure.endswith(
        "ServerTimeoutLikeError while waiting for the kernel to be connected and idle: gone"
    )


# --- the real thing: JupyterLab in headless Chromium ------------------------------------


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    if not browser_check.CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (make test-browser installs it)")
    shots = tmp_path_factory.mktemp("shots")
    done = subprocess.run(
        [sys.executable, "-m", "tools.browser_check", "--artifacts", str(shots), str(FIXTURES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    return done.returncode, done.stdout + done.stderr, shots


@pytest.mark.slow
def test_a_raising_notebook_fails_with_the_exception_named(fixture_run) -> None:
    returncode, output, _ = fixture_run
    assert returncode != 0, output
    assert (
        "tests/browser/raises.ipynb: Cell 1 raised ValueError: "
        "deliberate failure for the browser check" in output
    ), output
    assert "tests/browser/raises.ipynb: Cell 2 was not executed" in output, output
    assert "browser-check: 1 passed, 1 failed" in output.splitlines(), output


@pytest.mark.slow
def test_a_warning_and_a_tagged_error_pass_and_the_figure_renders(fixture_run) -> None:
    returncode, output, shots = fixture_run
    warns_lines = [line for line in output.splitlines() if "warns.ipynb" in line]
    assert len(warns_lines) == 1 and warns_lines[0].lstrip().startswith("ok"), output
    assert {path.name for path in shots.iterdir()} == {"raises.png", "warns.png"}
    assert (shots / "warns.png").read_bytes().startswith(b"\x89PNG")
