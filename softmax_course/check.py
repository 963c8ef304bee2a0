"""Student self-check: run a notebook's visible tests and report each one with its points."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute, IgnorePattern
from traitlets.config import Config

from softmax_course.course import STDERR_WARNINGS_PATTERN
from softmax_course.notebooks import failure_message, read_notebook


@dataclass(frozen=True)
class CellReport:
    """What one graded cell earned when the notebook ran."""

    grade_id: str
    question: str
    status: str  # "passed", "failed", "hidden" (checked at grading) or "manual" (read by a person)
    points: float
    max_points: float
    message: str = ""


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
