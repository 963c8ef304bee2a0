"""Print Jupyter Book's single-page HTML to one PDF with Debian's Chromium (`make pdf`).

The page is served on localhost with every other host blocked, MathJax (the book's offline copy)
finishes typesetting, and Chromium prints with print media: the interactive figures are replaced
by their static versions (book/_static/softmax.css).

    .venv/bin/python -m softmax_course.publish.print_pdf _build/singlehtml book.pdf   (make pdf)
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from softmax_course.publish.browser import FLAGS, MISSING, TYPESET, keep_offline, serve

PRINTED = "print.html"
# MathJax typesets lazily, as formulas come into view (_config.yml): typeset them all now.
TYPESET_ALL = "() => MathJax.startup.document.lazyTypesetAll?.()"


def print_pdf(html_dir: Path, pdf: Path) -> list[str]:
    """Print the single page in `html_dir` to `pdf`; return the requests it blocked."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit(MISSING)
    # Sphinx writes the page to book/index.html with links relative to the folder above it
    # (index.html there only redirects): a copy beside index.html finds its scripts and images.
    shutil.copyfile(html_dir / "book" / "index.html", html_dir / PRINTED)
    blocked: list[str] = []
    with serve(html_dir) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        page = browser.new_page()
        keep_offline(page, base_url, blocked)
        page.emulate_media(media="print")
        page.goto(f"{base_url}{PRINTED}", wait_until="load")
        page.evaluate(TYPESET)
        page.evaluate(TYPESET_ALL)
        page.wait_for_load_state("networkidle")
        math, typeset, errors, waiting = page.evaluate(
            "() => ['.math', 'mjx-container', 'mjx-merror', 'mjx-lazy']"
            ".map((selector) => document.querySelectorAll(selector).length)"
        )
        if typeset < math or errors or waiting:
            raise SystemExit(
                f"MathJax typeset {typeset} of {math} formulas ({errors} errors, {waiting} waiting)"
            )
        pdf.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(
            path=pdf,
            format="A4",
            print_background=True,
            margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"},
        )
        browser.close()
    return blocked


def main() -> int:
    """Print the single-page HTML book named on the command line to a PDF."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path, help="folder with the singlehtml build's index.html")
    parser.add_argument("pdf", type=Path, help="the PDF to write")
    args = parser.parse_args()
    blocked = print_pdf(args.html_dir, args.pdf)
    if blocked:
        print("blocked requests to other hosts:", *blocked, sep="\n  ")
        return 1
    print(f"wrote {args.pdf} ({args.pdf.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
