"""Feedback pages: templates compiled once per process, the same HTML every time, math
typeset offline, each test named in the summary, long messages wrapped, and a page for a
student whose file could not be graded."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import nbformat
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from playwright.sync_api import sync_playwright
from traitlets.config import Config

from softmax_course.grading import feedback
from softmax_course.publish.browser import FLAGS
from tests.conftest import ROOT


def test_feedback_templates_are_compiled_once_per_process(monkeypatch) -> None:
    monkeypatch.setattr(feedback, "TEMPLATES", feedback.CompiledTemplates())
    compiled: list[str] = []
    original = jinja2.Environment.compile

    def counting(self, source, name=None, *args, **kwargs):
        compiled.append(name)
        return original(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    first, _ = feedback.FeedbackHTMLExporter().from_notebook_node(nb)
    once = len(compiled)
    second, _ = feedback.FeedbackHTMLExporter().from_notebook_node(nb)  # a new environment
    assert once > 0 and len(compiled) == once
    assert first == second


# -- offline math, named tests, wrapped messages, and a page for an ungraded student -------------

def feedback_page(folder: Path, *, message: str = "x") -> Path:
    """Render the softmax release as an autograded notebook's feedback, as write_feedback does."""
    config = GenerateFeedback(coursedir=CourseDirectory(config=Config()), config=Config()).config
    nb = nbformat.read(ROOT / "exercises" / "softmax" / "softmax.ipynb", 4)
    for cell in nb.cells:
        meta = cell.metadata.nbgrader
        if meta.get("grade"):
            meta["score"] = 0.0
            cell.outputs = [
                nbformat.v4.new_output("error", ename="AssertionError", evalue=message,
                                       traceback=[f"AssertionError: {message}"])
            ]
    resources = {"nbgrader": {"notebook": "softmax", "score": 0, "max_score": 10,
                              "late_penalty": 0}}
    body, _ = feedback.FeedbackHTMLExporter(config=config).from_notebook_node(nb, resources)
    page = folder / "student" / "softmax" / "softmax.html"
    page.parent.mkdir(parents=True)
    page.write_text(body)
    feedback.place_mathjax([page], folder / ".mathjax")
    return page


def test_feedback_names_each_test_and_loads_nothing_from_the_network(tmp_path) -> None:
    text = feedback_page(tmp_path).read_text()
    summary = re.search(r'<ol id="summary">(.*?)</ol>', text, re.S).group(1)
    assert "Test cell" not in summary
    assert (
        '<a href="#softmax_example"><code>softmax_example</code>: Does softmax give the '
        "chapter's iris probabilities?</a> (Score: 0.0 / 2.0)" in summary
    )
    assert summary.count("<li>") == 7
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', text)
    assert re.search(r'<script[^>]* src="mathjax/tex-svg.js"', text)


def test_feedback_math_is_typeset_offline_and_long_messages_wrap(tmp_path, chromium_path) -> None:
    page_file = feedback_page(tmp_path, message="a_long_message_without_spaces_" * 40)
    assert (page_file.parent / "mathjax" / "tex-svg.js").is_file()
    outside: list[str] = []

    def only_local(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=FLAGS)
        page = browser.new_page(viewport={"width": 900, "height": 700})
        page.route("**/*", only_local)
        page.goto(page_file.as_uri())
        page.wait_for_selector("mjx-container", state="attached", timeout=15_000)
        page.evaluate("() => MathJax.startup.promise")  # the first typeset pass has finished
        assert page.locator("mjx-merror").count() == 0
        overflow = page.evaluate(  # how far any message or code box would scroll sideways
            "Math.max(...[...document.querySelectorAll('pre, div.output_area, div.input_area')]"
            ".map(e => e.scrollWidth - e.clientWidth))"
        )
        assert overflow <= 1 and page.evaluate("document.documentElement.scrollWidth") <= 900
        browser.close()
    assert outside == []


def test_an_ungraded_student_gets_a_page_that_says_why(tmp_path) -> None:
    page = feedback.write_ungraded_feedback(
        tmp_path, "softmax", "ada", ["softmax.html: not a notebook (.ipynb) <exported as HTML>"]
    )
    assert page == tmp_path / "feedback" / "ada" / "softmax" / "softmax.html"
    text = page.read_text()
    assert "could not be graded" in text
    assert "softmax.html: not a notebook (.ipynb) &lt;exported as HTML&gt;" in text
    assert "<script" not in text and "http" not in text


def test_mathjax_beside_each_page_is_one_file_on_disk(tmp_path) -> None:
    pages = [tmp_path / "feedback" / s / "softmax" / "softmax.html" for s in ("ada", "bo")]
    for page in pages:
        page.parent.mkdir(parents=True)
        page.write_text("<html></html>")
    feedback.place_mathjax(pages, tmp_path / ".mathjax")
    master = tmp_path / ".mathjax" / "tex-svg.js"
    assert master.read_bytes() == feedback.mathjax_source().read_bytes()
    for page in pages:
        assert (page.parent / "mathjax" / "tex-svg.js").samefile(master)
    assert sorted(p.name for p in (tmp_path / "feedback").iterdir()) == ["ada", "bo"]
