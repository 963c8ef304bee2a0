"""Reading a notebook, nbgrader's cell checksums and a failed cell's message: what the self-check
and grading share.

Everything here but `read_notebook` runs on the standard library alone, so the student's
self-check (`softmax-course check`) starts without importing nbformat, nbgrader or jsonschema.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from softmax_course.course import CourseError

if TYPE_CHECKING:
    from nbformat.notebooknode import NotebookNode

METADATA_KEY = "softmax_course"
"""The notebook-level metadata key under which a release lists its cells (see `released_cells`)."""


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook, turning every way a file can be unreadable into one CourseError line."""
    import nbformat

    unreadable_file(path)
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises many kinds for bad JSON or schema
        raise CourseError(
            f"{path}: not a readable notebook ({type(exc).__name__}: {exc})"
        ) from None


def unreadable_file(path: Path) -> None:
    """Raise CourseError when `path` is missing, not an .ipynb file, or empty."""
    if not path.is_file():
        raise CourseError(f"{path}: no such file")
    if path.suffix != ".ipynb":
        raise CourseError(f"{path}: not a notebook (.ipynb)")
    if path.stat().st_size == 0:
        raise CourseError(f"{path}: empty file (0 bytes); save the notebook and hand it in again")


def recovery_hint(path: Path) -> str:
    """Return where a student can get a working copy of the notebook at `path` back."""
    checkpoint = path.parent / ".ipynb_checkpoints" / f"{path.stem}-checkpoint.ipynb"
    where = (
        f"Jupyter's last checkpoint is {checkpoint}"
        if checkpoint.is_file()
        else "in Jupyter, File > Revert Notebook to Checkpoint may still have it"
    )
    return f"{where}; or copy your answers into a fresh download of the release notebook."


def load_notebook(path: Path) -> dict[str, Any]:
    """Read a format-4 notebook as plain JSON, each cell's source as one string.

    Raises CourseError in one line: where the JSON breaks (line and column) and how to recover.
    """
    unreadable_file(path)
    try:
        nb = json.loads(path.read_bytes())
    except UnicodeDecodeError as exc:
        raise CourseError(
            f"{path}: not a readable notebook (not UTF-8 text at byte {exc.start}); "
            + recovery_hint(path)
        ) from None
    except json.JSONDecodeError as exc:
        why = exc.msg
        if exc.pos >= len(exc.doc.rstrip()) or why.startswith("Unterminated string"):
            why += "; the file ends too early"
        raise CourseError(
            f"{path}: not a readable notebook: the JSON breaks at line {exc.lineno}, column "
            f"{exc.colno} ({why}); " + recovery_hint(path)
        ) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise CourseError(f"{path}: not a readable notebook (JSON without a list of cells)")
    if nb.get("nbformat") != 4:
        raise CourseError(
            f"{path}: notebook format {nb.get('nbformat')}, not 4; open it in Jupyter and save it"
        )
    for number, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or "cell_type" not in cell:
            raise CourseError(f"{path}: not a readable notebook (cell {number} has no cell_type)")
        source = cell.get("source", "")
        cell["source"] = "".join(source) if isinstance(source, list) else str(source)
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}
    return nb


def nbgrader_meta(cell: Mapping[str, Any]) -> dict[str, Any]:
    """Return a cell's nbgrader metadata, or {} when it has none."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def is_locked(meta: Mapping[str, Any]) -> bool:
    """Return True for a cell students must not edit, by its nbgrader metadata (as nbgrader)."""
    return not meta.get("solution", False) and bool(meta.get("grade") or meta.get("locked"))


def cell_checksum(cell: Mapping[str, Any]) -> str:
    """Return nbgrader's checksum of a cell (nbgrader.utils.compute_checksum), without nbgrader.

    It is the MD5 of the source, the cell type, the grade, solution and locked flags, the
    grade_id and, for a grade cell, its points as a float, each as UTF-8 text.
    """
    meta = nbgrader_meta(cell)
    parts = [
        cell["source"],
        cell["cell_type"],
        str(bool(meta.get("grade", False))),
        str(bool(meta.get("solution", False))),
        str(is_locked(meta)),
        meta["grade_id"],
    ]
    if meta.get("grade", False):
        parts.append(str(float(meta["points"])))
    digest = hashlib.md5()
    for part in parts:
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


def released_cells(nb: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return a copy of the nbgrader metadata of each nbgrader cell of `nb`, in order.

    A release stores this list in its metadata (under `METADATA_KEY`), so that the self-check
    can tell a student that a released cell is missing without the release at hand.
    """
    return [dict(nbgrader_meta(cell)) for cell in nb["cells"] if nbgrader_meta(cell)]


NUMPY_BOILERPLATE = re.compile(r"^(Not equal to tolerance|Arrays are not|Items are not)")
"""First lines of numpy.testing's messages; the test's own err_msg comes after them."""


def failure_message(cell: Mapping[str, Any]) -> str:
    """Return the line of an error (or stderr) that tells the student what to fix."""
    for output in cell["outputs"]:
        if output["output_type"] == "error":
            if output["ename"] == "NotImplementedError":
                return "NotImplementedError: this function is not written yet"
            lines = [line.strip() for line in output["evalue"].splitlines() if line.strip()]
            useful = [line for line in lines if not NUMPY_BOILERPLATE.match(line)]
            return f"{output['ename']}: {(useful or lines or [''])[0]}".strip()
        if output["output_type"] == "stream" and output["name"] == "stderr":
            text = output["text"]
            lines = ("".join(text) if isinstance(text, list) else text).strip().splitlines()
            return f"wrote to stderr: {lines[-1] if lines else '(blank lines)'}"
    return ""
