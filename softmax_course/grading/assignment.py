"""An assignment's facts, read once per run from solutions/ and exercises/: every step gets them.

The source notebooks (with answers and hidden tests, for the trusted re-check), the release
notebooks (to put a submission back as released), the kernel they ask for, the modules their
locked cells import (warmed in every worker's zygote), and the hidden lines of each test cell
(kept out of feedback).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.utils import is_grade, is_solution
from traitlets.config import Config

from softmax_course.course import CourseError


@dataclass(frozen=True)
class Assignment:
    """What one run knows about an assignment, by notebook name (without .ipynb)."""

    name: str
    sources: Mapping[str, str]  # the instructor's notebooks (solutions/), as nbformat JSON
    releases: Mapping[str, NotebookNode] = field(default_factory=dict)  # exercises/, if released
    kernel_name: str = "python3"
    warm_modules: tuple[str, ...] = ()
    hidden: Mapping[str, list[str]] = field(default_factory=dict)  # hidden lines, by grade_id

    @property
    def notebooks(self) -> list[str]:
        """Return the assignment's notebook names, in order."""
        return list(self.sources)


def source_notebooks(coursedir: CourseDirectory, assignment: str) -> list[Path]:
    """Return the instructor's notebooks of `assignment` (in solutions/)."""
    folder = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise CourseError(
            f"no assignment '{assignment}' in {folder.parent} (no notebooks in {folder})"
        )
    return notebooks


def read_assignment(config: Config, assignment: str) -> Assignment:
    """Read `assignment`'s notebooks from the course's source and release folders, once."""
    coursedir = CourseDirectory(config=config)
    paths = source_notebooks(coursedir, assignment)
    texts = {path.stem: path.read_text() for path in paths}
    sources = {name: nbformat.reads(text, as_version=4) for name, text in texts.items()}
    release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    releases = {}
    for name in sources:
        try:
            releases[name] = nbformat.read(release / f"{name}.ipynb", as_version=4)
        except (OSError, ValueError):
            continue  # not released yet: submissions are graded without being put back
    delimiters = ClearHiddenTests(config=config)
    return Assignment(
        assignment,
        texts,
        releases,
        kernel_name(sources.values()),
        warm_modules(sources.values()),
        hidden_lines(
            sources.values(),
            begin=delimiters.begin_test_delimeter,
            end=delimiters.end_test_delimeter,
        ),
    )


def warm_modules(notebooks: Iterable[NotebookNode]) -> tuple[str, ...]:
    """Return the modules imported by the locked code cells, which every submission runs first."""
    modules: list[str] = []
    for nb in notebooks:
        for cell in nb.cells:
            locked = cell.get("metadata", {}).get("nbgrader", {}).get("locked", False)
            if cell.cell_type != "code" or not locked or is_solution(cell) or is_grade(cell):
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, ast.Import):
                    modules += [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.append(node.module)
    return tuple(dict.fromkeys(modules))


def kernel_name(notebooks: Iterable[NotebookNode]) -> str:
    """Return the kernel the assignment's notebooks ask for."""
    names = {nb.metadata.get("kernelspec", {}).get("name") for nb in notebooks}
    names.discard(None)
    if len(names) > 1:
        raise CourseError(f"the notebooks ask for different kernels: {sorted(names)}")
    return names.pop() if names else "python3"


def hidden_lines(
    notebooks: Iterable[NotebookNode], *, begin: str, end: str
) -> dict[str, list[str]]:
    """Return, for each grade cell with hidden tests, the hidden lines of its source."""
    hidden: dict[str, list[str]] = {}
    for nb in notebooks:
        for cell in nb.cells:
            if not is_grade(cell):
                continue
            inside, lines = False, []
            for line in cell.source.splitlines():
                if begin in line:
                    inside = True
                elif end in line:
                    inside = False
                elif inside:
                    lines.append(line)
            if begin in cell.source:
                hidden[cell.metadata.nbgrader["grade_id"]] = lines
    return hidden
