"""The cells the trusted side runs: the locked setup and test cells of the instructor's notebook.

`_plan` picks them (and the answer functions to proxy) from the source notebook; `_Outcome` is
what running one of them gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nbformat.notebooknode import NotebookNode


@dataclass
class _Cell:
    grade_id: str | None  # None: a setup cell (run, not graded)
    source: str
    points: float


@dataclass
class _Outcome:
    error: BaseException | None = None
    value: Any = None
    stderr: str = ""


def _plan(nb: NotebookNode) -> tuple[list[str], list[_Cell]]:
    """Return the answer functions and the cells to run (locked setup, tests) of a source notebook.

    `nb` must be the instructor's notebook from solutions/, never one derived from a submission:
    its locked and test cells run in this process. Answer functions are named by the grade ids
    of the answer cells (`<function>_answer`) only, never by what an answer cell defines.
    """
    answers: list[str] = []
    cells: list[_Cell] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            grade_id = str(meta.get("grade_id", ""))
            if grade_id.endswith("_answer") and grade_id[:-7].isidentifier():
                answers.append(grade_id.removesuffix("_answer"))
            continue  # the student's code: never run on the trusted side
        if not (meta.get("locked") or meta.get("grade")):
            continue  # a cell students may change: its code is not the instructor's to trust
        grade_id = meta.get("grade_id") if meta.get("grade") else None
        cells.append(_Cell(grade_id, cell.source, float(meta.get("points", 0) or 0)))
    return answers, cells
