"""Reading a notebook and telling a failed cell's message: what the self-check and grading share."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from softmax_course.course import CourseError


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
