"""The `softmax-course` command line: release and check (students), grade (instructors)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from softmax_course.course import ASSIGNMENTS, CourseError, find_course_root

if TYPE_CHECKING:
    from softmax_course.check import CellReport as CheckReport

SYMBOLS = {
    "passed": "PASS",
    "failed": "FAIL",
    "hidden": "HIDDEN",
    "manual": "MANUAL",
    "edited": "EDITED",
    "missing": "MISSING",
}
NOT_EVERYONE_GRADED = 3
"""`softmax-course grade`'s exit status when a student or a file of the input was not graded."""


@contextmanager
def imports_kept_for_the_run() -> Iterator[None]:
    """Import without the garbage collector, then keep what was imported out of its scans.

    Importing nbgrader, nbconvert, Dask and Matplotlib creates some 350,000 objects that live
    as long as the command; collections that scan them while they load cost about 0.2 s of a
    grading run's start. gc.freeze moves them to the permanent generation. (Grading's Dask
    cluster unfreezes everything when it stops; `grade` freezes again once grading has ended.)
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


@click.group()
@click.version_option(package_name="softmax-course")
def main() -> None:
    """Softmax, Step by Step: tools for students and instructors."""


@main.command()
@click.argument("assignments", nargs=-1)
def release(assignments: tuple[str, ...]) -> None:
    """Regenerate exercises/ (student notebooks) from solutions/ with nbgrader."""
    from softmax_course.release import release as run_release

    try:
        root = find_course_root()
        written = run_release(root, assignments=assignments or ASSIGNMENTS)
    except CourseError as exc:
        raise click.ClickException(str(exc)) from None
    for path in written:
        click.echo(f"released {path.relative_to(root)}")


@main.command()
@click.argument("notebook", type=click.Path(path_type=Path))
@click.option("--timeout", default=30, show_default=True, help="Seconds allowed per cell.")
def check(notebook: Path, timeout: int) -> None:
    """Run NOTEBOOK's visible tests and show each one, pass or fail, with its points.

    Also warns about released cells that are missing or were edited. Exits with 1 when a
    visible test fails or a released cell is missing or edited.
    """
    from softmax_course.check import check_notebook

    try:
        result = check_notebook(notebook, timeout=timeout)
    except CourseError as exc:
        raise click.ClickException(str(exc)) from None
    if not result.reports:
        raise click.ClickException(f"{notebook}: no graded cells; is this a course notebook?")
    for line in result.errors:
        click.echo(f"{'ERROR':>7}  {line}")
    for report in result.reports:
        points = (
            f"{report.points:g}/{report.max_points:g}"
            if report.status in {"passed", "failed", "missing"}
            else f" -/{report.max_points:g}"
        )
        name = f"{report.grade_id}: {report.question}" if report.question else report.grade_id
        click.echo(f"{SYMBOLS[report.status]:>7}  {points:>6}  {name}")
        if report.message:
            click.echo(f"{'':17}{report.message}")
    click.echo("\n" + summary(result.reports))
    for problem in result.problems:
        click.echo(f"Warning: {problem}.", err=True)
    if result.problems:
        click.echo(
            "Copy the cells back from a fresh copy of the release notebook"
            + (f" ({result.release})" if result.release.endswith(".ipynb") else "")
            + "; your answers are in the cells you wrote.",
            err=True,
        )
    elif not result.release:
        click.echo(
            "Note: this notebook lists no released cells, so a deleted test cell cannot be "
            "noticed here; edited test cells are.",
            err=True,
        )
    if result.problems or any(r.status in {"failed", "missing"} for r in result.reports):
        raise SystemExit(1)


def summary(reports: list[CheckReport]) -> str:
    """Return the closing lines of `softmax-course check`: points earned, and what comes later."""

    def total(*statuses: str, field: str = "max_points") -> float:
        return sum(getattr(r, field) for r in reports if r.status in statuses)

    text = (
        f"Visible tests: {total('passed', 'failed', field='points'):g} of "
        f"{total('passed', 'failed'):g} points. Hidden tests ({total('hidden'):g} points) and "
        f"written answers ({total('manual'):g} points) are graded after you submit."
    )
    if any(r.status in {"edited", "missing"} for r in reports):
        text += (
            f"\nEdited or missing test cells ({total('edited', 'missing'):g} points) are run "
            "as released when you are graded."
        )
    return text


@main.command()
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--assignment", "-a", required=True, help="Assignment to grade (in solutions/).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("grading-output"),
    show_default=True,
    help="Folder for grades.csv, report.html and feedback/.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes  [default: the number of cores].",
)
@click.option("--scheduler", metavar="ADDRESS", help="Use this running Dask cluster instead.")
@click.option("--db", "db_url", metavar="URL", help="Gradebook SQLAlchemy URL  [default: SQLite].")
@click.option("--force", is_flag=True, help="Regrade every submission, changed or not.")
@click.option(
    "--lms",
    "platform",
    type=click.Choice(["canvas", "moodle"]),
    help="SUBMISSIONS is this platform's download; also write its grade import file.",
)
@click.option(
    "--regexp",
    metavar="REGEXP",
    help="How LMS file names give the student and the file (named groups student_id, file_id).",
)
@click.option(
    "--cell-timeout",
    type=click.IntRange(min=1),
    metavar="SECONDS",
    help="Seconds each cell may run  [default: Execute.timeout in nbgrader_config.py].",
)
@click.option(
    "--notebook-timeout",
    type=click.IntRange(min=1),
    metavar="SECONDS",
    help="Seconds a whole notebook may run  [default: LimitedExecute.notebook_timeout].",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def grade(
    submissions: Path,
    assignment: str,
    out: Path,
    workers: int | None,
    scheduler: str | None,
    db_url: str | None,
    force: bool,
    platform: str | None,
    regexp: str | None,
    cell_timeout: int | None,
    notebook_timeout: int | None,
    quiet: bool,
) -> None:
    """Autograde SUBMISSIONS (an LMS zip or folder, or submitted/<student>/<assignment>/).

    New and changed submissions are graded in parallel; grades go to the gradebook and to
    OUT/grades.csv, feedback without hidden test code to OUT/feedback/, a report to
    OUT/report.html; with --lms, also OUT/canvas-import.csv or OUT/moodle-import.csv.
    Exits with status 3 when a student or a file of SUBMISSIONS could not be graded.
    """
    with imports_kept_for_the_run():
        from softmax_course.grading.pipeline import grade_class
        from softmax_course.grading.report import summary_table

    overrides: dict[str, dict[str, object]] = {}
    if db_url:
        overrides["CourseDirectory"] = {"db_url": db_url}
    if regexp and platform:
        raise click.UsageError("--regexp and --lms exclude each other: --lms knows the names")
    if regexp:
        overrides["FileNameCollectorPlugin"] = {"named_regexp": regexp}
    if cell_timeout:
        overrides["Execute"] = {"timeout": cell_timeout}
    if notebook_timeout:
        overrides["LimitedExecute"] = {"notebook_timeout": notebook_timeout}
    try:
        graded = grade_class(
            find_course_root(),
            submissions,
            assignment,
            out,
            overrides=overrides,
            workers=workers,
            scheduler=scheduler,
            force=force,
            progress=not quiet,
            platform=platform,
        )
    except CourseError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("\nInterrupted: grades saved so far are kept; run again to continue.", err=True)
        raise SystemExit(130) from None
    # The command ends here: what is alive now stays until the process exits, and Python's last
    # collection at exit would scan it all (about 0.3 s).
    gc.freeze()
    click.echo(summary_table(graded.results))
    imported = f", {graded.import_file}" if graded.import_file else ""
    click.echo(
        f"\nWrote {graded.out / 'grades.csv'}{imported}, {graded.out / 'report.html'} and "
        f"{len(graded.feedback)} feedback files in {graded.out / 'feedback'}; "
        f"nbgrader's log: {graded.log_file}"
    )
    if not graded.results.everyone_graded:
        click.echo(
            "Not everyone was graded: see 'could not be graded' above "
            f"({len(graded.results.problems)} lines).",
            err=True,
        )
        raise SystemExit(NOT_EVERYONE_GRADED)
