"""Write book/<chapter>.ipynb, a notebook copy of each chapter, for the launch buttons.

A launch button on a Markdown page would open the Markdown as text (Jupyter Book issue #752), and
sphinx-book-theme links to a notebook of the same name beside the page when there is one. So each
chapter in book/ that has code gets a copy converted by jupytext: the same cells, without outputs,
with cell ids numbered in order (reproducible) and a first cell that installs this course's
package on Google Colab only (Binder and a course JupyterHub have it already). The copies are
generated, never edited: `make notebooks` rewrites them, and a test fails when one is out of date.
They are outside the Sphinx build (`exclude_patterns` in _config.yml).

    .venv/bin/python -m softmax_course.publish.chapter_notebooks [--check]   (or: make notebooks)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]

COLAB_CELL = """\
# Google Colab only: install this course's package and the one library Colab lacks.
import sys

if "google.colab" in sys.modules:
    get_ipython().run_line_magic("pip", "install --quiet myst-nb=={myst_nb}")
    get_ipython().run_line_magic("pip", "install --quiet --no-deps '{package}'")"""


def chapters() -> list[Path]:
    """Return the Markdown chapters in _toc.yml under book/ that hold code cells."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    paths = [ROOT / f"{name}.md" for name in names if name.startswith("book/")]
    return [path for path in paths if path.is_file() and "{code-cell}" in path.read_text()]


def pinned(name: str) -> str:
    """Return the version requirements.txt pins for the distribution `name`."""
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.lower().startswith(f"{name.lower()}=="):
            return line.split("==", 1)[1].strip()
    raise LookupError(f"{name} is not pinned in requirements.txt")


def colab_install() -> str:
    """Return the source of the first cell: on Colab, install the package from the repository."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    package = f"softmax-course @ git+{config['url']}@{config['branch']}"
    return COLAB_CELL.format(myst_nb=pinned("myst-nb"), package=package)


def chapter_notebook(chapter: Path) -> str:
    """Return the .ipynb text of `chapter`, converted by jupytext, with reproducible cell ids."""
    notebook = jupytext.read(chapter)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(colab_install()))
    for number, cell in enumerate(notebook.cells):
        cell.id = f"{chapter.stem}-{number}"
    notebook.metadata.pop("jupytext", None)
    return jupytext.writes(notebook, fmt="ipynb")


def stale() -> list[Path]:
    """Return the chapters whose notebook copy is missing or differs from a fresh conversion."""
    return [
        chapter
        for chapter in chapters()
        if not chapter.with_suffix(".ipynb").is_file()
        or chapter.with_suffix(".ipynb").read_text() != chapter_notebook(chapter)
    ]


def main() -> int:
    """Write every chapter's notebook copy, or with --check list the stale ones and fail."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail if stale")
    if parser.parse_args().check:
        out_of_date = stale()
        for chapter in out_of_date:
            print(f"out of date: {chapter.with_suffix('.ipynb').relative_to(ROOT)}")
        return 1 if out_of_date else 0
    for chapter in chapters():
        chapter.with_suffix(".ipynb").write_text(chapter_notebook(chapter))
        print(f"wrote {chapter.with_suffix('.ipynb').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
