"""From a class's submissions to grades, feedback and a report: what `softmax-course grade` does.

Collect the submissions (intake), autograde the new and changed ones in parallel (grade), write
each student's feedback as soon as they are graded, then export nbgrader's grades.csv and write
report.html. The command line only parses options and prints.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning

from softmax_course.course import CourseError, load_config
from softmax_course.grading.assignment import read_assignment
from softmax_course.grading.feedback import write_feedback
from softmax_course.grading.intake import collect
from softmax_course.grading.report import ClassResults, class_results, export_grades, write_report
from softmax_course.grading.schedule import GradingRun, grade, grading_logger


@dataclass
class ClassGrading:
    """What a grading run wrote."""

    run: GradingRun
    results: ClassResults
    out: Path
    log_file: Path
    feedback: list[Path] = field(default_factory=list)


def grade_class(
    root: Path,
    submissions: Path,
    assignment: str,
    out: Path,
    *,
    overrides: dict[str, dict[str, object]] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> ClassGrading:
    """Grade `submissions` of `assignment` in the course at `root`; write everything into `out`.

    `overrides` are merged into nbgrader_config.py (e.g. {"CourseDirectory": {"db_url": ...}}).
    Raises CourseError, in one line, for what stops the whole run.
    """
    # nbgrader 0.9 trips SQLAlchemy 2 autoflush warnings inside its own gradebook code.
    warnings.filterwarnings("ignore", category=SAWarning)
    if not submissions.exists():
        raise CourseError(f"{submissions}: no such file or folder")
    config = load_config(root, **(overrides or {}))
    coursedir = CourseDirectory(config=config)
    facts = read_assignment(config, assignment)  # read once; every step below gets it
    intake = collect(
        submissions.resolve(),
        coursedir=coursedir,
        assignment=assignment,
        notebooks=facts.notebooks,
        config=config,
    )
    if not intake.submissions and not intake.rejected:
        raise CourseError(f"{submissions}: no submissions of '{assignment}' found")
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log_file = out / "grading.log"
    log = grading_logger(log_file)
    written: list[Path] = []

    def write_feedback_of(students: list[str]) -> None:
        written.extend(write_feedback(config, facts, students, out, log=log))

    run = grade(
        root,
        facts,
        intake.submissions,
        config=config,
        rejected=intake.rejected,
        workers=workers,
        scheduler=scheduler,
        force=force,
        progress=progress,
        log=log,
        on_graded=write_feedback_of,
    )
    # Also those graded before: a manual grade given since then shows in their feedback.
    write_feedback_of([o.student for o in run.outcomes if o.status != "graded"])
    export_grades(config, assignment, out / "grades.csv")
    results = class_results(config, run)
    by_student: dict[str, list[Path]] = {}
    for path in written:
        by_student.setdefault(path.parent.parent.name, []).append(path)
    write_report(results, out / "report.html", feedback=by_student)
    return ClassGrading(run, results, out, log_file, written)
