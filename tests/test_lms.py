"""Canvas and Moodle downloads in, their grade import files out (fast; no notebook runs here).

File names are built as the platforms build them (see softmax_course/grading/lms.py for where
in their source): `canvas_name` follows canvas-lms's ContentZipper, `moodle_folder` Moodle's
assign::download_submissions. The import files are read back with the rules of the platforms'
importers: canvas-lms's GradebookImporter and Moodle's assignfeedback_offline_grade_importer.
"""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from softmax_course.grading.intake import collect
from softmax_course.grading.lms import (
    ImportRow,
    named_like,
    parse_canvas,
    parse_moodle,
    write_canvas_import,
    write_moodle_import,
)
from softmax_course.grading.report import late_note
from tests.harness import (
    canvas_name,
    moodle_folder,
)


def canvas_anonymous_name(anonymous_id: str, attachment: int, file: str, *, late: bool) -> str:
    """Return the name Canvas gives an uploaded file of an anonymously graded assignment."""
    return "_".join([*(["LATE"] if late else []), f"anon_{anonymous_id}", str(attachment), file])


def test_canvas_names_give_the_user_id_the_name_and_the_late_mark() -> None:
    found = parse_canvas(canvas_name("Doe, Jane", 4321, 98765, "softmax.ipynb", late=True))
    assert (found.student, found.name, found.file, found.late) == (
        "4321",
        "doejane",
        "softmax.ipynb",
        True,
    )
    unicode = parse_canvas(canvas_name("Müller, Jürgen", 7, 8, "softmax-1.ipynb"))
    assert (unicode.student, unicode.name, unicode.file) == ("7", "müllerjürgen", "softmax-1.ipynb")
    digits = parse_canvas(canvas_name("Ng_2_, Li", 55, 66, "my_file_2.ipynb"))
    assert (digits.student, digits.file) == ("55", "my_file_2.ipynb")
    anonymous = parse_canvas(canvas_anonymous_name("aB3x9", 12, "softmax.ipynb", late=True))
    assert (anonymous.student, anonymous.name, anonymous.late) == ("anon_aB3x9", "", True)
    text = parse_canvas("doejane_4321_text.html")
    assert (text.student, text.file) == ("4321", "text.html")
    assert parse_canvas("notes.ipynb") is None and parse_canvas("ada_1_softmax.ipynb") is None


def test_moodle_names_give_the_participant_id_in_folders_and_flat() -> None:
    folder = parse_moodle(f"download/{moodle_folder('Jürgen Müller', 654321)}/softmax.ipynb")
    assert (folder.student, folder.name) == ("654321", "Jürgen Müller")
    assert folder.file == "softmax.ipynb"
    flat = parse_moodle(f"{moodle_folder('Ada_Lovelace', 12)}softmax.ipynb")
    assert (flat.student, flat.name, flat.file) == ("12", "Ada Lovelace", "softmax.ipynb")
    blind = parse_moodle(f"{moodle_folder('Participant', 9, plugin='onlinetext')}/onlinetext.html")
    assert (blind.student, blind.file) == ("9", "onlinetext.html")
    assert parse_moodle("ada_1_softmax.ipynb") is None


@pytest.mark.parametrize(
    ("file", "like"),
    [
        ("softmax.ipynb", True),
        ("Softmax.ipynb", True),
        ("softmax-1.ipynb", True),
        ("softmax (2).ipynb", True),
        ("softmax_3.ipynb", True),
        ("Untitled.ipynb", False),
        ("softmax-notes.ipynb", False),
        ("softmax.html", False),
    ],
)
def test_named_like_the_release(file: str, like: bool) -> None:
    assert named_like(file, "softmax") is like


ROWS = [
    ImportRow("4321", "doejane", 7.5, "graded"),
    ImportRow("4322", "doejane", None, "not graded: handed in softmax.html"),
    ImportRow("anon_aB3x9", "", 10.0, "graded"),
]


def test_canvas_import_follows_canvas_gradebook_importer(tmp_path: Path) -> None:
    path = write_canvas_import(tmp_path / "canvas-import.csv", ROWS, column="Softmax", max_score=10)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    header, points, *students = rows
    # GradebookImporter#row_has_student_headers? and #update_column_count: five student columns
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[5:] == ["Softmax"]
    assert points[0] == "Points Possible" and points[5] == "10"  # #check_for_non_student_row
    assert all(len(row) == len(header) for row in rows)
    by_id = {row[1]: row for row in students}
    assert by_id["4321"][5] == "7.5" and by_id["4322"][5] == ""  # blank: no score
    assert by_id["4321"][0] == by_id["4322"][0] == "doejane"  # same name, two students
    [anonymous] = [row for row in students if row[0].startswith("Anonymous")]
    assert anonymous[1] == "" and anonymous[5] == "10"


def test_moodle_import_follows_the_offline_worksheet(tmp_path: Path) -> None:
    when = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    rows = [ImportRow("654321", "Jürgen Müller", 9.0, "graded"), *ROWS[1:2]]
    path = write_moodle_import(tmp_path / "moodle-import.csv", rows, max_score=10, when=when)
    table = list(csv.DictReader(path.open(encoding="utf-8")))
    # assignfeedback_offline_grade_importer::init needs these three columns
    assert {"Identifier", "Grade", "Last modified (grade)"} <= set(table[0])
    for row in table:
        # ::next strips "Participant " and looks the rest up as the participant id
        assert re.fullmatch(r"Participant [0-9]+", row["Identifier"])
        assert datetime.fromisoformat(row["Last modified (grade)"]) == when
        assert row["Maximum Grade"] == "10"
    assert [(r["Identifier"], r["Full name"], r["Grade"]) for r in table] == [
        ("Participant 654321", "Jürgen Müller", "9"),
        ("Participant 4322", "doejane", ""),  # blank: Moodle skips it
    ]
    assert table[1]["Status"].startswith("not graded")


def course_dir(root: Path) -> CourseDirectory:
    """Return a CourseDirectory rooted at `root`."""
    config = Config()
    config.CourseDirectory.root = str(root)
    return CourseDirectory(config=config)


def canvas_class(path: Path) -> Path:
    """Write a Canvas download with one student per case the intake must account for."""
    files = {
        canvas_name("Doe, Jane", 101, 1, "softmax.ipynb"): "jane 101",
        canvas_name("Doe, Jane", 102, 2, "softmax.ipynb", late=True): "jane 102, late",
        canvas_name("Lee, Kim", 103, 3, "Untitled.ipynb"): "kim",
        canvas_name("Ray, Al", 104, 4, "softmax.ipynb"): "al",
        canvas_name("Ray, Al", 104, 5, "softmax-1.ipynb"): "al, second",
        canvas_name("Ray, Al", 104, 6, "notes.txt"): "al's notes",
        canvas_name("Poe, Ed", 105, 7, "softmax.html"): "<html>",
        canvas_name("Poe, Ed", 105, 8, "softmax.pdf"): "%PDF",
        canvas_name("Fox, Jo", 106, 9, "draft.ipynb"): "jo draft",
        canvas_name("Fox, Jo", 106, 10, "final.ipynb"): "jo final",
        canvas_anonymous_name("Zx9", 11, "softmax.ipynb", late=False): "anonymous",
        "softmax.ipynb": "no student",
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def test_canvas_download_accounts_for_every_file(tmp_path: Path) -> None:
    due = datetime(2026, 12, 1, 12, 0)
    intake = collect(
        canvas_class(tmp_path / "class.zip"),
        coursedir=course_dir(tmp_path / "course"),
        assignment="softmax",
        notebooks=["softmax"],
        platform="canvas",
        due=due,
    )
    graded = {s.student: (s.folder / "softmax.ipynb").read_text() for s in intake.submissions}
    assert graded == {
        "101": "jane 101",
        "102": "jane 102, late",
        "103": "kim",
        "104": "al",
        "anon_Zx9": "anonymous",
    }
    assert intake.names["101"] == intake.names["102"] == "doejane"
    [late] = [s for s in intake.submissions if s.late]
    assert late.student == "102" and late.details == {"last_name": "doejane"}
    assert (late.folder / "timestamp.txt").read_text() == "2026-12-01 12:00:01"
    assert intake.notes == {"103": "graded Untitled.ipynb as softmax.ipynb"}
    assert {(r.student, Path(r.name).name) for r in intake.set_aside} == {
        ("104", "rayal_104_5_softmax-1.ipynb"),
        ("104", "rayal_104_6_notes.txt"),
    }
    reasons = {r.student or r.name: r.reason for r in intake.rejected}
    assert reasons["105"] == (
        "handed in poeed_105_7_softmax.html, poeed_105_8_softmax.pdf: "
        "not a Jupyter notebook; hand in softmax.ipynb"
    )
    assert reasons["106"].startswith("handed in foxjo_106_10_final.ipynb, foxjo_106_9_draft")
    assert "no notebook named like it" in reasons["106"]
    assert "not one Canvas gives" in reasons["class/softmax.ipynb"]
    every_student = set(graded) | {r.student for r in intake.rejected if r.student}
    assert every_student == set(intake.names)


def test_two_notebooks_named_like_the_release_are_not_guessed(tmp_path: Path) -> None:
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(canvas_name("Ray, Al", 104, 5, "softmax-1.ipynb"), "one")
        zipped.writestr(canvas_name("Ray, Al", 104, 6, "Softmax (2).ipynb"), "two")
    intake = collect(
        archive,
        coursedir=course_dir(tmp_path / "course"),
        assignment="softmax",
        notebooks=["softmax"],
        platform="canvas",
    )
    assert not intake.submissions
    [rejected] = intake.rejected
    assert rejected.student == "104" and "cannot tell which to grade" in rejected.reason


def test_moodle_download_in_folders_and_flat(tmp_path: Path) -> None:
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(f"{moodle_folder('Jürgen Müller', 11)}/softmax.ipynb", "jürgen")
        zipped.writestr(f"{moodle_folder('Jürgen Müller', 11)}/data/extra.csv", "1,2")
        zipped.writestr(f"{moodle_folder('Jürgen Müller', 12)}/softmax.ipynb", "other jürgen")
        zipped.writestr(f"{moodle_folder('Ada Lovelace', 13)}softmax (1).ipynb", "ada, flat")
        zipped.writestr(
            f"{moodle_folder('Bo Li', 14, plugin='onlinetext')}/onlinetext.html", "<p>"
        )
    intake = collect(
        archive,
        coursedir=course_dir(tmp_path / "course"),
        assignment="softmax",
        notebooks=["softmax"],
        platform="moodle",
    )
    graded = {s.student: (s.folder / "softmax.ipynb").read_text() for s in intake.submissions}
    assert graded == {"11": "jürgen", "12": "other jürgen", "13": "ada, flat"}
    assert intake.names == {
        "11": "Jürgen Müller",
        "12": "Jürgen Müller",
        "13": "Ada Lovelace",
        "14": "Bo Li",
    }
    assert [(r.student, r.reason.split(":")[0]) for r in intake.set_aside] == [
        ("11", "not graded")
    ]
    [rejected] = intake.rejected
    assert rejected.student == "14" and "not a Jupyter notebook" in rejected.reason
    assert not any(s.late for s in intake.submissions)


def test_late_note_says_where_lateness_comes_from() -> None:
    due = datetime(2026, 12, 1, 12, 0)
    on_time = SimpleNamespace(
        total_seconds_late=0, timestamp=due, duedate=due, late_submission_penalty=0
    )
    assert late_note(on_time, False) == ""
    stamped = SimpleNamespace(
        total_seconds_late=3600,
        timestamp=datetime(2026, 12, 1, 13, 0),
        duedate=due,
        late_submission_penalty=2.5,
    )
    assert late_note(stamped, False) == (
        "late (its timestamp): handed in at 2026-12-01 13:00:00, 3600 s after the due date; "
        "late penalty 2.5"
    )
    undated = SimpleNamespace(
        total_seconds_late=0, timestamp=None, duedate=None, late_submission_penalty=None
    )
    assert "no due date in the gradebook" in late_note(undated, True)
