"""Sphinx extension: the single-page HTML build (`make pdf`) renders every node the HTML build can.

Sphinx gives a builder the node handlers registered under its own name, and falls back to those
of its format ("html") only when none are. sphinx-exercise registers handlers for "singlehtml",
so MyST-NB's hidden code cells, registered for "html" only, would stop the single-page build.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def share_html_handlers(app: Sphinx) -> None:
    """Give the singlehtml builder every "html" node handler it has none of its own for."""
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, visit_depart in handlers.get("html", {}).items():
        single.setdefault(node, visit_depart)


def setup(app: Sphinx) -> dict[str, bool]:
    """Register the extension with Sphinx."""
    app.connect("builder-inited", share_html_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
