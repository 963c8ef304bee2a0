"""Collect submissions into nbgrader's submitted/<student>/<assignment>/ folders.

Two inputs are understood: a folder already in nbgrader's layout (`<student>/<assignment>/`),
or what a learning management system hands out: a zip (or a folder) of files named per
student, such as `alice_12345_softmax.ipynb`. The second goes through nbgrader's zip-collect
plugins: ExtractorPlugin unpacks the archives and FileNameCollectorPlugin reads the student,
the file and, when the names carry one, the submission time from each file name.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import ExtractorPlugin, FileNameCollectorPlugin
from nbgrader.utils import parse_utc, unzip
from traitlets.config import Config

from softmax_course.course import CourseError
from softmax_course.grading import lms

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
    late: bool = False  # the learning platform marked it late


@dataclass(frozen=True)
class Rejected:
    """A file that could not be attributed to a student's notebook, and why."""

    name: str
    reason: str
    student: str = ""  # whose file it is, when the platform's naming says


@dataclass(frozen=True)
class Intake:
    """The submissions found in an input, and the files that were set aside.

    `rejected` are what keeps a student (or an unattributed file) from being graded; `set_aside`
    are files handed in beside a graded notebook; `names` gives every student of an LMS download
    by the platform's id, graded or not; `notes` what to know about a graded student's files.
    """

    submissions: list[Submission]
    rejected: list[Rejected]
    set_aside: list[Rejected] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


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
    platform: str | None = None,
    due: datetime | None = None,
) -> Intake:
    """Copy the submissions in `source` into the course's submitted/ folder and list them.

    `notebooks` are the assignment's notebook names (without .ipynb). A student's folder in
    submitted/ is replaced by what `source` holds for them; other students are left alone.
    With `platform` ("canvas" or "moodle") the files are named as that platform names them
    (softmax_course.grading.lms), students are keyed by the platform's id, and a submission the
    platform marked late without a time gets the timestamp `due` plus one second, if given.
    """
    if not source.exists():
        raise CourseError(f"{source}: no such file or folder")
    try:
        if is_nbgrader_layout(source, assignment):
            return _collect_nbgrader_layout(source, coursedir, assignment, notebooks)
        if platform and (source.is_dir() or source.suffix in {".zip", ".gz", ".ipynb"}):
            return _collect_platform(
                source, coursedir, assignment, notebooks, config or Config(), platform, due
            )
        if source.is_dir() or source.suffix in {".zip", ".gz", ".ipynb"}:
            return _collect_lms(source, coursedir, assignment, notebooks, config or Config())
    except OSError as exc:
        raise CourseError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    raise CourseError(
        f"{source}: expected a folder of submissions or an LMS zip file, not '{source.suffix}'"
    )


def _submitted_folder(coursedir: CourseDirectory, student: str, assignment: str) -> Path:
    return Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))


def _collect_nbgrader_layout(
    source: Path, coursedir: CourseDirectory, assignment: str, notebooks: Sequence[str]
) -> Intake:
    submissions, rejected = [], []
    expected = " and ".join(f"{notebook}.ipynb" for notebook in notebooks)
    for folder in sorted(source.glob(f"*/{assignment}")):
        student = folder.parent.name
        if not folder.is_dir() or student.startswith("."):
            continue
        if not any((folder / f"{notebook}.ipynb").is_file() for notebook in notebooks):
            held = ", ".join(sorted(path.name for path in folder.iterdir())) or "nothing"
            reason = f"holds {held}, not {expected}; hand in the notebook as {expected}"
            rejected.append(Rejected(f"{student}/{assignment}", reason))
            continue
        dest = _submitted_folder(coursedir, student, assignment)
        if folder.resolve() != dest.resolve():
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(folder, dest)
        submissions.append(Submission(student, assignment, dest, digest_folder(dest)))
    return Intake(submissions, rejected)


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
        extractor = ExtractorPlugin(config=config)
        extracted, rejected, links = _unpack(source, extractor, Path(scratch))
        found: dict[str, dict[str, list[_Found]]] = {}
        not_notebooks: dict[str, list[Rejected]] = {}
        for path, name in _unpacked_files(extracted, links):
            entry = _named_entry(path, name, collector, extractor, assignment, notebooks)
            if isinstance(entry, Rejected):
                rejected.append(entry)
            elif isinstance(entry, tuple) and isinstance(entry[1], Rejected):
                not_notebooks.setdefault(entry[0], []).append(entry[1])
            elif isinstance(entry, tuple):
                student, item = entry
                found.setdefault(student, {}).setdefault(item.notebook, []).append(item)
        set_aside = []
        for student, files in sorted(not_notebooks.items()):
            if student not in found:
                rejected += files
            else:  # beside a notebook: listed, not graded
                reason = "not graded: handed in beside a notebook, which was"
                set_aside += [Rejected(file.name, reason, student) for file in files]
        submissions = []
        for student, by_notebook in sorted(found.items()):
            chosen, problem = _newest(by_notebook)
            if problem:
                rejected.append(Rejected(f"{student}/{assignment}", problem))
                continue
            submissions.append(_submit(coursedir, student, assignment, chosen))
    return Intake(submissions, rejected, set_aside)


def _named_entry(
    path: Path,
    name: str,
    collector: FileNameCollectorPlugin,
    extractor: ExtractorPlugin,
    assignment: str,
    notebooks: Sequence[str],
) -> Rejected | tuple[str, _Found | Rejected] | None:
    """Read one file of a download named by `--regexp`: a student's notebook (student, found),
    a student's other file (student, why not graded), a file rejected, or None (skipped)."""
    expected = " and ".join(f"{notebook}.ipynb" for notebook in notebooks)
    info = collector.collect(str(path))
    if not info:
        named = re.match(collector.named_regexp, str(path))
        if named and path.suffix not in extractor.zip_ext:
            why = f"not a Jupyter notebook; hand in {expected}"
            return named["student_id"], Rejected(name, why)
        if path.suffix == ".ipynb":
            return Rejected(name, "file name does not match the LMS naming")
        return None
    student = info["student_id"]
    if not student or student.startswith(".") or Path(student).name != student:
        return Rejected(name, f"'{student}' is not a usable student id")
    notebook = Path(info["file_id"]).stem
    if notebook not in notebooks:
        if len(notebooks) != 1:
            return Rejected(name, f"no notebook '{notebook}' in {assignment}: expected {expected}")
        notebook = notebooks[0]  # an LMS renamed the only notebook (e.g. softmax-1.ipynb)
    try:
        timestamp = parse_utc(info["timestamp"]) if info.get("timestamp") else None
    except (ValueError, OverflowError):
        return Rejected(name, f"unreadable time '{info['timestamp']}'")
    details = {key: info[key] for key in ("first_name", "last_name", "email") if info.get(key)}
    return student, _Found(path, notebook, timestamp, details)


def _submit(
    coursedir: CourseDirectory, student: str, assignment: str, chosen: Sequence[_Found]
) -> Submission:
    """Copy a student's chosen notebooks into nbgrader's submitted/ folder, with the time."""
    dest = _submitted_folder(coursedir, student, assignment)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for item in chosen:
        shutil.copy(item.path, dest / f"{item.notebook}.ipynb")
    stamps = [item.timestamp for item in chosen if item.timestamp is not None]
    if stamps:
        (dest / "timestamp.txt").write_text(max(stamps).isoformat(" "))
    details = {k: v for item in chosen for k, v in item.details.items()}
    return Submission(student, assignment, dest, digest_folder(dest), details)


def _unpack(
    source: Path, extractor: ExtractorPlugin, scratch: Path
) -> tuple[Path, list[Rejected], list[str]]:
    """Unpack `source` (an archive or a folder) into `scratch` with nbgrader's ExtractorPlugin.

    Returns the folder of unpacked files, a line for each member that was not unpacked, and
    the names of the links among them (to be skipped).
    """
    archive, extracted = scratch / "archive", scratch / "extracted"
    extracted.mkdir()
    if source.is_dir():
        archive = source
    else:
        archive.mkdir()
        shutil.copy(source, archive / source.name)
    try:
        extractor.extract(str(archive), str(extracted))
        broken: list[Rejected] = []
    except Exception:  # zipfile, tarfile and shutil raise many kinds
        broken = _extract_level_by_level(extractor, archive, extracted, source)
    rejected, links = _unsafe_members(
        p
        for folder in (archive, extracted)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix in extractor.zip_ext
    )
    return extracted, rejected + broken, links


def _unpacked_files(extracted: Path, links: Sequence[str]) -> list[tuple[Path, str]]:
    """Return each unpacked file with its name in the download, without links and macOS forks."""
    files = []
    for path in sorted(p for p in extracted.rglob("*") if p.is_file()):
        name = path.relative_to(extracted).as_posix()
        if "__MACOSX" in path.parts or any(f"/{name}".endswith(f"/{link}") for link in links):
            continue
        files.append((path, name))
    return files


def _collect_platform(
    source: Path,
    coursedir: CourseDirectory,
    assignment: str,
    notebooks: Sequence[str],
    config: Config,
    platform: str,
    due: datetime | None,
) -> Intake:
    """Collect a Canvas or Moodle download: every file is graded, set aside or rejected."""
    with tempfile.TemporaryDirectory(prefix="softmax-intake-") as scratch:
        extractor = ExtractorPlugin(config=config)
        extracted, rejected, links = _unpack(source, extractor, Path(scratch))
        by_student: dict[str, list[tuple[Path, str, lms.LmsFile]]] = {}
        for path, name in _unpacked_files(extracted, links):
            found = lms.parse(platform, name)
            if found is None:
                if path.suffix not in extractor.zip_ext:
                    reason = f"the name is not one {platform.capitalize()} gives; not graded"
                    rejected.append(Rejected(name, reason))
                continue
            by_student.setdefault(found.student, []).append((path, name, found))
        intake = Intake([], rejected)
        for student, files in sorted(by_student.items()):
            intake.names[student] = next((f.name for _, _, f in files if f.name), "")
            _place(student, files, notebooks, intake, coursedir, assignment, due)
    return intake


def _place(
    student: str,
    files: list[tuple[Path, str, lms.LmsFile]],
    notebooks: Sequence[str],
    intake: Intake,
    coursedir: CourseDirectory,
    assignment: str,
    due: datetime | None,
) -> None:
    """Pick the student's notebooks to grade, copy them to submitted/, account for the rest."""
    expected = " and ".join(f"{notebook}.ipynb" for notebook in notebooks)
    ipynb = [item for item in files if item[2].file.lower().endswith(".ipynb")]
    chosen: dict[str, tuple[Path, str, lms.LmsFile]] = {}
    for notebook in notebooks:
        exact = [i for i in ipynb if PurePosixPath(i[2].file).name == f"{notebook}.ipynb"]
        like = [i for i in ipynb if lms.named_like(PurePosixPath(i[2].file).name, notebook)]
        candidates = exact or like
        if len(candidates) > 1:
            listed = ", ".join(PurePosixPath(i[1]).name for i in candidates)
            reason = f"{len(candidates)} notebooks named like {notebook}.ipynb ({listed}); "
            reason += "cannot tell which to grade"
            intake.rejected.append(Rejected(_label(intake, student), reason, student))
            return
        if candidates:
            chosen[notebook] = candidates[0]
    if not chosen and len(notebooks) == 1 and len(ipynb) == 1:
        chosen[notebooks[0]] = ipynb[0]  # e.g. Untitled.ipynb: the only notebook handed in
        intake.notes[student] = f"graded {PurePosixPath(ipynb[0][2].file).name} as {expected}"
    if not chosen:
        held = ", ".join(PurePosixPath(name).name for _, name, _ in files)
        what = "no notebook named like it" if ipynb else "not a Jupyter notebook"
        reason = f"handed in {held}: {what}; hand in {expected}"
        intake.rejected.append(Rejected(_label(intake, student), reason, student))
        return
    graded = " and ".join(f"{PurePosixPath(i[2].file).name}" for i in chosen.values())
    for item in files:
        if item not in chosen.values():
            reason = f"not graded: handed in beside {graded}, which was"
            intake.set_aside.append(Rejected(item[1], reason, student))
    dest = _submitted_folder(coursedir, student, assignment)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for notebook, (path, _, _) in chosen.items():
        shutil.copy(path, dest / f"{notebook}.ipynb")
    late = any(found.late for _, _, found in files)
    if late and due is not None:
        (dest / "timestamp.txt").write_text((due + timedelta(seconds=1)).isoformat(" "))
    name = intake.names.get(student, "")
    details = {"last_name": name} if name else {}
    intake.submissions.append(
        Submission(student, assignment, dest, digest_folder(dest), details, late)
    )


def _label(intake: Intake, student: str) -> str:
    """Return how the terminal and the report name a student of an LMS download."""
    name = intake.names.get(student, "")
    return f"{name} ({student})" if name else student


def _extract_level_by_level(
    extractor: ExtractorPlugin, archive: Path, extracted: Path, source: Path
) -> list[Rejected]:
    """Unpack as nbgrader's ExtractorPlugin does, setting aside each archive that will not unpack.

    nbgrader stops at the first archive it cannot unpack, even one a student put inside the
    LMS download; here only an unreadable download itself stops the intake.
    """
    shutil.rmtree(extracted)
    extracted.mkdir()
    zip_ext = extractor.zip_ext
    rejected = []
    for path in sorted(p for p in archive.rglob("*") if p.is_file()):
        target = extracted / path.parent.relative_to(archive)
        target.mkdir(parents=True, exist_ok=True)
        if path.suffix not in zip_ext:
            shutil.copy(path, target / path.name)
            continue
        try:
            unzip(str(path), str(target), zip_ext=zip_ext, create_own_folder=True)
        except Exception as exc:
            raise CourseError(f"{source}: cannot unpack it ({type(exc).__name__}: {exc})") from None
    done: set[Path] = set()
    while nested := sorted(
        p for p in extracted.rglob("*") if p.suffix in zip_ext and p not in done
    ):
        for path in nested:
            done.add(path)
            try:
                unzip(str(path), str(path.parent), zip_ext=zip_ext, create_own_folder=True)
            except Exception:  # zipfile, tarfile and setuptools raise many kinds
                reason = "a damaged archive that cannot be unpacked; hand in the notebook itself"
                rejected.append(Rejected(path.relative_to(extracted).as_posix(), reason))
    return rejected


def _unsafe_members(archives: Iterable[Path]) -> tuple[list[Rejected], list[str]]:
    """Return a line for each archive member that nbgrader's unzip skips or turns into a copy.

    Members with an absolute path or `..` are not extracted; links (which unzip writes as a
    plain file holding the link's target) are set aside. Also returns the links' names.
    """
    rejected, links = [], []
    for archive in archives:
        try:
            if zipfile.is_zipfile(archive):
                with zipfile.ZipFile(archive) as zipped:
                    members = [
                        (i.filename, stat.S_ISLNK(i.external_attr >> 16))
                        for i in zipped.infolist()
                    ]
            else:
                with tarfile.open(archive) as tarred:
                    members = [(m.name, m.issym() or m.islnk()) for m in tarred.getmembers()]
        except (OSError, tarfile.TarError, zipfile.BadZipFile):
            continue  # not an archive after all: unpacking it has already been tried
        for member, is_link in members:
            where = f"{member} (in {archive.name})"
            if member.startswith("/") or ".." in member.split("/"):
                rejected.append(
                    Rejected(where, "a path outside the archive's folder; not unpacked")
                )
            elif is_link:
                links.append(member)
                rejected.append(Rejected(where, "a link, not a file; hand in the notebook itself"))
    return rejected, links


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
