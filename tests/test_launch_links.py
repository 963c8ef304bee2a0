"""The launch and download buttons each page produces: Binder and Colab open the page's own
notebook in the repository (a chapter's jupytext copy, book/<chapter>.ipynb, kept in sync with
the Markdown), and the download menu offers files that exist in the built site."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from tests.conftest import ROOT
from tests.harness import toc_files

REPOSITORY = "softmax-step-by-step/softmax-step-by-step"
BRANCH = "main"


def has_code(name: str) -> bool:
    """Return whether the toc entry `name` is a notebook: an .ipynb or Markdown with code cells."""
    markdown = ROOT / f"{name}.md"
    return (ROOT / f"{name}.ipynb").is_file() and not markdown.is_file() or (
        markdown.is_file() and "{code-cell}" in markdown.read_text()
    )


def header_links(built_book: Path, name: str) -> list[str]:
    """Return the href of every link in the page's header buttons."""
    soup = BeautifulSoup((built_book / f"{name}.html").read_text(), "html.parser")
    header = soup.select_one(".header-article-items")
    return [a["href"] for a in header.select("a[href]")] if header else []


def test_repository_and_branch_are_the_projects() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == f"https://github.com/{REPOSITORY}"
    assert config["repository"]["branch"] == BRANCH
    assert "jupyterhub_url" in config["launch_buttons"]  # the instructor's to set


@pytest.mark.parametrize("name", [n for n in toc_files() if has_code(n)])
def test_notebook_pages_launch_their_own_notebook(built_book: Path, name: str) -> None:
    links = header_links(built_book, name)
    notebook = f"{name}.ipynb"
    assert (ROOT / notebook).is_file(), f"{notebook} is missing: run make notebooks"
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", notebook], cwd=ROOT,
                             capture_output=True)
    assert tracked.returncode == 0, f"{notebook} is not committed, so Binder and Colab lack it"
    assert (
        f"https://mybinder.org/v2/gh/{REPOSITORY}/{BRANCH}?urlpath=lab/tree/{notebook}" in links
    )
    colab = "https://colab.research.google.com/github"
    assert f"{colab}/{REPOSITORY}/blob/{BRANCH}/{notebook}" in links
    downloads = [link for link in links if "_sources/" in link]
    assert any(link.endswith(".ipynb") for link in downloads), "no notebook to download"
    for link in downloads:
        assert (built_book / Path(name).parent / link).resolve().is_file(), link


@pytest.mark.parametrize("name", [n for n in toc_files() if not has_code(n)])
def test_pages_without_code_have_no_launch_button(built_book: Path, name: str) -> None:
    links = header_links(built_book, name)
    assert not [link for link in links if "mybinder.org" in link or "colab." in link]


def test_chapter_notebooks_are_in_sync_with_the_markdown() -> None:
    check = subprocess.run(
        [sys.executable, "-m", "softmax_course.publish.chapter_notebooks", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + "run `make notebooks` and commit book/*.ipynb"


def test_binder_pins_what_the_notebooks_import_at_the_projects_versions() -> None:
    pins = dict(
        line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    binder = dict(
        line.split("==") for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    for name in ["numpy", "matplotlib", "scipy", "sympy", "myst-nb", "ipython", "ipykernel"]:
        assert binder.get(name) == pins[name], name
    assert set(binder) <= set(pins)
