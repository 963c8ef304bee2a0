"""Debian's Chromium for the book's pages: its offline flags, a local server, a network cut-off.

Used by `make pdf` (print_pdf), bench/site.py and the browser tests; Playwright drives Chromium.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

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


# Resolves once MathJax has typeset the page (at once on a page without math); fails after 20 s.
TYPESET = """async () => {
  if (!document.querySelector(".math")) return;
  const started = Date.now();
  await new Promise((resolve, reject) => {
    const wait = () => {
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        MathJax.startup.promise.then(resolve, reject);
      } else if (Date.now() - started > 20000) {
        reject(new Error("MathJax did not start"));
      } else {
        setTimeout(wait, 50);
      }
    };
    wait();
  });
}"""
