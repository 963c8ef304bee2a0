"""The course's nbgrader set-up: where it lives, its assignments, and its configuration."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the student's self-check must not load nbgrader
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

ASSIGNMENTS: tuple[str, ...] = (
    "argmax",
    "softmax",
    "softmax-properties",
    "softmax-general-equation",
    "softmax-derivatives",
    "cross-entropy",
)
"""The graded assignments, one per chapter, in course order; one notebook each, of that name."""

STDERR_WARNINGS_PATTERN = r"^(?:(?=[^\n]*Warning: )[^\n]*+\n(?:  [^\n]*+\n)*+)++$"
"""stderr text made only of Python warnings; nbgrader drops it so a warning never costs points.

Possessive quantifiers keep the match linear: a student's cell can print megabytes to stderr."""


class CourseError(Exception):
    """A problem with the course folder or an input, explained in one line."""


def find_course_root(start: Path | None = None) -> Path:
    """Return the nearest folder at or above `start` that holds nbgrader_config.py."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise CourseError(f"no nbgrader_config.py in {here} or any folder above it")


def load_config(root: Path, **overrides: dict[str, object]) -> Config:
    """Return the course's nbgrader config with the course root set and `overrides` merged in."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    for section, values in overrides.items():
        for key, value in values.items():
            setattr(config[section], key, value)
    return config


def nbgrader_api(root: Path, **overrides: dict[str, object]) -> NbGraderAPI:
    """Return nbgrader's own API object for the course at `root`."""
    from nbgrader.apps import NbGraderAPI

    # nbgrader runs the `alembic` command it installed; find it even when no venv is activated.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return NbGraderAPI(config=load_config(root, **overrides))
