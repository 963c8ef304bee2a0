"""`softmax-course grade`: a class handed in as an LMS zip, graded end to end, then re-graded.

The class: the reference solution, the released stub, every corpus implementation of softmax,
a submission whose test cells were tampered with, one renamed by the LMS, one that is not JSON
and one whose kernel dies. Expected scores come from running each submission's code against
the instructor's tests directly in Python (a cell earns its points if it raises nothing).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from distributed import get_worker
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import is_grade, is_solution

from softmax_course.cli import main
from softmax_course.course import load_config
from softmax_course.grading.assignment import read_assignment
from softmax_course.grading.intake import collect
from softmax_course.grading.schedule import grade
from tests.harness import (
    ASSIGNMENT,
    CORPUS,
    REFERENCE_ANSWER,
    ROOT,
    SOLUTION,
    STUB,
    STUB_ANSWER,
    WRONG,
    answer_cells,
    expected_points,
    grade_cli,
    load_implementation,
    make_course,
    read_grades,
    reference_submission,
    submitted_course,
    visible_text,
    with_answer,
    write_zip,
)

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def tampered() -> nbformat.NotebookNode:
    """A wrong answer whose author emptied every test cell and deleted the last one."""
    nb = with_answer(WRONG)
    for cell in nb.cells:
        if is_grade(cell):
            cell.source = "pass"
    nb.cells = nb.cells[:-1]
    return nb


def dies_before_last_test() -> nbformat.NotebookNode:
    """The reference answer, and a cell that kills the kernel before the last test cell."""
    nb = with_answer(REFERENCE_ANSWER)
    last = max(i for i, cell in enumerate(nb.cells) if is_grade(cell))
    nb.cells.insert(last, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    return nb


def last_test_points() -> float:
    """Return the points of the instructor notebook's last test cell."""
    cells = [c for c in nbformat.read(SOLUTION, 4).cells if is_grade(c) and not is_solution(c)]
    return float(cells[-1].metadata.nbgrader["points"])


def build_class() -> tuple[dict[str, bytes], dict[str, float]]:
    """Return the LMS files by name, and the expected score of each gradable student."""
    files, scores = {}, {}

    def add(student: str, nb: nbformat.NotebookNode, answer: str, name: str = "") -> None:
        files[name or f"{student}_{1000 + len(files)}_{ASSIGNMENT}.ipynb"] = nbformat.writes(
            nb
        ).encode()
        scores[student] = sum(expected_points(answer).values())

    add("reference", reference_submission(ASSIGNMENT), REFERENCE_ANSWER)
    add("stub", nbformat.read(STUB, 4), STUB_ANSWER)
    for path in sorted((CORPUS / ASSIGNMENT).glob("*.py")):
        add(path.stem.replace("_", "-"), with_answer(path.read_text()), path.read_text())
    add("tamperer", tampered(), WRONG)
    add("renamed", with_answer(REFERENCE_ANSWER), REFERENCE_ANSWER, "renamed_77_softmax-1.ipynb")
    files["broken-json_4242_softmax.ipynb"] = b'{"cells": [ this is not json'
    files["kernel-killer_4343_softmax.ipynb"] = nbformat.writes(dies_before_last_test()).encode()
    scores["kernel-killer"] = sum(expected_points(REFERENCE_ANSWER).values()) - last_test_points()
    return files, scores


def hidden_test_cells() -> list[str]:
    """Return the grade_id of each test cell with hidden tests in the instructor's notebook."""
    cells = nbformat.read(SOLUTION, 4).cells
    return [c.metadata.nbgrader["grade_id"] for c in cells if HIDDEN.search(c.source)]


def hidden_code_lines() -> list[str]:
    """Return the lines of code inside the hidden test blocks of the instructor's notebook."""
    lines = []
    for cell in nbformat.read(SOLUTION, 4).cells:
        for block in HIDDEN.findall(cell.source):
            lines += [line.strip() for line in block.splitlines() if len(line.strip()) >= 12]
    assert len(lines) > 20
    return lines


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """Grade the class once from its LMS zip; keep what the next tests inspect."""
    scratch = tmp_path_factory.mktemp("grade")
    course = make_course(scratch / "course")
    files, scores = build_class()
    assert len(files) >= 10 and {"reference", "stub", "tamperer"} <= set(scores), "class too small"
    archive = write_zip(scratch / "class.zip", files)
    output = grade_cli(course, str(archive), "--assignment", ASSIGNMENT, "--workers", "2")
    out = course / "grading-output"
    return {
        "course": course,
        "archive": archive,
        "files": files,
        "scores": scores,
        "output": output,
        "out": out,
        "grades": read_grades(out / "grades.csv"),
    }


def test_grades_csv_has_the_expected_score_of_every_student(graded) -> None:
    grades = graded["grades"]
    for student, score in graded["scores"].items():
        assert float(grades[student]["score"]) == pytest.approx(score), student
        assert float(grades[student]["max_score"]) == 10
    assert graded["scores"]["reference"] == 10 and graded["scores"]["stub"] == 0
    assert 0 < graded["scores"]["tamperer"] < 10  # the restored tests still catch the bug
    assert 0 < graded["scores"]["kernel-killer"] < 10  # keeps the points earned before dying


def test_broken_submissions_score_zero_and_do_not_stop_the_run(graded) -> None:
    grades = graded["grades"]
    assert float(grades["broken-json"]["score"]) == 0
    assert "could not be graded" in graded["output"]
    assert "broken-json" in graded["output"]
    assert re.search(r"kernel-killer\s+softmax\.ipynb: the kernel died", graded["output"])
    assert "protection: " in graded["output"]


def test_feedback_for_every_graded_student_and_no_hidden_code(graded) -> None:
    feedback = graded["out"] / "feedback"
    written = {p.parent.parent.name for p in feedback.glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.html")}
    # every graded student, and the one whose file is not a notebook, with a page saying why
    assert written == set(graded["scores"]) | {"broken-json"}
    why = visible_text((feedback / "broken-json" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text())
    assert "not graded" in why and "not a readable notebook" in why, why
    secrets = hidden_code_lines()
    for page in feedback.glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.html"):
        text = visible_text(page.read_text())
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{page}: {leaked[:3]}"
        assert "BEGIN HIDDEN" not in text
    reference = visible_text(
        (feedback / "reference" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    )
    for grade_id in hidden_test_cells():
        assert f"{grade_id}: passed" in reference
    functions = set(answer_cells(reference_submission(ASSIGNMENT)))
    for path in sorted((CORPUS / ASSIGNMENT).glob("wrong_*.py")):
        impl = load_implementation(path, functions)
        page = feedback / impl.student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert impl.message.lower() in visible_text(page.read_text()).lower(), impl.student


def test_report_has_figures_and_lists_broken_submissions(graded) -> None:
    page = (graded["out"] / "report.html").read_text()
    images = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="([^"]+)"', page)
    assert len(images) >= 3 and all(alt for alt in images)
    assert "Pass rate per test cell" in page and "Most frequent failure messages" in page
    text = visible_text(page)
    assert re.search(r"broken-json\s*softmax\.ipynb: not a readable notebook", text)
    assert re.search(r"kernel-killer\s*softmax\.ipynb: the kernel died while running cell", text)
    assert re.search(r"protection: \w", text)
    assert "subtract the maximum" in text  # a frequent failure message, from check.failure_message


def test_rerun_grades_nothing_new_and_changes_no_grade(graded) -> None:
    before = (graded["out"] / "grades.csv").read_text()
    output = grade_cli(graded["course"], str(graded["archive"]), "-a", ASSIGNMENT, "-q")
    assert re.search(r"submissions: 0 graded, \d+ unchanged, 1 could not be graded", output)
    assert (graded["out"] / "grades.csv").read_text() == before


def test_manual_grade_survives_regrading_a_changed_submission(graded) -> None:
    course, student = graded["course"], "wrong-divide-by-sum"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "softmax-step-by-step") as gradebook:
        grade = gradebook.find_grade("softmax_example", ASSIGNMENT, ASSIGNMENT, student)
        assert grade.auto_score == 0
        grade.manual_score = 1.5
        comment = gradebook.find_comment("softmax_answer", ASSIGNMENT, ASSIGNMENT, student)
        comment.manual_comment = "Remember the exponential."
        gradebook.db.commit()
    files = dict(graded["files"])
    name = next(n for n in files if n.startswith(f"{student}_"))
    nb = nbformat.reads(files[name].decode(), 4)
    nb.cells.append(nbformat.v4.new_markdown_cell("I fixed a typo."))
    files[name] = nbformat.writes(nb).encode()
    archive = write_zip(graded["archive"].with_name("resubmitted.zip"), files)

    output = grade_cli(course, str(archive), "-a", ASSIGNMENT, "-q")

    assert "1 graded" in output
    grades = read_grades(graded["out"] / "grades.csv")
    assert float(grades[student]["score"]) == pytest.approx(graded["scores"][student] + 1.5)
    for other, row in graded["grades"].items():
        if other != student:
            assert grades[other]["score"] == row["score"], other
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "softmax-step-by-step") as gradebook:
        grade = gradebook.find_grade("softmax_example", ASSIGNMENT, ASSIGNMENT, student)
        assert grade.manual_score == 1.5 and grade.auto_score == 0
        comment = gradebook.find_comment("softmax_answer", ASSIGNMENT, ASSIGNMENT, student)
        assert comment.manual_comment == "Remember the exponential."


def test_missing_submissions_path_is_one_clear_line(tmp_path) -> None:
    course = make_course(tmp_path / "course")
    with contextlib.chdir(course):
        result = CliRunner().invoke(main, ["grade", "nowhere.zip", "-a", ASSIGNMENT])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["Error: nowhere.zip: no such file or folder"]


def test_corrupt_zip_is_one_clear_line(tmp_path) -> None:
    course = make_course(tmp_path / "course")
    (course / "class.zip").write_bytes(b"PK\x03\x04 truncated")
    with contextlib.chdir(course):
        result = CliRunner().invoke(main, ["grade", "class.zip", "-a", ASSIGNMENT])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "class.zip: cannot unpack it" in lines[0], result.output


def test_unknown_assignment_is_one_clear_line(tmp_path) -> None:
    course = make_course(tmp_path / "course")
    (course / "class.zip").write_bytes(b"")
    with contextlib.chdir(course):
        result = CliRunner().invoke(main, ["grade", "class.zip", "-a", "no-such-thing"])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "no-such-thing" in result.output and "Traceback" not in result.output


def test_nbgrader_layout_on_an_existing_dask_cluster_with_force(tmp_path) -> None:
    from distributed import LocalCluster

    course = make_course(tmp_path / "course")
    incoming = tmp_path / "incoming"
    answers = {"good": REFERENCE_ANSWER, "bad": WRONG}
    for student, answer in answers.items():
        folder = incoming / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(with_answer(answer), folder / f"{ASSIGNMENT}.ipynb")
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        args = [str(incoming), "-a", ASSIGNMENT, "--scheduler", cluster.scheduler_address, "-q"]
        first = grade_cli(course, *args)
        again = grade_cli(course, *args, "--force")
    assert "2 graded" in first and "2 graded" in again
    grades = read_grades(course / "grading-output" / "grades.csv")
    for student, answer in answers.items():
        expected = sum(expected_points(answer).values())
        assert float(grades[student]["score"]) == pytest.approx(expected)
        # A remote cluster's workers may not see this machine: feedback is written here.
        feedback = course / "grading-output" / "feedback" / student / ASSIGNMENT
        assert (feedback / f"{ASSIGNMENT}.html").is_file()


def on_a_worker() -> bool:
    """Return whether this runs in a Dask worker."""
    try:
        get_worker()
    except ValueError:
        return False
    return True


def written_where(students: list[str]) -> list[Path]:
    """An `on_graded` that names the process it ran in."""
    return [Path(f"{student}@{os.getpid()}") for student in students]


def written_here_only(students: list[str]) -> list[Path]:
    """An `on_graded` that fails on every Dask worker, as if each had lost its disk."""
    if on_a_worker():
        raise OSError("this worker cannot write")
    return written_where(students)


def test_on_graded_runs_on_the_workers_and_what_fails_there_is_redone_here(tmp_path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    students = {"good": REFERENCE_ANSWER, "bad": WRONG, "stub": STUB_ANSWER}
    submitted_course(ASSIGNMENT, {s: with_answer(a) for s, a in students.items()}, course)
    config = load_config(course)
    intake = collect(
        course / "submitted",
        coursedir=CourseDirectory(config=config),
        assignment=ASSIGNMENT,
        notebooks=[ASSIGNMENT],
        config=config,
    )
    facts = read_assignment(config, ASSIGNMENT)
    here = str(os.getpid())
    for on_graded, pids in ((written_where, "workers"), (written_here_only, "here")):
        run = grade(
            course,
            facts,
            intake.submissions,
            config=config,
            force=True,
            progress=False,
            workers=2,
            on_graded=on_graded,
        )
        assert run.count("graded") == len(students)
        names = sorted(path.name.partition("@")[0] for path in run.written)
        assert names == sorted(students)
        ran_in = {path.name.partition("@")[2] for path in run.written}
        assert (ran_in == {here}) == (pids == "here"), (on_graded.__name__, ran_in)


def test_gradebook_on_postgresql(tmp_path, postgres_url) -> None:
    course = make_course(tmp_path / "course")
    answers = {
        "reference": REFERENCE_ANSWER,
        "stub": STUB_ANSWER,
        "wrong": WRONG,
        "tamperer": WRONG,
    }
    files = {
        f"{student}_{i}_{ASSIGNMENT}.ipynb": nbformat.writes(
            tampered() if student == "tamperer" else with_answer(answer)
        ).encode()
        for i, (student, answer) in enumerate(answers.items())
    }
    files["broken-json_99_softmax.ipynb"] = b"{"
    archive = write_zip(tmp_path / "class.zip", files)
    args = [str(archive), "-a", ASSIGNMENT, "--db", postgres_url, "-q"]

    first = grade_cli(course, *args)
    again = grade_cli(course, *args)

    assert "4 graded" in first and "0 graded, 4 unchanged, 1 could not be graded" in again
    assert not (course / "gradebook.db").exists()
    grades = read_grades(course / "grading-output" / "grades.csv")
    for student, answer in answers.items():
        expected = sum(expected_points(answer).values())
        assert float(grades[student]["score"]) == pytest.approx(expected), student
    assert float(grades["broken-json"]["score"]) == 0
    with Gradebook(postgres_url, "softmax-step-by-step") as gradebook:
        assert {s.id for s in gradebook.students} == {*answers, "broken-json"}


def test_grading_starts_without_the_iri_grammar_and_still_validates_notebooks() -> None:
    """jsonschema's optional IRI checker costs 0.9 s of every run; nothing in grading needs it."""
    script = (
        "import sys, softmax_course.grading.pipeline, nbformat\n"
        "print(sys.modules.get('rfc3987_syntax', 'absent'))\n"
        f"nb = nbformat.read({str(ROOT / 'solutions/softmax/softmax.ipynb')!r}, 4)\n"
        "nbformat.validate(nb)\n"
        "del nb.cells[0]['metadata']\n"
        "print(nbformat.validator.isvalid(nb))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "False"]
