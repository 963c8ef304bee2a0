"""Benchmark: `softmax-course grade` against plain serial `nbgrader autograde`, and the floor.

Builds a class of N synthetic students (default 40) for each assignment that has both an
instructor notebook in solutions/ and a corpus in tests/corpus/ (each student hands in the
reference solution, the released stub or one corpus implementation, in turn), then grades the
class twice, each time from a cold start in a scratch course of its own:

1. plain serial `nbgrader autograde ASSIGNMENT` (the real command line, one run per assignment);
2. `softmax-course grade submitted --assignment ASSIGNMENT` (one run per assignment);

and finally executes the same notebooks, one after the other, with bare nbclient: the floor
for one core, with no grading at all. Prints notebooks per minute for each, and the ratios.

    .venv/bin/python bench/grade.py [--students 40] [--workers N] [--keep]
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from softmax_course.cli import NOT_EVERYONE_GRADED  # noqa: E402
from softmax_course.course import ASSIGNMENTS  # noqa: E402
from tests.harness import (  # noqa: E402
    CORPUS,
    answer_cells,
    load_implementation,
    reference_submission,
    submitted_course,
)

BIN = Path(sys.executable).parent


def benchmarked_assignments() -> list[str]:
    """Return the assignments with an instructor notebook and a corpus folder."""
    return [a for a in ASSIGNMENTS if (ROOT / "solutions" / a).is_dir() and (CORPUS / a).is_dir()]


def class_submissions(assignment: str, students: int) -> dict[str, nbformat.NotebookNode]:
    """Return `students` submissions: reference, stub and corpus implementations in turn."""
    stub = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", 4)
    kinds: list[nbformat.NotebookNode] = [reference_submission(assignment), stub]
    functions = set(answer_cells(reference_submission(assignment)))
    for path in sorted((CORPUS / assignment).glob("*.py")):
        impl = load_implementation(path, functions)
        nb = reference_submission(assignment)
        answer_cells(nb)[impl.function].source = path.read_text()
        kinds.append(nb)
    return {f"student-{i:03d}": kinds[i % len(kinds)] for i in range(students)}


def scratch_course(folder: Path, assignments: list[str], students: int) -> Path:
    """Make a course with the assignments in its gradebook and the class in submitted/."""
    folder.mkdir(parents=True)
    for assignment in assignments:
        submitted_course(assignment, class_submissions(assignment, students), folder)
    return folder


CPU = {"nbgrader": 0.0, "ours": 0.0, "floor": 0.0}
"""CPU seconds the whole machine was busy during each approach's runs (user, system, irq, ...).

Counted for the machine, not for child processes: grading kernels run in sandboxes whose
processes are never reaped by this one, so getrusage would miss most of their CPU. Anything else
running meanwhile is counted too: compare on a quiet machine (the load average is printed)."""


def machine_busy_cpu() -> float:
    """Return the CPU seconds all cores of this machine have been busy since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run(command: list[str], cwd: Path, kind: str) -> subprocess.CompletedProcess:
    """Run `command` in `cwd`, adding its CPU time to CPU[kind]."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    before = machine_busy_cpu()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    CPU[kind] += machine_busy_cpu() - before
    return result


def timed(command: list[str], cwd: Path, kind: str) -> float:
    """Run `command` in `cwd`; return its wall-clock seconds."""
    started = time.perf_counter()
    result = run(command, cwd, kind)
    # nbgrader exits 1, softmax-course grade 3 (NOT_EVERYONE_GRADED), if a student failed.
    if result.returncode not in (0, NOT_EVERYONE_GRADED) and kind != "nbgrader":
        sys.exit(f"{' '.join(command[:3])} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


FLOOR_SCRIPT = """
import sys, nbformat
from nbclient import NotebookClient
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=30, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}}
                   ).execute()
"""


def main() -> None:
    """Build the class, grade it both ways, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch courses")
    args = parser.parse_args()
    assignments = benchmarked_assignments()
    notebooks = args.students * len(assignments)
    # As `pip install` does for a package (nbgrader's came compiled): a machine that sets
    # PYTHONDONTWRITEBYTECODE would otherwise compile this package afresh in every grading run.
    compileall.compile_dir(ROOT / "softmax_course", quiet=1)
    scratch = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    print(
        "load average (1, 5, 15 min) at the start: "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    print(
        f"{args.students} students x {len(assignments)} assignments ({', '.join(assignments)})"
        f" = {notebooks} notebooks; {os.cpu_count()} cores; scratch {scratch}"
    )
    try:
        plain = scratch_course(scratch / "nbgrader", assignments, args.students)
        ours = scratch_course(scratch / "parallel", assignments, args.students)

        nbgrader_seconds = sum(
            timed([str(BIN / "nbgrader"), "autograde", a], plain, "nbgrader") for a in assignments
        )
        failed = {
            p.parent.parent.name
            for a in assignments
            for p in (plain / "submitted").glob(f"*/{a}/{a}.ipynb")
            if not (plain / "autograded" / p.parent.parent.name / a / f"{a}.ipynb").exists()
        }
        ours_seconds, grading_seconds = 0.0, 0.0
        for assignment in assignments:
            started = time.perf_counter()
            result = run(
                [
                    str(BIN / "softmax-course"),
                    "grade",
                    "submitted",
                    "--assignment",
                    assignment,
                    "--workers",
                    str(args.workers),
                    "--quiet",
                    "--out",
                    f"out-{assignment}",
                ],
                ours,
                "ours",
            )
            ours_seconds += time.perf_counter() - started
            if result.returncode not in (0, NOT_EVERYONE_GRADED):
                sys.exit(f"softmax-course grade failed:\n{result.stdout}\n{result.stderr}")
            match = re.search(r"workers, ([0-9.]+) s\)", result.stdout)
            grading_seconds += float(match.group(1)) if match else float("nan")

        paths = [str(p) for a in assignments for p in sorted(ours.glob(f"submitted/*/{a}/*.ipynb"))]
        floor_seconds = timed([sys.executable, "-c", FLOOR_SCRIPT, *paths], ours, "floor")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    def rate(seconds: float) -> float:
        return 60 * notebooks / seconds

    print(
        f"nbgrader autograde, serial (CLI, cold):    {nbgrader_seconds:7.1f} s "
        f"{rate(nbgrader_seconds):7.1f} notebooks/min"
        + (f"  ({len(failed)} students not autograded)" if failed else "")
    )
    print(
        f"softmax-course grade, {args.workers} workers (CLI, cold): {ours_seconds:7.1f} s "
        f"{rate(ours_seconds):7.1f} notebooks/min  (with feedback and report)"
    )
    print(
        f"  of which grading (intake to gradebook): {grading_seconds:7.1f} s "
        f"{rate(grading_seconds):7.1f} notebooks/min"
    )
    print(
        f"floor: bare nbclient, serial:              {floor_seconds:7.1f} s "
        f"{rate(floor_seconds):7.1f} notebooks/min"
    )
    print(
        f"ratio softmax-course / nbgrader: {nbgrader_seconds / ours_seconds:.2f}x whole command, "
        f"{nbgrader_seconds / grading_seconds:.2f}x grading only"
    )
    print(f"ratio softmax-course / bare nbclient floor: {floor_seconds / ours_seconds:.2f}x")
    print(
        "CPU seconds per notebook (the whole machine busy): "
        + ", ".join(f"{kind} {seconds / notebooks:.2f}" for kind, seconds in CPU.items())
    )
    print(
        "load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    )


if __name__ == "__main__":
    main()
