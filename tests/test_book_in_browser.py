"""Every page of the built book, served on localhost with the network cut off and read in Debian's
Chromium: no console error or warning, no failed request, math typeset by the book's own MathJax,
every image loaded with alt text, every internal link resolving, figures on a light background in
dark mode too, and search working. A full-page screenshot of each page lands in
_build/screenshots/ for people to look at."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import expect

from tests.harness import toc_files
from tests.site_tour import open_page

RAW_TEX = ("$$", "\\(", "\\)", "\\[", "\\frac", "\\sum", "\\mathbf")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Return every id and name an HTML file defines."""
    soup = BeautifulSoup(path.read_text(errors="replace"), "html.parser")
    return frozenset(
        value for tag in soup.find_all(True) for value in (tag.get("id"), tag.get("name")) if value
    )


def broken(links: list[str], site: str, built_book: Path) -> list[str]:
    """Return the links to this site whose file or #fragment does not exist."""
    missing = []
    for href in links:
        url = urlparse(href)
        if f"{url.scheme}://{url.netloc}/" != site:
            continue
        target = built_book / unquote(url.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file() or (
            url.fragment and target.suffix == ".html" and url.fragment not in anchors(target)
        ):
            missing.append(href)
    return missing


@pytest.mark.parametrize("name", toc_files())
def test_page_loads_cleanly_offline(tour, name: str) -> None:
    report = tour.report(name)
    assert not report.blocked, f"requests to other hosts: {report.blocked}"
    assert not report.failed, f"failed requests: {report.failed}"
    assert not report.console, "\n".join(report.console)


@pytest.mark.parametrize("name", toc_files())
def test_math_is_typeset_and_no_tex_is_left_in_prose(tour, name: str) -> None:
    report = tour.report(name)
    assert report.math_errors == 0, "MathJax could not typeset a formula"
    assert report.typeset >= report.math
    assert not [tex for tex in RAW_TEX if tex in report.prose], "raw TeX left in the prose"


@pytest.mark.parametrize("name", toc_files())
def test_images_load_and_have_alt_text(tour, name: str) -> None:
    for image in tour.report(name).images:
        assert image["alt"], f"no alt text: {image['src']}"
        assert image["loaded"], f"did not load: {image['src']}"


@pytest.mark.parametrize("name", toc_files())
def test_internal_links_resolve(built_book: Path, site: str, tour, name: str) -> None:
    assert not broken(tour.report(name).links, site, built_book)


@pytest.mark.parametrize("name", [n for n in toc_files() if n.startswith("book/")])
def test_dark_mode_keeps_figures_on_a_light_background(tour, name: str) -> None:
    light, dark = tour.report(name).modes["light"], tour.report(name).modes["dark"]
    assert dark.theme == "dark", "the theme's toggle did not switch to dark mode"
    assert dark.background < 0.05 < 0.8 < light.background, "the page did not darken"
    # The theme dims figures in dark mode (filter: brightness) on a light-grey frame: still far
    # from the dark page. A transparent figure would show the page through (luminance < 0.2).
    assert len(light.figures) == len(dark.figures)
    for (border_light, inside_light), (border_dark, inside_dark) in zip(
        light.figures, dark.figures, strict=True
    ):
        assert border_light > 0.9, "a figure does not sit on a white background in light mode"
        assert border_dark > 0.6, "a figure loses its light background in dark mode"
        assert inside_dark > 0.7 * inside_light, "a figure turns dark in dark mode"


def test_search_finds_softmax(browser, site: str) -> None:
    page, report = open_page(browser, site, "search")
    page.goto(urljoin(site, "search.html?q=softmax"))
    results = page.locator("#search-results ul.search li")
    # Sphinx adds the results one by one, 5 ms apart, and writes the summary after the last one.
    expect(page.locator("#search-results p.search-summary")).to_contain_text(
        "Search finished", timeout=15_000
    )
    assert results.count() >= 5
    assert "softmax" in results.first.inner_text().lower()
    page.context.close()
    assert not report.console + report.failed + report.blocked
