"""Trusted verification: the tests are judged outside the student's kernel, so the student's code
cannot fake a pass; for honest submissions the verdicts equal nbgrader's in-kernel verdicts."""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pytest
import sympy as sp
from jupyter_client.manager import AsyncKernelManager, KernelManager
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.preprocessors import Execute, IgnorePattern
from nbgrader.utils import determine_grade, is_grade, is_solution
from traitlets.config import Config

from softmax_course import trusted
from softmax_course.check import run_notebook
from softmax_course.course import ASSIGNMENTS, STDERR_WARNINGS_PATTERN
from softmax_course.notebooks import failure_message
from softmax_course.trusted import codec, link
from tests.harness import (
    CORPUS,
    ROOT,
    answer_cells,
    load_implementation,
    reference_submission,
)

GRADED = [name for name in ASSIGNMENTS if (ROOT / "solutions" / name).is_dir()]
HOSTILE = ROOT / "tests" / "hostile_grades"
assert len(list(HOSTILE.glob("*.py"))) >= 9, "the hostile corpus shrank"
PWNED = Path("/tmp/softmax-trusted-pwned")  # what srepr_injection.py would create if eval'd

WRONG_SAMPLE = [
    "argmax/wrong_jacobian_mutates_input.py",  # the caller's array changed in place
    "argmax/wrong_jacobian_aliased_outputs.py",  # a test-defined lambda shipped to the kernel
    "argmax/wrong_species_returns_index.py",
    "softmax/wrong_no_max_subtraction.py",  # warnings re-emitted and recorded
    "softmax/wrong_returns_list.py",  # a list stays a list
    "softmax-derivatives/wrong_vjp_forms_jacobian.py",  # kernel memory figures, same message
    "softmax-derivatives/wrong_symbolic_returns_list.py",  # SymPy objects inside a list
    "softmax-derivatives/wrong_symbolic_sign_error.py",
    "softmax-derivatives/wrong_jacobian_one_flower_only.py",  # exceptions rebuilt
    "softmax-general-equation/wrong_lse_float32.py",  # float32 data kept exact
    "softmax-general-equation/wrong_log_softmax_log_of_softmax.py",
    "softmax-properties/wrong_temperature_no_max.py",
    "softmax-properties/wrong_properties_sorted_positions.py",  # test-defined functions sent in
    "softmax-derivatives/wrong_quotient_rule_differentiates_quotient.py",  # SymPy arguments
    "cross-entropy/wrong_ce_log_of_softmax.py",  # log(0) warning recorded, inf compared
    "cross-entropy/wrong_fit_ignores_bias.py",  # a tuple of arrays back from a training loop
]

assert {name.split("/")[0] for name in WRONG_SAMPLE} == set(GRADED), "a wrong file per assignment"


def execute_config() -> Config:
    """The configuration of check.run_notebook: nbgrader's Execute, warning-only stderr dropped."""
    config = Config()
    config.Execute.timeout = 30
    config.IgnorePattern.enabled = True
    config.IgnorePattern.pattern = STDERR_WARNINGS_PATTERN
    return config


def source_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)


def submission(
    assignment: str, function: str | None = None, code: str = ""
) -> nbformat.NotebookNode:
    """The reference submission, one answer replaced, locked cells as autograde restores them."""
    nb = reference_submission(assignment)
    if function is not None:
        answer_cells(nb)[function].source = code
    locked = {
        cell.metadata.nbgrader["grade_id"]: cell.source
        for cell in source_notebook(assignment).cells
        if cell.cell_type == "code"
        and "grade_id" in cell.metadata.get("nbgrader", {})
        and not is_solution(cell)
    }
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade_id") in locked:
            cell.source = locked[meta["grade_id"]]  # hidden tests back, as OverwriteCells does
    return nb


@dataclass
class Run:
    kernel: dict[str, float | None]  # nbgrader's points per test cell, from the kernel's outputs
    messages: dict[str, str]  # check.failure_message of each test cell
    trusted: dict[str, trusted.TrustedVerdict]
    verify_seconds: float


@asynccontextmanager
async def started_executor(nb: nbformat.NotebookNode, folder: Path) -> AsyncIterator[Execute]:
    """nbgrader's Execute for `nb`, with a started kernel of our own and its client."""
    manager = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(folder / "k"))
    await manager.start_kernel(cwd=str(folder))
    executor = Execute(config=execute_config())
    NotebookClient.__init__(executor, nb, manager)
    executor.reset_execution_trackers()
    executor.resources = {"metadata": {"path": str(folder)}}
    try:
        async with executor.async_setup_kernel():
            yield executor
    finally:
        if executor.kc is not None:
            executor.kc.stop_channels()
        await manager.shutdown_kernel(now=True)


async def _execute_and_verify(
    nb: nbformat.NotebookNode,
    source: nbformat.NotebookNode,
    folder: Path,
    *,
    run_tests: bool = True,
    **options: float,
) -> Run:
    """Run `nb` as the grading engine does (nbgrader's Execute, cell by cell, in a kernel of our
    own), then verify the same kernel. With run_tests=False only the other cells run first."""
    async with started_executor(nb, folder) as executor:
        for index, cell in enumerate(nb.cells):
            if run_tests or not (is_grade(cell) and not is_solution(cell)):
                await executor.async_execute_cell(cell, index, store_history=True)
        started = time.perf_counter()
        verdicts = await trusted.verify_async(executor.kc, source, **options)
        seconds = time.perf_counter() - started
    nb, _ = IgnorePattern(config=execute_config()).preprocess(nb, {})
    messages = {
        cell.metadata.nbgrader["grade_id"]: failure_message(cell)
        for cell in nb.cells
        if cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)
    }
    return Run(trusted.kernel_points(nb), messages, verdicts, seconds)


def execute_and_verify(nb, source, folder: Path, **options) -> Run:
    return asyncio.run(_execute_and_verify(nb, source, folder, **options))


def header(path: Path) -> dict[str, str]:
    """The `field: value` lines of a hostile file's docstring (values may continue indented)."""
    doc = path.read_text().split('"""')[1]
    return {
        key: " ".join(value.split())
        for key, value in re.findall(r"^([a-z ]+):\s*(.+?)(?=^\S|\Z)", doc, re.M | re.S)
    }


# -- (a) the reference solutions --------------------------------------------------------------


@pytest.mark.parametrize("assignment", GRADED)
def test_reference_gets_full_trusted_marks_equal_to_nbgrader(assignment, tmp_path) -> None:
    source = source_notebook(assignment)
    run = execute_and_verify(submission(assignment), source, tmp_path)
    failed = {k: v.message for k, v in run.trusted.items() if not v.passed}
    assert run.trusted and not failed, failed
    assert all(v.points == v.max_points for v in run.trusted.values())
    # The real check flow (check.run_notebook + nbgrader's determine_grade), in a kernel of its own.
    checked = run_notebook(submission(assignment), tmp_path)
    graded = {
        cell.metadata.nbgrader["grade_id"]: determine_grade(cell)[0]
        for cell in checked.cells
        if cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)
    }
    assert graded == {k: v.points for k, v in run.trusted.items()} == run.kernel
    assert trusted.tampering(graded, run.trusted) == []
    print(f"\n{assignment}: {len(run.trusted)} cells verified in {run.verify_seconds:.2f} s")


# -- (b) wrong implementations from the corpus ------------------------------------------------


@pytest.mark.parametrize("name", WRONG_SAMPLE)
def test_wrong_corpus_files_fail_the_same_cells_with_the_same_messages(name, tmp_path) -> None:
    path = CORPUS / name
    assignment = path.parent.name
    functions = set(answer_cells(reference_submission(assignment)))
    function = load_implementation(path, functions).function
    run = execute_and_verify(
        submission(assignment, function, path.read_text()), source_notebook(assignment), tmp_path
    )
    assert {k: v.points for k, v in run.trusted.items()} == run.kernel
    assert {k: v.message for k, v in run.trusted.items()} == run.messages
    phrase = re.search(r"^message:\s*(.+?)\s*$", path.read_text(), re.M)[1]
    assert any(phrase in v.message for v in run.trusted.values() if not v.passed), run.messages
    assert trusted.tampering(run.kernel, run.trusted) == []


# -- (c) hostile submissions ------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(HOSTILE.glob("*.py")), ids=lambda p: p.stem)
def test_hostile_submission_is_failed_and_flagged(path, tmp_path) -> None:
    fields = header(path)
    assert path.read_text().startswith('"""Tries: '), path.name
    assert {"assignment", "function", "fools nbgrader"} <= set(fields), (path.name, fields)
    assignment, function = fields["assignment"], fields["function"]
    fools = [] if fields["fools nbgrader"] == "nothing" else fields["fools nbgrader"].split(", ")
    PWNED.unlink(missing_ok=True)
    run = execute_and_verify(
        submission(assignment, function, path.read_text()), source_notebook(assignment), tmp_path
    )
    print(
        f"\n{path.stem}: nbgrader {sum(p or 0 for p in run.kernel.values()):g}, trusted "
        f"{sum(v.points for v in run.trusted.values()):g} of "
        f"{sum(v.max_points for v in run.trusted.values()):g}; flagged {fools}"
    )
    for grade_id, verdict in run.trusted.items():
        if grade_id in fools:  # nbgrader was fooled, the trusted check is not
            assert run.kernel[grade_id] == verdict.max_points, grade_id
            assert not verdict.passed and verdict.points == 0, (grade_id, verdict)
        else:
            assert verdict.points == run.kernel[grade_id], (grade_id, verdict, run.messages)
    assert trusted.tampering(run.kernel, run.trusted) == fools
    assert not PWNED.exists()


# -- time limits, dead kernels, stderr, exceptions --------------------------------------------

STUBBORN = """
import os
import time

import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    if z.shape == (2, 3) and z[0, 0] == 1.43:  # only the batch test's input
        {action}
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
"""


def verify_only(action: str, tmp_path: Path, **options) -> dict[str, trusted.TrustedVerdict]:
    """Define a softmax that does `action` on the batch test's input, then verify (no nbgrader)."""
    code = STUBBORN.format(action=action)
    run = execute_and_verify(
        submission("softmax", "softmax", code),
        source_notebook("softmax"),
        tmp_path,
        run_tests=False,
        **options,
    )
    return run.trusted


def test_a_call_that_hangs_times_out_and_the_kernel_is_interrupted(tmp_path) -> None:
    started = time.perf_counter()
    verdicts = verify_only("time.sleep(3600)", tmp_path, timeout=2.0)
    assert verdicts["softmax_batches"].message.startswith("timed out: softmax()")
    assert not verdicts["softmax_batches"].passed
    others = [v for k, v in verdicts.items() if k != "softmax_batches"]
    assert all(v.passed for v in others), verdicts  # interrupted, the kernel goes on
    assert time.perf_counter() - started < 20


def test_a_kernel_that_ignores_the_interrupt_fails_the_remaining_calls(tmp_path, monkeypatch):
    monkeypatch.setattr(link, "INTERRUPT_GRACE", 1.0)
    code = (
        "while True:\n            try:\n                time.sleep(0.05)\n"
        "            except KeyboardInterrupt:\n                pass"
    )
    verdicts = verify_only(code, tmp_path, timeout=1.5)
    order = list(verdicts)
    later = order[order.index("softmax_batches") :]
    assert all(verdicts[k].message.startswith("timed out") for k in later), verdicts
    assert all(verdicts[k].passed for k in order[: order.index("softmax_batches")])


def test_a_dead_kernel_fails_that_cell_and_every_later_one(tmp_path) -> None:
    verdicts = verify_only("os._exit(1)", tmp_path)
    order = list(verdicts)
    later = order[order.index("softmax_batches") :]
    assert all(verdicts[k].message.startswith("kernel died") for k in later), verdicts
    assert all(verdicts[k].passed for k in order[: order.index("softmax_batches")])


def test_trusted_side_work_has_a_time_limit_too(tmp_path) -> None:
    """A test cell that never ends (here, by itself) is stopped; the next cells still run."""
    source = new_notebook(
        cells=[
            new_code_cell(
                "def double(x):\n    return 2 * x",
                metadata={
                    "nbgrader": {
                        "grade_id": "double_answer",
                        "solution": True,
                        "grade": False,
                        "locked": False,
                    }
                },
            ),
            new_code_cell(
                "while True:\n    pass",
                metadata={
                    "nbgrader": {
                        "grade_id": "forever",
                        "grade": True,
                        "solution": False,
                        "locked": True,
                        "points": 1,
                    }
                },
            ),
            new_code_cell(
                "assert double(21) == 42",
                metadata={
                    "nbgrader": {
                        "grade_id": "after",
                        "grade": True,
                        "solution": False,
                        "locked": True,
                        "points": 1,
                    }
                },
            ),
            new_code_cell(
                "double(0.25)  # nbgrader's partial credit: a number shown last",
                metadata={
                    "nbgrader": {
                        "grade_id": "partial",
                        "grade": True,
                        "solution": False,
                        "locked": True,
                        "points": 2,
                    }
                },
            ),
        ]
    )
    student = new_notebook(cells=[new_code_cell("def double(x):\n    return 2 * x")])
    run = execute_and_verify(student, source, tmp_path, cell_timeout=1.0)
    assert run.trusted["forever"].message.startswith("timed out")
    assert run.trusted["after"].passed
    assert run.trusted["partial"].points == 0.5 and not run.trusted["partial"].passed
    def alive() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "trusted-tests" and t.is_alive()]

    for _ in range(50):  # an abandoned test thread ends at its next proxied call
        if not alive():
            break
        time.sleep(0.05)
    assert not alive()


def test_stderr_and_exceptions_are_judged_as_nbgrader_judges_them(tmp_path) -> None:
    code = """
import sys

import numpy as np


def softmax(raw, axis=-1):
    z = np.asarray(raw, dtype=float)
    if z.ndim == 3:
        raise KeyError("no cubes")
    if axis == 0:
        raise np.exceptions.AxisError(5, 2)
    if z.shape == (2, 3):
        print("debugging a batch", file=sys.stderr)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
"""
    run = execute_and_verify(
        submission("softmax", "softmax", code), source_notebook("softmax"), tmp_path
    )
    assert {k: v.points for k, v in run.trusted.items()} == run.kernel
    assert {k: v.message for k, v in run.trusted.items()} == run.messages
    assert run.messages["softmax_batches"] == "wrote to stderr: debugging a batch"
    assert run.messages["softmax_axis"].startswith("AxisError: ")


def test_the_blocking_wrapper_works_with_a_blocking_client(tmp_path) -> None:
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        for cell in submission("softmax").cells:
            if cell.cell_type == "code" and not (is_grade(cell) and not is_solution(cell)):
                client.execute_interactive(cell.source, timeout=60)
        verdicts = trusted.verify(client, ROOT / "solutions" / "softmax" / "softmax.ipynb")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert verdicts and all(v.passed for v in verdicts.values())


async def _cell_by_cell(nb, source, folder: Path) -> tuple[int, trusted.CellByCell]:
    """Run `nb` with each test cell judged right after it ran; return how many helpers the
    check defined in the kernel, and the check."""
    async with started_executor(nb, folder) as executor:
        checker = trusted.CellByCell(executor.kc, source)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                await executor.async_execute_cell(cell, index, store_history=True)
                await checker.after_cell(cell.metadata.get("nbgrader", {}).get("grade_id"))
        count = "len([k for k in globals() if k.startswith('_softmax_trusted_')])"
        msg_id = executor.kc.execute("", silent=True, user_expressions={"n": count})
        reply = await executor.async_wait_for_reply(msg_id)
    return int(reply["content"]["user_expressions"]["n"]["data"]["text/plain"]), checker


def test_consecutive_test_cells_share_a_helper_and_another_cell_renews_it(tmp_path) -> None:
    nb = submission("argmax")
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in code]
    tests = {i for i, c in zip(ids, code, strict=True) if is_grade(c) and not is_solution(c)}
    after = zip([None, *ids[:-1]], ids, strict=True)  # (the cell before, the cell)
    runs = sum(now in tests and prev not in tests for prev, now in after)  # runs of test cells
    helpers, checker = asyncio.run(_cell_by_cell(nb, source_notebook("argmax"), tmp_path))
    assert 1 < runs < len(tests)  # the notebook has both kinds of neighbours
    assert helpers == runs
    assert set(checker.verdicts) == tests and not checker.unconfirmed
    assert all(verdict.passed for verdict in checker.verdicts.values())


def test_concurrent_verifications_keep_their_warnings_apart(tmp_path) -> None:
    """Two notebooks verified at once on one loop (as a kernel pool does): one warns, one not."""
    import warnings

    filters = list(warnings.filters)
    warns = (CORPUS / "softmax" / "wrong_no_max_subtraction.py").read_text()

    async def both() -> list[Run]:
        return await asyncio.gather(
            *[
                _execute_and_verify(
                    nb, source_notebook("softmax"), tmp_path / name, run_tests=False
                )
                for name, nb in [
                    ("quiet", submission("softmax")),
                    ("noisy", submission("softmax", "softmax", warns)),
                ]
            ]
        )

    (tmp_path / "quiet").mkdir()
    (tmp_path / "noisy").mkdir()
    quiet, noisy = asyncio.run(both())
    assert all(v.passed for v in quiet.trusted.values()), quiet.trusted
    assert noisy.trusted["softmax_no_warnings"].message.startswith("AssertionError: softmax warned")
    assert warnings.filters == filters  # the real warnings module was not touched


def test_tampering_lists_cells_where_the_kernel_claimed_more() -> None:
    verdict = trusted.TrustedVerdict
    judged = {
        "a": verdict("a", 1.0, 1.0, "", True),
        "b": verdict("b", 0.0, 2.0, "x", False),
        "c": verdict("c", 0.0, 1.0, "y", False),
        "d": verdict("d", 0.5, 1.0, "", False),
    }
    assert trusted.tampering({"a": 1.0, "b": 2.0, "c": 0.0, "d": None}, judged) == ["b"]


# -- the data codec, without a kernel ---------------------------------------------------------


def roundtrip(value):
    return codec._decode(codec._encode(value))


def test_data_round_trips_exactly() -> None:
    x = sp.Symbol("z_1", real=True)
    values = [
        None,
        True,
        3,
        -(2**80),
        0.1,
        math.inf,
        (1, [2.5, "a"]),
        {"k": (1, 2)},
        b"\x00\xff",
        1 + 2j,
        np.float64(0.25),
        np.int32(-7),
        np.bool_(True),
        np.array([[1.5, np.nan], [np.inf, -np.inf]]),
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.array(["setosa", "virginica"]),
        np.array([1 + 1j]),
        np.zeros((0, 3)),
        np.array(2.0),
        np.array([[1, 2]], dtype=np.int8).T,
        np.array(["2024-01-01"], dtype="datetime64[D]"),
        sp.Matrix([[sp.exp(x) / (sp.exp(x) + 1), sp.Rational(1, 3)], [sp.pi, sp.Float(0.3)]]),
        [sp.Derivative(sp.Function("f")(x), x), sp.KroneckerDelta(x, 1)],
    ]
    for value in values:
        back = roundtrip(value)
        assert type(back) is type(value), (value, back)
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and back.shape == value.shape
            assert np.array_equal(back, value, equal_nan=value.dtype.kind in "fc")
        elif isinstance(value, float) and math.isnan(value):
            assert math.isnan(back)
        else:
            assert back == value, (value, back)


def test_data_from_the_kernel_loses_its_disguises() -> None:
    class Sneaky(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    class Agreeable(np.ndarray):
        pass

    assert type(roundtrip(Sneaky("wrong"))) is str
    assert type(roundtrip(np.ones(3).view(Agreeable))) is np.ndarray
    opaque = roundtrip(iter([1, 2]))
    assert isinstance(opaque, trusted.Opaque) and type(opaque).__name__ == "list_iterator"


@pytest.mark.parametrize(
    "payload",
    [
        {"__sympy__": 'exp(\'__import__("os").system("true")\')'},  # sympify would eval this
        {"__sympy__": "Symbol('x').__class__"},
        {"__sympy__": "__import__('os')"},
        {"__sympy__": "Matrix([['1+1']])"},
        {"__sympy__": "Symbol('x', real=print)"},
        {"__sympy__": "Integer(1)(2)"},
        {"__sympy__": "Pow(Integer(10), Integer(100000000))"},  # would take forever to evaluate
        {"__sympy__": "Float('1', precision=100000000)"},
        {"__ndarray__": "|O8", "shape": [1], "data": "AAAAAAAAAAA="},
        {"__ndarray__": "<f8", "shape": [2], "data": "AAAAAAAAAAA="},
        {"__ndarray__": "<f8", "shape": [-1], "data": "AAAAAAAAAAA="},
        {"__function__": "f1"},
        {"__proxy__": "softmax"},
        {"__dict__": [[[1], 2]]},
        {},
        {"__tuple__": [{"__bytes__": "not base64!"}]},
    ],
)
def test_data_the_checker_refuses(payload) -> None:
    with pytest.raises((ValueError, TypeError, SyntaxError)):
        codec._decode(payload)


def test_deeply_nested_data_is_refused() -> None:
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ValueError):
        codec._decode(deep)
