"""`make pdf`: the whole book as one PDF printed by Debian's Chromium from Jupyter Book's
single-page HTML, with math typeset and figures in place. Pages are rendered with poppler's
pdftoppm and read with pdftotext."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import BIN, ROOT
from tests.harness import toc_files

PDF = ROOT / "_build" / "pdf" / "softmax-step-by-step.pdf"


def poppler(tool: str, *args: str) -> str:
    """Run a poppler-utils tool and return its standard output."""
    if shutil.which(tool) is None:
        pytest.skip(f"Debian's poppler-utils is not installed (as root: apt-get install -y {tool})")
    done = subprocess.run([tool, *args], capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def pdf(chromium_path: str, built_book: Path) -> Path:
    """Build the single-page HTML and print it, as `make pdf` does; return the PDF."""
    build = subprocess.run(
        [str(BIN / "jupyter-book"), "build", ".", "--builder", "singlehtml", "-n", "-W",
         "--keep-going"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    printed = subprocess.run(
        [BIN / "python", "-m", "softmax_course.publish.print_pdf", "_build/singlehtml", PDF],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert printed.returncode == 0, printed.stdout + printed.stderr
    return PDF


def pages(pdf: Path) -> int:
    """Return the number of pages of `pdf`."""
    return int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", str(pdf)), re.M).group(1))


def chapter_titles() -> list[str]:
    """Return the numbered chapter headings, "1. ArgMax" and so on, in order."""
    chapters = [name for name in toc_files() if name.startswith("book/")][1:6]
    titles = []
    for number, name in enumerate(chapters, start=1):
        heading = next(line for line in (ROOT / f"{name}.md").read_text().splitlines()
                       if line.startswith("# "))
        titles.append(f"{number}. {heading[2:].strip()}")
    return titles


def test_pdf_has_one_heading_per_chapter_in_order(pdf: Path) -> None:
    body = poppler("pdftotext", "-f", "2", str(pdf), "-").splitlines()  # page 1 is the contents
    lines = [line.strip() for line in body]
    where = []
    for title in chapter_titles():
        assert lines.count(title) == 1, f"{title!r} is a heading {lines.count(title)} times"
        where.append(lines.index(title))
    assert where == sorted(where)


def test_pdf_math_is_typeset(pdf: Path) -> None:
    text = poppler("pdftotext", str(pdf), "-")
    assert "softmax" in text.lower() and "setosa" in text
    # Code cells may hold TeX source (SymPy's, for one); display-math delimiters never do.
    assert "$$" not in text and "\\begin{" not in text


def test_pdf_pages_render_with_text_and_ink(pdf: Path, tmp_path: Path) -> None:
    count = pages(pdf)
    assert count >= 20
    for number in sorted({1, count // 3, count // 2, 2 * count // 3, count}):
        text = poppler("pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-")
        assert len(text.split()) >= 20, f"page {number} holds almost no text"
        poppler("pdftoppm", "-f", str(number), "-l", str(number), "-r", "40", "-png",
                "-singlefile", str(pdf), str(tmp_path / f"page-{number}"))
        image = Image.open(tmp_path / f"page-{number}.png").convert("L")
        ink = sum(1 for value in image.tobytes() if value < 200) / (image.width * image.height)
        assert ink > 0.01, f"page {number} is blank"


def test_interactive_figures_print_their_static_version(pdf: Path) -> None:
    text = " ".join(poppler("pdftotext", str(pdf), "-").replace("’", "'").split())
    assert text.count("interactive figure's static version") == 2  # both captions
    assert "Grey step: ArgMax" not in text  # the live figures' legend and slider labels
    assert "temperature T (log scale)" not in text
