"""nbgrader's Execute with limits for a whole notebook: time, and outputs kept while it runs.

nbgrader limits each cell's time (`Execute.timeout`; the kernel is interrupted and the cell gets
a CellTimeoutError) but not the notebook's: a submission with a slow loop in every cell takes
cells x timeout. `LimitedExecute.notebook_timeout` bounds the whole run; each cell gets at most
what is left of it, and once it is spent every later code cell gets an error saying so.

nbclient keeps every output message of a cell until the cell ends: a cell printing 100 MB holds
100 MB (and much more as Python objects) in the worker. `LimitedExecute` stops keeping a cell's
stdout and display outputs once they pass `LimitOutputBytes.max_bytes_per_cell`, and counts what
it dropped; LimitOutputBytes then cuts the rest as usual. stderr, errors and execute results are
always kept whole: nbgrader grades by them.

A kernel that dies keeps the outputs of the cells run before; every code cell from the one that
was running on gets an error output saying so. Each such event is one line in `problems`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import nbformat
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer

from softmax_course.grading.preprocessors.limit_output_bytes import (
    LimitOutputBytes,
    clip,
    nbytes,
    output_size,
)

TIMEOUT_NAME = "CellTimeoutError"
"""The error name nbgrader's Execute gives a cell that ran out of time."""


def cell_label(cell: NotebookNode, index: int) -> str:
    """Return 'cell N (grade_id)' for a cell of a notebook, as the report names it."""
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")


def error_output(ename: str, message: str) -> NotebookNode:
    """Return an error output with `message`, which nbgrader scores as a failed cell."""
    return nbformat.v4.new_output(
        "error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"]
    )


def _droppable(output: NotebookNode) -> bool:
    kind = output.get("output_type")
    return kind == "display_data" or (kind == "stream" and output.get("name") == "stdout")


class LimitedExecute(Execute):
    """nbgrader's Execute, run cell by cell under a whole-notebook time limit and output cap."""

    notebook_timeout = Integer(
        120,
        help="Seconds a whole notebook may run (every cell included); -1 means no limit",
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keep_bytes = LimitOutputBytes(config=self.config).max_bytes_per_cell
        self.problems: list[str] = []
        self._kept = self._dropped = 0

    def output(
        self,
        outs: list[NotebookNode],
        msg: dict[str, Any],
        display_id: str | None,
        cell_index: int,
    ) -> NotebookNode | None:
        """Keep an output, but only the start of stdout and displays past the cell's budget."""
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or self.keep_bytes < 0 or display_id or not _droppable(out):
            return out
        size = output_size(out)
        room = 2 * self.keep_bytes - self._kept  # LimitOutputBytes cuts to 1x afterwards
        if size <= room:
            self._kept += size
            return out
        if out.output_type == "stream" and room > 0:
            out.text = clip(out.text, room)
            kept = nbytes(out.text)
            self._kept += kept
            self._dropped += size - kept
            return out
        outs.remove(out)
        self._dropped += size
        return None

    async def run_cells(
        self,
        nb: NotebookNode,
        after_cell: Callable[[NotebookNode], Awaitable[None]] | None = None,
    ) -> None:
        """Execute every cell of `nb` in the started kernel (self.kc), within the limits.

        `after_cell`, if given, is awaited after each code cell that ran (e.g. to check it
        outside the kernel); its time does not count against the notebook's limit.
        """
        cell_timeout = self.timeout
        deadline = (
            time.monotonic() + self.notebook_timeout if self.notebook_timeout >= 0 else None
        )
        spent = f"the notebook timed out after {self.notebook_timeout} s"
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left < 1:
                    self._stop(nb, index, TIMEOUT_NAME, spent)
                    return
                by_notebook = left is not None and (cell_timeout is None or left < cell_timeout)
                self.timeout = int(left) if by_notebook else cell_timeout
                what = (
                    spent
                    if by_notebook
                    else f"{cell_label(cell, index)} timed out after {self.timeout} s"
                )
                # nbgrader's Execute appends this error to the cell that ran out of time.
                timed_out = error_output(TIMEOUT_NAME, what)
                self.error_on_timeout = {k: timed_out[k] for k in ("ename", "evalue", "traceback")}
                self._kept = self._dropped = 0
                try:
                    await self.async_execute_cell(cell, index, store_history=True)
                except DeadKernelError:
                    problem = f"the kernel died while running {cell_label(cell, index)}"
                    cell.outputs.append(error_output("DeadKernelError", problem))
                    self._stop(nb, index + 1, "DeadKernelError", problem)
                    return
                finally:
                    self._note_dropped(cell, index)
                if any(o.get("ename") == TIMEOUT_NAME for o in cell.outputs):
                    # The interrupt's KeyboardInterrupt says less than the timeout's own error.
                    cell.outputs = [
                        o for o in cell.outputs if o.get("ename") != "KeyboardInterrupt"
                    ]
                    if by_notebook:
                        self._stop(nb, index + 1, TIMEOUT_NAME, what)
                        return
                    self.problems.append(what)
                if after_cell is not None:
                    paused = time.monotonic()
                    await after_cell(cell)
                    if deadline is not None:
                        deadline += time.monotonic() - paused
        finally:
            self.timeout = cell_timeout

    def _note_dropped(self, cell: NotebookNode, index: int) -> None:
        """Say first in the cell's outputs how much was not kept (a note at the end is cut)."""
        if self._dropped:
            total = self._kept + self._dropped
            self.problems.append(
                f"{cell_label(cell, index)}: {self._dropped:,} bytes of output not kept"
            )
            note = (
                f"[output truncated while running: the cell printed {total:,} bytes; only the "
                f"start is kept, the limit is {self.keep_bytes:,} bytes per cell]\n"
            )
            cell.outputs.insert(0, nbformat.v4.new_output("stream", name="stdout", text=note))

    def _stop(self, nb: NotebookNode, start: int, ename: str, problem: str) -> None:
        """Give every code cell from `start` on one error output saying why it did not run."""
        self.problems.append(problem)
        for cell in nb.cells[start:]:
            if cell.cell_type == "code":
                cell.outputs = [error_output(ename, problem)]
                cell.execution_count = None
