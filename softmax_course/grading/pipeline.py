"""From a class's submissions to grades, feedback and a report: what `softmax-course grade` does.

Collect the submissions (intake), autograde the new and changed ones in parallel (grade), write
each student's feedback as soon as they are graded (on the workers too, between notebooks),
then export nbgrader's grades.csv and write report.html. The command line only parses options
and prints.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning

from softmax_course.course import CourseError, load_config
from softmax_course.grading.assignment import read_assignment
from softmax_course.grading.feedback import write_feedback, write_ungraded_feedback
from softmax_course.grading.intake import Rejected, collect
from softmax_course.grading.lms import write_canvas_import, write_moodle_import
from softmax_course.grading.report import (
    ClassResults,
    class_results,
    export_grades,
    import_rows,
    write_report,
)
from softmax_course.grading.schedule import (
    GradingRun,
    ensure_in_gradebook,
    grade,
    grading_logger,
)


@dataclass
class ClassGrading:
    """What a grading run wrote."""

    run: GradingRun
    results: ClassResults
    out: Path
    log_file: Path
    feedback: list[Path] = field(default_factory=list)
    import_file: Path | None = None  # canvas-import.csv or moodle-import.csv, with `platform`


def ungraded_feedback(
    out: Path, assignment: str, run: GradingRun, rejected: list[Rejected], written: list[Path]
) -> list[Path]:
    """Write a page for each student who has no feedback, saying why nothing was graded."""
    has_page = {path.parent.parent.name for path in written}
    reasons: dict[str, list[str]] = {}
    for outcome in run.outcomes:
        if outcome.status == "failed":
            reasons.setdefault(outcome.student, []).append(outcome.reason)
    for item in rejected:
        if item.student:
            reasons.setdefault(item.student, []).append(f"{item.name}: {item.reason}")
    return [
        write_ungraded_feedback(out, assignment, student, why)
        for student, why in sorted(reasons.items())
        if student not in has_page and re.fullmatch(r"\w[\w.-]*", student)
    ]


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
    platform: str | None = None,
) -> ClassGrading:
    """Grade `submissions` of `assignment` in the course at `root`; write everything into `out`.

    `overrides` are merged into nbgrader_config.py (e.g. {"CourseDirectory": {"db_url": ...}}).
    With `platform` ("canvas" or "moodle"), `submissions` is that platform's download and the
    grades also go to its import file. Raises CourseError, in one line, for what stops the run.
    """
    # nbgrader 0.9 trips SQLAlchemy 2 autoflush warnings inside its own gradebook code.
    warnings.filterwarnings("ignore", category=SAWarning)
    if not submissions.exists():
        raise CourseError(f"{submissions}: no such file or folder")
    config = load_config(root, **(overrides or {}))
    coursedir = CourseDirectory(config=config)
    facts = read_assignment(config, assignment)  # read once; every step below gets it
    due = None
    if platform:  # a late mark without a time is recorded just after the due date, if any
        ensure_in_gradebook(root, config, assignment)
        with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
            due = gradebook.find_assignment(assignment).duedate
    intake = collect(
        submissions.resolve(),
        coursedir=coursedir,
        assignment=assignment,
        notebooks=facts.notebooks,
        config=config,
        platform=platform,
        due=due,
    )
    if not intake.submissions and not intake.rejected:
        raise CourseError(f"{submissions}: no submissions of '{assignment}' found")
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log_file = out / "grading.log"
    log = grading_logger(log_file)
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
        on_graded=partial(write_feedback, config, facts, out=out, log=log),
    )
    # Also those graded before: a manual grade given since then shows in their feedback.
    before = [o.student for o in run.outcomes if o.status != "graded"]
    written = run.written + write_feedback(config, facts, before, out, log=log)
    written += ungraded_feedback(out, assignment, run, intake.rejected, written)
    export_grades(config, assignment, out / "grades.csv")
    results = class_results(config, run, intake)
    by_student: dict[str, list[Path]] = {}
    for path in written:
        by_student.setdefault(path.parent.parent.name, []).append(path)
    write_report(results, out / "report.html", feedback=by_student)
    import_file = None
    if platform == "canvas":
        import_file = write_canvas_import(
            out / "canvas-import.csv",
            import_rows(results, intake.names),
            column=assignment,
            max_score=results.max_score,
        )
    elif platform == "moodle":
        import_file = write_moodle_import(
            out / "moodle-import.csv",
            import_rows(results, intake.names),
            max_score=results.max_score,
            when=datetime.now(UTC),
        )
    return ClassGrading(run, results, out, log_file, written, import_file)
