"""The student's self-check: scored as nbgrader scores, cells compared with the release, fast to
start, and clear about broken files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from softmax_course.check import check_notebook, run_notebook
from softmax_course.cli import main
from softmax_course.course import ASSIGNMENTS
from softmax_course.grading.preprocessors.list_released_cells import ListReleasedCells
from softmax_course.notebooks import METADATA_KEY, cell_checksum, load_notebook
from tests.conftest import ROOT
from tests.harness import (
    CORPUS,
    answer_cells,
    load_implementation,
    reference_submission,
    visible_points,
)


def released(assignment: str) -> nbformat.NotebookNode:
    """The release notebook as `softmax-course release` writes it, with its list of cells."""
    nb = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", 4)
    nb, _ = ListReleasedCells().preprocess(nb, {})
    return nb


def solved(assignment: str) -> nbformat.NotebookNode:
    nb = reference_submission(assignment)
    nb.metadata = released(assignment).metadata
    return nb


def check(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", str(path)])
    return result.exit_code, result.output


def grade_cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


# -- compared with the release -----------------------------------------------------------------


def test_checksum_is_nbgraders_for_every_cell_of_every_notebook() -> None:
    from nbgrader.utils import compute_checksum

    for folder in ("exercises", "solutions"):
        for name in ASSIGNMENTS:
            path = ROOT / folder / name / f"{name}.ipynb"
            for ours, theirs in zip(
                load_notebook(path)["cells"], nbformat.read(path, 4).cells, strict=True
            ):
                if "nbgrader" in theirs.metadata:
                    assert cell_checksum(ours) == compute_checksum(theirs), (path, theirs.source)


def test_a_deleted_test_cell_is_reported_missing_and_fails_the_check(tmp_path: Path) -> None:
    nb = solved("softmax")
    nb.cells.remove(grade_cell(nb, "softmax_known_values"))
    nbformat.write(nb, tmp_path / "softmax.ipynb")
    code, output = check(tmp_path / "softmax.ipynb")
    assert code == 1
    assert "MISSING     0/1  softmax_known_values" in output
    assert "test cell 'softmax_known_values' (1 point) is missing" in output
    left = visible_points("softmax", without=("softmax_known_values",))
    assert f"Visible tests: {left} points" in output  # the deleted test's point is not given


def test_without_the_list_a_deleted_test_is_found_from_the_release_in_the_course(
    tmp_path: Path,
) -> None:
    (tmp_path / "nbgrader_config.py").write_text("")
    (tmp_path / "exercises" / "softmax").mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "softmax" / "softmax.ipynb", tmp_path / "exercises/softmax")
    nb = reference_submission("softmax")
    nb.metadata.pop(METADATA_KEY, None)
    nb.cells.remove(grade_cell(nb, "setup"))
    (tmp_path / "work").mkdir()
    nbformat.write(nb, tmp_path / "work" / "softmax.ipynb")
    result = check_notebook(tmp_path / "work" / "softmax.ipynb")
    assert result.problems == ["locked cell 'setup' is missing; grading uses it as released"]
    assert result.release.endswith("exercises/softmax/softmax.ipynb")


def test_an_edited_test_or_locked_cell_is_reported_and_fails_the_check(tmp_path: Path) -> None:
    nb = solved("softmax")
    test = grade_cell(nb, "softmax_example")
    test.source = test.source.replace("atol=1e-4", "atol=1")
    grade_cell(nb, "softmax_task").source += "\nMy notes."
    nbformat.write(nb, tmp_path / "softmax.ipynb")
    code, output = check(tmp_path / "softmax.ipynb")
    assert code == 1
    assert "EDITED     -/2  softmax_example" in output
    assert "test cell 'softmax_example' (2 points) was edited" in output
    assert "locked cell 'softmax_task' was edited" in output


def test_an_edit_is_found_even_when_the_cells_checksum_was_edited_too(tmp_path: Path) -> None:
    nb = solved("softmax")
    test = grade_cell(nb, "softmax_example")
    test.source = "pass"
    test.metadata.nbgrader.checksum = cell_checksum(test)
    nbformat.write(nb, tmp_path / "softmax.ipynb")
    assert check_notebook(tmp_path / "softmax.ipynb").problems == [
        "test cell 'softmax_example' (2 points) was edited; grading uses it as released"
    ]


def test_a_solved_release_passes_and_an_unlisted_notebook_says_what_it_cannot_see(
    tmp_path: Path,
) -> None:
    nbformat.write(solved("argmax"), tmp_path / "argmax.ipynb")
    code, output = check(tmp_path / "argmax.ipynb")
    assert code == 0, output
    assert "Warning" not in output and "Note" not in output
    bare = reference_submission("argmax")
    bare.metadata.pop(METADATA_KEY, None)
    nbformat.write(bare, tmp_path / "argmax.ipynb")
    code, output = check(tmp_path / "argmax.ipynb")
    assert code == 0 and "a deleted test cell cannot be noticed here" in output


def test_release_lists_every_nbgrader_cell_in_the_notebook_metadata(tmp_path: Path) -> None:
    from softmax_course.release import release

    [path] = release(ROOT, assignments=["softmax"], release_dir=tmp_path)
    nb = json.loads(path.read_text())
    listed = nb["metadata"][METADATA_KEY]["released_cells"]
    assert [meta["grade_id"] for meta in listed] == [
        cell["metadata"]["nbgrader"]["grade_id"] for cell in nb["cells"]
    ]
    assert [meta["checksum"] for meta in listed] == [
        cell["metadata"]["nbgrader"]["checksum"] for cell in nb["cells"]
    ]


# -- scored as nbgrader scores -------------------------------------------------------------------


def nbgrader_points(nb: nbformat.NotebookNode, folder: Path) -> dict[str, float]:
    """Run `nb` in a Jupyter kernel with nbgrader's Execute and IgnorePattern, as grading does."""
    from nbgrader.preprocessors import Execute, IgnorePattern
    from nbgrader.utils import determine_grade, is_grade, is_solution
    from traitlets.config import Config

    from softmax_course.course import STDERR_WARNINGS_PATTERN

    config = Config()
    config.IgnorePattern.enabled = True
    config.IgnorePattern.pattern = STDERR_WARNINGS_PATTERN
    resources = {"metadata": {"path": str(folder)}}
    nb, _ = Execute(config=config).preprocess(nb, resources)
    nb, _ = IgnorePattern(config=config).preprocess(nb, resources)
    return {
        c.metadata.nbgrader["grade_id"]: determine_grade(c)[0]
        for c in nb.cells
        if is_grade(c) and not is_solution(c)
    }


def test_wrong_softmax_implementations_score_as_in_a_jupyter_kernel(tmp_path: Path) -> None:
    """Every corpus implementation of softmax, run without a kernel, scores as nbgrader."""
    from softmax_course.check import score

    for path in sorted((CORPUS / "softmax").glob("*.py")):
        implementation = load_implementation(path, {"softmax"})
        nb = solved("softmax")
        answer_cells(nb)["softmax"].source = path.read_text()
        expected = nbgrader_points(nbformat.from_dict(json.loads(json.dumps(nb))), tmp_path)
        ran = run_notebook(nb, tmp_path)
        got = {
            c.metadata.nbgrader["grade_id"]: score(c, float(c.metadata.nbgrader["points"]))
            for c in ran.cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
        }
        assert got == expected, (implementation.path.name, got, expected)


def run_test_cells(tmp_path: Path, *sources: str, timeout: float = 30) -> list[list[dict]]:
    """Run code cells as the check runs a notebook; return each cell's outputs."""
    nb = new_notebook(cells=[new_code_cell(source) for source in sources])
    return [cell.outputs for cell in run_notebook(nb, tmp_path, timeout=timeout).cells]


def test_outputs_are_a_kernels(tmp_path: Path) -> None:
    from softmax_course.check import score

    outputs = run_test_cells(
        tmp_path,
        "import numpy as np\nnp.exp(1000.0)",  # a RuntimeWarning only: dropped
        "import sys\nprint('oops', file=sys.stderr)",  # real stderr: 0 points
        "0.5",  # partial credit
        "0.5;",  # no value shown
        "import os\nos.system('echo from C')",  # file-descriptor output is captured
        "raise ValueError('first line\\nsecond')",
        "import sys\nsys.exit(3)",
    )
    assert outputs[0] == [
        {"output_type": "execute_result", "data": {"text/plain": "np.float64(inf)"}}
    ]
    assert outputs[1] == [{"output_type": "stream", "name": "stderr", "text": "oops\n"}]
    assert score({"outputs": outputs[1]}, 2) == 0 and score({"outputs": outputs[2]}, 2) == 0.5
    assert outputs[3] == []
    assert outputs[4][0] == {"output_type": "stream", "name": "stdout", "text": "from C\n"}
    assert (outputs[5][0]["ename"], outputs[5][0]["evalue"]) == ("ValueError", "first line\nsecond")
    assert outputs[6][0]["ename"] == "SystemExit"


def test_ipython_syntax_runs_through_ipython(tmp_path: Path) -> None:
    outputs = run_test_cells(tmp_path, "x = 2\n%time y = x + 1\ny", "!echo hello")
    assert outputs[0][-1]["data"]["text/plain"] == "3"
    assert outputs[1][0]["text"].strip() == "hello"


def test_a_cell_past_its_time_and_a_dying_process_end_in_errors(tmp_path: Path) -> None:
    outputs = run_test_cells(
        tmp_path, "while True:\n    pass", "import os\nos._exit(9)", "1 + 1", timeout=1
    )
    assert outputs[0][0]["evalue"] == "the cell ran longer than 1 s"
    assert "exit code 9" in outputs[1][0]["evalue"]
    assert outputs[2][0]["evalue"] == "not run: the cells stopped earlier"


# -- fast, quiet, and clear about broken files -------------------------------------------------


def test_the_check_imports_neither_nbgrader_nor_nbformat_nor_jsonschema() -> None:
    code = (
        "import sys, softmax_course.cli, softmax_course.check;"
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'nbgrader', 'nbformat', 'nbconvert', 'jsonschema', 'jupyter_client', 'IPython'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_check_prints_nothing_but_its_report(tmp_path: Path) -> None:
    nbformat.write(solved("softmax-derivatives"), tmp_path / "softmax-derivatives.ipynb")
    result = subprocess.run(
        [Path(sys.executable).parent / "softmax-course", "check", "softmax-derivatives.ipynb"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.strip().splitlines()
    assert all(line.split()[0] in {"PASS", "HIDDEN"} for line in lines[:-2]), lines
    assert lines[-1].startswith(f"Visible tests: {visible_points('softmax-derivatives')} points")


@pytest.mark.parametrize("checkpoint", [False, True])
def test_broken_json_is_located_in_one_line_with_a_way_back(tmp_path: Path, checkpoint) -> None:
    path = tmp_path / "softmax.ipynb"
    text = (ROOT / "exercises" / "softmax" / "softmax.ipynb").read_text()
    lines = text.splitlines(keepends=True)
    lines[9] = lines[9].replace('"', "", 1)
    path.write_text("".join(lines))
    if checkpoint:
        (tmp_path / ".ipynb_checkpoints").mkdir()
        (tmp_path / ".ipynb_checkpoints" / "softmax-checkpoint.ipynb").write_text(text)
    code, output = check(path)
    assert code == 1 and len(output.strip().splitlines()) == 1, output
    assert "the JSON breaks at line 10, column" in output
    if checkpoint:
        assert ".ipynb_checkpoints/softmax-checkpoint.ipynb" in output
    else:
        assert "Revert Notebook to Checkpoint" in output
    path.write_text(text[: len(text) // 2])
    assert "; the file ends too early)" in check(path)[1]
