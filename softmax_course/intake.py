"""Collect submissions into nbgrader's submitted/<student>/<assignment>/ folders.

Two inputs are understood: a folder already in nbgrader's layout (`<student>/<assignment>/`),
or what a learning management system hands out: a zip (or a folder) of files named per
student, such as `alice_12345_softmax.ipynb`. The second goes through nbgrader's zip-collect
plugins: ExtractorPlugin unpacks the archives and FileNameCollectorPlugin reads the student,
the file and, when the names carry one, the submission time from each file name.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import ExtractorPlugin, FileNameCollectorPlugin
from nbgrader.utils import parse_utc
from traitlets.config import Config

from softmax_course.course import CourseError

DEFAULT_NAMED_REGEXP = (
    r".*/(?P<student_id>[A-Za-z0-9.\-]+)_(?P<lms_id>[0-9]+)(?:_[0-9]+)*(?:_LATE)?"
    r"_(?P<file_id>[^/]+)$"
)
"""LMS file names `<student>_<id>[_<id>...]_<file>`, as Canvas and Moodle downloads name them."""


@dataclass(frozen=True)
class Submission:
    """One student's submission of one assignment, in the course's submitted/ folder."""

    student: str
    assignment: str
    folder: Path
    digest: str  # sha256 of the submitted files (names and contents)
    details: dict[str, str] = field(default_factory=dict)  # first_name, last_name, email


@dataclass(frozen=True)
class Rejected:
    """A file that could not be attributed to a student's notebook, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class Intake:
    """The submissions found in an input, and the files that were set aside."""

    submissions: list[Submission]
    rejected: list[Rejected]


def digest_folder(folder: Path) -> str:
    """Return a sha256 over the relative names and contents of the files under `folder`."""
    sha = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        sha.update(str(path.relative_to(folder)).encode() + b"\0")
        sha.update(hashlib.sha256(path.read_bytes()).digest())
    return sha.hexdigest()


def is_nbgrader_layout(source: Path, assignment: str) -> bool:
    """Return True when `source` holds `<student>/<assignment>/` folders."""
    return source.is_dir() and any(p.is_dir() for p in source.glob(f"*/{assignment}"))


def collect(
    source: Path,
    *,
    coursedir: CourseDirectory,
    assignment: str,
    notebooks: Sequence[str],
    config: Config | None = None,
) -> Intake:
    """Copy the submissions in `source` into the course's submitted/ folder and list them.

    `notebooks` are the assignment's notebook names (without .ipynb). A student's folder in
    submitted/ is replaced by what `source` holds for them; other students are left alone.
    """
    if not source.exists():
        raise CourseError(f"{source}: no such file or folder")
    try:
        if is_nbgrader_layout(source, assignment):
            return _collect_nbgrader_layout(source, coursedir, assignment)
        if source.is_dir() or source.suffix in {".zip", ".gz", ".ipynb"}:
            return _collect_lms(source, coursedir, assignment, notebooks, config or Config())
    except OSError as exc:
        raise CourseError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    raise CourseError(
        f"{source}: expected a folder of submissions or an LMS zip file, not '{source.suffix}'"
    )


def _submitted_folder(coursedir: CourseDirectory, student: str, assignment: str) -> Path:
    return Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))


def _collect_nbgrader_layout(source: Path, coursedir: CourseDirectory, assignment: str) -> Intake:
    submissions = []
    for folder in sorted(source.glob(f"*/{assignment}")):
        student = folder.parent.name
        if not folder.is_dir() or student.startswith("."):
            continue
        dest = _submitted_folder(coursedir, student, assignment)
        if folder.resolve() != dest.resolve():
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(folder, dest)
        submissions.append(Submission(student, assignment, dest, digest_folder(dest)))
    return Intake(submissions, [])


@dataclass
class _Found:
    path: Path
    notebook: str
    timestamp: datetime | None
    details: dict[str, str]


def _collect_lms(
    source: Path,
    coursedir: CourseDirectory,
    assignment: str,
    notebooks: Sequence[str],
    config: Config,
) -> Intake:
    collector = FileNameCollectorPlugin(config=config)
    if not collector.named_regexp:
        collector.named_regexp = DEFAULT_NAMED_REGEXP
    with tempfile.TemporaryDirectory(prefix="softmax-intake-") as scratch:
        archive, extracted = Path(scratch) / "archive", Path(scratch) / "extracted"
        extracted.mkdir()
        if source.is_dir():
            archive = source
        else:
            archive.mkdir()
            shutil.copy(source, archive / source.name)
        try:
            ExtractorPlugin(config=config).extract(str(archive), str(extracted))
        except Exception as exc:  # zipfile, tarfile and shutil raise many kinds
            raise CourseError(f"{source}: cannot unpack it ({type(exc).__name__}: {exc})") from None
        found: dict[str, dict[str, list[_Found]]] = {}
        rejected = []
        for path in sorted(p for p in extracted.rglob("*") if p.is_file()):
            name = str(path.relative_to(extracted))
            info = collector.collect(str(path))
            if not info:
                if path.suffix == ".ipynb":
                    rejected.append(Rejected(name, "file name does not match the LMS naming"))
                continue
            notebook = Path(info["file_id"]).stem
            if notebook not in notebooks:
                if len(notebooks) != 1:
                    rejected.append(Rejected(name, f"no notebook '{notebook}' in {assignment}"))
                    continue
                notebook = notebooks[0]  # an LMS renamed the only notebook (e.g. softmax-1.ipynb)
            try:
                timestamp = parse_utc(info["timestamp"]) if info.get("timestamp") else None
            except (ValueError, OverflowError):
                rejected.append(Rejected(name, f"unreadable time '{info['timestamp']}'"))
                continue
            details = {
                key: info[key] for key in ("first_name", "last_name", "email") if info.get(key)
            }
            found.setdefault(info["student_id"], {}).setdefault(notebook, []).append(
                _Found(path, notebook, timestamp, details)
            )
        submissions = []
        for student, by_notebook in sorted(found.items()):
            chosen, problem = _newest(by_notebook)
            if problem:
                rejected.append(Rejected(f"{student}/{assignment}", problem))
                continue
            dest = _submitted_folder(coursedir, student, assignment)
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            for item in chosen:
                shutil.copy(item.path, dest / f"{item.notebook}.ipynb")
            stamps = [item.timestamp for item in chosen if item.timestamp is not None]
            if stamps:
                (dest / "timestamp.txt").write_text(max(stamps).isoformat(" "))
            details = {k: v for item in chosen for k, v in item.details.items()}
            submissions.append(Submission(student, assignment, dest, digest_folder(dest), details))
    return Intake(submissions, rejected)


def _newest(by_notebook: dict[str, list[_Found]]) -> tuple[list[_Found], str]:
    chosen = []
    for notebook, items in sorted(by_notebook.items()):
        if len(items) == 1:
            chosen.append(items[0])
        elif all(item.timestamp is not None for item in items):
            chosen.append(max(items, key=lambda item: item.timestamp))
        else:
            return (
                [],
                f"{len(items)} files for {notebook}.ipynb and no time to pick the newest",
            )
    return chosen, ""
