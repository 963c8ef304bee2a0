"""What the instructor reads after grading: grades.csv, report.html and a summary table.

grades.csv is nbgrader's own CSV export. report.html is one self-contained page: the score
distribution, the pass rate of each test cell, the most frequent failure messages, the
submissions that could not be graded with the reason, and a table of every student, with the
figures embedded as PNG images.
"""

from __future__ import annotations

import base64
import html
import io
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend is chosen before pyplot loads)
from nbgrader.api import Gradebook, MissingEntry, SubmittedAssignment  # noqa: E402
from nbgrader.coursedir import CourseDirectory  # noqa: E402
from nbgrader.plugins import CsvExportPlugin  # noqa: E402
from traitlets.config import Config  # noqa: E402

from softmax_course.grading.intake import Intake, Rejected  # noqa: E402
from softmax_course.grading.lms import ImportRow  # noqa: E402
from softmax_course.grading.schedule import GradingRun  # noqa: E402

BAR_COLOUR = "#4878a8"
FAIL_COLOUR = "#c0504d"


@dataclass(frozen=True)
class CellResult:
    """One autograded test cell of one student's submission."""

    notebook: str
    grade_id: str
    score: float  # the autograder's score
    max_score: float
    message: str = ""  # what the failing test said, in one line

    @property
    def passed(self) -> bool:
        """Return True when the autograder gave full points."""
        return self.score >= self.max_score


@dataclass(frozen=True)
class StudentResult:
    """One student's submission: final score, autograded cells, and whether grading failed."""

    student: str
    score: float | None  # after any manual grades and late penalty; None if never graded
    max_score: float
    cells: list[CellResult] = field(default_factory=list)
    problem: str = ""  # why the latest submission could not be graded
    needs_manual_grade: bool = False  # a written answer (or other manual cell) is not marked yet
    note: str = ""  # graded, but: the kernel died, tampering suspected, ...
    name: str = ""  # as the learning platform's download gives it
    late: bool = False  # the learning platform marked the submission late

    @property
    def label(self) -> str:
        """Return the student as the terminal and the report name them: 'name (id)' or 'id'."""
        return f"{self.name} ({self.student})" if self.name else self.student


@dataclass
class ClassResults:
    """Everything the report shows about one assignment."""

    assignment: str
    max_score: float
    students: list[StudentResult]
    run: GradingRun
    set_aside: list[Rejected] = field(default_factory=list)  # beside a graded notebook

    @property
    def scored(self) -> list[StudentResult]:
        """Return the students who have a score."""
        return [s for s in self.students if s.score is not None]

    @property
    def problems(self) -> list[tuple[str, str]]:
        """Return (submission, reason) for every submission or file that could not be graded."""
        rows = [(s.label, s.problem) for s in self.students if s.problem]
        return rows + [(r.name, r.reason) for r in self.run.rejected]

    @property
    def notes(self) -> list[tuple[str, str]]:
        """Return (student, note) for every graded submission with something to look at."""
        return [(s.label, s.note) for s in self.students if s.note and not s.problem]

    @property
    def everyone_graded(self) -> bool:
        """Return True when no submission failed and no file was set aside unplaced."""
        return not self.problems

    def protection(self) -> str:
        """Return how this run's kernels were sandboxed, e.g. 'bubblewrap sandbox (12 kernels)'."""
        counts = self.run.protection
        if not counts:
            return "no kernel started in this run"
        return ", ".join(f"{name} ({n} kernels)" for name, n in counts.most_common())

    def pass_rates(self) -> list[tuple[str, int, int]]:
        """Return (test cell, passed, graded) for each autograded test cell, in notebook order."""
        counts: dict[str, list[int]] = {}
        for student in self.students:
            for cell in student.cells:
                tally = counts.setdefault(cell.grade_id, [0, 0])
                tally[0] += cell.passed
                tally[1] += 1
        return [(name, passed, total) for name, (passed, total) in counts.items()]

    def failure_messages(self, limit: int = 10) -> list[tuple[str, str, int]]:
        """Return the most frequent (test cell, message, count) among failed test cells."""
        counter = Counter(
            (cell.grade_id, cell.message or "(no message)")
            for student in self.students
            for cell in student.cells
            if not cell.passed
        )
        return [(cell, message, n) for (cell, message), n in counter.most_common(limit)]


def export_grades(config: Config, assignment: str, path: Path) -> Path:
    """Write nbgrader's CSV export of `assignment` to `path`."""
    coursedir = CourseDirectory(config=config)
    path.parent.mkdir(parents=True, exist_ok=True)
    exporter = CsvExportPlugin(config=config, to=str(path), assignment=[assignment])
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        exporter.export(gradebook)
    return path


def unmarked(submission: SubmittedAssignment) -> bool:
    """Return True when a cell of `submission` waits for a manual grade that it does not have.

    nbgrader's `needs_manual_grade`, except for cells already graded by hand: its SaveAutoGrades
    sets the flag again on every cell that has a manual score whenever the submission is
    autograded, so after a re-grade it would ask again for every written answer already marked.
    """
    return any(
        grade.needs_manual_grade and grade.manual_score is None
        for notebook in submission.notebooks
        for grade in notebook.grades
    )


def class_results(config: Config, run: GradingRun, intake: Intake | None = None) -> ClassResults:
    """Gather scores from the gradebook, and what the run knows of each student (its outcome,
    or the one recorded by an earlier run: note, failure reason, test messages).

    With the `intake` of an LMS download, students carry their names, the platform's late
    marker and what was noticed about their files.
    """
    names = intake.names if intake else {}
    late = {s.student for s in intake.submissions if s.late} if intake else set()
    intake_notes = intake.notes if intake else {}
    coursedir = CourseDirectory(config=config)
    assignment = run.assignment
    latest = {**run.recorded, **{o.student: o for o in run.outcomes}}
    problems = {s: o.reason for s, o in latest.items() if o.status == "failed"}
    students = []
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        max_score = gradebook.find_assignment(assignment).max_score
        for student in sorted({s.id for s in gradebook.students} | set(problems)):
            outcome = latest.get(student)
            problem = problems.get(student, "")
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                if problem:
                    students.append(
                        StudentResult(
                            student, None, max_score, problem=problem, name=names.get(student, "")
                        )
                    )
                continue
            # A failed re-submission keeps the previous grade: and its messages.
            earlier = run.recorded.get(student)
            messages = (outcome.messages if outcome else {}) or (
                earlier.messages if earlier else {}
            )
            cells = [
                CellResult(
                    notebook.name,
                    grade.name,
                    grade.auto_score,
                    grade.max_score,
                    messages[notebook.name][grade.name],
                )
                for notebook in submission.notebooks
                for grade in notebook.grades
                if grade.auto_score is not None and grade.name in messages.get(notebook.name, {})
            ]
            graded = bool(cells) or any(
                g.auto_score is not None or g.manual_score is not None
                for nb in submission.notebooks
                for g in nb.grades
            )
            penalty = submission.late_submission_penalty or 0.0
            note = outcome.note if outcome is not None and not problem else ""
            extra = [intake_notes.get(student, ""), late_note(submission, student in late)]
            students.append(
                StudentResult(
                    student,
                    max(0.0, submission.score - penalty) if graded else None,
                    max_score,
                    cells,
                    problem,
                    unmarked(submission),
                    "; ".join(text for text in [note, *extra] if text),
                    names.get(student, ""),
                    student in late or (submission.total_seconds_late or 0) > 0,
                )
            )
    set_aside = intake.set_aside if intake else []
    return ClassResults(assignment, max_score, students, run, list(set_aside))


def late_note(submission: SubmittedAssignment, marked_late: bool) -> str:
    """Return what the report says about a late submission ('' if it is not late).

    Late is the platform's mark (Canvas's LATE), or nbgrader's own count of seconds past the
    due date from the submission's timestamp; the penalty is nbgrader's (LateSubmissionPlugin).
    """
    seconds = submission.total_seconds_late or 0.0
    if not marked_late and seconds <= 0:
        return ""
    if submission.timestamp is None or submission.duedate is None:
        return "late (the platform's mark); no due date in the gradebook, so no late penalty"
    source = "the platform's mark" if marked_late else "its timestamp"
    return (
        f"late ({source}): handed in at {submission.timestamp:%Y-%m-%d %H:%M:%S}, "
        f"{seconds:g} s after the due date; late penalty "
        f"{submission.late_submission_penalty or 0:g}"
    )

def import_rows(results: ClassResults, names: dict[str, str]) -> list[ImportRow]:
    """Return one import row per student of an LMS download (`names`: id to name).

    A student gets a grade only when graded and every written answer is marked; otherwise the
    grade is left blank and the status says why, so that nobody is imported as a silent 0.
    """
    by_id = {s.student: s for s in results.students}
    problems = {r.student: r.reason for r in results.run.rejected if r.student}
    rows = []
    for student, name in sorted(names.items(), key=lambda item: (item[1].lower(), item[0])):
        result = by_id.get(student)
        if result is None or result.problem or result.score is None:
            reason = result.problem if result and result.problem else problems.get(student, "")
            rows.append(ImportRow(student, name, None, f"not graded: {reason or 'no notebook'}"))
        elif result.needs_manual_grade:
            status = (
                f"answers not marked by hand yet (autograded part {result.score:g} of "
                f"{result.max_score:g}): mark them in Formgrader and grade again"
            )
            rows.append(ImportRow(student, name, None, status))
        else:
            rows.append(ImportRow(student, name, result.score, "late" if result.late else "graded"))
    return rows


def _figure_html(fig: plt.Figure, alt: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, facecolor="white", bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def score_figure(results: ClassResults) -> str:
    """Return an <img> of the histogram of scores."""
    scores = [s.score for s in results.scored]
    fig, ax = plt.subplots(figsize=(6.4, 3.2), facecolor="white")
    top = results.max_score or 1
    bins = [x - 0.5 for x in range(int(top) + 2)] if float(top).is_integer() and top <= 40 else 20
    ax.hist(scores, bins=bins, color=BAR_COLOUR, edgecolor="white")
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("students")
    ax.set_title(f"Scores of {len(scores)} students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    mean = statistics.fmean(scores) if scores else 0.0
    alt = (
        f"Histogram of the scores of {len(scores)} students out of {top:g}: "
        f"mean {mean:.1f}, median {statistics.median(scores) if scores else 0:g}, "
        f"lowest {min(scores, default=0):g}, highest {max(scores, default=0):g}."
    )
    return _figure_html(fig, alt)


def pass_rate_figure(results: ClassResults) -> str:
    """Return an <img> of the share of submissions that pass each test cell."""
    rates = results.pass_rates()
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(rates) + 1.2), facecolor="white")
    names = [name for name, _, _ in rates][::-1]
    shares = [100 * passed / total for _, passed, total in rates][::-1]
    ax.barh(names, shares, color=BAR_COLOUR)
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions passing (%)")
    ax.set_title("Pass rate per test cell")
    alt = (
        "Pass rate per test cell: "
        + "; ".join(f"{name} {passed} of {total}" for name, passed, total in rates)
        + "."
    )
    return _figure_html(fig, alt)


def failures_figure(results: ClassResults) -> str:
    """Return an <img> of how often the most frequent failure messages occur."""
    failures = results.failure_messages(limit=8)
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(failures) + 1.2), facecolor="white")
    labels = [
        _short(f"{cell}: {message.removeprefix('AssertionError: ')}", 60)
        for cell, message, _ in failures
    ][::-1]
    ax.barh(labels, [n for _, _, n in failures][::-1], color=FAIL_COLOUR)
    ax.set_xlabel("failed test cells")
    ax.set_title("Most frequent failure messages")
    ax.xaxis.get_major_locator().set_params(integer=True)
    alt = (
        "Most frequent failure messages: "
        + "; ".join(f"{n} times in {cell}: {message}" for cell, message, n in failures)
        + "."
    )
    return _figure_html(fig, alt)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; background: white; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left;
         vertical-align: top; }
td.num { text-align: right; }
img { max-width: 100%; }
.problem { color: #a33; }
"""


def render_report(results: ClassResults, *, feedback: dict[str, list[Path]], out: Path) -> str:
    """Return the report page as HTML."""
    run, esc = results.run, html.escape
    scores = [s.score for s in results.scored]
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>Grading report: {esc(run.assignment)}'
        f"</title><style>{STYLE}</style></head><body>",
        f"<h1>Grading report: {esc(run.assignment)}</h1>",
        f"<p>{len(run.outcomes)} submissions in this run: {run.count('graded')} graded now, "
        f"{run.count('unchanged')} unchanged since the last run, {run.count('failed')} could not "
        f"be graded; {len(run.rejected)} more students or files not graded. {run.workers} workers, "
        f"{run.seconds:.1f} s.</p>",
        f"<p>protection: {esc(results.protection())}</p>",
    ]
    if scores:
        parts += [
            "<h2>Scores</h2>",
            f"<p>{len(scores)} students with a score out of {results.max_score:g}: mean "
            f"{statistics.fmean(scores):.2f}, median {statistics.median(scores):g}.</p>",
            score_figure(results),
        ]
    if results.pass_rates():
        parts += [
            "<h2>Pass rate per test cell</h2>",
            pass_rate_figure(results),
            _table(
                ["test cell", "passed", "graded", "pass rate"],
                [
                    (esc(name), passed, total, f"{100 * passed / total:.0f}%")
                    for name, passed, total in results.pass_rates()
                ],
            ),
        ]
    parts.append("<h2>Most frequent failure messages</h2>")
    failures = results.failure_messages()
    if failures:
        parts += [
            failures_figure(results),
            _table(
                ["test cell", "message", "submissions"],
                [(esc(cell), esc(message), n) for cell, message, n in failures],
            ),
        ]
    else:
        parts.append("<p>No test failed.</p>")
    parts.append("<h2>Submissions that could not be graded</h2>")
    if results.problems:
        parts.append(
            _table(
                ["submission", "reason"],
                [
                    (esc(name), f'<span class="problem">{esc(reason)}</span>')
                    for name, reason in results.problems
                ],
            )
        )
    else:
        parts.append("<p>None: every submission was graded.</p>")
    if results.set_aside:
        parts += [
            "<h2>Files not graded beside a graded notebook</h2>",
            _table(
                ["file", "student", "reason"],
                [(esc(r.name), esc(r.student), esc(r.reason)) for r in results.set_aside],
            ),
        ]
    if results.notes:
        parts += [
            "<h2>Graded submissions to look at</h2>",
            _table(
                ["submission", "note"],
                [
                    (esc(name), f'<span class="problem">{esc(note)}</span>')
                    for name, note in results.notes
                ],
            ),
        ]
    rows = []
    for student in results.students:
        links = " ".join(
            f'<a href="{esc(str(path.relative_to(out)))}">{esc(path.stem)}</a>'
            for path in feedback.get(student.student, [])
        )
        failed = ", ".join(esc(c.grade_id) for c in student.cells if not c.passed)
        score = "–" if student.score is None else f"{student.score:g}"
        note = "; ".join(
            text
            for text in (
                student.note,
                "needs manual grading" if student.needs_manual_grade else "",
            )
            if text
        )
        rows.append(
            (
                esc(student.label),
                f"{score} / {student.max_score:g}",
                failed,
                f'<span class="problem">{esc(student.problem)}</span>' if student.problem else note,
                links,
            )
        )
    parts += [
        "<h2>Students</h2>",
        _table(["student", "score", "failed test cells", "note", "feedback"], rows),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(results: ClassResults, path: Path, *, feedback: dict[str, list[Path]]) -> Path:
    """Write report.html to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(results, feedback=feedback, out=path.parent))
    return path


def summary_table(results: ClassResults) -> str:
    """Return the end-of-run summary for the terminal."""
    run = results.run
    lines = [
        f"{run.assignment}: {len(run.outcomes)} submissions: {run.count('graded')} graded, "
        f"{run.count('unchanged')} unchanged, {run.count('failed')} could not be graded "
        f"({run.workers} workers, {run.seconds:.1f} s)"
        + (f"; {len(run.rejected)} more students or files not graded" if run.rejected else ""),
        f"protection: {results.protection()}",
    ]
    scores = [s.score for s in results.scored]
    if scores:
        lines.append(
            f"scores out of {results.max_score:g}: mean {statistics.fmean(scores):.2f}, "
            f"median {statistics.median(scores):g}, lowest {min(scores):g}, "
            f"highest {max(scores):g}"
        )
    timed = sorted((o for o in run.outcomes if o.seconds), key=lambda o: -o.seconds)[:3]
    if timed:
        lines.append("slowest: " + ", ".join(f"{o.student} ({o.seconds:.1f} s)" for o in timed))
    rates = results.pass_rates()
    if rates:
        width = max(len(name) for name, _, _ in rates)
        lines.append("")
        lines.append(f"{'test cell':<{width}}  passed")
        lines += [
            f"{name:<{width}}  {passed:>4}/{total:<4} {100 * passed / total:3.0f}%"
            for name, passed, total in rates
        ]
    if results.problems:
        width = max(len(name) for name, _ in results.problems)
        lines.append("")
        lines.append("could not be graded:")
        lines += [f"  {name:<{width}}  {reason}" for name, reason in results.problems]
    if results.set_aside:
        width = max(len(r.name) for r in results.set_aside)
        lines.append("")
        lines.append("not graded, beside a graded notebook:")
        lines += [f"  {r.name:<{width}}  {r.reason}" for r in results.set_aside]
    if results.notes:
        width = max(len(name) for name, _ in results.notes)
        lines.append("")
        lines.append("graded, to look at:")
        lines += [f"  {name:<{width}}  {note}" for name, note in results.notes]
    unmarked = [s.label for s in results.students if s.needs_manual_grade and not s.problem]
    if unmarked:
        lines.append("")
        lines.append(f"answers to mark by hand ({len(unmarked)}): {', '.join(unmarked)}")
    return "\n".join(lines)
