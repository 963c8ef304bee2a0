"""The book builds offline with no warnings, every chapter page exists, and nothing is fetched."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from bs4 import BeautifulSoup

from softmax_course.course import ASSIGNMENTS
from tests.conftest import BIN, ROOT
from tests.harness import (
    toc_files,
)


def test_every_toc_page_is_built(built_book: Path) -> None:
    assert (built_book / "index.html").is_file()
    for name in toc_files():
        assert (built_book / f"{name}.html").is_file(), name


def test_no_page_loads_a_script_or_stylesheet_from_another_host(built_book: Path) -> None:
    offenders = []
    for page in built_book.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(errors="replace"), "html.parser")
        for tag in soup.find_all("script", src=True) + soup.find_all("link", href=True):
            if (
                tag.name == "link"
                and "stylesheet" not in (tag.get("rel") or [])
                and (tag.get("as") not in {"script", "style", "font"})
            ):
                continue
            url = tag.get("src") or tag.get("href")
            if urlparse(url).netloc or url.startswith("//"):
                offenders.append(f"{page.relative_to(built_book)}: {url}")
    assert not offenders, "\n".join(offenders)


def test_mathjax_is_served_from_the_book(built_book: Path) -> None:
    page = (built_book / "book" / "softmax.html").read_text()
    assert re.search(r'<script[^>]+src="\.\./_static/mathjax/tex-chtml\.js(\?v=\w+)?"', page)
    assert (built_book / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_chapters_are_markdown_and_their_notebooks_only_generated_copies() -> None:
    from softmax_course.publish.chapter_notebooks import chapters

    for name in toc_files():
        if name.startswith("book/"):
            assert (ROOT / f"{name}.md").is_file(), f"{name} is not written in Markdown"
    # book/*.ipynb are the launch buttons' copies (make notebooks), one per chapter with code.
    notebooks = sorted((ROOT / "book").rglob("*.ipynb"))
    assert notebooks == sorted(chapter.with_suffix(".ipynb") for chapter in chapters())


def test_an_unchanged_rebuild_executes_no_cell(built_book: Path) -> None:
    chapters = [ROOT / f"{name}.md" for name in toc_files() if (ROOT / f"{name}.md").is_file()]
    for chapter in chapters:
        chapter.touch()  # make Sphinx read every page again; the code is unchanged
    log = subprocess.run(
        [str(BIN / "jupyter-book"), "build", ".", "-n", "-W", "--keep-going"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert log.returncode == 0, log.stdout[-3000:]
    assert "Executing" not in log.stdout + log.stderr
    executable = [c for c in chapters if "{code-cell}" in c.read_text()]
    assert log.stdout.count("Using cached notebook") == len(executable)


def test_each_chapter_links_to_its_graded_notebook(built_book: Path) -> None:
    for name in ASSIGNMENTS:
        chapter = (built_book / "book" / f"{name}.html").read_text()
        assert f'href="../exercises/{name}/{name}.html"' in chapter, name
        exercise = built_book / "exercises" / name / f"{name}.html"
        assert exercise.is_file() and "NotImplementedError" in exercise.read_text(), name
        assert (built_book / "_sources" / "exercises" / name / f"{name}.ipynb").is_file()
