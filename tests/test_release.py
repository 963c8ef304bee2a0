"""exercises/ is exactly what `softmax-course release` generates from solutions/, and the
solutions are committed without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from softmax_course.course import ASSIGNMENTS, CourseError
from softmax_course.release import release
from tests.conftest import ROOT

SOURCES = sorted((ROOT / "solutions").glob("*/*.ipynb"))


def test_every_assignment_has_a_source_and_a_release() -> None:
    for name in ASSIGNMENTS:
        assert (ROOT / "solutions" / name / f"{name}.ipynb").is_file(), name
        assert (ROOT / "exercises" / name / f"{name}.ipynb").is_file(), name


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_solutions_are_committed_without_outputs(source: Path) -> None:
    cells = json.loads(source.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)


def test_exercises_are_in_sync_with_solutions(tmp_path: Path) -> None:
    written = release(ROOT, assignments=[p.parent.name for p in SOURCES], release_dir=tmp_path)
    assert written
    for fresh in written:
        committed = ROOT / "exercises" / fresh.relative_to(tmp_path)
        assert committed.is_file(), f"{committed} is missing: run `softmax-course release`"
        assert json.loads(committed.read_text()) == json.loads(fresh.read_text()), (
            f"{committed} differs from solutions/: run `softmax-course release`"
        )


def test_released_notebooks_hide_solutions_and_hidden_tests() -> None:
    for path in (ROOT / "exercises").glob("*/*.ipynb"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path


def test_release_of_an_unknown_assignment_says_so_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(CourseError, match="no assignment 'nope'"):
        release(ROOT, assignments=["nope"], release_dir=tmp_path)
