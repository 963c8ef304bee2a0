"""Student self-check: run a notebook's visible tests and report each one with its points."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute, IgnorePattern
from traitlets.config import Config

from softmax_course.course import STDERR_WARNINGS_PATTERN, CourseError


@dataclass(frozen=True)
class CellReport:
    """What one graded cell earned when the notebook ran."""

    grade_id: str
    question: str
    status: str  # "passed", "failed", "hidden" (checked at grading) or "manual" (read by a person)
    points: float
    max_points: float
    message: str = ""


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook, turning every way a file can be unreadable into one CourseError line."""
    if not path.is_file():
        raise CourseError(f"{path}: no such file")
    if path.suffix != ".ipynb":
        raise CourseError(f"{path}: not a notebook (.ipynb)")
    if path.stat().st_size == 0:
        raise CourseError(f"{path}: empty file (0 bytes); save the notebook and hand it in again")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises many kinds for bad JSON or schema
        raise CourseError(
            f"{path}: not a readable notebook ({type(exc).__name__}: {exc})"
        ) from None


def question_of(source: str) -> str:
    """Return the docstring that opens a test cell, or its first line."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source.strip().splitlines()[0] if source.strip() else ""
    return ast.get_docstring(tree, clean=True) or (source.strip().splitlines() or [""])[0]


def is_hidden(source: str) -> bool:
    """Return True when a released test cell holds nothing but its docstring (tests were hidden)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body)


NUMPY_BOILERPLATE = re.compile(r"^(Not equal to tolerance|Arrays are not|Items are not)")
"""First lines of numpy.testing's messages; the test's own err_msg comes after them."""


def failure_message(cell: NotebookNode) -> str:
    """Return the line of an error (or stderr) that tells the student what to fix."""
    for output in cell.outputs:
        if output.output_type == "error":
            if output.ename == "NotImplementedError":
                return "NotImplementedError: this function is not written yet"
            lines = [line.strip() for line in output.evalue.splitlines() if line.strip()]
            useful = [line for line in lines if not NUMPY_BOILERPLATE.match(line)]
            return f"{output.ename}: {(useful or lines or [''])[0]}".strip()
        if output.output_type == "stream" and output.name == "stderr":
            lines = output.text.strip().splitlines()
            return f"wrote to stderr: {lines[-1] if lines else '(blank lines)'}"
    return ""


def run_notebook(nb: NotebookNode, folder: Path, *, timeout: int = 30) -> NotebookNode:
    """Execute `nb` in `folder` as nbgrader's autograder does, dropping warning-only stderr."""
    config = Config()
    config.Execute.timeout = timeout
    config.IgnorePattern.enabled = True
    config.IgnorePattern.pattern = STDERR_WARNINGS_PATTERN
    resources = {"metadata": {"path": str(folder)}}
    nb, resources = Execute(config=config).preprocess(nb, resources)
    nb, _ = IgnorePattern(config=config).preprocess(nb, resources)
    return nb


def check_notebook(path: Path, *, timeout: int = 30) -> list[CellReport]:
    """Run the notebook at `path` and return a report for each graded cell, in order."""
    nb = run_notebook(read_notebook(path), path.parent, timeout=timeout)
    reports = []
    for cell in nb.cells:
        if not utils.is_grade(cell):
            continue
        meta = cell.metadata.nbgrader
        max_points = float(meta["points"])
        if utils.is_solution(cell):
            question = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            reports.append(CellReport(meta["grade_id"], question, "manual", 0.0, max_points))
            continue
        question = question_of(cell.source)
        if is_hidden(cell.source):
            reports.append(CellReport(meta["grade_id"], question, "hidden", 0.0, max_points))
            continue
        points, _ = utils.determine_grade(cell)
        status = "passed" if points == max_points else "failed"
        reports.append(
            CellReport(
                meta["grade_id"], question, status, points, max_points, failure_message(cell)
            )
        )
    return reports
