"""LimitedExecute: a cell's and the whole notebook's time limits, outputs kept while running."""

from __future__ import annotations

from collections.abc import Iterator

import nbformat
import pytest
from traitlets.config import Config

from softmax_course.grading.autograde import NotebookJob, NotebookResult, execute
from softmax_course.grading.preprocessors.limit_output_bytes import output_size
from softmax_course.grading.schedule import kernel_limits
from softmax_course.sandbox.kernel_pool import KernelPool, grading_manager_factory
from softmax_course.sandbox.memory_cap import memory_hierarchy
from tests.harness import ROOT

LOOP = "while True:\n    pass"


@pytest.fixture(scope="module")
def pool() -> Iterator[KernelPool]:
    """A pool of sandboxed kernels, as the workers use."""
    pool = KernelPool(size=1, manager_factory=grading_manager_factory([str(ROOT)]))
    yield pool
    pool.close()


def run(
    pool: KernelPool, *sources: str, cell: int = 2, notebook: int = 60, **executor: object
) -> NotebookResult:
    """Execute code cells under these limits, in seconds, and other settings of the executor."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    limited = {"notebook_timeout": notebook, **executor}
    config = {"Execute": {"timeout": cell}, "LimitedExecute": limited}
    job = NotebookJob("someone", "softmax", "limits", nbformat.writes(nb), {}, config)
    return execute(job, pool)


def errors(result: NotebookResult, index: int) -> list[tuple[str, str]]:
    """Return (ename, evalue) of each error output of a cell."""
    outputs = result.cells[index]["outputs"]
    return [(o["ename"], o["evalue"]) for o in outputs if o["output_type"] == "error"]


def text(result: NotebookResult, index: int) -> str:
    """Return what a cell printed."""
    return "".join(o.get("text", "") for o in result.cells[index]["outputs"])


def test_a_cell_that_runs_too_long_is_stopped_and_the_next_cells_run(pool) -> None:
    result = run(pool, "print('before')", LOOP, "print('after')")
    assert errors(result, 1) == [("CellTimeoutError", "cell 2 timed out after 2 s")]
    assert text(result, 0) == "before\n" and text(result, 2) == "after\n"
    assert result.problem == "cell 2 timed out after 2 s"


def test_once_the_notebook_time_is_spent_no_more_cells_run(pool) -> None:
    result = run(pool, LOOP, "import time; time.sleep(10)", "print('never')", cell=3, notebook=4)
    assert errors(result, 0) == [("CellTimeoutError", "cell 1 timed out after 3 s")]
    message = "the notebook timed out after 4 s"
    assert errors(result, 1) == [("CellTimeoutError", message)]
    assert errors(result, 2) == [("CellTimeoutError", message)] and text(result, 2) == ""
    assert result.problem == f"cell 1 timed out after 3 s; {message}"


@pytest.mark.parametrize(
    "death",
    ["import os; os._exit(1)", "import ctypes; ctypes.string_at(0)"],
    ids=["exit", "segfault"],
)
def test_a_dead_kernel_fails_the_cells_from_the_one_running(pool, death) -> None:
    result = run(pool, "print('before')", death, "print('after')")
    died = ("DeadKernelError", "the kernel died while running cell 2")
    assert text(result, 0) == "before\n"
    assert errors(result, 1) == [died] and errors(result, 2) == [died]
    assert result.problem.startswith("the kernel died while running cell 2")


def test_stdout_past_the_cell_budget_is_not_kept_while_running(pool) -> None:
    flood = "for _ in range(50):\n    print('x' * (1 << 20))\nprint('y' * (50 << 20), end='')"
    result = run(pool, flood, "import sys; print('kept', file=sys.stderr)", cell=30)
    kept = sum(output_size(o) for o in result.cells[0]["outputs"])
    assert kept < 3_000_000  # what LimitOutputBytes then cuts to 1 MB
    assert text(result, 0).startswith("[output truncated while running: the cell printed 1")
    assert text(result, 1) == "kept\n"  # stderr is kept whole: nbgrader grades by it
    assert "bytes of output not kept" in result.problem


def test_a_configured_on_notebook_start_hook_runs_once_before_the_cells(pool) -> None:
    started: list[int] = []

    def hook(notebook: nbformat.NotebookNode) -> None:
        started.append(len(notebook.cells[0].outputs))

    run(pool, "print('cell')", on_notebook_start=hook)
    assert started == [0]  # once, with the cell not yet run


@pytest.mark.skipif(memory_hierarchy() is None, reason="no memory cgroup on this machine")
def test_the_kernels_processes_share_one_memory_cap(pool) -> None:
    """Four children of 800 MB each pass the per-process limit (2 GiB), not the kernel's."""
    hog = """import os, time
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        block = bytearray(800 << 20)
        block[::4096] = b"x" * len(block[::4096])
        time.sleep(2)
        os._exit(0)
    children.append(pid)
print(sorted(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children))"""
    result = run(pool, hog, "print('alive')", cell=60)
    assert result.protection.endswith(" + memory cgroup")
    codes = text(result, 0)
    assert codes.startswith("[-9") or "DeadKernelError" in str(errors(result, 0)), codes


@pytest.mark.parametrize(("notebook", "cpu"), [(60, 120), (120, 240), (600, 1200), (-1, 120)])
def test_the_kernels_cpu_limit_leaves_room_for_the_notebook_limit(notebook, cpu) -> None:
    config = Config({"LimitedExecute": {"notebook_timeout": notebook}})
    assert kernel_limits(config).cpu_seconds == cpu
