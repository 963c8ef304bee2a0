"""nbgrader's autograde, split so that student code runs only on workers.

nbgrader's `Autograde` converter does two passes per notebook: sanitize (ClearOutput,
DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata) and autograde
(Execute, IgnorePattern, ClearMetadata, LimitOutput, SaveAutoGrades, AssignLatePenalties,
CheckCellMetadata). Here the same converter runs in three steps:

1. `sanitize` (coordinator): nbgrader's sanitize pass, written to a staging folder; creates the
   student and the submission in the gradebook as nbgrader does.
2. `execute` (worker): nbgrader's Execute preprocessor in a warm kernel from a KernelPool, then
   IgnorePattern and LimitOutput. Only the cells' outputs travel back.
3. `save` (coordinator): the autograde pass, with Execute swapped for a preprocessor that copies
   the worker's outputs into the sanitized notebook; writes autograded/<student>/<assignment>/.
"""

from __future__ import annotations

import asyncio
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
import nbgrader.api
import sqlalchemy
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.converters import Autograde
from nbgrader.converters.base import BaseConverter, NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (
    CheckCellMetadata,
    Execute,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
)
from nbgrader.utils import rmtree
from traitlets import Dict, Unicode
from traitlets.config import Config

from softmax_course.course import CourseError
from softmax_course.grading.preprocessors.check_cell_metadata import CheckCellMetadataOnce
from softmax_course.grading.preprocessors.limit_output_bytes import LimitOutputBytes
from softmax_course.grading.preprocessors.limited_execute import LimitedExecute, error_output
from softmax_course.grading.preprocessors.restore_from_release import RestoreFromRelease
from softmax_course.notebooks import read_notebook
from softmax_course.sandbox.kernel_pool import KernelPool, worker_pool
from softmax_course.sandbox.spec import hand_over, kernel_protection, memory_capped
from softmax_course.trusted import TrustedVerdict, kernel_points, tampering, verify_async

TRUSTED_TIMEOUT = 30.0
"""Most seconds each call of the trusted check may take in the student's kernel (or a cell's)."""

UNVERIFIED = "not verified by the trusted check (the kernel died or ran out of time): look at it"
"""The note on a submission whose in-kernel verdicts stand unchecked."""

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
    problem: str = ""  # graded anyway, but something went wrong (e.g. the kernel died)


def worker_config(config: Config) -> dict[str, dict[str, Any]]:
    """Return the plain-dict part of the course config that the worker steps need."""
    return {name: dict(config[name]) for name in WORKER_CONFIG_SECTIONS if name in config}


async def _trusted_verdicts(
    executor: LimitedExecute, manager: AsyncKernelManager, job: NotebookJob
) -> dict[str, TrustedVerdict] | None:
    """Judge the test cells outside the kernel; None if the kernel is gone or time ran out."""
    if not await manager.is_alive():
        return None
    per_call = min(TRUSTED_TIMEOUT, executor.timeout or TRUSTED_TIMEOUT)
    check = verify_async(
        executor.kc,
        nbformat.reads(job.trusted_source, as_version=4),
        timeout=per_call,
        kernel_alive=manager.is_alive,
        interrupt=manager.interrupt_kernel,
    )
    limit = executor.notebook_timeout if executor.notebook_timeout >= 0 else None
    try:
        return await asyncio.wait_for(check, limit)
    except TimeoutError:
        return None


def execute(job: NotebookJob, pool: KernelPool) -> NotebookResult:
    """Run a sanitized notebook in a fresh kernel of `pool` as nbgrader's autograder would.

    Cells run under LimitedExecute's limits (a cell, the whole notebook, outputs kept). Then, if
    the job has the instructor's notebook, every test cell is judged with `trusted.verify_async`
    outside the kernel. The result's `problem` says what went wrong: a timeout, a kernel that
    died (the cells run before keep their outputs), a trusted check that could not run.
    """
    started = time.perf_counter()
    config = Config({name: dict(values) for name, values in job.config.items()})
    nb = nbformat.reads(job.source, as_version=4)
    extra: dict[str, Any] = {"protection": "", "verdicts": None, "problem": ""}

    async def in_kernel(manager: AsyncKernelManager, folder: Path) -> NotebookNode:
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
        executor = LimitedExecute(config=config)
        # ExecutePreprocessor.preprocess, awaited on the pool's loop with the pool's kernel.
        NotebookClient.__init__(executor, nb, manager)
        executor.reset_execution_trackers()
        executor.resources = {"metadata": {"path": str(folder)}}
        try:
            async with executor.async_setup_kernel():
                if job.files:
                    await executor.kc.execute_interactive(
                        "__import__('importlib').invalidate_caches()",
                        silent=True,
                        store_history=False,
                    )
                reply = await executor.async_wait_for_reply(executor.kc.kernel_info())
                nb.metadata["language_info"] = reply["content"]["language_info"]
                await executor.run_cells(nb)
                if job.trusted_source:
                    extra["verdicts"] = await _trusted_verdicts(executor, manager, job)
                    if extra["verdicts"] is None:
                        executor.problems.append(UNVERIFIED)
                extra["problem"] = "; ".join(executor.problems)
            executor.set_widgets_metadata()
        finally:
            if executor.kc is not None:
                executor.kc.stop_channels()
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


class UseWorkerOutputs(NbGraderPreprocessor):
    """Stands in for Execute: copies a worker's outputs into the sanitized notebook."""

    results = Dict(help="NotebookResult of each notebook of the submission, by notebook name")
    flagged = Dict(help="Test cells where tampering is suspected, by notebook name")

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Fill each code cell's outputs and execution count from the worker's result.

        A test cell where the kernel claimed more points than the trusted check gives gets one
        error output with the trusted message instead, so nbgrader scores it as the check did.
        """
        name = resources["nbgrader"]["notebook"]
        result: NotebookResult = self.results[name]
        if result.cells is None or len(result.cells) != len(nb.cells):
            raise SubmissionError("the worker returned a notebook with a different set of cells")
        for cell, executed in zip(nb.cells, result.cells, strict=True):
            if cell.cell_type == "code":
                cell.outputs = [nbformat.from_dict(output) for output in executed["outputs"]]
                cell.execution_count = executed["execution_count"]
        if result.verdicts:
            flagged = tampering(kernel_points(nb), result.verdicts)
            for cell in nb.cells:
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if cell.cell_type == "code" and grade_id in flagged:
                    message = result.verdicts[grade_id].message or "failed the trusted check"
                    cell.outputs = [error_output("TrustedCheckFailed", message)]
            if flagged:
                self.flagged[name] = flagged
        if result.language_info:
            nb.metadata["language_info"] = nbformat.from_dict(result.language_info)
        return nb, resources


@contextmanager
def one_engine_per_database() -> Iterator[None]:
    """Let nbgrader's Gradebook reuse one SQLAlchemy engine per database while grading.

    nbgrader creates a new engine for each Gradebook it opens (about ten per submission), so
    SQLAlchemy compiles every query afresh each time; sharing the engine halves the time spent
    in the gradebook. Only for the coordinator's single thread.
    """
    original = nbgrader.api.create_engine
    if getattr(original, "shared", False):  # already sharing: keep the outer engines
        yield
        return
    engines: dict[tuple[str, tuple[tuple[str, Any], ...]], sqlalchemy.Engine] = {}

    def shared_engine(url: str, **options: Any) -> sqlalchemy.Engine:
        key = (str(url), tuple(sorted(options.items())))
        if key not in engines:
            engines[key] = sqlalchemy.create_engine(url, **options)
        return engines[key]

    shared_engine.shared = True  # type: ignore[attr-defined]
    nbgrader.api.create_engine = shared_engine
    try:
        yield
    finally:
        nbgrader.api.create_engine = original
        for engine in engines.values():
            engine.dispose()


class _StagedAutograde(Autograde):
    """nbgrader's Autograde converter, reading or writing a staging folder for one pass."""

    staging_directory = Unicode(help="Absolute folder for sanitized notebooks")

    def init_destination(self, assignment_id: str, student_id: str) -> bool:
        """Start from an empty destination: whether to grade was decided before."""
        dest = os.path.normpath(self._format_dest(assignment_id, student_id))
        if os.path.exists(dest):
            rmtree(dest)
        return True


class SanitizeSubmission(_StagedAutograde):
    """nbgrader's sanitize pass only, into the staging folder."""

    @property
    def _output_directory(self) -> str:
        return self.staging_directory

    def convert_single_notebook(self, notebook_filename: str) -> None:
        """Sanitize one notebook (ClearOutput, OverwriteCells, ...) into the staging folder."""
        self._sanitizing = True
        self._init_preprocessors()
        BaseConverter.convert_single_notebook(self, notebook_filename)

    def set_permissions(self, assignment_id: str, student_id: str) -> None:
        """Leave the staging copy writable."""

    def run_post_convert_hook(self) -> None:
        """The post-convert hook runs once the notebook is saved, not after sanitizing."""


class SaveAutogrades(_StagedAutograde):
    """nbgrader's autograde pass over staged notebooks, with the workers' outputs for Execute."""

    @property
    def _input_directory(self) -> str:
        return self.staging_directory

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        """Copy the staged submission's other files; the gradebook was updated when sanitizing."""
        BaseConverter.init_assignment(self, assignment_id, student_id)

    def convert_single_notebook(self, notebook_filename: str) -> None:
        """Run the autograde preprocessors and write the autograded notebook."""
        self._sanitizing = False
        self._init_preprocessors()
        BaseConverter.convert_single_notebook(self, notebook_filename)

    def run_pre_convert_hook(self) -> None:
        """The pre-convert hook already ran before sanitizing."""


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


class Autograder:
    """The course's nbgrader Autograde converter, run one submission at a time in three steps."""

    def __init__(
        self, config: Config, staging: Path, log: logging.Logger, *, pool: str = ""
    ) -> None:
        self.config = config
        self.pool = pool  # the workers' kernel pool that executes the jobs
        self.staging = staging
        self.log = log
        self.coursedir = CourseDirectory(config=config)
        self._sanitizer = SanitizeSubmission(
            coursedir=self.coursedir, config=config, staging_directory=str(staging), log=log
        )
        # Put every released cell back first: nbgrader alone cannot grade a duplicated or
        # reordered cell, and does not restore a deleted setup cell (cell_changes.py).
        self._restore = RestoreFromRelease(config=config, log=log)
        self._sanitizer.sanitize_preprocessors = [
            self._restore,
            *map(_checked_once, self._sanitizer.sanitize_preprocessors),
        ]
        self.changes: dict[str, dict[str, list[str]]] = {}  # by student, then notebook
        self._worker_outputs = UseWorkerOutputs(config=config, log=log)
        self._saver = SaveAutogrades(
            coursedir=self.coursedir, config=config, staging_directory=str(staging), log=log
        )
        steps = list(self._saver.autograde_preprocessors)
        if Execute not in steps:
            raise CourseError(
                "Autograde.autograde_preprocessors has no Execute step to hand to workers"
            )
        self._saver.autograde_preprocessors = [
            self._worker_outputs if step is Execute else _checked_once(step)
            for step in steps
            if step not in WORKER_STEPS[1:]
        ]
        self.worker_config = worker_config(config)
        self.notes: list[str] = []  # about the submission saved last

    @contextmanager
    def _converting(self, assignment: str, student: str) -> Iterator[_ErrorLog]:
        errors = _ErrorLog()
        self.log.addHandler(errors)
        self.coursedir.assignment_id = assignment
        self.coursedir.student_id = student
        try:
            yield errors
        except NbGraderException as exc:
            raise SubmissionError(_one_line(errors.last or str(exc))) from None
        finally:
            self.log.removeHandler(errors)
            self.coursedir.student_id = "*"

    def submitted_folder(self, assignment: str, student: str) -> Path:
        """Return where nbgrader keeps this student's submission."""
        return Path(
            self.coursedir.format_path(self.coursedir.submitted_directory, student, assignment)
        )

    def autograded_folder(self, assignment: str, student: str) -> Path:
        """Return where nbgrader writes this student's autograded notebooks."""
        return Path(
            self.coursedir.format_path(self.coursedir.autograded_directory, student, assignment)
        )

    def sanitize(self, assignment: str, student: str) -> list[NotebookJob]:
        """Sanitize a submission with nbgrader and return one job per notebook to execute."""
        for path in sorted(self.submitted_folder(assignment, student).glob("*.ipynb")):
            try:
                read_notebook(path)
            except CourseError as exc:
                raise SubmissionError(
                    _one_line(str(exc).replace(str(path.parent) + os.sep, ""))
                ) from None
        self._restore.changes = {}
        with self._converting(assignment, student):
            self._sanitizer.start()
        self.changes[student] = {
            name: lines for name, lines in self._restore.changes.items() if lines
        }
        folder = self.staging / student / assignment
        files = {
            str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.suffix != ".ipynb" and path.name != "timestamp.txt"
        }
        return [
            NotebookJob(
                student,
                assignment,
                path.stem,
                path.read_text(),
                files,
                self.worker_config,
                self.pool,
                self.trusted_source(assignment, path.stem),
            )
            for path in sorted(folder.glob("*.ipynb"))
        ]

    def save(self, results: list[NotebookResult]) -> Path:
        """Save the workers' results as nbgrader would; return the autograded folder.

        Afterwards `notes` holds what the report should say about the submission: a kernel
        that died, test cells where tampering is suspected.
        """
        student, assignment = results[0].student, results[0].assignment
        changed = self.changes.pop(student, {})
        self._worker_outputs.results = {result.notebook: result for result in results}
        self._worker_outputs.flagged = {}
        try:
            with self._converting(assignment, student):
                self._saver.start()
            flagged = dict(self._worker_outputs.flagged)
        finally:
            self._worker_outputs.results = {}
            self._worker_outputs.flagged = {}
            self.discard(assignment, student)
        self.notes = [
            f"{name}.ipynb: cells changed, graded as released: {'; '.join(lines)}"
            for name, lines in sorted(changed.items())
        ]
        self.notes += [f"{r.notebook}.ipynb: {r.problem}" for r in results if r.problem] + [
            f"{name}.ipynb: tampering suspected: {', '.join(cells)}"
            for name, cells in sorted(flagged.items())
        ]
        return self.autograded_folder(assignment, student)

    def trusted_source(self, assignment: str, notebook: str) -> str:
        """Return the instructor's notebook from solutions/ as JSON ('' if there is none)."""
        path = (
            Path(self.coursedir.format_path(self.coursedir.source_directory, ".", assignment))
            / f"{notebook}.ipynb"
        )
        return path.read_text() if path.is_file() else ""

    def discard(self, assignment: str, student: str) -> None:
        """Remove a submission's staging copy (and what sanitizing found changed in it)."""
        self.changes.pop(student, None)
        shutil.rmtree(self.staging / student / assignment, ignore_errors=True)
