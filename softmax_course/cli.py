"""The `softmax-course` command line: release and check (students), grade (instructors)."""

from __future__ import annotations

from pathlib import Path

import click

from softmax_course.course import ASSIGNMENTS, CourseError, find_course_root

SYMBOLS = {"passed": "PASS", "failed": "FAIL", "hidden": "HIDDEN", "manual": "MANUAL"}


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
    """Run NOTEBOOK's visible tests and show each one, pass or fail, with its points."""
    from softmax_course.check import check_notebook

    try:
        reports = check_notebook(notebook, timeout=timeout)
    except CourseError as exc:
        raise click.ClickException(str(exc)) from None
    if not reports:
        raise click.ClickException(f"{notebook}: no graded cells; is this a course notebook?")
    for report in reports:
        points = (
            f"{report.points:g}/{report.max_points:g}"
            if report.status in {"passed", "failed"}
            else f" -/{report.max_points:g}"
        )
        click.echo(
            f"{SYMBOLS[report.status]:>6}  {points:>6}  {report.grade_id}: {report.question}"
        )
        if report.message:
            click.echo(f"{'':16}{report.message}")
    visible = [r for r in reports if r.status in {"passed", "failed"}]
    earned = sum(r.points for r in visible)
    click.echo(
        f"\nVisible tests: {earned:g} of {sum(r.max_points for r in visible):g} points. "
        f"Hidden tests ({sum(r.max_points for r in reports if r.status == 'hidden'):g} points) "
        f"and written answers ({sum(r.max_points for r in reports if r.status == 'manual'):g} "
        "points) are graded after you submit."
    )
    if any(r.status == "failed" for r in visible):
        raise SystemExit(1)
