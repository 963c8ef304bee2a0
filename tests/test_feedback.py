"""Feedback pages: templates compiled once per process, the same HTML every time."""

from __future__ import annotations

import jinja2
import nbformat

from softmax_course.grading import feedback


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
