"""Autograde a class in parallel: Dask workers execute notebooks, this process keeps the gradebook.

For each submission that is new or changed since the last run (or every one with `force`):
sanitize it with nbgrader here, execute its notebooks on a Dask worker in a pre-started kernel,
then save the grades here with nbgrader. A ledger in the autograded/ folder records the content
hash and outcome of each submission, so a re-run skips what it already graded.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

import dask
import nbformat
from distributed import Client, Future, LocalCluster, as_completed
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from tqdm import tqdm
from traitlets.config import Config

from softmax_course.course import CourseError, nbgrader_api
from softmax_course.grading.assignment import Assignment
from softmax_course.grading.autograde import (
    Autograder,
    NotebookJob,
    NotebookResult,
    SubmissionError,
    execute_on_worker,
    test_messages,
)
from softmax_course.grading.intake import Rejected, Submission
from softmax_course.grading.nbgrader_internals import one_engine_per_database
from softmax_course.grading.preprocessors.limited_execute import LimitedExecute
from softmax_course.sandbox.kernel_pool import KernelPoolPlugin, resize_worker_pool
from softmax_course.sandbox.spec import Limits

LEDGER_NAME = ".softmax-course-grading.json"


@dataclass(frozen=True)
class Outcome:
    """What happened to one submission in a run."""

    student: str
    status: str  # "graded", "unchanged" (graded before, same files) or "failed"
    reason: str = ""  # why a failed submission could not be graded
    seconds: float = 0.0  # time from sanitizing to saving
    note: str = ""  # graded, but: the kernel died, tampering suspected, ...
    messages: dict[str, dict[str, str]] = field(default_factory=dict)  # notebook, test: failure


@dataclass
class GradingRun:
    """The outcome of grading one assignment."""

    assignment: str
    outcomes: list[Outcome] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 0
    protection: Counter[str] = field(default_factory=Counter)  # kernels per sandbox protection
    recorded: dict[str, Outcome] = field(default_factory=dict)  # latest outcome of every student
    written: list[Path] = field(default_factory=list)  # what `on_graded` wrote (e.g. feedback)

    def count(self, status: str) -> int:
        """Return how many submissions ended with `status`."""
        return sum(outcome.status == status for outcome in self.outcomes)


class Ledger:
    """The content hash and outcome of each graded submission, kept next to autograded/."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.entries: dict[str, dict[str, dict[str, str]]] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    def get(self, assignment: str, student: str) -> dict[str, str]:
        """Return what was recorded for a submission, or an empty dict."""
        return self.entries.get(assignment, {}).get(student, {})

    def outcomes(self, assignment: str) -> dict[str, Outcome]:
        """Return the latest recorded outcome of each student ("graded" or "failed")."""
        return {
            student: Outcome(
                student,
                entry.get("status", ""),
                entry.get("reason", ""),
                note=entry.get("note", ""),
                messages=entry.get("messages", {}),
            )
            for student, entry in self.entries.get(assignment, {}).items()
        }

    def record(self, assignment: str, student: str, digest: str, outcome: Outcome) -> None:
        """Record a submission's hash and outcome, and write the ledger atomically."""
        self.entries.setdefault(assignment, {})[student] = {
            "digest": digest,
            "status": outcome.status,
            "reason": outcome.reason,
            "note": outcome.note,
            "messages": outcome.messages,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps(self.entries, indent=1, sort_keys=True))
        os.replace(scratch, self.path)


def cores() -> int:
    """Return how many cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def kernel_limits(config: Config) -> Limits:
    """Return the sandbox limits for this course's kernels: CPU time follows the notebook limit.

    A notebook may run `LimitedExecute.notebook_timeout` seconds, and the trusted re-check as
    long again; the CPU limit (a backstop that kills the kernel) leaves room for both.
    """
    limits = Limits()
    notebook_timeout = LimitedExecute(config=config).notebook_timeout
    if notebook_timeout < 0:
        return limits
    return replace(limits, cpu_seconds=max(limits.cpu_seconds, 2 * notebook_timeout))


def ensure_in_gradebook(root: Path, config: Config, assignment: str) -> None:
    """Add the assignment to the gradebook (nbgrader's generate_assignment) if it is not there."""
    coursedir = CourseDirectory(config=config)
    with tempfile.TemporaryDirectory(prefix="softmax-release-") as scratch:
        # Released into a scratch folder: exercises/ is left as it is.
        api = nbgrader_api(
            root, CourseDirectory={"release_directory": scratch, "db_url": coursedir.db_url}
        )
        with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
            with suppress(MissingEntry):
                if gradebook.find_assignment(assignment).notebooks:
                    return
        result = api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        error = result.get("error") or result.get("log", "")
        raise CourseError(
            f"nbgrader could not add '{assignment}' to the gradebook: {error.strip()[-300:]}"
        )


def is_graded(
    coursedir: CourseDirectory,
    gradebook: Gradebook,
    assignment: str,
    student: str,
    notebooks: Sequence[str],
) -> bool:
    """Return True when the gradebook holds autograder scores and autograded/ the notebooks."""
    folder = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
    if not all((folder / f"{name}.ipynb").is_file() for name in notebooks):
        return False
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return False
    return any(grade.auto_score is not None for nb in submission.notebooks for grade in nb.grades)


def unchanged(
    coursedir: CourseDirectory, assignment: Assignment, student: str, before: dict
) -> Outcome:
    """Return the outcome of a submission graded before, with its note and messages.

    A ledger written before messages were recorded gets them from the autograded notebooks.
    """
    messages = before.get("messages")
    if messages is None:
        folder = Path(
            coursedir.format_path(coursedir.autograded_directory, student, assignment.name)
        )
        messages = {
            name: test_messages(nbformat.read(folder / f"{name}.ipynb", as_version=4))
            for name in assignment.notebooks
        }
    return Outcome(student, "unchanged", note=before.get("note", ""), messages=messages)


@contextmanager
def dask_client(workers: int, scheduler: str | None) -> Iterator[Client]:
    """Connect to the Dask scheduler at `scheduler`, or start `workers` local worker processes."""
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise CourseError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    # Workers forked from this process start with nbgrader and nbclient already imported
    # (spawned ones would spend seconds importing them again). No gradebook connection is
    # open here: nbgrader's Gradebook closes its connections when it closes. What exists so far
    # is frozen out of the garbage collector's scans while the cluster runs, as Python's gc
    # documentation advises before forking: the workers do not copy those pages to scan them,
    # and this process, which sanitizes and saves every submission, scans fewer objects.
    gc.freeze()
    try:
        with (
            dask.config.set({"distributed.worker.multiprocessing-method": "fork"}),
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
    finally:
        gc.unfreeze()


def grading_logger(log_file: Path | None) -> logging.Logger:
    """Return the logger that nbgrader's converters write to (a file, never the terminal)."""
    log = logging.getLogger("softmax_course.grading.schedule.nbgrader")
    log.propagate = False
    log.setLevel(logging.INFO)
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, mode="w")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
    else:
        log.addHandler(logging.NullHandler())
    return log


def grade(
    root: Path,
    assignment: Assignment,
    submissions: Sequence[Submission],
    *,
    config: Config,
    rejected: Sequence[Rejected] = (),
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = True,
    log: logging.Logger | None = None,
    on_graded: Callable[[list[str]], list[Path]] | None = None,
) -> GradingRun:
    """Autograde `submissions` of `assignment` in parallel and return what happened to each.

    `on_graded` is called with students just graded, in small batches, and returns the files it
    wrote for them (e.g. their feedback), which end in `run.written`. On a local cluster it runs
    on the workers, between notebooks, so it must pickle (a module's function, or a partial of
    one); with a remote `scheduler`, whose workers may not see this machine's files, it runs
    here whenever this process would otherwise wait for the workers.
    """
    started = time.perf_counter()
    coursedir = CourseDirectory(config=config)
    ensure_in_gradebook(root, config, assignment.name)
    ledger = Ledger(Path(coursedir.root) / coursedir.autograded_directory / LEDGER_NAME)
    run = GradingRun(assignment.name, rejected=list(rejected), workers=workers or cores())

    with one_engine_per_database():
        _grade(
            submissions,
            run,
            ledger,
            config,
            assignment,
            force=force,
            scheduler=scheduler,
            progress=progress,
            log=log or grading_logger(None),
            on_graded=on_graded,
        )
    run.outcomes.sort(key=lambda outcome: outcome.student)
    run.recorded = ledger.outcomes(assignment.name)
    run.seconds = time.perf_counter() - started
    return run


def _grade(
    submissions: Sequence[Submission],
    run: GradingRun,
    ledger: Ledger,
    config: Config,
    assignment: Assignment,
    *,
    force: bool,
    scheduler: str | None,
    progress: bool,
    log: logging.Logger,
    on_graded: Callable[[list[str]], list[Path]] | None,
) -> None:
    coursedir = CourseDirectory(config=config)
    names = assignment.notebooks
    todo: deque[Submission] = deque()
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        for submission in submissions:
            gradebook.update_or_create_student(submission.student, **submission.details)
            before = ledger.get(run.assignment, submission.student)
            if force or before.get("digest") != submission.digest:
                todo.append(submission)
            elif before.get("status") == "failed":
                run.outcomes.append(Outcome(submission.student, "failed", before.get("reason", "")))
            elif is_graded(coursedir, gradebook, run.assignment, submission.student, names):
                run.outcomes.append(unchanged(coursedir, assignment, submission.student, before))
            else:
                todo.append(submission)
    if todo:
        _grade_in_parallel(
            todo,
            run,
            ledger,
            config,
            assignment,
            scheduler=scheduler,
            progress=progress,
            log=log,
            on_graded=on_graded,
        )


def _grade_in_parallel(
    todo: deque[Submission],
    run: GradingRun,
    ledger: Ledger,
    config: Config,
    assignment: Assignment,
    *,
    scheduler: str | None,
    progress: bool,
    log: logging.Logger,
    on_graded: Callable[[list[str]], list[Path]] | None,
) -> None:
    staging = Path(tempfile.mkdtemp(prefix="softmax-grade-"))
    bar = tqdm(
        total=len(todo),
        desc=f"grading {run.assignment}",
        unit="submission",
        disable=not progress,
        dynamic_ncols=True,
    )
    try:
        with dask_client(run.workers, scheduler) as client:
            if scheduler:
                run.workers = len(client.scheduler_info(n_workers=-1).get("workers", {})) or 1
            plugin = KernelPoolPlugin(
                name=f"softmax-course-kernel-pool-{uuid.uuid4().hex[:12]}",
                kernel_name=assignment.kernel_name,
                warm_modules=assignment.warm_modules,
                env={"NBGRADER_EXECUTION": "autograde"},
                preload=[execute_on_worker.__module__],
                hide_paths=[str(Path(CourseDirectory(config=config).root).resolve())],
                limits=kernel_limits(config),
            )
            client.register_plugin(plugin, name=plugin.name)
            try:
                autograder = Autograder(config, staging, log, assignment, pool=plugin.name)
                coordinator = _Coordinator(
                    client, autograder, run, ledger, bar, on_graded, spread=not scheduler
                )
                try:
                    coordinator.grade(todo)
                finally:  # interrupted: drop the queued notebooks before their kernels go
                    client.cancel([*coordinator.futures.values(), *coordinator.handed])
            finally:
                with suppress(Exception):
                    client.unregister_worker_plugin(plugin.name)
    finally:
        bar.close()
        shutil.rmtree(staging, ignore_errors=True)


class _Coordinator:
    """Sanitizes and saves here, while Dask workers execute; keeps a few submissions queued.

    With `spread`, `on_graded` runs on the workers too: this process sanitizes and saves every
    submission, and would otherwise be the one that all the others wait for.
    """

    def __init__(
        self,
        client: Client,
        autograder: Autograder,
        run: GradingRun,
        ledger: Ledger,
        bar: tqdm,
        on_graded: Callable[[list[str]], list[Path]] | None,
        *,
        spread: bool,
    ) -> None:
        self.client = client
        self.autograder = autograder
        self.run = run
        self.ledger = ledger
        self.bar = bar
        self.on_graded = on_graded
        self.completed = as_completed()
        self.jobs: dict[str, NotebookJob] = {}  # by Dask key
        self.futures: dict[str, Future] = {}  # not yet collected, by Dask key
        self.results: dict[str, list[tuple[NotebookJob, NotebookResult]]] = {}  # by student
        self.changes: dict[str, dict[str, list[str]]] = {}  # by student, until saved
        self.expected: dict[str, int] = {}
        self.began: dict[str, float] = {}
        self.digests: dict[str, str] = {}
        self.graded: list[str] = []  # graded, not yet handed to on_graded
        self.spread = spread
        self.handed: dict[Future, list[str]] = {}  # on_graded running on a worker, and for whom

    def grade(self, todo: deque[Submission]) -> None:
        """Grade every submission in `todo`."""
        ahead = 2 * self.run.workers + 2  # submissions in flight, so that no worker waits
        draining = False
        while todo or self.completed.count():
            while todo and len(self.results) < ahead:
                self.submit(todo.popleft())
            if not todo and not draining:
                # Every notebook is queued: start no more kernels than they need.
                with suppress(Exception):
                    self.client.run(resize_worker_pool, self.autograder.pool, 0)
                draining = True
            if self.completed.count():
                ready = self.completed.next_batch(block=False)
                if not ready and self.graded and self.on_graded:
                    self.hand_over(limit=8)  # while the workers are busy
                    continue
                for future in ready or self.completed.next_batch(block=True):
                    self.collect(future)
                if self.spread:
                    self.hand_over()
        self.hand_over()
        self.gather_handed()

    def hand_over(self, limit: int | None = None) -> None:
        """Pass graded students to `on_graded`, at most `limit` of them."""
        if not (self.on_graded and self.graded):
            return
        batch, self.graded = self.graded[:limit], self.graded[limit:] if limit else []
        if self.spread:
            self.handed[self.client.submit(self.on_graded, batch, pure=False)] = batch
        else:
            self.run.written += self.on_graded(batch)

    def gather_handed(self) -> None:
        """Collect the files `on_graded` wrote on the workers; redo here a batch whose task failed.

        Here, an error of `on_graded` itself (a CourseError, say) is raised as it would be
        without workers; a worker that died on the way costs only the time to redo the batch.
        """
        if self.on_graded is None:
            return
        for future, batch in self.handed.items():
            try:
                self.run.written += future.result()
            except Exception:
                self.run.written += self.on_graded(batch)
        self.handed.clear()

    def submit(self, submission: Submission) -> None:
        """Sanitize a submission and send its notebooks to the workers."""
        student = submission.student
        self.began[student] = time.perf_counter()
        self.digests[student] = submission.digest
        try:
            sanitized = self.autograder.sanitize(student)
        except SubmissionError as exc:
            return self.fail(student, str(exc))
        except Exception as exc:  # whatever else one submission does, the others go on
            return self.fail(student, f"could not sanitize: {type(exc).__name__}: {exc}")
        if not sanitized.jobs:
            return self.fail(student, "no notebook of the assignment in the submission")
        self.results[student], self.expected[student] = [], len(sanitized.jobs)
        self.changes[student] = sanitized.changes
        for job in sanitized.jobs:
            future = self.client.submit(execute_on_worker, job, pure=False)
            self.jobs[future.key], self.futures[future.key] = job, future
            self.completed.add(future)

    def collect(self, future: Future) -> None:
        """Take one worker's result; save the submission once all its notebooks are back."""
        job = self.jobs.pop(future.key)
        del self.futures[future.key]
        try:
            result = future.result()
        except Exception as exc:  # the worker process died (KilledWorker), ...
            result = NotebookResult(
                job.student,
                job.assignment,
                job.notebook,
                error=f"the Dask worker failed: {type(exc).__name__}: {exc}",
                retry=True,
            )
        if result.error.startswith("could not execute: KernelStartError"):
            raise CourseError(result.error.removeprefix("could not execute: "))
        if result.protection:
            self.run.protection[result.protection] += 1
        self.results[job.student].append((job, result))
        if len(self.results[job.student]) < self.expected[job.student]:
            return
        done = self.results.pop(job.student)
        changes = self.changes.pop(job.student, {})
        errors = [f"{r.notebook}.ipynb: {r.error}" for _, r in done if r.error]
        if errors:
            return self.fail(job.student, "; ".join(errors), retry=any(r.retry for _, r in done))
        try:
            saved = self.autograder.save(done, changes)
        except Exception as exc:
            return self.fail(job.student, f"could not save the grades: {exc}", retry=True)
        note = "; ".join(saved.notes)
        self.finish(
            Outcome(job.student, "graded", "", self.elapsed(job.student), note, saved.messages)
        )
        self.graded.append(job.student)

    def elapsed(self, student: str) -> float:
        """Return the seconds since the submission was sanitized."""
        return time.perf_counter() - self.began[student]

    def fail(self, student: str, reason: str, *, retry: bool = False) -> None:
        """Record a submission that could not be graded; `retry` it next run if not its fault."""
        if self.autograder.autograded_folder(student).is_dir():
            reason += " (the previous grade is kept)"
        self.changes.pop(student, None)
        self.autograder.discard(student)
        self.finish(Outcome(student, "failed", reason, self.elapsed(student)), remember=not retry)

    def finish(self, outcome: Outcome, *, remember: bool = True) -> None:
        """Record an outcome in the run (and the ledger), and move the progress bar."""
        self.run.outcomes.append(outcome)
        if remember:
            self.ledger.record(
                self.run.assignment, outcome.student, self.digests[outcome.student], outcome
            )
        self.bar.update(1)
        self.bar.set_postfix(
            graded=self.run.count("graded"), failed=self.run.count("failed"), refresh=False
        )
