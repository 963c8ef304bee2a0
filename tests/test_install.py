"""A student installs the self-check alone: the package with only its own dependencies, in a
fresh virtual environment, runs `softmax-course check` on a downloaded notebook.

The new environment sees no system or test site-packages. Its dependencies are the installed
distributions that pyproject.toml's `dependencies` need (and theirs, transitively), linked from
this test's environment, so the test runs offline and in seconds; `pip check` then confirms
that they satisfy the package's requirements. The package itself is installed by pip from a copy
of the repository with `--no-deps`, as a student's `pip install` builds it (setuptools comes
from the package index or pip's cache, as for `make`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from importlib.metadata import Distribution, distribution
from pathlib import Path

import nbformat
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT
from tests.harness import reference_submission, visible_points

LEFT_OUT = ["nbgrader", "nbformat", "jupyter_book", "dask", "playwright", "pytest", "IPython"]
"""Modules a student's self-check must do without."""


def core_closure() -> list[Distribution]:
    """Return the installed distributions that softmax-course's own dependencies pull in."""
    seen: dict[str, Distribution] = {}
    todo = [Requirement(r) for r in distribution("softmax-course").requires or []]
    while todo:
        requirement = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue  # an extra, or another platform's need
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen[name] = distribution(name)
        todo += [Requirement(r) for r in seen[name].requires or []]
    return list(seen.values())


def link_into(site: Path, dist: Distribution) -> None:
    """Make `dist`'s installed files visible in the site-packages folder `site`."""
    tops = {Path(str(entry)).parts[0] for entry in dist.files or []}
    for top in sorted(tops - {".."}):
        source = Path(str(dist.locate_file(top)))
        if source.exists() and not (site / top).exists():
            (site / top).symlink_to(source)


def test_the_self_check_installs_and_runs_without_the_extras(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    closure = core_closure()
    names = {canonicalize_name(d.metadata["Name"]) for d in closure}
    assert names.isdisjoint({"nbgrader", "jupyter-book", "dask", "playwright", "pytest"}), names
    for dist in closure:
        link_into(site, dist)
    project = tmp_path / "project"
    shutil.copytree(
        ROOT, project, ignore=shutil.ignore_patterns(
            ".venv", ".git", "_build", "*.egg-info", "__pycache__", "build", "tests", "book"
        ),
    )  # fmt: skip
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    installed = subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", str(project)], capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    consistent = subprocess.run([*pip, "check"], capture_output=True, text=True)
    assert consistent.returncode == 0, consistent.stdout + consistent.stderr

    probe = f"import importlib.util as u; print([m for m in {LEFT_OUT!r} if u.find_spec(m)])"
    found = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]", found.stdout

    student = tmp_path / "downloads"
    student.mkdir()
    nb = reference_submission("softmax-derivatives")
    nb.cells.append(nbformat.v4.new_code_cell("%time 1 + 1"))  # IPython syntax, without IPython
    nbformat.write(nb, student / "work.ipynb")
    checked = subprocess.run(
        [venv / "bin" / "softmax-course", "check", "work.ipynb"],
        cwd=student, capture_output=True, text=True,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"Visible tests: {visible_points('softmax-derivatives')} points" in checked.stdout
    assert "uses IPython syntax ('%time 1 + 1')" in checked.stdout
    assert "pip install ipython" in checked.stdout
    assert sysconfig.get_path("purelib") not in checked.stdout + checked.stderr
