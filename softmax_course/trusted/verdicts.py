"""Verdicts: a trusted cell outcome graded as nbgrader would, and where the kernel claimed more.

`TrustedVerdict` is what one autograded test cell earned outside the kernel; `kernel_points`
reads nbgrader's in-kernel points from an executed notebook, and `tampering` lists the cells
where those exceed the trusted verdict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils as nbgrader_utils

from softmax_course.course import STDERR_WARNINGS_PATTERN
from softmax_course.notebooks import failure_message
from softmax_course.trusted.cells import _Cell, _Outcome
from softmax_course.trusted.errors import CallTimedOut, KernelDied, _CellTimedOut


@dataclass(frozen=True)
class TrustedVerdict:
    """What one autograded test cell earned when judged outside the kernel."""

    grade_id: str
    points: float
    max_points: float
    message: str
    passed: bool


def _verdict(cell: _Cell, outcome: _Outcome) -> TrustedVerdict:
    """Grade one cell as nbgrader would from its outputs: stderr or error 0, else full/partial."""
    assert cell.grade_id is not None
    stderr = outcome.stderr
    if stderr.strip() and not re.search(STDERR_WARNINGS_PATTERN, stderr):
        last = stderr.strip().splitlines()[-1]
        return TrustedVerdict(cell.grade_id, 0.0, cell.points, f"wrote to stderr: {last}", False)
    error = outcome.error
    if isinstance(error, _CellTimedOut):
        return _failed(cell, "timed out: the test took longer than allowed")
    if isinstance(error, (CallTimedOut, KernelDied)):
        return _failed(cell, str(error))
    if error is not None:
        try:
            evalue = str(error)
        except Exception:
            evalue = ""
        node = nbformat.from_dict(
            {"outputs": [{"output_type": "error", "ename": type(error).__name__, "evalue": evalue}]}
        )
        return _failed(cell, failure_message(node))
    points = cell.points
    if outcome.value is not None:  # nbgrader's partial credit: a number displayed last
        try:
            shown = float(repr(outcome.value))
        except (TypeError, ValueError):
            shown = None
        if shown is not None and shown >= 0:
            points = shown if shown <= cell.points else 0.0
    return TrustedVerdict(cell.grade_id, points, cell.points, "", points >= cell.points)


def _failed(cell: _Cell, message: str) -> TrustedVerdict:
    assert cell.grade_id is not None
    return TrustedVerdict(cell.grade_id, 0.0, cell.points, message, False)


def kernel_points(executed_nb: NotebookNode) -> dict[str, float | None]:
    """Return nbgrader's in-kernel points per autograded test cell of an executed notebook."""
    return {
        cell.metadata.nbgrader["grade_id"]: nbgrader_utils.determine_grade(cell)[0]
        for cell in executed_nb.cells
        if cell.cell_type == "code"
        and nbgrader_utils.is_grade(cell)
        and not nbgrader_utils.is_solution(cell)
    }


def tampering(
    kernel_grades: Mapping[str, float | None], trusted: Mapping[str, TrustedVerdict]
) -> list[str]:
    """Return the test cells where the kernel claimed more points than the trusted check gives."""
    return [
        grade_id
        for grade_id, verdict in trusted.items()
        if (claimed := kernel_grades.get(grade_id)) is not None and claimed > verdict.points + 1e-9
    ]
