"""CheckCellMetadataOnce accepts and refuses exactly what nbgrader's CheckCellMetadata does."""

from __future__ import annotations

import copy
from collections.abc import Callable

import nbformat
import pytest
from nbgrader.nbgraderformat import ValidationError
from nbgrader.nbgraderformat.common import SchemaMismatchError
from nbgrader.preprocessors import CheckCellMetadata

from softmax_course.grading.preprocessors.check_cell_metadata import CheckCellMetadataOnce
from tests.harness import ROOT

SOURCE = nbformat.read(ROOT / "solutions" / "softmax" / "softmax.ipynb", as_version=4)


def graded_cell(nb: nbformat.NotebookNode) -> dict:
    """Return the nbgrader metadata of the first autograded test cell."""
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")).metadata[
        "nbgrader"
    ]


def duplicate_id(nb: nbformat.NotebookNode) -> None:
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")]
    cells[1].metadata.nbgrader.grade_id = cells[0].metadata.nbgrader.grade_id


CHANGES: dict[str, Callable[[nbformat.NotebookNode], object]] = {
    "unchanged": lambda nb: None,
    "points as text": lambda nb: graded_cell(nb).update(points="ten"),
    "no points": lambda nb: graded_cell(nb).pop("points"),
    "empty grade id": lambda nb: graded_cell(nb).update(grade_id=""),
    "grade not a boolean": lambda nb: graded_cell(nb).update(grade="yes"),
    "an old schema": lambda nb: graded_cell(nb).update(schema_version=1),
    "a newer schema": lambda nb: graded_cell(nb).update(schema_version=99),
    "duplicate grade id": duplicate_id,
}


def verdict(step: type[CheckCellMetadata], nb: nbformat.NotebookNode) -> str:
    """Return "valid", or the type and message of the error the check raised (and its cause)."""
    try:
        step().preprocess(nb, {})
    except (ValidationError, SchemaMismatchError) as exc:
        return f"{type(exc).__name__}: {exc.__cause__ or exc.__context__ or exc}"
    return "valid"


@pytest.mark.parametrize("change", CHANGES)
def test_same_verdict_as_nbgrader(change: str) -> None:
    nb = copy.deepcopy(SOURCE)
    CHANGES[change](nb)
    ours, theirs = verdict(CheckCellMetadataOnce, nb), verdict(CheckCellMetadata, nb)
    assert ours == theirs
    assert (ours == "valid") == (change == "unchanged")
