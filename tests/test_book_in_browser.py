"""The built book read in a real browser with the network cut off: math is typeset from the
book's own MathJax, figures have alt text, and no request leaves the machine."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.harness import toc_files

# Flags that keep Chromium from calling home on a machine with no network (and as root in CI).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser(chromium_path: str):
    """Start headless Chromium once for the module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=FLAGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("name", [n for n in toc_files() if n.startswith("book/")])
def test_page_renders_offline(built_book: Path, browser, name: str) -> None:
    outside = []
    page = browser.new_page()

    def only_local(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto((built_book / f"{name}.html").as_uri())
    if page.locator(".math").count():
        page.wait_for_selector("mjx-container", state="attached", timeout=15_000)
        assert page.locator("mjx-merror").count() == 0, "MathJax could not typeset a formula"
        assert page.locator("mjx-container").count() >= page.locator(".math").count()
    for image in page.locator("article img").all():
        assert (image.get_attribute("alt") or "").strip(), f"{name}: an image has no alt text"
    page.close()
    assert not outside, outside
