"""Broken files in a class: each one gives one clear line, and nothing lands outside the course.

One end-to-end run grades a small LMS zip (honest students and one student per kind of broken
file) with `softmax-course grade`; fast tests then check `intake.collect` and
`check.read_notebook` on each kind of broken file alone.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import tarfile
import tempfile
import uuid
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from softmax_course.course import CourseError
from softmax_course.grading.intake import Intake, collect
from softmax_course.notebooks import read_notebook
from tests.harness import (
    ASSIGNMENT,
    REFERENCE_ANSWER,
    grade_cli,
    make_course,
    read_grades,
    visible_text,
    with_answer,
)

TOKEN = f"escape-{uuid.uuid4().hex[:8]}"
"""Part of the names of the path-traversal entries, to look for them anywhere afterwards."""


def honest() -> str:
    """Return the released notebook with the reference answer, as nbformat 4.5 JSON."""
    return nbformat.writes(with_answer(REFERENCE_ANSWER))


def nbformat3() -> str:
    """Return the honest notebook saved as nbformat 3 (worksheets, no cell ids)."""
    return nbformat.writes(nbformat.convert(with_answer(REFERENCE_ANSWER), 3), version=3)


def nbformat40() -> str:
    """Return the honest notebook as nbformat 4.0: no cell ids."""
    nb = json.loads(honest())
    nb["nbformat_minor"] = 0
    for cell in nb["cells"]:
        del cell["id"]
    return json.dumps(nb)


def symlink_entry(name: str, target: str) -> tuple[zipfile.ZipInfo, str]:
    """Return a zip entry that unzip tools such as Info-ZIP turn into a symbolic link."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so that the file type in external_attr counts
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def write_zip(path: Path, files: dict[str, str | bytes], links: dict[str, str] | None) -> Path:
    """Write `files` (and symbolic-link entries `links`, name to target) into a zip at `path`."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        for name, target in (links or {}).items():
            archive.writestr(*symlink_entry(name, target))
    return path


def snapshot(root: Path) -> dict[str, tuple[int, int] | None]:
    """Return every path under `root`: (size, mtime) for files, None for folders."""
    paths: dict[str, tuple[int, int] | None] = {}
    for path in root.rglob("*"):
        info = path.lstat()
        key = path.relative_to(root).as_posix()
        paths[key] = None if path.is_dir() else (info.st_size, info.st_mtime_ns)
    return paths


def written_outside(before: dict, after: dict, allowed: tuple[str, ...]) -> list[str]:
    """Return the paths created, changed or removed between two snapshots, except in `allowed`."""
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    return sorted(
        key for key in changed if not any(key == a or key.startswith(f"{a}/") for a in allowed)
    )


def escaped() -> list[Path]:
    """Return the files named after TOKEN in the places a traversal entry could reach."""
    places = {Path("/"), Path(tempfile.gettempdir()), Path.home(), Path.cwd()}
    return [path for place in places for path in place.glob(f"*{TOKEN}*")]


# One student per broken file: its content, what its line starts with, and what the line says.
BROKEN = {
    "badjson_201_softmax.ipynb": (
        b'{"cells": [ this is not json',
        "badjson",
        "softmax.ipynb: not a readable notebook (NotJSONError",
    ),
    "empty_202_softmax.ipynb": (b"", "empty", "softmax.ipynb: empty file (0 bytes); save"),
    "pyfile_203_softmax.py": (
        b"def softmax(x):\n    pass\n",
        "pyfile_203_softmax.py",
        "not a Jupyter notebook; hand in softmax.ipynb",
    ),
    ".._204_softmax.ipynb": (honest(), ".._204_softmax.ipynb", "'..' is not a usable student id"),
    "zed_208_softmax.zip": (
        b"PK\x03\x04 a damaged zip",
        "zed_208_softmax.zip",
        "a damaged archive that cannot be unpacked",
    ),
}
TRAVERSAL = {
    f"../../../../../../../../../../{TOKEN}_205_softmax.ipynb": "outside the archive's folder",
    f"/tmp/{TOKEN}_206_softmax.ipynb": "outside the archive's folder",
}
LINK = "Softmax download/link_207_softmax.ipynb"
# Handed in as another nbformat version or under another name: graded as usual.
GRADABLE = {
    "ada": ("Softmax download/section 1/ada_101_softmax.ipynb", honest()),
    "ben": ("Softmax download/section 2/late/ben_102_softmax.ipynb", honest()),
    "nbthree": ("Softmax download/section 1/nbthree_103_softmax.ipynb", nbformat3()),
    "nbfourzero": ("Softmax download/section 1/nbfourzero_104_softmax.ipynb", nbformat40()),
    "capital": ("Softmax download/section 2/capital_105_Softmax.ipynb", honest()),
    "copy": ("Softmax download/section 2/copy_106_softmax (1).ipynb", honest()),
}


def test_a_class_with_broken_files_is_graded_with_one_line_each(tmp_path) -> None:
    course = make_course(tmp_path / "course")
    files: dict[str, str | bytes] = {name: content for name, content in GRADABLE.values()}
    files |= {f"Softmax download/section 3/{name}": item[0] for name, item in BROKEN.items()}
    files |= dict.fromkeys(TRAVERSAL, honest())
    archive = write_zip(tmp_path / "class.zip", files, {LINK: "/etc/passwd"})
    before = snapshot(tmp_path)

    output = grade_cli(course, str(archive), "-a", ASSIGNMENT, "--out", "../out", "-q")

    allowed = ("course/submitted", "course/autograded", "course/gradebook.db", "out")
    assert written_outside(before, snapshot(tmp_path), allowed) == []
    assert escaped() == []
    assert not [p for p in (course / "submitted").rglob("*") if p.is_symlink()]
    assert "Traceback" not in output
    lines = output.split("could not be graded:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    expected = {
        **{who: message for _, who, message in BROKEN.values()},
        **{name: message for name, message in TRAVERSAL.items()},
        LINK: "a link, not a file",
    }
    assert len(lines) == len(expected), output
    report = visible_text((tmp_path / "out" / "report.html").read_text())
    for who, message in expected.items():
        [line] = [line for line in lines if who in line]
        assert message in line, line
        name, reason = re.split(r"\s{2,}", line.strip(), maxsplit=1)  # as the report shows it
        assert re.search(re.escape(name) + r"\s*" + re.escape(reason), report), line
    grades = read_grades(tmp_path / "out" / "grades.csv")
    assert {student: float(grades[student]["score"]) for student in GRADABLE} == dict.fromkeys(
        GRADABLE, 10.0
    )


def course_dir(root: Path) -> CourseDirectory:
    """Return a CourseDirectory rooted at `root`."""
    config = Config()
    config.CourseDirectory.root = str(root)
    return CourseDirectory(config=config)


def collect_zip(
    tmp_path: Path,
    files: dict[str, str | bytes],
    links: dict[str, str] | None = None,
    notebooks: tuple[str, ...] = ("softmax",),
) -> Intake:
    """Collect a zip of `files` (and link entries) into a course in `tmp_path`."""
    archive = write_zip(tmp_path / "class.zip", files, links)
    return collect(
        archive,
        coursedir=course_dir(tmp_path / "course"),
        assignment="softmax",
        notebooks=list(notebooks),
    )


def reasons(intake: Intake) -> dict[str, str]:
    """Return the rejected files' reasons by name."""
    return {rejected.name: rejected.reason for rejected in intake.rejected}


def test_empty_notebook_is_one_line(tmp_path) -> None:
    (tmp_path / "softmax.ipynb").write_bytes(b"")
    with pytest.raises(CourseError, match=r"softmax\.ipynb: empty file \(0 bytes\); save"):
        read_notebook(tmp_path / "softmax.ipynb")


def test_invalid_json_is_one_line(tmp_path) -> None:
    (tmp_path / "softmax.ipynb").write_text('{"cells": [ this is not json')
    with pytest.raises(CourseError, match=r"softmax\.ipynb: not a readable notebook \(NotJSON"):
        read_notebook(tmp_path / "softmax.ipynb")


@pytest.mark.parametrize("source", [nbformat3, nbformat40])
def test_older_nbformat_versions_are_read_as_nbformat_4(tmp_path, source) -> None:
    (tmp_path / "softmax.ipynb").write_text(source())
    nb = read_notebook(tmp_path / "softmax.ipynb")
    grade_ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells]
    assert nb.nbformat == 4 and grade_ids == [
        cell.metadata.get("nbgrader", {}).get("grade_id") for cell in with_answer("").cells
    ]


def test_unknown_nbformat_version_is_one_line(tmp_path) -> None:
    nb = json.loads(honest())
    nb["nbformat"] = 5
    (tmp_path / "softmax.ipynb").write_text(json.dumps(nb))
    with pytest.raises(CourseError) as error:
        read_notebook(tmp_path / "softmax.ipynb")
    assert "Unsupported nbformat version 5" in str(error.value) and "\n" not in str(error.value)


def test_python_file_instead_of_notebook_is_one_line(tmp_path) -> None:
    intake = collect_zip(
        tmp_path,
        {
            "pyfile_1_softmax.py": "def softmax(x): ...",
            "ada_2_softmax.ipynb": "{}",
            "ada_2_softmax.html": "an export next to the notebook: not a problem",
        },
    )
    assert [s.student for s in intake.submissions] == ["ada"]
    assert reasons(intake) == {
        "class/pyfile_1_softmax.py": "not a Jupyter notebook; hand in softmax.ipynb"
    }


@pytest.mark.parametrize("name", ["Softmax.ipynb", "softmax (1).ipynb", "softmax-2.ipynb"])
def test_renamed_notebook_of_a_one_notebook_assignment_is_graded(tmp_path, name) -> None:
    intake = collect_zip(tmp_path, {f"ada_1_{name}": "{}"})
    [submission] = intake.submissions
    assert [p.name for p in submission.folder.iterdir()] == ["softmax.ipynb"]
    assert not intake.rejected


def test_unknown_notebook_of_a_two_notebook_assignment_is_one_line(tmp_path) -> None:
    intake = collect_zip(tmp_path, {"ada_1_Softmax.ipynb": "{}"}, notebooks=("softmax", "argmax"))
    assert not intake.submissions
    assert reasons(intake) == {
        "class/ada_1_Softmax.ipynb": "no notebook 'Softmax' in softmax: "
        "expected softmax.ipynb and argmax.ipynb"
    }


@pytest.mark.parametrize(
    ("name", "held"),
    [("Softmax.ipynb", "Softmax.ipynb"), ("softmax.py", "softmax.py"), ("", "nothing")],
)
def test_wrong_name_in_nbgrader_layout_is_one_line(tmp_path, name, held) -> None:
    folder = tmp_path / "incoming" / "ada" / "softmax"
    folder.mkdir(parents=True)
    if name:
        (folder / name).write_text("{}")
    intake = collect(
        tmp_path / "incoming",
        coursedir=course_dir(tmp_path / "course"),
        assignment="softmax",
        notebooks=["softmax"],
    )
    assert not intake.submissions
    assert reasons(intake) == {
        "ada/softmax": f"holds {held}, not softmax.ipynb; hand in the notebook as softmax.ipynb"
    }


def test_nested_folders_and_zips_are_collected(tmp_path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("group/cy_3_softmax.ipynb", "cy")
    intake = collect_zip(
        tmp_path,
        {
            "Softmax download/ada_1_softmax.ipynb": "ada",
            "Softmax download/section 2/late/ben_2_softmax.ipynb": "ben",
            "Softmax download/section 3.zip": inner.getvalue(),
            "__MACOSX/Softmax download/._ada_1_softmax.ipynb": b"\x00\x05\x16\x07",
        },
    )
    assert {s.student: (s.folder / "softmax.ipynb").read_text() for s in intake.submissions} == {
        "ada": "ada",
        "ben": "ben",
        "cy": "cy",
    }
    assert not intake.rejected


def test_path_traversal_entries_are_one_line_and_not_unpacked(tmp_path) -> None:
    names = [
        f"../../../../../../../../../../{TOKEN}_1_softmax.ipynb",
        f"/tmp/{TOKEN}_2_softmax.ipynb",
    ]
    intake = collect_zip(tmp_path, {name: "{}" for name in names})
    assert not intake.submissions and escaped() == []
    assert reasons(intake) == {
        f"{name} (in class.zip)": "a path outside the archive's folder; not unpacked"
        for name in names
    }


@pytest.mark.parametrize("student", ["..", "."])
def test_student_id_that_is_a_path_is_one_line(tmp_path, student) -> None:
    (tmp_path / "course" / "submitted" / "softmax").mkdir(parents=True)  # student 'softmax'
    before = snapshot(tmp_path / "course")
    intake = collect_zip(tmp_path, {f"{student}_1_softmax.ipynb": "{}"})
    assert not intake.submissions
    assert reasons(intake) == {
        f"class/{student}_1_softmax.ipynb": f"'{student}' is not a usable student id"
    }
    assert snapshot(tmp_path / "course") == before


def test_symlink_entry_is_one_line_and_not_a_submission(tmp_path) -> None:
    intake = collect_zip(
        tmp_path, {"ada_1_softmax.ipynb": "{}"}, {"eve_2_softmax.ipynb": "/etc/passwd"}
    )
    assert [s.student for s in intake.submissions] == ["ada"]
    assert reasons(intake) == {
        "eve_2_softmax.ipynb (in class.zip)": "a link, not a file; hand in the notebook itself"
    }
    assert not [p for p in (tmp_path / "course").rglob("*") if p.is_symlink()]


def test_tar_with_traversal_and_links_is_one_line_each(tmp_path) -> None:
    archive = tmp_path / "class.tar.gz"
    with tarfile.open(archive, "w:gz") as tarred:
        for name, kind, target in [
            ("ada_1_softmax.ipynb", tarfile.REGTYPE, ""),
            (f"../../{TOKEN}_2_softmax.ipynb", tarfile.REGTYPE, ""),
            ("eve_3_softmax.ipynb", tarfile.SYMTYPE, "/etc/passwd"),
            ("mal_4_softmax.ipynb", tarfile.SYMTYPE, "ada_1_softmax.ipynb"),
        ]:
            member = tarfile.TarInfo(name)
            member.type, member.linkname, member.size = kind, target, 2 if not target else 0
            tarred.addfile(member, io.BytesIO(b"{}") if not target else None)
    intake = collect(
        archive,
        coursedir=course_dir(tmp_path / "course"),
        assignment="softmax",
        notebooks=["softmax"],
    )
    assert [s.student for s in intake.submissions] == ["ada"] and escaped() == []
    assert reasons(intake) == {
        f"../../{TOKEN}_2_softmax.ipynb (in class.tar.gz)": (
            "a path outside the archive's folder; not unpacked"
        ),
        "eve_3_softmax.ipynb (in class.tar.gz)": "a link, not a file; hand in the notebook itself",
        "mal_4_softmax.ipynb (in class.tar.gz)": "a link, not a file; hand in the notebook itself",
    }
    assert os.listdir(tmp_path / "course" / "submitted") == ["ada"]


def test_a_corrupt_archive_inside_the_download_is_one_line(tmp_path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("cy_3_softmax.ipynb", "cy")
    intake = collect_zip(
        tmp_path,
        {
            "ada_1_softmax.ipynb": "ada",
            "section 3.zip": inner.getvalue(),
            "ben_2_homework.zip": b"PK\x03\x04 this is not a zip file",
        },
    )
    assert {s.student: (s.folder / "softmax.ipynb").read_text() for s in intake.submissions} == {
        "ada": "ada",
        "cy": "cy",
    }
    assert reasons(intake) == {
        "class/ben_2_homework.zip": "a damaged archive that cannot be unpacked; "
        "hand in the notebook itself"
    }
