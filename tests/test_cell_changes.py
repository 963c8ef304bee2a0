"""cell_changes: every change to what a student must not change; restore_from_release: the fix.

The grading tests measure, with nbgrader's autograde (tests/harness.py grade_class), each
tampered variant of a correct and of a wrong softmax submission: nbgrader alone restores edited,
deleted and retyped test cells and changed points, but fails to grade (KeyError, RuntimeError) a
duplicated cell, a renamed or added grade_id, flipped grade/solution flags, or all metadata
removed, and gives a correct student 0 when the setup cell is deleted. The grading engine restores
every submission from the release first (RestoreFromRelease): every variant is graded exactly as
the untampered one, and its note in the report lists the changes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import CheckCellMetadata, DeduplicateIds
from traitlets.config import Config

from softmax_course.course import ASSIGNMENTS, load_config
from softmax_course.grading.assignment import read_assignment
from softmax_course.grading.autograde import Autograder, SubmissionError
from softmax_course.grading.preprocessors.restore_from_release import (
    RESTORED_NOTE,
    RestoreFromRelease,
    cell_changes,
    find_changes,
    restore_from_release,
)
from softmax_course.grading.schedule import LEDGER_NAME, grading_logger
from tests.harness import (
    CORPUS,
    ROOT,
    answer_cells,
    grade_class,
    reference_submission,
)

WRONG = (CORPUS / "softmax" / "wrong_no_max_subtraction.py").read_text()
WRITTEN = "ArgMax is flat almost everywhere: its derivative is 0, so no gradient reaches a weight."


def released(assignment: str) -> NotebookNode:
    return nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", 4)


def at(nb: NotebookNode, grade_id: str) -> int:
    return next(
        i
        for i, c in enumerate(nb.cells)
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id
    )


def cell(nb: NotebookNode, grade_id: str) -> NotebookNode:
    return nb.cells[at(nb, grade_id)]


def retype(c: NotebookNode, cell_type: str) -> None:
    c.cell_type = cell_type
    if cell_type == "code":
        c.outputs, c.execution_count = [], None
    else:
        c.pop("outputs", None)
        c.pop("execution_count", None)


def honest(assignment: str) -> NotebookNode:
    """The reference solution, with the written answer filled in where there is one."""
    nb = reference_submission(assignment)
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade") and c.cell_type == "markdown":
            c.source = WRITTEN
    return nb


# Each tampering: what it does to a submission, and what cell_changes must say.


def _delete(grade_id: str) -> Callable[[NotebookNode], None]:
    return lambda nb: nb.cells.pop(at(nb, grade_id))


def _duplicate(nb: NotebookNode, edit_last: bool = False) -> None:
    i = at(nb, "softmax_example")
    copied = copy.deepcopy(nb.cells[i])
    nb.cells.insert(i + 1, copied)
    if edit_last:
        copied.source = "pass"


def _swap(nb: NotebookNode, a: str, b: str) -> None:
    i, j = at(nb, a), at(nb, b)
    nb.cells[i], nb.cells[j] = nb.cells[j], nb.cells[i]


def _move_above(nb: NotebookNode, moved: str, above: str) -> None:
    c = nb.cells.pop(at(nb, moved))
    nb.cells.insert(at(nb, above), c)


def _strip(c: NotebookNode) -> None:
    del c.metadata["nbgrader"]


def _fake_setup(nb: NotebookNode) -> None:
    """Setup cell without metadata, with numpy's assert_allclose made to pass everything."""
    c = cell(nb, "setup")
    _strip(c)
    c.source += "\nassert_allclose = lambda *args, **kwargs: None"


def _add_graded_cell(nb: NotebookNode) -> None:
    c = nbformat.v4.new_code_cell("pass")
    c.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "bonus",
        "points": 5,
        "locked": False,
        "solution": False,
        "schema_version": 3,
    }
    nb.cells.append(c)


def _add_scratch_cells(nb: NotebookNode) -> None:
    i = at(nb, "softmax_answer")
    nb.cells.insert(i, nbformat.v4.new_code_cell("def helper():\n    return 1"))
    nb.cells.insert(i + 2, nbformat.v4.new_markdown_cell("My notes"))


def _set(target: str, **values: object) -> Callable[[NotebookNode], None]:
    return lambda nb: cell(nb, target).metadata.nbgrader.update(values)


def _all_metadata_removed(nb: NotebookNode) -> None:
    for c in nb.cells:
        c.metadata.pop("nbgrader", None)


SOFTMAX_TESTS = [
    "softmax_example",
    "softmax_known_values",
    "softmax_overflow",
    "softmax_no_warnings",
    "softmax_batches",
    "softmax_axis",
    "softmax_shape_dtype",
]

SOFTMAX: dict[str, tuple[Callable[[NotebookNode], None], list[str]]] = {
    "edit-test": (
        lambda nb: setattr(cell(nb, "softmax_example"), "source", "pass"),
        ["locked cell softmax_example was edited (test replaced by `pass`)"],
    ),
    "edit-intro": (
        lambda nb: setattr(cell(nb, "intro"), "source", cell(nb, "intro").source + "\nHi!\n"),
        ["locked cell intro was edited (1 line added)"],
    ),
    "delete-test": (_delete("softmax_overflow"), ["test cell softmax_overflow was deleted"]),
    "delete-all-tests": (
        lambda nb: [nb.cells.pop(at(nb, t)) for t in SOFTMAX_TESTS],
        [f"7 cells were deleted: {', '.join(SOFTMAX_TESTS)}"],
    ),
    "test-above-answer-swap": (
        lambda nb: _swap(nb, "softmax_answer", "softmax_example"),
        ["cells softmax_answer and softmax_example are in a different order"],
    ),
    "swap-tests": (
        lambda nb: _swap(nb, "softmax_example", "softmax_known_values"),
        ["cells softmax_example and softmax_known_values are in a different order"],
    ),
    "test-above-answer": (
        lambda nb: _move_above(nb, "softmax_batches", "softmax_answer"),
        ["cell softmax_batches was moved (now between softmax_task and softmax_answer)"],
    ),
    "duplicate-test": (_duplicate, ["cell softmax_example appears twice"]),
    "duplicate-test-edited": (
        lambda nb: _duplicate(nb, edit_last=True),
        [
            "cell softmax_example appears twice",
            "locked cell softmax_example was edited (test replaced by `pass`)",
        ],
    ),
    "points": (
        _set("softmax_example", points=200),
        ["nbgrader metadata of cell softmax_example was changed (points 2 → 200)"],
    ),
    "checksum": (
        _set("softmax_overflow", checksum="0" * 32),
        ["nbgrader metadata of cell softmax_overflow was changed (checksum changed)"],
    ),
    "grade-false": (
        _set("softmax_overflow", grade=False),
        ["nbgrader metadata of cell softmax_overflow was changed (grade True → False)"],
    ),
    "solution-true": (
        _set("softmax_overflow", solution=True),
        ["nbgrader metadata of cell softmax_overflow was changed (solution False → True)"],
    ),
    "unlocked-and-emptied": (
        lambda nb: (
            _set("softmax_axis", locked=False)(nb),
            setattr(cell(nb, "softmax_axis"), "source", ""),
        ),
        [
            "locked cell softmax_axis was edited (test emptied)",
            "nbgrader metadata of cell softmax_axis was changed (locked True → False)",
        ],
    ),
    "grade-id-renamed": (
        _set("softmax_overflow", grade_id="mine"),
        ["grade_id of test cell softmax_overflow was changed to 'mine'"],
    ),
    "test-to-markdown": (
        lambda nb: retype(cell(nb, "softmax_overflow"), "markdown"),
        ["test cell softmax_overflow was turned into markdown"],
    ),
    "test-to-raw": (
        lambda nb: retype(cell(nb, "softmax_batches"), "raw"),
        ["test cell softmax_batches was turned into raw"],
    ),
    "answer-to-markdown": (
        lambda nb: retype(cell(nb, "softmax_answer"), "markdown"),
        ["answer cell softmax_answer was turned into markdown"],
    ),
    "test-metadata-removed": (
        lambda nb: _strip(cell(nb, "softmax_overflow")),
        ["nbgrader metadata of test cell softmax_overflow was removed"],
    ),
    "answer-metadata-removed": (
        lambda nb: _strip(cell(nb, "softmax_answer")),
        ["nbgrader metadata of answer cell softmax_answer was removed"],
    ),
    "setup-deleted": (_delete("setup"), ["locked cell setup was deleted"]),
    "setup-faked": (
        _fake_setup,
        [
            "nbgrader metadata of locked cell setup was removed",
            "locked cell setup was edited (1 line added)",
        ],
    ),
    "added-graded-cell": (
        _add_graded_cell,
        ["a cell with grade_id 'bonus', which is not in the release, was added, 5 points"],
    ),
    "added-scratch-cells": (_add_scratch_cells, ["added 2 cells (info)"]),
    "kernelspec": (
        lambda nb: nb.metadata.update(
            kernelspec={"name": "julia-1.9", "display_name": "Julia 1.9", "language": "julia"}
        ),
        ["kernelspec changed to julia-1.9 (info)"],
    ),
    "cell-id": (
        lambda nb: setattr(cell(nb, "softmax_overflow"), "id", "my-id"),
        ["cell id of softmax_overflow changed (softmax-overflow → my-id) (info)"],
    ),
    "all-metadata-removed": (
        _all_metadata_removed,
        [
            "11 cells lost their nbgrader metadata: intro, setup, softmax_task, softmax_answer, "
            + ", ".join(SOFTMAX_TESTS)
        ],
    ),
    "answer-deleted": (_delete("softmax_answer"), ["answer cell softmax_answer was deleted"]),
}

ARGMAX: dict[str, tuple[Callable[[NotebookNode], None], list[str]]] = {
    "written-answer-deleted": (
        _delete("argmax_training_answer"),
        ["answer cell argmax_training_answer was deleted"],
    ),
    "task-and-answer-deleted": (
        lambda nb: (_delete("argmax_training_answer")(nb), _delete("argmax_training_task")(nb)),
        [
            "locked cell argmax_training_task was deleted",
            "answer cell argmax_training_answer was deleted",
        ],
    ),
    "written-answer-to-code": (
        lambda nb: retype(cell(nb, "argmax_training_answer"), "code"),
        ["answer cell argmax_training_answer was turned into code"],
    ),
    "written-answer-metadata-removed": (
        lambda nb: _strip(cell(nb, "argmax_training_answer")),
        ["nbgrader metadata of answer cell argmax_training_answer was removed"],
    ),
    "written-answer-points": (
        _set("argmax_training_answer", points=200),
        ["nbgrader metadata of cell argmax_training_answer was changed (points 2 → 200)"],
    ),
    "written-answer-duplicated": (
        lambda nb: nb.cells.insert(
            at(nb, "argmax_training_answer"), copy.deepcopy(cell(nb, "argmax_training_answer"))
        ),
        ["cell argmax_training_answer appears twice"],
    ),
    "answer-moved-below-tests": (
        lambda nb: _move_above(nb, "argmax_onehot_answer", "numerical_jacobian_task"),
        [
            "cell argmax_onehot_answer was moved "
            "(now between argmax_onehot_batches and numerical_jacobian_task)"
        ],
    ),
}

VARIANTS = {("softmax", k): v for k, v in SOFTMAX.items()} | {
    ("argmax", k): v for k, v in ARGMAX.items()
}
VARIANT_IDS = [f"{assignment}-{name}" for assignment, name in VARIANTS]


def tampered(assignment: str, name: str, base: NotebookNode | None = None) -> NotebookNode:
    nb = copy.deepcopy(base if base is not None else honest(assignment))
    VARIANTS[assignment, name][0](nb)
    return nb


# cell_changes


@pytest.mark.parametrize(
    "assignment", [a for a in ASSIGNMENTS if (ROOT / "exercises" / a).is_dir()]
)
def test_unchanged_and_honest_notebooks_have_no_changes(assignment: str) -> None:
    assert cell_changes(released(assignment), released(assignment)) == []
    assert cell_changes(honest(assignment), released(assignment)) == []
    assert cell_changes(reference_submission(assignment), released(assignment)) == []


@pytest.mark.parametrize(("assignment", "name"), list(VARIANTS), ids=VARIANT_IDS)
def test_each_change_is_described(assignment: str, name: str) -> None:
    expected = VARIANTS[assignment, name][1]
    assert cell_changes(tampered(assignment, name), released(assignment)) == expected


def test_changes_add_up() -> None:
    nb = honest("softmax")
    for name in ("edit-test", "delete-test", "points", "kernelspec", "added-scratch-cells"):
        SOFTMAX[name][0](nb)
    assert cell_changes(nb, released("softmax")) == [
        "kernelspec changed to julia-1.9 (info)",
        "locked cell softmax_example was edited (test replaced by `pass`)",
        "nbgrader metadata of cell softmax_example was changed (points 2 → 200)",
        "test cell softmax_overflow was deleted",
        "added 2 cells (info)",
    ]
    info = [c.info for c in find_changes(nb, released("softmax"))]
    assert info == [True, False, False, False, True]


def test_answers_edited_are_not_changes() -> None:
    nb = honest("softmax")
    answer_cells(nb)["softmax"].source = WRONG
    assert cell_changes(nb, released("softmax")) == []


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"cells": None},
        {"cells": "x", "metadata": []},
        {"cells": [None, 3, "text", {}], "metadata": {"kernelspec": "python3"}},
        {
            "cells": [
                {"cell_type": "code"},  # no source, no metadata
                {"cell_type": "code", "source": ["a", 1], "outputs": "oops", "metadata": None},
                {"cell_type": "markdown", "metadata": {"nbgrader": "nope"}},
                {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": 7, "points": "x"}}},
                {"cell_type": 5, "metadata": {"nbgrader": {"grade_id": "setup", "points": None}}},
                {"metadata": {"nbgrader": {"grade_id": "softmax_answer", "solution": "yes"}}},
            ]
        },
    ],
)
def test_malformed_notebooks_never_raise(broken: dict) -> None:
    nb = nbformat.from_dict(broken)
    changes = cell_changes(nb, released("softmax"))
    assert changes and all(isinstance(line, str) and "\n" not in line for line in changes)
    assert not any("could not be compared" in line for line in changes)
    assert isinstance(cell_changes(released("softmax"), nb), list)
    restored = restore_from_release(nb, released("softmax"))
    nbformat.validate(restored)
    restore_from_release(released("softmax"), nb)


def test_a_huge_notebook_is_compared() -> None:
    nb = honest("softmax")
    overflow = cell(nb, "softmax_overflow")
    _strip(overflow)
    overflow.source += "x = 1\n" * 100_000
    big = "y = 2\n" * 20_000
    nb.cells[at(nb, "softmax_answer") :] = [
        *nb.cells[at(nb, "softmax_answer") :],
        *(nbformat.v4.new_code_cell(big) for _ in range(2_000)),
    ]
    changes = cell_changes(nb, released("softmax"))  # its speed: bench/hot_paths.py
    restored = restore_from_release(nb, released("softmax"))
    assert changes == ["test cell softmax_overflow was deleted", "added 2001 cells (info)"]
    assert len(restored.cells) == len(released("softmax").cells) + 2_001


# restore_from_release


def test_restoring_an_honest_notebook_changes_nothing() -> None:
    nb = honest("argmax")
    assert restore_from_release(nb, released("argmax")).cells == nb.cells


@pytest.mark.parametrize(("assignment", "name"), list(VARIANTS), ids=VARIANT_IDS)
def test_restored_notebook_is_as_released(assignment: str, name: str) -> None:
    restored = restore_from_release(tampered(assignment, name), released(assignment))
    nbformat.validate(restored)
    left = cell_changes(restored, released(assignment))
    expected = {
        "added-scratch-cells": ["added 2 cells (info)"],
        "answer-deleted": ["answer cell softmax_answer was deleted"],  # never its stub back
        "setup-faked": [],  # the recognised setup cell comes back as released
    }
    extra = [line for line in left if line == "added 1 cell (info)"]  # demoted copies, `pass`
    assert [line for line in left if line not in extra] == expected.get(name, [])
    # nbgrader's own checks accept it as it is.
    DeduplicateIds().preprocess(copy.deepcopy(restored), {})
    CheckCellMetadata().preprocess(restored, {})


def test_restored_tampered_notebook_is_the_untampered_one() -> None:
    """Whatever was done to the released cells, they come back as they were."""
    kept = {"added-graded-cell", "added-scratch-cells", "answer-deleted"}  # the student's
    kept |= {"written-answer-deleted", "task-and-answer-deleted"}  # the answer comes back empty
    kept.add("written-answer-duplicated")  # the other copy stays, as the student's own cell
    for (assignment, name), _ in VARIANTS.items():
        if name in kept:
            continue
        restored = restore_from_release(tampered(assignment, name), released(assignment))
        assert restored.cells == honest(assignment).cells, name


def test_restore_keeps_the_students_cells_where_they_were() -> None:
    nb = tampered("softmax", "added-scratch-cells")
    _swap(nb, "softmax_example", "softmax_known_values")
    restored = restore_from_release(nb, released("softmax"))
    sources = [c.source for c in restored.cells]
    helper, answer = sources.index("def helper():\n    return 1"), at(restored, "softmax_answer")
    assert helper == answer - 1 and sources[answer + 1] == "My notes"
    assert [at(restored, t) for t in SOFTMAX_TESTS] == sorted(
        at(restored, t) for t in SOFTMAX_TESTS
    )


def test_restore_puts_answers_back_under_released_metadata() -> None:
    nb = honest("argmax")
    written = cell(nb, "argmax_training_answer")
    _strip(written)
    retype(cell(nb, "argmax_onehot_answer"), "markdown")
    cell(nb, "predict_species_answer").metadata.nbgrader["points"] = 9
    restored = restore_from_release(nb, released("argmax"))
    for grade_id in ("argmax_training_answer", "argmax_onehot_answer", "predict_species_answer"):
        assert (
            cell(restored, grade_id).metadata.nbgrader
            == cell(released("argmax"), grade_id).metadata.nbgrader
        )
    assert cell(restored, "argmax_training_answer").source == WRITTEN
    assert cell(restored, "argmax_onehot_answer").cell_type == "code"


def test_a_deleted_written_answer_comes_back_for_manual_grading() -> None:
    restored = restore_from_release(
        tampered("argmax", "written-answer-deleted"), released("argmax")
    )
    c = cell(restored, "argmax_training_answer")
    assert c.source.startswith(RESTORED_NOTE)


def test_restore_from_release_as_a_sanitize_step() -> None:
    config = Config()
    config.CourseDirectory.root = str(ROOT)
    config.CourseDirectory.release_directory = "exercises"
    step = RestoreFromRelease(config=config)
    resources = {"nbgrader": {"assignment": "softmax", "notebook": "softmax", "student": "s"}}
    nb, _ = step.preprocess(tampered("softmax", "duplicate-test-edited"), resources)
    assert len(nb.cells) == len(released("softmax").cells)
    assert cell_changes(nb, released("softmax")) == []
    missing = {"nbgrader": {"assignment": "nope", "notebook": "nope"}}
    untouched = tampered("softmax", "duplicate-test")
    assert step.preprocess(untouched, missing)[0] is untouched


# What nbgrader alone does with each change, and what the grading engine (which restores every
# submission from the release first) gives each tampered variant (grade_class).

# Variants nbgrader 0.9's sanitize pass cannot grade (add_missing_cells=True), and why.
NBGRADER_FAILS = {
    "duplicate-test": "KeyError: 'grade_id'",
    "duplicate-test-edited": "KeyError: 'grade_id'",
    "grade-id-renamed": "KeyError: 'grade_id'",
    "added-graded-cell": "KeyError: 'grade_id'",
    "grade-false": "RuntimeError: Inconsistent checksums for cell softmax_overflow",
    "solution-true": "RuntimeError: Inconsistent checksums for cell softmax_overflow",
    "all-metadata-removed": "KeyError: 'softmax_answer'",
}


ARGMAX_NBGRADER_FAILS = {
    "written-answer-deleted": "KeyError: 'argmax_training_task'",
    "task-and-answer-deleted": "KeyError: 'argmax_training_task'",
    "written-answer-metadata-removed": "KeyError: 'argmax_training_task'",
    "written-answer-duplicated": "KeyError: 'grade_id'",
}


def sanitize_errors(
    assignment: str, submissions: dict[str, NotebookNode], course: Path, *, restore: bool
) -> dict[str, str]:
    """Run the grading engine's sanitize pass in a graded course; return errors by student.

    Without `restore`, the engine's RestoreFromRelease step is taken out: nbgrader alone.
    """
    config = load_config(course)
    facts = read_assignment(config, assignment)
    autograder = Autograder(config, course / "staging", grading_logger(None), facts)
    if not restore:
        sanitizer = autograder._sanitizer
        sanitizer.sanitize_preprocessors = [
            step
            for step in sanitizer.sanitize_preprocessors
            if not isinstance(step, RestoreFromRelease)
        ]
    errors = {}
    for student, nb in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
        try:
            autograder.sanitize(student)
            errors[student] = ""
        except SubmissionError as exc:
            errors[student] = str(exc)
    return errors


def notes(course: Path) -> dict[str, str]:
    """Return the note the engine recorded for each student graded in `course`."""
    ledger = json.loads((course / "autograded" / LEDGER_NAME).read_text())
    return {student: entry["note"] for entry in ledger.values() for student, entry in entry.items()}


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Score and report note of every tampered variant (softmax right and wrong; argmax)."""
    wrong = honest("softmax")
    answer_cells(wrong)["softmax"].source = WRONG
    submissions = {}
    for kind, base in (("correct", honest("softmax")), ("wrong", wrong)):
        submissions[f"{kind}-untampered"] = base
        for name in SOFTMAX:
            submissions[f"{kind}-{name}"] = tampered("softmax", name, base)
    course = tmp_path_factory.mktemp("softmax")
    grades = grade_class("softmax", submissions, course)
    assert len(grades["correct-untampered"]) == len(SOFTMAX_TESTS)
    results: dict[str, Any] = {
        student: sum(g.score for g in cells.values()) for student, cells in grades.items()
    }
    results["notes"] = notes(course)
    raw = {f"nbgrader-{name}": tampered("softmax", name) for name in NBGRADER_FAILS}
    results |= sanitize_errors("softmax", raw, course, restore=False)
    raw = {f"restore-step-{name}": tampered("softmax", name) for name in NBGRADER_FAILS}
    results |= sanitize_errors("softmax", raw, course, restore=True)

    argmax = {"argmax-untampered": honest("argmax")}
    argmax |= {f"argmax-{name}": tampered("argmax", name) for name in ARGMAX}
    course = tmp_path_factory.mktemp("argmax")
    grades = grade_class("argmax", argmax, course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, cells in grades.items():
            nb = gradebook.find_submission_notebook("argmax", "argmax", student)
            results[student] = (sum(g.score for g in cells.values()), nb.needs_manual_grade)
    results["notes"] |= notes(course)
    raw = {f"nbgrader-argmax-{name}": tampered("argmax", name) for name in ARGMAX_NBGRADER_FAILS}
    results |= sanitize_errors("argmax", raw, course, restore=False)
    return results


def test_nbgrader_alone_cannot_grade_some_changes(scores: dict[str, Any]) -> None:
    for name, reason in NBGRADER_FAILS.items():
        assert reason in scores[f"nbgrader-{name}"], name
    for name, reason in ARGMAX_NBGRADER_FAILS.items():
        assert reason in scores[f"nbgrader-argmax-{name}"], name


def test_restore_step_in_nbgrader_sanitize_accepts_every_variant(scores: dict[str, Any]) -> None:
    steps = {name: scores[f"restore-step-{name}"] for name in NBGRADER_FAILS}
    assert steps == dict.fromkeys(NBGRADER_FAILS, "")


def test_tampered_submissions_score_as_untampered(scores: dict[str, Any]) -> None:
    correct, wrong = scores["correct-untampered"], scores["wrong-untampered"]
    assert (correct, wrong) == (10, 7)  # the wrong softmax (no max subtracted) fails only the
    # stability cells (softmax_overflow, softmax_no_warnings), not the batch test
    for kind in ("correct", "wrong"):
        untampered = scores[f"{kind}-untampered"]
        for name in SOFTMAX:
            expected = 0 if name == "answer-deleted" else untampered
            assert scores[f"{kind}-{name}"] == expected, f"{kind}-{name}"


def test_tampered_argmax_submissions_are_graded(scores: dict[str, Any]) -> None:
    untampered = scores["argmax-untampered"]
    assert untampered == (8.0, True)  # 8 autograded points; the written answer, by hand
    for name in ARGMAX:
        assert scores[f"argmax-{name}"] == untampered, name


@pytest.mark.parametrize(
    ("assignment", "name"),
    [("softmax", name) for name in SOFTMAX] + [("argmax", name) for name in ARGMAX],
)
def test_the_report_lists_each_change(
    scores: dict[str, Any], assignment: str, name: str
) -> None:
    changes = [
        c.text
        for c in find_changes(tampered(assignment, name), released(assignment))
        if not c.info
    ]
    student = f"argmax-{name}" if assignment == "argmax" else f"correct-{name}"
    note = scores["notes"][student]
    if changes:
        assert note.startswith(f"{assignment}.ipynb: cells changed, graded as released: ")
        assert all(change in note for change in changes)
    else:
        assert "cells changed" not in note
