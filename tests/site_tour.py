"""One visit per page of the built book in Debian's Chromium, measured once and shared by the
browser, accessibility and figure tests: `SiteTour.report(name)` opens the page in light mode,
records what it did, switches to dark mode with the theme's toggle and records again."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from axe_playwright_python.sync_playwright import Axe
from PIL import Image

from softmax_course.publish.browser import TYPESET, keep_offline

SCREENSHOTS = Path(__file__).resolve().parents[1] / "_build" / "screenshots"
SEVERE = {"serious", "critical"}
# axe-core's CSSOM preload fetches @import-ed stylesheets relative to the page instead of the
# stylesheet (a 404 for theme.css's `@import "../basic.css"`); only css-orientation-lock needs it.
AXE_OPTIONS = {"resultTypes": ["violations"], "preload": False}
FIGURES = "article img:visible, article svg.widget-plot:visible"  # hidden fallbacks excluded

# The article's visible prose: code, typeset math and scripts removed.
PROSE = """() => {
  const article = document.querySelector("article").cloneNode(true);
  article.querySelectorAll("pre, code, mjx-container, script, style, .cell_input, .cell_output")
    .forEach((node) => node.remove());
  return article.textContent;
}"""


# Resolves when the colour transitions a theme switch starts have finished.
SETTLED = "() => Promise.all(document.getAnimations().map((animation) => animation.finished))"

# WCAG relative luminance of the body's background colour.
BACKGROUND = """() => {
  const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/[\\d.]+/g).map(Number);
  const linear = (c) => (c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}"""

IMAGES = """() => [...document.querySelectorAll("article img")].map((img) => ({
  src: img.getAttribute("src"), alt: (img.getAttribute("alt") || "").trim(),
  loaded: img.complete && img.naturalWidth > 0}))"""


@dataclass
class ModeReport:
    """What a page looks like in one colour mode."""

    theme: str
    background: float  # relative luminance of the page's background colour
    figures: list[tuple[float, float]]  # (border band, inside) luminance of each figure
    violations: list[str]  # serious or critical axe-core violations, one line each


@dataclass
class PageReport:
    """What one page did and showed in the browser."""

    name: str
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    math: int = 0
    typeset: int = 0
    math_errors: int = 0
    prose: str = ""
    images: list[dict] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    modes: dict[str, ModeReport] = field(default_factory=dict)


def luminance(png: bytes) -> tuple[float, float]:
    """Return the mean luminance (0 black to 1 white) of a PNG's 6-pixel border band and inside."""
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    band = 6
    inner = image.crop((band, band, width - band, height - band))
    whole, inside = sum(image.tobytes()), sum(inner.tobytes())
    border = (whole - inside) / (width * height - inner.width * inner.height) / 255
    return border, inside / (inner.width * inner.height) / 255


def open_page(browser, site: str, name: str):
    """Open `name` in a fresh context, wait until its math is typeset; return (page, report)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    report = PageReport(name)
    keep_offline(page, site, report.blocked)
    page.on(
        "console",
        lambda message: message.type in {"error", "warning"}
        and report.console.append(f"{message.type}: {message.text} ({message.location['url']})"),
    )
    page.on("pageerror", lambda error: report.console.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda request: report.failed.append(request.url))
    page.on(
        "response",
        lambda response: response.status >= 400
        and report.failed.append(f"{response.status} {response.url}"),
    )
    page.goto(urljoin(site, f"{name}.html"), wait_until="load")
    page.evaluate(TYPESET)
    page.wait_for_load_state("networkidle")
    return page, report


class SiteTour:
    """Visits each page once, on demand, and keeps its report for every test that asks."""

    def __init__(self, browser, site: str) -> None:
        self.browser, self.site, self.axe = browser, site, Axe()
        self.reports: dict[str, PageReport] = {}

    def report(self, name: str) -> PageReport:
        """Return the report of page `name`, visiting it the first time."""
        if name not in self.reports:
            self.reports[name] = self._visit(name)
        return self.reports[name]

    def _mode(self, page) -> ModeReport:
        figures = [luminance(figure.screenshot()) for figure in page.locator(FIGURES).all()]
        violations = [
            f"{violation['id']} ({violation['impact']}): "
            + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            for violation in self.axe.run(page, options=AXE_OPTIONS).response["violations"]
            if violation["impact"] in SEVERE
        ]
        return ModeReport(
            theme=page.evaluate("document.documentElement.dataset.theme"),
            background=page.evaluate(BACKGROUND),
            figures=figures,
            violations=violations,
        )

    def _visit(self, name: str) -> PageReport:
        page, report = open_page(self.browser, self.site, name)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{name.replace('/', '--')}.png", full_page=True)
        report.math = page.locator("article .math").count()
        report.typeset = page.locator("article mjx-container").count()
        report.math_errors = page.locator("mjx-merror").count()
        report.prose = page.evaluate(PROSE)
        report.images = page.evaluate(IMAGES)
        report.links = page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)")
        report.modes["light"] = self._mode(page)

        toggle = page.locator("button.theme-switch-button").first
        for _ in range(3):  # the toggle cycles light -> auto -> dark (or light -> dark)
            if page.evaluate("document.documentElement.dataset.theme") == "dark":
                break
            toggle.click()
        page.mouse.move(0, 0)  # away from the toggle: its tooltip fades out and is removed
        page.locator(".tooltip").first.wait_for(state="detached")
        page.evaluate(SETTLED)
        report.modes["dark"] = self._mode(page)
        if report.modes["dark"].figures:
            shot = SCREENSHOTS / f"{name.replace('/', '--')}--dark.png"
            page.screenshot(path=shot, full_page=True)
        page.context.close()
        return report
