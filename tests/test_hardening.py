"""Hostile students in a class change no honest student's grade and gain nothing themselves.

The same honest class (the reference solution, the released stub, a wrong corpus answer) is
graded twice with `softmax-course grade`: alone, and with hostile students added: each softmax
answer of tests/hostile_grades/ (faking a pass in the kernel), one whose kernel dies halfway
through the tests, one whose softmax loops forever on the batches test, two that print 100 MB
(in lines, and as one line), and one that tries to read the solutions, the gradebook and another
student's submission from its kernel and prints what it found.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import is_grade, is_solution

from softmax_course.grading.autograde import NotebookJob, execute
from softmax_course.sandbox.kernel_pool import KernelPool, grading_manager_factory
from softmax_course.sandbox.memory_cap import memory_hierarchy
from softmax_course.sandbox.spec import sandbox_support
from tests.harness import (
    ASSIGNMENT,
    REFERENCE_ANSWER,
    ROOT,
    SOLUTION,
    STUB,
    WRONG,
    answer_cells,
    expected_points,
    grade_cli,
    make_course,
    read_grades,
    reference_submission,
    visible_text,
    with_answer,
    write_zip,
)

HOSTILE = ROOT / "tests" / "hostile_grades"
READ_SECRETS = (ROOT / "tests" / "hostile" / "read_secrets.py").read_text()
DIES_AT = "softmax_batches"  # the test cell during which the kernel-killer's kernel dies

KILLER_ANSWER = """import os

import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    if z.shape[-1:] == (3,) and z.ndim == 2:  # the batches test's inputs
        os._exit(1)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
"""


LOOPER_ANSWER = KILLER_ANSWER.replace("os._exit(1)", "while True:\n            pass")
CELL_TIMEOUT = 5  # seconds per cell in these runs (the course's is 30)

FLOODS = {  # student: 100 MB printed by the answer cell, after a right softmax
    "flooder-lines": 'for _ in range(100):\n    print("x" * (1 << 20))',
    "flooder-one-line": 'print("x" * (100 << 20), end="")',
}


def expected_protection() -> str:
    """Return how grading kernels are protected on this machine, as the report says it."""
    return sandbox_support().value + (" + memory cgroup" if memory_hierarchy() else "")


def hostile_answers() -> dict[str, tuple[str, list[str]]]:
    """Return, by student, each softmax answer of tests/hostile_grades and the cells it fools."""
    found = {}
    for path in sorted(HOSTILE.glob("*.py")):
        text = path.read_text()
        doc = text.split('"""')[1]
        if not re.search(rf"^assignment:\s*{ASSIGNMENT}\s*$", doc, re.M):
            continue
        fools = re.search(r"^fools nbgrader:\s*(.+?)(?=\n\S|\Z)", doc, re.M | re.S)
        assert fools, path
        cells = [] if fools[1].strip() == "nothing" else re.split(r"[\s,]+", fools[1].strip())
        found[f"hostile-{path.stem.replace('_', '-')}"] = (text, cells)
    assert len(found) >= 5
    return found


def cell_points() -> dict[str, float]:
    """Return the points of each autograded test cell of the instructor's notebook, in order."""
    return {
        c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"])
        for c in nbformat.read(SOLUTION, 4).cells
        if c.cell_type == "code" and is_grade(c) and not is_solution(c)
    }


def secrets_answer(course: Path) -> str:
    """Return an answer cell that is the reference softmax plus tests/hostile/read_secrets.py."""
    prefixes = {sys.prefix, sys.base_prefix, str(Path(sys.prefix).resolve())}
    params = {
        "targets": [
            str(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
            str(course / "gradebook.db"),
            str(course / "submitted" / "reference" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
            str(course / "autograded" / "reference" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
            str(SOLUTION),
        ],
        "forbidden_words": [course.parent.name, "gradebook.db", "submitted"],
        "skip": ["/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", *sorted(prefixes)],
        "list": [],
    }
    return f"PARAMS = {json.dumps(params)!s}\n\n{READ_SECRETS}\n\n{REFERENCE_ANSWER}"


def honest_class() -> dict[str, nbformat.NotebookNode]:
    """Return the honest students' notebooks by student."""
    return {
        "reference": reference_submission(ASSIGNMENT),
        "stub": nbformat.read(STUB, 4),
        "wrong-divide-by-sum": with_answer(WRONG),
    }


def run_class(folder: Path, notebooks: dict[str, nbformat.NotebookNode]) -> dict:
    """Grade `notebooks` with `softmax-course grade` in a new course under `folder`."""
    course = make_course(folder / "course")
    files = {
        f"{student}_{1000 + i}_{ASSIGNMENT}.ipynb": nbformat.writes(nb).encode()
        for i, (student, nb) in enumerate(notebooks.items())
    }
    archive = write_zip(folder / "class.zip", files)
    output = grade_cli(
        course, str(archive), "-a", ASSIGNMENT, "--workers", "2", "-q",
        "--cell-timeout", str(CELL_TIMEOUT),
    )
    out = course / "grading-output"
    cells = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "softmax-step-by-step") as gradebook:
        for student in notebooks:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            cells[student] = {g.name: g.score for g in notebook.grades}
    return {
        "course": course,
        "output": output,
        "grades": read_grades(out / "grades.csv"),
        "cells": cells,
        "report": visible_text((out / "report.html").read_text()),
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """Grade the honest class alone, then with the hostile students."""
    alone = run_class(tmp_path_factory.mktemp("alone"), honest_class())
    folder = tmp_path_factory.mktemp("hostile")
    hostile = {student: with_answer(text) for student, (text, _) in hostile_answers().items()}
    hostile["kernel-killer"] = with_answer(KILLER_ANSWER)
    hostile["secrets-reader"] = with_answer(secrets_answer(folder / "course"))
    hostile["looper"] = with_answer(LOOPER_ANSWER)
    for student, flood in FLOODS.items():
        hostile[student] = with_answer(f"{REFERENCE_ANSWER}\n{flood}")
    mixed = run_class(folder, {**honest_class(), **hostile})
    return {"alone": alone, "mixed": mixed}


def test_honest_grades_are_the_same_with_hostile_students(runs) -> None:
    alone, mixed = runs["alone"], runs["mixed"]
    for student in honest_class():
        assert mixed["grades"][student]["score"] == alone["grades"][student]["score"], student
        assert mixed["cells"][student] == alone["cells"][student], student
    assert float(alone["grades"]["reference"]["score"]) == 10
    assert float(alone["grades"]["stub"]["score"]) == 0
    assert float(alone["grades"]["wrong-divide-by-sum"]["score"]) == pytest.approx(
        sum(expected_points(WRONG).values())
    )
    protection = f"protection: {expected_protection()} ("
    assert protection in mixed["output"] and protection in mixed["report"]


def test_faked_passes_get_the_trusted_score_and_are_reported(runs) -> None:
    mixed = runs["mixed"]
    for student, (_, fooled) in hostile_answers().items():
        score = float(mixed["grades"][student]["score"])
        assert score < 10, student
        for cell in fooled:
            assert mixed["cells"][student][cell] == 0, (student, cell)
        # The terminal summary has one line per note; the report shows the same notes.
        line = re.search(
            rf"{student}\s+softmax\.ipynb: tampering suspected: ([^\n]+)", mixed["output"]
        )
        in_report = re.search(rf"{student}\s*softmax\.ipynb: tampering suspected", mixed["report"])
        if fooled:
            assert line and in_report, student
            assert set(re.split(r",\s*", line[1].strip())) == set(fooled), student
        else:
            assert not line and not in_report, student


def test_a_dead_kernel_keeps_the_points_earned_before(runs) -> None:
    mixed, points = runs["mixed"], cell_points()
    names = list(points)
    before = names[: names.index(DIES_AT)]
    earned = mixed["cells"]["kernel-killer"]
    assert all(earned[cell] == points[cell] for cell in before), earned
    assert all(earned[cell] == 0 for cell in names[len(before) :]), earned
    assert float(mixed["grades"]["kernel-killer"]["score"]) == sum(points[c] for c in before)
    assert re.search(
        rf"kernel-killer\s*softmax\.ipynb: the kernel died while running cell \d+ \({DIES_AT}\)",
        mixed["report"],
    )


def test_an_endless_loop_keeps_the_points_earned_before(runs) -> None:
    mixed, points = runs["mixed"], cell_points()
    names = list(points)
    before = names[: names.index(DIES_AT)]
    earned = mixed["cells"]["looper"]
    assert all(earned[cell] == points[cell] for cell in before), earned
    assert earned[DIES_AT] == 0, earned
    assert re.search(
        rf"looper\s*softmax\.ipynb: cell \d+ \({DIES_AT}\) timed out after {CELL_TIMEOUT} s",
        mixed["report"],
    )


@pytest.mark.parametrize("student", FLOODS)
def test_a_100_mb_output_flood_is_capped_in_the_notebook_and_the_feedback(runs, student) -> None:
    mixed = runs["mixed"]
    assert float(mixed["grades"][student]["score"]) == 10  # its softmax is right
    autograded = mixed["course"] / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert autograded.stat().st_size < 3_000_000
    feedback = list((mixed["course"] / "grading-output" / "feedback" / student).rglob("*.html"))
    assert feedback and all(path.stat().st_size < 3_000_000 for path in feedback)
    text = "".join(
        o.get("text", "") for o in answer_cells(nbformat.read(autograded, 4))[ASSIGNMENT].outputs
    )
    assert "x" * 1000 in text and "output truncated" in text
    flood = rf"{student}\s*softmax\.ipynb: cell \d+ \(\w+\): [\d,]+ bytes of output not kept"
    assert re.search(flood, mixed["report"])


def test_nothing_outside_the_working_copy_is_readable(runs) -> None:
    mixed = runs["mixed"]
    graded = nbformat.read(
        mixed["course"] / "autograded" / "secrets-reader" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4
    )
    cell = answer_cells(graded)[ASSIGNMENT]
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    line = next(line for line in text.splitlines() if line.startswith("RESULT "))
    found = json.loads(line.removeprefix("RESULT "))
    assert found["opened"] == []
    assert len(found["errors"]) == 5
    assert set(found["errors"].values()) <= {"FileNotFoundError", "PermissionError"}
    assert found["found"] == [] and found["walked"] > 0
    assert float(mixed["grades"]["secrets-reader"]["score"]) == 10  # its softmax is right


def test_files_of_the_submission_are_handed_to_the_sandboxed_kernel(tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "with open('data/notes.txt', 'a') as f:\n    f.write(' and more')\n"
            "print(open('data/notes.txt').read())"
        )
    )
    job = NotebookJob("someone", ASSIGNMENT, "files", nbformat.writes(nb), {"data/notes.txt": b"x"})
    pool = KernelPool(size=1, manager_factory=grading_manager_factory([str(ROOT)]))
    try:
        result = execute(job, pool)
    finally:
        pool.close()
    assert result.error == "" and result.protection == expected_protection()
    outputs = result.cells[0]["outputs"]
    assert [o.get("text") for o in outputs] == ["x and more\n"], outputs
