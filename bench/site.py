"""Benchmark: how heavy and how fast each page of the built book is on a first visit.

For every page in _toc.yml, served from _build/html on localhost:

1. the bytes a first visit transfers (an empty cache, Debian's Chromium, every request recorded),
   counted as a static host such as GitHub Pages serves them: text types (HTML, CSS, JavaScript,
   JSON, SVG) gzip-compressed, images and fonts as they are;
2. Lighthouse's performance and accessibility scores (desktop preset, throttling "provided": the
   machine as it is), run offline with CHROME_PATH set to Debian's chromium.

Lighthouse comes from npm. Installing it is this benchmark's explicit first step, into .lighthouse/
(ignored by git), never part of the tests. Build the book first (`make book`).

    .venv/bin/python bench/site.py [--no-lighthouse] [--pages book/softmax ...]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from softmax_course.publish.browser import (  # noqa: E402
    FLAGS,
    MISSING,
    TYPESET,
    keep_offline,
    serve,
)
from tests.harness import toc_files  # noqa: E402

LIGHTHOUSE_DIR = ROOT / ".lighthouse"
LIGHTHOUSE_VERSION = "12.8.2"  # the last major release that runs on Debian 12's Node.js 20
BUDGET = 1_000_000  # bytes, gzip, per first visit
COMPRESSED_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


def install_lighthouse() -> Path:
    """Install npm's lighthouse into .lighthouse/ unless it is there; return its command."""
    command = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
    if not command.exists():
        if shutil.which("npm") is None:
            raise SystemExit("Lighthouse needs npm (Debian: apt-get install -y npm)")
        LIGHTHOUSE_DIR.mkdir(exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(LIGHTHOUSE_DIR), "--no-audit", "--no-fund",
             f"lighthouse@{LIGHTHOUSE_VERSION}"],
            check=True,
        )
    return command


def wire_bytes(body: bytes, content_type: str) -> int:
    """Return the bytes a gzip-serving static host sends for a response body."""
    if content_type.startswith(COMPRESSED_TYPES):
        return min(len(body), len(gzip.compress(body, compresslevel=6)))
    return len(body)


def first_visit(browser, base_url: str, name: str) -> tuple[int, int, int]:
    """Return (requests, raw bytes, wire bytes) of a first visit to page `name`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    blocked: list[str] = []
    keep_offline(page, base_url, blocked)
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(f"{base_url}{name}.html", wait_until="load")
    page.evaluate(TYPESET)
    page.wait_for_load_state("networkidle")
    raw = wire = 0
    for response in responses:
        body = response.body()
        raw += len(body)
        wire += wire_bytes(body, response.headers.get("content-type", ""))
    context.close()
    if blocked:
        raise SystemExit(f"{name} asked for other hosts: {blocked}")
    return len(responses), raw, wire


def lighthouse(command: Path, chromium: str, url: str) -> tuple[int, int]:
    """Return Lighthouse's (performance, accessibility) scores, 0-100, for `url`."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        subprocess.run(
            [str(command), url, "--preset=desktop", "--throttling-method=provided",
             "--only-categories=performance,accessibility", "--output=json",
             f"--output-path={report}", "--quiet",
             f"--chrome-flags=--headless=new {' '.join(FLAGS)}"],
            check=True,
            env={"CHROME_PATH": chromium, "PATH": "/usr/bin:/bin", "HOME": scratch},
        )
        categories = json.loads(report.read_text())["categories"]
    return (round(categories["performance"]["score"] * 100),
            round(categories["accessibility"]["score"] * 100))


def main() -> int:
    """Print one row per page: requests, raw and gzip bytes, Lighthouse scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-lighthouse", action="store_true", help="only measure bytes")
    parser.add_argument("--pages", nargs="*", default=toc_files(), help="pages, as in _toc.yml")
    args = parser.parse_args()
    html = ROOT / "_build" / "html"
    if not (html / "index.html").is_file():
        raise SystemExit("build the book first: make book")
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit(MISSING)
    command = None if args.no_lighthouse else install_lighthouse()

    from playwright.sync_api import sync_playwright

    print("| page | requests | raw | gzip (first visit) | performance | accessibility |")
    print("|---|---|---|---|---|---|")
    over = 0
    with serve(html) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        for name in args.pages:
            requests, raw, wire = first_visit(browser, base_url, name)
            over += wire > BUDGET
            scores = ("", "")
            if command is not None:
                scores = lighthouse(command, chromium, f"{base_url}{name}.html")
            print(f"| {name} | {requests} | {raw / 1e6:.2f} MB | {wire / 1e3:.0f} KB "
                  f"| {scores[0]} | {scores[1]} |", flush=True)
        browser.close()
    print(f"\npages over {BUDGET / 1e6:g} MB gzip: {over}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
