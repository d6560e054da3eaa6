"""Make an nbgrader course from the notebooks: one assignment per chapter with exercises.

Usage: ``python -m tools.assignments`` (what ``make assignments`` runs), or
``python -m tools.assignments --course DIR --no-release notebooks/01_softmax_formula.ipynb``.

It writes ``DIR/nbgrader_config.py`` and ``DIR/source/<chapter>/<chapter>.ipynb`` (default
``DIR`` is ``build/course``), runs ``nbgrader generate_assignment`` for each chapter, which
writes ``DIR/release/<chapter>/``, and checks that no solution is left in ``release/``.

Every exercise in a notebook is a markdown cell with a heading ``### Exercise N.M — title``
followed by four cells: the learner's code cell (a function whose body raises
``NotImplementedError``), a check cell (a ``check_*`` call from
``softmax_lab.exercises``, bare or inside ``print``), a markdown "Stuck? ..." cell and a
hidden worked-solution cell tagged ``solution``. In the assignment:

* the learner's cell becomes an nbgrader *autograded answer*: the same function header,
  then the worked solution's body between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
  (the solution may define ``<name>_solution`` or ``<name>``; it is renamed ``<name>``);
* the check cell becomes an *autograder tests* cell worth :data:`POINTS` points that prints
  the report and raises ``AssertionError`` unless every check passed;
* the "Stuck?" cell and the worked solution are left out.

A notebook whose exercises do not have this shape is refused with a message naming the
exercise and what is missing (:class:`ExerciseShapeError`).
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tools.notebooks import find

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "build" / "course"
COURSE_ID = "softmax-lab"
POINTS = 1  # per exercise
SOLUTION_TAG = "solution"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
# What nbgrader puts where the solution was: the learner cells' own stub.
CODE_STUB = '# YOUR CODE HERE\nraise NotImplementedError("your code here")'
HEADING = re.compile(r"^###\s+Exercise\s+(\d+)\.(\d+)\s*[—–-]+\s*(.+?)\s*$", re.MULTILINE)

NBGRADER_CONFIG = f'''\
"""nbgrader configuration of the softmax-lab course (written by tools/assignments.py)."""

from pathlib import Path

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "{COURSE_ID}"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)
# The learners' stub, so a released exercise cell looks like the one in notebooks/.
c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}
# Seconds per cell when autograding: the slowest cells (notebook 08's training) take a few.
c.Execute.timeout = 300
# Where nbgrader's release/fetch/submit/collect exchange files on a shared machine or hub.
# c.Exchange.root = "/srv/nbgrader/exchange"
'''


class ExerciseShapeError(ValueError):
    """A notebook's exercise cells do not have the shape this tool converts."""


@dataclass
class Exercise:
    chapter: int
    number: int
    title: str
    name: str  # the function the learner writes
    grade_id: str
    points: int
    heading: bool = True  # False: the notebook lacks its "### Exercise N.M — title" heading


@dataclass
class Assignment:
    name: str  # the notebook's stem: 01_softmax_formula
    notebook: nbformat.NotebookNode
    exercises: list[Exercise]


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, points: int = 0) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def _learner_function(source: str, where: str) -> tuple[str, str]:
    """The learner cell's function name and its header (the lines before the stub)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ExerciseShapeError(f"{where}: the exercise cell does not parse: {error}") from None
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    if len(functions) != 1 or "NotImplementedError" not in source:
        raise ExerciseShapeError(
            f"{where}: the cell after the heading must define one function that raises "
            "NotImplementedError (the learner's stub)"
        )
    function = functions[0]
    lines = source.splitlines()
    header = "\n".join(lines[: function.body[0].lineno - 1])
    return function.name, header


def _check_call(source: str, name: str, where: str) -> str:
    """``check_x(name)`` from a check cell (a bare call or one inside ``print``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ExerciseShapeError(f"{where}: the check cell does not parse: {error}") from None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.startswith("check_")
        ):
            passed = {arg.id for arg in node.args if isinstance(arg, ast.Name)}
            if name not in passed:
                raise ExerciseShapeError(
                    f"{where}: the check cell does not pass {name} to {node.func.id}"
                )
            return ast.get_source_segment(source, node)
    raise ExerciseShapeError(f"{where}: the cell after the exercise cell has no check_* call")


def _mentions_check(node: ast.AST) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and (inner.id == "report" or inner.id.startswith("check_")):
            return True
    return False


def solution_code(source: str, name: str, where: str) -> str:
    """The worked solution's definitions, with ``<name>_solution`` renamed ``<name>``.

    Everything before the first statement that runs the checker (or uses its report) is
    kept, comments included; the checker call, prints and asserts after it are dropped.
    """
    source = re.sub(rf"\b{re.escape(name)}_solution\b", name, source)
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ExerciseShapeError(f"{where}: the solution cell does not parse: {error}") from None
    cut = next((node.lineno for node in tree.body if _mentions_check(node)), None)
    lines = source.splitlines()
    code = "\n".join(lines if cut is None else lines[: cut - 1]).strip("\n")
    kept = ast.parse(code).body if code else []
    if not any(isinstance(node, ast.FunctionDef) and node.name == name for node in kept):
        raise ExerciseShapeError(
            f"{where}: the solution cell must define {name} or {name}_solution before it "
            "runs the checker"
        )
    return code


def answer_source(header: str, code: str) -> str:
    """The autograded answer: the learner's header, then the solution between markers.

    When the solution is one function with the learner's header, only its body is marked,
    so the released cell shows the header and a stub; otherwise the whole code is marked.
    """
    body_lines = code.splitlines()
    head_lines = header.splitlines()
    tree = ast.parse(code)
    if (
        head_lines
        and len(tree.body) == 1
        and isinstance(tree.body[0], ast.FunctionDef)
        and body_lines[: len(head_lines)] == head_lines
        and len(body_lines) > len(head_lines)
    ):
        body = body_lines[len(head_lines) :]
        first = next(line for line in body if line.strip())
        indent = first[: len(first) - len(first.lstrip())]
        return "\n".join([*head_lines, indent + BEGIN, *body, indent + END])
    return "\n".join([BEGIN, code, END])


def checker_module(name: str) -> str | None:
    """The ``softmax_lab.exercises`` module that defines the checker ``name``, if one does."""
    import importlib
    import pkgutil

    import softmax_lab.exercises as package

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if name in getattr(module, "__all__", ()):
            return module.__name__
    return None


def tests_source(call: str) -> str:
    """The locked tests cell. It imports its checker itself: nbgrader runs it in the student's
    kernel, where an answer cell could have rebound the name to a checker that always passes."""
    checker = call.split("(", 1)[0]
    module = checker_module(checker)
    imported = f"from {module} import {checker}  # the grader's own checker\n" if module else ""
    return (
        imported
        + textwrap.dedent(
            f"""\
            report = {call}
            print(report)
            assert report.passed, "not every check passed: see the report above"
            """
        )
    ).rstrip("\n")


def _code_cells_from(cells: list, start: int) -> list[int]:
    return [j for j in range(start, len(cells)) if cells[j].cell_type == "code"]


def _headless_exercise(cells: list, i: int) -> bool:
    """A learner's stub, then a check cell, then a worked solution, with no heading above."""
    if cells[i].cell_type != "code" or "NotImplementedError" not in cells[i].source:
        return False
    following = _code_cells_from(cells, i + 1)[:2]
    return (
        len(following) == 2
        and "check_" in cells[following[0]].source
        and SOLUTION_TAG in _tags(cells[following[1]])
    )


def _next_number(label: str, exercises: list[Exercise]) -> tuple[int, int]:
    """Chapter and number for an exercise without a heading: after the previous one."""
    if exercises:
        return exercises[-1].chapter, exercises[-1].number + 1
    digits = re.match(r"\d+", label)
    return (int(digits[0]) if digits else 0), 1


def convert(
    nb: nbformat.NotebookNode, label: str = "notebook"
) -> tuple[nbformat.NotebookNode, list[Exercise]]:
    """The nbgrader source version of a notebook, and its exercises (none: a copy)."""
    nb = copy.deepcopy(nb)
    cells = nb.cells
    out: list[nbformat.NotebookNode] = []
    exercises: list[Exercise] = []
    i = 0
    while i < len(cells):
        cell = cells[i]
        heading = HEADING.search(cell.source) if cell.cell_type == "markdown" else None
        if heading is None and _headless_exercise(cells, i):
            # An exercise whose heading went missing: numbered from its place, and reported.
            chapter, number = _next_number(label, exercises)
            title, has_heading, first = "", False, i
            code_at = _code_cells_from(cells, i)[:3]
            where = f"{label}: Exercise {chapter}.{number} (no heading)"
        elif heading is None:
            if SOLUTION_TAG in _tags(cell):
                raise ExerciseShapeError(
                    f"{label}: code cell {i} is tagged {SOLUTION_TAG!r} but follows no exercise"
                )
            out.append(cell)
            i += 1
            continue
        else:
            chapter, number, title = int(heading[1]), int(heading[2]), heading[3]
            has_heading, first = True, i + 1
            where = f"{label}: Exercise {chapter}.{number}"
            out.append(cell)
            code_at = _code_cells_from(cells, i + 1)[:3]
        if len(code_at) < 3:
            raise ExerciseShapeError(
                f"{where}: needs an exercise cell, a check cell and a solution cell"
            )
        answer_at, check_at, solution_at = code_at
        between = [cells[j] for j in range(first, solution_at) if j not in code_at]
        if any(HEADING.search(c.source) for c in between):
            raise ExerciseShapeError(
                f"{where}: the next exercise starts before this one's solution"
            )
        if SOLUTION_TAG not in _tags(cells[solution_at]):
            raise ExerciseShapeError(
                f"{where}: the third code cell after the heading must be the worked solution, "
                f"tagged {SOLUTION_TAG!r}"
            )
        name, header = _learner_function(cells[answer_at].source, where)
        call = _check_call(cells[check_at].source, name, where)
        code = solution_code(cells[solution_at].source, name, where)
        grade_id = f"ex{chapter}_{number}"
        if any(e.grade_id == grade_id for e in exercises):
            raise ExerciseShapeError(f"{where}: a second exercise with this number")
        exercises.append(Exercise(chapter, number, title, name, grade_id, POINTS, has_heading))

        answer = nbformat.v4.new_code_cell(answer_source(header, code))
        answer.metadata.update(copy.deepcopy(cells[answer_at].metadata))
        answer.metadata["nbgrader"] = _nbgrader(grade_id, solution=True, grade=False)
        tests = nbformat.v4.new_code_cell(tests_source(call))
        tests.metadata.update(copy.deepcopy(cells[check_at].metadata))
        tests.metadata["nbgrader"] = _nbgrader(
            f"{grade_id}_tests", solution=False, grade=True, points=POINTS
        )
        # Markdown between the heading and the solution: kept, except the "Stuck?" pointer
        # to the worked solution, which is not in the assignment.
        for j in range(first, solution_at):
            if j == answer_at:
                out.append(answer)
            elif j == check_at:
                out.append(tests)
            elif not cells[j].source.lstrip().startswith("Stuck?"):
                out.append(cells[j])
        i = solution_at + 1
    for cell in out:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.cells = out
    nb.metadata.pop("widgets", None)
    return nb, exercises


def build_sources(paths: Iterable[Path]) -> list[Assignment]:
    assignments = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        converted, exercises = convert(nb, label=path.name)
        if exercises:
            assignments.append(Assignment(path.stem, converted, exercises))
    return assignments


def write_course(course: Path, assignments: list[Assignment]) -> None:
    """``nbgrader_config.py`` and ``source/``; stale sources and releases are removed."""
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    for folder in ("source", "release"):
        shutil.rmtree(course / folder, ignore_errors=True)
    for assignment in assignments:
        folder = course / "source" / assignment.name
        folder.mkdir(parents=True)
        nbformat.write(assignment.notebook, folder / f"{assignment.name}.ipynb")


def nbgrader(course: Path, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the course folder with this interpreter; raise on failure."""
    command = [sys.executable, "-m", "nbgrader", *args]
    # nbgrader runs `alembic` (its database migrations) from PATH: this interpreter's first.
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    done = subprocess.run(
        command, cwd=course, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[2:])} failed in {course} (exit {done.returncode}):\n"
            f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done


def solution_leaks(course: Path, assignments: list[Assignment]) -> list[str]:
    """Every place where ``release/`` still shows a solution: markers, tags or code lines."""
    found = []
    for assignment in assignments:
        path = course / "release" / assignment.name / f"{assignment.name}.ipynb"
        if not path.exists():
            found.append(f"{path} is missing")
            continue
        released = nbformat.read(path, as_version=4)
        text = "\n".join(cell.source for cell in released.cells)
        for marker in (BEGIN, END, "_solution(", "Stuck?", "worked solution"):
            if marker in text:
                found.append(f"{path.name}: contains {marker!r}")
        for index, cell in enumerate(released.cells):
            if SOLUTION_TAG in _tags(cell):
                found.append(f"{path.name}: cell {index} is tagged {SOLUTION_TAG!r}")
            if cell.cell_type == "code" and cell.get("outputs"):
                found.append(f"{path.name}: cell {index} has stored outputs")
        source_cells = [
            cell
            for cell in assignment.notebook.cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
        ]
        released_lines = {
            line.strip()
            for cell in released.cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
            for line in cell.source.splitlines()
        }
        for cell in source_cells:
            inside = cell.source.split(BEGIN, 1)[1].split(END, 1)[0]
            for line in inside.splitlines():
                if (
                    line.strip()
                    and not line.strip().startswith("#")
                    and line.strip() in released_lines
                ):
                    found.append(f"{path.name}: solution line {line.strip()!r} was released")
    return found


def make_course(course: Path, paths: Iterable[Path], *, release: bool = True) -> list[Assignment]:
    assignments = build_sources(paths)
    write_course(course, assignments)
    if release:
        for assignment in assignments:
            nbgrader(course, "generate_assignment", assignment.name, "--force")
        leaks = solution_leaks(course, assignments)
        if leaks:
            raise RuntimeError("solutions left in release/:\n  " + "\n  ".join(leaks))
    return assignments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)"
    )
    parser.add_argument("--course", type=Path, default=COURSE, help="course folder (build/course)")
    parser.add_argument("--no-release", action="store_true", help="write source/ only")
    args = parser.parse_args(argv)
    paths = args.paths or find()
    try:
        assignments = make_course(args.course, paths, release=not args.no_release)
    except (ExerciseShapeError, RuntimeError) as error:
        print(f"assignments: {error}", file=sys.stderr)
        return 1
    for assignment in assignments:
        points = sum(exercise.points for exercise in assignment.exercises)
        print(f"{assignment.name}: {len(assignment.exercises)} exercises, {points} points")
        for exercise in assignment.exercises:
            if not exercise.heading:
                print(
                    f"  warning: {assignment.name}.ipynb: the exercise on {exercise.name} has no "
                    f"'### Exercise N.M — title' heading; graded as {exercise.chapter}."
                    f"{exercise.number}",
                    file=sys.stderr,
                )
    where = "source/ and release/" if not args.no_release else "source/"
    print(f"{len(assignments)} assignments in {args.course} ({where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
