"""The trusted re-check is fair both ways (issue 13, part 1).

- An honest submission gets exactly plain nbgrader's score, and never the word "tampering", even
  when a later cell rebinds a name a test used: the re-check judges each test cell right after it
  ran, before any later cell.
- No submission scores more by stopping the re-check (stalling, exiting, breaking its channel at
  different moments) than by letting it run: a pass the re-check could not confirm scores 0 and
  goes to the instructor for a manual grade, with the kernel's claim shown.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from softmax_course.grading.schedule import LEDGER_NAME
from tests.harness import (
    ASSIGNMENT,
    REFERENCE_ANSWER,
    WRONG,
    grade_class,
    submitted_course,
    with_answer,
)

FAKE_PASSES = """
import numpy.testing
numpy.testing.assert_allclose = lambda *args, **kwargs: None
assert_allclose = numpy.testing.assert_allclose
"""
"""Makes every in-kernel test of softmax pass, whatever softmax returns."""

CHECKER_CALLS = """
import sys

_calls = [0]


def _checker_call():
    \"\"\"Count the calls made by the re-check's helper (its module is softmax_trusted).\"\"\"
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") != "softmax_trusted":
        frame = frame.f_back
    if frame is None:
        return 0
    _calls[0] += 1
    return _calls[0]
"""
"""Tells a call by the re-check from the in-kernel test's: an attacker can, so the tests do."""


def added_cells(answer: str, *later: str) -> nbformat.NotebookNode:
    """Return a softmax submission with `answer`, and `later` as cells added at the end."""
    nb = with_answer(answer)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in later]
    return nb


def wrong_that_stops(stop: str, call: int) -> str:
    """A wrong softmax whose passes are faked, and that runs `stop` on the re-check's `call`th
    call of it."""
    body = WRONG.split('"""', 2)[2]  # the corpus file without its header
    return (
        f"{CHECKER_CALLS}\n{body}\n\n_wrong = softmax\n\n\n"
        f"def softmax(raw, axis=-1):\n"
        f"    if _checker_call() == {call}:\n"
        f"        {stop}\n"
        f"    return _wrong(raw, axis)\n{FAKE_PASSES}"
    )


HONEST = {
    # A later answer imports a library function of the same name (shadowing the student's).
    "import-shadows": added_cells(
        REFERENCE_ANSWER, "from scipy.special import softmax  # to compare with mine"
    ),
    # The function is redefined after its tests, as a scratch experiment.
    "redefined-later": added_cells(REFERENCE_ANSWER, "def softmax(raw, axis=-1):\n    return raw"),
    # A helper the answer uses is changed later.
    "helper-changed": added_cells(
        "import numpy as np\n\n\ndef _shifted(z, axis):\n    return z - z.max(axis=axis, "
        "keepdims=True)\n\n\ndef softmax(raw, axis=-1):\n    e = np.exp(_shifted(np.asarray("
        "raw, dtype=float), axis))\n    return e / e.sum(axis=axis, keepdims=True)\n",
        "def _shifted(z, axis):\n    return z",
    ),
    # Global state the answer reads is changed later.
    "global-mutated": added_cells(
        "import numpy as np\n\nBASE = np.e\n\n\ndef softmax(raw, axis=-1):\n    z = np.asarray("
        "raw, dtype=float)\n    e = BASE ** (z - z.max(axis=axis, keepdims=True))\n"
        "    return e / e.sum(axis=axis, keepdims=True)\n",
        "BASE = 2.0",
    ),
    # The kernel dies on its own after the tests (plain nbgrader fails the whole submission).
    "dies-after-tests": added_cells(REFERENCE_ANSWER, "import os\nos._exit(1)"),
    "wrong-and-honest": with_answer(WRONG),
}

STOPPERS = {  # each fakes its passes, then keeps the re-check from confirming them
    # (breaking the kernel's exec leaves the re-check's helper unable to answer: its failed
    # calls are judged as failures, so that submission is caught as tampering instead)
    "stalls-first": with_answer(wrong_that_stops("while True:\n            pass", 1)),
    "stalls-later": with_answer(wrong_that_stops("while True:\n            pass", 4)),
    "exits-first": with_answer(wrong_that_stops("__import__('os')._exit(0)", 1)),
    "exits-later": with_answer(wrong_that_stops("__import__('os')._exit(0)", 4)),
    "breaks-channel": with_answer(
        WRONG.split('"""', 2)[2]
        + FAKE_PASSES
        + "\nimport builtins\nbuiltins.exec = lambda *args, **kwargs: None  # no cell runs now\n"
    ),
}


QUICK = "c.Execute.timeout = 8\nc.LimitedExecute.notebook_timeout = 40\n"
"""Shorter limits, so that stalls cost seconds (each re-check call may take the cell timeout)."""


def plain_nbgrader(submissions: dict[str, nbformat.NotebookNode], course: Path) -> dict:
    """Grade `submissions` with plain `nbgrader autograde`; return each student's cell scores."""
    course.mkdir(parents=True)
    api = submitted_course(ASSIGNMENT, submissions, course)
    for student in submissions:
        api.autograde(ASSIGNMENT, student)
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in submissions:
            try:
                notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            except Exception:
                scores[student] = None  # nbgrader could not grade it (e.g. its kernel died)
                continue
            scores[student] = {g.name: g.score for g in notebook.grades if g.auto_score is not None}
    return scores


def notes(course: Path) -> dict[str, str]:
    """Return the note the engine recorded for each student."""
    ledger = json.loads((course / "autograded" / LEDGER_NAME).read_text())
    return {student: entry["note"] for student, entry in ledger[ASSIGNMENT].items()}


def manual(course: Path, students) -> dict[str, set[str]]:
    """Return the test cells of each student that the gradebook says need a manual grade."""
    found = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            found[student] = {
                g.name for g in notebook.grades if g.needs_manual_grade and g.auto_score is not None
            }
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """Grade the honest class and the stoppers with the engine, the honest class plainly too."""
    folder = tmp_path_factory.mktemp("fair")
    (folder / "ours").mkdir()
    ours = grade_class(ASSIGNMENT, {**HONEST, **STOPPERS}, folder / "ours", extra_config=QUICK)
    return {
        "ours": ours,
        "plain": plain_nbgrader(HONEST, folder / "plain"),
        "notes": notes(folder / "ours"),
        "manual": manual(folder / "ours", [*HONEST, *STOPPERS]),
    }


@pytest.mark.parametrize("student", [s for s in HONEST if s != "dies-after-tests"])
def test_an_honest_submission_scores_what_plain_nbgrader_gives(graded, student) -> None:
    ours = {name: cell.score for name, cell in graded["ours"][student].items()}
    assert ours == graded["plain"][student]
    assert "tampering" not in graded["notes"][student], graded["notes"][student]
    assert not graded["manual"][student]


def test_a_kernel_that_dies_after_the_tests_keeps_every_confirmed_point(graded) -> None:
    ours = graded["ours"]["dies-after-tests"]
    assert all(cell.score == cell.max_score for cell in ours.values()), ours
    assert "tampering" not in graded["notes"]["dies-after-tests"]
    assert not graded["manual"]["dies-after-tests"]


@pytest.mark.parametrize("student", STOPPERS)
def test_stopping_the_recheck_never_scores_more_than_letting_it_run(graded, student) -> None:
    honest = sum(cell.score for cell in graded["ours"]["wrong-and-honest"].values())
    stopped = graded["ours"][student]
    assert sum(cell.score for cell in stopped.values()) <= honest, stopped
    note = graded["notes"][student]
    assert "tampering suspected" in note or "to grade by hand" in note, note


@pytest.mark.parametrize("student", ["stalls-first", "exits-first"])
def test_an_unconfirmed_pass_goes_to_the_instructor_with_the_kernels_claim(graded, student):
    assert graded["manual"][student], graded["notes"][student]


@pytest.mark.parametrize("student", STOPPERS)
def test_a_cell_to_grade_by_hand_scores_0_and_shows_the_kernels_claim(graded, student) -> None:
    cells = graded["ours"][student]
    for name in graded["manual"][student]:
        assert cells[name].score == 0
        assert "the kernel claimed" in cells[name].message and "by hand" in cells[name].message
