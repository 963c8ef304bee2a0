"""nbgrader's autograde, split so that student code runs only on workers.

nbgrader's `Autograde` converter does two passes per notebook: sanitize (ClearOutput,
DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata) and autograde
(Execute, IgnorePattern, ClearMetadata, LimitOutput, SaveAutoGrades, AssignLatePenalties,
CheckCellMetadata). Here the same converter runs in three steps:

1. `sanitize` (coordinator): nbgrader's sanitize pass, written to a staging folder; creates the
   student and the submission in the gradebook as nbgrader does.
2. `execute` (worker): nbgrader's Execute preprocessor in a warm kernel from a KernelPool, then
   IgnorePattern and LimitOutput. Only the cells' outputs travel back.
3. `save` (coordinator): the worker's outputs go into the sanitized notebook (a test cell whose
   pass the trusted check does not confirm gets its error instead), then the autograde pass
   without the worker's steps writes autograded/<student>/<assignment>/.

The assignment's facts come from one `Assignment` read per run; results pass as return values
(`Sanitized`, `Saved`). What leans on nbgrader's private shape is in nbgrader_internals.py.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient.util import run_hook
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import CheckCellMetadata, Execute, IgnorePattern, LimitOutput
from nbgrader.utils import determine_grade, is_grade, is_solution
from traitlets.config import Config

from softmax_course.course import CourseError
from softmax_course.grading.assignment import Assignment
from softmax_course.grading.nbgrader_internals import SanitizeSubmission, SaveAutogrades
from softmax_course.grading.preprocessors.check_cell_metadata import CheckCellMetadataOnce
from softmax_course.grading.preprocessors.limit_output_bytes import LimitOutputBytes
from softmax_course.grading.preprocessors.limited_execute import LimitedExecute, error_output
from softmax_course.grading.preprocessors.restore_from_release import (
    RestoreFromRelease,
    graded_changes,
)
from softmax_course.notebooks import failure_message, read_notebook
from softmax_course.sandbox.kernel_pool import KernelPool, worker_pool
from softmax_course.sandbox.spec import hand_over, kernel_protection, memory_capped
from softmax_course.trusted import CellByCell, TrustedVerdict, kernel_points, tampering

TRUSTED_TIMEOUT = 30.0
"""Most seconds each call of the trusted check may take in the student's kernel (or a cell's)."""

UNCONFIRMED = "UnconfirmedPass"
"""The error name of a test cell whose pass the trusted check could not confirm."""

WORKER_STEPS: tuple[type, ...] = (Execute, IgnorePattern, LimitOutputBytes, LimitOutput)
"""nbgrader's autograde preprocessors that run on a worker, in this order."""

WORKER_CONFIG_SECTIONS = (
    "NotebookClient",
    "ExecutePreprocessor",
    "NbGraderPreprocessor",
    LimitedExecute.__name__,
    *(step.__name__ for step in WORKER_STEPS),
)
"""The parts of the course config that the worker-side steps read."""


class SubmissionError(Exception):
    """A submission that cannot be graded, with the reason in one line."""


@dataclass(frozen=True)
class NotebookJob:
    """Everything a worker needs to execute one sanitized notebook, and nothing about grades."""

    student: str
    assignment: str
    notebook: str
    source: str  # the sanitized notebook, as nbformat JSON
    files: Mapping[str, bytes] = field(default_factory=dict)  # other files of the submission
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    pool: str = ""  # name of the workers' KernelPoolPlugin to run it with
    trusted_source: str = ""  # the instructor's notebook from solutions/, as nbformat JSON


@dataclass(frozen=True)
class NotebookResult:
    """What came back from a worker: each cell's outputs, or why the notebook could not run."""

    student: str
    assignment: str
    notebook: str
    cells: list[dict[str, Any]] | None = None  # per cell: outputs and execution_count
    language_info: dict[str, Any] | None = None
    error: str = ""
    seconds: float = 0.0
    retry: bool = False  # the error is the grading machinery's, not the submission's
    protection: str = ""  # how the kernel was sandboxed (softmax_course.sandbox.spec.Protection)
    verdicts: dict[str, TrustedVerdict] | None = None  # trusted check, by test cell grade_id
    unconfirmed: dict[str, str] = field(default_factory=dict)  # checks not finished: why
    problem: str = ""  # graded anyway, but something went wrong (e.g. the kernel died)


def worker_config(config: Config) -> dict[str, dict[str, Any]]:
    """Return the plain-dict part of the course config that the worker steps need."""
    return {name: dict(config[name]) for name in WORKER_CONFIG_SECTIONS if name in config}


def _checker(
    executor: LimitedExecute, manager: AsyncKernelManager, job: NotebookJob
) -> CellByCell:
    """Return the trusted check that judges each test cell right after it ran in the kernel."""
    return CellByCell(
        executor.kc,
        nbformat.reads(job.trusted_source, as_version=4),
        timeout=min(TRUSTED_TIMEOUT, executor.timeout or TRUSTED_TIMEOUT),
        budget=executor.notebook_timeout if executor.notebook_timeout >= 0 else None,
        kernel_alive=manager.is_alive,
        interrupt=manager.interrupt_kernel,
    )


def execute(job: NotebookJob, pool: KernelPool) -> NotebookResult:
    """Run a sanitized notebook in a fresh kernel of `pool` as nbgrader's autograder would.

    Cells run under LimitedExecute's limits (a cell, the whole notebook, outputs kept). If the
    job has the instructor's notebook, each test cell is judged outside the kernel right after
    it ran (`trusted.CellByCell`), before any later cell of the submission runs. The result's
    `problem` says what went wrong: a timeout, a kernel that died (the cells run before keep
    their outputs); `unconfirmed` lists the test cells whose check could not finish.
    """
    started = time.perf_counter()
    config = Config({name: dict(values) for name, values in job.config.items()})
    nb = nbformat.reads(job.source, as_version=4)
    extra: dict[str, Any] = {"protection": "", "verdicts": None, "problem": "", "unconfirmed": {}}

    async def in_kernel(
        manager: AsyncKernelManager, client: AsyncKernelClient, folder: Path
    ) -> NotebookNode:
        extra["protection"] = kernel_protection(manager).value + (
            " + memory cgroup" if memory_capped(manager) else ""
        )
        tops = set()
        for name, content in job.files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            tops.add(folder / Path(name).parts[0])
        for top in sorted(tops):  # the kernel is ready: give the copies to its uid
            hand_over(top, folder)
        # ExecutePreprocessor.preprocess, awaited on the pool's loop with the pool's kernel and
        # its ready client (which the pool stops once the job is done).
        executor = LimitedExecute(config=config)
        executor.nb, executor.km, executor.owns_km = nb, manager, False
        executor.kc, client.allow_stdin = client, False
        executor.resources = {"metadata": {"path": str(folder)}}
        async with executor.async_setup_kernel():
            # What nbclient's own client setup ends with, which the ready client skips.
            await run_hook(executor.on_notebook_start, notebook=nb)
            if job.files:
                await executor.kc.execute_interactive(
                    "__import__('importlib').invalidate_caches()",
                    silent=True,
                    store_history=False,
                )
            reply = await executor.async_wait_for_reply(executor.kc.kernel_info())
            nb.metadata["language_info"] = reply["content"]["language_info"]
            if job.trusted_source:
                checker = _checker(executor, manager, job)

                async def check(cell: NotebookNode) -> None:
                    await checker.after_cell(cell.metadata.get("nbgrader", {}).get("grade_id"))

                await executor.run_cells(nb, check)
                extra["verdicts"], extra["unconfirmed"] = checker.verdicts, checker.unconfirmed
            else:
                await executor.run_cells(nb)
            extra["problem"] = "; ".join(executor.problems)
        executor.set_widgets_metadata()
        return nb

    try:
        executed = pool.run(in_kernel)
    except SubmissionError as exc:
        return NotebookResult(
            job.student,
            job.assignment,
            job.notebook,
            error=str(exc),
            seconds=time.perf_counter() - started,
        )
    except Exception as exc:  # a kernel that would not start, a timeout nbclient gave up on, ...
        return NotebookResult(
            job.student,
            job.assignment,
            job.notebook,
            error=f"could not execute: {type(exc).__name__}: {exc}".strip(),
            seconds=time.perf_counter() - started,
            retry=True,
        )
    resources: ResourcesDict = ResourcesDict()
    for step in WORKER_STEPS[1:]:
        executed, resources = step(config=config)(executed, resources)
    return NotebookResult(
        job.student,
        job.assignment,
        job.notebook,
        cells=[
            {"outputs": cell.get("outputs", []), "execution_count": cell.get("execution_count")}
            for cell in executed.cells
        ],
        language_info=executed.metadata.get("language_info"),
        seconds=time.perf_counter() - started,
        **extra,
    )


def execute_on_worker(job: NotebookJob) -> NotebookResult:
    """Dask task: execute one notebook with the kernel pool of the worker it runs on."""
    return execute(job, worker_pool(job.pool))


def test_messages(nb: NotebookNode) -> dict[str, str]:
    """Return each autograded test cell's failure message ('' if it got all its points)."""
    messages = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and is_grade(cell) and not is_solution(cell):
            score, most = determine_grade(cell)
            messages[cell.metadata.nbgrader["grade_id"]] = (
                "" if score is not None and score >= most else failure_message(cell)
            )
    return messages


@dataclass(frozen=True)
class Filled:
    """A sanitized notebook with a worker's outputs, and the test cells the trusted check
    took points from: failed there (`flagged`), or not confirmed (`unconfirmed`, with why)."""

    nb: NotebookNode
    flagged: list[str]
    unconfirmed: dict[str, str]


def fill_outputs(sanitized: str, result: NotebookResult) -> Filled:
    """Return the sanitized notebook with the worker's outputs, and what the check changed.

    A test cell where the kernel claimed more points than the trusted check gives gets one
    error output with the trusted message instead, so nbgrader scores it as the check did. A
    claimed pass the check could not confirm scores 0 too, saying so, for a person to grade.
    """
    nb = nbformat.reads(sanitized, as_version=4)
    if result.cells is None or len(result.cells) != len(nb.cells):
        raise SubmissionError("the worker returned a notebook with a different set of cells")
    for cell, executed in zip(nb.cells, result.cells, strict=True):
        if cell.cell_type == "code":
            cell.outputs = [nbformat.from_dict(output) for output in executed["outputs"]]
            cell.execution_count = executed["execution_count"]
    claimed = kernel_points(nb)
    flagged = tampering(claimed, result.verdicts or {})
    unconfirmed = {
        grade_id: why
        for grade_id, why in result.unconfirmed.items()
        if (claimed.get(grade_id) or 0) > 0
    }
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code":
            continue
        if grade_id in flagged:
            message = result.verdicts[grade_id].message or "failed the trusted check"
            cell.outputs = [error_output("TrustedCheckFailed", message)]
        elif grade_id in unconfirmed:
            most = cell.metadata.nbgrader.get("points", 0)
            cell.outputs = [
                error_output(
                    UNCONFIRMED,
                    f"the trusted check could not confirm this pass ({unconfirmed[grade_id]}); "
                    f"the kernel claimed {claimed[grade_id]:g} of {most:g} points: an "
                    "instructor grades it by hand",
                )
            ]
    if result.language_info:
        nb.metadata["language_info"] = nbformat.from_dict(result.language_info)
    return Filled(nb, flagged, unconfirmed)


class _ErrorLog(logging.Handler):
    """Keeps the exception nbgrader logged last, to explain a failure in one line."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        """Remember the final line of a logged traceback, or the first other error."""
        message = record.getMessage().strip()
        if message.startswith("Traceback"):
            kind, _, text = message.splitlines()[-1].partition(": ")
            self.last = f"{kind.rsplit('.', 1)[-1]}: {text}" if text else kind
        elif not self.last and not message.startswith(("There was an error", "Please see")):
            self.last = message


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _checked_once(step: Any) -> Any:
    """Return `step`, or CheckCellMetadataOnce for nbgrader's CheckCellMetadata (same checks)."""
    return CheckCellMetadataOnce if step is CheckCellMetadata else step


def _configured(config: Config, name: str) -> list[Any]:
    """Return Autograde's preprocessor list `name` as the course configures it."""
    if name in config.get("Autograde", {}):
        return list(config.Autograde[name])
    return list(Autograde.class_traits()[name].default())


@dataclass(frozen=True)
class Sanitized:
    """A sanitized submission: a job per notebook, and what the student changed that grading
    undoes (lines by notebook name)."""

    jobs: list[NotebookJob]
    changes: dict[str, list[str]]


@dataclass(frozen=True)
class Saved:
    """A saved submission: its autograded folder, what the report should say about it, and
    each test cell's failure message by notebook and grade_id."""

    folder: Path
    notes: list[str]
    messages: dict[str, dict[str, str]]


class Autograder:
    """The course's nbgrader Autograde converter, run one submission at a time in three steps."""

    def __init__(
        self,
        config: Config,
        staging: Path,
        log: logging.Logger,
        assignment: Assignment,
        *,
        pool: str = "",
    ) -> None:
        self.config = config
        self.assignment = assignment
        self.pool = pool  # the workers' kernel pool that executes the jobs
        self.staging = staging
        self.log = log
        self.coursedir = CourseDirectory(config=config)
        self.coursedir.assignment_id = assignment.name
        # Put every released cell back first: nbgrader alone cannot grade a duplicated or
        # reordered cell, and does not restore a deleted setup cell (restore_from_release.py).
        restore = RestoreFromRelease(config=config, log=log, released=dict(assignment.releases))
        steps = _configured(config, "autograde_preprocessors")
        if Execute not in steps:
            raise CourseError(
                "Autograde.autograde_preprocessors has no Execute step to hand to workers"
            )
        common = {
            "coursedir": self.coursedir,
            "config": config,
            "staging_directory": str(staging),
            "log": log,
        }
        self._sanitizer = SanitizeSubmission(
            **common,
            sanitize_preprocessors=[
                restore,
                *map(_checked_once, _configured(config, "sanitize_preprocessors")),
            ],
        )
        # Execute and the other worker steps ran on a worker: the staged notebook has outputs.
        self._saver = SaveAutogrades(
            **common,
            autograde_preprocessors=[
                _checked_once(step) for step in steps if step not in WORKER_STEPS
            ],
        )
        self.worker_config = worker_config(config)

    @contextmanager
    def _converting(self, student: str) -> Iterator[_ErrorLog]:
        errors = _ErrorLog()
        self.log.addHandler(errors)
        self.coursedir.student_id = student
        try:
            yield errors
        except NbGraderException as exc:
            raise SubmissionError(_one_line(errors.last or str(exc))) from None
        finally:
            self.log.removeHandler(errors)
            self.coursedir.student_id = "*"

    def submitted_folder(self, student: str) -> Path:
        """Return where nbgrader keeps this student's submission."""
        return Path(
            self.coursedir.format_path(
                self.coursedir.submitted_directory, student, self.assignment.name
            )
        )

    def autograded_folder(self, student: str) -> Path:
        """Return where nbgrader writes this student's autograded notebooks."""
        return Path(
            self.coursedir.format_path(
                self.coursedir.autograded_directory, student, self.assignment.name
            )
        )

    def _changes(self, student: str) -> dict[str, list[str]]:
        """Read each submitted notebook once: one line per change grading undoes, by notebook."""
        changes: dict[str, list[str]] = {}
        for path in sorted(self.submitted_folder(student).glob("*.ipynb")):
            try:
                nb = read_notebook(path)
            except CourseError as exc:
                raise SubmissionError(
                    _one_line(str(exc).replace(str(path.parent) + os.sep, ""))
                ) from None
            released = self.assignment.releases.get(path.stem)
            lines = graded_changes(nb, released) if released is not None else []
            for line in lines:
                self.log.warning("%s: %s", student, line)
            if lines:
                changes[path.stem] = lines
        return changes

    def sanitize(self, student: str) -> Sanitized:
        """Sanitize a submission with nbgrader; return one job per notebook to execute."""
        changes = self._changes(student)
        with self._converting(student):
            self._sanitizer.start()
        folder = self.staging / student / self.assignment.name
        files = {
            str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.suffix != ".ipynb" and path.name != "timestamp.txt"
        }
        jobs = [
            NotebookJob(
                student,
                self.assignment.name,
                path.stem,
                path.read_text(),
                files,
                self.worker_config,
                self.pool,
                self.assignment.sources.get(path.stem, ""),
            )
            for path in sorted(folder.glob("*.ipynb"))
        ]
        return Sanitized(jobs, changes)

    def save(
        self, done: list[tuple[NotebookJob, NotebookResult]], changes: dict[str, list[str]]
    ) -> Saved:
        """Save the workers' results as nbgrader would; return the folder and the notes.

        The notes say what the report should say about the submission: cells changed, a
        kernel that died, test cells where tampering is suspected.
        """
        student = done[0][0].student
        folder = self.staging / student / self.assignment.name
        flagged, unconfirmed, messages = {}, {}, {}
        try:
            for job, result in done:
                filled = fill_outputs(job.source, result)
                nbformat.write(filled.nb, folder / f"{job.notebook}.ipynb")
                messages[job.notebook] = test_messages(filled.nb)
                if filled.flagged:
                    flagged[job.notebook] = filled.flagged
                if filled.unconfirmed:
                    unconfirmed[job.notebook] = filled.unconfirmed
            with self._converting(student):
                self._saver.start()
            self._to_grade_by_hand(student, unconfirmed)
        finally:
            self.discard(student)
        notes = [
            f"{name}.ipynb: cells changed, graded as released: {'; '.join(lines)}"
            for name, lines in sorted(changes.items())
        ]
        notes += [f"{r.notebook}.ipynb: {r.problem}" for _, r in done if r.problem] + [
            f"{name}.ipynb: tampering suspected: {', '.join(cells)}"
            for name, cells in sorted(flagged.items())
        ] + [
            f"{name}.ipynb: passes the trusted check could not confirm, to grade by hand: "
            + "; ".join(f"{cell} ({why})" for cell, why in cells.items())
            for name, cells in sorted(unconfirmed.items())
        ]
        return Saved(self.autograded_folder(student), notes, messages)

    def _to_grade_by_hand(self, student: str, cells: dict[str, dict[str, str]]) -> None:
        """Mark unconfirmed test cells as needing a manual grade in the gradebook."""
        if not cells:
            return
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
            for notebook, grade_ids in cells.items():
                for grade_id in grade_ids:
                    grade = gradebook.find_grade(grade_id, notebook, self.assignment.name, student)
                    grade.needs_manual_grade = True
            gradebook.db.commit()

    def discard(self, student: str) -> None:
        """Remove a submission's staging copy."""
        shutil.rmtree(self.staging / student / self.assignment.name, ignore_errors=True)
