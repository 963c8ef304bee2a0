"""Debian's Chromium driven by Playwright, and the built book served on localhost with the network
cut off: fixtures `chromium_path`, `browser` and `site` (the base URL of the served book).

Nothing here installs anything: the project's set-up installs Debian's `chromium`; without it the
browser tests are skipped with a one-line reason.
"""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "chromium"
MISSING = "Debian's chromium is not installed (as root: apt-get install -y chromium)"

# Flags that keep Chromium from calling home on a machine with no network (and run as root in CI).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


class QuietHandler(SimpleHTTPRequestHandler):
    """Serve files without logging every request to stderr."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Say nothing."""


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` over HTTP on 127.0.0.1 from a thread; yield its base URL."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def keep_offline(page, base_url: str, blocked: list[str]) -> None:
    """Let `page` reach only `base_url`'s host; abort and record every other request."""
    local = urlparse(base_url).netloc

    def route(route) -> None:
        url = route.request.url
        if urlparse(url).netloc == local or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", route)


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
