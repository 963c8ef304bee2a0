"""How Canvas and Moodle name the files of a submissions download, and their grade import files.

Read from the platforms' source:

- Canvas, `ContentZipper#get_filename` and `#add_upload_submission` in canvas-lms's
  lib/content_zipper.rb: each uploaded file is stored as
  `<name>[_LATE]_<user id>_<attachment id>_<file name>`, where `<name>` is the student's
  sortable name ("Last, First") downcased with every non-word character removed (Unicode letters
  stay) and `_<digits>_` collapsed, and `LATE` marks a late submission. With anonymous grading
  the name is left out and the id is `anon_<anonymous id>`. Text entries and links become
  `<name>[_LATE]_<user id>_text.html` and `..._link.html`. A file uploaded again under the same
  name is renamed `softmax-1.ipynb`, `softmax-2.ipynb`, ... (`Attachment.make_unique_filename`
  in app/models/attachment.rb).
- Canvas's gradebook import, lib/gradebook_importer.rb (`GradebookImporter#update_column_count`,
  `#process_student`, `#check_for_non_student_row`): the header is `Student`, `ID`,
  `SIS User ID`, `SIS Login ID`, `Section`, then one column per assignment, titled like the
  assignment or `Title (assignment id)`; an optional second row starts with `Points Possible`.
  A student is found by `ID` (the Canvas user id) first. A blank cell is no score; where Canvas
  holds a score, Canvas counts it as a change (`#no_change_to_value?`), shown before applying.
- Moodle, `assign::download_submissions` in mod/assign/locallib.php: the prefix is
  `clean_filename(<full name with "_" replaced by " "> . "_" . <participant id>)`, the id being
  `assign::get_uniqueid_for_user` (the number of "Participant N" on the grading page), then
  `_assignsubmission_<plugin>_` and either a folder (`.../softmax.ipynb`, the default since
  Moodle 3.1) or, with "Download submissions in folders" off, the file name appended directly.
  Under blind marking the name is the word "Participant".
- Moodle's offline grading worksheet, mod/assign/gradingtable.php (the columns when
  downloading) and mod/assign/feedback/offline/importgradeslib.php and locallib.php (what
  "Upload grading worksheet" reads): it needs the columns `Identifier` ("Participant <id>"),
  `Grade` and `Last modified (grade)`, and skips a row whose grade is blank, or whose grade in
  Moodle was changed more than a minute after its `Last modified (grade)`, unless told to ignore
  that date. Other columns (`Full name`, `Status`, `Maximum Grade`, ...) are read by people only.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

PLATFORMS = ("canvas", "moodle")
"""The learning platforms whose downloads `softmax-course grade --lms` understands."""


@dataclass(frozen=True)
class LmsFile:
    """What a platform's file name says about one file of a submissions download."""

    student: str  # the platform's stable id: Canvas user id (or anon_<id>), Moodle participant id
    name: str  # the student's name as the file name gives it ('' when anonymous)
    file: str  # the file's own name, as the student handed it in (after any platform renaming)
    late: bool = False  # the platform marked the submission late


_CANVAS_FILE = r"_(?P<attachment>[0-9]+)_(?P<file>.+)|_(?P<page>text\.html|link\.html)"
_CANVAS_ANONYMOUS = re.compile(rf"^(?P<late>LATE_)?anon_(?P<id>[0-9A-Za-z]+)(?:{_CANVAS_FILE})$")
_CANVAS_NAMED = re.compile(rf"^(?P<name>.*?)(?P<late>_LATE)?_(?P<id>[0-9]+)(?:{_CANVAS_FILE})$")
_MOODLE_PREFIX = r"(?P<name>[^_/]*)_(?P<id>[0-9]+)_assignsubmission_(?P<plugin>[a-z0-9]+)"
_MOODLE_FOLDER = re.compile(rf"^{_MOODLE_PREFIX}_?$")
_MOODLE_FLAT = re.compile(rf"^{_MOODLE_PREFIX}_(?P<file>.+)$")


def parse_canvas(path: str) -> LmsFile | None:
    """Return what a Canvas download's file name says, or None if Canvas did not name it."""
    base = PurePosixPath(path).name
    if match := _CANVAS_ANONYMOUS.match(base):
        student, name = f"anon_{match['id']}", ""
    elif match := _CANVAS_NAMED.match(base):
        student, name = match["id"], match["name"]
    else:
        return None
    return LmsFile(student, name, match["file"] or match["page"], bool(match["late"]))


def parse_moodle(path: str) -> LmsFile | None:
    """Return what a Moodle download's path says, or None if Moodle did not name it."""
    parts = PurePosixPath(path).parts
    for depth in range(len(parts) - 2, -1, -1):  # a folder per student and plugin
        if match := _MOODLE_FOLDER.match(parts[depth]):
            inner = "/".join(parts[depth + 1 :])
            return LmsFile(match["id"], match["name"].strip(), inner)
    if match := _MOODLE_FLAT.match(parts[-1]):
        return LmsFile(match["id"], match["name"].strip(), match["file"])
    return None


def parse(platform: str, path: str) -> LmsFile | None:
    """Return what `platform`'s naming says about the file at `path` (relative to the download)."""
    if platform == "canvas":
        return parse_canvas(path)
    if platform == "moodle":
        return parse_moodle(path)
    raise ValueError(f"unknown platform '{platform}': expected one of {', '.join(PLATFORMS)}")


def named_like(file: str, notebook: str) -> bool:
    """Return True when `file` is `notebook`.ipynb, or a copy renamed by a platform or browser.

    Accepted: any case, and a number after the name as Canvas (`softmax-1`), browsers
    (`softmax (1)`) and Moodle's duplicates (`softmax_1`) add it.
    """
    path = PurePosixPath(file)
    if path.suffix.lower() != ".ipynb":
        return False
    pattern = rf"{re.escape(notebook)}(?:[-_]\d+| ?\(\d+\))?"
    return re.fullmatch(pattern, path.stem, flags=re.IGNORECASE) is not None


@dataclass(frozen=True)
class ImportRow:
    """One student's line in a grade import file."""

    student: str  # the platform's id
    name: str
    score: float | None  # None: left blank for the instructor
    status: str  # what the instructor should know, in a few words


CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
"""The first columns of a Canvas gradebook import, in order (lib/gradebook_importer.rb)."""

MOODLE_COLUMNS = (
    "Identifier",
    "Full name",
    "Status",
    "Grade",
    "Maximum Grade",
    "Last modified (grade)",
)
"""The worksheet's columns written here, as English Moodle names them (mod/assign/gradingtable.php
and lang/en/assign.php); "Upload grading worksheet" reads Identifier, Grade, Last modified (grade).
"""


def _points(score: float | None) -> str:
    return "" if score is None else f"{score:g}"


def write_canvas_import(
    path: Path, rows: Sequence[ImportRow], *, column: str, max_score: float
) -> Path:
    """Write a Canvas gradebook import: the student columns, then one column named `column`.

    `column` is the Canvas assignment's title, or `Title (assignment id)`, as Canvas's own
    gradebook export heads it. A blank cell leaves that student's grade for the instructor.
    """
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow([*CANVAS_STUDENT_COLUMNS, column])
        writer.writerow(["Points Possible", "", "", "", "", f"{max_score:g}"])
        for row in rows:
            if row.student.startswith("anon_"):  # no user id: Canvas asks whom it is on import
                writer.writerow([f"Anonymous {row.student}", "", "", "", "", _points(row.score)])
            else:
                writer.writerow([row.name, row.student, "", "", "", _points(row.score)])
    return path


def write_moodle_import(
    path: Path, rows: Sequence[ImportRow], *, max_score: float, when: datetime
) -> Path:
    """Write a Moodle offline grading worksheet for "Upload grading worksheet".

    `Last modified (grade)` is `when` (the export): Moodle then keeps a grade that someone
    changed in Moodle after it. A blank grade is skipped by Moodle.
    """
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S%z")
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(MOODLE_COLUMNS)
        for row in rows:
            writer.writerow(
                [
                    f"Participant {row.student}",
                    row.name,
                    row.status,
                    _points(row.score),
                    f"{max_score:g}",
                    stamp,
                ]
            )
    return path
