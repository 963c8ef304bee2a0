"""From a Canvas or Moodle download to the platform's import file, grading real notebooks.

A Canvas class of softmax and a Moodle class of argmax (which has a written answer), zipped with
the names the platforms give (tests/test_lms.py), are graded with `softmax-course grade --lms`.
Each import file must hold one row per student of the download: nbgrader's score for those
graded, a blank grade and the reason for the others. Then a written answer is marked in the
gradebook and the class re-graded with --force: the answer stays marked.
"""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from softmax_course.course import nbgrader_api
from tests.harness import (
    REFERENCE_ANSWER,
    ROOT,
    WRONG,
    canvas_name,
    expected_points,
    grade_cli,
    make_course,
    moodle_folder,
    read_grades,
    reference_submission,
    visible_text,
    with_answer,
)

COURSE_ID = "softmax-step-by-step"
DUE = datetime(2026, 12, 1, 12, 0)
WRITTEN = "argmax_training_answer"
"""The written answer of argmax, marked by hand (2 points)."""


def write_download(path: Path, files: dict[str, bytes]) -> Path:
    """Write `files` into a zip at `path` under exactly the given names."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def notebook(nb: nbformat.NotebookNode) -> bytes:
    """Return a notebook as the bytes a student uploads."""
    return nbformat.writes(nb).encode()


def read_csv(path: Path) -> list[list[str]]:
    """Return the rows of a CSV file."""
    return list(csv.reader(path.open(encoding="utf-8")))


@pytest.fixture(scope="module")
def canvas(tmp_path_factory) -> dict:
    """Grade a Canvas download of softmax, with a due date and nbgrader's 'zero' late penalty."""
    scratch = tmp_path_factory.mktemp("canvas")
    course = make_course(scratch / "course")
    with (course / "nbgrader_config.py").open("a") as config:
        config.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    nbgrader_api(course)  # puts nbgrader's `alembic` on PATH, which a new gradebook runs
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        gradebook.update_or_create_assignment("softmax", duedate=DUE)
    reference, wrong = notebook(with_answer(REFERENCE_ANSWER)), notebook(with_answer(WRONG))
    files = {
        canvas_name("Doe, Jane", 101, 1, "softmax.ipynb"): reference,
        canvas_name("Doe, Jane", 102, 2, "softmax.ipynb"): wrong,
        canvas_name("Lee, Kim", 103, 3, "softmax.ipynb", late=True): reference,
        canvas_name("Ray, Al", 104, 4, "Untitled.ipynb"): wrong,
        canvas_name("Fox, Jo", 105, 5, "softmax.ipynb"): reference,
        canvas_name("Fox, Jo", 105, 6, "softmax-old.ipynb"): wrong,
        canvas_name("Poe, Ed", 106, 7, "softmax.html"): b"<html>an export</html>",
    }
    archive = write_download(scratch / "softmax submissions.zip", files)
    output = grade_cli(course, str(archive), "-a", "softmax", "--lms", "canvas", "-q")
    return {"course": course, "output": output, "out": course / "grading-output"}


def test_canvas_import_has_every_student_with_nbgrader_scores(canvas) -> None:
    header, points, *rows = read_csv(canvas["out"] / "canvas-import.csv")
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "softmax"]
    assert points[0] == "Points Possible" and points[5] == "10"
    grades = read_grades(canvas["out"] / "grades.csv")
    wrong = sum(expected_points(WRONG).values())
    by_id = {row[1]: row for row in rows}
    assert set(by_id) == {"101", "102", "103", "104", "105", "106"}
    assert {key: row[5] for key, row in by_id.items()} == {
        "101": "10",
        "102": f"{wrong:g}",
        "103": "0",  # late, and nbgrader's 'zero' penalty
        "104": f"{wrong:g}",
        "105": "10",
        "106": "",  # an HTML export only: left for the instructor
    }
    for student, row in by_id.items():
        if row[5]:
            assert float(grades[student]["score"]) == float(row[5]), student
    assert by_id["101"][0] == by_id["102"][0] == "doejane"
    assert float(grades["103"]["late_submission_penalty"]) == 10
    assert grades["103"]["timestamp"].startswith("2026-12-01 12:00:01")
    with Gradebook(f"sqlite:///{canvas['course'] / 'gradebook.db'}", COURSE_ID) as gradebook:
        assert gradebook.find_student("101").last_name == "doejane"
        assert gradebook.find_submission("softmax", "103").total_seconds_late == 1


def test_canvas_run_lists_every_file_and_exits_with_status_3(canvas) -> None:
    output, report = canvas["output"], visible_text((canvas["out"] / "report.html").read_text())
    # grade_cli checked the exit status: 3, as the output lists what could not be graded
    assert re.search(r"poeed \(106\)\s+handed in poeed_106_7_softmax\.html: not a Jupyter", output)
    assert re.search(r"foxjo_105_6_softmax-old\.ipynb\s+not graded: handed in beside", output)
    assert re.search(r"rayal \(104\)\s+graded Untitled\.ipynb as softmax\.ipynb", output)
    assert re.search(r"leekim \(103\)\s+late \(the platform's mark\).*late penalty 10", output)
    assert "canvas-import.csv" in output
    for text in ["poeed (106)", "foxjo_105_6_softmax-old.ipynb", "graded Untitled.ipynb"]:
        assert text in report, text


@pytest.fixture(scope="module")
def moodle(tmp_path_factory) -> dict:
    """Grade a Moodle download of argmax (folders and flat), mark a written answer, re-grade."""
    scratch = tmp_path_factory.mktemp("moodle")
    course = make_course(scratch / "course")
    shutil.rmtree(course / "solutions")
    shutil.copytree(ROOT / "solutions" / "argmax", course / "solutions" / "argmax")
    stub = nbformat.read(ROOT / "exercises" / "argmax" / "argmax.ipynb", 4)
    answered = reference_submission("argmax")
    for cell in answered.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == WRITTEN:
            cell.source = "The output is flat almost everywhere, so its gradient is zero."
    files = {
        f"{moodle_folder('Jürgen Müller', 11)}/argmax.ipynb": notebook(answered),
        f"{moodle_folder('Jürgen Müller', 12)}argmax.ipynb": notebook(stub),
        f"{moodle_folder('Bo Li', 13, plugin='onlinetext')}/onlinetext.html": b"<p>my answer</p>",
    }
    archive = write_download(scratch / "argmax.zip", files)
    args = [str(archive), "-a", "argmax", "--lms", "moodle", "-q"]
    first = grade_cli(course, *args)
    before = read_csv(course / "grading-output" / "moodle-import.csv")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        grade = gradebook.find_grade(WRITTEN, "argmax", "argmax", "11")
        grade.manual_score = 2
        gradebook.db.commit()
    again = grade_cli(course, *args, "--force")
    return {
        "course": course,
        "first": first,
        "before": before,
        "again": again,
        "after": read_csv(course / "grading-output" / "moodle-import.csv"),
        "grades": read_grades(course / "grading-output" / "grades.csv"),
        "report": visible_text((course / "grading-output" / "report.html").read_text()),
    }


def test_moodle_import_leaves_unmarked_written_answers_blank(moodle) -> None:
    header, *rows = moodle["before"]
    assert header[:4] == ["Identifier", "Full name", "Status", "Grade"]
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_id) == {"Participant 11", "Participant 12", "Participant 13"}
    assert by_id["Participant 11"]["Full name"] == by_id["Participant 12"]["Full name"]
    answered, stub, online = (by_id[f"Participant {n}"] for n in (11, 12, 13))
    assert answered["Grade"] == "" and answered["Status"].startswith(
        "answers not marked by hand yet (autograded part 8 of 10)"
    )
    # nbgrader scores a written answer left as released 0 by itself: nothing to mark
    assert (stub["Grade"], stub["Status"]) == ("0", "graded")
    assert online["Grade"] == "" and "not a Jupyter notebook" in online["Status"]
    assert "answers to mark by hand (1): Jürgen Müller (11)" in moodle["first"]


def test_marked_written_answers_stay_marked_after_regrading(moodle) -> None:
    assert "2 graded" in moodle["again"]  # --force: autograded again
    assert "answers to mark by hand" not in moodle["again"]
    assert "needs manual grading" not in moodle["report"]
    header, *rows = moodle["after"]
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    for student in ("11", "12"):
        row = by_id[f"Participant {student}"]
        assert row["Status"] == "graded"
        assert float(row["Grade"]) == float(moodle["grades"][student]["score"])
    assert by_id["Participant 11"]["Grade"] == by_id["Participant 11"]["Maximum Grade"] == "10"
    assert by_id["Participant 13"]["Grade"] == ""
    with Gradebook(f"sqlite:///{moodle['course'] / 'gradebook.db'}", COURSE_ID) as gradebook:
        grade = gradebook.find_grade(WRITTEN, "argmax", "argmax", "11")
        assert grade.manual_score == 2 and grade.needs_manual_grade  # nbgrader's flag, set again


def guide_example(heading: str) -> list[str]:
    """Return the lines of the first ```text block after `heading` in the instructor guide."""
    text = (ROOT / "book" / "instructor-guide.md").read_text()
    block = text.split(heading, 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_the_guide_shows_what_the_terminal_prints(canvas) -> None:
    printed = [line.strip() for line in canvas["output"].splitlines()]
    example = guide_example("### Worked example: Canvas")
    assert len(example) >= 4
    for line in example:
        assert line in printed, canvas["output"]


def test_a_student_whose_file_was_not_graded_gets_a_page_saying_why(canvas) -> None:
    page = canvas["out"] / "feedback" / "106" / "softmax" / "softmax.html"
    text = visible_text(page.read_text())
    assert "not graded" in text and "not a Jupyter notebook" in text, text
