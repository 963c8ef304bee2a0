"""LimitOutputBytes: outputs capped by bytes, quickly, and every cell keeps its nbgrader grade."""

from __future__ import annotations

import base64
import copy
import tracemalloc
from typing import Any

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import IgnorePattern, LimitOutput
from nbgrader.utils import determine_grade
from traitlets import TraitError
from traitlets.config import Config

from softmax_course.course import STDERR_WARNINGS_PATTERN
from softmax_course.grading.preprocessors.limit_output_bytes import (
    LimitOutputBytes,
    clip,
    marker,
    nbytes,
    output_size,
)
from softmax_course.notebooks import failure_message

MB = 2**20
PER_OUTPUT = 100_000


# Outputs built directly (nbformat.v4.new_output validates each one: too slow for millions).


def stream(name: str, text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name=name, text=text)


def error(evalue: str, traceback: list[str], ename: str = "AssertionError") -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=traceback)


def result(data: dict[str, Any], kind: str = "execute_result") -> NotebookNode:
    output = NotebookNode(output_type=kind, data=NotebookNode(data), metadata=NotebookNode())
    if kind == "execute_result":
        output.execution_count = 1
    return output


def graded_cell(outputs: list[Any], points: float = 2) -> NotebookNode:
    cell = nbformat.v4.new_code_cell("test()")
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "t",
        "points": points,
        "solution": False,
        "locked": True,
    }
    cell.outputs = outputs
    return cell


def limited(*cells: NotebookNode, **limits: int) -> list[NotebookNode]:
    nb = NotebookNode(cells=list(cells), metadata=NotebookNode(), nbformat=4, nbformat_minor=5)
    nb, _ = LimitOutputBytes(**limits).preprocess(nb, {})
    return nb.cells


def grade(cell: NotebookNode) -> Any:
    """nbgrader's grade of a cell, or the exception it raises (compared by type and text)."""
    try:
        return determine_grade(cell)
    except Exception as exc:
        return (type(exc).__name__, str(exc))


def assert_same_grade(cell: NotebookNode, **limits: int) -> NotebookNode:
    """Limit a copy of `cell`; assert its grade did not change and the notebook is valid."""
    before = grade(cell)
    (after,) = limited(copy.deepcopy(cell), **limits)
    assert grade(after) == before
    nbformat.validate(nbformat.v4.new_notebook(cells=[after]))
    return after


def text_of(output: NotebookNode) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return output.evalue + "".join(output.traceback)
    return "".join(str(value) for value in output.data.values())


# The four cases of the brief: what nbgrader grades must not move.


def test_passing_cell_with_huge_stdout_keeps_full_points() -> None:
    cell = graded_cell([stream("stdout", "x" * (10 * MB))])
    after = assert_same_grade(cell)
    assert grade(after) == (2.0, 2.0)
    (out,) = after.outputs
    assert out.name == "stdout" and nbytes(out.text) <= PER_OUTPUT
    assert out.text.endswith(marker(10 * MB, PER_OUTPUT, "output"))
    assert (
        "… [output truncated: 10,485,760 bytes, the limit is 100,000 bytes per output]" in out.text
    )


def test_failing_cell_with_huge_traceback_stays_an_error() -> None:
    message = "softmax of the iris outputs is wrong " * 300_000
    cell = graded_cell(
        [error(message, ["\x1b[0;31mframe\x1b[0m\n"] * 500_000 + [f"AssertionError: {message}"])]
    )
    after = assert_same_grade(cell)
    assert grade(after) == (0, 2.0)
    (out,) = after.outputs
    assert out.output_type == "error" and out.ename == "AssertionError"
    assert output_size(out) <= PER_OUTPUT
    assert out.traceback[-1].startswith("AssertionError: softmax of the iris")
    assert any(line.startswith("… [output truncated:") for line in out.traceback)
    assert failure_message(after).startswith("AssertionError: softmax of the iris outputs")


def test_cell_with_huge_stderr_keeps_zero() -> None:
    cell = graded_cell([stream("stdout", "ok\n"), stream("stderr", "E" * (5 * MB))])
    after = assert_same_grade(cell)
    assert grade(after) == (0, 2.0)
    assert [(o.output_type, o.name) for o in after.outputs] == [
        ("stream", "stdout"),
        ("stream", "stderr"),
    ]
    assert after.outputs[1].text.endswith("bytes per output]")


@pytest.mark.parametrize(
    "plain",
    [
        "0.5" + " " * (2 * MB),  # a number padded with blanks: nbgrader reads 0.5
        " " * (2 * MB) + "1.25",
        "0." + "0" * (2 * MB) + "1",  # a very long number: about 0
        "1" * (2 * MB),  # more points than the cell has: nbgrader raises ValueError
        "-" + "1" * (2 * MB),  # negative: nbgrader gives full points
        "[0.5, 0.5] " * 200_000,  # not a number: full points
        ["0.", "5" * (2 * MB)],  # a list of several strings: full points
        ["0.75" + " " * (2 * MB)],  # a list of one number
        "nan" + " " * (2 * MB),
    ],
    ids=["padded", "leading-blanks", "long", "too-big", "negative", "text", "list", "list1", "nan"],
)
def test_partial_credit_execute_result_keeps_its_number(plain: str | list[str]) -> None:
    cell = graded_cell([result({"text/plain": plain, "image/png": "iVBOR" * MB})])
    after = assert_same_grade(cell)
    assert output_size(after.outputs[0]) <= PER_OUTPUT
    assert after.outputs[0].output_type == "execute_result"
    assert "image/png" not in after.outputs[0].data  # half an image is no image
    assert after.outputs[1].name == "stdout" and "image/png of" in after.outputs[1].text


def test_partial_credit_numbers_read_back_exactly() -> None:
    (after,) = limited(graded_cell([result({"text/plain": "1.5" + " " * (3 * MB)})], points=3))
    assert after.outputs[0].data["text/plain"] == "1.5"
    assert grade(after) == (1.5, 3.0)


# Every mime type, streams and budgets.


def test_small_outputs_are_left_alone() -> None:
    outputs = [
        stream("stdout", "p = [0.684 0.11 0.206]\n"),
        stream("stdout", "second print\n"),
        result({"text/plain": "<Figure>", "image/png": "iVBORw0KGgo="}, "display_data"),
        result({"text/plain": "0.5"}),
        error("bad", ["Traceback", "AssertionError: bad"]),
    ]
    cell = graded_cell(copy.deepcopy(outputs))
    (after,) = limited(cell)
    assert after.outputs == outputs


def test_display_data_of_every_mime_type() -> None:
    png = base64.b64encode(b"\x89PNG" + b"\0" * (2 * MB)).decode()
    out = result(
        {
            "text/plain": "<Figure size 640x480>",
            "text/html": "<table>" + "<tr><td>1</td></tr>" * 200_000 + "</table>",
            "image/png": png,
            "application/json": {"values": list(range(300_000))},
            "text/latex": "$x$",
        },
        "display_data",
    )
    (after,) = limited(graded_cell([out]))
    (kept,) = after.outputs
    assert output_size(kept) <= PER_OUTPUT
    assert set(kept.data) == {"text/plain", "text/latex"}
    plain = kept.data["text/plain"]
    assert plain.startswith("<Figure size 640x480>\n")
    for mime in ("text/html", "image/png", "application/json"):
        assert f"… [output truncated: {mime} of " in plain
    nbformat.validate(nbformat.v4.new_notebook(cells=[after]))


def test_huge_text_plain_of_a_display_is_cut_with_a_marker() -> None:
    (after,) = limited(graded_cell([result({"text/plain": "y" * MB}, "display_data")]))
    plain = after.outputs[0].data["text/plain"]
    assert nbytes(plain) <= PER_OUTPUT and plain.endswith("bytes per output]")


def test_huge_output_metadata_is_dropped() -> None:
    out = result({"text/plain": "<Figure>"}, "display_data")
    out.metadata = {"junk": "z" * MB}
    (after,) = limited(graded_cell([out]))
    assert after.outputs[0].metadata == {}
    assert "output metadata of" in after.outputs[0].data["text/plain"]


def test_non_ascii_text_is_cut_on_a_character_boundary() -> None:
    text = "é€😀" * 200_000
    (after,) = limited(graded_cell([stream("stdout", text)]))
    kept = after.outputs[0].text
    assert nbytes(kept) <= PER_OUTPUT
    kept.encode("utf-8")  # no half character
    assert text.startswith(kept.rsplit("\n", 1)[0])
    assert f"{nbytes(text):,} bytes" in kept
    assert clip("aé", 2) == "a" and clip("aé", 3) == "aé" and clip("😀", 3) == ""


def test_consecutive_streams_are_cut_together() -> None:
    outputs = [stream("stdout", f"line {i}\n") for i in range(200_000)]
    (after,) = limited(graded_cell(outputs))
    (out,) = after.outputs
    assert out.text.startswith("line 0\nline 1\n") and nbytes(out.text) <= PER_OUTPUT


def test_cell_budget_keeps_what_decides_the_grade() -> None:
    outputs = [stream("stdout", "s" * 90_000) for _ in range(15)]
    outputs = [o for pair in zip(outputs, [stream("stderr", "!")] * 15, strict=True) for o in pair]
    outputs += [error("late", ["AssertionError: late"]), result({"text/plain": "0.5"})]
    cell = graded_cell(outputs)
    after = assert_same_grade(cell)
    assert sum(output_size(o) for o in after.outputs) <= 1_000_000 + 1_000
    names = [(o.output_type, o.get("name")) for o in after.outputs]
    assert ("stream", "stderr") in names and ("error", None) in names
    assert any("per cell]" in text_of(o) for o in after.outputs)


def test_many_tiny_outputs_are_bounded() -> None:
    outputs = [
        result({"text/plain": f"<Figure {i}>", "image/png": "A" * 1_000}, "display_data")
        for i in range(20_000)
    ] + [stream("stderr", "warning: not a python warning\n")]
    after = assert_same_grade(graded_cell(outputs))
    assert grade(after) == (0, 2.0)
    assert len(after.outputs) < 2_000
    assert "more outputs of" in "".join(text_of(o) for o in after.outputs)


def test_notebook_budget_spans_cells() -> None:
    cells = [
        graded_cell([stream("stdout", "x" * 90_000), stream("stderr", "!")]) for _ in range(30)
    ]
    before = [grade(cell) for cell in cells]
    after = limited(*copy.deepcopy(cells), max_bytes_per_notebook=1_000_000)
    assert [grade(cell) for cell in after] == before
    total = sum(output_size(o) for cell in after for o in cell.outputs)
    assert total <= 1_000_000 + 30 * 1_000
    assert "per notebook]" in "".join(text_of(o) for o in after[-1].outputs)


def test_second_pass_changes_nothing() -> None:
    cell = graded_cell(
        [
            stream("stdout", "x" * MB),
            error("e" * MB, ["frame\n"] * 100_000 + ["AssertionError: e"]),
            result({"text/plain": "z" * MB, "text/html": "<p>" * MB}),
        ]
    )
    (once,) = limited(cell)
    (twice,) = limited(copy.deepcopy(once))
    assert twice == once


def test_limits_are_configurable_and_checked() -> None:
    config = Config({"LimitOutputBytes": {"max_bytes_per_output": 5_000}})
    nb = nbformat.v4.new_notebook(cells=[graded_cell([stream("stdout", "x" * 50_000)])])
    nb, _ = LimitOutputBytes(config=config).preprocess(nb, {})
    assert nbytes(nb.cells[0].outputs[0].text) <= 5_000
    (unlimited,) = limited(
        graded_cell([stream("stdout", "x" * 50_000)]),
        max_bytes_per_output=-1,
        max_bytes_per_cell=-1,
        max_bytes_per_notebook=-1,
    )
    assert len(unlimited.outputs[0].text) == 50_000
    with pytest.raises(TraitError):
        LimitOutputBytes(max_bytes_per_output=10)


def test_odd_outputs_never_raise() -> None:
    odd: list[Any] = [
        {"output_type": "stream", "name": "stdout", "text": ["a" * 60_000, "b" * 60_000]},
        {"output_type": "stream"},
        {"output_type": "stream", "name": None, "text": "z" * 200_000},
        {"output_type": "error", "ename": None, "evalue": 3, "traceback": ["t" * 300_000, 5]},
        {"output_type": "error", "traceback": None},
        {"output_type": "display_data", "data": None},
        {"output_type": "mystery", "payload": "q" * 200_000},
        {"output_type": "execute_result", "data": {"text/plain": ["1" * 200_000, "2"]}},
        "not an output",
        None,
    ]
    cell = nbformat.from_dict({"cell_type": "code", "source": "", "metadata": {}, "outputs": odd})
    (after,) = limited(cell)
    assert "not an output" in after.outputs and None in after.outputs
    markdown = nbformat.v4.new_markdown_cell("# title")
    assert limited(markdown)[0] == markdown


# Where it goes among nbgrader's worker steps.


def test_after_ignore_pattern_a_warnings_only_stderr_is_still_dropped() -> None:
    warnings_only = "softmax.py:3: RuntimeWarning: overflow encountered in exp\n" * 20_000
    cell = graded_cell([stream("stderr", warnings_only)])
    config = Config(
        {"IgnorePattern": {"enabled": True, "pattern": STDERR_WARNINGS_PATTERN}},
    )
    nb = nbformat.v4.new_notebook(cells=[cell])
    for step in (IgnorePattern, LimitOutputBytes, LimitOutput):
        nb, _ = step(config=config).preprocess(nb, {})
    assert nb.cells[0].outputs == [] and grade(nb.cells[0]) == (2.0, 2.0)


def test_nbgrader_limit_output_alone_drops_stderr_after_many_lines() -> None:
    """Why bytes and not only lines: nbgrader's LimitOutput turns this 0 into full points."""
    cell = graded_cell([stream("stdout", "line\n" * 1_000), stream("stderr", "Error!\n")])
    nb = nbformat.v4.new_notebook(cells=[copy.deepcopy(cell)])
    nb, _ = LimitOutput().preprocess(nb, {})
    assert grade(cell) == (0, 2.0) and grade(nb.cells[0]) == (2.0, 2.0)
    # LimitOutputBytes (bytes only) keeps it; with max_lines=-1 LimitOutput would too.
    assert grade(limited(copy.deepcopy(cell))[0]) == (0, 2.0)


# Speed and memory: the worker applies it right after execution.


@pytest.mark.parametrize(
    "make",
    [
        lambda: [stream("stdout", "x" * (100 * MB))],
        lambda: [stream("stderr", "é" * (50 * MB))],
        lambda: [result({"text/plain": "<Figure>", "image/png": "A" * (100 * MB)}, "display_data")],
        lambda: [result({"text/plain": "0.5" + " " * (100 * MB)})],
        lambda: [error("v" * (50 * MB), ["frame\n"] * (8 * MB))],
    ],
    ids=["stdout", "stderr-non-ascii", "png", "partial-credit", "traceback"],
)
def test_100_mb_output_is_capped_without_copies(make: Any) -> None:
    cell = graded_cell(make())
    before = grade(cell)
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = LimitOutputBytes().preprocess(nb, {})  # its speed: bench/hot_paths.py
    assert grade(nb.cells[0]) == before
    assert sum(output_size(o) for o in nb.cells[0].outputs) <= PER_OUTPUT + 1_000
    del nb, cell
    cell = graded_cell(make())
    tracemalloc.start()
    try:
        limited(cell)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MiB"


# Property: whatever the outputs, the grade and the failure message's kind stay the same.

TEXT = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["x", "é", "\n", " ", "1", "😀"]), st.integers(0, 4_000)
    ),
)
PAD = st.integers(0, 3_000)
OUTPUT = st.one_of(
    st.builds(stream, st.sampled_from(["stdout", "stderr"]), TEXT),
    st.builds(lambda v, tb: error(v, tb), TEXT, st.lists(TEXT, max_size=5)),
    st.builds(
        lambda p, h, kind: result({"text/plain": p, "text/html": h}, kind),
        st.one_of(
            TEXT,
            st.builds(lambda n, pad: f"{n}" + " " * pad, st.floats(0, 3), st.integers(0, 3_000)),
        ),
        TEXT,
        st.sampled_from(["execute_result", "display_data"]),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OUTPUT, max_size=12))
def test_grade_never_changes(outputs: list[NotebookNode]) -> None:
    cell = graded_cell(outputs, points=3)
    limits = {"max_bytes_per_output": 1_000, "max_bytes_per_cell": 3_000}
    after = assert_same_grade(cell, **limits)
    kinds = [o.output_type for o in outputs if o.output_type == "error"][:1]
    assert [o.output_type for o in after.outputs if o.output_type == "error"][:1] == kinds
    assert message_kind(after) == message_kind(cell)


def message_kind(cell: NotebookNode) -> str:
    """What softmax_course.notebooks.failure_message reports: an error, stderr, or nothing."""
    try:
        return failure_message(cell).partition(":")[0]
    except IndexError:  # check.failure_message fails on a blank stderr stream (not cut here)
        return "wrote to stderr"
