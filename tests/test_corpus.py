"""Fairness of the autograder: every correct implementation gets full marks, every wrong one
loses points with a message naming its mistake, the solutions score full and the stubs score 0."""

from __future__ import annotations

import nbformat
import pytest

from softmax_course.course import ASSIGNMENTS
from tests.harness import (
    CORPUS,
    ROOT,
    CellGrade,
    answer_cells,
    grade_class,
    load_implementation,
    reference_submission,
)

GRADED = [name for name in ASSIGNMENTS if (ROOT / "solutions" / name).is_dir()]
# The corpora are the evidence of fairness: below 40 implementations they would prove little.
# (Each file's header is checked as it is loaded, by load_implementation.)
assert len(GRADED) < len(ASSIGNMENTS) or sum(
    len(list((CORPUS / name).glob("*.py"))) for name in GRADED
) >= 40, "the fairness corpus has fewer than 40 implementations"


def corpus(assignment: str) -> list:
    """Return the assignment's corpus implementations, checked for well-formed headers."""
    functions = set(answer_cells(reference_submission(assignment)))
    return [load_implementation(p, functions) for p in sorted((CORPUS / assignment).glob("*.py"))]


@pytest.fixture(scope="module", params=GRADED)
def graded(request, tmp_path_factory) -> tuple[str, list, dict[str, dict[str, CellGrade]]]:
    """Grade the reference solution, the bare stubs and every corpus file of one assignment."""
    assignment = request.param
    implementations = corpus(assignment)
    submissions = {
        "reference": reference_submission(assignment),
        "stubs": nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", 4),
    }
    for impl in implementations:
        nb = reference_submission(assignment)
        answer_cells(nb)[impl.function].source = impl.path.read_text()
        submissions[impl.student] = nb
    grades = grade_class(assignment, submissions, tmp_path_factory.mktemp(assignment))
    report = [f"\n{assignment}: {len(implementations)} implementations"]
    for impl in implementations:
        cells = grades[impl.student]
        score, most = sum(c.score for c in cells.values()), sum(c.max_score for c in cells.values())
        report.append(f"  {impl.verdict:7} {score:4g}/{most:g}  {impl.path.name}")
    verdicts = [impl.verdict for impl in implementations]
    tried = f"  tried {verdicts.count('correct')} correct, {verdicts.count('wrong')} wrong"
    for function in sorted({impl.function for impl in implementations}):
        mine = [impl.verdict for impl in implementations if impl.function == function]
        tried += f"\n    {function}: {mine.count('correct')} correct, {mine.count('wrong')} wrong"
    report.insert(1, tried)
    # Shown in every run (pytest captures print): CI's log tells how each implementation scored.
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        print("\n".join(report))
    return assignment, implementations, grades


def total(cells: dict[str, CellGrade]) -> tuple[float, float]:
    """Return (points earned, points possible) over the autograded cells."""
    return sum(c.score for c in cells.values()), sum(c.max_score for c in cells.values())


def test_reference_solution_scores_full_marks(graded) -> None:
    _, _, grades = graded
    score, most = total(grades["reference"])
    assert most > 0 and score == most, grades["reference"]


def test_released_stubs_score_zero(graded) -> None:
    _, _, grades = graded
    assert total(grades["stubs"])[0] == 0, grades["stubs"]


def test_corpus_is_large_and_balanced(graded) -> None:
    _, implementations, _ = graded
    verdicts = [impl.verdict for impl in implementations]
    assert verdicts.count("correct") >= 2 and verdicts.count("wrong") >= 4, verdicts


def test_correct_implementations_score_full_marks(graded) -> None:
    _, implementations, grades = graded
    losers = {
        impl.path.name: {k: c for k, c in grades[impl.student].items() if c.score < c.max_score}
        for impl in implementations
        if impl.verdict == "correct"
        and total(grades[impl.student])[0] < total(grades[impl.student])[1]
    }
    assert not losers, losers


def test_wrong_implementations_lose_points_and_are_told_why(graded) -> None:
    _, implementations, grades = graded
    problems = []
    for impl in implementations:
        if impl.verdict != "wrong":
            continue
        cells = grades[impl.student]
        failed = [c for c in cells.values() if c.score < c.max_score]
        if not failed:
            problems.append(f"{impl.path.name}: full marks")
        elif not any(impl.message.lower() in c.message.lower() for c in failed):
            problems.append(
                f"{impl.path.name}: no message with '{impl.message}': {[c.message for c in failed]}"
            )
    assert not problems, "\n".join(problems)


