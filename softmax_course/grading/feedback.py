"""Feedback HTML for students, made by nbgrader's generate_feedback, without hidden test code.

nbgrader's feedback shows the autograded notebook, hidden tests included. Here a preprocessor
runs first in generate_feedback's pipeline: in each test cell that has hidden tests in the
instructor's notebook (solutions/), it replaces every hidden block by one line naming the test
and its result, and replaces the cell's outputs (whose tracebacks quote the hidden code) by the
same verdict. The autograded notebooks themselves are left as nbgrader wrote them.

The pages work offline: templates/feedback/ replaces nbconvert's MathJax 2 from a CDN by the
MathJax 3 the book ships (sphinx-mathjax-offline's tex-svg.js, put beside each page), names each
test in the page's summary and wraps long lines. A student whose file could not be graded gets
a page that says why (`write_ungraded_feedback`).
"""

from __future__ import annotations

import html
import logging
import os
import shutil
from collections.abc import Sequence
from glob import glob
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from types import CodeType

import jinja2
import nbformat
import nbgrader
from jinja2.bccache import Bucket
from nbconvert.exporters import HTMLExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.converters import GenerateFeedback
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor
from nbgrader.utils import determine_grade, is_grade
from traitlets import Dict, Unicode
from traitlets.config import Config

from softmax_course.course import CourseError
from softmax_course.grading.assignment import Assignment
from softmax_course.grading.nbgrader_internals import one_engine_per_database
from softmax_course.notebooks import failure_message


def passed(cell: NotebookNode) -> bool:
    """Return True when the autograder gave a test cell all its points."""
    score, most = determine_grade(cell)
    return score is not None and score >= most


def verdict(cell: NotebookNode) -> str:
    """Return a hidden test's name and result in one line, from the autograder's outputs."""
    name = cell.metadata.nbgrader["grade_id"]
    if passed(cell):
        return f"{name}: passed"
    return f"{name}: failed. {failure_message(cell) or 'no points'}".rstrip()


class HideHiddenTests(NbGraderPreprocessor):
    """Replaces hidden test code and outputs by the test's name and result."""

    hidden = Dict(help="Hidden source lines of each grade cell with hidden tests, by grade_id")
    begin = Unicode("BEGIN HIDDEN TESTS")
    end = Unicode("END HIDDEN TESTS")

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Redact one cell if the instructor's version of it has hidden tests."""
        if not is_grade(cell) or cell.cell_type != "code":
            return cell, resources
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id not in self.hidden and self.begin not in cell.source:
            return cell, resources
        result = verdict(cell)
        outcome = "passed" if passed(cell) else "failed"
        line = f"# Hidden tests of {grade_id}: {outcome} (their code is not shown)"
        kept, placed, inside = [], False, False
        has_markers = self.begin in cell.source
        secret = {text.strip() for text in self.hidden.get(grade_id, []) if text.strip()}
        for text in cell.source.splitlines():
            if self.begin in text:
                inside = True
            elif self.end in text:
                inside = False
                continue
            elif not inside and (has_markers or text.strip() not in secret):
                kept.append(text)
                continue
            if not placed:
                kept.append(line)
                placed = True
        cell.source = "\n".join(kept)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=result + "\n")]
        return cell, resources


class CompiledTemplates(jinja2.BytecodeCache):
    """Keeps Jinja templates compiled in memory, for every environment that uses this cache.

    A code object is reused only for the same template source (name, file and checksum) and
    the same parsing settings, so an edited template or another setup is compiled afresh.
    """

    def __init__(self) -> None:
        self._code: dict[tuple[object, ...], CodeType] = {}

    @staticmethod
    def _key(bucket: Bucket) -> tuple[object, ...]:
        env = bucket.environment
        settings = (
            env.block_start_string, env.block_end_string, env.variable_start_string,
            env.variable_end_string, env.comment_start_string, env.comment_end_string,
            env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks,
            env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
            env.optimized, env.is_async, env.finalize is None, tuple(sorted(env.extensions)),
        )  # fmt: skip
        return bucket.key, bucket.checksum, settings

    def load_bytecode(self, bucket: Bucket) -> None:
        """Give `bucket` the code compiled before for its template, if any."""
        bucket.code = self._code.get(self._key(bucket))

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code just compiled for `bucket`'s template."""
        if bucket.code is not None:
            self._code[self._key(bucket)] = bucket.code


TEMPLATES = CompiledTemplates()
"""Feedback templates compiled once per process, not once per `write_feedback` call."""


TEMPLATE_FOLDER = Path(__file__).with_name("templates") / "feedback"
"""This course's feedback templates, found before nbgrader's and nbconvert's of the same name."""

NBGRADER_TEMPLATES = "server_extensions/formgrader/templates"
"""Where nbgrader keeps its feedback template (GenerateFeedback's default); ours extends it."""

MATHJAX = "sphinx-mathjax-offline/static/mathjax/tex-svg.js"
"""MathJax 3 with SVG output (no font files to fetch), inside sphinx-mathjax-offline's package."""


class FeedbackHTMLExporter(HTMLExporter):
    """nbconvert's HTMLExporter, with its Jinja templates compiled once per process.

    nbgrader makes a new exporter, and so a new Jinja environment, for each `write_feedback`
    call; compiling its templates again was about a quarter of the cost of the feedback.
    With nbgrader's feedback template, this course's templates come first (TEMPLATE_FOLDER).
    """

    def _create_environment(self) -> jinja2.Environment:
        environment = super()._create_environment()
        environment.bytecode_cache = TEMPLATES
        if self.template_name == "feedback":
            nbgrader_templates = Path(nbgrader.__file__).parent / NBGRADER_TEMPLATES
            environment.loader = jinja2.ChoiceLoader(
                [
                    jinja2.FileSystemLoader(str(TEMPLATE_FOLDER)),
                    jinja2.PrefixLoader({"nbgrader": jinja2.FileSystemLoader(nbgrader_templates)}),
                    environment.loader,
                ]
            )
        return environment


def mathjax_source() -> Path:
    """Return the MathJax script the book ships, from the installed sphinx-mathjax-offline."""
    try:
        path = Path(str(distribution("sphinx-mathjax-offline").locate_file(MATHJAX)))
    except PackageNotFoundError:
        path = Path(MATHJAX)
    if not path.is_file():
        raise CourseError(
            "feedback pages need MathJax from sphinx-mathjax-offline: "
            "pip install 'softmax-course[grade]'"
        )
    return path


def place_mathjax(pages: Sequence[Path], shared: Path) -> None:
    """Put mathjax/tex-svg.js beside each page: hard links to one copy in `shared`, if possible.

    `shared` lies outside feedback/, which holds one folder per student and nothing else.
    Workers may place it at the same time: the shared copy appears whole, or not at all.
    """
    if not pages:
        return
    master = shared / "tex-svg.js"
    if not master.is_file():
        master.parent.mkdir(parents=True, exist_ok=True)
        staged = master.with_name(f".{master.name}.{os.getpid()}")
        shutil.copyfile(mathjax_source(), staged)
        os.replace(staged, master)
    for folder in {page.parent for page in pages}:
        target = folder / "mathjax" / "tex-svg.js"
        if target.is_file():
            continue
        target.parent.mkdir(exist_ok=True)
        try:
            os.link(master, target)
        except OSError:  # another file system, or no hard links: a copy
            shutil.copyfile(master, target)


def write_feedback(
    config: Config,
    assignment: Assignment,
    students: Sequence[str],
    out: Path,
    *,
    log: logging.Logger | None = None,
) -> list[Path]:
    """Write feedback/<student>/<assignment>/<notebook>.html under `out` for each student.

    Students without autograded notebooks are skipped; returns the files written.
    """
    coursedir = CourseDirectory(config=config)
    coursedir.feedback_directory = str((out / "feedback").resolve())
    coursedir.assignment_id = assignment.name
    delimiters = ClearHiddenTests(config=config)
    hide = HideHiddenTests(
        config=config,
        hidden=dict(assignment.hidden),
        begin=delimiters.begin_test_delimeter,
        end=delimiters.end_test_delimeter,
    )
    converter = GenerateFeedback(
        coursedir=coursedir, config=config, log=log or logging.getLogger(__name__), force=True
    )
    converter.preprocessors = [hide, *converter.preprocessors]
    if converter.exporter_class is HTMLExporter:  # not when the course configures its own
        converter.exporter_class = FeedbackHTMLExporter
    if GetGrades not in converter.preprocessors:
        raise CourseError("GenerateFeedback.preprocessors must include GetGrades")
    autograded = coursedir.format_path(coursedir.autograded_directory, "*", assignment.name)
    graded = {Path(folder).parent.name for folder in glob(autograded)}
    wanted = graded & set(students)
    if not wanted:
        return []
    coursedir.student_id = "*"
    coursedir.student_id_exclude = ",".join(sorted(graded - wanted))
    try:
        with one_engine_per_database():
            converter.start()
    except NbGraderException:
        pass  # nbgrader logged which students failed; their feedback is missing below
    written = []
    for student in sorted(wanted):
        folder = Path(
            coursedir.format_path(coursedir.feedback_directory, student, assignment.name)
        )
        written += sorted(folder.glob("*.html"))
    place_mathjax(written, out / ".mathjax")
    return written


UNGRADED_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
  body {{ font-family: sans-serif; max-width: 48em; margin: 2em auto; padding: 0 1em;
         background: white; color: #222; line-height: 1.5; }}
  li, p {{ overflow-wrap: anywhere; white-space: pre-wrap; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>Your submission for <strong>{assignment}</strong> could not be graded, so it has no score
yet. Why:</p>
<ul>
{reasons}
</ul>
<p>What to do: hand in your notebook again as <code>{notebook}.ipynb</code>, saved from Jupyter
(not exported as HTML or PDF), or ask your instructor, who has the same message.</p>
</body>
</html>
"""


def write_ungraded_feedback(
    out: Path, assignment: str, student: str, reasons: Sequence[str], *, notebook: str = ""
) -> Path:
    """Write feedback/<student>/<assignment>/<notebook>.html saying why nothing was graded.

    `reasons` are one-line explanations (e.g. an intake rejection); `notebook` is the released
    notebook's name without .ipynb (default: the assignment's). Returns the page written.
    """
    notebook = notebook or assignment
    page = out / "feedback" / student / assignment / f"{notebook}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    items = "\n".join(f"<li>{html.escape(reason)}</li>" for reason in reasons or ["(no reason)"])
    page.write_text(
        UNGRADED_PAGE.format(
            title=html.escape(f"{notebook}: not graded"),
            assignment=html.escape(assignment),
            notebook=html.escape(notebook),
            reasons=items,
        ),
        encoding="utf-8",
    )
    return page
