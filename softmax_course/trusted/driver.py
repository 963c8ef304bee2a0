"""The verification driver: judge a source notebook's test cells against the student's kernel.

`CellByCell` judges each test cell right after it ran in the kernel, before any later cell of
the submission runs, so the names a test used are judged as they were when it ran (a later
import or redefinition cannot change the verdict). `verify_async` (and the blocking `verify`)
judge every test cell once the whole notebook has run. Either way each autograded test cell of
the instructor's notebook runs in one trusted `_Session` and gets a `TrustedVerdict`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode

from softmax_course.notebooks import read_notebook
from softmax_course.trusted.cells import _Cell, _plan
from softmax_course.trusted.link import _KernelLink
from softmax_course.trusted.session import _Session
from softmax_course.trusted.verdicts import TrustedVerdict, _failed, _verdict


async def verify_async(
    client: Any,
    source_nb: NotebookNode | Path | str,
    *,
    timeout: float = 30.0,
    cell_timeout: float = 120.0,
    kernel_alive: Callable[[], Awaitable[bool] | bool] | None = None,
    interrupt: Callable[[], Awaitable[None] | None] | None = None,
) -> dict[str, TrustedVerdict]:
    """Judge every autograded test cell of `source_nb` against the student's kernel.

    `client`: a started (Async or Blocking) KernelClient of the kernel in which the submission
    has just run, used by nothing else meanwhile. `source_nb`: the instructor's notebook from
    solutions/ (a NotebookNode or a path), never the submission: its locked and test cells run in
    this process. Returns a TrustedVerdict per autograded test cell, by grade_id, in order.
    """
    nb = source_nb if isinstance(source_nb, NotebookNode) else read_notebook(Path(source_nb))
    answers, cells = _plan(nb)
    session = _Session(_KernelLink(client, kernel_alive, interrupt), answers, timeout)
    problem = await session.start()
    verdicts: dict[str, TrustedVerdict] = {}
    for index, cell in enumerate(cells):
        if not problem and session.dead:
            problem = session.dead
        if problem:
            if cell.grade_id is not None:
                verdicts[cell.grade_id] = _failed(cell, problem)
            continue
        outcome = await session.run(cell, index, cell_timeout)
        if cell.grade_id is not None:
            verdicts[cell.grade_id] = _verdict(cell, outcome)
    return verdicts


class CellByCell:
    """Judges each test cell of the instructor's notebook as soon as it ran in the kernel.

    Call `after_cell(grade_id)` after each code cell the kernel ran. After the test cell
    `grade_id`, the trusted cells up to it (locked setup cells, earlier tests not yet run here)
    run, and it gets its verdict. A fresh helper is defined in the kernel before a check whenever
    another cell (an answer, a setup cell) ran since the last one; consecutive test cells share
    one, since only the released test code ran between them. A test cell whose check could not
    finish (the kernel died or hung meanwhile, or the checks' time `budget` ran out) is
    *unconfirmed*, with the reason: a pass the check could not confirm is not a pass.
    """

    def __init__(
        self,
        client: Any,
        source_nb: NotebookNode,
        *,
        timeout: float = 30.0,
        cell_timeout: float = 120.0,
        budget: float | None = None,
        kernel_alive: Callable[[], Awaitable[bool] | bool] | None = None,
        interrupt: Callable[[], Awaitable[None] | None] | None = None,
    ) -> None:
        answers, self._cells = _plan(source_nb)
        self._tests = frozenset(cell.grade_id for cell in self._cells if cell.grade_id is not None)
        self._link = _KernelLink(client, kernel_alive, interrupt)
        self._answers, self._timeout, self._budget = answers, timeout, budget
        self._cell_timeout = cell_timeout
        self._session: _Session | None = None
        self._stale = True  # a cell other than a test ran since the helper was defined
        self._next = 0  # the first trusted cell not run yet
        self.verdicts: dict[str, TrustedVerdict] = {}
        self.unconfirmed: dict[str, str] = {}  # why, by grade_id

    async def after_cell(self, grade_id: str | None) -> None:
        """Note that the kernel ran the code cell `grade_id`; judge it if it is a test cell."""
        if grade_id in self._tests:
            await self.check(grade_id)
        else:
            self._stale = True

    async def check(self, grade_id: str) -> None:
        """Judge test cell `grade_id`, which has just run in the kernel."""
        upto = next(
            (i for i, c in enumerate(self._cells) if c.grade_id == grade_id and i >= self._next),
            None,
        )
        if upto is None:
            return
        started = time.monotonic()
        if self._session is None:
            self._session = _Session(self._link, self._answers, self._timeout)
        session = self._session
        problem = session.dead or (await session.renew() if self._stale else "")
        self._stale = False
        while self._next <= upto:
            cell, index = self._cells[self._next], self._next
            self._next += 1
            if problem:
                self._unconfirmed(cell, problem)
                continue
            left = None if self._budget is None else self._budget - (time.monotonic() - started)
            if left is not None and left <= 0:
                problem = "the trusted check ran out of time"
                self._unconfirmed(cell, problem)
                continue
            limit = self._cell_timeout if left is None else min(left, self._cell_timeout)
            outcome = await session.run(cell, index, limit)
            if cell.grade_id is None:
                continue
            verdict = _verdict(cell, outcome)
            if session.dead or verdict.message.startswith(("timed out", "kernel died")):
                self._unconfirmed(cell, session.dead or verdict.message)
            else:
                self.verdicts[cell.grade_id] = verdict
        if self._budget is not None:
            self._budget -= time.monotonic() - started

    def _unconfirmed(self, cell: _Cell, reason: str) -> None:
        if cell.grade_id is not None:
            self.unconfirmed[cell.grade_id] = reason


def verify(
    client: Any, source_nb: NotebookNode | Path | str, **options: Any
) -> dict[str, TrustedVerdict]:
    """Blocking `verify_async` (same options), for a BlockingKernelClient, from a thread with no
    running loop."""
    return asyncio.run(verify_async(client, source_nb, **options))
