"""The one place that leans on nbgrader's private shape, and why no public hook would do.

nbgrader's `Autograde.convert_single_notebook` runs its sanitize and autograde passes back to
back in one process, toggling the private `_sanitizing` flag and `_init_preprocessors`. The
grading engine must run student code on a worker between the two passes, so it runs each pass
on its own (`SanitizeSubmission`, `SaveAutogrades`) with a staging folder between them. For that
it overrides `_input_directory`, `_output_directory` and `_format_dest`, sets `_sanitizing`,
calls `_init_preprocessors`, and calls `BaseConverter`'s methods past `Autograde`'s overrides.
`one_engine_per_database` swaps `nbgrader.api.create_engine`, which nbgrader calls for every
Gradebook it opens. tests/test_nbgrader_internals.py checks each of these names and fails,
naming this module, if a newer nbgrader changes them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import nbgrader.api
import sqlalchemy
from nbgrader.converters import Autograde
from nbgrader.converters.base import BaseConverter
from nbgrader.utils import rmtree
from traitlets import Unicode

PRIVATE_NAMES = {
    Autograde: ("_sanitizing", "_init_preprocessors", "_output_directory", "_format_dest"),
    BaseConverter: ("_input_directory", "_output_directory", "_format_dest"),
    nbgrader.api: ("create_engine",),
}
"""What this module relies on, by owner: the test checks that each still exists."""


@contextmanager
def one_engine_per_database() -> Iterator[None]:
    """Let nbgrader's Gradebook reuse one SQLAlchemy engine per database while grading.

    nbgrader creates a new engine for each Gradebook it opens (about ten per submission), so
    SQLAlchemy compiles every query afresh each time; sharing the engine halves the time spent
    in the gradebook. Only for the coordinator's single thread.
    """
    original = nbgrader.api.create_engine
    if getattr(original, "shared", False):  # already sharing: keep the outer engines
        yield
        return
    engines: dict[tuple[str, tuple[tuple[str, Any], ...]], sqlalchemy.Engine] = {}

    def shared_engine(url: str, **options: Any) -> sqlalchemy.Engine:
        key = (str(url), tuple(sorted(options.items())))
        if key not in engines:
            engines[key] = sqlalchemy.create_engine(url, **options)
        return engines[key]

    shared_engine.shared = True  # type: ignore[attr-defined]
    nbgrader.api.create_engine = shared_engine
    try:
        yield
    finally:
        nbgrader.api.create_engine = original
        for engine in engines.values():
            engine.dispose()


class _StagedAutograde(Autograde):
    """nbgrader's Autograde converter, reading or writing a staging folder for one pass."""

    staging_directory = Unicode(help="Absolute folder for sanitized notebooks")

    def init_destination(self, assignment_id: str, student_id: str) -> bool:
        """Start from an empty destination: whether to grade was decided before."""
        dest = os.path.normpath(self._format_dest(assignment_id, student_id))
        if os.path.exists(dest):
            rmtree(dest)
        return True


class SanitizeSubmission(_StagedAutograde):
    """nbgrader's sanitize pass only, into the staging folder."""

    @property
    def _output_directory(self) -> str:
        return self.staging_directory

    def convert_single_notebook(self, notebook_filename: str) -> None:
        """Sanitize one notebook (ClearOutput, OverwriteCells, ...) into the staging folder."""
        self._sanitizing = True
        self._init_preprocessors()
        BaseConverter.convert_single_notebook(self, notebook_filename)

    def set_permissions(self, assignment_id: str, student_id: str) -> None:
        """Leave the staging copy writable."""

    def run_post_convert_hook(self) -> None:
        """The post-convert hook runs once the notebook is saved, not after sanitizing."""


class SaveAutogrades(_StagedAutograde):
    """nbgrader's autograde pass over staged notebooks, with the workers' outputs for Execute."""

    @property
    def _input_directory(self) -> str:
        return self.staging_directory

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        """Copy the staged submission's other files; the gradebook was updated when sanitizing."""
        BaseConverter.init_assignment(self, assignment_id, student_id)

    def convert_single_notebook(self, notebook_filename: str) -> None:
        """Run the autograde preprocessors and write the autograded notebook."""
        self._sanitizing = False
        self._init_preprocessors()
        BaseConverter.convert_single_notebook(self, notebook_filename)

    def run_pre_convert_hook(self) -> None:
        """The pre-convert hook already ran before sanitizing."""
