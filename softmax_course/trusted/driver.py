"""The verification driver: `verify_async` (and the blocking `verify`) judge a source notebook.

Every autograded test cell of the instructor's notebook runs in a fresh trusted `_Session`
against the student's kernel, and gets a `TrustedVerdict`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode

from softmax_course.notebooks import read_notebook
from softmax_course.trusted.cells import _plan
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


def verify(
    client: Any,
    source_nb: NotebookNode | Path | str,
    *,
    timeout: float = 30.0,
    cell_timeout: float = 120.0,
    kernel_alive: Callable[[], Awaitable[bool] | bool] | None = None,
    interrupt: Callable[[], Awaitable[None] | None] | None = None,
) -> dict[str, TrustedVerdict]:
    """Blocking `verify_async`, for a BlockingKernelClient, from a thread with no running loop."""
    return asyncio.run(
        verify_async(
            client,
            source_nb,
            timeout=timeout,
            cell_timeout=cell_timeout,
            kernel_alive=kernel_alive,
            interrupt=interrupt,
        )
    )
