"""Debian's Chromium driven by Playwright, and the built book served on localhost with the network
cut off: fixtures `chromium_path`, `browser` and `site` (the base URL of the served book).

Nothing here installs anything: the project's set-up installs Debian's `chromium`; without it the
browser tests are skipped with a one-line reason.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from softmax_course.publish.browser import CHROMIUM, FLAGS, MISSING, serve


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Return the path of Debian's Chromium, or skip with the one-line reason it is missing."""
    path = shutil.which(CHROMIUM)
    if path is None:
        pytest.skip(MISSING)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    """Start headless Chromium once per session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def site(built_book: Path) -> Iterator[str]:
    """Serve the built book on localhost for the session; return its base URL."""
    with serve(built_book) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def tour(browser, site: str):
    """Return the session's SiteTour: each page visited once, in light and dark mode."""
    from tests.site_tour import SiteTour

    return SiteTour(browser, site)
