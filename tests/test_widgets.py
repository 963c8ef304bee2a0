"""The interactive figures: moving a slider changes the numbers on the page, and every number the
page shows equals SoftMax (and ArgMax) computed in Python for the slider's position. Without
JavaScript the static fallback figure shows instead."""

from __future__ import annotations

import json
from urllib.parse import urljoin

import numpy as np
import pytest

from softmax_course.lessons.example import RAW_OUTPUTS, SPECIES
from softmax_course.lessons.maths import argmax_onehot, softmax
from tests.site_tour import open_page


def shown(page, role: str) -> list[str]:
    """Return the text of the read-out of each species for `role` (e.g. "p", "argmax")."""
    return [page.locator(f'[data-role="{role}-{name}"]').first.inner_text() for name in SPECIES]


def number(text: str) -> float:
    """Return the number at the end of a read-out such as "SoftMax 0.684"."""
    return float(text.split()[-1])


def test_temperature_slider_shows_softmax_of_z_over_t(browser, site: str) -> None:
    page, report = open_page(browser, site, "book/softmax-properties")
    widget = page.locator("#temperature-widget")
    assert widget.is_visible()
    assert not page.locator("#fig-temperature-widget-static").is_visible()
    assert json.loads(widget.get_attribute("data-settings"))["raw"] == RAW_OUTPUTS.tolist()
    slider = widget.locator('input[type="range"]')
    seen = []
    for log_t in ["0", "-1", "-0.5", "0.7", "2"]:
        slider.fill(log_t)
        temperature = 10 ** float(log_t)
        assert number(widget.locator("output").inner_text()) == pytest.approx(temperature, rel=5e-3)
        shown_p = [number(text) for text in shown(page, "p")]
        np.testing.assert_allclose(shown_p, softmax(RAW_OUTPUTS / temperature), atol=5e-4)
        seen.append(shown_p)
    assert seen[1][0] > 0.99 and max(seen[-1]) - min(seen[-1]) < 0.02  # cold: ArgMax; hot: level
    page.context.close()
    assert not report.console + report.failed + report.blocked


def test_raw_output_slider_shows_softmax_smooth_and_argmax_step(browser, site: str) -> None:
    page, report = open_page(browser, site, "book/softmax")
    widget = page.locator("#softmax-argmax-widget")
    assert widget.is_visible()
    assert not page.locator("#fig-softmax-argmax-widget-static").is_visible()
    slider = widget.locator('input[type="range"]')
    assert float(slider.input_value()) == pytest.approx(RAW_OUTPUTS[0])
    for z_setosa in ["1.43", "-3", "0.22", "0.24", "4"]:
        slider.fill(z_setosa)
        raw = RAW_OUTPUTS.copy()
        raw[0] = float(z_setosa)
        assert widget.locator("output").inner_text() == f"{raw[0]:.2f}"
        np.testing.assert_allclose([number(t) for t in shown(page, "p")], softmax(raw), atol=5e-4)
        assert [number(t) for t in shown(page, "argmax")] == argmax_onehot(raw).tolist()
    page.context.close()
    assert not report.console + report.failed + report.blocked


@pytest.mark.parametrize(
    ("name", "widget", "fallback"),
    [
        ("book/softmax", "softmax-argmax-widget", "fig-softmax-argmax-widget-static"),
        ("book/softmax-properties", "temperature-widget", "fig-temperature-widget-static"),
    ],
)
def test_without_javascript_the_static_figure_shows(browser, site, name, widget, fallback) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(urljoin(site, f"{name}.html"))
    assert not page.locator(f"#{widget}").is_visible()
    figure = page.locator(f"#{fallback}")
    assert figure.is_visible()
    assert figure.locator("img").get_attribute("alt").strip()
    context.close()
