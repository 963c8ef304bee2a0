"""Collecting submissions: nbgrader's layout, and LMS downloads through nbgrader's plugins."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from softmax_course.course import CourseError
from softmax_course.grading.intake import collect


def course_dir(root: Path) -> CourseDirectory:
    """Return a CourseDirectory rooted at `root`."""
    config = Config()
    config.CourseDirectory.root = str(root)
    return CourseDirectory(config=config)


def test_nbgrader_layout_is_copied_into_submitted(tmp_path) -> None:
    incoming = tmp_path / "incoming" / "ada" / "softmax"
    incoming.mkdir(parents=True)
    (incoming / "softmax.ipynb").write_text("{}")
    (incoming / "timestamp.txt").write_text("2024-05-01 10:00:00")
    intake = collect(
        tmp_path / "incoming",
        coursedir=course_dir(tmp_path / "course"),
        assignment="softmax",
        notebooks=["softmax"],
    )
    [submission] = intake.submissions
    assert submission.student == "ada" and not intake.rejected
    assert (submission.folder / "softmax.ipynb").read_text() == "{}"
    assert submission.folder == tmp_path / "course" / "submitted" / "ada" / "softmax"


def test_lms_zip_names_students_and_sets_aside_what_it_cannot_place(tmp_path) -> None:
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("ada_101_softmax.ipynb", "ada")
        zipped.writestr("bob_102_3_LATE_softmax-1.ipynb", "bob, renamed by the LMS")
        zipped.writestr("cy_103_softmax.ipynb", "cy, first")
        zipped.writestr("cy_104_softmax.ipynb", "cy, second")
        zipped.writestr("notes.ipynb", "no student in the name")
        zipped.writestr("index.html", "ignored")
    root = tmp_path / "course"
    intake = collect(
        archive, coursedir=course_dir(root), assignment="softmax", notebooks=["softmax"]
    )
    students = {s.student: s for s in intake.submissions}
    assert set(students) == {"ada", "bob"}
    assert (root / "submitted/bob/softmax/softmax.ipynb").read_text() == "bob, renamed by the LMS"
    reasons = {r.name: r.reason for r in intake.rejected}
    assert "no time to pick the newest" in reasons["cy/softmax"]
    assert "does not match" in next(v for k, v in reasons.items() if "notes" in k)


def test_lms_timestamps_pick_the_newest_and_change_the_digest(tmp_path) -> None:
    folder = tmp_path / "download"
    folder.mkdir()
    (folder / "ada_2024-05-01T10-00_softmax.ipynb").write_text("old")
    (folder / "ada_2024-05-02T09-30_softmax.ipynb").write_text("new")
    config = Config()
    config.FileNameCollectorPlugin.named_regexp = (
        r".*/(?P<student_id>[a-z]+)_(?P<timestamp>[0-9]{4}-[0-9]{2}-[0-9]{2})T[0-9-]+"
        r"_(?P<file_id>.+)$"
    )
    root = tmp_path / "course"
    first = collect(
        folder,
        coursedir=course_dir(root),
        assignment="softmax",
        notebooks=["softmax"],
        config=config,
    )
    [submission] = first.submissions
    assert (submission.folder / "softmax.ipynb").read_text() == "new"
    assert (submission.folder / "timestamp.txt").read_text().startswith("2024-05-02")
    (folder / "ada_2024-05-03T08-00_softmax.ipynb").write_text("newer")
    again = collect(
        folder,
        coursedir=course_dir(root),
        assignment="softmax",
        notebooks=["softmax"],
        config=config,
    )
    assert again.submissions[0].digest != submission.digest


@pytest.mark.parametrize("name", ["missing.zip", "grades.xlsx"])
def test_inputs_that_are_not_submissions_are_one_line_errors(tmp_path, name) -> None:
    if name.endswith(".xlsx"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(CourseError) as error:
        collect(
            tmp_path / name,
            coursedir=course_dir(tmp_path),
            assignment="softmax",
            notebooks=["softmax"],
        )
    assert name in str(error.value) and "\n" not in str(error.value)


def test_files_beside_a_notebook_are_listed_as_not_graded(tmp_path) -> None:
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("ada_101_softmax.ipynb", "ada")
        zipped.writestr("ada_101_softmax.html", "an export")
        zipped.writestr("bo_102_softmax.pdf", "only a pdf")
    intake = collect(
        archive,
        coursedir=course_dir(tmp_path / "course"),
        assignment="softmax",
        notebooks=["softmax"],
    )
    assert [s.student for s in intake.submissions] == ["ada"]
    assert [(r.name, r.student) for r in intake.set_aside] == [
        ("download/ada_101_softmax.html", "ada")
    ]
    assert [r.name for r in intake.rejected] == ["download/bo_102_softmax.pdf"]
