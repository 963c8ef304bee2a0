"""Grade implementations from tests/corpus/ with nbgrader, as students' submissions would be.

Each corpus file holds one implementation of one function of an assignment, with a docstring
that says `verdict: correct` or `verdict: wrong` and, for wrong ones, `message: <phrase>` that a
failing test's message must contain. The file replaces that function's answer cell in a
submission whose other answers are the reference solutions.
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import is_grade, is_solution

from softmax_course.course import load_config, nbgrader_api
from softmax_course.grading.assignment import read_assignment
from softmax_course.grading.intake import collect
from softmax_course.grading.schedule import grade
from softmax_course.notebooks import failure_message

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
SOLUTION_BLOCK = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.M)


@dataclass(frozen=True)
class Implementation:
    """One corpus file: which function it implements, and what its grade must show."""

    path: Path
    function: str
    verdict: str
    message: str

    @property
    def student(self) -> str:
        """Return a student id unique within the assignment."""
        return self.path.stem.replace("_", "-")


@dataclass(frozen=True)
class CellGrade:
    """One autograded cell's score and the message it printed when it failed."""

    score: float
    max_score: float
    message: str


def load_implementation(path: Path, answer_functions: set[str]) -> Implementation:
    """Parse a corpus file's header and find the answer function it defines."""
    tree = ast.parse(path.read_text())
    doc = ast.get_docstring(tree) or ""
    fields = dict(re.findall(r"^(verdict|message):\s*(.+?)\s*$", doc, re.M))
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    matches = [name for name in defined if name in answer_functions]
    assert len(matches) == 1, f"{path.name}: defines {matches}, expected one of {answer_functions}"
    assert fields.get("verdict") in {"correct", "wrong"}, f"{path.name}: no 'verdict:' line"
    assert fields["verdict"] == "correct" or fields.get("message"), f"{path.name}: no 'message:'"
    return Implementation(path, matches[0], fields["verdict"], fields.get("message", ""))


def answer_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """Return the autograded answer cells by the function they define (grade_id '<f>_answer')."""
    return {
        cell.metadata.nbgrader["grade_id"].removesuffix("_answer"): cell
        for cell in nb.cells
        if cell.cell_type == "code" and is_solution(cell) and not is_grade(cell)
    }


def reference_submission(assignment: str) -> nbformat.NotebookNode:
    """Return the student notebook with every answer cell filled with the reference solution."""
    student = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", 4)
    source = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)
    solved = answer_cells(source)
    for function, cell in answer_cells(student).items():
        cell.source = SOLUTION_BLOCK.sub("", solved[function].source)
    return student


def grade_class(
    assignment: str,
    submissions: dict[str, nbformat.NotebookNode],
    course: Path,
    *,
    extra_config: str = "",
) -> dict[str, dict[str, CellGrade]]:
    """Autograde each submission with nbgrader in a scratch course; return grades by cell.

    The class is graded as `softmax-course grade` does: nbgrader's autograde steps, with the
    notebooks executed in parallel on local Dask workers.
    """
    shutil.copy(ROOT / "nbgrader_config.py", course)
    if extra_config:  # settings of this class only, after the course's
        with (course / "nbgrader_config.py").open("a") as config:
            config.write("\n" + extra_config)
    shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    api = nbgrader_api(course)
    assert api.generate_assignment(assignment)["success"]
    for student, nb in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    config = load_config(course)
    intake = collect(
        course / "submitted",
        coursedir=CourseDirectory(config=config),
        assignment=assignment,
        notebooks=[assignment],
        config=config,
    )
    facts = read_assignment(config, assignment)
    run = grade(course, facts, intake.submissions, config=config, progress=False)
    assert run.count("graded") == len(submissions), [o for o in run.outcomes if o.reason]
    grades: dict[str, dict[str, CellGrade]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in submissions:
            graded = nbformat.read(
                course / "autograded" / student / assignment / f"{assignment}.ipynb", 4
            )
            messages = {
                c.metadata.nbgrader["grade_id"]: failure_message(c)
                for c in graded.cells
                if c.cell_type == "code" and is_grade(c) and not is_solution(c)
            }
            notebook = gradebook.find_submission_notebook(assignment, assignment, student)
            grades[student] = {
                g.name: CellGrade(g.score, g.max_score, messages.get(g.name, ""))
                for g in notebook.grades
                if g.name in messages  # autograded test cells only, not written answers
            }
    return grades
