"""Assignment 6 stands on its own: its iris rows are the package's, and it needs only NumPy."""

from __future__ import annotations

import ast

import nbformat
import numpy as np

from softmax_course.lessons.example import SPECIES, load_iris
from tests.conftest import ROOT

NOTEBOOKS = [
    ROOT / folder / "cross-entropy" / "cross-entropy.ipynb" for folder in ("solutions", "exercises")
]


def cell_source(path, grade_id: str) -> str:
    """Return the source of the cell with nbgrader id `grade_id`."""
    nb = nbformat.read(path, 4)
    return next(c.source for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == grade_id)


def test_embedded_iris_rows_are_the_packaged_data() -> None:
    for path in NOTEBOOKS:
        namespace: dict = {"np": np}
        exec(cell_source(path, "iris_data"), namespace)
        measurements, species = load_iris()
        np.testing.assert_array_equal(namespace["IRIS_MEASUREMENTS"], measurements)
        np.testing.assert_array_equal(namespace["IRIS_SPECIES"], species)
        assert namespace["SPECIES"] == SPECIES


def test_notebooks_import_nothing_but_numpy_and_the_standard_library() -> None:
    for path in NOTEBOOKS:
        imported = set()
        for cell in nbformat.read(path, 4).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom):
                    imported.add((node.module or "").split(".")[0])
        assert imported <= {"numpy", "warnings"}, (path, imported)
