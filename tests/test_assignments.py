"""tools/assignments.py: the notebooks as nbgrader assignments, graded by nbgrader itself.

Fast tests convert small notebooks of each shape the course uses (both names of the worked
solution, a check inside ``print``, a heading in the middle of a markdown cell, a solution
with a helper) and every real notebook (without nbgrader). The slow ones build the whole
course with ``nbgrader generate_assignment`` and check that ``release/`` holds no
solution, then run ``nbgrader autograde`` on chapters 01 and 10: the worked solutions get
every point, the untouched release none, and one wrong answer loses exactly its points.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import pytest

from softmax_lab.exercises.formula import check_softmax_by_hand
from tools import assignments
from tools.assignments import BEGIN, END, ExerciseShapeError, convert

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
AUTOGRADED = ("01_softmax_formula", "10_softmax_at_scale")  # old and new solution names


# --- small notebooks ---------------------------------------------------------------------


def md(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(source)


def code(source: str, *tags: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.outputs = [nbformat.v4.new_output("stream", text="stored\n")]
    cell.execution_count = 7
    return cell


def exercise(
    number: str, name: str, solution: str, check: str | None = None, heading_prefix: str = ""
):
    check = check or f"check_it({name})"
    return [
        md(f"{heading_prefix}### Exercise {number} — {name}\n\nWrite `{name}(x)`."),
        code(f'def {name}(x):\n    raise NotImplementedError("your code here")'),
        code(check),
        md("Stuck? Expand the hidden cell below for a worked solution."),
        code(solution, "solution"),
    ]


def notebook(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.cells = [md("# 99 · Demo"), code("import math"), *cells, md("## Takeaways")]
    return nb


def graded(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if "nbgrader" in cell.metadata]


OLD_STYLE = """\
def double(x):
    return 2 * x  # the worked solution


report = check_it(double)
print(report)
assert report.passed"""

NEW_STYLE = """\
def triple_solution(x):
    y = 3 * x
    return y


report = check_it(triple_solution)
print(report)
assert report.passed
print(f"on the data: {triple_solution(data):.2f}")"""


def test_both_solution_names_become_the_learners_function() -> None:
    nb = notebook(*exercise("9.1", "double", OLD_STYLE), *exercise("9.2", "triple", NEW_STYLE))
    source, found = convert(nb)
    assert [(e.grade_id, e.name, e.points) for e in found] == [
        ("ex9_1", "double", 1),
        ("ex9_2", "triple", 1),
    ]
    answer_1, tests_1, answer_2, tests_2 = graded(source)
    assert (
        answer_1.source
        == f"def double(x):\n    {BEGIN}\n    return 2 * x  # the worked solution\n    {END}"
    )
    assert answer_2.source == f"def triple(x):\n    {BEGIN}\n    y = 3 * x\n    return y\n    {END}"
    assert tests_1.source == (
        "report = check_it(double)\nprint(report)\n"
        'assert report.passed, "not every check passed: see the report above"'
    )
    assert "check_it(triple)" in tests_2.source
    assert answer_1.metadata.nbgrader == {
        "grade": False,
        "grade_id": "ex9_1",
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    assert tests_2.metadata.nbgrader == {
        "grade": True,
        "grade_id": "ex9_2_tests",
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    text = "\n".join(cell.source for cell in source.cells)
    assert "_solution" not in text and "Stuck?" not in text and "on the data" not in text
    assert not any("solution" in cell.metadata.get("tags", []) for cell in source.cells)
    assert all(
        not cell.get("outputs") and cell.get("execution_count") is None
        for cell in source.cells
        if cell.cell_type == "code"
    )
    assert source.cells[0].source == "# 99 · Demo" and source.cells[-1].source == "## Takeaways"
    assert nb.cells[6].metadata["tags"] == ["solution"], "the input notebook is left alone"


def test_a_check_inside_print_and_a_heading_inside_a_longer_cell() -> None:
    nb = notebook(
        *exercise(
            "9.1",
            "double",
            OLD_STYLE,
            check="print(check_it(double))",
            heading_prefix="## 6 · Practice\n\nSome prose.\n\n",
        )
    )
    source, found = convert(nb)
    assert len(found) == 1
    assert graded(source)[1].source.startswith("report = check_it(double)\n")
    assert source.cells[2].source.startswith("## 6 · Practice")


def test_a_solution_with_a_helper_is_marked_whole() -> None:
    solution = "def _helper(x):\n    return x\n\n\ndef double(x):\n    return 2 * _helper(x)\n\n\nreport = check_it(double)\nassert report.passed"
    source, _ = convert(notebook(*exercise("9.1", "double", solution)))
    answer = graded(source)[0].source
    assert answer.startswith(f"{BEGIN}\ndef _helper(x):") and answer.endswith(
        f"return 2 * _helper(x)\n{END}"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda cells: cells[4].metadata.pop("tags"), "tagged 'solution'"),
        (lambda cells: setattr(cells[1], "source", "x = 1"), "raises NotImplementedError"),
        (lambda cells: setattr(cells[2], "source", "print('no check')"), "no check_* call"),
        (lambda cells: setattr(cells[2], "source", "check_it(other)"), "does not pass double"),
        (
            lambda cells: setattr(cells[4], "source", "report = check_it(double)"),
            "must define double",
        ),
    ],
)
def test_an_exercise_of_another_shape_is_refused_by_name(change, message) -> None:
    cells = exercise("9.1", "double", OLD_STYLE)
    change(cells)
    with pytest.raises(
        ExerciseShapeError, match=rf"demo.ipynb: Exercise 9\.1: .*{re.escape(message)}"
    ):
        convert(notebook(*cells), label="demo.ipynb")


def test_an_exercise_without_its_heading_is_numbered_from_its_place() -> None:
    """Notebook 03 lost its "### Exercise 3.1" heading once; the exercise still counts."""
    headless = exercise("3.1", "double", OLD_STYLE)[1:]
    source, found = convert(
        notebook(*headless, *exercise("3.2", "triple", NEW_STYLE)), label="03_demo.ipynb"
    )
    assert [(e.grade_id, e.name, e.heading) for e in found] == [
        ("ex3_1", "double", False),
        ("ex3_2", "triple", True),
    ]
    assert len(graded(source)) == 4
    with pytest.raises(ExerciseShapeError, match="a second exercise with this number"):
        convert(notebook(*headless, *exercise("3.1", "triple", NEW_STYLE)), label="03_demo.ipynb")


def test_a_stray_solution_cell_is_refused() -> None:
    with pytest.raises(
        ExerciseShapeError, match="cell 2 is tagged 'solution' but follows no exercise"
    ):
        convert(notebook(code("x = 1", "solution")), label="demo.ipynb")


def test_the_tests_cell_raises_when_the_answer_is_wrong_and_passes_when_it_is_right() -> None:
    """Chapter 01's first exercise, run as nbgrader runs it: answer cell, then tests cell."""
    source, _ = convert(
        nbformat.read(ROOT / "notebooks" / "01_softmax_formula.ipynb", as_version=4)
    )
    answer, tests = graded(source)[:2]
    right = {"math": math, "check_softmax_by_hand": check_softmax_by_hand}
    exec(answer.source, right)  # the markers are comments
    exec(tests.source, right)
    wrong = {"math": math, "check_softmax_by_hand": check_softmax_by_hand}
    exec("def my_softmax(scores):\n    return [math.exp(z) for z in scores]", wrong)
    with pytest.raises(AssertionError, match="not every check passed"):
        exec(tests.source, wrong)


def test_an_answer_cell_cannot_rebind_the_checker() -> None:
    """nbgrader runs the tests cell in the student's kernel: a checker rebound in the answer
    cell to one that always passes must not earn the points."""
    source, _ = convert(
        nbformat.read(ROOT / "notebooks" / "01_softmax_formula.ipynb", as_version=4)
    )
    tests = graded(source)[1]
    assert tests.source.startswith(
        "from softmax_lab.exercises.formula import check_softmax_by_hand"
    )
    gamed = {"math": math}
    exec(
        "class Passing:\n    passed = True\n\n"
        "def check_softmax_by_hand(candidate):\n    return Passing()\n\n"
        "def my_softmax(scores):\n    return None",
        gamed,
    )
    with pytest.raises(AssertionError, match="not every check passed"):
        exec(tests.source, gamed)


# --- the real notebooks, without nbgrader ------------------------------------------------


def test_every_chapter_with_exercises_converts() -> None:
    built = assignments.build_sources(NOTEBOOKS)
    with_solutions = [
        path.stem
        for path in NOTEBOOKS
        if any(
            "solution" in c.metadata.get("tags", [])
            for c in nbformat.read(path, as_version=4).cells
        )
    ]
    assert [a.name for a in built] == with_solutions
    assert len(built) >= 10, "chapters 01-10 all have exercises"
    for assignment in built:  # every locked tests cell imports the real checker itself
        for cell in graded(assignment.notebook):
            if not cell.metadata["nbgrader"]["solution"]:
                assert cell.source.startswith("from softmax_lab.exercises."), cell.source
    for assignment in built:
        original = nbformat.read(ROOT / "notebooks" / f"{assignment.name}.ipynb", as_version=4)
        headings = sum(
            len(assignments.HEADING.findall(c.source))
            for c in original.cells
            if c.cell_type == "markdown"
        )
        solutions = sum("solution" in c.metadata.get("tags", []) for c in original.cells)
        cells = graded(assignment.notebook)
        answers = [c for c in cells if c.metadata.nbgrader["solution"]]
        tests = [c for c in cells if c.metadata.nbgrader["grade"]]
        headless = sum(not e.heading for e in assignment.exercises)
        assert (
            len(assignment.exercises)
            == headings + headless
            == solutions
            == len(answers)
            == len(tests)
        )
        assert len(assignment.notebook.cells) == len(original.cells) - 2 * solutions
        for exercise, answer, test in zip(assignment.exercises, answers, tests, strict=True):
            assert answer.source.count(BEGIN) == answer.source.count(END) == 1
            assert answer.source.startswith(f"def {exercise.name}(")
            compile(answer.source, exercise.grade_id, "exec")
            assert f"({exercise.name})" in test.source and "assert report.passed" in test.source
            compile(test.source, exercise.grade_id, "exec")
        text = "\n".join(c.source for c in assignment.notebook.cells)
        assert "_solution" not in text and "Stuck?" not in text


# --- nbgrader --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> tuple[Path, list[assignments.Assignment]]:
    """The whole course, with release/ written by nbgrader generate_assignment."""
    root = tmp_path_factory.mktemp("course")
    return root, assignments.make_course(root, NOTEBOOKS)


@pytest.mark.slow
def test_release_has_every_chapter_and_no_solution(course) -> None:
    root, built = course
    assert (root / "nbgrader_config.py").exists()
    assert sorted(p.name for p in (root / "release").iterdir()) == [a.name for a in built]
    assert assignments.solution_leaks(root, built) == []
    for assignment in built:
        released = nbformat.read(
            root / "release" / assignment.name / f"{assignment.name}.ipynb", as_version=4
        )
        answers = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("solution")]
        assert len(answers) == len(assignment.exercises)
        for answer, exercise in zip(answers, assignment.exercises, strict=True):
            assert answer.source.startswith(f"def {exercise.name}(")
            assert answer.source.endswith(
                '# YOUR CODE HERE\n    raise NotImplementedError("your code here")'
            )
    # The leak check itself: a solution line put back into a released cell is found.
    first = built[0]
    path = root / "release" / first.name / f"{first.name}.ipynb"
    released = nbformat.read(path, as_version=4)
    solution_line = graded(first.notebook)[0].source.split(BEGIN)[1].splitlines()[1]
    answer = next(c for c in released.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source += "\n" + solution_line
    nbformat.write(released, path)
    try:
        assert any("was released" in leak for leak in assignments.solution_leaks(root, built))
    finally:
        assignments.nbgrader(root, "generate_assignment", first.name, "--force")


def submit(root: Path, student: str, name: str, nb: nbformat.NotebookNode) -> None:
    folder = root / "submitted" / student / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


def answered(
    released: nbformat.NotebookNode, source: nbformat.NotebookNode, wrong: dict[str, str]
) -> nbformat.NotebookNode:
    """The released notebook with every answer filled in from the worked solution (or ``wrong``)."""
    nb = nbformat.reads(nbformat.writes(released), as_version=4)
    solutions = {
        c.metadata.nbgrader["grade_id"]: c.source
        for c in graded(source)
        if c.metadata.nbgrader["solution"]
    }
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in wrong:
            cell.source = wrong[grade_id]
        elif grade_id in solutions:
            lines = solutions[grade_id].splitlines()
            cell.source = "\n".join(line for line in lines if line.strip() not in (BEGIN, END))
    return nb


WRONG_1_1 = "def my_softmax(scores):\n    return [math.exp(z) for z in scores]  # not normalised"


@pytest.mark.slow
def test_autograde_full_points_zero_and_one_wrong_answer(course) -> None:
    from nbgrader.api import Gradebook

    root, built = course
    by_name = {a.name: a for a in built}
    for name in AUTOGRADED:
        released = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
        source = by_name[name].notebook
        submit(root, "reference", name, answered(released, source, {}))
        submit(root, "untouched", name, released)
    one_wrong = "01_softmax_formula"
    released = nbformat.read(root / "release" / one_wrong / f"{one_wrong}.ipynb", as_version=4)
    submit(
        root,
        "onewrong",
        one_wrong,
        answered(released, by_name[one_wrong].notebook, {"ex1_1": WRONG_1_1}),
    )
    for name in AUTOGRADED:
        assignments.nbgrader(root, "autograde", name, "--force")

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", assignments.COURSE_ID) as gradebook:

        def score(student: str, name: str) -> tuple[float, float]:
            submission = gradebook.find_submission(name, student)
            return submission.score, submission.max_score

        def grade(student: str, name: str, grade_id: str) -> float:
            return gradebook.find_grade(grade_id, name, name, student).score

        for name in AUTOGRADED:
            total = sum(e.points for e in by_name[name].exercises)
            assert score("reference", name) == (total, total), name
            assert score("untouched", name) == (0, total), name
        total = sum(e.points for e in by_name[one_wrong].exercises)
        lost = next(e.points for e in by_name[one_wrong].exercises if e.grade_id == "ex1_1")
        assert score("onewrong", one_wrong) == (total - lost, total)
        assert grade("onewrong", one_wrong, "ex1_1_tests") == 0
        for exercise in by_name[one_wrong].exercises[1:]:
            assert grade("onewrong", one_wrong, f"{exercise.grade_id}_tests") == exercise.points

    graded_nb = nbformat.read(
        root / "autograded" / "onewrong" / one_wrong / f"{one_wrong}.ipynb", as_version=4
    )
    tests = next(
        c
        for c in graded_nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "ex1_1_tests"
    )
    assert [o.get("ename") for o in tests.outputs if o.output_type == "error"] == ["AssertionError"]


def test_make_course_cleans_stale_sources(tmp_path: Path) -> None:
    stale = tmp_path / "source" / "old_chapter"
    stale.mkdir(parents=True)
    built = assignments.make_course(tmp_path, NOTEBOOKS[:2], release=False)
    assert not stale.exists()
    assert [p.name for p in (tmp_path / "source").iterdir()] == [a.name for a in built]
    assert "course_id" in (tmp_path / "nbgrader_config.py").read_text()
