"""Student self-check: run a notebook's visible tests without Jupyter, scored as nbgrader scores
them, and find the released cells that are missing or were edited.

The cells run in a fresh Python process (`softmax_course.cell_runner`) instead of a Jupyter
kernel: no kernel start, no nbgrader, nbformat or jsonschema to import. A test cell scores as in
nbgrader's `determine_grade`, after warning-only stderr is dropped as the course's IgnorePattern
drops it. The released cells come from the list a release stores in the notebook's metadata,
or else from the release copy in exercises/ when the notebook sits inside the course folder;
each locked cell's nbgrader checksum tells whether it was edited.
"""

from __future__ import annotations

import ast
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from softmax_course.course import STDERR_WARNINGS_PATTERN, CourseError, find_course_root
from softmax_course.notebooks import (
    METADATA_KEY,
    cell_checksum,
    failure_message,
    is_locked,
    load_notebook,
    nbgrader_meta,
    released_cells,
)

GRACE_SECONDS = 10
"""How long past a cell's limit the self-check waits before it stops the cells' process."""


@dataclass(frozen=True)
class CellReport:
    """What one graded cell earned when the notebook ran."""

    grade_id: str
    question: str
    # "passed", "failed", "hidden" (checked at grading), "manual" (read by a person),
    # "edited" (grading runs the released version) or "missing" (not in the notebook)
    status: str
    points: float
    max_points: float
    message: str = ""


@dataclass(frozen=True)
class CheckResult:
    """The self-check of one notebook: its graded cells, and what differs from the release."""

    reports: list[CellReport]
    problems: list[str] = field(default_factory=list)  # released cells missing or edited
    errors: list[str] = field(default_factory=list)  # ungraded cells that raised an error
    release: str = ""  # where the list of released cells came from; "" when unknown


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


def read_lines(fd: int, buffer: bytearray, count: int, deadline: float) -> list[bytes] | None:
    """Read complete lines from `fd` until there are `count` or the deadline passes.

    Returns the lines read ([] at end of file), or None when the deadline passed first.
    """
    while buffer.count(b"\n") < count:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return []
        buffer.extend(chunk)
    *lines, rest = bytes(buffer).split(b"\n", count)
    buffer[:] = rest
    return lines


def stopped(message: str) -> dict[str, Any]:
    """Return an error output for a cell the cells' process did not finish."""
    return {"output_type": "error", "ename": "RuntimeError", "evalue": message, "traceback": []}


def run_cells(sources: list[str], folder: Path, *, timeout: float) -> list[list[dict[str, Any]]]:
    """Run code cells in order in a fresh Python process in `folder`; return each one's outputs."""
    request = json.dumps({"cells": sources, "timeout": timeout}).encode()
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONIOENCODING": "utf-8"}
    results: list[list[dict[str, Any]]] = []
    with tempfile.TemporaryFile() as diagnostics:
        child = subprocess.Popen(
            [sys.executable, "-m", "softmax_course.cell_runner"],
            cwd=folder,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=diagnostics,
        )
        try:
            child.stdin.write(request)
            child.stdin.close()
            buffer, lines = bytearray(), None
            for _ in sources:
                deadline = time.monotonic() + timeout + GRACE_SECONDS
                lines = read_lines(child.stdout.fileno(), buffer, 1, deadline)
                if not lines:
                    break
                results.append(json.loads(lines[0]))
        finally:
            child.kill()
            child.wait()
            child.stdout.close()
        if len(results) < len(sources):
            diagnostics.seek(0)
            why = diagnostics.read().decode("utf-8", "replace").strip().splitlines()
            ended = f"Python stopped while running this cell (exit code {child.returncode})"
            if lines is None:
                ended = f"the cell did not stop within {timeout:g} s"
            elif why:
                ended += f": {why[-1]}"
            results.append([stopped(ended)])
            results += [[stopped("not run: the cells stopped earlier")]] * (
                len(sources) - len(results)
            )
    return results


def run_notebook(nb: MutableMapping[str, Any], folder: Path, *, timeout: float = 30) -> Any:
    """Run `nb`'s code cells in a fresh Python process as nbgrader's autograder runs them.

    Each code cell gets the outputs a kernel would give it, warning-only stderr dropped (the
    course's IgnorePattern); outputs are of the cells' own mapping type, so a NotebookNode gets
    NotebookNode outputs. Changes `nb` in place and returns it.
    """
    code = [cell for cell in nb["cells"] if cell["cell_type"] == "code"]
    ran = run_cells([cell["source"] for cell in code], folder, timeout=timeout)
    for cell, outputs in zip(code, ran, strict=True):
        cell["outputs"] = [
            type(cell)(output)
            for output in outputs
            if not (
                output["output_type"] == "stream"
                and output["name"] == "stderr"
                and re.search(STDERR_WARNINGS_PATTERN, output["text"])
            )
        ]
    return nb


def score(cell: Mapping[str, Any], max_points: float) -> float:
    """Return a test cell's points from its outputs, as nbgrader's determine_grade does."""
    for output in cell["outputs"]:
        if output["output_type"] == "error" or (
            output["output_type"] == "stream" and output["name"] == "stderr"
        ):
            return 0.0
        if output["output_type"] == "execute_result":
            try:
                partial = float(output["data"]["text/plain"])
            except (KeyError, ValueError):
                return max_points
            if partial >= 0:  # above the cell's points, nbgrader fails the notebook: no points
                return partial if partial <= max_points else 0.0
            return max_points
    return max_points


def release_copy(path: Path) -> Path | None:
    """Return exercises/<name>/<name>.ipynb of the course folder around `path`, if there is one."""
    try:
        root = find_course_root(path.resolve().parent)
    except CourseError:
        return None
    candidate = root / "exercises" / path.stem / f"{path.stem}.ipynb"
    return candidate if candidate.is_file() else None


def expected_cells(nb: Mapping[str, Any], path: Path) -> tuple[list[dict[str, Any]], str]:
    """Return the released cells' nbgrader metadata, and where that list came from."""
    listed = nb.get("metadata", {}).get(METADATA_KEY, {}).get("released_cells")
    if isinstance(listed, list) and listed:
        return listed, "the list of released cells stored in the notebook"
    release = release_copy(path)
    if release is not None:
        return released_cells(load_notebook(release)), str(release)
    return [], ""


def describe(meta: Mapping[str, Any]) -> str:
    """Return how a student knows a released cell: test, answer, or locked cell, and its id."""
    if meta.get("grade") and not meta.get("solution"):
        points = float(meta.get("points", 0))
        return f"test cell '{meta['grade_id']}' ({points:g} point{'' if points == 1 else 's'})"
    kind = "answer cell" if meta.get("solution") else "locked cell"
    return f"{kind} '{meta['grade_id']}'"


def was_edited(cell: Mapping[str, Any], reference: Mapping[str, Any]) -> bool:
    """Return True when a locked cell's checksum differs from the one it was released with."""
    if not is_locked(reference) or "checksum" not in reference:
        return False
    try:
        return cell_checksum(cell) != reference["checksum"]
    except (KeyError, TypeError, ValueError):  # nbgrader metadata damaged: not as released
        return True


def cell_problems(
    nb: Mapping[str, Any], expected: list[dict[str, Any]]
) -> tuple[list[str], set[str]]:
    """Return one line per released cell that is missing, edited or repeated, and the edited ids."""
    released = {meta["grade_id"]: meta for meta in expected if "grade_id" in meta}
    problems, edited, seen = [], set(), set()
    for cell in nb["cells"]:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            problems.append(f"{describe(meta)} appears more than once; grading keeps one")
        seen.add(grade_id)
        if was_edited(cell, released.get(grade_id, meta)):
            edited.add(grade_id)
            problems.append(f"{describe(meta)} was edited; grading uses it as released")
    for grade_id, meta in released.items():
        if grade_id not in seen:
            problems.append(f"{describe(meta)} is missing; grading uses it as released")
    return problems, edited


def graded_report(cell: Mapping[str, Any], edited: set[str]) -> CellReport:
    """Return the report of one graded cell after the notebook ran."""
    meta = nbgrader_meta(cell)
    grade_id, max_points = meta["grade_id"], float(meta.get("points", 0))
    if meta.get("solution"):
        question = cell["source"].strip().splitlines()[0] if cell["source"].strip() else ""
        return CellReport(grade_id, question, "manual", 0.0, max_points)
    question = question_of(cell["source"])
    if grade_id in edited:
        note = "this test cell differs from the release: restore it to see its real result"
        return CellReport(grade_id, question, "edited", 0.0, max_points, note)
    if is_hidden(cell["source"]):
        return CellReport(grade_id, question, "hidden", 0.0, max_points)
    points = score(cell, max_points)
    status = "passed" if points == max_points else "failed"
    return CellReport(grade_id, question, status, points, max_points, failure_message(cell))


def ungraded_error(cell: Mapping[str, Any], number: int) -> str:
    """Return a line naming an ungraded code cell that raised an error, or ''."""
    errors = [output for output in cell.get("outputs", []) if output["output_type"] == "error"]
    if not errors:
        return ""
    grade_id = nbgrader_meta(cell).get("grade_id")
    name = f"cell '{grade_id}'" if grade_id else f"your cell {number}"
    return f"{name} raised {failure_message(cell)}"


def check_notebook(path: Path, *, timeout: float = 30) -> CheckResult:
    """Check the notebook at `path`: compare it with the release, run it, report graded cells."""
    nb = load_notebook(path)
    expected, source = expected_cells(nb, path)
    problems, edited = cell_problems(nb, expected)
    run_notebook(nb, path.parent, timeout=timeout)
    reports, errors = [], []
    for number, cell in enumerate(nb["cells"], start=1):
        meta = nbgrader_meta(cell)
        if meta.get("grade") and "grade_id" in meta:
            reports.append(graded_report(cell, edited))
        elif cell["cell_type"] == "code" and (line := ungraded_error(cell, number)):
            errors.append(line)
    present = {report.grade_id for report in reports}
    for meta in expected:
        if meta.get("grade") and not meta.get("solution") and meta["grade_id"] not in present:
            note = "this test cell is not in your notebook"
            reports.append(
                CellReport(meta["grade_id"], "", "missing", 0.0, float(meta.get("points", 0)), note)
            )
    return CheckResult(reports, problems, errors, source)
