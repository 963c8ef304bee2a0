"""Shared test helpers: the corpus graded as students' submissions, scratch courses, the CLI.

Grade implementations from tests/corpus/ with nbgrader, as students' submissions would be.

Each corpus file holds one implementation of one function of an assignment, with a docstring
that says `verdict: correct` or `verdict: wrong` and, for wrong ones, `message: <phrase>` that a
failing test's message must contain. The file replaces that function's answer cell in a
submission whose other answers are the reference solutions.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import html
import io
import re
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml
from click.testing import CliRunner
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import is_grade, is_solution

from softmax_course.cli import NOT_EVERYONE_GRADED, main
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


def submitted_course(
    assignment: str,
    submissions: dict[str, nbformat.NotebookNode],
    course: Path,
    *,
    extra_config: str = "",
):
    """Make a scratch course at `course` with `assignment` released and `submissions` handed in
    (nbgrader's submitted/ layout); return its NbGraderAPI."""
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
    return api


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
    submitted_course(assignment, submissions, course, extra_config=extra_config)
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


# From test_grade.py: shared with other test files.

ASSIGNMENT = "softmax"


SOLUTION = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


STUB = ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def expected_points(answer: str) -> dict[str, float]:
    """Run the instructor's notebook with `answer` in the answer cell; points of each test."""
    namespace: dict[str, object] = {}
    points = {}
    for cell in nbformat.read(SOLUTION, 4).cells:
        if cell.cell_type != "code":
            continue
        answered = is_solution(cell) and not is_grade(cell)
        try:
            with (
                warnings.catch_warnings(),
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                warnings.simplefilter("ignore")
                exec(compile(answer if answered else cell.source, "<cell>", "exec"), namespace)
            passed = True
        except Exception:
            passed = False
        if is_grade(cell):
            points[cell.metadata.nbgrader["grade_id"]] = (
                float(cell.metadata.nbgrader["points"]) if passed else 0.0
            )
    return points


def with_answer(answer: str) -> nbformat.NotebookNode:
    """Return the released notebook with `answer` as the softmax answer cell."""
    nb = reference_submission(ASSIGNMENT)
    answer_cells(nb)[ASSIGNMENT].source = answer
    return nb


REFERENCE_ANSWER = SOLUTION_BLOCK.sub(
    "", answer_cells(nbformat.read(SOLUTION, 4))[ASSIGNMENT].source
)


STUB_ANSWER = answer_cells(nbformat.read(STUB, 4))[ASSIGNMENT].source


WRONG = (CORPUS / ASSIGNMENT / "wrong_divide_by_sum.py").read_text()


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    """Write `files` into a zip at `path`, as an LMS download."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(f"submissions/{name}", content)
    return path


def make_course(folder: Path) -> Path:
    """Make a scratch course with the softmax assignment (not yet in any gradebook)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, folder / "solutions" / ASSIGNMENT)
    return folder


def grade_cli(course: Path, *args: str) -> str:
    """Run `softmax-course grade` in `course`; return its output, failing on errors.

    The exit status must be 0 when everyone was graded, and NOT_EVERYONE_GRADED when the
    output lists something that could not be graded.
    """
    runner = CliRunner()
    with contextlib.chdir(course):
        result = runner.invoke(main, ["grade", *args], catch_exceptions=False)
    listed = "could not be graded:" in result.output
    assert result.exit_code == (NOT_EVERYONE_GRADED if listed else 0), result.output
    return result.output


def read_grades(path: Path) -> dict[str, dict[str, str]]:
    """Return grades.csv rows by student, checking there is one row per student."""
    rows = list(csv.DictReader(path.open()))
    students = [row["student_id"] for row in rows]
    assert len(students) == len(set(students)), f"duplicate rows: {students}"
    return {row["student_id"]: row for row in rows}


def visible_text(page: str) -> str:
    """Return the text of an HTML page, without tags, scripts and styles."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


# From test_lms.py: shared with other test files.

def canvas_name(
    sortable: str, user: int, attachment: int, file: str, *, late: bool = False
) -> str:
    """Return the name Canvas gives an uploaded file in a submissions zip."""
    name = re.sub(r"_(\d+)_", r"\1", sortable).lower()  # ContentZipper#sanitize_user_name
    prefix = "_".join([name, *(["LATE"] if late else []), str(user)])
    prefix = re.sub(r"\W", "", prefix)  # #sanitize_file_name keeps word characters
    return f"{prefix}_{attachment}_{re.sub(r'[/:*?<>|]+', '_', file)}"


def moodle_folder(full_name: str, participant: int, *, plugin: str = "file") -> str:
    """Return the folder Moodle gives a student's files of one submission plugin."""
    return f"{full_name.replace('_', ' ')}_{participant}_assignsubmission_{plugin}_"


# From test_book.py: shared with other test files.

def toc_files() -> list[str]:
    """Return every file named in _toc.yml, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def visible_points(assignment: str, *, without: tuple[str, ...] = ()) -> str:
    """Return "V of V", the released notebook's visible test points (cells in `without` left
    out), as `softmax-course check` prints them for a fully solved notebook."""
    from softmax_course.check import is_hidden

    nb = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", 4)
    points = sum(
        float(c.metadata.nbgrader["points"])
        for c in nb.cells
        if c.cell_type == "code"
        and is_grade(c)
        and not is_solution(c)
        and not is_hidden(c.source)
        and c.metadata.nbgrader["grade_id"] not in without
    )
    return f"{points:g} of {points:g}"
