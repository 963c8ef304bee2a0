"""nbgrader's gradebook on a real PostgreSQL server grades exactly as it does on SQLite."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from alembic.script import ScriptDirectory
from nbgrader import dbutil
from nbgrader.api import Gradebook
from sqlalchemy import create_engine, inspect, text

from softmax_course.course import load_config, nbgrader_api
from tests.harness import ROOT, grade_class, reference_submission

ASSIGNMENT = "softmax"
COURSE_ID = load_config(ROOT).CourseDirectory.course_id


def submissions() -> dict[str, nbformat.NotebookNode]:
    """Return a correct submission and the released stub, by student id."""
    return {
        "correct": reference_submission(ASSIGNMENT),
        "stub": nbformat.read(ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4),
    }


def total(cells: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """Return (points earned, points possible) over the autograded cells."""
    return sum(s for s, _ in cells.values()), sum(m for _, m in cells.values())


def grade_on_database(db_url: str, course: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """Grade the submissions in a scratch course whose gradebook is `db_url`; read scores back."""
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    # First: nbgrader_api puts the venv's `alembic`, which Gradebook runs, on PATH.
    api = nbgrader_api(course, CourseDirectory={"db_url": db_url})
    with Gradebook(db_url, course_id=COURSE_ID) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT)
        for student in submissions():
            gradebook.update_or_create_student(student, first_name=student.title())
    generated = api.generate_assignment(ASSIGNMENT)
    assert generated["success"], generated.get("log", "")
    for student, nb in submissions().items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
        result = api.autograde(ASSIGNMENT, student)
        assert result["success"], result.get("log", "")
    scores: dict[str, dict[str, tuple[float, float]]] = {}
    with Gradebook(db_url, course_id=COURSE_ID) as gradebook:
        for student in submissions():
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            cells = {
                g.name: (g.score, g.max_score) for g in notebook.grades if g.auto_score is not None
            }
            submission = gradebook.find_submission(ASSIGNMENT, student)
            # The totals are SQL aggregates (column_property): check the database computes them.
            assert (submission.score, submission.max_score) == pytest.approx(total(cells))
            scores[student] = cells
    return scores


def test_server_is_postgresql(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        assert engine.dialect.name == "postgresql"
        assert inspect(engine).get_table_names() == []  # each test gets an empty database
    finally:
        engine.dispose()


def test_gradebook_schema_is_at_head_and_upgrades_on_postgres(postgres_url: str) -> None:
    nbgrader_api(ROOT)  # puts the venv's `alembic` on PATH
    with Gradebook(postgres_url, course_id=COURSE_ID) as gradebook:
        gradebook.add_student("ada")
    dbutil.upgrade(postgres_url)  # what `nbgrader db upgrade` runs: alembic on SQLAlchemy 2
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    assert version == ScriptDirectory(dbutil.ALEMBIC_DIR).get_current_head()
    with Gradebook(postgres_url, course_id=COURSE_ID) as gradebook:
        assert [s.id for s in gradebook.students] == ["ada"]


def test_gradebook_scores_on_postgres_equal_sqlite(postgres_url: str, tmp_path: Path) -> None:
    on_postgres = grade_on_database(postgres_url, tmp_path / "postgres")
    (tmp_path / "sqlite").mkdir()
    on_sqlite = {
        student: {name: (c.score, c.max_score) for name, c in cells.items()}
        for student, cells in grade_class(ASSIGNMENT, submissions(), tmp_path / "sqlite").items()
    }
    assert on_postgres == on_sqlite
    (earned, possible), (stub_earned, _) = total(on_postgres["correct"]), total(on_postgres["stub"])
    assert possible > 0 and earned == possible and stub_earned == 0, on_postgres
    with Gradebook(postgres_url, course_id=COURSE_ID) as gradebook:
        assert [s.id for s in gradebook.students] == ["correct", "stub"]
        assert gradebook.find_assignment(ASSIGNMENT).course_id == COURSE_ID
