"""The command line, driven as a user would in a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from click.testing import CliRunner

from softmax_course.cli import main
from softmax_course.course import ASSIGNMENTS
from tests.conftest import ROOT
from tests.harness import reference_submission, visible_points


def test_check_reports_each_visible_test_with_points(tmp_path: Path) -> None:
    stub = tmp_path / "softmax.ipynb"
    shutil.copy(ROOT / "exercises" / "softmax" / "softmax.ipynb", stub)
    result = CliRunner().invoke(main, ["check", str(stub)])
    assert result.exit_code == 1
    assert "FAIL     0/2  softmax_example" in result.output
    assert "not written yet" in result.output
    assert "HIDDEN" in result.output and "graded after you submit" in result.output


def test_check_passes_a_solved_notebook(tmp_path: Path) -> None:
    solved = tmp_path / "softmax.ipynb"
    nbformat.write(reference_submission("softmax"), solved)
    result = CliRunner().invoke(main, ["check", str(solved)])
    assert result.exit_code == 0, result.output
    assert f"Visible tests: {visible_points('softmax')} points" in result.output
    assert "FAIL" not in result.output


def test_check_explains_bad_input_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    for path, words in [
        (tmp_path / "missing.ipynb", "no such file"),
        (broken, "not a readable notebook"),
        (tmp_path / "answer.py", "not a notebook"),
    ]:
        if path.suffix == ".py":
            path.write_text("print(1)")
        result = CliRunner().invoke(main, ["check", str(path)])
        assert result.exit_code == 1
        assert words in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_nbgrader_validate_accepts_solved_and_flags_stub_notebooks(tmp_path: Path) -> None:
    """nbgrader's own Validate (the button students press on a JupyterHub) works on them."""
    from nbgrader.utils import is_solution
    from nbgrader.validator import Validator

    for name in ASSIGNMENTS:
        solved, stub = tmp_path / f"{name}-solved.ipynb", tmp_path / f"{name}.ipynb"
        nb = reference_submission(name)
        for cell in nb.cells:
            if cell.cell_type == "markdown" and is_solution(cell):
                cell.source = "The output is flat almost everywhere, so its gradient is zero."
        nbformat.write(nb, solved)
        shutil.copy(ROOT / "exercises" / name / f"{name}.ipynb", stub)
        assert Validator().validate(str(solved)) == {}, name
        assert Validator().validate(str(stub)).get("failed"), name


def test_stderr_pattern_is_linear_on_a_flood_and_keeps_real_errors() -> None:
    import re

    from softmax_course.course import STDERR_WARNINGS_PATTERN

    warning = "/tmp/x.py:3: RuntimeWarning: overflow encountered in exp\n  return np.exp(z)\n"
    assert re.search(STDERR_WARNINGS_PATTERN, warning * 3)
    assert not re.search(STDERR_WARNINGS_PATTERN, warning + "a secret print\n")
    # The old pattern backtracked for minutes on this input; its speed: bench/hot_paths.py.
    assert not re.search(STDERR_WARNINGS_PATTERN, "Warning: " * 200_000)


def test_blank_stderr_has_a_message() -> None:
    from nbformat.v4 import new_code_cell, new_output

    from softmax_course.notebooks import failure_message

    cell = new_code_cell("x", outputs=[new_output("stream", name="stderr", text="\n")])
    assert failure_message(cell) == "wrote to stderr: (blank lines)"
